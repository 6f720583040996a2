//! Transmitter and receiver joined by a simulated channel:
//!
//! ```text
//! frames -> FrameTransmitter -> ChannelModel -> FrameReceiver | FrameSink
//! ```

use super::{runtime, FlowgraphError};
use crate::blocks::TxFrame;
use crate::blocks::{ChannelModel, FrameReceiver, FrameSink, FrameTransmitter, TransmitterConfig};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use futuresdr::prelude::*;

/// What went through [`loopback`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoopbackOutcome {
    pub frames_sent: u64,
    /// Sample index of the first preamble sample of each frame sent.
    pub burst_starts: Vec<u64>,
    /// Samples sent through the channel.
    pub samples: u64,
    pub received: Vec<RxFrame>,
    pub stats: RxStats,
}

/// Sends `frames` through a channel simulated with `channel` and decodes them.
pub fn loopback(
    frames: Vec<TxFrame>,
    tx_config: TransmitterConfig,
    channel: ChannelConfig,
    rx_config: ReceiverConfig,
) -> Result<LoopbackOutcome, FlowgraphError> {
    let simulator = ChannelSimulator::new(channel)?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let decoded = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(rx_config));
    let channel = fg.add(ChannelModel::new(simulator));
    let transmitter = fg.add(FrameTransmitter::new(tx_config, frames));
    connect!(fg, transmitter > channel > receiver | decoded);

    let mut fg = runtime().run(fg)?;

    let (frames_sent, burst_starts, samples) = transmitter.with(&fg, |tx| {
        (
            tx.frames_sent(),
            tx.burst_starts().to_vec(),
            tx.samples_written(),
        )
    })?;
    let stats = fg.block(&receiver)?.stats();
    let received = fg.block_mut(&decoded)?.take_frames();
    Ok(LoopbackOutcome {
        frames_sent,
        burst_starts,
        samples,
        received,
        stats,
    })
}
