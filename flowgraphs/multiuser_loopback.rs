//! One transmitter heard by several users, each through its own simulated channel:
//!
//! ```text
//!                   +-> ChannelModel (user 0) -> FrameReceiver | FrameSink
//! FrameTransmitter -+-> ChannelModel (user 1) -> FrameReceiver | FrameSink
//!                   +-> ...
//! ```
//!
//! Every receiver hears the whole air (public and private frames alike) with its own
//! fading, carrier offset, timing and noise.

use super::{runtime, FlowgraphError};
use crate::blocks::TxFrame;
use crate::blocks::{ChannelModel, FrameReceiver, FrameSink, FrameTransmitter, TransmitterConfig};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use futuresdr::prelude::*;

/// What one user's receiver got.
#[derive(Debug, Clone, PartialEq)]
pub struct UserReception {
    pub received: Vec<RxFrame>,
    pub stats: RxStats,
}

/// What went through [`multiuser_loopback`].
#[derive(Debug, Clone, PartialEq)]
pub struct MultiuserOutcome {
    pub frames_sent: u64,
    /// Samples sent through every channel (20 MHz).
    pub samples: u64,
    /// One entry per channel, in the order given.
    pub users: Vec<UserReception>,
}

/// Sends `frames` once and decodes them through each of `channels`.
pub fn multiuser_loopback(
    frames: Vec<TxFrame>,
    tx_config: TransmitterConfig,
    channels: &[ChannelConfig],
    rx_config: ReceiverConfig,
) -> Result<MultiuserOutcome, FlowgraphError> {
    let simulators = channels
        .iter()
        .map(|c| ChannelSimulator::new(c.clone()))
        .collect::<Result<Vec<_>, _>>()?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let mut chains = Vec::with_capacity(simulators.len());
    for simulator in simulators {
        let decoded = fg.add(FrameSink::new());
        let receiver = fg.add(FrameReceiver::new(rx_config));
        let channel = fg.add(ChannelModel::new(simulator));
        chains.push((channel, receiver, decoded));
    }
    let transmitter = fg.add(FrameTransmitter::new(tx_config, frames));
    let mut wired = Vec::with_capacity(chains.len());
    for (channel, receiver, decoded) in chains {
        connect!(fg, transmitter > channel > receiver | decoded);
        wired.push((receiver, decoded));
    }
    let chains = wired;

    let mut fg = runtime().run(fg)?;

    let (frames_sent, samples) =
        transmitter.with(&fg, |tx| (tx.frames_sent(), tx.samples_written()))?;
    let mut users = Vec::with_capacity(chains.len());
    for (receiver, decoded) in chains {
        let stats = fg.block(&receiver)?.stats();
        let received = fg.block_mut(&decoded)?.take_frames();
        users.push(UserReception { received, stats });
    }
    Ok(MultiuserOutcome {
        frames_sent,
        samples,
        users,
    })
}
