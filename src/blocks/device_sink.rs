//! Stream sink writing to a radio device's transmit stream.

use crate::radio::stream::{StreamEvent, TxStream};
use futuresdr::runtime::dev::prelude::*;

/// Sends its input, multiplied by `scale`, to a device ([`TxStream`]).
///
/// Devices take samples in [-1, 1]; the transmitter's have unit average power and
/// peaks about 4, so `scale` (0.25 is a safe start) sets the backoff. Underflows are
/// counted ([`DeviceSink::underflows`]) and logged at `warn` when the device reports
/// them. A device that is lost keeps its reason in [`DeviceSink::lost`] and the rest of
/// the input is read and dropped, so the flowgraph still finishes. The writes block, so
/// the block runs on its own thread.
///
/// # Stream Inputs
///
/// `input`: samples to send, at the device's rate.
///
/// # Stream Outputs
///
/// No stream outputs.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```ignore
/// let snk = fg.add(DeviceSink::new("USRP B210", stream, 0.25));
/// ```
#[derive(Block)]
#[blocking]
pub struct DeviceSink<I = DefaultCpuReader<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
{
    name: String,
    stream: Box<dyn TxStream>,
    scale: f32,
    scaled: Vec<Complex32>,
    sent: u64,
    dropped: u64,
    underflows: u64,
    lost: Option<String>,
    #[input]
    input: I,
}

impl DeviceSink<DefaultCpuReader<Complex32>> {
    /// A sink writing to `stream` of the device called `name` (for messages).
    pub fn new(name: &str, stream: Box<dyn TxStream>, scale: f32) -> Self {
        Self::with_buffers(name, stream, scale)
    }
}

impl<I> DeviceSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    /// A sink with a custom input buffer type.
    pub fn with_buffers(name: &str, stream: Box<dyn TxStream>, scale: f32) -> Self {
        Self {
            name: name.to_string(),
            stream,
            scale,
            scaled: Vec::new(),
            sent: 0,
            dropped: 0,
            underflows: 0,
            lost: None,
            input: super::large_input(),
        }
    }

    /// Samples the device took.
    pub fn samples_sent(&self) -> u64 {
        self.sent
    }

    /// Samples dropped after the device was lost.
    pub fn samples_dropped(&self) -> u64 {
        self.dropped
    }

    /// Transmit underflows reported by the device.
    pub fn underflows(&self) -> u64 {
        self.underflows
    }

    /// Why the device was lost, if it was.
    pub fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }
}

#[doc(hidden)]
impl<I> Kernel for DeviceSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let input = self.input.slice();
        let n = input.len();
        if n > 0 && self.lost.is_some() {
            self.dropped += n as u64;
            self.input.consume(n);
        } else if n > 0 {
            self.scaled.clear();
            self.scaled.extend(input.iter().map(|s| s * self.scale));
            match self.stream.write(&self.scaled) {
                Ok(k) => {
                    self.input.consume(k);
                    self.sent += k as u64;
                }
                Err(StreamEvent::Underflow) => {
                    self.underflows += 1;
                    warn!(
                        "{}: transmit underflow ({} so far)",
                        self.name, self.underflows
                    );
                }
                Err(StreamEvent::Overflow) => {}
                Err(StreamEvent::Lost(reason)) => {
                    error!(
                        "{}: device lost after {} samples: {reason}",
                        self.name, self.sent
                    );
                    self.lost = Some(reason);
                }
            }
            io.call_again = true;
        }
        if self.input.finished() && self.input.slice().is_empty() {
            io.finished = true;
        }
        Ok(())
    }

    async fn deinit(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        if let Err(e) = self.stream.stop() {
            warn!("{}: stopping the transmit stream: {e:?}", self.name);
        }
        Ok(())
    }
}
