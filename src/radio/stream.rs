//! The sample streams of a radio device, as the device blocks see them: a receive
//! stream that fills buffers and a transmit stream that takes them, each reporting
//! overflows, underflows and the loss of the device. Implemented for Seify devices
//! with the `radio` feature ([`super::seify_stream`]), and by test doubles.

use num_complex::Complex32;

/// A stream event other than samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// Receive samples were dropped because the host did not read in time.
    Overflow,
    /// The transmitter ran out of samples mid-burst.
    Underflow,
    /// The device stopped working (unplugged, driver error); the message says why and
    /// names the device. Nothing more will come from this stream.
    Lost(String),
}

/// A device's receive stream.
pub trait RxStream: Send {
    /// Fills the start of `out` with received samples; returns how many (possibly 0).
    fn read(&mut self, out: &mut [Complex32]) -> Result<usize, StreamEvent>;
    /// Stops streaming (called once, at the end of the run).
    fn stop(&mut self) -> Result<(), StreamEvent>;
}

/// A device's transmit stream.
pub trait TxStream: Send {
    /// Sends a prefix of `samples`; returns how many were taken (possibly 0).
    fn write(&mut self, samples: &[Complex32]) -> Result<usize, StreamEvent>;
    /// Stops streaming (called once, at the end of the run).
    fn stop(&mut self) -> Result<(), StreamEvent>;
}
