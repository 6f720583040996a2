//! Common phase tracking over a whole semantic payload, from the pilots of IEEE
//! 802.11-2016 17.3.5.10, without decisions on the data.
//!
//! Each OFDM symbol's pilot correlation (see
//! [`Equalizer::pilot_correlation`](super::equalizer::Equalizer::pilot_correlation))
//! measures its residual common phase with noise of variance `s` (rad^2). Summing the
//! correlations of `M` symbols either side divides that noise by `2M + 1`; the symmetric
//! window is unbiased for a linear phase drift (a residual carrier offset), but averages
//! over a random-walk phase (oscillator phase noise with increments of variance `q` per
//! symbol) at a cost of `q M (M + 1) / (3 (2M + 1))`. The half-width is chosen per frame
//! to minimize the sum, with `q` estimated from the spread of the per-symbol phase
//! increments: `var(delta phi) = q + 2 s`.
//!
//! Limits: the phase is tracked as a common rotation only; a sampling-clock drift (a
//! phase slope across subcarriers) is not followed.

use super::equalizer::Equalizer;
use crate::phy::subcarriers::N_DATA;
use num_complex::Complex32;

/// Expected squared phase error (rad^2) of a window of `m` symbols either side, for
/// measurement noise `s` and random-walk increment variance `q` per symbol.
fn window_error_var(m: usize, s: f32, q: f32) -> f32 {
    let m = m as f32;
    (s + q * m * (m + 1.0) / 3.0) / (2.0 * m + 1.0)
}

/// Half-width (symbols either side, at most `max_half_width`) minimizing the expected
/// phase error for per-symbol pilot correlations `pilots` with phase noise variance
/// `pilot_phase_noise_var` each.
pub fn choose_half_width(
    pilots: &[Complex32],
    pilot_phase_noise_var: f32,
    max_half_width: usize,
) -> usize {
    if pilots.len() < 3 || max_half_width == 0 {
        return 0;
    }
    if !pilot_phase_noise_var.is_finite() {
        return max_half_width;
    }
    // Phase increments between neighbouring symbols; their mean is the residual
    // carrier offset, their variance q + 2 s.
    let deltas: Vec<f32> = pilots
        .windows(2)
        .map(|w| (w[1] * w[0].conj()).arg())
        .collect();
    let n = deltas.len() as f32;
    let mean = deltas.iter().sum::<f32>() / n;
    let var = deltas.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / (n - 1.0);
    let q = (var - 2.0 * pilot_phase_noise_var).max(0.0);
    (0..=max_half_width)
        .min_by(|&a, &b| {
            window_error_var(a, pilot_phase_noise_var, q).total_cmp(&window_error_var(
                b,
                pilot_phase_noise_var,
                q,
            ))
        })
        .unwrap_or(0)
}

