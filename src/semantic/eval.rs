//! Evaluation of every task through the symbol-level channel at one SNR.
//!
//! Each example's semantic tokens go through the KAN channel encoder, the channel
//! layer (AWGN or Rayleigh with zero forcing) at `snr_db`, and the channel decoder;
//! the receiver then answers (greedy) or reconstructs. Metrics: exact match after
//! `normalize_answer` for vqa / caption / classify / text, corpus BLEU-4 for text,
//! mean per-image PSNR (capped at [`PSNR_CAP_DB`]) and SSIM for reconstruct.
//!
//! With `clean_tokens` the tokens skip the codec and the channel and reach the receiver
//! as sent (`snr_db` and `channel` are then unused). That scores a model trained on
//! clean tokens (`clean_steps`); a receiver trained through the codec reads what the
//! channel decoder delivers, which need not resemble the sent tokens, and does badly.

use super::channel_layer::ChannelKind;
use super::model::{ReceivedTokens, SemanticModel};
use super::template::Task;
use super::tokenizer::BpeTokenizer;
use super::train_batch::instruction_of;
use crate::data::dataset::{Example, Split};
use crate::data::image_io::image_to_tensor;
use crate::data::metrics::{bleu4, exact_match, normalize_answer, psnr_db, ssim_batch};
use candle_core::{DType, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// PSNR of a perfect reconstruction is infinite; each image's PSNR is capped here so
/// the mean stays finite.
pub const PSNR_CAP_DB: f64 = 100.0;
/// Images encoded per forward pass.
const IMAGE_BATCH: usize = 32;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub snr_db: f64,
    pub channel: ChannelKind,
    /// At most this many examples of each task (the first ones of the split).
    pub limit_per_task: Option<usize>,
    /// Seed of the channel's noise and fading.
    pub seed: u64,
    /// Hand the semantic tokens to the receiver unchanged: no codec, no channel.
    pub clean_tokens: bool,
}

/// Metrics of one evaluation; a metric is `None` (JSON null) when its task had no
/// examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub snr_db: f64,
    pub channel: ChannelKind,
    /// The tokens skipped the codec and the channel (`snr_db` and `channel` unused).
    pub clean_tokens: bool,
    pub vqa_accuracy: Option<f64>,
    pub caption_exact_match: Option<f64>,
    pub classification_accuracy: Option<f64>,
    pub text_bleu4: Option<f64>,
    pub text_exact_match: Option<f64>,
    pub image_psnr_db: Option<f64>,
    pub image_ssim: Option<f64>,
    /// Exact match of tasks other than the five built-in ones, by task name.
    pub other_exact_match: BTreeMap<String, f64>,
    /// Exact match of every answered task (all but `reconstruct`) split by the
    /// examples' data source: task name, then source (`easy-vqa`, `scenes`, ...).
    pub exact_match_by_source: BTreeMap<String, BTreeMap<String, f64>>,
    /// Examples evaluated per task.
    pub counts: BTreeMap<String, usize>,
    /// Complex channel symbols one image costs (16 tokens x symbols per token).
    pub channel_symbols_per_image: usize,
}

/// One answered example of an evaluation: what the receiver said and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prediction {
    pub id: String,
    pub task: String,
    pub source: String,
    pub question: Option<String>,
    pub expected: String,
    pub predicted: String,
    /// Exact match after `normalize_answer`.
    pub correct: bool,
}

/// What an evaluation produced besides its metrics, for error analysis.
#[derive(Debug, Default)]
pub struct EvalOutputs {
    /// Every answered example (all tasks but `reconstruct`), in evaluation order.
    pub predictions: Vec<Prediction>,
    /// `Some` to collect every reconstruction: (example id, image (3, h, w) in [0, 1]),
    /// in evaluation order.
    pub reconstructions: Option<Vec<(String, Tensor)>>,
}

/// Evaluates `model` on `split` (see the module docs).
pub fn evaluate(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    split: &Split,
    opts: &EvalOptions,
) -> anyhow::Result<EvalReport> {
    evaluate_with_outputs(model, tokenizer, split, opts, &mut EvalOutputs::default())
}

