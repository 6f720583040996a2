//! Decode a SigMF recording:
//!
//! ```text
//! .sigmf-data -> SigmfSource (resampled to 20 MHz) -> FrameReceiver | FrameSink
//! ```

use super::{runtime, FlowgraphError};
use crate::blocks::{FrameReceiver, FrameSink, SigmfSource};
use crate::io::{ResampledReader, SigmfMeta, PHY_SAMPLE_RATE_HZ};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use futuresdr::prelude::*;
use std::path::Path;

/// What [`replay`] decoded, with the recording's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOutcome {
    pub meta: SigmfMeta,
    pub frames: Vec<RxFrame>,
    pub stats: RxStats,
    /// Samples the recording holds, at its own rate.
    pub recorded_samples: u64,
}

/// Decodes every frame of the SigMF recording named by `path` (`NAME.sigmf-meta`,
/// `NAME.sigmf-data` or `NAME`). The recording is checked before the flowgraph starts
/// (see [`crate::io::sigmf_reader`]); errors name the file.
pub fn replay(path: &Path, config: ReceiverConfig) -> Result<ReplayOutcome, FlowgraphError> {
    let reader = ResampledReader::open(path, PHY_SAMPLE_RATE_HZ)?;
    let meta = reader.recording().meta().clone();
    let recorded_samples = reader.recording().len_samples();

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    let recording = fg.add(SigmfSource::new(reader));
    connect!(fg, recording > receiver | frames);

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok(ReplayOutcome {
        meta,
        frames,
        stats,
        recorded_samples,
    })
}
