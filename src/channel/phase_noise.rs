//! Wiener (random-walk) phase noise of a free-running oscillator.
//!
//! An oscillator whose Lorentzian spectrum has 3 dB linewidth `linewidth_hz` has a
//! phase that performs a random walk with independent Gaussian increments of variance
//! `2 pi linewidth_hz / sample_rate_hz` per sample. The phase starts at 0 and is kept
//! as an `f64` wrapped to `[-pi, pi)`.

use num_complex::Complex32;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::{PI, TAU};

use super::error::{check_range, check_sample_rate, ChannelError};
use super::{sub_stream, STREAM_PHASE_NOISE};

/// Streaming phase-noise process with its own random sub-stream.
#[derive(Debug, Clone)]
pub struct PhaseNoise {
    increment_std_rad: f64,
    phase_rad: f64,
    rng: ChaCha8Rng,
}

impl PhaseNoise {
    /// Phase noise of 3 dB linewidth `linewidth_hz` at `sample_rate_hz`, drawn from the
    /// phase-noise sub-stream of `seed`.
    ///
    /// Errors unless `linewidth_hz` is finite, non-negative and at most
    /// `sample_rate_hz`, and `sample_rate_hz` is finite and positive.
    pub fn new(linewidth_hz: f64, sample_rate_hz: f64, seed: u64) -> Result<Self, ChannelError> {
        check_sample_rate(sample_rate_hz)?;
        check_range(
            "phase_noise_linewidth_hz",
            linewidth_hz,
            0.0,
            sample_rate_hz,
            "a finite linewidth in [0, sample_rate_hz] Hz",
        )?;
        Ok(Self {
            increment_std_rad: (TAU * linewidth_hz / sample_rate_hz).sqrt(),
            phase_rad: 0.0,
            rng: sub_stream(seed, STREAM_PHASE_NOISE),
        })
    }

    /// Variance of the per-sample phase increment, rad^2.
    pub fn increment_var_rad2(&self) -> f64 {
        self.increment_std_rad * self.increment_std_rad
    }

    /// Multiplies `samples` in place (any length) by `exp(j phi[n])`, where `phi` is the
    /// random walk; one standard normal draw per sample, so chunking does not matter.
    pub fn apply(&mut self, samples: &mut [Complex32]) {
        for s in samples.iter_mut() {
            let (sin, cos) = self.phase_rad.sin_cos();
            *s *= Complex32::new(cos as f32, sin as f32);
            let step: f64 = self.rng.sample(StandardNormal);
            self.phase_rad += self.increment_std_rad * step;
            self.phase_rad = (self.phase_rad + PI).rem_euclid(TAU) - PI;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_increment_variance_matches_linewidth() {
        let fs = 20e6;
        let n = 1_000_000;
        for linewidth_hz in [100.0, 10e3] {
            let mut pn = PhaseNoise::new(linewidth_hz, fs, 11).unwrap();
            let mut v = vec![Complex32::new(1.0, 0.0); n];
            pn.apply(&mut v);
            // Measure the increments from the output itself: arg(y[n] conj(y[n-1])).
            let inc: Vec<f64> = v
                .windows(2)
                .map(|w| f64::from((w[1] * w[0].conj()).arg()))
                .collect();
            let m = inc.len() as f64;
            let mean = inc.iter().sum::<f64>() / m;
            let var = inc.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / m;
            let expected = TAU * linewidth_hz / fs;
            // Standard error of the variance is sqrt(2/n) = 0.14 %: 5 % means a wrong
            // scale (e.g. linewidth taken as a standard deviation).
            assert!(
                (var / expected - 1.0).abs() < 0.05,
                "linewidth {linewidth_hz} Hz: increment variance {var}, expected {expected}"
            );
            assert!(
                mean.abs() < 5.0 * (expected / m).sqrt(),
                "increments are biased: mean {mean}"
            );
            // A random walk has independent increments: lag-1 correlation near 0.
            let lag1 = inc.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / (m - 1.0) / var;
            assert!(lag1.abs() < 0.01, "increments correlated: {lag1}");
            // Magnitude is untouched by a pure phase rotation.
            assert!(v.iter().all(|s| (s.norm() - 1.0).abs() < 1e-5));
        }
    }

    #[test]
    fn zero_linewidth_is_identity_and_bad_values_are_rejected() {
        let mut v = vec![Complex32::new(0.3, -0.7); 100];
        PhaseNoise::new(0.0, 20e6, 1).unwrap().apply(&mut v);
        assert!(v.iter().all(|s| *s == Complex32::new(0.3, -0.7)));
        for bad in [f64::NAN, -1.0, 30e6] {
            let err = PhaseNoise::new(bad, 20e6, 1).unwrap_err();
            assert!(
                err.to_string().contains("phase_noise_linewidth_hz"),
                "{err}"
            );
        }
    }
}