/// Rotates each OFDM symbol's 48 equalized values in `symbols` (`48 * pilots.len()`
/// values, data-subcarrier order, not yet phase corrected) by the common phase of its
/// pilot correlation summed over `half_width` symbols either side. The window shrinks
/// symmetrically at the first and last symbols, so a linear drift stays unbiased there.
///
/// # Panics
/// If `symbols.len() != 48 * pilots.len()`.
pub fn remove_common_phase(symbols: &mut [Complex32], pilots: &[Complex32], half_width: usize) {
    assert_eq!(
        symbols.len(),
        N_DATA * pilots.len(),
        "expected 48 values per pilot correlation, got {} for {}",
        symbols.len(),
        pilots.len()
    );
    let n = pilots.len();
    for (j, chunk) in symbols.chunks_exact_mut(N_DATA).enumerate() {
        let m = half_width.min(j).min(n - 1 - j);
        let acc: Complex32 = pilots[j - m..=j + m].iter().sum();
        let correction = Equalizer::phase_correction(acc);
        for s in chunk {
            *s *= correction;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rx::test_support::awgn;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    /// `n` symbols whose true common phase is `phase[j]`: unit data values and pilot
    /// correlations of amplitude 4 with complex noise giving phase variance `s`.
    /// Returns (symbols, pilots, phase).
    fn frame(
        n: usize,
        s: f32,
        q: f32,
        drift: f32,
        seed: u64,
    ) -> (Vec<Complex32>, Vec<Complex32>, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let walk = Normal::new(0.0f32, q.sqrt()).unwrap();
        let mut phase = Vec::with_capacity(n);
        let mut phi = 0.3f32;
        for _ in 0..n {
            phase.push(phi);
            phi += drift + walk.sample(&mut rng);
        }
        let mut pilots: Vec<Complex32> = phase
            .iter()
            .map(|&p| Complex32::from_polar(4.0, p))
            .collect();
        // Phase variance of A e^{j p} + noise(v) is v / (2 A^2).
        awgn(&mut pilots, s * 2.0 * 16.0, seed + 1);
        let symbols = phase
            .iter()
            .flat_map(|&p| std::iter::repeat_n(Complex32::from_polar(1.0, p), N_DATA))
            .collect();
        (symbols, pilots, phase)
    }

    /// Mean squared residual phase after tracking with `half_width`.
    fn residual(symbols: &[Complex32], pilots: &[Complex32], half_width: usize) -> f32 {
        let mut out = symbols.to_vec();
        remove_common_phase(&mut out, pilots, half_width);
        out.iter().map(|z| z.arg().powi(2)).sum::<f32>() / out.len() as f32
    }

    #[test]
    fn averaging_divides_the_noise_and_follows_a_carrier_drift() {
        // No phase noise, a drift of 0.05 rad per symbol (a residual offset of about
        // 2 kHz). The sampling spread of the estimated q (about 0.2 s for 400 symbols)
        // may stop the choice short of the widest window, but at least 2 symbols either
        // side must be averaged, leaving at most s / 4 (s / 5 expected) instead of the
        // per-symbol s; a biased window would leave the drift's 0.05 rad (2.5e-3 rad^2,
        // a quarter of s) at the edges and in every symbol.
        let s = 0.01f32;
        let (symbols, pilots, _) = frame(400, s, 0.0, 0.05, 3);
        let m = choose_half_width(&pilots, s, 4);
        assert!(m >= 2, "half-width {m} without phase noise");
        let per_symbol = residual(&symbols, &pilots, 0);
        let smoothed = residual(&symbols, &pilots, m);
        assert!(
            (per_symbol / s - 1.0).abs() < 0.2,
            "per-symbol residual {per_symbol} vs {s}"
        );
        assert!(
            smoothed < s / 4.0,
            "smoothed residual {smoothed} vs s / 5 = {}",
            s / 5.0
        );
        let widest = residual(&symbols, &pilots, 4);
        assert!(
            (widest / (s / 9.0) - 1.0).abs() < 0.3,
            "4 symbols either side: residual {widest} vs s / 9 = {}",
            s / 9.0
        );
    }

    #[test]
    fn phase_noise_narrows_the_window() {
        // Random-walk phase noise of q = 4 s per symbol: any averaging costs more than
        // it saves (expected error s for the symbol alone, 1.22 s for one either side),
        // so half-width 0 must be chosen. With q = s, one symbol either side is best
        // (0.56 s against 0.6 s for two and s for none): 1 or 2 must be chosen and beat
        // the per-symbol estimate.
        let s = 0.002f32;
        let (symbols, pilots, _) = frame(400, s, 4.0 * s, 0.01, 5);
        assert_eq!(choose_half_width(&pilots, s, 4), 0, "q = 4 s");
        assert!(residual(&symbols, &pilots, 0) < residual(&symbols, &pilots, 2));
        let (symbols, pilots, _) = frame(400, s, s, 0.0, 6);
        let m = choose_half_width(&pilots, s, 4);
        assert!((1..=2).contains(&m), "half-width {m} for q = s");
        assert!(residual(&symbols, &pilots, m) < 0.8 * residual(&symbols, &pilots, 0));
    }
}
