//! Receive from a file:
//!
//! ```text
//! .cf32 file -> Cf32Source -> FrameReceiver | FrameSink (decoded frames)
//! ```

use super::{runtime, FlowgraphError};
use crate::blocks::{Cf32Source, FrameReceiver, FrameSink};
use crate::io::cf32::cf32_len_samples;
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use futuresdr::prelude::*;
use std::path::Path;

/// What [`receive`] decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveOutcome {
    pub frames: Vec<RxFrame>,
    pub stats: RxStats,
}

/// Decodes every frame in the cf32 file at `path`.
///
/// The file is checked before the flowgraph starts, so a missing or malformed file is
/// reported as [`FlowgraphError::File`] naming it.
pub fn receive(path: &Path, config: ReceiverConfig) -> Result<ReceiveOutcome, FlowgraphError> {
    cf32_len_samples(path)?;

    let mut fg = Flowgraph::new();
    let file = Cf32Source::new(path);
    let receiver = FrameReceiver::new(config);
    let frames = FrameSink::new();
    connect!(fg, file > receiver | frames);

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok(ReceiveOutcome { frames, stats })
}
