//! Zero-forcing equalizer with pilot-based common phase tracking, IEEE 802.11-2016
//! 17.3.5.10 (pilots) and 17.3.5.11 (pilot polarity `p_n`, Equation 17-25).
//!
//! Each symbol's four pilots, divided by the channel estimate, should equal
//! `p_n * PILOT_BASE`; the phase of `sum Y_p conj(H_p) p_n base_p` (pilots weighted by
//! their channel power) is the residual common phase left by the CFO estimate and phase
//! noise, removed from all data subcarriers. Residual sampling-clock drift (a phase slope
//! across subcarriers) is not tracked.

use super::channel_estimator::ChannelEstimate;
use crate::phy::pilots::pilot_values;
use crate::phy::subcarriers::{
    fft_bin, DATA_SUBCARRIERS, FFT_LEN, N_DATA, N_PILOTS, PILOT_SUBCARRIERS,
};
use num_complex::Complex32;

/// Per-frame equalizer state derived from a channel estimate.
#[derive(Debug, Clone)]
pub struct Equalizer {
    /// `1 / H_k` on the data subcarriers, in data order.
    inv_h: [Complex32; N_DATA],
    /// `|H_k|^2` on the data subcarriers, in data order.
    gain: [f32; N_DATA],
    /// `conj(H_p)` on the pilot subcarriers.
    pilot_conj_h: [Complex32; N_PILOTS],
    noise_var: f32,
}

impl Equalizer {
    pub fn new(est: &ChannelEstimate) -> Self {
        let mut inv_h = [Complex32::new(0.0, 0.0); N_DATA];
        let mut gain = [0.0; N_DATA];
        for (i, &k) in DATA_SUBCARRIERS.iter().enumerate() {
            let h = est.h[fft_bin(k)];
            gain[i] = h.norm_sqr();
            // A zero estimate (deep fade or silence) gives a zero weight, not a NaN.
            inv_h[i] = if gain[i] > 0.0 {
                h.conj() / gain[i]
            } else {
                Complex32::new(0.0, 0.0)
            };
        }
        let pilot_conj_h = PILOT_SUBCARRIERS.map(|k| est.h[fft_bin(k)].conj());
        Self {
            inv_h,
            gain,
            pilot_conj_h,
            noise_var: est.noise_var,
        }
    }

    /// `|H_k|^2` of the 48 data subcarriers, in data order.
    pub fn gains(&self) -> &[f32; N_DATA] {
        &self.gain
    }

    /// Noise variance of each data subcarrier after equalization, `noise_var / |H_k|^2`
    /// (infinite on a subcarrier with a zero estimate).
    pub fn post_noise_var(&self) -> [f32; N_DATA] {
        self.gain.map(|g| {
            if g > 0.0 {
                self.noise_var / g
            } else {
                f32::INFINITY
            }
        })
    }

    /// Variance (rad^2) of the common phase measured by one symbol's
    /// [`pilot_correlation`](Self::pilot_correlation) due to noise:
    /// `noise_var / (2 sum_p |H_p|^2)`; infinite when the pilots are not received.
    pub fn pilot_phase_noise_var(&self) -> f32 {
        let gain: f32 = self.pilot_conj_h.iter().map(|h| h.norm_sqr()).sum();
        if gain > 0.0 {
            self.noise_var / (2.0 * gain)
        } else {
            f32::INFINITY
        }
    }

    /// Pilot correlation of one OFDM symbol, `sum_p Y_p conj(H_p) p_n base_p` over the
    /// four pilots (each weighted by its channel power): its phase is the symbol's
    /// residual common phase, and sums over neighbouring symbols average it.
    /// `bins`: 64 FFT bins; `symbol_index`: the pilot polarity index `n` (SIGNAL is 0).
    pub fn pilot_correlation(&self, bins: &[Complex32; FFT_LEN], symbol_index: usize) -> Complex32 {
        let expected = pilot_values(symbol_index);
        let mut acc = Complex32::new(0.0, 0.0);
        for ((&k, &ch), &e) in PILOT_SUBCARRIERS
            .iter()
            .zip(&self.pilot_conj_h)
            .zip(&expected)
        {
            acc += bins[fft_bin(k)] * ch * e;
        }
        acc
    }

