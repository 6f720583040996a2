//! Transmit to a file:
//!
//! ```text
//! frames -> FrameTransmitter -> Cf32Sink (.cf32 file)
//! ```

use super::{runtime, FlowgraphError};
use crate::blocks::{Cf32Sink, FrameTransmitter, TransmitterConfig, TxFrame};
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

/// Encodes `frames` and writes the samples, with gaps, to the cf32 file at `path`.
pub fn transmit(
    frames: Vec<TxFrame>,
    config: TransmitterConfig,
    path: &Path,
) -> Result<TransmitOutcome, FlowgraphError> {
    let mut fg = Flowgraph::new();
    let transmitter = FrameTransmitter::new(config, frames);
    let file = Cf32Sink::new(path);
    connect!(fg, transmitter > file);

    let fg = runtime().run(fg)?;

    let transmitter = fg.block(&transmitter)?;
    Ok(TransmitOutcome {
        frames_sent: transmitter.frames_sent(),
        encode_errors: transmitter.encode_errors(),
        samples: fg.block(&file)?.samples_written(),
        burst_starts: transmitter.burst_starts().to_vec(),
    })
}
