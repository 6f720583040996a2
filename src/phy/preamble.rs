//! PLCP preamble: short and long training fields, IEEE 802.11-2016 17.3.3.
//!
//! Time-domain samples use the PHY-wide scale of this crate: a sample is the
//! unnormalized inverse DFT sum over the used subcarriers divided by sqrt(52)
//! (`N_USED`). With the sqrt(13/6) factor of Equation 17-6 the short training field
//! then has the same unit average power per sample as the long training field and the
//! data symbols. The samples are computed by a direct inverse DFT in `f64`, so they
//! serve as a reference independent of the FFT used by the modulator.

use super::subcarriers::{fft_bin, CP_LEN, FFT_LEN, N_USED};
use num_complex::{Complex, Complex32};

/// Samples in the short training field: ten 16-sample periods (8 us).
pub const STF_LEN: usize = 160;
/// Samples in the long training field: 32-sample guard plus two 64-sample symbols.
pub const LTF_LEN: usize = 160;
/// Period of the short training sequence, in samples.
pub const STF_PERIOD: usize = 16;
/// Guard interval of the long training field, `T_GI2`, in samples.
pub const LTF_GI_LEN: usize = 2 * CP_LEN;

/// `L_-26 .. L_26`, Equation 17-8 (index 26 is DC).
#[rustfmt::skip]
const LTF_SEQUENCE: [i8; 53] = [
    1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1,
    0,
    1, -1, -1, 1, 1, -1, 1, -1, 1, -1, -1, -1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, 1, 1,
];

/// Nonzero entries of `S_-26 .. S_26` before the sqrt(13/6) factor, Equation 17-6:
/// (subcarrier, sign of 1 + j).
const STF_NONZERO: [(i32, i8); 12] = [
    (-24, 1),
    (-20, -1),
    (-16, 1),
    (-12, -1),
    (-8, -1),
    (-4, 1),
    (4, -1),
    (8, -1),
    (12, 1),
    (16, 1),
    (20, 1),
    (24, 1),
];

/// Long training symbol value `L_k` on subcarrier `k` (0 at DC and outside -26..=26).
pub fn ltf_subcarrier(k: i32) -> f32 {
    if (-26..=26).contains(&k) {
        LTF_SEQUENCE[(k + 26) as usize] as f32
    } else {
        0.0
    }
}

/// Short training symbol value `S_k` on subcarrier `k`, including sqrt(13/6).
pub fn stf_subcarrier(k: i32) -> Complex32 {
    let scale = (13.0f32 / 6.0).sqrt();
    STF_NONZERO
        .iter()
        .find(|(sc, _)| *sc == k)
        .map(|&(_, s)| Complex32::new(s as f32, s as f32) * scale)
        .unwrap_or_default()
}

/// Frequency-domain bins (index = FFT bin) of the short training symbol.
pub fn stf_bins() -> [Complex32; FFT_LEN] {
    let mut bins = [Complex32::default(); FFT_LEN];
    for k in -26..=26 {
        bins[fft_bin(k)] = stf_subcarrier(k);
    }
    bins
}

/// Frequency-domain bins (index = FFT bin) of the long training symbol.
pub fn ltf_bins() -> [Complex32; FFT_LEN] {
    let mut bins = [Complex32::default(); FFT_LEN];
    for k in -26..=26 {
        bins[fft_bin(k)] = Complex32::new(ltf_subcarrier(k), 0.0);
    }
    bins
}

/// Direct inverse DFT of 64 bins with the crate's sample scale (1 / sqrt(52)).
///
/// Returns 64 time samples, `x[n] = sum_b X[b] exp(j 2 pi b n / 64) / sqrt(52)`.
pub fn reference_idft(bins: &[Complex32; FFT_LEN]) -> [Complex32; FFT_LEN] {
    let scale = 1.0 / (N_USED as f64).sqrt();
    let mut out = [Complex32::default(); FFT_LEN];
    for (n, o) in out.iter_mut().enumerate() {
        let mut acc = Complex::<f64>::new(0.0, 0.0);
        for (b, x) in bins.iter().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * ((b * n) % FFT_LEN) as f64 / FFT_LEN as f64;
            acc += Complex::new(x.re as f64, x.im as f64) * Complex::from_polar(1.0, phase);
        }
        acc *= scale;
        *o = Complex32::new(acc.re as f32, acc.im as f32);
    }
    out
}

/// One period (64 samples) of the long training symbol in the time domain.
pub fn long_training_symbol() -> [Complex32; FFT_LEN] {
    reference_idft(&ltf_bins())
}

