//! Airtime of frames, in samples at 20 MHz, and what a data frame of a given airtime
//! can carry.
//!
//! Both kinds of frame start with the same preamble (320 samples) and SIGNAL symbol
//! (80). A semantic frame then spends four OFDM symbols on its header and
//! `ceil(n / 48)` on `n` channel symbols; a data frame spends all its OFDM symbols on
//! SERVICE, PSDU and tail bits at its rate. The classical baseline gets,
//! per item, exactly the airtime the semantic frames of that item take.

use crate::phy::subcarriers::SYMBOL_LEN;
use crate::phy::tx::data_frame::{SERVICE_BITS, TAIL_BITS};
use crate::phy::tx::PREAMBLE_LEN;
use crate::phy::Rate;
use crate::traffic::{FCS_BYTES, MAX_PSDU_BYTES};

pub use crate::phy::tx::{data_frame_len, semantic_frame_len};

/// Samples of preamble plus SIGNAL, shared by both kinds of frame.
pub const FRAME_START_SAMPLES: usize = PREAMBLE_LEN + SYMBOL_LEN;

/// Most payload bytes (FCS excluded) one data frame at `rate` carries within
/// `airtime_samples`; `None` when not even an empty payload fits.
pub fn payload_capacity_bytes(airtime_samples: usize, rate: Rate) -> Option<usize> {
    let n_ofdm = airtime_samples.checked_sub(FRAME_START_SAMPLES)? / SYMBOL_LEN;
    let bits = (n_ofdm * rate.n_dbps()).checked_sub(SERVICE_BITS + TAIL_BITS)?;
    let psdu = (bits / 8).min(MAX_PSDU_BYTES);
    psdu.checked_sub(FCS_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::TxFrame;

    #[test]
    fn capacity_is_the_largest_payload_that_fits() {
        for rate in Rate::ALL {
            for airtime in [1200, 1040, 2000, 5000] {
                let cap = payload_capacity_bytes(airtime, rate).unwrap();
                let psdu = cap + FCS_BYTES;
                // The encoder is the oracle: the frame it makes must fit the airtime.
                let frame = TxFrame::Data {
                    psdu: vec![0x5a; psdu],
                    rate,
                };
                assert!(
                    frame.encode(1).unwrap().len() <= airtime,
                    "{rate:?} {airtime}"
                );
                assert!(
                    data_frame_len(psdu + 1, rate) > airtime,
                    "{rate:?} {airtime}: one more byte would still fit"
                );
            }
        }
        // One image's semantic frame (256 symbols) lasts 1200 samples: 10 data OFDM
        // symbols, 263 payload bytes at 54 Mb/s and 23 at 6 Mb/s.
        assert_eq!(semantic_frame_len(256), 1200);
        assert_eq!(payload_capacity_bytes(1200, Rate::Mbps54), Some(263));
        assert_eq!(payload_capacity_bytes(1200, Rate::Mbps6), Some(23));
        assert_eq!(payload_capacity_bytes(400, Rate::Mbps6), None);
    }
}
