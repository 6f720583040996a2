//! Training batches: sampling examples of every task from a split and computing the
//! multi-task loss of one batch through the channel.
//!
//! Every random choice of step `s` (which examples, each example's SNR and channel,
//! the channel's noise and fading) comes from [`step_rng`]`(seed, s)`, so a batch
//! depends only on the seed and the step number: a resumed run sees exactly the
//! batches the uninterrupted run would have seen.

use super::channel_layer::ChannelKind;
use super::model::{LmExample, ReceivedTokens, SemanticModel, IMAGE_SIZE};
use super::template::{render, Instruction, Task};
use super::tokenizer::BpeTokenizer;
use crate::data::dataset::{Example, Split};
use anyhow::Context;
use candle_core::{Device, Tensor};
use image::RgbImage;
use log::warn;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};

/// The random generator of training step `step`: stream `step` of the seed's ChaCha8.
pub fn step_rng(seed: u64, step: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(step as u64);
    rng
}

/// A split indexed by task, with an image cache.
pub struct TaskData {
    split: Split,
    /// Task names present, sorted.
    tasks: Vec<String>,
    /// Example indices per task (same order as `tasks`).
    by_task: Vec<Vec<usize>>,
    images: HashMap<String, RgbImage>,
    /// Whether every picture of a batch, not only those of `reconstruct` examples, is
    /// also reconstructed from its received tokens and scored by the pixel loss.
    pub reconstruct_every_image: bool,
}

/// One example drawn for a step, with its channel.
#[derive(Debug, Clone)]
pub struct Draw {
    pub example: usize,
    pub snr_db: f32,
    pub channel: ChannelKind,
}

/// How a batch's semantic tokens reach the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPath {
    /// Channel encoder, channel (each draw's SNR and kind) and channel decoder.
    Channel,
    /// Unchanged: the receiver gets the transmitter's tokens (no codec, no noise).
    Clean,
}

/// Name of the channel-token fidelity loss in [`BatchLoss::per_task`] and the loss log.
pub const TOKEN_FIDELITY: &str = "token_fidelity";

/// Squared error of received against sent image tokens over the energy by which the
/// sent tokens differ between the batch's pictures. sent, received: (batch, n, d_model)
/// -> scalar. The part of the tokens common to every picture tells the receiver
/// nothing, so it is left out of the scale: a codec that delivers only that part scores
/// 1, not nearly 0. The caller sends detached tokens through the codec for it, so that
/// it trains the codec alone: were the gradient to reach the encoders, they could lower
/// it by making the pictures' tokens alike.
fn token_fidelity(sent: &Tensor, received: &Tensor) -> candle_core::Result<Tensor> {
    let err = (received - sent)?.sqr()?.sum_all()?;
    let varying = sent.broadcast_sub(&sent.mean_keepdim(0)?)?;
    let energy = varying.sqr()?.sum_all()?.affine(1.0, 1e-12)?;
    err / energy
}

/// The loss of one batch: the weighted total (a scalar tensor for backprop) and the
/// unweighted loss of each task present in the batch.
pub struct BatchLoss {
    pub total: Tensor,
    pub per_task: BTreeMap<String, f64>,
    /// The batch's mean image token (16, d_model), detached, when the projector centres
    /// its output and the batch held pictures: the training loop folds it into the
    /// running mean.
    pub image_token_mean: Option<Tensor>,
}

