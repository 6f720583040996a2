//! Transmit to a file:
//!
//! ```text
//! frames -> FrameTransmitter -> ChannelModel -> Cf32Sink (.cf32 file)
//! ```
//!
//! With `ChannelConfig::default()` the channel is an identity and the file holds the
//! transmitted samples exactly.

use super::{runtime, FlowgraphError};
use crate::blocks::{Cf32Sink, ChannelModel, FrameTransmitter, TransmitterConfig, TxFrame};
use crate::channel::{ChannelConfig, ChannelSimulator};
use futuresdr::prelude::*;
use std::path::Path;

/// What [`transmit`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransmitOutcome {
    pub frames_sent: u64,
    pub encode_errors: u64,
    pub samples: u64,
    /// Sample index of the first preamble sample of each frame in the file.
    pub burst_starts: Vec<u64>,
}

/// Encodes `frames`, passes the samples, with gaps, through a channel simulated with
/// `channel`, and writes them to the cf32 file at `path`.
pub fn transmit(
    frames: Vec<TxFrame>,
    config: TransmitterConfig,
    channel: ChannelConfig,
    path: &Path,
) -> Result<TransmitOutcome, FlowgraphError> {
    let simulator = ChannelSimulator::new(channel)?;

    let mut fg = Flowgraph::new();
    let transmitter = FrameTransmitter::new(config, frames);
    let channel = ChannelModel::new(simulator);
    let file = Cf32Sink::new(path);
    connect!(fg, transmitter > channel > file);

    let fg = runtime().run(fg)?;

    let transmitter = fg.block(&transmitter)?;
    Ok(TransmitOutcome {
        frames_sent: transmitter.frames_sent(),
        encode_errors: transmitter.encode_errors(),
        samples: fg.block(&file)?.samples_written(),
        burst_starts: transmitter.burst_starts().to_vec(),
    })
}
