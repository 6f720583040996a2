//! `m4sc replay`: decode a SigMF recording and compare with its annotations.

use super::record::WEIGHTS_TAG;
use super::report::{fmt_opt, print_json};
use super::scenario_run::{print_summary, ScenarioReceiver};
use clap::Args;
use m4sc::flowgraphs::replay::{replay, replay_scenario, ReplayOutcome};
use m4sc::io::sigmf_annotation::payload_crc32;
use m4sc::io::sigmf_match::{match_annotations, AnnotationMatch};
use m4sc::io::{SigmfReader, PHY_SAMPLE_RATE_HZ};
use m4sc::link_metrics::{frames_dropped, mean_evm_db};
use m4sc::multiuser::run::ScenarioReport;
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{RxFrame, RxStats};
use m4sc::semantic::model_config::weights_fingerprint;
use serde::Serialize;
use std::path::Path;
use std::path::PathBuf;
use std::time::Instant;

pub const LONG_ABOUT: &str = "\
Decode a SigMF recording (NAME.sigmf-meta with NAME.sigmf-data beside it) through the \
receive flowgraph, resampled to 20 MHz when recorded at another rate, and compare what \
was decoded with the recording's annotations.

The recording is checked first: metadata fields, datatype (cf32_le, ci16_le, ci8), \
data length and SHA-512; a NaN sample stops the replay. Errors name the file.

Figures: frames_decoded (data frames with a valid FCS plus semantic frames with a valid \
header); frames_dropped (detections that gave no frame); frames_expected (annotations \
that claim a frame: frames as sent, or decoded ok when recorded); frames_matched (of \
those, decoded again at the same place, within 80 samples at 20 MHz, with the same PSDU \
CRC-32 or semantic header); frames_lost = expected - matched; frames_unexpected \
(decoded frames no annotation claims).

With --scenario FILE (a recording of that scenario's transmission, such as `m4sc record \
--simulate --scenario FILE` writes), every user of the scenario also runs its semantic \
receiver and task on the frames decoded, and the report adds each user's result against \
the scenario's ground truth. All users hear the one recording (the scenario's channel \
entries do not apply; each user's SNR is its receiver's estimate). The transmitter is run again locally to know what was sent, so \
--weights must be the weights that made the recording: a recording whose description \
names other weights (weights sha256:...) is refused.";

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording: NAME.sigmf-meta, NAME.sigmf-data or NAME.
    #[arg(value_name = "FILE.sigmf-meta")]
    pub input: PathBuf,
    /// Also run every user of this multi-user scenario on the semantic frames.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Semantic model weights folder of --scenario.
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// One decoded frame in the `--json` report.
#[derive(Debug, Serialize)]
struct ReplayedFrame {
    start_sample: u64,
    kind: &'static str,
    rate_mbps: Option<u32>,
    psdu_bytes: Option<usize>,
    psdu_crc32: Option<String>,
    user: Option<u8>,
    message_id: Option<u16>,
    n_symbols: Option<u16>,
    snr_db: f32,
    evm_db: f32,
}

#[derive(Debug, Serialize)]
struct ReplayReport {
    input: PathBuf,
    datatype: String,
    sample_rate_hz: f64,
    recorded_samples: u64,
    frames_decoded: usize,
    frames_dropped: u64,
    #[serde(flatten)]
    annotations: AnnotationMatch,
    frames_lost: usize,
    evm_db: Option<f64>,
    elapsed_s: f64,
    receiver: RxStats,
    frames: Vec<ReplayedFrame>,
    /// Each user's result, with --scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<ScenarioReport>,
}

fn summarize(frame: &RxFrame) -> ReplayedFrame {
    let info = frame.info();
    let mut out = ReplayedFrame {
        start_sample: info.start_sample,
        kind: "data",
        rate_mbps: None,
        psdu_bytes: None,
        psdu_crc32: None,
        user: None,
        message_id: None,
        n_symbols: None,
        snr_db: info.snr_db,
        evm_db: info.evm_db,
    };
    match frame {
        RxFrame::Data(f) => {
            out.rate_mbps = Some(f.rate.mbps());
            out.psdu_bytes = Some(f.psdu.len());
            out.psdu_crc32 = Some(payload_crc32(&f.psdu));
        }
        RxFrame::Semantic(f) => {
            out.kind = "semantic";
            out.user = Some(f.header.destination);
            out.message_id = Some(f.header.message_id);
            out.n_symbols = Some(f.header.n_symbols);
        }
    }
    out
}