impl TaskData {
    /// Indexes `split`. Language-task examples whose rendered sequence would not fit
    /// in `max_seq` tokens, or whose sentence exceeds `max_text_tokens`, are left
    /// out with a warning.
    pub fn new(
        split: Split,
        tokenizer: &BpeTokenizer,
        max_seq: usize,
        max_text_tokens: usize,
    ) -> anyhow::Result<Self> {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut dropped = 0usize;
        for (i, ex) in split.examples.iter().enumerate() {
            let instruction = instruction_of(ex)?;
            if instruction.task.uses_language_model() {
                let n_text = ex.text.as_deref().map_or(0, |t| tokenizer.encode(t).len());
                let seq = render(tokenizer, &instruction, n_text, Some(&ex.answer))
                    .with_context(|| format!("example {} of {}", ex.id, split.dir.display()))?;
                if seq.len() > max_seq || n_text > max_text_tokens {
                    dropped += 1;
                    continue;
                }
            }
            by_name.entry(ex.task.clone()).or_default().push(i);
        }
        if dropped > 0 {
            warn!(
                "{}: {dropped} examples longer than the model's sequence limits left out",
                split.dir.display()
            );
        }
        let (tasks, by_task) = by_name.into_iter().unzip();
        Ok(Self {
            split,
            tasks,
            by_task,
            images: HashMap::new(),
            reconstruct_every_image: false,
        })
    }

    /// Task names present, sorted.
    pub fn tasks(&self) -> &[String] {
        &self.tasks
    }

    pub fn split(&self) -> &Split {
        &self.split
    }

    /// Example indices of `task` (empty if absent).
    pub fn indices(&self, task: &str) -> &[usize] {
        self.tasks
            .iter()
            .position(|t| t == task)
            .map_or(&[], |i| &self.by_task[i])
    }

