//! Max-log soft demapper for the Gray-coded constellations of IEEE 802.11-2016
//! 17.3.5.8 (Tables 17-7 to 17-10).
//!
//! Each axis of a square QAM constellation carries half the bits of a point, so the
//! log-likelihood ratio of every bit is a piecewise-linear function of one coordinate.
//! With `u` the coordinate in units of the constellation grid (points at odd integers),
//! the max-log ratio `min_{b=0} |u - s|^2 - min_{b=1} |u - s|^2` is, per bit of an axis:
//!
//! - BPSK, QPSK: `4u`.
//! - 16-QAM: first bit `4u` for `|u| <= 2`, else `8(u - sign(u))`; second bit `4(2 - |u|)`.
//! - 64-QAM: first bit `4u`, `8(u - sign u)`, `12(u - 2 sign u)`, `16(u - 3 sign u)` on
//!   `|u|` in [0, 2], [2, 4], [4, 6], beyond; second bit `24 - 8|u|`, `16 - 4|u|`,
//!   `40 - 8|u|` on [0, 2], [2, 6], beyond; third bit `4|u| - 8` for `|u| <= 4`, else
//!   `24 - 4|u|`.
//!
//! The caller supplies one weight per subcarrier that turns these distances into scaled
//! LLRs: `K_MOD^2 |H_k|^2 / noise_var` times a quantization scale. Outputs are `i8` soft
//! values, positive favouring a 1, clamped to +-127, as the Viterbi decoder takes them.

use crate::phy::constellation::k_mod;
use crate::phy::rate::Modulation;
use crate::phy::subcarriers::N_DATA;
use num_complex::Complex32;

#[inline(always)]
fn quantize(x: f32) -> i8 {
    // A NaN survives the clamp and the saturating cast turns it into 0 (an erasure).
    x.clamp(-127.0, 127.0) as i8
}

/// Adding then subtracting 1.5 * 2^23 rounds an `f32` below 2^22 in magnitude to the
/// nearest integer with plain arithmetic (vectorizable, no libm call).
const ROUNDING_MAGIC: f32 = 12_582_912.0;

/// Summed squared distance of the 48 `points` to their nearest constellation points of
/// `m` (unit average power): the numerator of a decision-directed EVM.
pub fn squared_error_sum(points: &[Complex32; N_DATA], m: Modulation) -> f32 {
    let k = k_mod(m);
    let max_level = match m {
        Modulation::Bpsk => 1.0,
        Modulation::Qpsk => 1.0,
        Modulation::Qam16 => 3.0,
        Modulation::Qam64 => 7.0,
    };
    let inv_k = 1.0 / k;
    let mut acc = [0.0f32; 8];
    for chunk in points.chunks_exact(8) {
        for (l, p) in chunk.iter().enumerate() {
            // Nearest odd level: 2 * round((u - 1) / 2) + 1, clamped.
            let level = |x: f32| {
                let t = (x * inv_k - 1.0) * 0.5;
                let r = (t + ROUNDING_MAGIC) - ROUNDING_MAGIC;
                (2.0 * r + 1.0).max(-max_level).min(max_level) * k
            };
            let er = p.re - level(p.re);
            let ei = if m == Modulation::Bpsk {
                p.im
            } else {
                p.im - level(p.im)
            };
            acc[l] += er * er + ei * ei;
        }
    }
    acc.iter().sum()
}

// The piecewise-linear forms of the module doc, written with `max` so that they have
// no branches and vectorize.

#[inline(always)]
fn qam16_axis(u: f32) -> [f32; 2] {
    let a = u.abs();
    let b0 = 4.0 * u + (4.0 * (a - 2.0).max(0.0)).copysign(u);
    [b0, 4.0 * (2.0 - a)]
}

#[inline(always)]
fn qam64_axis(u: f32) -> [f32; 3] {
    let a = u.abs();
    let (over2, over4, over6) = ((a - 2.0).max(0.0), (a - 4.0).max(0.0), (a - 6.0).max(0.0));
    let b0 = 4.0 * u + (4.0 * (over2 + over4 + over6)).copysign(u);
    let b1 = 24.0 - 8.0 * a + 4.0 * over2 - 4.0 * over6;
    let b2 = 4.0 * a - 8.0 - 8.0 * over4;
    [b0, b1, b2]
}

