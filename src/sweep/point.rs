//! One point of a sweep: every system over the scenario at one SNR and channel seed.

use crate::baseline::classical::run_classical;
use crate::data::metrics::psnr_db;
use crate::multiuser::run::{ground_truth, run_scenario, Metric, RunOptions};
use crate::multiuser::scenario::{Scenario, User};
use crate::multiuser::transmitter::{transmit, Transmission};
use crate::phy::Rate;
use crate::semantic::eval::PSNR_CAP_DB;
use crate::semantic::model::SemanticModel;
use crate::semantic::template::Task;
use crate::semantic::tokenizer::BpeTokenizer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A system of the comparison.
#[derive(Clone)]
pub enum SystemSpec {
    /// The semantic system with these weights (`sharing`, `interleave_symbols`: as the
    /// scenario sets them when true; off for the ablations).
    Semantic {
        label: String,
        sharing: bool,
        interleave_symbols: bool,
        model: Arc<SemanticModel>,
        tokenizer: Arc<BpeTokenizer>,
    },
    /// JPEG / UTF-8 in data frames at a fixed rate; tasks run by `model`.
    Classical {
        rate: Rate,
        model: Arc<SemanticModel>,
        tokenizer: Arc<BpeTokenizer>,
    },
}

impl SystemSpec {
    pub fn name(&self) -> String {
        match self {
            SystemSpec::Semantic { label, .. } => label.clone(),
            SystemSpec::Classical { rate, .. } => format!("classical-{}mbps", rate.mbps()),
        }
    }
}

/// One CSV row: a system's mean score on one task at one SNR and seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    pub system: String,
    pub task: String,
    /// `psnr_db` (reconstruct), `bleu4` (text), `accuracy` (the others).
    pub metric: &'static str,
    pub snr_db: f64,
    pub seed: u64,
    /// Mean over the task's users; a user served nothing scores 0, or for
    /// reconstruction the PSNR of a mid-grey picture.
    pub value: f64,
    pub users: usize,
    pub delivered: usize,
    /// Samples the system put on the air for the whole scenario (20 MHz).
    pub airtime_samples: u64,
}

/// What stays fixed over a sweep: the scenario, the channel kind, and what every
/// system's transmitter needs.
pub struct SweepSetup {
    pub scenario: Scenario,
    pub multipath: bool,
    /// The semantic transmission of the scenario with the reference weights: its
    /// pictures are the ground truth and the classical system's source.
    pub reference: Transmission,
    /// PSNR of a mid-grey picture against each user's picture (what a receiver with
    /// nothing shows), dB.
    pub grey_psnr_db: Vec<Option<f64>>,
}

impl SweepSetup {
    pub fn new(
        scenario: Scenario,
        multipath: bool,
        model: &Arc<SemanticModel>,
        tokenizer: &Arc<BpeTokenizer>,
    ) -> anyhow::Result<Self> {
        let reference = transmit(model, tokenizer, &scenario)?;
        let grey_psnr_db = reference
            .images
            .iter()
            .map(|img| -> anyhow::Result<Option<f64>> {
                let Some(img) = img else { return Ok(None) };
                let t = img.flatten_all()?.to_vec1::<f32>()?;
                let grey = vec![0.5f32; t.len()];
                Ok(Some(psnr_db(&grey, &t)?.min(PSNR_CAP_DB)))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            scenario,
            multipath,
            reference,
            grey_psnr_db,
        })
    }

    /// The scenario with every user at `snr_db` over the sweep's channel kind, channel
    /// seeds drawn from `seed` (carrier and timing offsets as the file sets them).
    pub fn at(&self, snr_db: f64, seed: u64) -> Scenario {
        let mut s = self.scenario.clone();
        for (i, u) in s.users.iter_mut().enumerate() {
            u.channel.snr_db = snr_db as f32;
            u.channel.multipath = self.multipath;
            u.channel.seed = 1_000 * seed + i as u64 + 1;
        }
        s
    }
}

