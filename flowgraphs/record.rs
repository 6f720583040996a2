//! Record what the air carries, decoding it on the way:
//!
//! ```text
//! air source -+-> SigmfSink (.sigmf-data)
//!             +-> FrameReceiver | FrameSink (decoded frames -> annotations)
//! ```
//!
//! The air source is a cf32 file, a SigMF recording (resampled to 20 MHz), or the
//! simulator (`FrameTransmitter -> ChannelModel`). After the run the recording's
//! metadata is written with one annotation per detection.

use super::{runtime, FlowgraphError};
use crate::blocks::{
    Cf32Source, ChannelModel, FrameReceiver, FrameSink, FrameTransmitter, SigmfSink, SigmfSource,
    TransmitterConfig, TxFrame,
};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::io::cf32::cf32_len_samples;
use crate::io::sigmf_annotation::detection_annotations;
use crate::io::{RecordingInfo, ResampledReader, SigmfMeta, SigmfWriter};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
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

/// Runs `air` into `writer` and the receiver, then writes the metadata with `info`
/// and the detections' annotations.
pub fn record(
    air: AirSource,
    writer: SigmfWriter,
    rx_config: ReceiverConfig,
    info: &RecordingInfo,
) -> Result<RecordOutcome, FlowgraphError> {
    let mut fg = Flowgraph::new();
    let recorder = fg.add(SigmfSink::new(writer));
    let receiver = fg.add(FrameReceiver::new(rx_config).recording_detections());
    let decoded = fg.add(FrameSink::new());
    let mut transmitter = None;
    match air {
        AirSource::Cf32File(path) => {
            cf32_len_samples(&path)?;
            let src = Cf32Source::new(path);
            connect!(fg, src > recorder; src > receiver | decoded);
        }
        AirSource::Sigmf(reader) => {
            let src = SigmfSource::new(*reader);
            connect!(fg, src > recorder; src > receiver | decoded);
        }
        AirSource::Simulated {
            frames,
            tx_config,
            channel,
        } => {
            let simulator = ChannelSimulator::new(channel)?;
            let tx = fg.add(FrameTransmitter::new(tx_config, frames));
            let channel = ChannelModel::new(simulator);
            connect!(fg, tx > channel; channel > recorder; channel > receiver | decoded);
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
        .block_mut(&recorder)?
        .take_writer()
        .ok_or(FlowgraphError::WriterTaken)?;
    let samples = writer.samples_written();
    let annotations = detection_annotations(&detections, &frames, samples);
    let meta = writer.finish(info, annotations)?;
    Ok(RecordOutcome {
        frames,
        stats,
        meta,
        samples,
        burst_starts,
    })
}
