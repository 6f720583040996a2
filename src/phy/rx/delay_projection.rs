//! Delay-limited least-squares smoothing of a per-subcarrier channel estimate.
//!
//! The channel seen through the FFT window is `H_k = sum_d h_d exp(-j 2 pi k d / 64)`.
//! When the impulse response `h_d` lies within a window of `L` consecutive delays
//! `d0 ..= d0 + L - 1`, the 52 values `H_k` on the used subcarriers lie in the
//! `L`-dimensional column space of the partial DFT matrix `F` (52 x L,
//! `F[k, d] = exp(-j 2 pi k d / 64)`). The least-squares channel inside that space is the
//! orthogonal projection `H_hat = P H_ls`, `P = F (F^H F)^-1 F^H`.
//!
//! Because `P` is an orthogonal projection it leaves every channel in the window
//! unchanged (no bias for any multipath profile shorter than the window) and keeps the
//! part of white estimation noise that falls into an `L`-dimensional subspace: the
//! per-subcarrier error variance is multiplied by the leverage `P_kk`, whose mean over
//! the 52 subcarriers is exactly `L / 52`. The leverage is not uniform: the eleven
//! unused edge bins and DC make `F^H F` ill conditioned (for the receiver's 21-tap
//! window its smallest eigenvalue is about 0.0065 against at most 64, a condition
//! number near 1e4: some tap combinations put almost all their energy into the unused
//! bins), so the outermost subcarriers keep more of their noise than the centre ones
//! (`P_kk` is 0.96 at +-26, 0.65 at +-25, around 0.4 elsewhere). That never exceeds
//! the raw estimate's noise (`P_kk <= 1`): there is no noise amplification, so no
//! regularization is applied (it would bias the edges instead). `P` is computed by
//! orthonormalizing the columns of `F` in double precision, so the ill-conditioned
//! Gram matrix is never inverted.
//!
//! Limits: a channel longer than the window, or a fractional timing offset (whose
//! impulse response is a slowly decaying periodic sinc), is biased by the part of it
//! outside the window's span.

use crate::phy::subcarriers::{FFT_LEN, N_USED};
use num_complex::{Complex32, Complex64};

/// The 52 used subcarriers `-26..=-1, 1..=26`, in the order of the projection's rows.
pub const USED_SUBCARRIERS: [i32; N_USED] = used_subcarriers();

const fn used_subcarriers() -> [i32; N_USED] {
    let mut out = [0i32; N_USED];
    let mut i = 0;
    let mut k = -26;
    while k <= 26 {
        if k != 0 {
            out[i] = k;
            i += 1;
        }
        k += 1;
    }
    out
}

/// The projection `P` onto channels with impulse response in a window of delays.
#[derive(Clone, PartialEq)]
pub struct DelayProjection {
    /// First delay of the window, in samples relative to the FFT window start (negative
    /// delays wrap around the 64-sample period).
    first_delay: i32,
    /// Window length `L` in samples, `1 ..= 52`; 52 or more leaves the estimate as is.
    n_taps: usize,
    /// `P`, row-major, `N_USED x N_USED`, rows and columns in [`USED_SUBCARRIERS`] order.
    p: Vec<Complex32>,
}

impl std::fmt::Debug for DelayProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayProjection")
            .field("first_delay", &self.first_delay)
            .field("n_taps", &self.n_taps)
            .finish()
    }
}

impl DelayProjection {
    /// Projection onto impulse responses at delays `first_delay ..= first_delay + n_taps
    /// - 1` samples. `n_taps` is clamped to `1 ..= 52`: with 52 taps the columns of `F`
    /// span all of `C^52` and `P` is the identity (the raw estimate).
    pub fn new(first_delay: i32, n_taps: usize) -> Self {
        let n_taps = n_taps.clamp(1, N_USED);
        // Columns of F, then modified Gram-Schmidt with a second pass to keep the basis
        // orthonormal to double precision despite the near-dependent columns.
        let mut q: Vec<[Complex64; N_USED]> = (0..n_taps)
            .map(|t| {
                let d = f64::from(first_delay) + t as f64;
                USED_SUBCARRIERS.map(|k| {
                    let phase = -std::f64::consts::TAU * f64::from(k) * d / FFT_LEN as f64;
                    Complex64::from_polar(1.0, phase)
                })
            })
            .collect();
        let mut basis: Vec<[Complex64; N_USED]> = Vec::with_capacity(n_taps);
        for mut v in q.drain(..) {
            for _pass in 0..2 {
                for b in &basis {
                    let c: Complex64 = b.iter().zip(&v).map(|(bi, vi)| bi.conj() * vi).sum();
                    for (vi, bi) in v.iter_mut().zip(b) {
                        *vi -= c * bi;
                    }
                }
            }
            let norm = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
            // The columns are linearly independent for n_taps <= 52 (distinct delays
            // modulo 64 give a Vandermonde system on 52 distinct roots of unity).
            for vi in v.iter_mut() {
                *vi /= norm;
            }
            basis.push(v);
        }
        let mut p = vec![Complex32::new(0.0, 0.0); N_USED * N_USED];
        for (r, row) in p.chunks_exact_mut(N_USED).enumerate() {
            for (c, out) in row.iter_mut().enumerate() {
                let s: Complex64 = basis.iter().map(|b| b[r] * b[c].conj()).sum();
                *out = Complex32::new(s.re as f32, s.im as f32);
            }
        }
        Self {
            first_delay,
            n_taps,
            p,
        }
    }

