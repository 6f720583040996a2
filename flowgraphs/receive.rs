//! Receive from a file or a radio:
//!
//! ```text
//! .cf32 file -> Cf32Source -> FrameReceiver | FrameSink (decoded frames)
//! radio -> DeviceSource -> [Resampler ->] FrameReceiver | FrameSink
//!                                                       | SemanticUserReceiver (0) ...
//! ```
//!
//! The semantic user receivers are there when a scenario is given
//! ([`receive_radio_scenario`]): every user of the scenario hears the one radio.

use super::semantic_loopback::{
    add_shared_air_users, user_outcome, ScenarioUsers, SemanticUserOutcome,
};
use super::{runtime, FlowgraphError};
use crate::blocks::{Cf32Source, DeviceSource, FrameReceiver, FrameSink, Resampler};
use crate::io::cf32::cf32_len_samples;
use crate::io::PHY_SAMPLE_RATE_HZ;
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use crate::radio::stream::RxStream;
use crate::resample::{resample_ratio, RationalResampler};
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

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    let file = fg.add(Cf32Source::new(path));
    connect!(fg, file > receiver | frames);

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok(ReceiveOutcome { frames, stats })
}

/// What [`receive_radio`] decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RadioReceiveOutcome {
    pub frames: Vec<RxFrame>,
    pub stats: RxStats,
    /// Samples the radio delivered, at its rate.
    pub samples: u64,
    pub overflows: u64,
    /// Why the radio was lost, if it was (the frames before are kept).
    pub device_lost: Option<String>,
}

/// Decodes what the radio `stream` (called `name`) receives at `sample_rate_hz`
/// (resampled to 20 MHz when it differs), for at most `max_samples` samples.
pub fn receive_radio(
    name: &str,
    stream: Box<dyn RxStream>,
    sample_rate_hz: f64,
    max_samples: Option<u64>,
    config: ReceiverConfig,
) -> Result<RadioReceiveOutcome, FlowgraphError> {
    let (outcome, _) =
        receive_radio_users(name, stream, sample_rate_hz, max_samples, config, None)?;
    Ok(outcome)
}

/// Like [`receive_radio`], and every user of the scenario in `users` runs its semantic
/// receiver and task on the frames decoded (one outcome per user, in the scenario's
/// order). The users' channel entries do not apply: they all hear the radio.
pub fn receive_radio_scenario(
    name: &str,
    stream: Box<dyn RxStream>,
    sample_rate_hz: f64,
    max_samples: Option<u64>,
    config: ReceiverConfig,
    users: ScenarioUsers<'_>,
) -> Result<(RadioReceiveOutcome, Vec<SemanticUserOutcome>), FlowgraphError> {
    receive_radio_users(
        name,
        stream,
        sample_rate_hz,
        max_samples,
        config,
        Some(users),
    )
}

fn receive_radio_users(
    name: &str,
    stream: Box<dyn RxStream>,
    sample_rate_hz: f64,
    max_samples: Option<u64>,
    config: ReceiverConfig,
    users: Option<ScenarioUsers<'_>>,
) -> Result<(RadioReceiveOutcome, Vec<SemanticUserOutcome>), FlowgraphError> {
    let (l, m) = resample_ratio(sample_rate_hz, PHY_SAMPLE_RATE_HZ)
        .map_err(|e| FlowgraphError::RecordingRate(format!("{name}: {e}")))?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    connect!(fg, receiver | frames);
    let semantic = add_shared_air_users(&mut fg, receiver, users)?;
    let resampler = (l != m).then(|| fg.add(Resampler::new(RationalResampler::new(l, m))));
    let radio = fg.add(DeviceSource::new(name, stream, max_samples));
    match resampler {
        Some(resampler) => {
            connect!(fg, radio > resampler > receiver);
        }
        None => {
            connect!(fg, radio > receiver);
        }
    }

    let mut fg = runtime().run(fg)?;

    let stats = fg.block(&receiver)?.stats();
    let (samples, overflows, device_lost) = {
        let src = fg.block(&radio)?;
        (
            src.samples_produced(),
            src.overflows(),
            src.lost().map(str::to_string),
        )
    };
    let mut users = Vec::with_capacity(semantic.len());
    for user in semantic {
        users.push(user_outcome(&mut fg, user, stats)?);
    }
    let frames = fg.block_mut(&frames)?.take_frames();
    let outcome = RadioReceiveOutcome {
        frames,
        stats,
        samples,
        overflows,
        device_lost,
    };
    Ok((outcome, users))
}
