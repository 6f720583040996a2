//! Samples in, decoded frames out: the OFDM receiver as a stream sink with a
//! message output.

use crate::phy::rx::{Receiver, ReceiverConfig};
use crate::phy::{RxFrame, RxStats};
use futuresdr::runtime::dev::prelude::*;
use log::debug;

/// Runs a [`Receiver`] over its input stream and posts every frame it decodes.
///
/// The receiver is streaming and gives the same frames for any chunking of its
/// input, so each input slice is processed as it arrives; at the end of the input
/// the receiver is flushed ([`Receiver::finish`]). Dropped and undecodable frames
/// are logged by the receiver and counted in its [`RxStats`], readable after the
/// run with [`FrameReceiver::stats`].
///
/// # Stream Inputs
///
/// `input`: baseband samples at 20 MHz.
///
/// # Stream Outputs
///
/// None.
///
/// # Message Inputs
///
/// None.
///
/// # Message Outputs
///
/// `out`: each decoded frame as `Pmt::Any` holding an [`RxFrame`], in the order of
/// the frames' start in the input; `Pmt::Finished` after the last one.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::FrameReceiver;
/// use m4sc::phy::rx::ReceiverConfig;
///
/// let mut fg = Flowgraph::new();
/// let rx = fg.add(FrameReceiver::new(ReceiverConfig::default()));
/// ```
#[derive(Block)]
#[message_outputs(out)]
pub struct FrameReceiver<I = DefaultCpuReader<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
{
    receiver: Receiver,
    frames: Vec<RxFrame>,
    frames_posted: u64,
    #[input]
    input: I,
}

impl FrameReceiver<DefaultCpuReader<Complex32>> {
    /// Creates the block around a new [`Receiver`].
    pub fn new(config: ReceiverConfig) -> Self {
        Self::with_buffers(config)
    }
}

impl<I> FrameReceiver<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    /// Creates the block with a custom input buffer type.
    pub fn with_buffers(config: ReceiverConfig) -> Self {
        Self {
            receiver: Receiver::new(config),
            frames: Vec::new(),
            frames_posted: 0,
            input: I::default(),
        }
    }

    /// The receiver's counters (samples, detections, drops by cause, frames).
    pub fn stats(&self) -> RxStats {
        self.receiver.stats()
    }

    /// Frames posted on the message output.
    pub fn frames_posted(&self) -> u64 {
        self.frames_posted
    }

    async fn post_frames(&mut self, mo: &mut MessageOutputs) -> Result<()> {
        for frame in self.frames.drain(..) {
            debug!("posting frame starting at sample {}", frame.info().start_sample);
            mo.post("out", Pmt::Any(Box::new(frame))).await?;
            self.frames_posted += 1;
        }
        Ok(())
    }
}

#[doc(hidden)]
impl<I> Kernel for FrameReceiver<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let input = self.input.slice();
        let n = input.len();
        if n > 0 {
            self.receiver.process(input, &mut self.frames);
            self.input.consume(n);
        }
        let at_end = self.input.finished() && self.input.slice().is_empty();
        if at_end {
            self.receiver.finish(&mut self.frames);
        }
        self.post_frames(mo).await?;
        if at_end {
            io.finished = true;
        }
        Ok(())
    }
}
