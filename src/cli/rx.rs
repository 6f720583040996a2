//! `m4sc rx`: decode a cf32 file.

use super::report::{fmt_opt, print_json};
use clap::Args;
use m4sc::flowgraphs::receive::receive;
use m4sc::link_metrics::{frames_dropped, mean_evm_db};
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{RxFrame, RxStats};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct RxArgs {
    /// Input file: interleaved little-endian f32 IQ at 20 MHz.
    #[arg(long, short, value_name = "FILE.cf32")]
    pub input: PathBuf,
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
    receiver: RxStats,
    frames: Vec<FrameSummary>,
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

pub fn run(args: &RxArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let outcome = receive(&args.input, ReceiverConfig::default())?;
    let report = RxReport {
        input: args.input.clone(),
        samples: outcome.stats.samples,
        frames_decoded: outcome.frames.len(),
        frames_dropped: frames_dropped(&outcome.stats),
        evm_db: mean_evm_db(&outcome.frames),
        elapsed_s: start.elapsed().as_secs_f64(),
        receiver: outcome.stats,
        frames: outcome.frames.iter().map(summarize).collect(),
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
    Ok(())
}
