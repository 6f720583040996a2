//! Configuration errors of the channel simulator.

use thiserror::Error;

/// A channel parameter outside its valid range.
///
/// Every variant names the offending configuration field, so that a user editing a
/// JSON scenario file can find it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ChannelError {
    /// A numeric field is NaN, infinite or outside its allowed range.
    #[error("invalid channel parameter `{field}` = {value}: expected {expected}")]
    OutOfRange {
        /// Configuration field name, e.g. `snr_db` or `multipath.rms_delay_spread_ns`.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// The delay profile would need more taps than the simulator supports.
    #[error(
        "`multipath.rms_delay_spread_ns` = {rms_delay_spread_ns} at {sample_rate_hz} Hz needs \
         {taps} taps, more than the maximum of {max_taps}"
    )]
    TooManyTaps {
        /// Requested RMS delay spread, ns.
        rms_delay_spread_ns: f64,
        /// Sample rate, Hz.
        sample_rate_hz: f64,
        /// Taps the profile would need.
        taps: usize,
        /// Largest supported tap count.
        max_taps: usize,
    },
}

/// Checks that `value` is finite and within `[min, max]`.
pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
    expected: &'static str,
) -> Result<(), ChannelError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ChannelError::OutOfRange {
            field,
            value,
            expected,
        })
    }
}

/// Checks a sample rate: finite and positive, in Hz.
pub(crate) fn check_sample_rate(sample_rate_hz: f64) -> Result<(), ChannelError> {
    check_range(
        "sample_rate_hz",
        sample_rate_hz,
        f64::MIN_POSITIVE,
        f64::MAX,
        "a finite, positive rate in Hz",
    )
}
