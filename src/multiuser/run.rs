//! A scenario end to end: the transmitter, then the semantic loopback flowgraph (per
//! user a channel, an OFDM receiver and the user's semantic receiver), and the report.

use super::scenario::{Content, Scenario, User};
use super::transmitter::{transmit, Transmission};
use super::user_receiver::{TaskOutput, UserResult};
use crate::blocks::TransmitterConfig;
use crate::data::metrics::{bleu4, exact_match, psnr_db, ssim_batch};
use crate::flowgraphs::semantic_loopback::{semantic_loopback, SemanticUserOutcome};
use crate::phy::rx::ReceiverConfig;
use crate::phy::RxFrame;
use crate::semantic::eval::PSNR_CAP_DB;
use crate::semantic::model::SemanticModel;
use crate::semantic::template::Task;
use crate::semantic::tokenizer::BpeTokenizer;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

/// Sample rate of the 20 MHz channel, Hz.
pub const SAMPLE_RATE_HZ: f64 = 20e6;

/// A user's score against its ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metric {
    /// `psnr_db` (reconstruct) or `exact_match` (the other tasks).
    pub name: &'static str,
    pub value: f64,
}

/// One user's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct UserReport {
    pub user: usize,
    pub name: String,
    pub task: String,
    pub question: Option<String>,
    /// `image <path>` or `text`.
    pub content: String,
    pub snr_db: f32,
    pub snr_db_estimate: Option<f32>,
    pub delivered: bool,
    /// Why not, when not delivered.
    pub not_delivered: Option<String>,
    /// The text the task produced (`None` for reconstruct or when not delivered).
    pub answer: Option<String>,
    pub ground_truth: Option<String>,
    /// Score against the ground truth; `None` when there is none or nothing arrived.
    pub metric: Option<Metric>,
    /// SSIM of a reconstructed image, BLEU-4 of a delivered sentence.
    pub ssim: Option<f64>,
    pub bleu4: Option<f64>,
    pub frames_sent: usize,
    pub frames_received: usize,
    pub frames_lost: usize,
    /// Private symbols plus an equal share of each public message the user needs.
    pub channel_symbols: f64,
    /// Symbols of the user's private messages.
    pub private_channel_symbols: usize,
    /// Symbols of the public messages the user needs (shared with others).
    pub public_channel_symbols: usize,
    /// Symbols of serving this user on its own.
    pub unshared_channel_symbols: usize,
    /// The same user's metric when served alone over the same channel (on request).
    pub metric_alone: Option<f64>,
    #[serde(skip)]
    pub output: Option<TaskOutput>,
    /// The tokens the receiver assembled, (n, d_model), when delivered.
    #[serde(skip)]
    pub received_tokens: Option<candle_core::Tensor>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: String,
    pub users: Vec<UserReport>,
    pub total_channel_symbols: usize,
    pub unshared_channel_symbols: usize,
    /// `total / unshared`.
    pub symbol_ratio: f64,
    pub public_messages: usize,
    pub private_messages: usize,
    pub frames_sent: u64,
    pub samples: u64,
    /// Samples of the frames alone, gaps between them excluded (20 MHz).
    pub frame_samples: u64,
    /// `samples / 20 MHz`.
    pub airtime_s: f64,
    pub users_not_delivered: usize,
    /// Wall-clock time of the transmitter, flowgraph and receivers.
    pub elapsed_s: f64,
    /// Time spent in the users' semantic receivers (deframing, decoding, tasks), summed
    /// over users (they run concurrently in the flowgraph).
    pub semantic_receive_s: f64,
}

/// Radio settings of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub tx_config: TransmitterConfig,
    pub rx_config: ReceiverConfig,
    /// Also serve each user alone over its channel and report `metric_alone`.
    pub compare_alone: bool,
}

/// Runs `scenario` through the real flowgraphs.
pub fn run_scenario(
    model: &Arc<SemanticModel>,
    tokenizer: &Arc<BpeTokenizer>,
    scenario: &Scenario,
    options: &RunOptions,
) -> anyhow::Result<ScenarioReport> {
    let start = Instant::now();
    let tx = transmit(model, tokenizer, scenario)?;
    let outcome = semantic_loopback(
        tx.frames.clone(),
        scenario,
        model,
        tokenizer,
        options.tx_config,
        options.rx_config,
    )?;
    let mut report = assemble_report(
        scenario,
        &tx,
        outcome.users,
        outcome.frames_sent,
        outcome.samples,
    )?;
    if options.compare_alone && scenario.users.len() > 1 {
        for (i, r) in report.users.iter_mut().enumerate() {
            let alone = Scenario {
                users: vec![scenario.users[i].clone()],
                ..scenario.clone()
            };
            let rep = run_scenario(
                model,
                tokenizer,
                &alone,
                &RunOptions {
                    compare_alone: false,
                    ..options.clone()
                },
            )?;
            r.metric_alone = rep.users[0].metric.map(|m| m.value);
        }
    } else if options.compare_alone {
        report.users[0].metric_alone = report.users[0].metric.map(|m| m.value);
    }
    report.elapsed_s = start.elapsed().as_secs_f64();
    Ok(report)
}