/// Demaps one OFDM symbol's equalized data subcarriers into `N_CBPS` soft bits.
///
/// `points`: 48 equalized values in data-subcarrier order, normalized like the mapper's
/// output (unit average power). `weights`: 48 LLR scales (see the module doc).
/// `out`: `48 * n_bpsc` soft values, bits of subcarrier `k` at `k * n_bpsc ..`.
///
/// # Panics
/// If `out.len() != 48 * m.n_bpsc()`.
pub fn demap_symbol(
    points: &[Complex32; N_DATA],
    weights: &[f32; N_DATA],
    m: Modulation,
    out: &mut [i8],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { demap_avx2(points, weights, m, out) };
            return;
        }
    }
    demap_generic(points, weights, m, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn demap_avx2(
    points: &[Complex32; N_DATA],
    weights: &[f32; N_DATA],
    m: Modulation,
    out: &mut [i8],
) {
    demap_generic(points, weights, m, out);
}

#[inline(always)]
fn demap_generic(
    points: &[Complex32; N_DATA],
    weights: &[f32; N_DATA],
    m: Modulation,
    out: &mut [i8],
) {
    let n_bpsc = m.n_bpsc();
    assert_eq!(
        out.len(),
        N_DATA * n_bpsc,
        "demapper output: expected {} soft bits, got {}",
        N_DATA * n_bpsc,
        out.len()
    );
    let grid = 1.0 / k_mod(m);
    match m {
        Modulation::Bpsk => {
            for ((p, w), o) in points.iter().zip(weights).zip(out.iter_mut()) {
                *o = quantize(4.0 * p.re * w);
            }
        }
        Modulation::Qpsk => {
            for ((p, w), o) in points.iter().zip(weights).zip(out.chunks_exact_mut(2)) {
                o[0] = quantize(4.0 * p.re * grid * w);
                o[1] = quantize(4.0 * p.im * grid * w);
            }
        }
        Modulation::Qam16 => {
            for ((p, w), o) in points.iter().zip(weights).zip(out.chunks_exact_mut(4)) {
                let i = qam16_axis(p.re * grid);
                let q = qam16_axis(p.im * grid);
                o[0] = quantize(i[0] * w);
                o[1] = quantize(i[1] * w);
                o[2] = quantize(q[0] * w);
                o[3] = quantize(q[1] * w);
            }
        }
        Modulation::Qam64 => {
            for ((p, w), o) in points.iter().zip(weights).zip(out.chunks_exact_mut(6)) {
                let i = qam64_axis(p.re * grid);
                let q = qam64_axis(p.im * grid);
                for j in 0..3 {
                    o[j] = quantize(i[j] * w);
                    o[3 + j] = quantize(q[j] * w);
                }
            }
        }
    }
}

/// Nearest constellation point of `m` to `y` (unit average power), for decision-directed
/// error measurements.
#[inline]
pub fn nearest_point(y: Complex32, m: Modulation) -> Complex32 {
    let k = k_mod(m);
    let max_level: i32 = match m {
        Modulation::Bpsk => return Complex32::new(if y.re >= 0.0 { 1.0 } else { -1.0 }, 0.0),
        Modulation::Qpsk => 1,
        Modulation::Qam16 => 3,
        Modulation::Qam64 => 7,
    };
    // Odd level nearest to the coordinate: shift to 0..16, take the even grid cell by
    // truncation (no libm rounding call), clamp to the outermost level.
    let level = |x: f32| {
        let cell = ((x / k + 8.0).clamp(0.0, 15.99) * 0.5) as i32;
        (2 * cell - 7).clamp(-max_level, max_level) as f32
    };
    Complex32::new(level(y.re) * k, level(y.im) * k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gray-coded levels of one axis, Tables 17-9 and 17-10: (bits b0.., level).
    fn axis_table(m: Modulation) -> Vec<(Vec<u8>, f32)> {
        match m {
            Modulation::Bpsk | Modulation::Qpsk => vec![(vec![0], -1.0), (vec![1], 1.0)],
            Modulation::Qam16 => vec![
                (vec![0, 0], -3.0),
                (vec![0, 1], -1.0),
                (vec![1, 1], 1.0),
                (vec![1, 0], 3.0),
            ],
            Modulation::Qam64 => vec![
                (vec![0, 0, 0], -7.0),
                (vec![0, 0, 1], -5.0),
                (vec![0, 1, 1], -3.0),
                (vec![0, 1, 0], -1.0),
                (vec![1, 1, 0], 1.0),
                (vec![1, 1, 1], 3.0),
                (vec![1, 0, 1], 5.0),
                (vec![1, 0, 0], 7.0),
            ],
        }
    }

    /// Every constellation point as (bits, point), from the standard's tables.
    fn constellation(m: Modulation) -> Vec<(Vec<u8>, Complex32)> {
        let axis = axis_table(m);
        let k = k_mod(m);
        if m == Modulation::Bpsk {
            return axis
                .iter()
                .map(|(b, l)| (b.clone(), Complex32::new(*l, 0.0)))
                .collect();
        }
        let mut out = Vec::new();
        for (bi, li) in &axis {
            for (bq, lq) in &axis {
                let bits = bi.iter().chain(bq).copied().collect();
                out.push((bits, Complex32::new(li * k, lq * k)));
            }
        }
        out
    }

    const MODS: [Modulation; 4] = [
        Modulation::Bpsk,
        Modulation::Qpsk,
        Modulation::Qam16,
        Modulation::Qam64,
    ];

    fn demap_one(y: Complex32, m: Modulation, weight: f32) -> Vec<i8> {
        let mut pts = [Complex32::new(0.0, 0.0); N_DATA];
        pts[0] = y;
        let w = [weight; N_DATA];
        let mut out = vec![0i8; N_DATA * m.n_bpsc()];
        demap_symbol(&pts, &w, m, &mut out);
        out[..m.n_bpsc()].to_vec()
    }

    #[test]
    fn sign_matches_bits_at_every_point() {
        for m in MODS {
            for (bits, p) in constellation(m) {
                let soft = demap_one(p, m, 1.0);
                for (j, (&b, &s)) in bits.iter().zip(&soft).enumerate() {
                    assert!(
                        s != 0 && (s > 0) == (b == 1),
                        "{m:?} point {p} bit {j}: soft {s}"
                    );
                }
            }
        }
    }

    #[test]
    fn sign_matches_the_shared_mapper() {
        // Second oracle: the transmitter's mapper, on every bit pattern of one point.
        for m in MODS {
            let n = m.n_bpsc();
            for word in 0..(1u32 << n) {
                let bits: Vec<u8> = (0..n).map(|j| ((word >> j) & 1) as u8).collect();
                let mut pts = Vec::new();
                crate::phy::constellation::map_bits(&bits, m, &mut pts);
                let soft = demap_one(pts[0], m, 1.0);
                for j in 0..n {
                    assert!(
                        (soft[j] > 0) == (bits[j] == 1),
                        "{m:?} bits {bits:?} bit {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn unit_average_power() {
        for m in MODS {
            let pts = constellation(m);
            let p = pts.iter().map(|(_, p)| p.norm_sqr()).sum::<f32>() / pts.len() as f32;
            assert!((p - 1.0).abs() < 1e-5, "{m:?}: K_MOD gives power {p}");
        }
    }

    #[test]
    fn matches_brute_force_max_log() {
        // Oracle: min distance over points with bit 0 minus over points with bit 1,
        // in grid units, on a grid of received values covering and exceeding the points.
        for m in MODS {
            let pts = constellation(m);
            let k = k_mod(m);
            for xi in -40..=40 {
                for yi in -40..=40 {
                    let y = Complex32::new(xi as f32 * 0.23 * k, yi as f32 * 0.23 * k);
                    if m == Modulation::Bpsk && yi != 0 {
                        continue;
                    }
                    let soft = demap_one(y, m, 0.5);
                    for (j, &s) in soft.iter().enumerate() {
                        let dist = |bit: u8| {
                            pts.iter()
                                .filter(|(b, _)| b[j] == bit)
                                .map(|(_, p)| (y - p).norm_sqr() / (k * k))
                                .fold(f32::INFINITY, f32::min)
                        };
                        let expected = (0.5 * (dist(0) - dist(1))).clamp(-127.0, 127.0);
                        assert!(
                            (s as f32 - expected).abs() <= 1.0,
                            "{m:?} y={y} bit {j}: got {s}, brute force {expected}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn squared_error_sum_matches_nearest_point() {
        for m in MODS {
            let mut pts = [Complex32::new(0.0, 0.0); N_DATA];
            for (i, p) in pts.iter_mut().enumerate() {
                *p = Complex32::from_polar(0.031 * i as f32, 1.3 * i as f32);
            }
            let want: f32 = pts
                .iter()
                .map(|&p| (p - nearest_point(p, m)).norm_sqr())
                .sum();
            let got = squared_error_sum(&pts, m);
            assert!(
                (got - want).abs() < 1e-4 * want.max(1.0),
                "{m:?}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn nearest_point_is_the_closest() {
        for m in MODS {
            let pts = constellation(m);
            for i in 1..200 {
                let y = Complex32::from_polar(0.013 * i as f32, 0.7 * i as f32);
                let best = pts
                    .iter()
                    .map(|(_, p)| *p)
                    .min_by(|a, b| (y - a).norm_sqr().total_cmp(&(y - b).norm_sqr()))
                    .unwrap();
                assert!((nearest_point(y, m) - best).norm() < 1e-6, "{m:?} y={y}");
            }
        }
    }
}
