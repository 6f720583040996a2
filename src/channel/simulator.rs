//! The channel simulator: the impairments of this module chained in a fixed order.
//!
//! multipath -> timing offset / clock offset -> CFO -> phase noise -> AWGN.
//!
//! Stages whose parameters make them an identity (no multipath, zero delay and clock
//! offset, zero CFO, zero linewidth, no SNR) are left out, so the default configuration
//! passes samples through unchanged.

use num_complex::Complex32;
use serde::Deserialize;

use super::error::{check_range, ChannelError};
use super::{Awgn, Cfo, Multipath, MultipathConfig, PhaseNoise, TimingOffset};

/// Channel parameters, as read from a scenario file (every field optional there).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelConfig {
    /// SNR per complex sample against unit signal power, dB; `None` adds no noise.
    pub snr_db: Option<f32>,
    /// Multipath fading; `None` is an ideal (single unit tap) channel.
    pub multipath: Option<MultipathConfig>,
    /// Carrier frequency offset, Hz (receiver minus transmitter carrier).
    pub cfo_hz: f64,
    /// Sample timing offset (delay), samples; fractional values allowed, >= 0.
    pub timing_offset_samples: f64,
    /// Receiver sampling clock offset, ppm (positive: receiver clock fast).
    pub sample_clock_offset_ppm: f64,
    /// 3 dB linewidth of the Wiener phase noise, Hz; 0 disables it.
    pub phase_noise_linewidth_hz: f64,
    /// Sample rate, Hz (IEEE 802.11a 20 MHz channel spacing: 20e6).
    pub sample_rate_hz: f64,
    /// Seed of every random draw (fading, phase noise, noise).
    pub seed: u64,
}

impl Default for ChannelConfig {
    /// An ideal channel at 20 MHz: no impairment at all.
    fn default() -> Self {
        Self {
            snr_db: None,
            multipath: None,
            cfo_hz: 0.0,
            timing_offset_samples: 0.0,
            sample_clock_offset_ppm: 0.0,
            phase_noise_linewidth_hz: 0.0,
            sample_rate_hz: 20e6,
            seed: 0,
        }
    }
}

/// Streaming, seeded channel: `apply` any chunking of a sample stream and get the same
/// output; call `start_burst` at the first sample of each frame to draw new fading.
#[derive(Debug, Clone)]
pub struct ChannelSimulator {
    config: ChannelConfig,
    multipath: Option<Multipath>,
    timing: Option<TimingOffset>,
    cfo: Option<Cfo>,
    phase_noise: Option<PhaseNoise>,
    awgn: Option<Awgn>,
    stage_in: Vec<Complex32>,
    stage_out: Vec<Complex32>,
}

impl ChannelSimulator {
    /// Validates `config` and builds the chain. Errors name the offending field.
    pub fn new(config: ChannelConfig) -> Result<Self, ChannelError> {
        check_range(
            "sample_rate_hz",
            config.sample_rate_hz,
            1.0,
            1e12,
            "a finite rate in [1, 1e12] Hz",
        )?;
        let fs = config.sample_rate_hz;
        let multipath = match &config.multipath {
            Some(mp) => Some(Multipath::new(mp, fs, config.seed)?),
            None => None,
        };
        let timing =
            TimingOffset::new(config.timing_offset_samples, config.sample_clock_offset_ppm)?;
        let timing = (config.timing_offset_samples != 0.0 || config.sample_clock_offset_ppm != 0.0)
            .then_some(timing);
        let cfo = Cfo::new(config.cfo_hz, fs)?;
        let cfo = (config.cfo_hz != 0.0).then_some(cfo);
        let phase_noise = PhaseNoise::new(config.phase_noise_linewidth_hz, fs, config.seed)?;
        let phase_noise = (config.phase_noise_linewidth_hz != 0.0).then_some(phase_noise);
        let awgn = match config.snr_db {
            Some(snr_db) => Some(Awgn::new(snr_db, config.seed)?),
            None => None,
        };
        log::debug!("channel simulator: {config:?}");
        Ok(Self {
            config,
            multipath,
            timing,
            cfo,
            phase_noise,
            awgn,
            stage_in: Vec::new(),
            stage_out: Vec::new(),
        })
    }

    /// The configuration this simulator was built from.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Delay the chain adds beyond `timing_offset_samples`, whole samples: the
    /// interpolator latency when the timing stage is active, else 0. Multipath adds its
    /// own delay spread on top.
    pub fn latency_samples(&self) -> usize {
        self.timing
            .as_ref()
            .map_or(0, TimingOffset::latency_samples)
    }

