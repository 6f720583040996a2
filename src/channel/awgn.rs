//! Additive white Gaussian noise.
//!
//! The SNR is defined per complex sample against unit average signal power (the
//! transmitter scales its samples to average power 1), so the complex noise variance is
//! `noise_var = 10^(-snr_db / 10)`, split evenly: I and Q each get `noise_var / 2`.
//! Noise is added to every sample, including the gaps between bursts.

use num_complex::Complex32;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::error::{check_range, ChannelError};
use super::{sub_stream, STREAM_AWGN};

/// Lowest accepted SNR, dB.
pub const MIN_SNR_DB: f32 = -50.0;
/// Highest accepted SNR, dB.
pub const MAX_SNR_DB: f32 = 200.0;

/// Streaming AWGN source with its own random sub-stream.
#[derive(Debug, Clone)]
pub struct Awgn {
    noise_var: f64,
    sigma_per_component: f64,
    rng: ChaCha8Rng,
}

impl Awgn {
    /// Noise at `snr_db` (per complex sample, unit signal power), drawn from the AWGN
    /// sub-stream of `seed`.
    ///
    /// Errors if `snr_db` is not finite or outside `[MIN_SNR_DB, MAX_SNR_DB]`.
    pub fn new(snr_db: f32, seed: u64) -> Result<Self, ChannelError> {
        check_range(
            "snr_db",
            f64::from(snr_db),
            f64::from(MIN_SNR_DB),
            f64::from(MAX_SNR_DB),
            "a finite SNR in [-50, 200] dB",
        )?;
        let noise_var = 10f64.powf(-f64::from(snr_db) / 10.0);
        Ok(Self {
            noise_var,
            sigma_per_component: (noise_var / 2.0).sqrt(),
            rng: sub_stream(seed, STREAM_AWGN),
        })
    }

    /// Complex noise variance `noise_var = E|w|^2` per sample.
    pub fn noise_var(&self) -> f64 {
        self.noise_var
    }

    /// Adds noise to every sample of `samples` in place (any length). Two standard
    /// normal draws per sample (I then Q), so the output does not depend on chunking.
    pub fn add(&mut self, samples: &mut [Complex32]) {
        let sigma = self.sigma_per_component;
        for s in samples.iter_mut() {
            let i: f64 = self.rng.sample(StandardNormal);
            let q: f64 = self.rng.sample(StandardNormal);
            s.re += (sigma * i) as f32;
            s.im += (sigma * q) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(snr_db: f32, seed: u64, n: usize) -> Vec<Complex32> {
        let mut awgn = Awgn::new(snr_db, seed).unwrap();
        let mut v = vec![Complex32::new(0.0, 0.0); n];
        awgn.add(&mut v);
        v
    }

    #[test]
    fn noise_power_matches_snr_and_splits_over_i_and_q() {
        let n = 1_000_000;
        for snr_db in [0.0f32, 10.0, 25.0] {
            let w = noise(snr_db, 7, n);
            let expected = 10f64.powf(-f64::from(snr_db) / 10.0);
            let p_i = w.iter().map(|s| f64::from(s.re).powi(2)).sum::<f64>() / n as f64;
            let p_q = w.iter().map(|s| f64::from(s.im).powi(2)).sum::<f64>() / n as f64;
            let total = p_i + p_q;
            // 2 % on 10^6 samples is ~14 standard errors: a failure is a scaling bug.
            assert!(
                (total / expected - 1.0).abs() < 0.02,
                "snr {snr_db} dB: noise power {total}, expected {expected}"
            );
            for (name, p) in [("I", p_i), ("Q", p_q)] {
                assert!(
                    (p / (expected / 2.0) - 1.0).abs() < 0.02,
                    "snr {snr_db} dB: {name} power {p}, expected half of {expected}"
                );
            }
            let mean_re = w.iter().map(|s| f64::from(s.re)).sum::<f64>() / n as f64;
            let mean_im = w.iter().map(|s| f64::from(s.im)).sum::<f64>() / n as f64;
            // Standard error of the mean is sqrt(expected / 2 / n); allow 5 of them.
            let tol = 5.0 * (expected / 2.0 / n as f64).sqrt();
            assert!(
                mean_re.abs() < tol && mean_im.abs() < tol,
                "noise is biased: mean ({mean_re}, {mean_im}), tolerance {tol}"
            );
        }
    }

    #[test]
    fn same_seed_repeats_and_other_seed_differs() {
        let a = noise(5.0, 42, 1000);
        let b = noise(5.0, 42, 1000);
        let c = noise(5.0, 43, 1000);
        assert_eq!(a, b, "the same seed must reproduce the noise exactly");
        let equal = a.iter().zip(&c).filter(|(x, y)| x == y).count();
        assert_eq!(equal, 0, "a different seed must give different noise");
    }

    #[test]
    fn noise_is_added_not_substituted() {
        // The signal must survive: the output minus the noise-only output is the input.
        let mut with_signal = vec![Complex32::new(0.5, -0.25); 100];
        Awgn::new(10.0, 3).unwrap().add(&mut with_signal);
        let only_noise = noise(10.0, 3, 100);
        for (y, w) in with_signal.iter().zip(&only_noise) {
            let d = y - w;
            assert!((d.re - 0.5).abs() < 1e-6 && (d.im + 0.25).abs() < 1e-6);
        }
    }

    #[test]
    fn rejects_non_finite_and_out_of_range_snr() {
        for bad in [f32::NAN, f32::INFINITY, -60.0, 300.0] {
            let err = Awgn::new(bad, 0).unwrap_err();
            assert!(err.to_string().contains("snr_db"), "{err}");
        }
    }
}
