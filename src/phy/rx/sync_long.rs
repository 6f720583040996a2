//! Symbol timing and fine carrier frequency offset from the long training field,
//! IEEE 802.11-2016 17.3.3 (Equation 17-8) and 17.3.12.
//!
//! After the STF detector fires, the samples where the first long training symbol can
//! start are derotated by the coarse offset and cross-correlated with the known 64-sample
//! symbol. The start `q` maximizing `|X(q)|^2 + |X(q + 64)|^2` (both repetitions) is the
//! timing; the phase of `sum z[q + n] z*[q + 64 + n]` over the two repetitions gives the
//! residual offset, unambiguous within +-156 kHz.

use super::sync_short::Detection;
use crate::phy::preamble::long_training_symbol;
use crate::phy::subcarriers::FFT_LEN;
use num_complex::{Complex, Complex32};

/// Earliest start of the first long training symbol after the trigger. The symbol begins
/// 192 samples into the frame; the plateau is confirmed at most 117 samples after the
/// frame start (when the window leaves the STF), so the symbol starts at least 75
/// samples after the trigger; 11 samples of margin.
pub const SEARCH_FIRST: u64 = 64;
/// Latest start of the first long training symbol after the trigger: the plateau can be
/// confirmed 16 samples before the frame starts at the earliest (the window reaching into
/// the STF over silence), so 208; 22 samples of margin.
pub const SEARCH_LAST: u64 = 230;
/// Minimum normalized LTF correlation (0..1) accepted as a long training field.
const MIN_CORRELATION: f32 = 0.2;

/// Timing and total CFO of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongSync {
    /// Absolute index of the first sample of the first long training symbol.
    pub ltf_start: u64,
    /// Coarse plus fine carrier frequency offset, radians per sample.
    pub cfo_rad_per_sample: f64,
}

/// Cross-correlator with its scratch buffers.
#[derive(Debug, Clone)]
pub struct LongSynchronizer {
    lts_conj: [Complex32; FFT_LEN],
    lts_energy: f32,
    region: Vec<Complex32>,
    xcorr: Vec<Complex32>,
}

impl Default for LongSynchronizer {
    fn default() -> Self {
        Self::new()
    }
}

impl LongSynchronizer {
    pub fn new() -> Self {
        let lts = long_training_symbol();
        let lts_energy = lts.iter().map(|s| s.norm_sqr()).sum();
        Self {
            lts_conj: lts.map(|s| s.conj()),
            lts_energy,
            region: Vec::new(),
            xcorr: Vec::new(),
        }
    }

    /// Absolute index one past the last sample [`Self::synchronize`] reads for `det`.
    pub fn samples_needed(det: &Detection) -> u64 {
        det.trigger + SEARCH_LAST + 2 * FFT_LEN as u64
    }

