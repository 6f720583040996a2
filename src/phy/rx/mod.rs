//! OFDM receiver, IEEE 802.11-2016 17.3.12 and 17.3.5: one stage per file.

pub mod channel_estimator;
pub mod data_decoder;
pub mod demapper;
pub mod equalizer;
pub mod frame_decoder;
pub mod ofdm_demod;
pub mod receiver;
pub mod semantic_decoder;
pub mod soft_bits;
pub mod sync_long;
pub mod sync_short;
#[cfg(test)]
mod test_support;
pub mod viterbi;

pub use viterbi::ViterbiDecoder;
pub use receiver::{Receiver, ReceiverConfig};

#[cfg(test)]
mod tests;
