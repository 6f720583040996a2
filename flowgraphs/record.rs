//! Record what the air carries, decoding it on the way:
//!
//! ```text
//! air source -+-> [Resampler ->] SigmfSink (.sigmf-data)
//!             +-> FrameReceiver | FrameSink (decoded frames -> annotations)
//! ```
//!
//! The air source is a cf32 file, a SigMF recording (resampled to 20 MHz), or the
//! simulator (`FrameTransmitter -> ChannelModel`), all at 20 MHz. The recording is kept
//! at the rate its [`RecordingInfo`] names, through a [`Resampler`] when that is not
//! 20 MHz. After the run the recording's metadata is written with one annotation per
//! detection, its positions at the recording's rate.

use super::{runtime, FlowgraphError};
use crate::blocks::{
    Cf32Source, ChannelModel, FrameReceiver, FrameSink, FrameTransmitter, Resampler, SigmfSink,
    SigmfSource, TransmitterConfig, TxFrame,
};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::io::cf32::cf32_len_samples;
use crate::io::sigmf_annotation::{detection_annotations, rescale};
use crate::io::{RecordingInfo, ResampledReader, SigmfMeta, SigmfWriter, PHY_SAMPLE_RATE_HZ};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use crate::resample::{resample_ratio, RationalResampler};
use futuresdr::prelude::*;
use std::path::PathBuf;

/// Where the samples come from.
pub enum AirSource {
    /// A raw cf32 file at 20 MHz.
    Cf32File(PathBuf),
    /// An opened SigMF recording, read at 20 MHz.
    Sigmf(Box<ResampledReader>),
    /// `frames` sent through the channel simulator.
    Simulated {
        frames: Vec<TxFrame>,
        tx_config: TransmitterConfig,
        channel: ChannelConfig,
    },
}

/// What [`record`] kept and decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// Frames handed up, in order (FCS failures included when the receiver keeps them).
    pub frames: Vec<RxFrame>,
    pub stats: RxStats,
    /// The metadata written.
    pub meta: SigmfMeta,
    /// Samples in the data file.
    pub samples: u64,
    /// Frames the simulator sent and where each burst starts (simulated source only).
    pub burst_starts: Vec<u64>,
}

/// Runs `air` into `writer` (at `info.sample_rate_hz`) and the receiver, then writes
/// the metadata with `info` and the detections' annotations.
pub fn record(
    air: AirSource,
    writer: SigmfWriter,
    rx_config: ReceiverConfig,
    info: &RecordingInfo,
) -> Result<RecordOutcome, FlowgraphError> {
    let rate_hz = info.sample_rate_hz;
    let (l, m) = resample_ratio(PHY_SAMPLE_RATE_HZ, rate_hz).map_err(|e| {
        FlowgraphError::RecordingRate(format!("{}: {e}", writer.paths().meta.display()))
    })?;

    let mut fg = Flowgraph::new();
    let sink = fg.add(SigmfSink::new(writer));
    let receiver = fg.add(FrameReceiver::new(rx_config).recording_detections());
    let decoded = fg.add(FrameSink::new());
    let mut transmitter = None;
    // The air goes to the recording (through a resampler when the rates differ) and
    // to the receiver.
    macro_rules! tee {
        ($src:ident) => {
            if l != m {
                let resampler = Resampler::new(RationalResampler::new(l, m));
                connect!(fg, $src > resampler > sink; $src > receiver | decoded);
            } else {
                connect!(fg, $src > sink; $src > receiver | decoded);
            }
        };
    }
    match air {
        AirSource::Cf32File(path) => {
            cf32_len_samples(&path)?;
            let src = fg.add(Cf32Source::new(path));
            tee!(src);
        }
        AirSource::Sigmf(reader) => {
            let src = fg.add(SigmfSource::new(*reader));
            tee!(src);
        }
        AirSource::Simulated {
            frames,
            tx_config,
            channel,
        } => {
            let simulator = ChannelSimulator::new(channel)?;
            let tx = fg.add(FrameTransmitter::new(tx_config, frames));
            let channel = fg.add(ChannelModel::new(simulator));
            connect!(fg, tx > channel);
            tee!(channel);
            transmitter = Some(tx);
        }
    }

    let mut fg = runtime().run(fg)?;

    let burst_starts = match transmitter {
        Some(tx) => fg.block(&tx)?.burst_starts().to_vec(),
        None => Vec::new(),
    };
    let (stats, detections) = {
        let rx = fg.block(&receiver)?;
        (rx.stats(), rx.detections().to_vec())
    };
    let frames = fg.block_mut(&decoded)?.take_frames();
    let writer = fg
        .block_mut(&sink)?
        .take_writer()
        .ok_or(FlowgraphError::WriterTaken)?;
    let samples = writer.samples_written();
    let annotations = detection_annotations(&detections, &frames, u64::MAX)
        .into_iter()
        .map(|a| {
            let mut a = rescale(a, PHY_SAMPLE_RATE_HZ, rate_hz);
            let end = (a.sample_start + a.sample_count.unwrap_or(0)).min(samples);
            a.sample_start = a.sample_start.min(samples);
            a.sample_count = Some(end - a.sample_start);
            a
        })
        .collect();
    let meta = writer.finish(info, annotations)?;
    Ok(RecordOutcome {
        frames,
        stats,
        meta,
        samples,
        burst_starts,
    })
}
