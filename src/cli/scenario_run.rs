//! `m4sc loopback [--scenario FILE]`: a multi-user semantic scenario through the radio.

use super::report::{fmt_opt, print_json};
use anyhow::Context;
use candle_core::Device;
use m4sc::flowgraphs::semantic_loopback::{ScenarioUsers, SemanticUserOutcome};
use m4sc::multiuser::outputs::write_outputs;
use m4sc::multiuser::run::{assemble_report, run_scenario, RunOptions, ScenarioReport};
use m4sc::multiuser::scenario::Scenario;
use m4sc::multiuser::transmitter::{transmit, Transmission};
use m4sc::semantic::model::SemanticModel;
use m4sc::semantic::tokenizer::BpeTokenizer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The built-in scenario: `examples/four_tasks_one_image.toml`.
const DEFAULT_SCENARIO: &str = include_str!("../../examples/four_tasks_one_image.toml");

/// The built-in scenario, its image paths resolved inside the source tree the binary
/// was built from, or else under `./examples` (a copy of the repository).
pub fn default_scenario() -> anyhow::Result<Scenario> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    if !dir.is_dir() {
        dir = PathBuf::from("examples");
    }
    Ok(Scenario::parse(
        DEFAULT_SCENARIO,
        &dir.join("four_tasks_one_image.toml"),
        &dir,
    )?)
}

pub fn run(
    scenario: Option<&Path>,
    weights: &Path,
    out: Option<&Path>,
    compare_alone: bool,
    json: bool,
) -> anyhow::Result<()> {
    let scenario = match scenario {
        Some(p) => Scenario::load(p)?,
        None => default_scenario()?,
    };
    let device = Device::Cpu;
    let (model, tokenizer) = SemanticModel::load(weights, &device)
        .with_context(|| format!("loading the semantic model from {}", weights.display()))?;
    log::info!(
        "scenario {}: {} users",
        scenario.path.display(),
        scenario.users.len()
    );
    let options = RunOptions {
        compare_alone,
        ..RunOptions::default()
    };
    let report = run_scenario(
        &std::sync::Arc::new(model),
        &std::sync::Arc::new(tokenizer),
        &scenario,
        &options,
    )?;
    if let Some(dir) = out {
        write_outputs(&report, dir)?;
    }
    if json {
        return print_json(&report);
    }
    print_summary(&report);
    Ok(())
}

pub fn print_summary(r: &ScenarioReport) {
    println!("scenario {}: {} users", r.scenario, r.users.len());
    println!(
        "{:<10} {:<11} {:>6} {:>7}  {:<34} {:>12} {:>8} {:>9}",
        "user", "task", "SNR dB", "frames", "output", "metric", "symbols", "unshared"
    );
    for u in &r.users {
        let output = match (&u.answer, &u.not_delivered) {
            (_, Some(reason)) => reason.clone(),
            (Some(a), None) => format!("{a:?}"),
            (None, None) => "reconstructed image".into(),
        };
        let metric = match u.metric {
            Some(m) if m.name == "psnr_db" => format!("{:.2} dB PSNR", m.value),
            Some(m) => format!("EM {:.0}", m.value),
            None => "n/a".into(),
        };
        let task = match &u.question {
            Some(q) => format!("{} ({q})", u.task),
            None => u.task.clone(),
        };
        println!(
            "{:<10} {:<11} {:>6.1} {:>3}/{:<3}  {:<34} {:>12} {:>8.0} {:>9}",
            u.name,
            truncate(&task, 11),
            u.snr_db,
            u.frames_received,
            u.frames_sent,
            truncate(&output, 34),
            metric,
            u.channel_symbols,
            u.unshared_channel_symbols
        );
        if let Some(q) = &u.question {
            println!("{:<10} question: {q}", "");
        }
        if let Some(alone) = u.metric_alone {
            println!("{:<10} served alone over the same channel: {alone:.2}", "");
        }
    }
    println!(
        "channel symbols: {} sent, {} if every user were served alone ({:.1} %); \
         {} public and {} private messages",
        r.total_channel_symbols,
        r.unshared_channel_symbols,
        100.0 * r.symbol_ratio,
        r.public_messages,
        r.private_messages
    );
    println!(
        "air: {} frames, {} samples, {} at 20 MHz; {} users not delivered; {:.2} s",
        r.frames_sent,
        r.samples,
        fmt_opt(Some(r.airtime_s * 1e3), 3, " ms"),
        r.users_not_delivered,
        r.elapsed_s
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}~")
    }
}

/// The receiving side of a scenario heard on one air (a radio or a recording): its
/// users, their model, and what the transmitter sent (the users' ground truth and the
/// symbol accounting).
pub struct ScenarioReceiver {
    pub scenario: Scenario,
    pub model: Arc<SemanticModel>,
    pub tokenizer: Arc<BpeTokenizer>,
    pub tx: Transmission,
}

impl ScenarioReceiver {
    /// The users and model, as the receive flowgraphs take them.
    pub fn users(&self) -> ScenarioUsers<'_> {
        (&self.scenario, &self.model, &self.tokenizer)
    }

    pub fn load(path: &Path, weights: &Path) -> anyhow::Result<Self> {
        let scenario = Scenario::load(path)?;
        let (model, tokenizer) = SemanticModel::load(weights, &Device::Cpu)
            .with_context(|| format!("loading the semantic model from {}", weights.display()))?;
        let (model, tokenizer) = (Arc::new(model), Arc::new(tokenizer));
        let tx = transmit(&model, &tokenizer, &scenario)?;
        Ok(Self {
            scenario,
            model,
            tokenizer,
            tx,
        })
    }

    /// The users' report; the SNR shown is what each receiver measured (one air).
    pub fn report(
        &self,
        users: Vec<SemanticUserOutcome>,
        samples_20mhz: u64,
    ) -> anyhow::Result<ScenarioReport> {
        let sent = self.tx.frames.len() as u64;
        let mut report = assemble_report(&self.scenario, &self.tx, users, sent, samples_20mhz)?;
        for u in &mut report.users {
            u.snr_db = u.snr_db_estimate.unwrap_or(f32::NAN);
        }
        Ok(report)
    }
}