    /// Window length `L` in samples.
    pub fn n_taps(&self) -> usize {
        self.n_taps
    }

    /// First delay of the window relative to the FFT window start, samples.
    pub fn first_delay(&self) -> i32 {
        self.first_delay
    }

    /// `out = P h`: both 52 values in [`USED_SUBCARRIERS`] order.
    pub fn apply(&self, h: &[Complex32; N_USED], out: &mut [Complex32; N_USED]) {
        for (o, row) in out.iter_mut().zip(self.p.chunks_exact(N_USED)) {
            *o = row
                .iter()
                .zip(h)
                .fold(Complex32::new(0.0, 0.0), |acc, (&a, &b)| acc + a * b);
        }
    }

    /// Leverage `P_kk` of each used subcarriers ([`USED_SUBCARRIERS`] order): the factor
    /// by which the projection scales white estimation noise on that subcarrier. Their
    /// mean is `L / 52`.
    pub fn leverage(&self) -> [f32; N_USED] {
        std::array::from_fn(|i| self.p[i * N_USED + i].re)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rx::test_support::awgn;

    /// `H_k` of impulse response `taps` starting at delay `first_delay`, in
    /// [`USED_SUBCARRIERS`] order (direct DFT, the oracle).
    fn frequency_response(taps: &[Complex32], first_delay: i32) -> [Complex32; N_USED] {
        USED_SUBCARRIERS.map(|k| {
            taps.iter()
                .enumerate()
                .fold(Complex32::new(0.0, 0.0), |acc, (t, &h)| {
                    let d = first_delay as f32 + t as f32;
                    let ph = -std::f32::consts::TAU * k as f32 * d / FFT_LEN as f32;
                    acc + h * Complex32::from_polar(1.0, ph)
                })
        })
    }

    fn seeded_taps(n: usize, seed: u64) -> Vec<Complex32> {
        let mut taps = vec![Complex32::new(0.0, 0.0); n];
        awgn(&mut taps, 1.0 / n as f32, seed);
        taps
    }

    #[test]
    fn channels_inside_the_window_are_unchanged() {
        // P must be the identity on its own column space: any impulse response with
        // taps inside the window comes back exactly (a wrong delay sign or a broken
        // orthonormalization would change it).
        let proj = DelayProjection::new(-2, 21);
        for seed in 0..5 {
            let h = frequency_response(&seeded_taps(21, seed), -2);
            let mut out = [Complex32::new(0.0, 0.0); N_USED];
            proj.apply(&h, &mut out);
            for (i, (a, b)) in out.iter().zip(&h).enumerate() {
                assert!(
                    (a - b).norm() < 1e-4,
                    "seed {seed}, k {}: {a} vs {b}",
                    USED_SUBCARRIERS[i]
                );
            }
        }
    }

    #[test]
    fn is_a_projection_with_trace_l_and_bounded_leverage() {
        // Orthogonal projection: P = P^H, trace L (mean leverage L/52), 0 <= P_kk <= 1,
        // so no subcarrier (band edges included) gets more noise than the raw estimate.
        for (d0, l) in [(-2, 21), (-3, 16), (0, 8), (-2, 40)] {
            let proj = DelayProjection::new(d0, l);
            let lev = proj.leverage();
            let trace: f32 = lev.iter().sum();
            assert!((trace - l as f32).abs() < 1e-3, "trace {trace} vs {l}");
            assert!(
                lev.iter().all(|&v| (-1e-5..=1.0 + 1e-5).contains(&v)),
                "leverage out of [0, 1]: {lev:?}"
            );
            for r in 0..N_USED {
                for c in 0..N_USED {
                    let (a, b) = (proj.p[r * N_USED + c], proj.p[c * N_USED + r]);
                    assert!(
                        (a - b.conj()).norm() < 1e-5,
                        "P not Hermitian at ({r}, {c})"
                    );
                }
            }
        }
        let full = DelayProjection::new(-2, 60);
        assert_eq!(full.n_taps(), N_USED, "window clamped to 52 taps");
        for (i, v) in full.leverage().iter().enumerate() {
            assert!(
                (v - 1.0).abs() < 1e-4,
                "52 taps must be the identity, P_kk {v} at {i}"
            );
        }
    }

    #[test]
    fn estimation_noise_shrinks_by_l_over_52() {
        // White noise of variance s on each subcarrier keeps variance s * L / 52 on
        // average after the projection; 400 draws of 52 values give the empirical
        // variance to about 1.5 % (chi-square with 2 * 400 * 21 degrees of freedom).
        let (d0, l) = (-2, 21);
        let proj = DelayProjection::new(d0, l);
        let s = 0.05f32;
        let (mut err, mut n) = (0.0f64, 0usize);
        let h = frequency_response(&seeded_taps(3, 99), 0);
        for seed in 0..400 {
            let mut noisy = h;
            awgn(&mut noisy, s, 1000 + seed);
            let mut out = [Complex32::new(0.0, 0.0); N_USED];
            proj.apply(&noisy, &mut out);
            err += out
                .iter()
                .zip(&h)
                .map(|(a, b)| f64::from((a - b).norm_sqr()))
                .sum::<f64>();
            n += N_USED;
        }
        let var = err / n as f64;
        let want = f64::from(s) * l as f64 / N_USED as f64;
        assert!(
            (var / want - 1.0).abs() < 0.15,
            "error variance {var} vs L/52 s = {want}"
        );
    }

    #[test]
    fn three_tap_multipath_is_unbiased() {
        // A fixed three-tap channel with additive noise: the mean of the projected
        // estimates over many draws converges to the true H_k (bias far below the
        // per-draw error), including the band-edge subcarriers.
        let taps = [
            Complex32::new(0.9, 0.0),
            Complex32::new(0.0, 0.4),
            Complex32::new(0.2, -0.1),
        ];
        // Taps at delays 2, 3, 4 of the FFT window (a backoff of 2 samples).
        let h = frequency_response(&taps, 2);
        let proj = DelayProjection::new(-2, 21);
        let draws = 400;
        let mut mean = [Complex32::new(0.0, 0.0); N_USED];
        for seed in 0..draws {
            let mut noisy = h;
            awgn(&mut noisy, 0.1, 5000 + seed);
            let mut out = [Complex32::new(0.0, 0.0); N_USED];
            proj.apply(&noisy, &mut out);
            for (m, o) in mean.iter_mut().zip(&out) {
                *m += o / draws as f32;
            }
        }
        // Standard deviation of the mean: sqrt(0.1 * P_kk / 400) <= 0.016.
        for (i, (m, t)) in mean.iter().zip(&h).enumerate() {
            assert!(
                (m - t).norm() < 0.05,
                "k {}: mean {m} vs {t}",
                USED_SUBCARRIERS[i]
            );
        }
    }

    #[test]
    fn half_sample_timing_offset_bias_is_negligible() {
        // A fractional delay has an infinitely long (periodic sinc) impulse response,
        // outside any window; the freedom of the twelve unused bins lets the projection
        // still fit it on the used band to far below any SNR the receiver meets
        // (computed: about -59 dB for a 21-tap window).
        let proj = DelayProjection::new(-2, 21);
        for tau in [0.25f32, 0.5] {
            let h = USED_SUBCARRIERS.map(|k| {
                Complex32::from_polar(1.0, -std::f32::consts::TAU * k as f32 * (2.0 + tau) / 64.0)
            });
            let mut out = [Complex32::new(0.0, 0.0); N_USED];
            proj.apply(&h, &mut out);
            let bias: f32 = out
                .iter()
                .zip(&h)
                .map(|(a, b)| (a - b).norm_sqr())
                .sum::<f32>()
                / N_USED as f32;
            assert!(bias < 1e-5, "delay {tau}: bias {} dB", 10.0 * bias.log10());
        }
    }
}
