//! Multipath fading: a tapped delay line with an exponential power delay profile.
//!
//! Tap `k` (delay `k / sample_rate_hz`) has average power proportional to
//! `exp(-k T_s / tau_rms)`, taps kept while the profile is within `profile_floor_db` of
//! the first, and the powers normalized to sum to 1 (so the channel keeps the average
//! signal power). This is the exponentially decaying model used for indoor 802.11
//! evaluation; with taps spaced one sample apart, the discrete profile's RMS delay
//! spread is close to `tau_rms` only when `tau_rms` spans several samples.
//!
//! Taps are independent complex Gaussian (Rayleigh fading), or, with a Rician K factor,
//! tap 0 is a line-of-sight component of power `K / (K + 1) P_0` with a uniformly random
//! phase plus a scattered part of power `P_0 / (K + 1)`. One independent draw per
//! burst ([`Multipath::redraw`]): the channel is constant over a frame (block fading).
//!
//! Not modelled: Doppler (time variation within a burst) and delays that are not whole
//! samples.

use num_complex::Complex32;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Deserialize;
use std::f64::consts::{LN_10, TAU};

use super::error::{check_range, check_sample_rate, ChannelError};
use super::{sub_stream, STREAM_MULTIPATH};

/// Most taps a profile may have.
pub const MAX_TAPS: usize = 1024;

/// Multipath parameters (the sample rate comes from the channel configuration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultipathConfig {
    /// RMS delay spread `tau_rms` of the exponential profile, ns. 0 gives flat fading.
    pub rms_delay_spread_ns: f64,
    /// Rician K factor of tap 0, dB (LOS power over scattered power); `None` = Rayleigh.
    #[serde(default)]
    pub rician_k_db: Option<f64>,
    /// Taps are kept while the profile is at most this far below tap 0, dB.
    #[serde(default = "default_profile_floor_db")]
    pub profile_floor_db: f64,
}

fn default_profile_floor_db() -> f64 {
    25.0
}

impl Default for MultipathConfig {
    /// 50 ns RMS delay spread (a typical office), Rayleigh, 25 dB profile floor.
    fn default() -> Self {
        Self {
            rms_delay_spread_ns: 50.0,
            rician_k_db: None,
            profile_floor_db: default_profile_floor_db(),
        }
    }
}

/// Streaming block-fading FIR channel.
#[derive(Debug, Clone)]
pub struct Multipath {
    /// Average power of each tap, summing to 1.
    profile: Vec<f64>,
    /// Rician K factor (linear) of tap 0; 0 for Rayleigh.
    k_factor: f64,
    taps: Vec<Complex32>,
    /// The last `taps.len() - 1` input samples, oldest first.
    history: Vec<Complex32>,
    scratch: Vec<Complex32>,
    rng: ChaCha8Rng,
}

impl Multipath {
    /// Validates `config`, builds the profile and draws the first set of taps from the
    /// multipath sub-stream of `seed`.
    pub fn new(
        config: &MultipathConfig,
        sample_rate_hz: f64,
        seed: u64,
    ) -> Result<Self, ChannelError> {
        check_sample_rate(sample_rate_hz)?;
        check_range(
            "multipath.rms_delay_spread_ns",
            config.rms_delay_spread_ns,
            0.0,
            1e9,
            "a finite, non-negative delay spread in ns",
        )?;
        check_range(
            "multipath.profile_floor_db",
            config.profile_floor_db,
            1.0,
            100.0,
            "a floor in [1, 100] dB",
        )?;
        let k_factor = match config.rician_k_db {
            None => 0.0,
            Some(k_db) => {
                check_range(
                    "multipath.rician_k_db",
                    k_db,
                    -50.0,
                    50.0,
                    "a finite K factor in [-50, 50] dB",
                )?;
                10f64.powf(k_db / 10.0)
            }
        };
        let tau_samples = config.rms_delay_spread_ns * 1e-9 * sample_rate_hz;
        // exp(-k / tau) >= 10^(-floor / 10)  <=>  k <= floor / 10 * ln(10) * tau.
        let last = (config.profile_floor_db / 10.0 * LN_10 * tau_samples).floor();
        if last >= MAX_TAPS as f64 {
            return Err(ChannelError::TooManyTaps {
                rms_delay_spread_ns: config.rms_delay_spread_ns,
                sample_rate_hz,
                taps: last.min(usize::MAX as f64) as usize + 1,
                max_taps: MAX_TAPS,
            });
        }
        let n_taps = last as usize + 1;
        let mut profile: Vec<f64> = (0..n_taps)
            .map(|k| {
                if tau_samples > 0.0 {
                    (-(k as f64) / tau_samples).exp()
                } else {
                    1.0
                }
            })
            .collect();
        let total: f64 = profile.iter().sum();
        profile.iter_mut().for_each(|p| *p /= total);
        log::debug!(
            "multipath: {n_taps} taps, tau_rms {} ns, K {k_factor}",
            config.rms_delay_spread_ns
        );
        let mut multipath = Self {
            profile,
            k_factor,
            taps: Vec::with_capacity(n_taps),
            history: vec![Complex32::new(0.0, 0.0); n_taps - 1],
            scratch: Vec::new(),
            rng: sub_stream(seed, STREAM_MULTIPATH),
        };
        multipath.redraw();
        Ok(multipath)
    }