    /// Complex noise variance per sample, `10^(-snr_db / 10)`, or 0 without noise.
    pub fn noise_var(&self) -> f64 {
        self.awgn.as_ref().map_or(0.0, Awgn::noise_var)
    }

    /// The current multipath taps (`None` without multipath).
    pub fn multipath_taps(&self) -> Option<&[Complex32]> {
        self.multipath.as_ref().map(Multipath::taps)
    }

    /// Marks the start of a new burst (frame): draws new multipath taps and restarts the
    /// sampling clock drift. Call it between `apply` calls, before the burst's first
    /// sample.
    pub fn start_burst(&mut self) {
        if let Some(mp) = &mut self.multipath {
            mp.redraw();
        }
        if let Some(timing) = &mut self.timing {
            timing.start_burst();
        }
    }

    /// Passes `input` (any length) through the channel and appends exactly
    /// `input.len()` samples to `out`. State carries over calls.
    pub fn apply(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) {
        self.stage_in.clear();
        self.stage_in.extend_from_slice(input);
        if let Some(mp) = &mut self.multipath {
            self.stage_out.clear();
            mp.process(&self.stage_in, &mut self.stage_out);
            std::mem::swap(&mut self.stage_in, &mut self.stage_out);
        }
        if let Some(timing) = &mut self.timing {
            self.stage_out.clear();
            timing.process(&self.stage_in, &mut self.stage_out);
            std::mem::swap(&mut self.stage_in, &mut self.stage_out);
        }
        if let Some(cfo) = &mut self.cfo {
            cfo.rotate(&mut self.stage_in);
        }
        if let Some(pn) = &mut self.phase_noise {
            pn.apply(&mut self.stage_in);
        }
        if let Some(awgn) = &mut self.awgn {
            awgn.add(&mut self.stage_in);
        }
        out.extend_from_slice(&self.stage_in);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_config(seed: u64) -> ChannelConfig {
        ChannelConfig {
            snr_db: Some(20.0),
            multipath: Some(MultipathConfig {
                rms_delay_spread_ns: 100.0,
                rician_k_db: Some(3.0),
                profile_floor_db: 25.0,
            }),
            cfo_hz: 48_000.0,
            timing_offset_samples: 2.4,
            sample_clock_offset_ppm: 20.0,
            phase_noise_linewidth_hz: 500.0,
            sample_rate_hz: 20e6,
            seed,
        }
    }

    fn signal(n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|k| {
                let k = k as f32;
                Complex32::new((0.031 * k).cos() + (0.7 * k).sin(), (0.017 * k).sin())
            })
            .collect()
    }

    /// Two bursts, the second after `start_burst`, fed in chunks of `chunk`.
    fn run(config: &ChannelConfig, x: &[Complex32], chunk: usize) -> Vec<Complex32> {
        let mut sim = ChannelSimulator::new(config.clone()).unwrap();
        let mut y = Vec::new();
        let split = x.len() / 2;
        for part in x[..split].chunks(chunk) {
            sim.apply(part, &mut y);
        }
        sim.start_burst();
        for part in x[split..].chunks(chunk) {
            sim.apply(part, &mut y);
        }
        y
    }

    #[test]
    fn full_chain_output_does_not_depend_on_chunking() {
        let x = signal(30_000);
        let config = full_config(17);
        let whole = run(&config, &x, x.len());
        assert_eq!(whole.len(), x.len(), "one output sample per input sample");
        for chunk in [1, 13, 4096] {
            assert!(
                run(&config, &x, chunk) == whole,
                "chunks of {chunk} changed the output"
            );
        }
    }

    #[test]
    fn default_config_is_identity_and_latency_is_reported() {
        let x = signal(1000);
        let mut sim = ChannelSimulator::new(ChannelConfig::default()).unwrap();
        let mut y = Vec::new();
        sim.apply(&x, &mut y);
        assert_eq!(y, x, "the default channel must not alter samples");
        assert_eq!(sim.latency_samples(), 0);
        assert_eq!(sim.noise_var(), 0.0);

        // Integer delay through the whole chain: shift by offset + reported latency.
        let config = ChannelConfig {
            timing_offset_samples: 3.0,
            ..ChannelConfig::default()
        };
        let mut sim = ChannelSimulator::new(config).unwrap();
        let mut y = Vec::new();
        sim.apply(&x, &mut y);
        let shift = 3 + sim.latency_samples();
        assert_eq!(&y[shift..], &x[..x.len() - shift]);
    }

