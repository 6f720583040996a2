//! Transmitter: PSDUs and semantic channel symbols to baseband samples at 20 MHz.
//!
//! Every frame starts with the legacy preamble (short and long training fields) and a
//! SIGNAL symbol; see [`data_frame`] and [`semantic_frame`] for what follows.

pub mod data_frame;
pub mod ofdm_modulator;
pub mod semantic_frame;

pub use data_frame::{data_frame_len, encode_data_frame};
pub use ofdm_modulator::OfdmModulator;
pub use semantic_frame::{encode_semantic_frame, semantic_frame_len};

use crate::phy::preamble::{long_training_field, short_training_field, LTF_LEN, STF_LEN};
use crate::phy::signal_field::Signal;
use num_complex::Complex32;
use std::sync::OnceLock;

/// Samples before the SIGNAL symbol: STF (160) + LTF (160).
pub const PREAMBLE_LEN: usize = STF_LEN + LTF_LEN;

/// The 320 preamble samples (STF then LTF), computed once.
pub fn preamble() -> &'static [Complex32] {
    static PREAMBLE: OnceLock<Vec<Complex32>> = OnceLock::new();
    PREAMBLE.get_or_init(|| {
        let mut p = short_training_field();
        p.extend(long_training_field());
        p
    })
}

/// Append the preamble and the SIGNAL symbol (pilot index 0): 400 samples.
fn push_preamble_and_signal(
    modulator: &mut OfdmModulator,
    signal: &Signal,
    out: &mut Vec<Complex32>,
) {
    out.extend_from_slice(preamble());
    modulator.modulate(&signal.data_symbols(), 0, out);
}
