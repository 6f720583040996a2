//! Channel and noise estimation from the two long training symbols, IEEE 802.11-2016
//! 17.3.3 (Equation 17-8 gives the known subcarrier values `L_k`).
//!
//! The least-squares estimate `H_ls_k = (Y1_k + Y2_k) / (2 L_k)` on the 52 used
//! subcarriers carries noise of variance `noise_var / 2`. It is then projected onto
//! the channels whose impulse response lies within a window of delays around the
//! detected timing ([`DelayProjection`]), which leaves any such channel unbiased and
//! cuts the estimation noise to `P_kk * noise_var / 2` per subcarrier, `L / 52` of it
//! on average for a window of `L` taps. The two symbols carry the same signal, so
//! `Y1_k - Y2_k` is pure noise of twice the per-bin variance:
//! `noise_var = sum |Y1_k - Y2_k|^2 / (2 * 52)`.

use super::delay_projection::{DelayProjection, USED_SUBCARRIERS};
use crate::phy::preamble::ltf_subcarrier;
use crate::phy::subcarriers::{fft_bin, FFT_LEN, N_USED};
use num_complex::Complex32;

/// Floor on the noise variance relative to the mean channel power (70 dB SNR), so that a
/// noise-free input still yields finite weights.
const MIN_RELATIVE_NOISE_VAR: f32 = 1e-7;

/// Channel estimate of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelEstimate {
    /// `H_k` per FFT bin (zero on unused bins).
    pub h: [Complex32; FFT_LEN],
    /// Noise variance per subcarrier after the FFT (frequency domain), `E|N_k|^2`.
    pub noise_var: f32,
    /// Mean `|H_k|^2` over the 52 used subcarriers.
    pub mean_gain: f32,
}

impl ChannelEstimate {
    /// Estimates from the FFT bins of the two long training symbols (64 bins each, scaled
    /// as [`SymbolDemodulator`](super::ofdm_demod::SymbolDemodulator) returns them),
    /// smoothing the least-squares estimate with `projection`.
    pub fn from_ltf(
        y1: &[Complex32; FFT_LEN],
        y2: &[Complex32; FFT_LEN],
        projection: &DelayProjection,
    ) -> Self {
        let mut h_ls = [Complex32::new(0.0, 0.0); N_USED];
        let mut diff_power = 0.0f32;
        for (h, &k) in h_ls.iter_mut().zip(&USED_SUBCARRIERS) {
            let b = fft_bin(k);
            *h = (y1[b] + y2[b]) * (0.5 * ltf_subcarrier(k));
            diff_power += (y1[b] - y2[b]).norm_sqr();
        }
        let mut h_used = [Complex32::new(0.0, 0.0); N_USED];
        projection.apply(&h_ls, &mut h_used);
        let mut h = [Complex32::new(0.0, 0.0); FFT_LEN];
        let mut gain = 0.0f32;
        for (&hk, &k) in h_used.iter().zip(&USED_SUBCARRIERS) {
            h[fft_bin(k)] = hk;
            gain += hk.norm_sqr();
        }
        let mean_gain = gain / N_USED as f32;
        let noise_var =
            (diff_power / (2.0 * N_USED as f32)).max(MIN_RELATIVE_NOISE_VAR * mean_gain);
        Self {
            h,
            noise_var,
            mean_gain,
        }
    }

