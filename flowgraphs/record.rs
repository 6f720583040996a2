//! Record what the air carries, decoding it on the way:
//!
//! ```text
//! air source -+-> [Resampler ->] SigmfSink (.sigmf-data)
//!             +-> [Resampler ->] FrameReceiver | FrameSink (frames -> annotations)
//! ```
//!
//! The air source is a cf32 file, a SigMF recording (resampled to 20 MHz), the
//! simulator (`FrameTransmitter -> ChannelModel`), all at 20 MHz, or a radio
//! ([`DeviceSource`]) at its own rate. The recording is kept at the rate its
//! [`RecordingInfo`] names and the receiver runs at 20 MHz, each through a
//! [`Resampler`] when the air's rate differs. After the run the recording's metadata is
//! written with one annotation per detection, its positions at the recording's rate.

use super::{runtime, FlowgraphError};
use crate::blocks::{
    Cf32Source, ChannelModel, DeviceSource, FrameReceiver, FrameSink, FrameTransmitter, Resampler,
    SigmfSink, SigmfSource, TransmitterConfig, TxFrame,
};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::io::cf32::cf32_len_samples;
use crate::io::sigmf_annotation::{detection_annotations, rescale};
use crate::io::{RecordingInfo, ResampledReader, SigmfMeta, SigmfWriter, PHY_SAMPLE_RATE_HZ};
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use crate::radio::stream::RxStream;
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
    /// A radio's receive stream at `sample_rate_hz`, for at most `max_samples`.
    Device {
        name: String,
        stream: Box<dyn RxStream>,
        sample_rate_hz: f64,
        max_samples: Option<u64>,
    },
}

impl AirSource {
    /// Sample rate of the air source, Hz.
    fn sample_rate_hz(&self) -> f64 {
        match self {
            AirSource::Device { sample_rate_hz, .. } => *sample_rate_hz,
            _ => PHY_SAMPLE_RATE_HZ,
        }
    }
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
    /// Receive overflows the device reported (device source only).
    pub overflows: u64,
    /// Why the device was lost, if it was: the recording holds what came before.
    pub device_lost: Option<String>,
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
    let air_rate_hz = air.sample_rate_hz();
    let ratio = |to_hz: f64| {
        resample_ratio(air_rate_hz, to_hz).map_err(|e| {
            FlowgraphError::RecordingRate(format!("{}: {e}", writer.paths().meta.display()))
        })
    };
    let (lr, mr) = ratio(rate_hz)?;
    let (lx, mx) = ratio(PHY_SAMPLE_RATE_HZ)?;

    // Downstream blocks first, the air source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let sink = fg.add(SigmfSink::new(writer));
    let decoded = fg.add(FrameSink::new());
    let receiver = fg.add(FrameReceiver::new(rx_config).recording_detections());
    connect!(fg, receiver | decoded);
    let to_recording = (lr != mr).then(|| fg.add(Resampler::new(RationalResampler::new(lr, mr))));
    let to_receiver = (lx != mx).then(|| fg.add(Resampler::new(RationalResampler::new(lx, mx))));
    if let Some(resampler) = to_recording {
        connect!(fg, resampler > sink);
    }
    if let Some(resampler) = to_receiver {
        connect!(fg, resampler > receiver);
    }
    let mut transmitter = None;
    let mut device = None;
    // The air goes to the recording and to the receiver, each through a resampler
    // when its rate differs from the air's.
    macro_rules! tee {
        ($src:ident) => {
            match to_recording {
                Some(resampler) => {
                    connect!(fg, $src > resampler);
                }
                None => {
                    connect!(fg, $src > sink);
                }
            }
            match to_receiver {
                Some(resampler) => {
                    connect!(fg, $src > resampler);
                }
                None => {
                    connect!(fg, $src > receiver);
                }
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
            let channel = fg.add(ChannelModel::new(simulator));
            tee!(channel);
            let tx = fg.add(FrameTransmitter::new(tx_config, frames));
            connect!(fg, tx > channel);
            transmitter = Some(tx);
        }
        AirSource::Device {
            name,
            stream,
            max_samples,
            ..
        } => {
            let src = fg.add(DeviceSource::new(&name, stream, max_samples));
            tee!(src);
            device = Some(src);
        }
    }

    let mut fg = runtime().run(fg)?;

    let burst_starts = match transmitter {
        Some(tx) => fg.block(&tx)?.burst_starts().to_vec(),
        None => Vec::new(),
    };
    let (overflows, device_lost) = match device {
        Some(src) => {
            let src = fg.block(&src)?;
            (src.overflows(), src.lost().map(str::to_string))
        }
        None => (0, None),
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
        overflows,
        device_lost,
    })
}