    /// Average power of each tap (length = number of taps), summing to 1.
    pub fn power_delay_profile(&self) -> &[f64] {
        &self.profile
    }

    /// The current taps, `taps()[k]` applied at a delay of `k` samples.
    pub fn taps(&self) -> &[Complex32] {
        &self.taps
    }

    /// Draws a new, independent set of taps (one per burst). The delay line keeps its
    /// contents, so the tail of the previous burst passes through the new taps.
    pub fn redraw(&mut self) {
        self.taps.clear();
        for (k, &power) in self.profile.iter().enumerate() {
            let g_re: f64 = self.rng.sample(StandardNormal);
            let g_im: f64 = self.rng.sample(StandardNormal);
            let (scattered_power, los) = if k == 0 {
                // The LOS phase is always drawn so the stream layout does not depend on K.
                let phase = TAU * self.rng.random::<f64>();
                let los_amp = (self.k_factor / (self.k_factor + 1.0) * power).sqrt();
                let (s, c) = phase.sin_cos();
                (power / (self.k_factor + 1.0), (los_amp * c, los_amp * s))
            } else {
                (power, (0.0, 0.0))
            };
            let sigma = (scattered_power / 2.0).sqrt();
            self.taps.push(Complex32::new(
                (los.0 + sigma * g_re) as f32,
                (los.1 + sigma * g_im) as f32,
            ));
        }
    }

