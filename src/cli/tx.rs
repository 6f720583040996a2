//! `m4sc tx`: encode random data frames into a cf32 file.

use super::args::FrameArgs;
use super::report::print_json;
use clap::Args;
use m4sc::channel::ChannelConfig;
use m4sc::flowgraphs::transmit::transmit;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TxArgs {
    /// Output file: interleaved little-endian f32 IQ at 20 MHz.
    #[arg(long, short, value_name = "FILE.cf32")]
    pub output: PathBuf,
    #[command(flatten)]
    pub frames: FrameArgs,
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
    output: PathBuf,
    frames_sent: u64,
    samples: u64,
    rate_mbps: u32,
    psdu_bytes: usize,
    snr_db: Option<f32>,
    seed: u64,
    elapsed_s: f64,
}

pub fn run(args: &TxArgs) -> anyhow::Result<()> {
    let frames = args.frames.frames()?;
    let start = Instant::now();
    let channel = ChannelConfig {
        snr_db: args.snr_db,
        seed: args.frames.seed,
        ..ChannelConfig::default()
    };
    let outcome = transmit(
        frames,
        args.frames.transmitter_config(),
        channel,
        &args.output,
    )?;
    let report = TxReport {
        output: args.output.clone(),
        frames_sent: outcome.frames_sent,
        samples: outcome.samples,
        rate_mbps: args.frames.rate.mbps(),
        psdu_bytes: args.frames.payload_bytes,
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
    println!(
        "wrote {} frames ({} Mb/s, {}-byte PSDUs), {} samples, to {}",
        report.frames_sent,
        report.rate_mbps,
        report.psdu_bytes,
        report.samples,
        report.output.display()
    );
    Ok(())
}
