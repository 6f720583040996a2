//! Decode a SigMF recording:
//!
//! ```text
//! .sigmf-data -> SigmfSource (resampled to 20 MHz) -> FrameReceiver | FrameSink
//!                                                                   | SemanticUserReceiver (0)
//!                                                                   | SemanticUserReceiver (1) ...
//! ```
//!
//! The semantic user receivers are there when a scenario is given
//! ([`replay_scenario`]): every user of the scenario hears the one recorded air.

use super::semantic_loopback::{
    add_shared_air_users, user_outcome, ScenarioUsers, SemanticUserOutcome,
};
use super::{runtime, FlowgraphError};
use crate::blocks::{FrameReceiver, FrameSink, SigmfSource};
use crate::io::{ResampledReader, SigmfMeta, PHY_SAMPLE_RATE_HZ};
use crate::multiuser::scenario::Scenario;
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use crate::semantic::model::SemanticModel;
use crate::semantic::tokenizer::BpeTokenizer;
use futuresdr::prelude::*;
use std::path::Path;
use std::sync::Arc;

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
    let (outcome, _) = replay_users(path, config, None)?;
    Ok(outcome)
}

/// Like [`replay`], and every user of `scenario` runs its semantic receiver and task on
/// the frames decoded (one outcome per user, in the scenario's order). The users'
/// channel entries do not apply: they all hear the recording.
pub fn replay_scenario(
    path: &Path,
    config: ReceiverConfig,
    scenario: &Scenario,
    model: &Arc<SemanticModel>,
    tokenizer: &Arc<BpeTokenizer>,
) -> Result<(ReplayOutcome, Vec<SemanticUserOutcome>), FlowgraphError> {
    replay_users(path, config, Some((scenario, model, tokenizer)))
}

fn replay_users(
    path: &Path,
    config: ReceiverConfig,
    users: Option<ScenarioUsers<'_>>,
) -> Result<(ReplayOutcome, Vec<SemanticUserOutcome>), FlowgraphError> {
    let reader = ResampledReader::open(path, PHY_SAMPLE_RATE_HZ)?;
    let meta = reader.recording().meta().clone();
    let recorded_samples = reader.recording().len_samples();

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    let semantic = add_shared_air_users(&mut fg, receiver, users)?;
    let recording = fg.add(SigmfSource::new(reader));
    connect!(fg, recording > receiver | frames);

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let mut users = Vec::with_capacity(semantic.len());
    for user in semantic {
        users.push(user_outcome(&mut fg, user, stats)?);
    }
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok((
        ReplayOutcome {
            meta,
            frames,
            stats,
            recorded_samples,
        },
        users,
    ))
}