    /// Signal-to-noise ratio in dB, referred to the time domain: received signal power
    /// per sample (the transmitter's unit power times the mean channel gain) over noise
    /// power per sample (`noise_var * 64 / 52`).
    pub fn snr_db(&self) -> f32 {
        let noise_time = self.noise_var * FFT_LEN as f32 / N_USED as f32;
        10.0 * (self.mean_gain / noise_time).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::preamble::long_training_symbol;
    use crate::phy::rx::ofdm_demod::{Derotator, SymbolDemodulator};
    use crate::phy::rx::test_support::awgn;

    /// Estimate over a channel `gain` (delay 0, FFT windows aligned) with the 21-tap
    /// window from delay -2.
    fn estimate(gain: Complex32, noise_var_time: f32, seed: u64) -> ChannelEstimate {
        estimate_through(&[gain], noise_var_time, seed, &DelayProjection::new(-2, 21))
    }

    /// Both long training symbols (with a cyclic prefix of 32 samples) through the
    /// tapped delay line `taps` plus noise, demodulated at the aligned FFT windows.
    fn estimate_through(
        taps: &[Complex32],
        noise_var_time: f32,
        seed: u64,
        projection: &DelayProjection,
    ) -> ChannelEstimate {
        let lts = long_training_symbol();
        let tx: Vec<Complex32> = lts[32..]
            .iter()
            .chain(lts.iter())
            .chain(lts.iter())
            .copied()
            .collect();
        let mut x: Vec<Complex32> = (32..tx.len())
            .map(|n| taps.iter().enumerate().map(|(d, &t)| t * tx[n - d]).sum())
            .collect();
        awgn(&mut x, noise_var_time, seed);
        let mut demod = SymbolDemodulator::new();
        let rot = Derotator::new(0.0, 0);
        let mut y1 = [Complex32::new(0.0, 0.0); FFT_LEN];
        let mut y2 = y1;
        demod.demodulate(&x[..64], 0, &rot, &mut y1);
        demod.demodulate(&x[64..], 64, &rot, &mut y2);
        ChannelEstimate::from_ltf(&y1, &y2, projection)
    }

    #[test]
    fn flat_channel_is_recovered() {
        let gain = Complex32::from_polar(0.7, 1.1);
        let est = estimate(gain, 0.0, 1);
        for k in (-26i32..=26).filter(|&k| k != 0) {
            assert!(
                (est.h[fft_bin(k)] - gain).norm() < 1e-5,
                "H_{k} = {}",
                est.h[fft_bin(k)]
            );
        }
        assert_eq!(est.h[0], Complex32::new(0.0, 0.0), "DC is unused");
    }

    #[test]
    fn noise_variance_and_snr_at_10_and_20_db() {
        // Averaged over 20 seeded frames the estimate must be within 20 % of the applied
        // noise (the per-bin variance is 52/64 of the time-domain one); one frame's
        // estimate has a spread of about 14 %.
        for snr_db in [10.0f32, 20.0] {
            let noise_time = 10f32.powf(-snr_db / 10.0);
            let n = 20;
            let (mut sum_var, mut sum_snr) = (0.0, 0.0);
            for seed in 0..n {
                let est = estimate(Complex32::new(1.0, 0.0), noise_time, 100 + seed);
                sum_var += est.noise_var;
                sum_snr += est.snr_db();
            }
            let mean_var = sum_var / n as f32;
            let want = noise_time * 52.0 / 64.0;
            assert!(
                (mean_var / want - 1.0).abs() < 0.2,
                "{snr_db} dB: {mean_var} vs {want}"
            );
            let mean_snr = sum_snr / n as f32;
            assert!(
                (mean_snr - snr_db).abs() < 1.0,
                "{snr_db} dB: SNR estimate {mean_snr}"
            );
        }
    }

    #[test]
    fn multipath_estimate_is_unbiased_with_error_l_over_52() {
        // Three taps (delays 0..2) through the whole LTF path, 300 noisy draws. Oracle:
        // H_k from a direct DFT of the taps. The mean estimate must match it (no bias
        // from the delay window), and the error variance must be L/52 of the raw
        // least-squares one, noise_var / 2 per subcarrier (52 taps = no smoothing),
        // within 15 %.
        let taps = [
            Complex32::new(0.9, 0.0),
            Complex32::new(0.0, 0.4),
            Complex32::new(0.2, -0.1),
        ];
        let truth = USED_SUBCARRIERS.map(|k| {
            taps.iter()
                .enumerate()
                .fold(Complex32::new(0.0, 0.0), |acc, (d, &t)| {
                    acc + t * Complex32::from_polar(
                        1.0,
                        -std::f32::consts::TAU * (k * d as i32) as f32 / 64.0,
                    )
                })
        });
        let noise_time = 0.05f32;
        let noise_bin = noise_time * 52.0 / 64.0;
        for n_taps in [21usize, 52] {
            let projection = DelayProjection::new(-2, n_taps);
            let draws = 300;
            let mut mean = [Complex32::new(0.0, 0.0); N_USED];
            let mut err = 0.0f64;
            for seed in 0..draws {
                let est = estimate_through(&taps, noise_time, 7000 + seed, &projection);
                for ((m, &t), &k) in mean.iter_mut().zip(&truth).zip(&USED_SUBCARRIERS) {
                    let h = est.h[fft_bin(k)];
                    *m += h / draws as f32;
                    err += f64::from((h - t).norm_sqr());
                }
            }
            let var = err / (draws as usize * N_USED) as f64;
            let want = f64::from(noise_bin / 2.0) * n_taps as f64 / N_USED as f64;
            assert!(
                (var / want - 1.0).abs() < 0.15,
                "{n_taps} taps: error variance {var} vs {want}"
            );
            let bias = mean
                .iter()
                .zip(&truth)
                .map(|(m, t)| (m - t).norm_sqr())
                .sum::<f32>()
                / N_USED as f32;
            // The mean's own noise is want / 300 (about 3e-5 for 21 taps).
            assert!(bias < 2e-4, "{n_taps} taps: squared bias {bias}");
        }
    }
}
