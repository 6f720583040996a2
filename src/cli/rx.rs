//! `m4sc rx`: decode a cf32 file, a SigMF recording, a ZeroMQ stream or a radio,
//! optionally keeping what was received as an annotated SigMF recording; from a radio,
//! optionally serving every user of a multi-user scenario.

use super::device_args::{open_rx_stream, DeviceArgs};
use super::record::{file_source, recording_receiver};
use super::recording_args::RecordingArgs;
use super::report::{fmt_opt, print_json};
use super::scenario_run::{print_summary, ScenarioReceiver};
use clap::Args;
use m4sc::flowgraphs::receive::{receive, receive_radio, receive_radio_scenario};
use m4sc::flowgraphs::record::record;
use m4sc::flowgraphs::replay::replay;
use m4sc::io::{is_sigmf_path, Cf32BlockReader, SigmfWriter, PHY_SAMPLE_RATE_HZ};
use m4sc::link_metrics::{frames_dropped, mean_evm_db, EvmMean};
use m4sc::multiuser::run::ScenarioReport;
use m4sc::phy::rx::{ParallelDecoder, ReceiverConfig};
use m4sc::phy::{RxFrame, RxStats};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct RxArgs {
    /// Input file: FILE.cf32 (interleaved little-endian f32 IQ at 20 MHz) or a SigMF
    /// recording FILE.sigmf-meta (any sample rate; resampled to 20 MHz).
    #[arg(long, short, value_name = "FILE.cf32|FILE.sigmf-meta")]
    pub input: Option<PathBuf>,
    /// Receive from this radio instead (needs a build with the soapy feature).
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Sample rate of the radio, Hz (replaces the profile's; resampled to 20 MHz).
    #[arg(long)]
    pub sample_rate_hz: Option<f64>,
    /// How long to receive from a radio, in seconds.
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// Subscribe to IQ published on this ZeroMQ address (raw complex64 at 20 MHz, GNU
    /// Radio's ZMQ format) instead of reading a file; the stream ends after --zmq-idle-s
    /// without data. Needs a build with the zeromq feature.
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["input", "record", "threads"])]
    pub zmq: Option<String>,
    /// With --zmq: seconds without data that end the stream.
    #[arg(long, default_value_t = 0.5)]
    pub zmq_idle_s: f64,
    /// With --zmq: longest wait for the first data, in seconds.
    #[arg(long, default_value_t = 20.0)]
    pub zmq_wait_s: f64,
    /// Keep what was received as a SigMF recording in DIR (created if missing), named
    /// after the input, with one annotation per detection (frame kind, rate or semantic
    /// header, decode result).
    #[arg(long, value_name = "DIR", conflicts_with = "threads")]
    pub record: Option<PathBuf>,
    /// How --record writes the recording.
    #[command(flatten)]
    pub recording: RecordingArgs,
    /// Decode on N threads, reading the file block by block (memory bounded by the
    /// block size, whatever the file size) instead of through the flowgraph. Frames and
    /// counters are the same either way.
    /// cf32 input only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Block size of --threads, in samples (8 bytes each).
    #[arg(long, default_value_t = 1 << 22, requires = "threads",
          value_parser = clap::value_parser!(u64).range(1..=1 << 28))]
    pub block_samples: u64,
    /// With a radio: every user of this multi-user scenario also runs its semantic
    /// receiver and task on the semantic frames received (what `m4sc tx --scenario
    /// FILE` sends). For a recording use `m4sc replay FILE --scenario FILE`.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Semantic model weights folder of --scenario (the transmitter's).
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// One decoded frame in the `--json` report.
#[derive(Debug, Serialize)]
struct FrameSummary {
    start_sample: u64,
    kind: &'static str,
    rate_mbps: Option<u32>,
    bytes: Option<usize>,
    n_symbols: Option<u16>,
    cfo_hz: f32,
    snr_db: f32,
    evm_db: f32,
}

#[derive(Debug, Serialize)]
struct RxReport {
    input: PathBuf,
    samples: u64,
    frames_decoded: usize,
    frames_dropped: u64,
    evm_db: Option<f64>,
    elapsed_s: f64,
    samples_per_s: f64,
    threads: Option<u16>,
    receiver: RxStats,
    frames: Vec<FrameSummary>,
    /// Each user's result, with --scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<ScenarioReport>,
}

fn summarize(frame: &RxFrame) -> FrameSummary {
    let info = frame.info();
    let (kind, rate_mbps, bytes, n_symbols) = match frame {
        RxFrame::Data(f) => ("data", Some(f.rate.mbps()), Some(f.psdu.len()), None),
        RxFrame::Semantic(f) => ("semantic", None, None, Some(f.header.n_symbols)),
    };
    FrameSummary {
        start_sample: info.start_sample,
        kind,
        rate_mbps,
        bytes,
        n_symbols,
        cfo_hz: info.cfo_hz,
        snr_db: info.snr_db,
        evm_db: info.evm_db,
    }
}