/// The metric name of a task.
pub fn metric_of(task: &str) -> &'static str {
    match task {
        Task::RECONSTRUCT => "psnr_db",
        Task::TEXT => "bleu4",
        _ => "accuracy",
    }
}

/// A user's score for the sweep, `None` where the user has no ground truth. `metric`
/// and `bleu` are what the user's output scored (see [`score_output`]).
///
/// [`score_output`]: crate::multiuser::run::score_output
fn user_value(
    user: &User,
    delivered: bool,
    metric: Option<Metric>,
    bleu: Option<f64>,
    grey_psnr_db: Option<f64>,
) -> Option<f64> {
    let value = metric.map(|m| m.value);
    match user.task.name() {
        Task::RECONSTRUCT => {
            if delivered {
                value
            } else {
                grey_psnr_db
            }
        }
        Task::TEXT => Some(if delivered { bleu.unwrap_or(0.0) } else { 0.0 }),
        // A task with an answer to check scores 0 when nothing arrived.
        _ => ground_truth(user).map(|_| if delivered { value.unwrap_or(0.0) } else { 0.0 }),
    }
}

/// Groups per-user values by task into rows.
fn rows_by_task(
    system: &str,
    scenario: &Scenario,
    values: &[(Option<f64>, bool)],
    snr_db: f64,
    seed: u64,
    airtime_samples: u64,
) -> Vec<SweepRow> {
    let mut by_task: BTreeMap<String, Vec<(f64, bool)>> = BTreeMap::new();
    for (u, (v, delivered)) in scenario.users.iter().zip(values) {
        if let Some(v) = v {
            by_task
                .entry(u.task.name().to_string())
                .or_default()
                .push((*v, *delivered));
        }
    }
    by_task
        .into_iter()
        .map(|(task, vs)| SweepRow {
            system: system.to_string(),
            metric: metric_of(&task),
            value: vs.iter().map(|v| v.0).sum::<f64>() / vs.len() as f64,
            users: vs.len(),
            delivered: vs.iter().filter(|v| v.1).count(),
            task,
            snr_db,
            seed,
            airtime_samples,
        })
        .collect()
}

/// What a user's receiver ended with: delivered, its metric and BLEU-4.
type UserOutcome = (bool, Option<Metric>, Option<f64>);

/// Runs `system` over the scenario at `snr_db` with channel seed `seed`.
pub fn run_point(
    setup: &SweepSetup,
    system: &SystemSpec,
    snr_db: f64,
    seed: u64,
) -> anyhow::Result<Vec<SweepRow>> {
    let mut scenario = setup.at(snr_db, seed);
    let name = system.name();
    let (outcomes, airtime_samples): (Vec<UserOutcome>, u64) = match system {
        SystemSpec::Semantic {
            model,
            tokenizer,
            sharing,
            interleave_symbols,
            ..
        } => {
            scenario.sharing &= *sharing;
            scenario.interleave_symbols &= *interleave_symbols;
            let report = run_scenario(model, tokenizer, &scenario, &RunOptions::default())?;
            let outcomes = report
                .users
                .iter()
                .map(|r| (r.delivered, r.metric, r.bleu4))
                .collect();
            (outcomes, report.frame_samples)
        }
        SystemSpec::Classical {
            rate,
            model,
            tokenizer,
        } => {
            let run = run_classical(
                model,
                tokenizer,
                &scenario,
                &setup.reference,
                *rate,
                Default::default(),
                Default::default(),
            )?;
            let outcomes = run
                .users
                .iter()
                .map(|r| (r.output.is_ok(), r.score.metric, r.score.bleu4))
                .collect();
            (outcomes, run.airtime_samples as u64)
        }
    };
    let values: Vec<(Option<f64>, bool)> = outcomes
        .iter()
        .zip(&scenario.users)
        .zip(&setup.grey_psnr_db)
        .map(|((&(delivered, metric, bleu), u), grey)| {
            (user_value(u, delivered, metric, bleu, *grey), delivered)
        })
        .collect();
    Ok(rows_by_task(
        &name,
        &scenario,
        &values,
        snr_db,
        seed,
        airtime_samples,
    ))
}
