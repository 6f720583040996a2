//! OFDM demodulation of one symbol: carrier-offset derotation and a 64-point FFT,
//! IEEE 802.11-2016 17.3.5.10 read backwards.
//!
//! The output bins are scaled by `sqrt(52) / 64` so that a transmitted subcarrier value
//! comes back unchanged over an ideal channel (the transmitter divides its inverse DFT
//! by `sqrt(52)`). Time-domain noise of variance `s` per sample becomes noise of variance
//! `s * 52 / 64` per bin.

use crate::phy::subcarriers::{FFT_LEN, N_USED};
use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Carrier frequency offset correction for one frame: multiplies the sample at absolute
/// index `n` by `exp(-j w (n - reference))`.
#[derive(Debug, Clone)]
pub struct Derotator {
    cfo_rad_per_sample: f64,
    reference: u64,
    /// `exp(-j w k)` for `k = 0 .. 64`.
    ramp: [Complex32; FFT_LEN],
}

impl Derotator {
    pub fn new(cfo_rad_per_sample: f64, reference: u64) -> Self {
        let mut ramp = [Complex32::new(0.0, 0.0); FFT_LEN];
        for (k, r) in ramp.iter_mut().enumerate() {
            let (s, c) = (-cfo_rad_per_sample * k as f64).sin_cos();
            *r = Complex32::new(c as f32, s as f32);
        }
        Self {
            cfo_rad_per_sample,
            reference,
            ramp,
        }
    }

    pub fn cfo_rad_per_sample(&self) -> f64 {
        self.cfo_rad_per_sample
    }

    /// Writes `out[k] = x[k] * exp(-j w (start + k - reference))` for `k < 64`, where `x`
    /// starts at absolute index `start`. `x` and `out` hold 64 samples.
    pub fn apply(&self, x: &[Complex32], start: u64, out: &mut [Complex32; FFT_LEN]) {
        let offset = start as f64 - self.reference as f64;
        let angle = -self.cfo_rad_per_sample * offset;
        // Reduce to (-2 pi, 2 pi) by truncation (cheaper than a remainder call).
        let turns = (angle / std::f64::consts::TAU) as i64 as f64;
        let angle = angle - turns * std::f64::consts::TAU;
        let (s, c) = angle.sin_cos();
        let phasor = Complex32::new(c as f32, s as f32);
        for ((o, &xi), &r) in out.iter_mut().zip(&x[..FFT_LEN]).zip(&self.ramp) {
            *o = xi * (r * phasor);
        }
    }
}

/// 64-point FFT with a precomputed plan and scratch; never allocates after `new`.
pub struct SymbolDemodulator {
    fft: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
}

impl std::fmt::Debug for SymbolDemodulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymbolDemodulator")
    }
}

impl Default for SymbolDemodulator {
    fn default() -> Self {
        Self::new()
    }
}

impl SymbolDemodulator {
    pub fn new() -> Self {
        let fft = FftPlanner::new().plan_fft_forward(FFT_LEN);
        let scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        Self { fft, scratch }
    }

    /// Derotates the 64 samples of `x` (first at absolute index `start`) and transforms
    /// them into `bins` (bin `b` holds subcarrier `b` for `b < 32`, `b - 64` above).
    pub fn demodulate(
        &mut self,
        x: &[Complex32],
        start: u64,
        derotator: &Derotator,
        bins: &mut [Complex32; FFT_LEN],
    ) {
        derotator.apply(x, start, bins);
        self.fft.process_with_scratch(bins, &mut self.scratch);
        let scale = (N_USED as f32).sqrt() / FFT_LEN as f32;
        for b in bins.iter_mut() {
            *b *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::preamble::{long_training_symbol, ltf_subcarrier};
    use crate::phy::subcarriers::fft_bin;

    #[test]
    fn long_training_symbol_comes_back_as_its_subcarriers() {
        // The transmitter's LTS, demodulated without offset, must give L_k exactly.
        let lts = long_training_symbol();
        let mut demod = SymbolDemodulator::new();
        let mut bins = [Complex32::new(0.0, 0.0); FFT_LEN];
        demod.demodulate(&lts, 0, &Derotator::new(0.0, 0), &mut bins);
        for k in -32..32 {
            let want = if (-26..=26).contains(&k) {
                ltf_subcarrier(k)
            } else {
                0.0
            };
            let got = bins[fft_bin(k)];
            assert!(
                (got - Complex32::new(want, 0.0)).norm() < 1e-5,
                "k={k}: {got}"
            );
        }
    }

    #[test]
    fn derotator_undoes_a_frequency_offset() {
        let w = 0.013;
        let x: Vec<Complex32> = (0..200)
            .map(|n| Complex32::from_polar(1.0, w * n as f32))
            .collect();
        let d = Derotator::new(w as f64, 20);
        let mut out = [Complex32::new(0.0, 0.0); FFT_LEN];
        d.apply(&x[100..], 100, &mut out);
        let ref_phase = Complex32::from_polar(1.0, w * 20.0);
        for o in out {
            assert!((o - ref_phase).norm() < 1e-4, "residual rotation {o}");
        }
    }
}