/// Refuses weights other than those the recording's description names, if it names any.
fn check_weights(input: &Path, description: &str, weights: &Path) -> anyhow::Result<()> {
    let Some(at) = description.find(WEIGHTS_TAG) else {
        log::warn!(
            "{}: the recording does not name the weights of its semantic frames; \
             assuming {}",
            input.display(),
            weights.display()
        );
        return Ok(());
    };
    let recorded: String = description[at + WEIGHTS_TAG.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let ours = weights_fingerprint(weights)?;
    if recorded != ours {
        anyhow::bail!(
            "{}: recorded with weights sha256:{recorded}, but {} are sha256:{ours}; \
             replay with the weights that made the recording (or record it again)",
            input.display(),
            weights.display()
        );
    }
    Ok(())
}

/// Replays with every user of `scenario_path`; the PHY outcome and the users' report.
fn replay_users(
    args: &ReplayArgs,
    scenario_path: &Path,
) -> anyhow::Result<(ReplayOutcome, ScenarioReport)> {
    let meta = SigmfReader::open(&args.input)?.meta().clone();
    let description = meta.global.description.clone().unwrap_or_default();
    check_weights(&args.input, &description, &args.weights)?;
    let s = ScenarioReceiver::load(scenario_path, &args.weights)?;
    let (outcome, users) = replay_scenario(
        &args.input,
        ReceiverConfig::default(),
        &s.scenario,
        &s.model,
        &s.tokenizer,
    )?;
    let samples_20mhz = (outcome.recorded_samples as f64 * PHY_SAMPLE_RATE_HZ
        / outcome.meta.global.sample_rate_hz)
        .round() as u64;
    let report = s.report(users, samples_20mhz)?;
    Ok((outcome, report))
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let (outcome, users) = match &args.scenario {
        Some(path) => {
            let (outcome, users) = replay_users(args, path)?;
            (outcome, Some(users))
        }
        None => (replay(&args.input, ReceiverConfig::default())?, None),
    };
    let g = &outcome.meta.global;
    let annotations =
        match_annotations(&outcome.meta.annotations, g.sample_rate_hz, &outcome.frames);
    if annotations.frames_lost() > 0 {
        log::warn!(
            "{}: {} annotated frames not decoded, at recording samples {:?}",
            args.input.display(),
            annotations.frames_lost(),
            annotations.lost_starts
        );
    }
    let mut report = ReplayReport {
        input: args.input.clone(),
        datatype: g.datatype.clone(),
        sample_rate_hz: g.sample_rate_hz,
        recorded_samples: outcome.recorded_samples,
        frames_decoded: outcome.frames.len(),
        frames_dropped: frames_dropped(&outcome.stats),
        frames_lost: annotations.frames_lost(),
        annotations,
        evm_db: mean_evm_db(&outcome.frames),
        elapsed_s: start.elapsed().as_secs_f64(),
        receiver: outcome.stats,
        frames: outcome.frames.iter().map(summarize).collect(),
        users,
    };
    if let Some(users) = &mut report.users {
        users.elapsed_s = report.elapsed_s;
    }
    if args.json {
        return print_json(&report);
    }
    let s = &report.receiver;
    println!(
        "{}: {} samples of {} at {} Hz",
        report.input.display(),
        report.recorded_samples,
        report.datatype,
        report.sample_rate_hz
    );
    println!(
        "frames: {} decoded ({} data, {} semantic), {} dropped after detection",
        report.frames_decoded, s.data_frames, s.semantic_frames, report.frames_dropped
    );
    let a = &report.annotations;
    println!(
        "annotated: {} expected, {} decoded again, {} lost, {} decoded but not annotated",
        a.frames_expected, a.frames_matched, report.frames_lost, a.frames_unexpected
    );
    println!("EVM:    {}", fmt_opt(report.evm_db, 2, " dB"));
    if let Some(users) = &report.users {
        print_summary(users);
    }
    Ok(())
}
