//! OFDM receiver for 802.11a data frames and semantic frames, IEEE 802.11-2016 17.3.
//!
//! One stage per file, in signal order:
//! [`sync_short`] (STF detection, coarse CFO) -> [`sync_long`] (LTF timing, fine CFO) ->
//! [`ofdm_demod`] (derotation, FFT) -> [`channel_estimator`] (channel, noise, SNR; with
//! [`delay_projection`] smoothing) -> [`equalizer`] (zero forcing, pilot phase tracking;
//! [`phase_tracker`] over a semantic payload) -> [`demapper`] (max-log soft bits)
//! -> [`soft_bits`] (deinterleave, depuncture) -> [`viterbi`] -> [`frame_decoder`]
//! (SIGNAL) -> [`data_decoder`] (descramble, PSDU, FCS) or
//! [`semantic_decoder`] (header, channel symbols, noise variance).
//! [`receiver`] runs them over a stream; [`parallel`] over a recording on several threads.

pub mod channel_estimator;
pub mod data_decoder;
pub mod delay_projection;
pub mod demapper;
pub mod equalizer;
pub mod frame_decoder;
pub mod ofdm_demod;
pub mod parallel;
pub mod phase_tracker;
pub mod receiver;
pub mod semantic_decoder;
pub mod soft_bits;
pub mod sync_long;
pub mod sync_short;
#[cfg(test)]
mod test_support;
pub mod viterbi;

pub use parallel::{decode_parallel, ParallelDecoder};
pub use receiver::{Outcome, Receiver, ReceiverConfig};
pub use viterbi::ViterbiDecoder;

#[cfg(test)]
mod tests;
