//! Samples in, decoded frames out: the OFDM receiver as a stream sink with a
//! message output.

use crate::phy::rx::{Outcome, Receiver, ReceiverConfig};
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
            input: super::large_input(),
        }
    }

    /// Also keeps the position and outcome of every detection, readable after the run
    /// with [`FrameReceiver::detections`] (for annotating recordings).
    pub fn recording_detections(mut self) -> Self {
        self.receiver.record_events();
        self
    }

    /// Detection position (STF trigger) and outcome of each detection, when enabled
    /// with [`FrameReceiver::recording_detections`].
    pub fn detections(&self) -> &[(u64, Outcome)] {
        self.receiver.detections()
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
            debug!(
                "posting frame starting at sample {}",
                frame.info().start_sample
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::{FrameSink, TxFrame};
    use crate::channel::{ChannelConfig, ChannelSimulator};
    use crate::phy::Rate;
    use crate::traffic::random_data_frames;
    use futuresdr::blocks::VectorSource;
    use futuresdr::prelude::{connect, Flowgraph, Runtime};
    use futuresdr::runtime::mocker::{Mocker, Reader};

    /// A few frames at mixed rates through a noisy channel with a carrier offset,
    /// with 300 zeros between them and one frame whose FCS is broken on purpose.
    fn received_samples() -> Vec<Complex32> {
        let mut frames = random_data_frames(2, Rate::Mbps12, 300, 4).unwrap();
        frames.extend(random_data_frames(2, Rate::Mbps54, 500, 5).unwrap());
        if let TxFrame::Data { psdu, .. } = &mut frames[1] {
            psdu[10] ^= 0xff;
        }
        let mut tx = vec![Complex32::new(0.0, 0.0); 300];
        for (i, f) in frames.iter().enumerate() {
            tx.extend(f.encode(1 + i as u8).unwrap());
            tx.extend(std::iter::repeat_n(Complex32::new(0.0, 0.0), 300));
        }
        let mut channel = ChannelSimulator::new(ChannelConfig {
            snr_db: Some(25.0),
            cfo_hz: -40_000.0,
            seed: 3,
            ..ChannelConfig::default()
        })
        .unwrap();
        let mut rx = Vec::new();
        channel.apply(&tx, &mut rx);
        rx
    }

    fn config() -> ReceiverConfig {
        ReceiverConfig {
            keep_failed_fcs: true,
            ..ReceiverConfig::default()
        }
    }

    /// The oracle: the receiver kernel run directly over the same samples.
    fn oracle(samples: &[Complex32]) -> (Vec<RxFrame>, RxStats) {
        let mut receiver = Receiver::new(config());
        let mut frames = Vec::new();
        receiver.process(samples, &mut frames);
        receiver.finish(&mut frames);
        (frames, receiver.stats())
    }

    #[test]
    fn posts_exactly_the_kernels_frames() {
        let samples = received_samples();
        let (expected, expected_stats) = oracle(&samples);
        assert_eq!(
            expected.len(),
            4,
            "the scenario must decode all four frames"
        );

        let mut mocker = Mocker::new(FrameReceiver::<Reader<Complex32>>::with_buffers(config()));
        mocker.input().set(samples);
        mocker.run();
        let messages = mocker.take_messages();
        let posted: Vec<RxFrame> = messages[0]
            .iter()
            .map(|p| match p {
                Pmt::Any(any) => any.downcast_ref::<RxFrame>().expect("an RxFrame").clone(),
                other => panic!("expected Pmt::Any, got {other:?}"),
            })
            .collect();
        assert_eq!(
            posted, expected,
            "block must post what Receiver::process returns"
        );
        assert_eq!(
            mocker.stats(),
            expected_stats,
            "counters must match the kernel's"
        );
        assert_eq!(mocker.frames_posted(), 4);
    }

    #[test]
    fn in_a_flowgraph_the_frames_reach_the_sink() -> anyhow::Result<()> {
        // The runtime's buffers split the input arbitrarily; the receiver is
        // streaming, so the frames must still equal the kernel's.
        let samples = received_samples();
        let (expected, expected_stats) = oracle(&samples);
        let mut fg = Flowgraph::new();
        let src = VectorSource::<Complex32>::new(samples);
        let receiver = FrameReceiver::new(config());
        let sink = FrameSink::new();
        connect!(fg, src > receiver | sink);
        futuresdr::runtime::config::set("ctrlport_enable", "false");
        let fg = Runtime::new().run(fg)?;
        assert_eq!(fg.block(&sink)?.frames(), &expected[..]);
        assert_eq!(fg.block(&receiver)?.stats(), expected_stats);
        Ok(())
    }
}