/// What was decoded, whichever way.
struct Decoded {
    frames: Vec<FrameSummary>,
    evm: EvmMean,
    stats: RxStats,
    users: Option<ScenarioReport>,
}

/// Decodes through the receive (cf32) or replay (SigMF) flowgraph.
fn decode_flowgraph(input: &Path) -> anyhow::Result<Decoded> {
    let (frames, stats) = if is_sigmf_path(input) {
        let outcome = replay(input, ReceiverConfig::default())?;
        (outcome.frames, outcome.stats)
    } else {
        let outcome = receive(input, ReceiverConfig::default())?;
        (outcome.frames, outcome.stats)
    };
    Ok(decoded(&frames, stats))
}

fn decoded(frames: &[RxFrame], stats: RxStats) -> Decoded {
    let mut evm = EvmMean::default();
    frames.iter().for_each(|f| evm.add(f));
    debug_assert_eq!(evm.mean_db(), mean_evm_db(frames));
    Decoded {
        frames: frames.iter().map(summarize).collect(),
        evm,
        stats,
        users: None,
    }
}

/// Decodes through the record flowgraph, keeping the input as a SigMF recording in
/// `dir`. Frames that failed the FCS are annotated but not reported as decoded.
fn decode_recording(args: &RxArgs, input: &Path, dir: &Path) -> anyhow::Result<Decoded> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create recording folder {}: {e}", dir.display()))?;
    let stem = input
        .file_stem()
        .map_or("rx".into(), |s| s.to_string_lossy().into_owned());
    let output = dir.join(format!("{stem}.sigmf-meta"));
    let r = &args.recording;
    let info = r.info(
        PHY_SAMPLE_RATE_HZ,
        "file",
        format!("m4sc rx of {}", input.display()),
        None,
    );
    let writer = SigmfWriter::create(&output, r.format, r.full_scale())?;
    let outcome = record(file_source(input)?, writer, recording_receiver(), &info)?;
    log::info!(
        "kept {} samples with {} annotations in {}",
        outcome.samples,
        outcome.meta.annotations.len(),
        output.display()
    );
    let ok: Vec<RxFrame> = outcome
        .frames
        .into_iter()
        .filter(|f| !matches!(f, RxFrame::Data(d) if !d.fcs_ok))
        .collect();
    Ok(decoded(&ok, outcome.stats))
}

/// Decodes block by block on `n_threads` threads, keeping only frame summaries.
fn decode_blocks(args: &RxArgs, input: &Path, n_threads: usize) -> anyhow::Result<Decoded> {
    let mut reader = Cf32BlockReader::open(input)?;
    let mut decoder = ParallelDecoder::new(ReceiverConfig::default(), n_threads);
    let (mut block, mut frames) = (Vec::new(), Vec::new());
    let mut out = Decoded {
        frames: Vec::new(),
        evm: EvmMean::default(),
        stats: RxStats::default(),
        users: None,
    };
    loop {
        reader.read_block(args.block_samples as usize, &mut block)?;
        let last = reader.at_end();
        decoder.process_block(&block, last, &mut frames);
        for f in frames.drain(..) {
            out.evm.add(&f);
            out.frames.push(summarize(&f));
        }
        if last {
            break;
        }
    }
    out.stats = decoder.stats();
    Ok(out)
}

