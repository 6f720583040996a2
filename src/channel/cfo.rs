//! Carrier frequency offset: a phase rotation `exp(j 2 pi cfo_hz n / sample_rate_hz)`.
//!
//! The phase is kept in cycles as an `f64` wrapped to `[-0.5, 0.5)`, so after 10^9
//! samples its error is still far below the `f32` resolution of the output. The phase
//! continues across calls, so the output does not depend on chunking.

use num_complex::Complex32;

use super::error::{check_range, check_sample_rate, ChannelError};

/// Largest accepted offset, as a fraction of the sample rate.
pub const MAX_CFO_FRACTION: f64 = 0.5;

/// Streaming frequency shifter.
#[derive(Debug, Clone)]
pub struct Cfo {
    cycles_per_sample: f64,
    phase_cycles: f64,
}

impl Cfo {
    /// Offset of `cfo_hz` (either sign) at `sample_rate_hz`.
    ///
    /// Errors unless `sample_rate_hz` is finite and positive and
    /// `|cfo_hz| <= sample_rate_hz / 2`.
    pub fn new(cfo_hz: f64, sample_rate_hz: f64) -> Result<Self, ChannelError> {
        check_sample_rate(sample_rate_hz)?;
        let limit = MAX_CFO_FRACTION * sample_rate_hz;
        check_range(
            "cfo_hz",
            cfo_hz,
            -limit,
            limit,
            "a finite offset within +-sample_rate_hz / 2",
        )?;
        Ok(Self {
            cycles_per_sample: cfo_hz / sample_rate_hz,
            phase_cycles: 0.0,
        })
    }

    /// Current phase, in cycles, that the next sample will be rotated by.
    pub fn phase_cycles(&self) -> f64 {
        self.phase_cycles
    }

    /// Rotates `samples` in place (any length): sample `n` of the whole stream (counted
    /// from 0 over all calls) is multiplied by `exp(j 2 pi cfo_hz n / sample_rate_hz)`.
    pub fn rotate(&mut self, samples: &mut [Complex32]) {
        for s in samples.iter_mut() {
            let (sin, cos) = (std::f64::consts::TAU * self.phase_cycles).sin_cos();
            let rot = Complex32::new(cos as f32, sin as f32);
            *s *= rot;
            self.phase_cycles += self.cycles_per_sample;
            if self.phase_cycles >= 0.5 {
                self.phase_cycles -= 1.0;
            } else if self.phase_cycles < -0.5 {
                self.phase_cycles += 1.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exp(j 2 pi f n / fs) computed directly from n (an independent oracle: no
    /// accumulation), with the product reduced modulo one cycle in f64.
    fn reference(cfo_hz: f64, fs: f64, n: u64) -> (f64, f64) {
        // n * f / fs as an exact rational reduction: f and fs are integers here.
        let num = (n as u128 * cfo_hz.abs() as u128) % fs as u128;
        let cycles = cfo_hz.signum() * num as f64 / fs;
        let (s, c) = (std::f64::consts::TAU * cycles).sin_cos();
        (c, s)
    }

    #[test]
    fn constant_input_becomes_the_offset_tone_over_a_million_samples() {
        let fs = 20e6;
        for cfo_hz in [123_457.0, -312_501.0, 1.0] {
            let mut cfo = Cfo::new(cfo_hz, fs).unwrap();
            let mut v = vec![Complex32::new(1.0, 0.0); 1_000_000];
            cfo.rotate(&mut v);
            let mut worst = 0.0f64;
            for (n, y) in v.iter().enumerate() {
                let (c, s) = reference(cfo_hz, fs, n as u64);
                let err = (f64::from(y.re) - c).hypot(f64::from(y.im) - s);
                worst = worst.max(err);
            }
            // A phase drift from accumulation or a wrong sign/scale exceeds this.
            assert!(worst < 1e-4, "cfo {cfo_hz} Hz: worst error {worst}");
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input: Vec<Complex32> = (0..10_000)
            .map(|k| Complex32::new((k as f32 * 0.01).cos(), (k as f32 * 0.03).sin()))
            .collect();
        let mut whole = input.clone();
        Cfo::new(250e3, 20e6).unwrap().rotate(&mut whole);
        for chunk in [1usize, 7, 4096] {
            let mut cfo = Cfo::new(250e3, 20e6).unwrap();
            let mut pieces = input.clone();
            for part in pieces.chunks_mut(chunk) {
                cfo.rotate(part);
            }
            assert_eq!(
                pieces, whole,
                "phase not continuous across chunks of {chunk}"
            );
        }
    }

    #[test]
    fn rejects_invalid_values_naming_the_field() {
        let err = Cfo::new(f64::NAN, 20e6).unwrap_err();
        assert!(err.to_string().contains("cfo_hz"), "{err}");
        let err = Cfo::new(11e6, 20e6).unwrap_err();
        assert!(err.to_string().contains("cfo_hz"), "{err}");
        let err = Cfo::new(0.0, -1.0).unwrap_err();
        assert!(err.to_string().contains("sample_rate_hz"), "{err}");
    }
}
