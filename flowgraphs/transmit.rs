//! Transmit to a file:
//!
//! ```text
//! frames -> FrameTransmitter -> ChannelModel -> Cf32Sink (.cf32 file)
//!                                            or SigmfSink (.sigmf-data + .sigmf-meta)
//! frames -> FrameTransmitter -> [Resampler ->] DeviceSink (radio)
//! ```
//!
//! With `ChannelConfig::default()` the channel is an identity and the file holds the
//! transmitted samples exactly.

use super::{runtime, FlowgraphError};
use crate::blocks::{
    Cf32Sink, ChannelModel, DeviceSink, FrameTransmitter, Resampler, SigmfSink, TransmitterConfig,
    TxFrame,
};
use crate::channel::{ChannelConfig, ChannelSimulator};
use crate::io::sigmf_annotation::tx_annotation;
use crate::io::PHY_SAMPLE_RATE_HZ;
use crate::io::{RecordingInfo, SigmfMeta, SigmfWriter};
use crate::radio::stream::TxStream;
use crate::resample::{resample_ratio, RationalResampler};
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

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let file = fg.add(Cf32Sink::new(path));
    let channel = fg.add(ChannelModel::new(simulator));
    let transmitter = fg.add(FrameTransmitter::new(config, frames));
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

/// Like [`transmit`], into a SigMF recording: the data through `writer`, then the
/// metadata with `info` and one annotation per frame sent, as sent (kind, rate, PSDU
/// length and CRC-32, or the semantic header), at its burst start.
pub fn transmit_sigmf(
    frames: Vec<TxFrame>,
    config: TransmitterConfig,
    channel: ChannelConfig,
    writer: SigmfWriter,
    info: &RecordingInfo,
) -> Result<(TransmitOutcome, SigmfMeta), FlowgraphError> {
    let simulator = ChannelSimulator::new(channel)?;
    let sent = frames.clone();

    let mut fg = Flowgraph::new();
    let recording = fg.add(SigmfSink::new(writer));
    let channel = fg.add(ChannelModel::new(simulator));
    let transmitter = fg.add(FrameTransmitter::new(config, frames));
    connect!(fg, transmitter > channel > recording);

    let mut fg = runtime().run(fg)?;

    let tx = fg.block(&transmitter)?;
    let outcome = TransmitOutcome {
        frames_sent: tx.frames_sent(),
        encode_errors: tx.encode_errors(),
        samples: 0,
        burst_starts: tx.burst_starts().to_vec(),
    };
    let writer = fg
        .block_mut(&recording)?
        .take_writer()
        .ok_or(FlowgraphError::WriterTaken)?;
    let samples = writer.samples_written();
    // Burst starts count frames that were encoded, in order; frames that failed to
    // encode have no burst and get no annotation.
    let annotations = sent
        .iter()
        .zip(&outcome.burst_starts)
        .map(|(f, &start)| tx_annotation(f, start))
        .collect();
    let meta = writer.finish(info, annotations)?;
    Ok((TransmitOutcome { samples, ..outcome }, meta))
}

/// What [`transmit_radio`] sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioTransmitOutcome {
    pub frames_sent: u64,
    pub encode_errors: u64,
    /// Samples the radio took, at its rate.
    pub samples_sent: u64,
    pub underflows: u64,
    /// Why the radio was lost, if it was (the rest of the frames were not sent).
    pub device_lost: Option<String>,
}

/// Encodes `frames` and sends them to a radio's transmit stream at `sample_rate_hz`
/// (resampled from 20 MHz when it differs), multiplied by `scale`.
pub fn transmit_radio(
    frames: Vec<TxFrame>,
    config: TransmitterConfig,
    name: &str,
    stream: Box<dyn TxStream>,
    sample_rate_hz: f64,
    scale: f32,
) -> Result<RadioTransmitOutcome, FlowgraphError> {
    let (l, m) = resample_ratio(PHY_SAMPLE_RATE_HZ, sample_rate_hz)
        .map_err(|e| FlowgraphError::RecordingRate(format!("{name}: {e}")))?;

    let mut fg = Flowgraph::new();
    let radio = fg.add(DeviceSink::new(name, stream, scale));
    let resampler = (l != m).then(|| fg.add(Resampler::new(RationalResampler::new(l, m))));
    let transmitter = fg.add(FrameTransmitter::new(config, frames));
    match resampler {
        Some(resampler) => {
            connect!(fg, transmitter > resampler > radio);
        }
        None => {
            connect!(fg, transmitter > radio);
        }
    }

    let fg = runtime().run(fg)?;

    let tx = fg.block(&transmitter)?;
    let radio = fg.block(&radio)?;
    Ok(RadioTransmitOutcome {
        frames_sent: tx.frames_sent(),
        encode_errors: tx.encode_errors(),
        samples_sent: radio.samples_sent(),
        underflows: radio.underflows(),
        device_lost: radio.lost().map(str::to_string),
    })
}
