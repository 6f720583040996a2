//! `m4sc loopback`: transmitter, simulated channel and receiver in one flowgraph.
//! By default a multi-user semantic scenario (`--scenario FILE`, or the built-in one);
//! with `--data-frames`, random 802.11a data frames through one channel.

use super::args::{ChannelArgs, ChannelKind, FrameArgs};
use super::report::{fmt_opt, fmt_sci, print_json};
use clap::{Args, FromArgMatches};
use m4sc::flowgraphs::loopback::loopback;
use m4sc::link_metrics::measure;
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::RxStats;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

pub const LONG_ABOUT: &str = "\
Run a multi-user semantic scenario through the radio, or (--data-frames) send random
802.11a data frames through a simulated channel and measure the link.

Scenario mode (the default; --scenario FILE, else the built-in four-users-one-image
scenario): the semantic model encodes every user's content, shared tokens go once on
the public stream and the rest on private streams, one transmitter is heard by one
channel and receiver per user. Per user: task, metric against the ground truth
(psnr_db for reconstruct, exact_match otherwise), frames sent/received/lost and
channel symbols; totals total_channel_symbols and unshared_channel_symbols (every user
served on its own). --out DIR writes answers, reconstructions and a record per user.

Data-frame figures (--data-frames):
  per       packet error rate: 1 - (frames received with a valid FCS) / (frames sent).
  ber       bit error rate: PSDU bits in error / PSDU bits compared, over the frames
            whose SIGNAL field decoded to the rate and length sent (frames failing
            the FCS included; frames never detected or with a wrong SIGNAL are
            counted by per only). null when no frame was compared.
  evm_db    mean error vector magnitude the receiver measured on decoded frames,
            averaged in power, in dB. null when no frame was decoded.
  samples   baseband samples sent through the channel (20 MHz).
  elapsed_s wall-clock time of the run.
Received frames are paired with sent frames by their position in the sample stream.";

#[derive(Debug, Args)]
pub struct LoopbackArgs {
    /// Multi-user scenario file (TOML); without it the built-in scenario runs.
    #[arg(long, value_name = "FILE", conflicts_with = "data_frames")]
    pub scenario: Option<PathBuf>,
    /// Send random 802.11a data frames instead of a semantic scenario (the options
    /// --frames, --rate, --payload-bytes, --gap-samples, --seed, --snr-db, --channel,
    /// --delay-spread-ns and --cfo-hz apply to this mode only).
    #[arg(long)]
    pub data_frames: bool,
    /// Semantic model weights folder.
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// Write each user's outputs and record under DIR/<user>/ (scenario mode).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also serve every user alone over its channel and report metric_alone.
    #[arg(long)]
    pub compare_alone: bool,
    #[command(flatten)]
    pub frames: FrameArgs,
    #[command(flatten)]
    pub channel: ChannelArgs,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` report: `frames_sent`, `frames_received`, `per`, `ber`, `evm_db`,
/// `samples` and `elapsed_s`, then the run's parameters and finer counters.
#[derive(Debug, Serialize)]
struct LoopbackReport {
    frames_sent: u64,
    frames_received: u64,
    per: f64,
    ber: Option<f64>,
    evm_db: Option<f64>,
    samples: u64,
    elapsed_s: f64,
    rate_mbps: u32,
    psdu_bytes: usize,
    snr_db: f32,
    channel: ChannelKind,
    delay_spread_ns: Option<f64>,
    cfo_hz: f64,
    seed: u64,
    frames_signal_ok: u64,
    bit_errors: u64,
    bits_compared: u64,
    signal_mismatches: u64,
    undetected_errors: u64,
    spurious_frames: u64,
    receiver: RxStats,
}

pub fn run(args: &LoopbackArgs) -> anyhow::Result<()> {
    if args.data_frames {
        run_data_frames(args)
    } else {
        refuse_data_frame_options(args)?;
        super::scenario_run::run(
            args.scenario.as_deref(),
            &args.weights,
            args.out.as_deref(),
            args.compare_alone,
            args.json,
        )
    }
}

/// Data-frame options given without `--data-frames` would be ignored: refuse them.
fn refuse_data_frame_options(args: &LoopbackArgs) -> anyhow::Result<()> {
    let cmd = LoopbackArgs::augment_args(clap::Command::new("loopback"));
    let defaults = LoopbackArgs::from_arg_matches(&cmd.get_matches_from(["loopback"]))?;
    let given = format!("{:?}{:?}", args.frames, args.channel);
    if given != format!("{:?}{:?}", defaults.frames, defaults.channel) {
        anyhow::bail!(
            "data-frame and channel options apply to `loopback --data-frames` only; a \
             scenario sets each user's channel in its file"
        );
    }
    Ok(())
}

fn run_data_frames(args: &LoopbackArgs) -> anyhow::Result<()> {
    let frames = args.frames.frames()?;
    let channel = args.channel.config(args.frames.seed);
    let rx_config = ReceiverConfig {
        keep_failed_fcs: true,
        ..ReceiverConfig::default()
    };
    log::info!(
        "loopback: {} frames of {} bytes at {} Mb/s, {} channel, SNR {} dB",
        frames.len(),
        args.frames.payload_bytes,
        args.frames.rate.mbps(),
        args.channel.channel,
        args.channel.snr_db
    );
    let start = Instant::now();
    let outcome = loopback(
        frames.clone(),
        args.frames.transmitter_config(),
        channel,
        rx_config,
    )?;
    let elapsed_s = start.elapsed().as_secs_f64();
    let m = measure(&frames, &outcome.burst_starts, &outcome.received);

    let report = LoopbackReport {
        frames_sent: m.frames_sent,
        frames_received: m.frames_received,
        per: m.per,
        ber: m.ber,
        evm_db: m.evm_db,
        samples: outcome.samples,
        elapsed_s,
        rate_mbps: args.frames.rate.mbps(),
        psdu_bytes: args.frames.payload_bytes,
        snr_db: args.channel.snr_db,
        channel: args.channel.channel,
        delay_spread_ns: (args.channel.channel == ChannelKind::Multipath)
            .then_some(args.channel.delay_spread_ns),
        cfo_hz: args.channel.cfo_hz,
        seed: args.frames.seed,
        frames_signal_ok: m.frames_signal_ok,
        bit_errors: m.bit_errors,
        bits_compared: m.bits_compared,
        signal_mismatches: m.signal_mismatches,
        undetected_errors: m.undetected_errors,
        spurious_frames: m.spurious_frames,
        receiver: outcome.stats,
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "{} Mb/s, {}-byte PSDUs, {} channel, SNR {} dB, CFO {} Hz",
        report.rate_mbps, report.psdu_bytes, report.channel, report.snr_db, report.cfo_hz
    );
    println!(
        "frames: {} sent, {} received with valid FCS   PER {:.4}",
        report.frames_sent, report.frames_received, report.per
    );
    println!(
        "bits:   {} errors in {} compared           BER {}",
        report.bit_errors,
        report.bits_compared,
        fmt_sci(report.ber)
    );
    println!("EVM:    {}", fmt_opt(report.evm_db, 2, " dB"));
    println!(
        "receiver: {} detected, {} sync failures, {} SIGNAL errors, {} FCS errors, \
         {} truncated",
        report.receiver.detected,
        report.receiver.sync_failures,
        report.receiver.signal_errors,
        report.receiver.fcs_errors,
        report.receiver.truncated
    );
    println!(
        "{} samples in {:.2} s ({:.1} Msample/s)",
        report.samples,
        elapsed_s,
        report.samples as f64 / elapsed_s / 1e6
    );
    Ok(())
}