/// The report of `scenario` from what its users' receivers ended with, `tx` being what
/// was sent (its messages tell which frames each user needed, its images are the
/// ground truth of reconstruction). `elapsed_s` is left at 0 for the caller to set.
pub fn assemble_report(
    scenario: &Scenario,
    tx: &Transmission,
    outcomes: Vec<SemanticUserOutcome>,
    frames_sent: u64,
    samples: u64,
) -> anyhow::Result<ScenarioReport> {
    let mut users = Vec::with_capacity(scenario.users.len());
    let mut semantic_receive_s = 0.0;
    for (i, u) in outcomes.into_iter().enumerate() {
        let result = u.result.map_err(|e| {
            anyhow::anyhow!("user {}: semantic receiver: {e}", scenario.users[i].name)
        })?;
        semantic_receive_s += u.semantic_receive_s;
        users.push(user_report(scenario, tx, i, &u.received, result)?);
    }
    let total = tx.total_channel_symbols();
    Ok(ScenarioReport {
        scenario: scenario.path.display().to_string(),
        users_not_delivered: users.iter().filter(|u| !u.delivered).count(),
        users,
        total_channel_symbols: total,
        unshared_channel_symbols: tx.unshared_channel_symbols,
        symbol_ratio: total as f64 / tx.unshared_channel_symbols.max(1) as f64,
        public_messages: tx.messages.iter().filter(|m| m.kind.is_public()).count(),
        private_messages: tx.messages.iter().filter(|m| !m.kind.is_public()).count(),
        frames_sent,
        samples,
        frame_samples: tx.frames.iter().map(|f| f.len_samples() as u64).sum(),
        airtime_s: samples as f64 / SAMPLE_RATE_HZ,
        elapsed_s: 0.0,
        semantic_receive_s,
    })
}

fn user_report(
    scenario: &Scenario,
    tx: &Transmission,
    i: usize,
    frames: &[RxFrame],
    result: UserResult,
) -> anyhow::Result<UserReport> {
    let u = &scenario.users[i];
    let mine: Vec<_> = tx
        .messages
        .iter()
        .filter(|m| m.members.contains(&i))
        .collect();
    let ids: BTreeSet<u16> = mine.iter().map(|m| m.message_id).collect();
    let frames_sent = mine.iter().map(|m| m.n_frames).sum();
    let mut heard = BTreeSet::new();
    for f in frames {
        if let RxFrame::Semantic(s) = f {
            if ids.contains(&s.header.message_id) {
                heard.insert((s.header.message_id, s.header.fragment_index));
            }
        }
    }
    let frames_received = heard.len();
    let private: usize = mine
        .iter()
        .filter(|m| !m.kind.is_public())
        .map(|m| m.n_symbols)
        .sum();
    let public: usize = mine
        .iter()
        .filter(|m| m.kind.is_public())
        .map(|m| m.n_symbols)
        .sum();
    let share: f64 = mine
        .iter()
        .map(|m| m.n_symbols as f64 / m.members.len() as f64)
        .sum();
    let unshared = tx.user_unshared_symbols[i];
    let ground_truth = ground_truth(u);
    let Score {
        metric,
        ssim,
        bleu4: bleu,
        answer,
    } = score_output(u, &result.output, tx.images[i].as_ref())?;
    Ok(UserReport {
        user: i,
        name: u.name.clone(),
        task: u.task.to_string(),
        question: u.question.clone(),
        content: match &u.content {
            Content::Image(p) => format!("image {}", p.display()),
            Content::Text(_) => "text".into(),
        },
        snr_db: u.channel.snr_db,
        snr_db_estimate: result.snr_db_estimate,
        delivered: result.output.is_ok(),
        not_delivered: result.output.as_ref().err().cloned(),
        answer,
        ground_truth,
        metric,
        ssim,
        bleu4: bleu,
        frames_sent,
        frames_received,
        frames_lost: frames_sent - frames_received.min(frames_sent),
        channel_symbols: share,
        private_channel_symbols: private,
        public_channel_symbols: public,
        unshared_channel_symbols: unshared,
        metric_alone: None,
        received_tokens: result.tokens,
        output: result.output.ok(),
    })
}

/// What a user should get: its answer, or the sentence of a text delivery.
pub fn ground_truth(u: &User) -> Option<String> {
    match (&u.answer, &u.content) {
        (Some(a), _) => Some(a.clone()),
        (None, Content::Text(t)) if u.task.name() == Task::TEXT => Some(t.clone()),
        _ => None,
    }
}

/// A task output scored against the user's ground truth.
#[derive(Debug, Clone, Default)]
pub struct Score {
    pub metric: Option<Metric>,
    /// SSIM of a reconstructed image.
    pub ssim: Option<f64>,
    /// BLEU-4 of a delivered sentence.
    pub bleu4: Option<f64>,
    /// The text the task produced.
    pub answer: Option<String>,
}

/// Scores `output` of user `u`: PSNR (capped) and SSIM of a reconstruction against
/// `original` (3, 64, 64), exact match of a text answer, BLEU-4 of a sentence.
pub fn score_output(
    u: &User,
    output: &Result<TaskOutput, String>,
    original: Option<&candle_core::Tensor>,
) -> anyhow::Result<Score> {
    let mut score = Score::default();
    match output {
        Ok(TaskOutput::Image(img)) => {
            if let Some(original) = original {
                let p = img.flatten_all()?.to_vec1::<f32>()?;
                let t = original.flatten_all()?.to_vec1::<f32>()?;
                score.metric = Some(Metric {
                    name: "psnr_db",
                    value: psnr_db(&p, &t)?.min(PSNR_CAP_DB),
                });
                score.ssim = Some(ssim_batch(&img.unsqueeze(0)?, &original.unsqueeze(0)?)?);
            }
        }
        Ok(TaskOutput::Text(a)) => {
            if let Some(gt) = &ground_truth(u) {
                score.metric = Some(Metric {
                    name: "exact_match",
                    value: exact_match(&[a.as_str()], &[gt.as_str()])?,
                });
                if u.task.name() == Task::TEXT {
                    score.bleu4 = Some(bleu4(&[a.as_str()], &[gt.as_str()])?);
                }
            }
            score.answer = Some(a.clone());
        }
        Err(_) => {}
    }
    Ok(score)
}