/// The short training field: 160 samples, ten repetitions of a 16-sample period.
pub fn short_training_field() -> Vec<Complex32> {
    let sym = reference_idft(&stf_bins());
    (0..STF_LEN).map(|n| sym[n % FFT_LEN]).collect()
}

/// The long training field: 160 samples, the last 32 samples of the long training
/// symbol as guard interval followed by two full symbols.
pub fn long_training_field() -> Vec<Complex32> {
    let sym = long_training_symbol();
    let mut out = Vec::with_capacity(LTF_LEN);
    out.extend_from_slice(&sym[FFT_LEN - LTF_GI_LEN..]);
    out.extend_from_slice(&sym);
    out.extend_from_slice(&sym);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn power(x: &[Complex32]) -> f32 {
        x.iter().map(|c| c.norm_sqr()).sum::<f32>() / x.len() as f32
    }

    #[test]
    fn stf_is_periodic_with_period_16() {
        let stf = short_training_field();
        assert_eq!(stf.len(), STF_LEN);
        for n in STF_PERIOD..STF_LEN {
            assert!((stf[n] - stf[n - STF_PERIOD]).norm() < 1e-6, "sample {n}");
        }
        // Only every fourth subcarrier is used, so the 64-point symbol has period 16.
        assert_eq!(STF_NONZERO.iter().filter(|(k, _)| k % 4 != 0).count(), 0);
    }

    #[test]
    fn ltf_two_periods_equal_and_guard_is_the_tail() {
        let ltf = long_training_field();
        assert_eq!(ltf.len(), LTF_LEN);
        for n in 0..FFT_LEN {
            assert_eq!(
                ltf[LTF_GI_LEN + n],
                ltf[LTF_GI_LEN + FFT_LEN + n],
                "sample {n}"
            );
        }
        for n in 0..LTF_GI_LEN {
            assert_eq!(ltf[n], ltf[LTF_LEN - LTF_GI_LEN + n], "guard sample {n}");
        }
    }

    #[test]
    fn both_fields_have_unit_power() {
        // 52 unit subcarriers / sqrt(52) gives power 1; the STF's 12 subcarriers of
        // power 2 * 13/6 give 52 as well.
        assert!((power(&short_training_field()) - 1.0).abs() < 1e-4);
        assert!((power(&long_training_field()) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn ltf_has_52_unit_subcarriers_and_empty_dc() {
        let bins = ltf_bins();
        assert_eq!(bins[0], Complex32::default());
        assert_eq!(bins.iter().filter(|c| c.norm() > 0.5).count(), 52);
        assert_eq!(ltf_subcarrier(27), 0.0);
        assert_eq!(stf_bins().iter().filter(|c| c.norm() > 0.5).count(), 12);
    }

    #[test]
    fn annex_i_frequency_domain() {
        use crate::phy::annex_i as annex;
        for (i, &v) in annex::STF_FREQ.iter().enumerate() {
            let k = i as i32 - 26;
            let expected = Complex32::new(v as f32, v as f32) * annex::STF_FREQ_SCALE;
            assert!(
                (stf_subcarrier(k) - expected).norm() < 1e-3,
                "Table I-2, k = {k}"
            );
        }
        let ks = (-26..=26).filter(|&k| k != 0);
        for (k, &v) in ks.zip(annex::LTF_FREQ.iter()) {
            assert_eq!(ltf_subcarrier(k), v as f32, "Table I-5, k = {k}");
        }
    }

    #[test]
    fn annex_i_time_domain() {
        // Tables I-4 and I-6 (G.24 samples 0-319), rounded to 3 decimals, scaled by
        // sqrt(52) / 64 relative to this crate. Samples 0 and 160 are window overlaps
        // and are compared as such: half of the field starting there plus half of the
        // periodic continuation of the field before it.
        use crate::phy::annex_i as annex;
        let packet = annex::packet_time_domain();
        let scale = annex::annex_scale();
        let (stf, ltf) = (short_training_field(), long_training_field());
        let mut ours: Vec<Complex32> = stf.iter().chain(ltf.iter()).map(|&x| x * scale).collect();
        ours[0] *= 0.5;
        ours[160] = 0.5 * (ours[160] + stf[0] * scale);
        for (n, (a, b)) in ours.iter().zip(&packet[..320]).enumerate() {
            assert!(
                (a.re - b.re).abs() < 1e-3 && (a.im - b.im).abs() < 1e-3,
                "sample {n}: ours {a} versus annex {b}"
            );
        }
    }
}