    #[test]
    fn sub_streams_are_independent_of_other_parameters() {
        // Changing the SNR must not change the fading draw.
        let a = ChannelSimulator::new(full_config(5)).unwrap();
        let b = ChannelSimulator::new(ChannelConfig {
            snr_db: Some(0.0),
            cfo_hz: 0.0,
            ..full_config(5)
        })
        .unwrap();
        assert_eq!(a.multipath_taps(), b.multipath_taps());
        let c = ChannelSimulator::new(full_config(6)).unwrap();
        assert_ne!(a.multipath_taps(), c.multipath_taps(), "seed must matter");

        // Changing the fading must not change the noise: with the signal removed,
        // the noise-only outputs are identical.
        let zeros = vec![Complex32::new(0.0, 0.0); 500];
        let noise = |mp: Option<MultipathConfig>| {
            let config = ChannelConfig {
                snr_db: Some(10.0),
                multipath: mp,
                seed: 5,
                ..ChannelConfig::default()
            };
            let mut y = Vec::new();
            ChannelSimulator::new(config).unwrap().apply(&zeros, &mut y);
            y
        };
        assert_eq!(noise(None), noise(Some(MultipathConfig::default())));
    }

    #[test]
    fn start_burst_draws_new_taps() {
        let mut sim = ChannelSimulator::new(full_config(1)).unwrap();
        let before = sim.multipath_taps().unwrap().to_vec();
        sim.start_burst();
        assert_ne!(sim.multipath_taps().unwrap(), before.as_slice());
    }

    #[test]
    fn invalid_configs_are_rejected_naming_the_field() {
        let base = ChannelConfig::default();
        let cases: Vec<(ChannelConfig, &str)> = vec![
            (
                ChannelConfig {
                    snr_db: Some(f32::NAN),
                    ..base.clone()
                },
                "snr_db",
            ),
            (
                ChannelConfig {
                    cfo_hz: f64::NAN,
                    ..base.clone()
                },
                "cfo_hz",
            ),
            (
                ChannelConfig {
                    cfo_hz: 15e6,
                    ..base.clone()
                },
                "cfo_hz",
            ),
            (
                ChannelConfig {
                    timing_offset_samples: -1.0,
                    ..base.clone()
                },
                "timing_offset_samples",
            ),
            (
                ChannelConfig {
                    sample_clock_offset_ppm: f64::NAN,
                    ..base.clone()
                },
                "sample_clock_offset_ppm",
            ),
            (
                ChannelConfig {
                    phase_noise_linewidth_hz: -3.0,
                    ..base.clone()
                },
                "phase_noise_linewidth_hz",
            ),
            (
                ChannelConfig {
                    sample_rate_hz: 0.0,
                    ..base.clone()
                },
                "sample_rate_hz",
            ),
            (
                ChannelConfig {
                    sample_rate_hz: f64::INFINITY,
                    ..base.clone()
                },
                "sample_rate_hz",
            ),
            (
                ChannelConfig {
                    multipath: Some(MultipathConfig {
                        rms_delay_spread_ns: -5.0,
                        ..MultipathConfig::default()
                    }),
                    ..base.clone()
                },
                "multipath.rms_delay_spread_ns",
            ),
        ];
        for (config, field) in cases {
            let err = ChannelSimulator::new(config).unwrap_err();
            assert!(
                err.to_string().contains(field),
                "expected `{field}` in: {err}"
            );
        }
    }

    #[test]
    fn config_reads_from_json_with_defaults() {
        let json = r#"{ "snr_db": 12.5, "multipath": { "rms_delay_spread_ns": 75 }, "seed": 9 }"#;
        let config: ChannelConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.snr_db, Some(12.5));
        assert_eq!(
            config.sample_rate_hz, 20e6,
            "sample rate defaults to 20 MHz"
        );
        assert_eq!(config.multipath.as_ref().unwrap().profile_floor_db, 25.0);
        assert!(ChannelSimulator::new(config).is_ok());
        let typo = r#"{ "snr": 3 }"#;
        assert!(
            serde_json::from_str::<ChannelConfig>(typo).is_err(),
            "unknown fields"
        );
    }
}
