//! Tests of training, resume, evaluation and loading on a tiny model and a handful of
//! synthetic examples (generated scenes and short sentences).

use super::channel_layer::ChannelKind;
use super::eval::{evaluate, EvalOptions};
use super::model::SemanticModel;
use super::model_config::{SemanticModelConfig, WeightPaths, WeightsError};
use super::optim::OptimConfig;
use super::train::{train, TrainConfig, TrainOptions, TrainSettings};
use crate::data::dataset::{Example, Split, SplitWriter};
use crate::data::scenes::Scene;
use candle_core::Device;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A fresh, empty temporary directory unique to this test.
pub(super) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("m4sc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a split with `n_scenes` scenes (reconstruct, caption, vqa and a classify
/// example naming the number of shapes) and three sentences (text).
pub(super) fn write_split(dir: &Path, n_scenes: u64) {
    let mut w = SplitWriter::create(dir).unwrap();
    let mut images = Vec::new();
    for k in 0..n_scenes {
        let scene = Scene::generate(k);
        images.push((
            scene.render(),
            scene.caption(),
            scene.questions(k),
            scene.objects.len(),
        ));
    }
    let mut records = Vec::new();
    for (k, (img, caption, qas, n_obj)) in images.into_iter().enumerate() {
        let rel = w.add_image(&format!("scene-{k}"), &img).unwrap();
        records.push((
            format!("r{k}"),
            "reconstruct",
            Some(rel.clone()),
            None,
            None,
            String::new(),
        ));
        records.push((
            format!("c{k}"),
            "caption",
            Some(rel.clone()),
            None,
            None,
            caption,
        ));
        let qa = &qas[0];
        records.push((
            format!("q{k}"),
            "vqa",
            Some(rel.clone()),
            Some(qa.question.clone()),
            None,
            qa.answer.clone(),
        ));
        records.push((
            format!("k{k}"),
            "classify",
            Some(rel),
            None,
            None,
            n_obj.to_string(),
        ));
    }
    for (i, s) in ["hello there", "how are you", "good morning"]
        .iter()
        .enumerate()
    {
        records.push((format!("t{i}"), "text", None, None, Some(*s), s.to_string()));
    }
    for (id, task, image, q, text, answer) in records {
        w.push(&Example {
            id,
            source: "test".into(),
            task: task.into(),
            image,
            question: q,
            text: text.map(str::to_string),
            answer,
        })
        .unwrap();
    }
    w.finish().unwrap();
}

/// A model small enough to train a few steps in well under a second each.
pub(super) fn tiny_model() -> SemanticModelConfig {
    let mut m = SemanticModelConfig::default();
    let d = 32;
    m.d_model = d;
    m.vocab_size = 320;
    m.vision_encoder.d_vision = d;
    m.vision_encoder.n_layers = 1;
    m.vision_encoder.n_heads = 2;
    m.vision_encoder.d_ff = 64;
    m.projector.d_vision = d;
    m.projector.d_model = d;
    m.projector.hidden = 16;
    m.channel_codec.d_model = d;
    m.channel_codec.symbols_per_token = 4;
    m.channel_codec.hidden = 16;
    m.language_model.vocab_size = 320;
    m.language_model.d_model = d;
    m.language_model.n_layers = 1;
    m.language_model.n_heads = 2;
    m.language_model.d_ff = 64;
    m.language_model.max_seq = 96;
    m.image_decoder.d_model = d;
    m.image_decoder.n_heads = 2;
    m.image_decoder.ff_dim = 64;
    m.image_decoder.channels = 8;
    m
}

/// Largest absolute element difference of two tensors of one shape.
pub(super) fn max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>())
        .expect("tensors of one shape")
}

pub(super) fn tiny_config(steps: usize) -> TrainConfig {
    TrainConfig {
        model: tiny_model(),
        train: TrainSettings {
            seed: 5,
            steps,
            batch_size: 8,
            task_weights: BTreeMap::new(),
            optim: OptimConfig {
                lr: 3e-3,
                warmup_steps: 3,
                ..OptimConfig::default()
            },
            checkpoint_every: 3,
            validate_every: 0,
            val_examples_per_task: 2,
            val_snr_db: 10.0,
            log_every: 5,
            init_from: None,
            clean_steps: 0,
            reconstruct_every_image: false,
        },
    }
}

