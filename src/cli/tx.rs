//! `m4sc tx`: encode random data frames, or a multi-user scenario's semantic frames,
//! into a cf32 file, a SigMF recording, a radio or a ZeroMQ stream.

use super::args::FrameArgs;
use super::device_args::{open_tx_stream, DeviceArgs};
use super::recording_args::RecordingArgs;
use super::report::print_json;
use super::semantic_args::SemanticArgs;
use clap::Args;
use m4sc::blocks::TxFrame;
use m4sc::channel::ChannelConfig;
use m4sc::flowgraphs::transmit::{transmit, transmit_radio, transmit_sigmf};
use m4sc::io::{is_sigmf_path, SigmfWriter, PHY_SAMPLE_RATE_HZ};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TxArgs {
    /// Output file: FILE.cf32 (interleaved little-endian f32 IQ at 20 MHz) or
    /// FILE.sigmf-meta (a SigMF recording, FILE.sigmf-data beside it, with one
    /// annotation per frame sent). Without it, a radio (--device or --profile).
    #[arg(long, short, value_name = "FILE.cf32|FILE.sigmf-meta")]
    pub output: Option<PathBuf>,
    /// Send to this radio instead of a file (needs a build with the soapy feature).
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Publish the samples on this ZeroMQ address (e.g. tcp://127.0.0.1:5555) as raw
    /// complex64 (GNU Radio's ZMQ format) instead of writing a file; needs a build with
    /// the zeromq feature.
    #[arg(long, value_name = "ADDRESS")]
    pub zmq: Option<String>,
    /// With --zmq: wait for this many subscribers before publishing.
    #[arg(long, default_value_t = 1)]
    pub zmq_subscribers: usize,
    /// With --zmq: longest wait for the subscribers, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub zmq_wait_s: f64,
    /// Sample rate of the radio, Hz (replaces the profile's; resampled from 20 MHz).
    #[arg(long)]
    pub sample_rate_hz: Option<f64>,
    /// Scale of the samples sent to a radio (unit average power before it; the
    /// radio's range is [-1, 1] and OFDM peaks reach about 4).
    #[arg(long, default_value_t = 0.25)]
    pub radio_scale: f32,
    #[command(flatten)]
    pub frames: FrameArgs,
    #[command(flatten)]
    pub semantic: SemanticArgs,
    /// Send this multi-user scenario's frames (what `m4sc loopback --scenario FILE`
    /// sends: public and private semantic frames, interleaved) instead of data and
    /// semantic test frames. A recording of them replays with `m4sc replay
    /// --scenario FILE`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["frames", "semantic_frames"])]
    pub scenario: Option<PathBuf>,
    /// Semantic model weights folder of --scenario.
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// SigMF output only.
    #[command(flatten)]
    pub recording: RecordingArgs,
    /// Add white Gaussian noise at this SNR (per sample against the unit transmit
    /// power, in dB) with the channel simulator, seeded by --seed; without it the file
    /// holds the transmitted samples exactly.
    #[arg(long, allow_negative_numbers = true)]
    pub snr_db: Option<f32>,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct TxReport {
    output: Option<PathBuf>,
    device: Option<String>,
    underflows: Option<u64>,
    frames_sent: u64,
    samples: u64,
    rate_mbps: u32,
    psdu_bytes: usize,
    semantic_frames: usize,
    scenario: Option<PathBuf>,
    snr_db: Option<f32>,
    seed: u64,
    elapsed_s: f64,
}

pub fn run(args: &TxArgs) -> anyhow::Result<()> {
    let (frames, scenario_description) = match &args.scenario {
        Some(path) => {
            let (frames, described) = super::record::scenario_frames(path, &args.weights)?;
            (frames, Some(described))
        }
        None => {
            let mut frames = args.frames.frames()?;
            frames.extend(args.semantic.frames(args.frames.seed)?);
            (frames, None)
        }
    };
    let n_semantic = frames
        .iter()
        .filter(|f| matches!(f, TxFrame::Semantic { .. }))
        .count();
    let start = Instant::now();
    let channel = ChannelConfig {
        snr_db: args.snr_db,
        seed: args.frames.seed,
        ..ChannelConfig::default()
    };
    let tx_config = args.frames.transmitter_config();
    if let Some(profile) = args.device.profile(args.sample_rate_hz)? {
        if args.output.is_some() {
            anyhow::bail!("choose one: --output FILE or a radio (--device/--profile)");
        }
        let (stream, name) = open_tx_stream(&profile)?;
        let rate = profile.sample_rate_hz;
        let out = transmit_radio(frames, tx_config, &name, stream, rate, args.radio_scale)?;
        let report = TxReport {
            output: None,
            device: Some(name.clone()),
            underflows: Some(out.underflows),
            frames_sent: out.frames_sent,
            samples: out.samples_sent,
            rate_mbps: args.frames.rate.mbps(),
            psdu_bytes: args.frames.payload_bytes,
            semantic_frames: n_semantic,
            scenario: args.scenario.clone(),
            snr_db: None,
            seed: args.frames.seed,
            elapsed_s: start.elapsed().as_secs_f64(),
        };
        if args.json {
            print_json(&report)?;
        } else {
            println!(
                "sent {} frames, {} samples, to {name}",
                report.frames_sent, report.samples
            );
        }
        if let Some(reason) = out.device_lost {
            anyhow::bail!("radio lost: {reason}");
        }
        return Ok(());
    }
    if let Some(address) = &args.zmq {
        let wait = std::time::Duration::from_secs_f64(args.zmq_wait_s.max(0.0));
        let outcome = publish(
            frames,
            tx_config,
            channel,
            address,
            args.zmq_subscribers,
            wait,
        )?;
        let report = TxReport {
            output: None,
            device: Some(address.clone()),
            underflows: None,
            frames_sent: outcome.frames_sent,
            samples: outcome.samples,
            rate_mbps: args.frames.rate.mbps(),
            psdu_bytes: args.frames.payload_bytes,
            semantic_frames: n_semantic,
            scenario: args.scenario.clone(),
            snr_db: args.snr_db,
            seed: args.frames.seed,
            elapsed_s: start.elapsed().as_secs_f64(),
        };
        if args.json {
            return print_json(&report);
        }
        println!(
            "published {} frames, {} samples, on {address}",
            report.frames_sent, report.samples
        );
        return Ok(());
    }
    let Some(output) = &args.output else {
        anyhow::bail!("nowhere to send: give --output FILE or a radio (--device/--profile)");
    };
    let outcome = if is_sigmf_path(output) {
        let r = &args.recording;
        let writer = SigmfWriter::create(output, r.format, r.full_scale())?;
        let noise = args
            .snr_db
            .map_or("no noise".to_string(), |s| format!("AWGN at {s} dB SNR"));
        let description = match &scenario_description {
            Some(described) => format!("m4sc tx: {described}, {noise}, seed {}", args.frames.seed),
            None => format!(
                "m4sc tx: {} data frames at {} Mb/s ({}-byte PSDUs) and {} semantic frames, \
                 {noise}, seed {}",
                args.frames.frames,
                args.frames.rate.mbps(),
                args.frames.payload_bytes,
                args.semantic.semantic_frames,
                args.frames.seed
            ),
        };
        let info = r.info(
            PHY_SAMPLE_RATE_HZ,
            "m4sc transmitter (no radio)",
            description,
            Some(args.frames.seed),
        );
        transmit_sigmf(frames, tx_config, channel, writer, &info)?.0
    } else {
        transmit(frames, tx_config, channel, output)?
    };
    let report = TxReport {
        output: Some(output.clone()),
        device: None,
        underflows: None,
        frames_sent: outcome.frames_sent,
        samples: outcome.samples,
        rate_mbps: args.frames.rate.mbps(),
        psdu_bytes: args.frames.payload_bytes,
        semantic_frames: n_semantic,
        scenario: args.scenario.clone(),
        snr_db: args.snr_db,
        seed: args.frames.seed,
        elapsed_s: start.elapsed().as_secs_f64(),
    };
    if outcome.encode_errors > 0 {
        anyhow::bail!("{} frames could not be encoded", outcome.encode_errors);
    }
    if args.json {
        return print_json(&report);
    }
    if let Some(described) = &scenario_description {
        println!(
            "wrote {} frames of {described}, {} samples, to {}",
            report.frames_sent,
            report.samples,
            output.display()
        );
        return Ok(());
    }
    println!(
        "wrote {} frames ({} Mb/s, {}-byte PSDUs; {} semantic), {} samples, to {}",
        report.frames_sent,
        report.rate_mbps,
        report.psdu_bytes,
        report.semantic_frames,
        report.samples,
        output.display()
    );
    Ok(())
}

#[cfg(feature = "zeromq")]
fn publish(
    frames: Vec<m4sc::blocks::TxFrame>,
    config: m4sc::blocks::TransmitterConfig,
    channel: ChannelConfig,
    address: &str,
    subscribers: usize,
    wait: std::time::Duration,
) -> anyhow::Result<m4sc::flowgraphs::transmit::TransmitOutcome> {
    Ok(m4sc::flowgraphs::network::transmit_zmq(
        frames,
        config,
        channel,
        address,
        subscribers,
        wait,
    )?)
}

#[cfg(not(feature = "zeromq"))]
fn publish(
    _frames: Vec<m4sc::blocks::TxFrame>,
    _config: m4sc::blocks::TransmitterConfig,
    _channel: ChannelConfig,
    _address: &str,
    _subscribers: usize,
    _wait: std::time::Duration,
) -> anyhow::Result<m4sc::flowgraphs::transmit::TransmitOutcome> {
    anyhow::bail!(
        "this m4sc was built without ZeroMQ: rebuild with `cargo build --release --features \
         zeromq`"
    )
}
