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
    /// Real and imaginary parts of the conjugated long training symbol.
    lts_re: [f32; FFT_LEN],
    lts_im: [f32; FFT_LEN],
    lts_energy: f32,
    region: Vec<Complex32>,
    region_re: Vec<f32>,
    region_im: Vec<f32>,
    xcorr: Vec<Complex32>,
}

/// Lanes of the partial sums in [`correlate`], so the compiler can vectorize it.
const LANES: usize = 8;

/// `out[q] = correlate(x[q..q + 64], l)` for every `q < out.len()`, with the widest
/// vector unit the CPU offers (AVX2 and FMA detected at run time).
fn correlate_all(
    xr: &[f32],
    xi: &[f32],
    lr: &[f32; FFT_LEN],
    li: &[f32; FFT_LEN],
    out: &mut [Complex32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { correlate_all_avx2(xr, xi, lr, li, out) };
            return;
        }
    }
    correlate_all_generic(xr, xi, lr, li, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn correlate_all_avx2(
    xr: &[f32],
    xi: &[f32],
    lr: &[f32; FFT_LEN],
    li: &[f32; FFT_LEN],
    out: &mut [Complex32],
) {
    correlate_all_generic(xr, xi, lr, li, out);
}

#[inline(always)]
fn correlate_all_generic(
    xr: &[f32],
    xi: &[f32],
    lr: &[f32; FFT_LEN],
    li: &[f32; FFT_LEN],
    out: &mut [Complex32],
) {
    for (q, o) in out.iter_mut().enumerate() {
        *o = correlate(&xr[q..q + FFT_LEN], &xi[q..q + FFT_LEN], lr, li);
    }
}

/// `sum_n (xr[n] + j xi[n]) (lr[n] + j li[n])` over 64 samples.
#[inline(always)]
fn correlate(xr: &[f32], xi: &[f32], lr: &[f32; FFT_LEN], li: &[f32; FFT_LEN]) -> Complex32 {
    let mut acc_re = [0.0f32; LANES];
    let mut acc_im = [0.0f32; LANES];
    for c in 0..FFT_LEN / LANES {
        let r = c * LANES..(c + 1) * LANES;
        let (xr, xi, lr, li) = (&xr[r.clone()], &xi[r.clone()], &lr[r.clone()], &li[r]);
        for l in 0..LANES {
            acc_re[l] += xr[l] * lr[l] - xi[l] * li[l];
            acc_im[l] += xr[l] * li[l] + xi[l] * lr[l];
        }
    }
    Complex32::new(acc_re.iter().sum(), acc_im.iter().sum())
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
            lts_re: lts.map(|s| s.re),
            lts_im: lts.map(|s| -s.im),
            lts_energy,
            region: Vec::new(),
            region_re: Vec::new(),
            region_im: Vec::new(),
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
        // Derotate with a phasor recurrence in f64 (no drift over a few hundred samples).
        let (sn, cs) = (-w).sin_cos();
        let step = Complex::new(cs, sn);
        let mut phasor = Complex::<f64>::new(1.0, 0.0);
        self.region.clear();
        for &s in x {
            self.region
                .push(s * Complex32::new(phasor.re as f32, phasor.im as f32));
            phasor *= step;
        }
        self.region_re.clear();
        self.region_re.extend(self.region.iter().map(|s| s.re));
        self.region_im.clear();
        self.region_im.extend(self.region.iter().map(|s| s.im));
        let n_pos = x.len() - FFT_LEN + 1;
        self.xcorr.clear();
        self.xcorr.resize(n_pos, Complex32::new(0.0, 0.0));
        correlate_all(
            &self.region_re,
            &self.region_im,
            &self.lts_re,
            &self.lts_im,
            &mut self.xcorr,
        );
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
        if normalized.is_nan() || normalized < MIN_CORRELATION {
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
