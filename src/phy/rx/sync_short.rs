//! Frame detection on the short training field, IEEE 802.11-2016 17.3.3 and 17.3.12.
//!
//! The STF repeats every 16 samples, so the delay-and-correlate metric
//! `|sum r[n+k] r*[n+k+16]|^2 / (sum |r[n+k]|^2 * sum |r[n+k+16]|^2)` over a window of
//! `k = 0 .. WINDOW` sits near 1 for the whole STF and near `1 / WINDOW` on noise or on
//! OFDM data. A frame is declared when the metric stays above a threshold for a number
//! of consecutive samples (the plateau). The sums are running sums in `f64`, refreshed
//! from scratch every `REFRESH_PERIOD` (4096) samples so rounding cannot drift.
//!
//! The correlation averaged over the plateau also gives the coarse carrier frequency
//! offset: its phase is `-16 w` for an offset of `w` radians per sample (unambiguous for
//! `|cfo_hz|` below 625 kHz).

use num_complex::{Complex, Complex32};

/// STF period in samples.
pub const STF_PERIOD: usize = 16;
/// Correlation window in samples.
pub const WINDOW: usize = 48;
/// Running sums are recomputed from scratch every this many samples.
const REFRESH_PERIOD: u64 = 4096;
/// Below this product of window powers the metric is taken as zero (silence).
const MIN_POWER_PRODUCT: f64 = 1e-24;

/// A detected short training field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Absolute index of the window start at which the plateau was confirmed; the frame
    /// starts roughly `plateau_len` samples earlier.
    pub trigger: u64,
    /// Coarse carrier frequency offset, radians per sample.
    pub cfo_rad_per_sample: f32,
}

/// Streaming STF detector over a caller-owned sample buffer.
#[derive(Debug, Clone)]
pub struct ShortPreambleDetector {
    threshold: f32,
    plateau_len: usize,
    /// Absolute index of the next window start to evaluate.
    pos: u64,
    /// Whether the running sums below describe the window at `pos`.
    primed: bool,
    corr: Complex<f64>,
    power_lead: f64,
    power_lag: f64,
    run: usize,
    corr_plateau: Complex<f64>,
    /// When recording: positions at which the detector was in its canonical state (just
    /// reset, or refreshed outside a plateau), so two detectors that both pass through
    /// one of them behave identically from there on.
    canonical: Option<Vec<u64>>,
}

impl ShortPreambleDetector {
    /// `threshold`: metric level (0..1) of the plateau; `plateau_len`: consecutive samples
    /// above it that declare a frame.
    pub fn new(threshold: f32, plateau_len: usize, start: u64) -> Self {
        Self {
            threshold,
            plateau_len: plateau_len.max(1),
            pos: start,
            primed: false,
            corr: Complex::new(0.0, 0.0),
            power_lead: 0.0,
            power_lag: 0.0,
            run: 0,
            corr_plateau: Complex::new(0.0, 0.0),
            canonical: None,
        }
    }

    /// Starts recording canonical positions (see [`Self::canonical_positions`]).
    pub fn record_canonical(&mut self) {
        self.canonical.get_or_insert_with(Vec::new).push(self.pos);
    }

    /// Positions at which the detector's whole state depended only on the position and
    /// the input samples: every reset, and every periodic refresh outside a plateau.
    pub fn canonical_positions(&self) -> &[u64] {
        self.canonical.as_deref().unwrap_or(&[])
    }

    /// Forgets the canonical positions recorded so far (recording goes on).
    pub fn clear_canonical(&mut self) {
        if let Some(c) = self.canonical.as_mut() {
            c.clear();
        }
    }

    /// Absolute index of the next window start the detector will look at.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Restarts detection at absolute index `start`, forgetting all history.
    pub fn reset(&mut self, start: u64) {
        let canonical = self.canonical.take();
        *self = Self::new(self.threshold, self.plateau_len, start);
        self.canonical = canonical;
        if let Some(c) = self.canonical.as_mut() {
            c.push(start);
        }
    }

    fn prime(&mut self, buf: &[Complex32], i: usize) {
        self.corr = Complex::new(0.0, 0.0);
        self.power_lead = 0.0;
        self.power_lag = 0.0;
        for k in i..i + WINDOW {
            let a = to64(buf[k]);
            let b = to64(buf[k + STF_PERIOD]);
            self.corr += a * b.conj();
            self.power_lead += a.norm_sqr();
            self.power_lag += b.norm_sqr();
        }
        self.primed = true;
    }

