//! Training of the semantic model: seeded, multi-task, through the symbol-level
//! channel, with exact checkpoint/resume.
//!
//! Output directory layout (also a weight directory, see `model_config`):
//! - `config.json`, `model.safetensors`, `tokenizer.json`: the model;
//! - `train_config.json`: the full training configuration the run started with;
//! - `optimizer.safetensors`, `train_state.json`: AdamW moments and the step count;
//! - `loss.csv` (one row per step) and `val.csv` (one row per validation).
//!
//! A fresh run first trains the tokenizer on the training split's text. Step `s`
//! draws everything random from `step_rng(seed, s)` and initial weights come from the
//! seed (`SeededVarMap`), so a run stopped at step N and resumed reproduces the
//! uninterrupted run.

use super::channel_codec::SKIP;
use super::channel_layer::ChannelKind;
use super::eval::{evaluate, EvalOptions, EvalReport};
use super::model::SemanticModel;
use super::model_config::{
    read_config, write_json, SemanticModelConfig, WeightPaths, WeightsError,
};
use super::optim::{AdamW, OptimConfig};
use super::projector::{update_token_mean, TOKEN_MEAN};
use super::seeded_init::SeededVarMap;
use super::tokenizer::BpeTokenizer;
use super::train_batch::{step_rng, TaskData, TokenPath, TOKEN_FIDELITY};
use crate::data::dataset::Split;
use anyhow::Context;
use candle_core::{DType, Device};
use log::{info, warn};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Full training configuration file: `[model]` and `[train]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub model: SemanticModelConfig,
    pub train: TrainSettings,
}

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// Seed of the initial weights and of every random draw.
    pub seed: u64,
    /// Total optimizer steps.
    pub steps: usize,
    /// Examples per step, all tasks mixed.
    pub batch_size: usize,
    /// Sampling weight of each task; tasks not listed weigh 1.
    pub task_weights: BTreeMap<String, f64>,
    pub optim: OptimConfig,
    /// Checkpoint every this many steps (and at the end or on interruption).
    pub checkpoint_every: usize,
    /// Validate every this many steps; 0 disables validation.
    pub validate_every: usize,
    /// Validation examples per task.
    pub val_examples_per_task: usize,
    /// SNR of the validation channel in dB (AWGN).
    pub val_snr_db: f64,
    /// Print a progress line every this many steps.
    pub log_every: usize,
    /// Weight directory to start from instead of seeded initial weights: its
    /// tokenizer is reused and its model configuration must equal `[model]`. The
    /// optimizer starts fresh; relative paths are taken from the working directory.
    pub init_from: Option<PathBuf>,
    /// The first this many steps hand the semantic tokens to the receiver unchanged,
    /// past the channel codec and the channel: an alignment stage in which the vision
    /// encoder, projector, language model and image decoder learn without the channel's
    /// bottleneck and noise. 0: every step goes through the channel.
    pub clean_steps: usize,
    /// Every picture of a batch also trains the image decoder: the pixel loss of
    /// `reconstruct` covers the reconstruction from the tokens received for every image
    /// task's example, not only for `reconstruct` examples (about four times as many
    /// pictures per step with the default task mix).
    pub reconstruct_every_image: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            seed: 1,
            steps: 3000,
            batch_size: 16,
            task_weights: BTreeMap::new(),
            optim: OptimConfig::default(),
            checkpoint_every: 250,
            validate_every: 500,
            val_examples_per_task: 24,
            val_snr_db: 10.0,
            log_every: 10,
            init_from: None,
            clean_steps: 0,
            reconstruct_every_image: false,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML (or `.json`) training configuration.
    pub fn load(path: &Path) -> Result<Self, WeightsError> {
        read_config(path, "training configuration")
    }
}

/// File names inside a training output directory beyond the weight-directory files.
pub const TRAIN_CONFIG_FILE: &str = "train_config.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub const STATE_FILE: &str = "train_state.json";
pub const LOSS_CSV: &str = "loss.csv";
pub const VAL_CSV: &str = "val.csv";

/// Progress recorded with each checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// Steps completed (the next step to run).
    pub step: usize,
    /// Seed of the per-step random streams (`step_rng(seed, step)`).
    pub seed: u64,
    /// Updates the optimizer has applied (bias-correction count).
    pub optimizer_steps: usize,
    /// Wall time spent training so far, over all sessions.
    pub elapsed_s: f64,
}

/// Where and how far to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Prepared data: `train/` and (optional) `val/` splits.
    pub data_dir: PathBuf,
    pub out_dir: PathBuf,
    /// Continue from the checkpoint in `out_dir`.
    pub resume: bool,
    /// Stop (with a checkpoint) once this many steps are done, before `steps`.
    pub stop_at: Option<usize>,
    pub device: Device,
    /// Print progress lines on stderr.
    pub progress: bool,
}

/// What a training session did.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Steps completed at the end of this session.
    pub step: usize,
    /// Mean weighted loss of the first and last `log_every` steps of this session.
    pub first_loss: f64,
    pub last_loss: f64,
    pub steps_per_s: f64,
    pub interrupted: bool,
    pub last_validation: Option<EvalReport>,
}

/// Every text the tokenizer is trained on: the split's questions, sentences and
/// answers, plus the template's fixed words for each task present.
pub(crate) fn tokenizer_corpus(split: &Split) -> Vec<String> {
    let mut texts = Vec::new();
    let mut tasks: Vec<&str> = split.examples.iter().map(|e| e.task.as_str()).collect();
    tasks.sort();
    tasks.dedup();
    for t in tasks {
        texts.push(format!("task: {t}\nimage: \ntext: \nquestion: \nanswer:"));
    }
    for ex in &split.examples {
        texts.extend(ex.question.iter().cloned());
        texts.extend(ex.text.iter().cloned());
        if !ex.answer.is_empty() {
            texts.push(format!(" {}", ex.answer));
        }
    }
    texts
}

/// The tokenizer of the weight directory `init`, after checking that its model
/// configuration is the one being trained, but for two changes allowed: weights trained
/// without centring the projector's output, or without the channel codec's linear
/// maps, may continue with them.
fn initial_tokenizer(init: &Path, model: &SemanticModelConfig) -> anyhow::Result<BpeTokenizer> {
    let paths = WeightPaths::existing(init)?;
    let mut init_model = SemanticModelConfig::load(&paths.config)?;
    if !init_model.projector.center && model.projector.center {
        init_model.projector.center = true;
        init_model.projector.center_on_running_mean = model.projector.center_on_running_mean;
    }
    if model.channel_codec.linear_skip {
        init_model.channel_codec.linear_skip = true;
    }
    if &init_model != model {
        anyhow::bail!(
            "{} describes another model than the training configuration's [model]; \
             copy its settings into [model] to continue from it",
            paths.config.display()
        );
    }
    Ok(BpeTokenizer::load(&paths.tokenizer)?)
}

fn load_split(dir: &Path) -> anyhow::Result<Split> {
    Split::load(dir).with_context(|| format!("loading data split {}", dir.display()))
}

/// Trains (or resumes) a model; checks `stop` between steps and checkpoints when set.
pub fn train(
    config: &TrainConfig,
    opts: &TrainOptions,
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    let out = &opts.out_dir;
    let paths = WeightPaths::in_dir(out);
    let (config, tokenizer, state) = if opts.resume {
        let config: TrainConfig =
            read_config(&out.join(TRAIN_CONFIG_FILE), "training configuration")?;
        let state: TrainState = read_config(&out.join(STATE_FILE), "training state")?;
        let tokenizer = BpeTokenizer::load(&paths.tokenizer)?;
        (config, tokenizer, state)
    } else {
        if out.join(STATE_FILE).exists() {
            anyhow::bail!(
                "{} already holds a training run; pass --resume to continue it or choose \
                 another --out",
                out.display()
            );
        }
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let tokenizer = match &config.train.init_from {
            Some(init) => initial_tokenizer(init, &config.model)?,
            None => {
                let train_split = load_split(&opts.data_dir.join("train"))?;
                let started = Instant::now();
                let tokenizer =
                    BpeTokenizer::train(&tokenizer_corpus(&train_split), config.model.vocab_size)?;
                info!(
                    "tokenizer: {} tokens trained in {:.1} s",
                    tokenizer.vocab_size(),
                    started.elapsed().as_secs_f64()
                );
                tokenizer
            }
        };
        tokenizer.save(&paths.tokenizer)?;
        config.model.save_json(&paths.config)?;
        write_json(&out.join(TRAIN_CONFIG_FILE), config)?;
        let state = TrainState {
            step: 0,
            seed: config.train.seed,
            optimizer_steps: 0,
            elapsed_s: 0.0,
        };
        (config.clone(), tokenizer, state)
    };
    let ts = &config.train;
    let mc = &config.model;

    let varmap = SeededVarMap::new(ts.seed);
    let model = SemanticModel::new(mc, varmap.var_builder(DType::F32, &opts.device))?;
    let mut optimizer = AdamW::new(varmap.named_vars(), &ts.optim)?;
    if opts.resume {
        // A VarMap clone shares its variables; loading sets their values in place.
        let mut shared = varmap.varmap().clone();
        shared
            .load(&paths.weights)
            .with_context(|| format!("loading weights {}", paths.weights.display()))?;
        let moments = candle_core::safetensors::load(out.join(OPTIMIZER_FILE), &opts.device)
            .with_context(|| format!("loading {}", out.join(OPTIMIZER_FILE).display()))?;
        optimizer.load_state(&moments, state.optimizer_steps)?;
        info!("resuming {} at step {}", out.display(), state.step);
    } else if let Some(init) = &ts.init_from {
        let init_paths = WeightPaths::existing(init)?;
        load_initial_weights(&varmap, &init_paths.weights, &opts.device)
            .with_context(|| format!("loading weights {}", init_paths.weights.display()))?;
        info!("starting from the weights in {}", init.display());
    }

    let running_mean = token_mean_name();
    let token_mean_var = varmap
        .named_vars()
        .into_iter()
        .find(|(name, _)| *name == running_mean)
        .map(|(_, var)| var);

    let train_split = load_split(&opts.data_dir.join("train"))?;
    let max_seq = mc.language_model.max_seq;
    let mut data = TaskData::new(train_split, &tokenizer, max_seq, mc.max_text_tokens)?;
    data.reconstruct_every_image = ts.reconstruct_every_image;
    let mut tasks = data.tasks().to_vec();
    if mc.token_fidelity_weight > 0.0 {
        tasks.push(TOKEN_FIDELITY.to_string());
    }
    let val_dir = opts.data_dir.join("val");
    let val_split = if ts.validate_every > 0 && val_dir.join("examples.jsonl").is_file() {
        Some(load_split(&val_dir)?)
    } else {
        if ts.validate_every > 0 {
            warn!(
                "no validation split at {}; validation skipped",
                val_dir.display()
            );
        }
        None
    };

    let mut loss_log = CsvLog::open(&out.join(LOSS_CSV), &loss_header(&tasks), state.step)?;
    let mut val_log = CsvLog::open(&out.join(VAL_CSV), VAL_HEADER, state.step)?;

    let end = opts.stop_at.map_or(ts.steps, |s| s.min(ts.steps));
    let session_start = Instant::now();
    let start_step = state.step;
    let mut step = state.step;
    let mut recent: Vec<f64> = Vec::new();
    let mut first_loss = None;
    let mut last_validation = None;
    let mut interrupted = false;
    let window = ts.log_every.max(1);
    while step < end {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let mut rng = step_rng(ts.seed, step);
        let draws = data.draw_batch(
            ts.batch_size,
            &ts.task_weights,
            mc.channel.snr_db_range,
            mc.rayleigh_fraction,
            &mut rng,
        );
        let t_forward = Instant::now();
        let path = if step < ts.clean_steps {
            TokenPath::Clean
        } else {
            TokenPath::Channel
        };
        let loss = data.batch_loss(&model, &tokenizer, &draws, path, &mut rng)?;
        let forward_s = t_forward.elapsed().as_secs_f64();
        let total = f64::from(loss.total.to_scalar::<f32>()?);
        if !total.is_finite() {
            anyhow::bail!("loss became {total} at step {step}; lower the learning rate");
        }
        let lr = ts.optim.lr_at(step, ts.steps);
        let t_backward = Instant::now();
        let grads = loss.total.backward()?;
        let grad_norm = optimizer.step(&grads, lr)?;
        if let (Some(mean), Some(running)) = (&loss.image_token_mean, &token_mean_var) {
            update_token_mean(running, mean, step)?;
        }
        let backward_s = t_backward.elapsed().as_secs_f64();
        step += 1;

        let mut row = vec![step.to_string(), format!("{lr:.6e}"), format!("{total:.6}")];
        row.push(format!("{grad_norm:.4}"));
        for t in &tasks {
            row.push(
                loss.per_task
                    .get(t)
                    .map_or(String::new(), |v| format!("{v:.6}")),
            );
        }
        loss_log.row(&row)?;
        recent.push(total);
        if recent.len() == window {
            let mean = recent.iter().sum::<f64>() / window as f64;
            first_loss.get_or_insert(mean);
        }
        if recent.len() > window {
            recent.remove(0);
        }
        let done = step - start_step;
        let rate = done as f64 / session_start.elapsed().as_secs_f64().max(1e-9);
        if opts.progress && (step % window == 0 || step == end) {
            let per_task: Vec<String> = loss
                .per_task
                .iter()
                .map(|(t, v)| format!("{t} {v:.3}"))
                .collect();
            let eta_s = (end - step) as f64 / rate.max(1e-9);
            eprintln!(
                "step {step}/{} {rate:.2} step/s (forward {:.0} ms, backward+update {:.0} ms) \
                 loss {total:.4} [{}] lr {lr:.2e} eta {}",
                ts.steps,
                forward_s * 1e3,
                backward_s * 1e3,
                per_task.join(", "),
                format_duration(eta_s)
            );
        }
        if let Some(val) = &val_split {
            if step % ts.validate_every == 0 {
                let report = validate(&model, &tokenizer, val, ts)?;
                val_log.row(&val_row(step, &report))?;
                if opts.progress {
                    eprintln!(
                        "validation at step {step}: {}",
                        serde_json::to_string(&report)?
                    );
                }
                last_validation = Some(report);
            }
        }
        if step % ts.checkpoint_every.max(1) == 0 && step < end {
            let elapsed = state.elapsed_s + session_start.elapsed().as_secs_f64();
            save_checkpoint(out, &varmap, &optimizer, step, ts.seed, elapsed)?;
        }
    }
    let elapsed = state.elapsed_s + session_start.elapsed().as_secs_f64();
    save_checkpoint(out, &varmap, &optimizer, step, ts.seed, elapsed)?;
    let done = step - start_step;
    let mean_recent = if recent.is_empty() {
        f64::NAN
    } else {
        recent.iter().sum::<f64>() / recent.len() as f64
    };
    Ok(TrainSummary {
        step,
        first_loss: first_loss.unwrap_or(mean_recent),
        last_loss: mean_recent,
        steps_per_s: done as f64 / session_start.elapsed().as_secs_f64().max(1e-9),
        interrupted,
        last_validation,
    })
}

/// Full weight name of the projector's running token mean.
pub(crate) fn token_mean_name() -> String {
    format!("projector.{TOKEN_MEAN}")
}

/// Sets every variable of `varmap` to the tensor of the same name in the safetensors
/// file `path`. Only the projector's running token mean (weights trained without
/// centring; it then starts from the first batches) and the channel codec's linear maps
/// (weights trained without `linear_skip`; they start at zero, so that the model starts
/// as the loaded one) may be absent. Any other missing name, or a shape mismatch, is an
/// error naming the tensor.
fn load_initial_weights(varmap: &SeededVarMap, path: &Path, device: &Device) -> anyhow::Result<()> {
    let tensors = candle_core::safetensors::load(path, device)?;
    let running_mean = token_mean_name();
    for (name, var) in varmap.named_vars() {
        match tensors.get(&name) {
            Some(t) => var
                .set(t)
                .with_context(|| format!("tensor {name}: {:?} in the file", t.dims()))?,
            None if name == running_mean => info!(
                "{}: no {name}; the running token mean starts from the first batches",
                path.display()
            ),
            None if is_codec_skip(&name) => {
                // At zero the maps leave the loaded model's output as it was.
                var.set(&var.zeros_like()?)?;
                info!(
                    "{}: no {name}; the codec's linear map starts at zero",
                    path.display()
                )
            }
            None => anyhow::bail!("no tensor {name}"),
        }
    }
    Ok(())
}

/// Whether `name` is a weight of the channel codec's optional linear maps.
fn is_codec_skip(name: &str) -> bool {
    ["channel_encoder", "channel_decoder"]
        .iter()
        .any(|codec| name.starts_with(&format!("{codec}.{SKIP}.")))
}

/// Validation metrics on the first `val_examples_per_task` examples of each task.
fn validate(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    val: &Split,
    ts: &TrainSettings,
) -> anyhow::Result<EvalReport> {
    let opts = EvalOptions {
        snr_db: ts.val_snr_db,
        channel: ChannelKind::Awgn,
        limit_per_task: Some(ts.val_examples_per_task),
        seed: ts.seed,
        clean_tokens: false,
    };
    evaluate(model, tokenizer, val, &opts)
}

/// Writes weights, optimizer moments and state, each through a temporary file and a
/// rename, so an interrupted write never leaves a half checkpoint under the real name.
pub fn save_checkpoint(
    out: &Path,
    varmap: &SeededVarMap,
    optimizer: &AdamW,
    step: usize,
    seed: u64,
    elapsed_s: f64,
) -> anyhow::Result<()> {
    let paths = WeightPaths::in_dir(out);
    let tmp = |p: &Path| p.with_extension("tmp");
    varmap.varmap().save(tmp(&paths.weights))?;
    let moments: HashMap<String, candle_core::Tensor> = optimizer.state_tensors();
    candle_core::safetensors::save(&moments, tmp(&out.join(OPTIMIZER_FILE)))?;
    let state = TrainState {
        step,
        seed,
        optimizer_steps: optimizer.step_count(),
        elapsed_s,
    };
    write_json(&tmp(&out.join(STATE_FILE)), &state)?;
    for p in [
        paths.weights.clone(),
        out.join(OPTIMIZER_FILE),
        out.join(STATE_FILE),
    ] {
        std::fs::rename(tmp(&p), &p).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn loss_header(tasks: &[String]) -> String {
    let mut h = String::from("step,lr,loss,grad_norm");
    for t in tasks {
        h.push_str(&format!(",loss_{t}"));
    }
    h
}

const VAL_HEADER: &str = "step,vqa_accuracy,caption_exact_match,classification_accuracy,\
text_bleu4,text_exact_match,image_psnr_db,image_ssim";

fn val_row(step: usize, r: &EvalReport) -> Vec<String> {
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    vec![
        step.to_string(),
        f(r.vqa_accuracy),
        f(r.caption_exact_match),
        f(r.classification_accuracy),
        f(r.text_bleu4),
        f(r.text_exact_match),
        f(r.image_psnr_db),
        f(r.image_ssim),
    ]
}

/// "1h02m", "3m05s", "12s".
fn format_duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// An append-only CSV whose first column is the step; reopening it at step `s` drops
/// rows after `s` (they belong to steps a resumed run will redo).
struct CsvLog {
    file: std::fs::File,
    path: PathBuf,
}

impl CsvLog {
    fn open(path: &Path, header: &str, keep_through_step: usize) -> anyhow::Result<Self> {
        let mut lines = vec![header.to_string()];
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines().skip(1) {
                let step = line.split(',').next().and_then(|s| s.parse::<usize>().ok());
                if step.is_some_and(|s| s <= keep_through_step) {
                    lines.push(line.to_string());
                }
            }
        }
        let mut file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        for l in &lines {
            writeln!(file, "{l}").with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    fn row(&mut self, cells: &[String]) -> anyhow::Result<()> {
        writeln!(self.file, "{}", cells.join(","))
            .with_context(|| format!("writing {}", self.path.display()))
    }
}