    /// Draws `batch_size` examples: a task by `task_weights` (absent tasks weigh 1),
    /// then an example of it uniformly, then its SNR uniformly in `snr_db_range` and
    /// Rayleigh fading with probability `rayleigh_fraction`.
    pub fn draw_batch<R: Rng>(
        &self,
        batch_size: usize,
        task_weights: &BTreeMap<String, f64>,
        snr_db_range: [f64; 2],
        rayleigh_fraction: f64,
        rng: &mut R,
    ) -> Vec<Draw> {
        let weights: Vec<f64> = self
            .tasks
            .iter()
            .map(|t| task_weights.get(t).copied().unwrap_or(1.0).max(0.0))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut out = Vec::with_capacity(batch_size);
        if total <= 0.0 {
            return out;
        }
        for _ in 0..batch_size {
            let mut u = rng.random::<f64>() * total;
            let mut task = weights.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                if u < *w {
                    task = i;
                    break;
                }
                u -= w;
            }
            let pool = &self.by_task[task];
            let example = pool[rng.random_range(0..pool.len())];
            let [lo, hi] = snr_db_range;
            let snr_db = (lo + (hi - lo) * rng.random::<f64>()) as f32;
            let channel = if rng.random::<f64>() < rayleigh_fraction {
                ChannelKind::Rayleigh
            } else {
                ChannelKind::Awgn
            };
            out.push(Draw {
                example,
                snr_db,
                channel,
            });
        }
        out
    }

    /// The image of example `index` as (3, 64, 64) in [0, 1], cached after first use.
    pub fn image_tensor(
        &mut self,
        index: usize,
        device: &Device,
    ) -> anyhow::Result<Option<Tensor>> {
        let ex = &self.split.examples[index];
        let Some(name) = ex.image.clone() else {
            return Ok(None);
        };
        if !self.images.contains_key(&name) {
            let img = self
                .split
                .load_image(ex)?
                .context("image vanished between index and load")?;
            if img.dimensions() != (IMAGE_SIZE as u32, IMAGE_SIZE as u32) {
                anyhow::bail!(
                    "{}: image {name} is {:?}, expected {IMAGE_SIZE}x{IMAGE_SIZE}",
                    self.split.dir.display(),
                    img.dimensions()
                );
            }
            self.images.insert(name.clone(), img);
        }
        Ok(Some(crate::data::image_io::image_to_tensor(
            &self.images[&name],
            device,
        )?))
    }

    /// Multi-task loss of the drawn batch: cross-entropy over the answer tokens for
    /// language tasks, pixel MSE for `reconstruct`, each weighted by
    /// `SemanticModelConfig::loss_weight`. Tokens take `path` to the receiver; channel
    /// noise and fading come from `rng`.
    pub fn batch_loss<R: Rng>(
        &mut self,
        model: &SemanticModel,
        tokenizer: &BpeTokenizer,
        draws: &[Draw],
        path: TokenPath,
        rng: &mut R,
    ) -> anyhow::Result<BatchLoss> {
        let device = model.device().clone();
        let mut received = vec![ReceivedTokens::default(); draws.len()];
        let mut losses: Vec<(String, Tensor)> = Vec::new();
        let fidelity_weight = model.config().token_fidelity_weight;
        let measure_fidelity = path == TokenPath::Channel && fidelity_weight > 0.0;
        let mut image_token_mean = None;

        // Image path: encode all images of the batch at once, then send each example
        // through its own channel draw.
        let mut image_rows = Vec::new();
        let mut images = Vec::new();
        for (k, d) in draws.iter().enumerate() {
            if let Some(t) = self.image_tensor(d.example, &device)? {
                image_rows.push(k);
                images.push(t);
            }
        }
        if !images.is_empty() {
            let images = Tensor::stack(&images, 0)?;
            let (tokens, batch_mean) = model.encode_image_train(&images)?;
            image_token_mean = batch_mean;
            let snr: Vec<f32> = image_rows.iter().map(|&k| draws[k].snr_db).collect();
            let kinds: Vec<ChannelKind> = image_rows.iter().map(|&k| draws[k].channel).collect();
            let rx_all = match path {
                TokenPath::Channel => model.through_mixed_channel(&tokens, &snr, &kinds, rng)?,
                TokenPath::Clean => tokens.clone(),
            };
            if measure_fidelity {
                let sent = tokens.detach();
                let rx = model.through_mixed_channel(&sent, &snr, &kinds, rng)?;
                losses.push((TOKEN_FIDELITY.to_string(), token_fidelity(&sent, &rx)?));
            }
            let mut recon_rx = Vec::new();
            let mut recon_idx = Vec::new();
            for (j, &k) in image_rows.iter().enumerate() {
                let d = &draws[k];
                let rx = rx_all.narrow(0, j, 1)?;
                let is_reconstruct = self.split.examples[d.example].task == Task::RECONSTRUCT;
                if is_reconstruct || self.reconstruct_every_image {
                    recon_rx.push(rx.clone());
                    recon_idx.push(j as u32);
                }
                if !is_reconstruct {
                    received[k].image = Some(rx.squeeze(0)?);
                }
            }
            if !recon_rx.is_empty() {
                let target = images.index_select(&Tensor::new(recon_idx, &device)?, 0)?;
                let recon = model.reconstruct_image(&Tensor::cat(&recon_rx, 0)?)?;
                let mse = (recon - target)?.sqr()?.mean_all()?;
                losses.push((Task::RECONSTRUCT.to_string(), mse));
            }
        }

        // Text path: each sentence is its own message.
        for (k, d) in draws.iter().enumerate() {
            let Some(text) = &self.split.examples[d.example].text else {
                continue;
            };
            let ids = tokenizer.encode(text);
            if ids.is_empty() {
                anyhow::bail!("example {}: empty text", self.split.examples[d.example].id);
            }
            let ids = Tensor::new(ids, &device)?.unsqueeze(0)?;
            let tokens = model.encode_text(&ids)?;
            let snr = Tensor::new(&[d.snr_db], &device)?;
            let rx = match path {
                TokenPath::Channel => model.through_channel(&tokens, &snr, d.channel, rng)?,
                TokenPath::Clean => tokens,
            };
            received[k].text = Some(rx.squeeze(0)?);
        }

        // Language tasks, all in one teacher-forced pass.
        let mut lm_examples = Vec::new();
        let mut lm_tasks = Vec::new();
        for (k, d) in draws.iter().enumerate() {
            let ex = &self.split.examples[d.example];
            let instruction = instruction_of(ex)?;
            if !instruction.task.uses_language_model() {
                continue;
            }
            let n_text = received[k]
                .text
                .as_ref()
                .map_or(Ok(0), |t| t.dims2().map(|d| d.0))?;
            let sequence = render(tokenizer, &instruction, n_text, Some(&ex.answer))?;
            let text_slot_targets = match (&ex.text, instruction.task.answers_at_text_slot()) {
                (Some(text), true) => Some(tokenizer.encode(text)),
                _ => None,
            };
            lm_examples.push(LmExample {
                sequence,
                received: std::mem::take(&mut received[k]),
                text_slot_targets,
            });
            lm_tasks.push(ex.task.clone());
        }
        if !lm_examples.is_empty() {
            let (nll, count) = model.answer_nll(&lm_examples)?;
            let mut names: Vec<&String> = lm_tasks.iter().collect();
            names.sort();
            names.dedup();
            for name in names {
                let rows: Vec<u32> = (0..lm_tasks.len() as u32)
                    .filter(|&i| &lm_tasks[i as usize] == name)
                    .collect();
                let idx = Tensor::new(rows, &device)?;
                let n = count.index_select(&idx, 0)?.sum_all()?;
                let loss = nll
                    .index_select(&idx, 0)?
                    .sum_all()?
                    .broadcast_div(&n.maximum(1f32)?)?;
                losses.push((name.clone(), loss));
            }
        }

        if losses.is_empty() {
            anyhow::bail!("a batch of {} draws produced no loss", draws.len());
        }
        let mut per_task = BTreeMap::new();
        let mut total: Option<Tensor> = None;
        for (task, loss) in losses {
            per_task.insert(task.clone(), f64::from(loss.to_scalar::<f32>()?));
            let weight = if task == TOKEN_FIDELITY {
                fidelity_weight
            } else {
                model.config().loss_weight(&task)
            };
            let weighted = (loss * weight)?;
            total = Some(match total {
                Some(t) => (t + weighted)?,
                None => weighted,
            });
        }
        let total = total.context("no loss terms")?;
        Ok(BatchLoss {
            total,
            per_task,
            image_token_mean,
        })
    }
}