    /// Finds the long training field after `det`. `buf` starts at absolute index
    /// `buf_start` and must cover `det.trigger + SEARCH_FIRST ..`
    /// [`Self::samples_needed`]. Returns `None` when nothing LTF-like is there.
    ///
    /// # Panics
    /// If `buf` does not cover that range.
    pub fn synchronize(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        det: &Detection,
    ) -> Option<LongSync> {
        let first = det.trigger + SEARCH_FIRST;
        let end = Self::samples_needed(det);
        assert!(
            buf_start <= first && end <= buf_start + buf.len() as u64,
            "LTF search needs samples {first}..{end}, buffer holds {buf_start}..{}",
            buf_start + buf.len() as u64
        );
        let x = &buf[(first - buf_start) as usize..(end - buf_start) as usize];
        let w = det.cfo_rad_per_sample as f64;
        self.region.clear();
        self.region.extend(x.iter().enumerate().map(|(n, &s)| {
            let (sn, cs) = (-w * n as f64).sin_cos();
            s * Complex32::new(cs as f32, sn as f32)
        }));
        let n_pos = x.len() - FFT_LEN + 1;
        self.xcorr.clear();
        self.xcorr.extend((0..n_pos).map(|q| {
            let win = &self.region[q..q + FFT_LEN];
            win.iter()
                .zip(&self.lts_conj)
                .fold(Complex32::new(0.0, 0.0), |a, (s, l)| a + s * l)
        }));
        let n_cand = n_pos - FFT_LEN;
        let metric = |q: usize| self.xcorr[q].norm_sqr() + self.xcorr[q + FFT_LEN].norm_sqr();
        let mut best = 0;
        let mut best_metric = metric(0);
        for q in 1..n_cand {
            let m = metric(q);
            if m > best_metric {
                best = q;
                best_metric = m;
            }
        }
        let two = &self.region[best..best + 2 * FFT_LEN];
        let energy: f32 = two.iter().map(|s| s.norm_sqr()).sum();
        let normalized = best_metric / (self.lts_energy * energy);
        if !(normalized >= MIN_CORRELATION) {
            return None;
        }
        let mut acc = Complex::<f64>::new(0.0, 0.0);
        for n in 0..FFT_LEN {
            let p = two[n] * two[n + FFT_LEN].conj();
            acc += Complex::new(p.re as f64, p.im as f64);
        }
        let fine = -acc.arg() / FFT_LEN as f64;
        Some(LongSync {
            ltf_start: first + best as u64,
            cfo_rad_per_sample: w + fine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::preamble::{long_training_field, short_training_field};
    use crate::phy::rx::sync_short::ShortPreambleDetector;
    use crate::phy::rx::test_support::awgn;
    use crate::phy::subcarriers::SAMPLE_RATE_HZ;

    #[test]
    fn finds_ltf_timing_and_cfo() {
        // Shared STF + LTF after 300 samples of noise at 15 dB, with offsets up to and
        // beyond +-100 kHz: timing exact, CFO within 5 kHz (the
        // fine estimate's spread is about 1 kHz there; pilots track what is left).
        for (i, cfo_hz) in [-200e3, -100e3, -3e3, 0.0, 60e3, 100e3, 200e3]
            .iter()
            .enumerate()
        {
            let lead = 300;
            let mut sig = vec![Complex32::new(0.0, 0.0); lead];
            sig.extend(short_training_field());
            sig.extend(long_training_field());
            sig.extend(vec![Complex32::new(0.0, 0.0); 300]);
            let w = 2.0 * std::f64::consts::PI * cfo_hz / SAMPLE_RATE_HZ;
            for (n, s) in sig.iter_mut().enumerate() {
                *s *= Complex32::from_polar(1.0, (w * n as f64) as f32);
            }
            awgn(&mut sig, 0.03, 40 + i as u64);
            let det = ShortPreambleDetector::new(0.3, 32, 0)
                .scan(&sig, 0)
                .expect("STF");
            let ls = LongSynchronizer::new()
                .synchronize(&sig, 0, &det)
                .expect("LTF");
            assert_eq!(ls.ltf_start, lead as u64 + 192, "cfo {cfo_hz}: LTF timing");
            let est_hz = ls.cfo_rad_per_sample * SAMPLE_RATE_HZ / (2.0 * std::f64::consts::PI);
            assert!(
                (est_hz - cfo_hz).abs() < 5e3,
                "cfo {cfo_hz}: estimated {est_hz}"
            );
        }
    }

    #[test]
    fn rejects_a_periodic_signal_without_ltf() {
        // An STF followed by silence triggers the detector but has no LTF.
        let mut sig = vec![Complex32::new(0.0, 0.0); 100];
        sig.extend(short_training_field());
        sig.extend(vec![Complex32::new(0.0, 0.0); 600]);
        awgn(&mut sig, 0.01, 3);
        let det = ShortPreambleDetector::new(0.3, 32, 0)
            .scan(&sig, 0)
            .expect("STF");
        assert_eq!(LongSynchronizer::new().synchronize(&sig, 0, &det), None);
    }
}
