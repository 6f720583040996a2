//! What the transmitter block sends: one PHY burst's content.

use crate::phy::error::TxError;
use crate::phy::tx::{
    data_frame_len, encode_data_frame, encode_semantic_frame, semantic_frame_len,
};
use crate::phy::{Rate, SemanticHeader};
use num_complex::Complex32;

/// Content of one burst handed to [`FrameTransmitter`](super::FrameTransmitter).
#[derive(Debug, Clone, PartialEq)]
pub enum TxFrame {
    /// An 802.11a data frame: the PSDU (FCS included, 1..=4095 bytes) sent at `rate`.
    Data { psdu: Vec<u8>, rate: Rate },
    /// A semantic frame: header plus `header.n_symbols` complex channel symbols.
    Semantic {
        header: SemanticHeader,
        symbols: Vec<Complex32>,
    },
}

impl TxFrame {
    /// Encodes the frame into baseband samples (preamble included).
    ///
    /// `scrambler_seed` (1..=127) seeds the data scrambler of a data frame, IEEE
    /// 802.11-2016 17.3.5.5; semantic frames are not scrambled and ignore it.
    pub fn encode(&self, scrambler_seed: u8) -> Result<Vec<Complex32>, TxError> {
        match self {
            TxFrame::Data { psdu, rate } => encode_data_frame(psdu, *rate, scrambler_seed),
            TxFrame::Semantic { header, symbols } => encode_semantic_frame(header, symbols),
        }
    }

    /// Samples [`Self::encode`] produces (20 MHz), without encoding.
    pub fn len_samples(&self) -> usize {
        match self {
            TxFrame::Data { psdu, rate } => data_frame_len(psdu.len(), *rate),
            TxFrame::Semantic { symbols, .. } => semantic_frame_len(symbols.len()),
        }
    }
}

/// Scrambler seed of the `index`-th data frame when the sequence starts at `first`:
/// seeds step through 1..=127 so that consecutive frames use different scrambling.
///
/// # Panics
/// If `first` is not in 1..=127 (a zero seed would leave the data unscrambled).
pub fn scrambler_seed_for(first: u8, index: u64) -> u8 {
    assert!(
        (1..=127).contains(&first),
        "scrambler seed: expected 1..=127, got {first}"
    );
    ((u64::from(first) - 1 + index) % 127 + 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_without_encoding_is_the_encoded_length() {
        let data = TxFrame::Data {
            psdu: vec![7; 123],
            rate: crate::phy::Rate::Mbps36,
        };
        let header = crate::phy::SemanticHeader {
            kind: 0,
            stream: crate::phy::StreamKind::Public,
            destination: crate::phy::BROADCAST,
            task: 0,
            message_id: 1,
            fragment_index: 0,
            fragment_count: 1,
            n_symbols: 100,
        };
        let semantic = TxFrame::Semantic {
            header,
            symbols: vec![Complex32::new(0.5, -0.5); 100],
        };
        for f in [data, semantic] {
            assert_eq!(f.len_samples(), f.encode(5).unwrap().len());
        }
    }

    #[test]
    fn seeds_cycle_through_all_nonzero_states() {
        let seeds: Vec<u8> = (0..127).map(|i| scrambler_seed_for(93, i)).collect();
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (1..=127).collect::<Vec<u8>>(),
            "a seed repeats or is zero"
        );
        assert_eq!(
            scrambler_seed_for(93, 127),
            93,
            "sequence must have period 127"
        );
        assert_eq!(
            scrambler_seed_for(127, 1),
            1,
            "127 must wrap to 1, never to 0"
        );
    }
}