/// The instruction of an example (task, question, which slots it has).
pub fn instruction_of(ex: &Example) -> anyhow::Result<Instruction> {
    Ok(Instruction {
        task: Task::new(&ex.task).with_context(|| format!("example {}", ex.id))?,
        question: ex.question.clone(),
        has_image: ex.image.is_some(),
        has_text: ex.text.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::token_fidelity;
    use candle_core::{Device, Result, Tensor};

    #[test]
    fn fidelity_is_zero_for_a_perfect_codec_and_one_for_the_common_part_only() -> Result<()> {
        let dev = Device::Cpu;
        // Three pictures' tokens: a large part common to all plus a varying part.
        let common = Tensor::full(5f32, (1, 2, 4), &dev)?;
        let varying = Tensor::new(
            &[
                [[1f32, -1., 0., 2.], [0., 1., 1., -1.]],
                [[-2., 0., 1., 0.], [1., -1., 0., 1.]],
                [[1., 1., -1., -2.], [-1., 0., -1., 0.]],
            ],
            &dev,
        )?;
        let sent = varying.broadcast_add(&common)?;
        let perfect = token_fidelity(&sent, &sent)?.to_scalar::<f32>()?;
        assert_eq!(perfect, 0.0, "identical tokens must cost nothing");
        // The varying parts above sum to zero per element, so the batch mean is `common`:
        // delivering it alone loses everything that tells the pictures apart.
        let mean_only = common.broadcast_as(sent.shape())?.contiguous()?;
        let lost = token_fidelity(&sent, &mean_only)?.to_scalar::<f32>()?;
        assert!(
            (lost - 1.0).abs() < 1e-6,
            "common part only: {lost}, want 1"
        );
        // Half the varying part wrong by its own size: a quarter of its energy.
        let half = (&sent - (&varying * 0.5)?)?;
        let quarter = token_fidelity(&sent, &half)?.to_scalar::<f32>()?;
        assert!((quarter - 0.25).abs() < 1e-6, "{quarter}, want 0.25");
        Ok(())
    }
}
