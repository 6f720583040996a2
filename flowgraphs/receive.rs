//! Receive from a file or a radio:
//!
//! ```text
//! .cf32 file -> Cf32Source -> FrameReceiver | FrameSink (decoded frames)
//! radio -> DeviceSource -> [Resampler ->] FrameReceiver | FrameSink
//! ```

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
    let (l, m) = resample_ratio(sample_rate_hz, PHY_SAMPLE_RATE_HZ)
        .map_err(|e| FlowgraphError::RecordingRate(format!("{name}: {e}")))?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let frames = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(config));
    connect!(fg, receiver | frames);
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
    let frames = fg.block_mut(&frames)?.take_frames();
    Ok(RadioReceiveOutcome {
        frames,
        stats,
        samples,
        overflows,
        device_lost,
    })
}