    /// Convolves `input` with the current taps and appends `input.len()` samples to
    /// `out`: `y[n] = sum_k h[k] x[n - k]`, with `x` before the first call taken as 0
    /// and earlier calls' samples taken from the delay line, so any chunking of the
    /// input gives the same output.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) {
        let n_hist = self.history.len();
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.history);
        self.scratch.extend_from_slice(input);
        out.reserve(input.len());
        for n in 0..input.len() {
            // scratch[n + n_hist] is x[n]; tap k reads x[n - k].
            let mut acc = Complex32::new(0.0, 0.0);
            for (k, h) in self.taps.iter().enumerate() {
                acc += h * self.scratch[n + n_hist - k];
            }
            out.push(acc);
        }
        let keep_from = self.scratch.len() - n_hist;
        self.history.copy_from_slice(&self.scratch[keep_from..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_complex::Complex64;
    use rand::SeedableRng;

    fn c64(z: Complex32) -> Complex64 {
        Complex64::new(f64::from(z.re), f64::from(z.im))
    }

    fn config(rms_delay_spread_ns: f64, rician_k_db: Option<f64>) -> MultipathConfig {
        MultipathConfig {
            rms_delay_spread_ns,
            rician_k_db,
            profile_floor_db: 25.0,
        }
    }

    #[test]
    fn profile_follows_the_exponential_and_is_normalized() {
        let fs = 20e6;
        let mp = Multipath::new(&config(100.0, None), fs, 0).unwrap();
        let p = mp.power_delay_profile();
        // tau = 2 samples; 25 dB floor -> k <= 2.5 * ln 10 * 2 = 11.5 -> 12 taps.
        assert_eq!(p.len(), 12, "tap count from the 25 dB floor");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for k in 1..p.len() {
            assert!((p[k] / p[k - 1] - (-0.5f64).exp()).abs() < 1e-12);
        }
        let flat = Multipath::new(&config(0.0, None), fs, 0).unwrap();
        assert_eq!(flat.power_delay_profile(), &[1.0], "zero spread is one tap");
    }

    #[test]
    fn average_tap_powers_over_many_draws_follow_the_profile() {
        let mut mp = Multipath::new(&config(100.0, None), 20e6, 5).unwrap();
        let draws = 20_000;
        let n = mp.power_delay_profile().len();
        let mut power = vec![0.0f64; n];
        for _ in 0..draws {
            mp.redraw();
            for (p, h) in power.iter_mut().zip(mp.taps()) {
                *p += f64::from(h.norm_sqr()) / draws as f64;
            }
        }
        // An exponential |h|^2 has relative standard error 1/sqrt(draws) = 0.7 %.
        for (k, (&measured, &expected)) in power.iter().zip(mp.power_delay_profile()).enumerate() {
            assert!(
                (measured / expected - 1.0).abs() < 0.10,
                "tap {k}: average power {measured}, profile {expected}"
            );
        }
        let total: f64 = power.iter().sum();
        assert!((total - 1.0).abs() < 0.03, "total average power {total}");
    }

    #[test]
    fn rician_tap_zero_has_the_requested_k_factor() {
        for k_db in [0.0, 6.0, 10.0] {
            let mut mp = Multipath::new(&config(50.0, Some(k_db)), 20e6, 9).unwrap();
            let p0 = mp.power_delay_profile()[0];
            let draws = 100_000;
            let (mut m2, mut m4) = (0.0f64, 0.0f64);
            for _ in 0..draws {
                mp.redraw();
                let a = f64::from(mp.taps()[0].norm_sqr());
                m2 += a / draws as f64;
                m4 += a * a / draws as f64;
            }
            // Moment estimator: for h = LOS + CN(0, s), E|h|^2 = L + s and
            // E|h|^4 = L^2 + 4 L s + 2 s^2, hence L^2 = 2 E|h|^2^2 - E|h|^4.
            let los = (2.0 * m2 * m2 - m4).max(0.0).sqrt();
            let scattered = m2 - los;
            let k = 10f64.powf(k_db / 10.0);
            assert!(
                (los / scattered / k - 1.0).abs() < 0.15,
                "K {k_db} dB: LOS/scattered {} (expected {k})",
                los / scattered
            );
            assert!(
                (m2 / p0 - 1.0).abs() < 0.02,
                "tap 0 power {m2}, profile {p0}"
            );
        }
    }

    #[test]
    fn streaming_equals_direct_convolution_across_chunks() {
        let mut mp = Multipath::new(&config(150.0, None), 20e6, 3).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<Complex32> = (0..3000)
            .map(|_| Complex32::new(rng.random::<f32>() - 0.5, rng.random::<f32>() - 0.5))
            .collect();
        let h = mp.taps().to_vec();
        assert!(h.len() > 10, "need a long channel to cross chunk edges");
        // Irregular chunks, several shorter than the channel.
        let mut y = Vec::new();
        let mut start = 0;
        for len in [1usize, 2, 5, 17, 3, 400].iter().cycle() {
            let end = (start + len).min(x.len());
            mp.process(&x[start..end], &mut y);
            start = end;
            if start == x.len() {
                break;
            }
        }
        assert_eq!(y.len(), x.len());
        for n in 0..x.len() {
            let mut naive = Complex64::new(0.0, 0.0);
            for (k, hk) in h.iter().enumerate() {
                if n >= k {
                    naive += c64(*hk) * c64(x[n - k]);
                }
            }
            let err = (c64(y[n]) - naive).norm();
            assert!(err < 1e-5, "sample {n}: streaming FIR off by {err}");
        }
    }

    #[test]
    fn rejects_bad_parameters_naming_the_field() {
        let cases = [
            (config(f64::NAN, None), "multipath.rms_delay_spread_ns"),
            (config(-1.0, None), "multipath.rms_delay_spread_ns"),
            (config(1e6, None), "multipath.rms_delay_spread_ns"),
            (config(50.0, Some(f64::INFINITY)), "multipath.rician_k_db"),
        ];
        for (cfg, field) in cases {
            let err = Multipath::new(&cfg, 20e6, 0).unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
        }
    }
}