    /// Scans `buf` (whose first sample has absolute index `buf_start`) from the current
    /// position as far as the samples allow, stopping at the first detection.
    ///
    /// # Panics
    /// If `buf_start` is past the current position (the samples it needs were dropped).
    pub fn scan(&mut self, buf: &[Complex32], buf_start: u64) -> Option<Detection> {
        assert!(
            buf_start <= self.pos,
            "detector buffer: expected samples from index {}, buffer starts at {buf_start}",
            self.pos
        );
        let span = WINDOW + STF_PERIOD;
        let mut i = (self.pos - buf_start) as usize;
        while i + span < buf.len() {
            if !self.primed || self.pos.is_multiple_of(REFRESH_PERIOD) {
                if self.primed && self.run == 0 {
                    if let Some(c) = self.canonical.as_mut() {
                        c.push(self.pos);
                    }
                }
                self.prime(buf, i);
            }
            let denom = self.power_lead * self.power_lag;
            let c = self.corr;
            let above = denom > MIN_POWER_PRODUCT && c.norm_sqr() > self.threshold as f64 * denom;
            if above {
                self.run += 1;
                self.corr_plateau += c;
            } else {
                self.run = 0;
                self.corr_plateau = Complex::new(0.0, 0.0);
            }
            // Slide the window by one sample: drop index i, add index i + WINDOW.
            let (a0, b0) = (to64(buf[i]), to64(buf[i + STF_PERIOD]));
            let (a1, b1) = (to64(buf[i + WINDOW]), to64(buf[i + span]));
            self.corr += a1 * b1.conj() - a0 * b0.conj();
            self.power_lead += a1.norm_sqr() - a0.norm_sqr();
            self.power_lag += b1.norm_sqr() - b0.norm_sqr();
            let trigger = self.pos;
            self.pos += 1;
            i += 1;
            if self.run >= self.plateau_len {
                let cfo = -(self.corr_plateau.arg() / STF_PERIOD as f64) as f32;
                self.run = 0;
                self.corr_plateau = Complex::new(0.0, 0.0);
                return Some(Detection {
                    trigger,
                    cfo_rad_per_sample: cfo,
                });
            }
        }
        None
    }
}

#[inline(always)]
fn to64(x: Complex32) -> Complex<f64> {
    Complex::new(x.re as f64, x.im as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rx::test_support::{awgn, periodic_stf};
    use crate::phy::subcarriers::SAMPLE_RATE_HZ;

    fn rotate(x: &mut [Complex32], cfo_hz: f64) {
        let w = 2.0 * std::f64::consts::PI * cfo_hz / SAMPLE_RATE_HZ;
        for (n, s) in x.iter_mut().enumerate() {
            *s *= Complex32::from_polar(1.0, (w * n as f64) as f32);
        }
    }

    fn detect_all(sig: &[Complex32]) -> Vec<Detection> {
        let mut det = ShortPreambleDetector::new(0.3, 32, 0);
        let mut out = Vec::new();
        while let Some(d) = det.scan(sig, 0) {
            out.push(d);
            det.reset(d.trigger + 200);
        }
        out
    }

    #[test]
    fn detects_stf_and_estimates_cfo() {
        // 10 dB SNR, offsets inside and beyond the +-100 kHz that 802.11a allows (the
        // lag-16 estimate is unambiguous to 625 kHz).
        for (i, cfo_hz) in [-300e3, -100e3, -20e3, 0.0, 37e3, 100e3, 250e3]
            .iter()
            .enumerate()
        {
            let start = 500;
            let mut sig = vec![Complex32::new(0.0, 0.0); start];
            sig.extend(periodic_stf());
            sig.extend(vec![Complex32::new(0.0, 0.0); 400]);
            rotate(&mut sig, *cfo_hz);
            awgn(&mut sig, 0.1, 10 + i as u64);
            let dets = detect_all(&sig);
            assert_eq!(dets.len(), 1, "cfo {cfo_hz}: one STF, got {dets:?}");
            let d = dets[0];
            let est_hz =
                d.cfo_rad_per_sample as f64 * SAMPLE_RATE_HZ / (2.0 * std::f64::consts::PI);
            // Coarse estimate at 10 dB: std about 7 kHz; the LTF refines it.
            assert!(
                (est_hz - cfo_hz).abs() < 25e3,
                "cfo {cfo_hz}: estimated {est_hz}"
            );
            let t = d.trigger as i64 - start as i64;
            assert!(
                (-48..=117).contains(&t),
                "trigger {t} samples from the STF start"
            );
        }
    }

    #[test]
    fn no_detection_on_noise_or_silence() {
        let mut noise = vec![Complex32::new(0.0, 0.0); 50_000];
        awgn(&mut noise, 1.0, 5);
        assert!(detect_all(&noise).is_empty(), "white noise is not an STF");
        let zeros = vec![Complex32::new(0.0, 0.0); 10_000];
        assert!(detect_all(&zeros).is_empty(), "silence is not an STF");
    }

    #[test]
    fn result_does_not_depend_on_buffer_growth() {
        // Feeding the buffer piece by piece must give the same detection as all at once.
        let mut sig = vec![Complex32::new(0.0, 0.0); 300];
        sig.extend(periodic_stf());
        sig.extend(vec![Complex32::new(0.0, 0.0); 300]);
        awgn(&mut sig, 0.05, 9);
        let whole = detect_all(&sig);
        let mut det = ShortPreambleDetector::new(0.3, 32, 0);
        let mut piecewise = None;
        for end in (1..=sig.len()).step_by(7) {
            if let Some(d) = det.scan(&sig[..end], 0) {
                piecewise = Some(d);
                break;
            }
        }
        assert_eq!(piecewise, whole.first().copied());
    }
}
