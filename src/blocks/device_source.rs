//! Stream source reading a radio device's receive stream.

use crate::radio::stream::{RxStream, StreamEvent};
use futuresdr::runtime::dev::prelude::*;

/// Streams samples from a device ([`RxStream`]) until `max_samples` were produced or
/// the device is lost.
///
/// Overflows are counted ([`DeviceSource::overflows`]) and logged at `warn`. A device
/// that is lost ends the stream like the end of a file, so that the blocks downstream
/// finish what they hold (a recording keeps everything received); the reason is kept
/// in [`DeviceSource::lost`] for the caller to report as an error after the run. The
/// reads block, so the block runs on its own thread.
///
/// # Stream Inputs
///
/// No stream inputs.
///
/// # Stream Outputs
///
/// `output`: received samples at the device's rate.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```ignore
/// let src = fg.add(DeviceSource::new("HackRF One", stream, Some(20_000_000)));
/// ```
#[derive(Block)]
#[blocking]
pub struct DeviceSource<O = DefaultCpuWriter<Complex32>>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    name: String,
    stream: Box<dyn RxStream>,
    max_samples: Option<u64>,
    produced: u64,
    overflows: u64,
    lost: Option<String>,
    #[output]
    output: O,
}

impl DeviceSource<DefaultCpuWriter<Complex32>> {
    /// A source reading `stream` of the device called `name` (for messages), for at
    /// most `max_samples` samples (`None`: until the device is lost).
    pub fn new(name: &str, stream: Box<dyn RxStream>, max_samples: Option<u64>) -> Self {
        Self::with_buffers(name, stream, max_samples)
    }
}

impl<O> DeviceSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    /// A source with a custom output buffer type.
    pub fn with_buffers(name: &str, stream: Box<dyn RxStream>, max_samples: Option<u64>) -> Self {
        Self {
            name: name.to_string(),
            stream,
            max_samples,
            produced: 0,
            overflows: 0,
            lost: None,
            output: O::default(),
        }
    }

    /// Samples produced.
    pub fn samples_produced(&self) -> u64 {
        self.produced
    }

    /// Receive overflows reported by the device.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// Why the device was lost, if it was.
    pub fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }
}

#[doc(hidden)]
impl<O> Kernel for DeviceSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let remaining = self.max_samples.map_or(u64::MAX, |m| m - self.produced);
        if remaining == 0 {
            io.finished = true;
            return Ok(());
        }
        let out = self.output.slice();
        let n = (out.len() as u64).min(remaining) as usize;
        if n == 0 {
            return Ok(());
        }
        match self.stream.read(&mut out[..n]) {
            Ok(k) => {
                self.output.produce(k);
                self.produced += k as u64;
            }
            Err(StreamEvent::Overflow) => {
                self.overflows += 1;
                warn!(
                    "{}: receive overflow at sample {} ({} so far): samples were lost",
                    self.name, self.produced, self.overflows
                );
            }
            Err(StreamEvent::Underflow) => {}
            Err(StreamEvent::Lost(reason)) => {
                error!(
                    "{}: device lost after {} samples: {reason}",
                    self.name, self.produced
                );
                self.lost = Some(reason);
                io.finished = true;
                return Ok(());
            }
        }
        io.call_again = true;
        Ok(())
    }

    async fn deinit(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        if let Err(e) = self.stream.stop() {
            warn!("{}: stopping the receive stream: {e:?}", self.name);
        }
        Ok(())
    }
}