/// [`evaluate`], filling `outputs` with the answers and, when asked, the
/// reconstructions.
pub fn evaluate_with_outputs(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    split: &Split,
    opts: &EvalOptions,
    outputs: &mut EvalOutputs,
) -> anyhow::Result<EvalReport> {
    let predictions = &mut outputs.predictions;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let device = model.device().clone();
    let mut by_task: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
    for ex in &split.examples {
        let list = by_task.entry(ex.task.as_str()).or_default();
        if opts.limit_per_task.is_none_or(|l| list.len() < l) {
            list.push(ex);
        }
    }
    let snr_one = Tensor::new(&[opts.snr_db as f32], &device)?;
    // tokens: (b, n, d_model) -> what the receiver gets, same shape.
    let mut deliver = |tokens: &Tensor, snr: &Tensor| -> candle_core::Result<Tensor> {
        if opts.clean_tokens {
            Ok(tokens.clone())
        } else {
            model.through_channel(tokens, snr, opts.channel, &mut rng)
        }
    };
    let mut answers: BTreeMap<&str, (Vec<String>, Vec<&str>)> = BTreeMap::new();
    // (task, source) -> (exact matches, answers)
    let mut by_source: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut psnr_sum = 0.0;
    let mut ssim_sum = 0.0;
    let mut n_images = 0usize;
    for (&task, examples) in &by_task {
        let reconstruct = task == Task::RECONSTRUCT;
        // Images: encoded and sent in batches; text: one message per example.
        for chunk in examples.chunks(IMAGE_BATCH) {
            let mut images = Vec::new();
            let mut image_ids = Vec::new();
            for ex in chunk {
                if let Some(img) = split.load_image(ex)? {
                    images.push(image_to_tensor(&img, &device)?);
                    image_ids.push(ex.id.as_str());
                }
            }
            let rx_images = if images.is_empty() {
                None
            } else {
                let images = Tensor::stack(&images, 0)?;
                let b = images.dim(0)?;
                let tokens = model.encode_image(&images)?;
                let snr = Tensor::full(opts.snr_db as f32, b, &device)?;
                let rx = deliver(&tokens, &snr)?;
                if reconstruct {
                    let recon = model.reconstruct_image(&rx)?;
                    let p = recon
                        .to_dtype(DType::F32)?
                        .flatten_from(1)?
                        .to_vec2::<f32>()?;
                    let t = images.flatten_from(1)?.to_vec2::<f32>()?;
                    for (p, t) in p.iter().zip(&t) {
                        psnr_sum += psnr_db(p, t)?.min(PSNR_CAP_DB);
                    }
                    ssim_sum += ssim_batch(&recon, &images)? * b as f64;
                    n_images += b;
                    if let Some(kept) = &mut outputs.reconstructions {
                        for (i, id) in image_ids.iter().enumerate() {
                            kept.push((id.to_string(), recon.get(i)?));
                        }
                    }
                }
                Some(rx)
            };
            if reconstruct {
                continue;
            }
            let mut image_row = 0;
            for ex in chunk {
                let mut received = ReceivedTokens::default();
                if ex.image.is_some() {
                    if let Some(rx) = &rx_images {
                        received.image = Some(rx.get(image_row)?);
                        image_row += 1;
                    }
                }
                if let Some(text) = &ex.text {
                    let mut ids = tokenizer.encode(text);
                    ids.truncate(model.config().max_text_tokens);
                    if ids.is_empty() {
                        // An empty sentence is sent as one space.
                        ids.push(u32::from(b' '));
                    }
                    let ids = Tensor::new(ids, &device)?.unsqueeze(0)?;
                    let tokens = model.encode_text(&ids)?;
                    let rx = deliver(&tokens, &snr_one)?;
                    received.text = Some(rx.squeeze(0)?);
                }
                let answer = model.answer(tokenizer, &instruction_of(ex)?, &received)?;
                let hit = normalize_answer(&answer) == normalize_answer(&ex.answer);
                let tally = by_source.entry((task, ex.source.as_str())).or_default();
                tally.0 += usize::from(hit);
                tally.1 += 1;
                predictions.push(Prediction {
                    id: ex.id.clone(),
                    task: ex.task.clone(),
                    source: ex.source.clone(),
                    question: ex.question.clone(),
                    expected: ex.answer.clone(),
                    predicted: answer.clone(),
                    correct: hit,
                });
                let entry = answers.entry(task).or_default();
                entry.0.push(answer);
                entry.1.push(ex.answer.as_str());
            }
        }
    }
    let em = |task: &str| -> anyhow::Result<Option<f64>> {
        match answers.get(task) {
            Some((p, r)) => {
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                Ok(Some(exact_match(&p, r)?))
            }
            None => Ok(None),
        }
    };
    let text_bleu4 = match answers.get(Task::TEXT) {
        Some((p, r)) => {
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            Some(bleu4(&p, r)?)
        }
        None => None,
    };
    let mut other_exact_match = BTreeMap::new();
    for &task in answers.keys() {
        if !Task::BUILT_IN.contains(&task) {
            other_exact_match.insert(task.to_string(), em(task)?.unwrap_or(0.0));
        }
    }
    let mut exact_match_by_source: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (&(task, source), &(hits, n)) in &by_source {
        exact_match_by_source
            .entry(task.to_string())
            .or_default()
            .insert(source.to_string(), hits as f64 / n as f64);
    }
    let image_mean = |sum: f64| (n_images > 0).then(|| sum / n_images as f64);
    Ok(EvalReport {
        snr_db: opts.snr_db,
        channel: opts.channel,
        clean_tokens: opts.clean_tokens,
        vqa_accuracy: em(Task::VQA)?,
        caption_exact_match: em(Task::CAPTION)?,
        classification_accuracy: em(Task::CLASSIFY)?,
        text_bleu4,
        text_exact_match: em(Task::TEXT)?,
        image_psnr_db: image_mean(psnr_sum),
        image_ssim: image_mean(ssim_sum),
        other_exact_match,
        exact_match_by_source,
        counts: by_task
            .iter()
            .map(|(t, v)| (t.to_string(), v.len()))
            .collect(),
        channel_symbols_per_image: super::template::IMAGE_SLOT_TOKENS * model.symbols_per_token(),
    })
}