pub fn run(args: &RxArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let radio = args.device.profile(args.sample_rate_hz)?;
    if args.scenario.is_some() && radio.is_none() {
        anyhow::bail!(
            "--scenario serves a radio's users (--device or --profile); for a recording use \
             `m4sc replay FILE.sigmf-meta --scenario FILE`"
        );
    }
    let (input, decoded) = match (&args.zmq, &args.input) {
        _ if radio.is_some() => {
            if args.input.is_some() || args.zmq.is_some() || args.record.is_some() {
                anyhow::bail!(
                    "a radio is its own input: drop --input, --zmq and --record (use m4sc \
                     record to keep what a radio receives)"
                );
            }
            let profile = radio.as_ref().expect("checked");
            let (decoded, name) = decode_radio(args, profile)?;
            (PathBuf::from(name), decoded)
        }
        (Some(address), _) => (PathBuf::from(address), decode_zmq(args, address)?),
        (None, Some(input)) => {
            if args.threads.is_some() && is_sigmf_path(input) {
                anyhow::bail!(
                    "--threads reads cf32 files only; {} is a SigMF recording",
                    input.display()
                );
            }
            let decoded = match (args.threads, &args.record) {
                (Some(n), _) => decode_blocks(args, input, usize::from(n))?,
                (None, Some(dir)) => decode_recording(args, input, dir)?,
                (None, None) => decode_flowgraph(input)?,
            };
            (input.clone(), decoded)
        }
        (None, None) => anyhow::bail!(
            "nothing to receive: give --input FILE, --zmq ADDRESS, or a radio (--device ARGS or \
             --profile hw/NAME.toml)"
        ),
    };
    let elapsed_s = start.elapsed().as_secs_f64();
    let report = RxReport {
        input,
        samples: decoded.stats.samples,
        frames_decoded: decoded.frames.len(),
        frames_dropped: frames_dropped(&decoded.stats),
        evm_db: decoded.evm.mean_db(),
        elapsed_s,
        samples_per_s: decoded.stats.samples as f64 / elapsed_s,
        threads: args.threads,
        receiver: decoded.stats,
        frames: decoded.frames,
        users: decoded.users,
    };
    if args.json {
        return print_json(&report);
    }
    let s = &report.receiver;
    println!("{}: {} samples", report.input.display(), report.samples);
    println!(
        "frames: {} decoded ({} data, {} semantic), {} dropped after detection",
        report.frames_decoded, s.data_frames, s.semantic_frames, report.frames_dropped
    );
    println!(
        "drops:  {} sync failures, {} SIGNAL errors, {} header errors, {} FCS errors, \
         {} truncated",
        s.sync_failures, s.signal_errors, s.header_errors, s.fcs_errors, s.truncated
    );
    println!("EVM:    {}", fmt_opt(report.evm_db, 2, " dB"));
    println!(
        "{:.2} s, {:.2} Msample/s{}",
        report.elapsed_s,
        report.samples_per_s / 1e6,
        args.threads
            .map_or(" (flowgraph)".to_string(), |n| format!(" ({n} threads)"))
    );
    if let Some(users) = &report.users {
        print_summary(users);
    }
    Ok(())
}

/// Decodes what a ZeroMQ publisher sends.
#[cfg(feature = "zeromq")]
fn decode_zmq(args: &RxArgs, address: &str) -> anyhow::Result<Decoded> {
    use std::time::Duration;
    let idle = Duration::from_secs_f64(args.zmq_idle_s.max(0.0));
    let wait = Duration::from_secs_f64(args.zmq_wait_s.max(0.0));
    let outcome =
        m4sc::flowgraphs::network::receive_zmq(address, idle, wait, ReceiverConfig::default())?;
    Ok(decoded(&outcome.frames, outcome.stats))
}

#[cfg(not(feature = "zeromq"))]
fn decode_zmq(_args: &RxArgs, _address: &str) -> anyhow::Result<Decoded> {
    anyhow::bail!(
        "this m4sc was built without ZeroMQ: rebuild with `cargo build --release --features \
         zeromq`"
    )
}

/// Decodes what a radio receives for --duration-s; returns the frames and the radio's
/// name. A lost radio is an error, after the count of frames decoded before it is
/// logged.
fn decode_radio(
    args: &RxArgs,
    profile: &m4sc::radio::DeviceProfile,
) -> anyhow::Result<(Decoded, String)> {
    let duration_s = match args.duration_s {
        Some(d) if d.is_finite() && d > 0.0 => d,
        _ => anyhow::bail!("receiving from a radio needs --duration-s (a positive number)"),
    };
    let rate = profile.sample_rate_hz;
    let scenario = match &args.scenario {
        Some(path) => Some(ScenarioReceiver::load(path, &args.weights)?),
        None => None,
    };
    let (stream, name) = open_rx_stream(profile)?;
    let max_samples = Some((duration_s * rate).round() as u64);
    let config = ReceiverConfig::default();
    let (out, users) = match &scenario {
        Some(s) => {
            let (out, outcomes) =
                receive_radio_scenario(&name, stream, rate, max_samples, config, s.users())?;
            let samples_20mhz = (out.samples as f64 * PHY_SAMPLE_RATE_HZ / rate).round() as u64;
            let report = s.report(outcomes, samples_20mhz)?;
            (out, Some(report))
        }
        None => (
            receive_radio(&name, stream, rate, max_samples, config)?,
            None,
        ),
    };
    if out.overflows > 0 {
        log::warn!("{name}: {} receive overflows", out.overflows);
    }
    if let Some(reason) = &out.device_lost {
        log::warn!(
            "{name}: {} frames decoded before the radio was lost",
            out.frames.len()
        );
        anyhow::bail!("radio lost: {reason}");
    }
    let mut decoded = decoded(&out.frames, out.stats);
    decoded.users = users;
    Ok((decoded, name))
}
