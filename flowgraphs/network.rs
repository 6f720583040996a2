//! IQ over ZeroMQ (GNU Radio compatible raw complex64 at 20 MHz):
//!
//! ```text
//! frames -> FrameTransmitter -> ChannelModel -> ZmqPubSink (publish, tcp://...)
//! ZmqSubSource (subscribe) -> FrameReceiver | FrameSink (decoded frames)
//! ```
//!
//! One transmitter publishes; any number of receivers, in other processes or on other
//! hosts, subscribe and each hear the whole stream.

use super::receive::ReceiveOutcome;
use super::transmit::TransmitOutcome;
use super::{runtime, FlowgraphError};
use crate::blocks::{
    ChannelModel, FrameReceiver, FrameSink, FrameTransmitter, TransmitterConfig, TxFrame,
    ZmqPubSink, ZmqSubSource,
};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::phy::rx::ReceiverConfig;
use futuresdr::prelude::*;
use std::time::Duration;

/// Encodes `frames`, passes them through a channel simulated with `channel`, and
/// publishes the samples on `address` once `subscribers` receivers have joined (at most
/// `wait`).
pub fn transmit_zmq(
    frames: Vec<TxFrame>,
    config: TransmitterConfig,
    channel: ChannelConfig,
    address: &str,
    subscribers: usize,
    wait: Duration,
) -> Result<TransmitOutcome, FlowgraphError> {
    let simulator = ChannelSimulator::new(channel)?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let publisher = fg.add(ZmqPubSink::new(address, subscribers, wait));
    let channel = fg.add(ChannelModel::new(simulator));
    let transmitter = fg.add(FrameTransmitter::new(config, frames));
    connect!(fg, transmitter > channel > publisher);

    let fg = runtime().run(fg)?;

    let tx = fg.block(&transmitter)?;
    Ok(TransmitOutcome {
        frames_sent: tx.frames_sent(),
        encode_errors: tx.encode_errors(),
        samples: fg.block(&publisher)?.samples_published(),
        burst_starts: tx.burst_starts().to_vec(),
    })
}

/// Subscribes to `address` and decodes what arrives until nothing has for `idle`
/// (giving up if nothing arrives within `wait`).
pub fn receive_zmq(
    address: &str,
    idle: Duration,
    wait: Duration,
    config: ReceiverConfig,
) -> Result<ReceiveOutcome, FlowgraphError> {
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    let subscriber = fg.add(ZmqSubSource::new(address, idle, wait));
    connect!(fg, subscriber > receiver | frames);

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok(ReceiveOutcome { frames, stats })
}
