//! End of the receive chain: collects decoded frames for the caller.

use crate::phy::RxFrame;
use crossbeam_channel::Sender;
use futuresdr::runtime::dev::prelude::*;
use log::warn;

/// Collects the [`RxFrame`]s posted to it, readable after the run with
/// [`FrameSink::frames`]; optionally also forwards each one on a crossbeam channel
/// as it arrives (for a caller that consumes frames while the flowgraph runs).
///
/// # Stream Inputs / Outputs
///
/// None.
///
/// # Message Inputs
///
/// `in`: an [`RxFrame`] as `Pmt::Any`; `Pmt::Finished` finishes the block. Other
/// messages are answered with `Pmt::InvalidValue` and counted
/// ([`FrameSink::rejected`]).
///
/// # Message Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::FrameSink;
///
/// let mut fg = Flowgraph::new();
/// let sink = fg.add(FrameSink::new());
/// ```
#[derive(Block)]
#[message_inputs(r#in)]
#[null_kernel]
pub struct FrameSink {
    frames: Vec<RxFrame>,
    forward: Option<Sender<RxFrame>>,
    keep: bool,
    rejected: u64,
}

impl FrameSink {
    /// A sink that keeps every frame.
    pub fn new() -> Self {
        Self {
            frames: Vec::new(),
            forward: None,
            keep: true,
            rejected: 0,
        }
    }

    /// A sink that sends every frame on `sender` and keeps none (a closed channel is
    /// not an error: frames are then dropped).
    pub fn with_channel(sender: Sender<RxFrame>) -> Self {
        Self {
            forward: Some(sender),
            keep: false,
            ..Self::new()
        }
    }

    /// Frames received, in arrival order.
    pub fn frames(&self) -> &[RxFrame] {
        &self.frames
    }

    /// Takes the frames received so far.
    pub fn take_frames(&mut self) -> Vec<RxFrame> {
        std::mem::take(&mut self.frames)
    }

    /// Messages that were not frames.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    async fn r#in(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
        p: Pmt,
    ) -> Result<Pmt> {
        match p {
            Pmt::Finished => {
                io.finished = true;
                Ok(Pmt::Ok)
            }
            Pmt::Any(any) => match any.take::<RxFrame>() {
                Some(frame) => {
                    // A channel receiver that hung up no longer wants frames: not an error.
                    match (&self.forward, self.keep) {
                        (Some(sender), true) => {
                            let _ = sender.send((*frame).clone());
                            self.frames.push(*frame);
                        }
                        (Some(sender), false) => {
                            let _ = sender.send(*frame);
                        }
                        (None, _) => self.frames.push(*frame),
                    }
                    Ok(Pmt::Ok)
                }
                None => {
                    self.rejected += 1;
                    warn!("FrameSink: ignoring a message that is not an RxFrame");
                    Ok(Pmt::InvalidValue)
                }
            },
            other => {
                self.rejected += 1;
                warn!("FrameSink: ignoring message {other:?}");
                Ok(Pmt::InvalidValue)
            }
        }
    }
}

impl Default for FrameSink {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::{DataFrame, FrameInfo, Rate};
    use futuresdr::runtime::mocker::Mocker;

    fn frame(start_sample: u64) -> RxFrame {
        RxFrame::Data(DataFrame {
            info: FrameInfo {
                start_sample,
                cfo_hz: 1.0,
                snr_db: 20.0,
                evm_db: -25.0,
            },
            rate: Rate::Mbps36,
            psdu: vec![1, 2, 3, 4, 5],
            fcs_ok: false,
        })
    }

    #[test]
    fn keeps_frames_in_order_and_rejects_other_messages() {
        let mut mocker = Mocker::new(FrameSink::new());
        for start in [10, 20] {
            let reply = mocker.post("in", Pmt::Any(Box::new(frame(start))));
            assert!(matches!(reply, Ok(Pmt::Ok)), "{reply:?}");
        }
        let reply = mocker.post("in", Pmt::U32(7));
        assert!(matches!(reply, Ok(Pmt::InvalidValue)), "{reply:?}");
        let reply = mocker.post("in", Pmt::Any(Box::new("not a frame")));
        assert!(matches!(reply, Ok(Pmt::InvalidValue)), "{reply:?}");
        assert_eq!(mocker.frames(), &[frame(10), frame(20)][..]);
        assert_eq!(mocker.rejected(), 2);
    }

    #[test]
    fn channel_mode_forwards_every_frame() {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let mut mocker = Mocker::new(FrameSink::with_channel(sender));
        for start in [5, 6, 7] {
            mocker.post("in", Pmt::Any(Box::new(frame(start)))).unwrap();
        }
        let got: Vec<RxFrame> = receiver.try_iter().collect();
        assert_eq!(got, vec![frame(5), frame(6), frame(7)]);
        assert!(mocker.frames().is_empty(), "channel mode keeps no copy");
    }
}
