//! DATA field of an 802.11a data frame, IEEE 802.11-2016 17.3.5: equalize and demap
//! each OFDM symbol, deinterleave and depuncture into the mother-code stream, Viterbi
//! decode SERVICE + PSDU + tail, descramble with the seed recovered from SERVICE
//! (17.3.5.5), pack the PSDU bytes (first bit in the least significant position) and
//! check the FCS ([`check_fcs`]).

use super::frame_decoder::{FrameDecoder, FrameKind, SyncedFrame};
use crate::phy::fcs::check_fcs;
use crate::phy::received::{DataFrame, FrameInfo};
use crate::phy::scrambler::{Scrambler, SCRAMBLER_PERIOD};
use crate::phy::subcarriers::N_DATA;
use num_complex::Complex32;

/// SERVICE field bits, 17.3.5.2.
const SERVICE_BITS: usize = 16;
/// Tail bits after the PSDU.
const TAIL_BITS: usize = 6;
/// Scrambler state bits at the start of SERVICE.
const SEED_BITS: usize = 7;

impl FrameDecoder {
    /// Decodes the DATA field of `frame`, whose samples `buf` (first at absolute index
    /// `buf_start`) holds up to `frame.end()`. Returns `None` if `frame` is not a data
    /// frame.
    pub fn decode_data(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        frame: &SyncedFrame,
    ) -> Option<DataFrame> {
        let FrameKind::Data { rate, length } = frame.kind else {
            return None;
        };
        let map_index = crate::phy::rate::Rate::ALL
            .iter()
            .position(|r| *r == rate)?;
        let n_sym = rate.n_sym(length);
        let m = rate.modulation();
        let weights = Self::soft_weights(frame);
        let block = self.rate_maps[map_index].block_len();
        let mut mother = std::mem::take(&mut self.mother);
        mother.clear();
        mother.resize(n_sym * block, 0);
        let mut sq_err = 0.0f32;
        for i in 1..=n_sym {
            sq_err += self.demap_symbol_at(buf, buf_start, frame, i, m, &weights);
            let dst = &mut mother[(i - 1) * block..i * block];
            self.rate_maps[map_index].scatter(&self.symbol_soft, dst);
        }
        let n_bits = SERVICE_BITS + 8 * length + TAIL_BITS;
        self.viterbi.decode(&mother, n_bits, &mut self.bits);
        self.mother = mother;
        // The sequence repeats every 127 bits: generate one period, XOR it cyclically.
        let mut scrambler = Scrambler::from_service_bits(&self.bits[..SEED_BITS]);
        let mut period = [0u8; SCRAMBLER_PERIOD];
        scrambler.scramble(&mut period);
        for chunk in self.bits[SEED_BITS..SERVICE_BITS + 8 * length].chunks_mut(SCRAMBLER_PERIOD) {
            for (b, s) in chunk.iter_mut().zip(&period) {
                *b ^= s;
            }
        }
        let psdu: Vec<u8> = self.bits[SERVICE_BITS..SERVICE_BITS + 8 * length]
            .chunks_exact(8)
            .map(|b| {
                b.iter()
                    .enumerate()
                    .fold(0u8, |acc, (j, &bit)| acc | (bit << j))
            })
            .collect();
        let fcs_ok = check_fcs(&psdu);
        let evm = sq_err / (n_sym * N_DATA) as f32;
        Some(DataFrame {
            info: FrameInfo {
                start_sample: frame.start,
                cfo_hz: frame.cfo_hz(),
                snr_db: frame.estimate.snr_db(),
                evm_db: 10.0 * evm.max(1e-12).log10(),
            },
            rate,
            psdu,
            fcs_ok,
        })
    }
}
