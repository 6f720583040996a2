//! OFDM receiver, IEEE 802.11-2016 17.3.12 and 17.3.5: one stage per file.

pub mod channel_estimator;
pub mod data_decoder;
pub mod demapper;
pub mod equalizer;
pub mod frame_decoder;
pub mod ofdm_demod;
pub mod parallel;
pub mod receiver;
pub mod semantic_decoder;
pub mod soft_bits;
pub mod sync_long;
pub mod sync_short;
#[cfg(test)]
mod test_support;
pub mod viterbi;

pub use parallel::decode_parallel;
pub use receiver::{Receiver, ReceiverConfig};
pub use viterbi::ViterbiDecoder;

#[cfg(test)]
mod tests;
