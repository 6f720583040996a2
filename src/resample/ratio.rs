//! The rational factor `L / M` between two sample rates.

use super::rational::MAX_FACTOR;

/// Why two sample rates have no usable rational ratio.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RatioError {
    #[error("sample rate {0} Hz is not a positive whole number of hertz")]
    NotWholeHz(f64),
    #[error(
        "resampling {from_hz} Hz to {to_hz} Hz needs factors {l}/{m}, beyond the supported \
         {MAX_FACTOR}"
    )]
    TooComplex {
        from_hz: f64,
        to_hz: f64,
        l: u64,
        m: u64,
    },
}

fn whole_hz(rate_hz: f64) -> Result<u64, RatioError> {
    let r = rate_hz.round();
    if rate_hz.is_finite() && r >= 1.0 && (rate_hz - r).abs() < 1e-6 && r < 1e15 {
        Ok(r as u64)
    } else {
        Err(RatioError::NotWholeHz(rate_hz))
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `(L, M)` in lowest terms with `from_hz * L / M = to_hz`; both rates must be whole
/// numbers of hertz and the factors at most [`MAX_FACTOR`].
pub fn resample_ratio(from_hz: f64, to_hz: f64) -> Result<(u32, u32), RatioError> {
    let (a, b) = (whole_hz(from_hz)?, whole_hz(to_hz)?);
    let g = gcd(a, b);
    let (l, m) = (b / g, a / g);
    if l > u64::from(MAX_FACTOR) || m > u64::from(MAX_FACTOR) {
        return Err(RatioError::TooComplex {
            from_hz,
            to_hz,
            l,
            m,
        });
    }
    Ok((l as u32, m as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_radio_rates_reduce_to_small_factors() {
        assert_eq!(resample_ratio(20e6, 20e6), Ok((1, 1)));
        assert_eq!(resample_ratio(25e6, 20e6), Ok((4, 5)));
        assert_eq!(resample_ratio(10e6, 20e6), Ok((2, 1)));
        assert_eq!(resample_ratio(30.72e6, 20e6), Ok((125, 192)));
        assert_eq!(resample_ratio(8e6, 20e6), Ok((5, 2)));
    }

    #[test]
    fn fractional_and_unreasonable_rates_are_refused() {
        assert_eq!(
            resample_ratio(1e6 + 0.5, 20e6),
            Err(RatioError::NotWholeHz(1e6 + 0.5))
        );
        assert!(resample_ratio(f64::NAN, 20e6).is_err());
        assert!(resample_ratio(0.0, 20e6).is_err());
        // 19 999 999 and 20 000 000 are coprime.
        assert!(matches!(
            resample_ratio(19_999_999.0, 20e6),
            Err(RatioError::TooComplex { .. })
        ));
    }
}