pub(super) fn options(
    data: &Path,
    out: &Path,
    resume: bool,
    stop_at: Option<usize>,
) -> TrainOptions {
    TrainOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        resume,
        stop_at,
        device: Device::Cpu,
        progress: false,
    }
}

#[test]
fn few_steps_on_synthetic_data_lower_the_loss() {
    let root = temp_dir("train-falls");
    write_split(&root.join("train"), 2);
    let out = root.join("run");
    let cfg = tiny_config(60);
    let summary = train(
        &cfg,
        &options(&root, &out, false, None),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(summary.step, 60);
    eprintln!(
        "tiny run: loss {:.4} -> {:.4}",
        summary.first_loss, summary.last_loss
    );
    // Mean weighted loss of the first 5 steps against the last 5 (seed 5: about
    // 19.4 -> 8.2): 60 AdamW steps on 11 examples must cut it by 40 %; a model whose
    // gradients do not reach the weights (or a wrong target shift) stays near the
    // first value.
    assert!(
        summary.last_loss < 0.6 * summary.first_loss,
        "loss {} -> {}",
        summary.first_loss,
        summary.last_loss
    );
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        61,
        "one header and one row per step:\n{csv}"
    );
    WeightPaths::existing(&out).expect("the run leaves a complete weight directory");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn stopping_and_resuming_reproduces_the_uninterrupted_run() {
    let root = temp_dir("resume");
    write_split(&root.join("train"), 2);
    let cfg = tiny_config(6);
    let never = AtomicBool::new(false);
    let straight = root.join("straight");
    train(&cfg, &options(&root, &straight, false, None), &never).unwrap();
    let split = root.join("split");
    let first = train(&cfg, &options(&root, &split, false, Some(3)), &never).unwrap();
    assert_eq!(first.step, 3, "--stop-at 3 must stop after step 3");
    let err = train(&cfg, &options(&root, &split, false, None), &never).unwrap_err();
    assert!(
        err.to_string().contains("--resume"),
        "a fresh run must not overwrite: {err}"
    );
    let second = train(&cfg, &options(&root, &split, true, None), &never).unwrap();
    assert_eq!(second.step, 6);
    let a =
        candle_core::safetensors::load(straight.join("model.safetensors"), &Device::Cpu).unwrap();
    let b = candle_core::safetensors::load(split.join("model.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(a.len(), b.len());
    let mut worst = 0f32;
    for (name, ta) in &a {
        worst = worst.max(max_abs_diff(ta, &b[name]));
    }
    // Same batches, noise, moments and step count: any difference beyond float
    // reassociation means some state (RNG position, moments, bias correction) was lost.
    assert!(worst < 1e-5, "weights differ by up to {worst}");
    let csv_a = std::fs::read_to_string(straight.join("loss.csv")).unwrap();
    let csv_b = std::fs::read_to_string(split.join("loss.csv")).unwrap();
    assert_eq!(
        csv_a.lines().count(),
        csv_b.lines().count(),
        "loss log rows"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_run_started_from_trained_weights_continues_where_they_left_off() {
    let root = temp_dir("init-from");
    write_split(&root.join("train"), 2);
    let never = AtomicBool::new(false);
    let first = root.join("first");
    let a = train(
        &tiny_config(40),
        &options(&root, &first, false, None),
        &never,
    )
    .unwrap();
    let mut cfg = tiny_config(5);
    cfg.train.seed = 6;
    cfg.train.init_from = Some(first.clone());
    let second = root.join("second");
    let b = train(&cfg, &options(&root, &second, false, None), &never).unwrap();
    // Seeded fresh weights start near a.first_loss; weights loaded from the first run
    // start near where it ended. A loader that silently kept the seeded weights would
    // start high again.
    assert!(
        b.first_loss < 0.8 * a.first_loss,
        "continued run starts at loss {} against a fresh start's {} (first run ended at {})",
        b.first_loss,
        a.first_loss,
        a.last_loss
    );
    assert_eq!(
        std::fs::read(first.join("tokenizer.json")).unwrap(),
        std::fs::read(second.join("tokenizer.json")).unwrap(),
        "the continued run must keep the token ids its weights were trained on"
    );

    let mut other = cfg.clone();
    other.model.channel_codec.symbols_per_token = 8;
    let err = train(
        &other,
        &options(&root, &root.join("third"), false, None),
        &never,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("config.json"),
        "a model mismatch must name the file: {err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn eval_report_has_every_metric_in_range_for_a_random_model() {
    let root = temp_dir("eval");
    write_split(&root.join("train"), 2);
    let out = root.join("run");
    train(
        &tiny_config(1),
        &options(&root, &out, false, None),
        &AtomicBool::new(false),
    )
    .unwrap();
    let (model, tokenizer) = SemanticModel::load(&out, &Device::Cpu).unwrap();
    let split = Split::load(&root.join("train")).unwrap();
    for channel in [ChannelKind::Awgn, ChannelKind::Rayleigh] {
        let opts = EvalOptions {
            snr_db: 5.0,
            channel,
            limit_per_task: None,
            seed: 3,
            clean_tokens: false,
        };
        let report = evaluate(&model, &tokenizer, &split, &opts).unwrap();
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        for key in [
            "vqa_accuracy",
            "caption_exact_match",
            "classification_accuracy",
            "text_bleu4",
            "text_exact_match",
            "image_ssim",
        ] {
            let v = json[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} missing: {json}"));
            assert!((0.0..=1.0).contains(&v), "{key} = {v} outside [0, 1]");
        }
        let psnr = json["image_psnr_db"].as_f64().expect("image_psnr_db");
        // An untrained decoder gives some grey image: PSNR a few dB, never infinite.
        assert!(psnr.is_finite() && psnr > 0.0 && psnr < 40.0, "psnr {psnr}");
        assert_eq!(
            json["channel_symbols_per_image"],
            16 * 4,
            "16 tokens x 4 symbols"
        );
        assert_eq!(json["counts"]["vqa"], 2);
        assert_eq!(json["counts"]["text"], 3);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn missing_or_malformed_weight_files_are_named_in_the_error() {
    let root = temp_dir("missing");
    let err = SemanticModel::load(&root.join("nowhere"), &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, WeightsError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("nowhere"), "{err}");
    let dir = root.join("w");
    std::fs::create_dir_all(&dir).unwrap();
    let err = SemanticModel::load(&dir, &Device::Cpu).err().unwrap();
    assert!(err.to_string().contains("config.json"), "{err}");
    let paths = WeightPaths::in_dir(&dir);
    tiny_model().save_json(&paths.config).unwrap();
    std::fs::write(&paths.weights, b"not safetensors").unwrap();
    std::fs::write(&paths.tokenizer, b"{}").unwrap();
    let err = SemanticModel::load(&dir, &Device::Cpu).err().unwrap();
    assert!(
        matches!(err, WeightsError::Malformed { .. }) && err.to_string().contains("tokenizer.json"),
        "{err}"
    );
    std::fs::write(&paths.config, b"{\"d_model\": [1]}").unwrap();
    let err = SemanticModel::load(&dir, &Device::Cpu).err().unwrap();
    assert!(err.to_string().contains("config.json"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn shipped_training_configs_parse_and_describe_a_consistent_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mlp = SemanticModelConfig {
        projector: super::projector::ProjectorConfig {
            kind: super::projector::ProjectorKind::Mlp,
            ..SemanticModelConfig::default().projector
        },
        ..SemanticModelConfig::default()
    };
    let default = SemanticModelConfig::default();
    let centred = SemanticModelConfig {
        projector: super::projector::ProjectorConfig {
            center: true,
            ..SemanticModelConfig::default().projector
        },
        ..SemanticModelConfig::default()
    };
    let awgn_only = SemanticModelConfig {
        rayleigh_fraction: 0.0,
        ..SemanticModelConfig::default()
    };
    let skip = SemanticModelConfig {
        channel_codec: super::channel_codec::ChannelCodecConfig {
            linear_skip: true,
            ..SemanticModelConfig::default().channel_codec
        },
        ..SemanticModelConfig::default()
    };
    for (file, steps, model) in [
        ("default.toml", 6000, &default),
        ("default_mlp.toml", 6000, &mlp),
        ("default_awgn.toml", 6000, &awgn_only),
        ("default_centred.toml", 6000, &centred),
        ("default_skip.toml", 6000, &skip),
        ("reconstruct_only.toml", 1500, &default),
        ("quick.toml", 2000, &default),
        ("continue.toml", 4500, &default),
        ("stage3.toml", 5000, &default),
    ] {
        let cfg = TrainConfig::load(&root.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cfg.train.steps, steps,
            "{file}: steps changed without the docs"
        );
        assert_eq!(
            &cfg.model, model,
            "{file}: the model must be the design's default but for its twin's one setting"
        );
        cfg.model.check_consistency().unwrap();
    }
    // The twin differs from the default run in its projector only.
    let a = TrainConfig::load(&root.join("default.toml")).unwrap();
    let b = TrainConfig::load(&root.join("default_mlp.toml")).unwrap();
    assert_eq!(a.train, b.train, "the KAN/MLP twins must train identically");
    let c = TrainConfig::load(&root.join("default_awgn.toml")).unwrap();
    assert_eq!(
        a.train, c.train,
        "the fading/AWGN twins must train identically"
    );
    let d = TrainConfig::load(&root.join("default_centred.toml")).unwrap();
    assert_eq!(
        a.train, d.train,
        "the centring twins must train identically"
    );
    let e = TrainConfig::load(&root.join("default_skip.toml")).unwrap();
    assert_eq!(
        a.train, e.train,
        "the codec linear map twins must train identically"
    );
}

#[test]
fn committed_default_weights_load_without_download() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("weights/default");
    let (model, tokenizer) = SemanticModel::load(&dir, &Device::Cpu)
        .unwrap_or_else(|e| panic!("the shipped weights must load: {e}"));
    assert_eq!(
        model.config(),
        &SemanticModelConfig::default(),
        "shipped = default model"
    );
    assert!(tokenizer.vocab_size() <= model.config().vocab_size);
    assert_eq!(
        model.symbols_per_token() * 16,
        256,
        "an image costs 256 channel symbols"
    );
}

#[test]
fn every_weight_gets_a_gradient_from_a_batch_of_all_tasks() {
    for center in [false, true] {
        gradient_coverage(center);
    }
}

/// Checks that one batch of every task reaches every weight (with `center`, all but
/// the running token mean, which is not trained by gradient).
fn gradient_coverage(center: bool) {
    use super::channel_layer::ChannelKind as Kind;
    use super::tokenizer::BpeTokenizer;
    use super::train::tokenizer_corpus;
    use super::train_batch::{step_rng, Draw, TaskData, TokenPath};
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    let root = temp_dir(&format!("grad-coverage-{center}"));
    write_split(&root.join("train"), 2);
    let split = Split::load(&root.join("train")).unwrap();
    let mut cfg = tiny_model();
    cfg.projector.center = center;
    let tokenizer = BpeTokenizer::train(&tokenizer_corpus(&split), cfg.vocab_size).unwrap();
    let n_examples = split.examples.len();
    let mut data = TaskData::new(split, &tokenizer, cfg.language_model.max_seq, 40).unwrap();
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let model = SemanticModel::new(&cfg, vb).unwrap();
    // Every example once, half through Rayleigh fading, so every task and both channel
    // branches contribute to the loss.
    let draws: Vec<Draw> = (0..n_examples)
        .map(|example| Draw {
            example,
            snr_db: 10.0,
            channel: if example % 2 == 0 {
                Kind::Awgn
            } else {
                Kind::Rayleigh
            },
        })
        .collect();
    let loss = data
        .batch_loss(
            &model,
            &tokenizer,
            &draws,
            TokenPath::Channel,
            &mut step_rng(3, 0),
        )
        .unwrap();
    assert_eq!(
        loss.per_task.keys().cloned().collect::<Vec<_>>(),
        ["caption", "classify", "reconstruct", "text", "vqa"]
    );
    let grads = loss.total.backward().unwrap();
    let vars = vm.data().lock().unwrap();
    let mut without = Vec::new();
    for (name, var) in vars.iter() {
        let norm = grads.get(var.as_tensor()).map(|g| {
            g.abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        });
        if !norm.is_some_and(|n| n > 0.0) {
            without.push(name.clone());
        }
    }
    without.sort();
    // A weight without a gradient never trains: an operation without a backward pass
    // (candle-nn's fused norms and softmax have none) or a branch cut off the loss.
    let expected: Vec<String> = if center {
        vec![super::train::token_mean_name()]
    } else {
        Vec::new()
    };
    assert_eq!(
        without, expected,
        "weights without gradient (centring {center})"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