    /// Unit phasor removing the common phase of a (summed) pilot correlation; 1 when
    /// the correlation is zero or not finite.
    pub fn phase_correction(pilot_correlation: Complex32) -> Complex32 {
        let norm = pilot_correlation.norm();
        if norm > 0.0 && norm.is_finite() {
            pilot_correlation.conj() / norm
        } else {
            Complex32::new(1.0, 0.0)
        }
    }

    /// Zero-forcing equalization of the 48 data subcarriers of `bins` (64 FFT bins),
    /// rotated by `correction`, into `out` (data-subcarrier order).
    pub fn equalize_with(
        &self,
        bins: &[Complex32; FFT_LEN],
        correction: Complex32,
        out: &mut [Complex32; N_DATA],
    ) {
        for ((o, &k), &inv) in out.iter_mut().zip(&DATA_SUBCARRIERS).zip(&self.inv_h) {
            *o = bins[fft_bin(k)] * (inv * correction);
        }
    }

    /// Equalizes one OFDM symbol with its own pilots' common phase. `bins`: 64 FFT
    /// bins; `symbol_index`: the pilot polarity index `n` (SIGNAL is 0); `out`: the 48
    /// data values in data-subcarrier order. Returns the common phase that was removed,
    /// in radians.
    pub fn equalize(
        &self,
        bins: &[Complex32; FFT_LEN],
        symbol_index: usize,
        out: &mut [Complex32; N_DATA],
    ) -> f32 {
        let correction = Self::phase_correction(self.pilot_correlation(bins, symbol_index));
        self.equalize_with(bins, correction, out);
        correction.conj().arg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_channel_and_common_phase() {
        // Build bins = H_k * X_k * e^{j phi} with pilots per polarity index 5; the
        // equalizer must return X_k and report phi.
        let mut est_h = [Complex32::new(0.0, 0.0); FFT_LEN];
        for k in (-26i32..=26).filter(|&k| k != 0) {
            est_h[fft_bin(k)] = Complex32::from_polar(0.5 + 0.01 * (k + 26) as f32, 0.1 * k as f32);
        }
        let est = ChannelEstimate {
            h: est_h,
            noise_var: 0.01,
            mean_gain: 1.0,
        };
        let eq = Equalizer::new(&est);
        let phi = 0.4f32;
        let rot = Complex32::from_polar(1.0, phi);
        let mut bins = [Complex32::new(0.0, 0.0); FFT_LEN];
        let data: Vec<Complex32> = (0..N_DATA)
            .map(|i| Complex32::from_polar(1.0, i as f32))
            .collect();
        for (i, &k) in DATA_SUBCARRIERS.iter().enumerate() {
            bins[fft_bin(k)] = est_h[fft_bin(k)] * data[i] * rot;
        }
        for (j, &k) in PILOT_SUBCARRIERS.iter().enumerate() {
            bins[fft_bin(k)] = est_h[fft_bin(k)] * pilot_values(5)[j] * rot;
        }
        let mut out = [Complex32::new(0.0, 0.0); N_DATA];
        let got_phi = eq.equalize(&bins, 5, &mut out);
        assert!(
            (got_phi - phi).abs() < 1e-5,
            "common phase {got_phi} vs {phi}"
        );
        for i in 0..N_DATA {
            assert!(
                (out[i] - data[i]).norm() < 1e-5,
                "subcarrier {i}: {} vs {}",
                out[i],
                data[i]
            );
        }
        let nv = eq.post_noise_var();
        assert!((nv[0] - 0.01 / est_h[fft_bin(-26)].norm_sqr()).abs() < 1e-7);
    }
}
