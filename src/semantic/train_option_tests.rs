//! Tests of the training options (clean steps, the token fidelity loss, reconstruction
//! from every picture, centred image tokens) on the tiny model and synthetic data of
//! `train_tests`.

use super::model::SemanticModel;
use super::train::{train, TrainConfig};
use super::train_tests::{max_abs_diff, options, temp_dir, tiny_config, tiny_model, write_split};
use crate::data::dataset::Split;
use candle_core::Device;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

#[test]
fn clean_steps_leave_the_channel_codec_untouched_and_train_the_rest() {
    let root = temp_dir("clean-steps");
    write_split(&root.join("train"), 2);
    let never = AtomicBool::new(false);
    let mut clean = tiny_config(4);
    clean.train.clean_steps = 4;
    let load = |dir: &Path| {
        candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap()
    };
    let run = |cfg: &TrainConfig, name: &str, stop_at: Option<usize>| {
        let out = root.join(name);
        train(cfg, &options(&root, &out, false, stop_at), &never).unwrap();
        load(&out)
    };
    let after_2 = run(&clean, "clean-2", Some(2));
    let after_4 = run(&clean, "clean-4", None);
    let through_channel = run(&tiny_config(4), "channel-4", None);
    let (mut codec_moved_clean, mut codec_moved_channel, mut rest_moved) = (0f32, 0f32, 0f32);
    for (name, t4) in &after_4 {
        let d = max_abs_diff(t4, &after_2[name]);
        if name.starts_with("channel_encoder.") || name.starts_with("channel_decoder.") {
            codec_moved_clean = codec_moved_clean.max(d);
            codec_moved_channel = codec_moved_channel.max(max_abs_diff(t4, &through_channel[name]));
        } else {
            rest_moved = rest_moved.max(d);
        }
    }
    // Tokens that bypass the channel give the codec no gradient, so two more clean steps
    // must leave it bit-identical while the other modules keep learning; the same steps
    // through the channel must train the codec.
    assert_eq!(
        codec_moved_clean, 0.0,
        "the codec changed during clean steps"
    );
    assert!(rest_moved > 0.0, "clean steps trained nothing");
    assert!(
        codec_moved_channel > 0.0,
        "steps through the channel left the codec alone"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn token_fidelity_loss_trains_the_channel_codec_and_nothing_else() {
    use super::tokenizer::BpeTokenizer;
    use super::train::tokenizer_corpus;
    use super::train_batch::{step_rng, Draw, TaskData, TokenPath, TOKEN_FIDELITY};
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    let root = temp_dir("token-fidelity");
    write_split(&root.join("train"), 2);
    let split = Split::load(&root.join("train")).unwrap();
    // Every task weighs 0, so the total loss is the fidelity term alone.
    let mut cfg = tiny_model();
    cfg.token_fidelity_weight = 1.0;
    for task in super::template::Task::BUILT_IN {
        cfg.loss_weights.insert(task.to_string(), 0.0);
    }
    let tokenizer = BpeTokenizer::train(&tokenizer_corpus(&split), cfg.vocab_size).unwrap();
    let n_examples = split.examples.len();
    let mut data = TaskData::new(split, &tokenizer, cfg.language_model.max_seq, 40).unwrap();
    let vm = VarMap::new();
    let model =
        SemanticModel::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let draws: Vec<Draw> = (0..n_examples)
        .map(|example| Draw {
            example,
            snr_db: 10.0,
            channel: super::channel_layer::ChannelKind::Awgn,
        })
        .collect();
    let mut rng = step_rng(5, 0);
    let loss = data
        .batch_loss(&model, &tokenizer, &draws, TokenPath::Channel, &mut rng)
        .unwrap();
    let fidelity = loss.per_task[TOKEN_FIDELITY];
    // An untrained codec delivers hardly any of what differs between pictures.
    assert!(
        fidelity > 0.3 && fidelity.is_finite(),
        "fidelity {fidelity} of an untrained codec"
    );
    let grads = loss.total.backward().unwrap();
    let (mut codec, mut other) = (0f32, Vec::new());
    for (name, var) in vm.data().lock().unwrap().iter() {
        let norm = grads.get(var.as_tensor()).map_or(0.0, |g| {
            g.abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        });
        if name.starts_with("channel_encoder.") || name.starts_with("channel_decoder.") {
            codec += norm;
        } else if norm > 0.0 {
            other.push(name.clone());
        }
    }
    // Reaching the encoders would let them lower the loss by making every picture's
    // tokens alike; not reaching the codec would make the loss useless.
    assert!(codec > 0.0, "the fidelity loss does not reach the codec");
    assert!(
        other.is_empty(),
        "fidelity gradient outside the codec: {other:?}"
    );
    // Clean steps skip the channel, and with it the fidelity term.
    let clean = data
        .batch_loss(&model, &tokenizer, &draws, TokenPath::Clean, &mut rng)
        .unwrap();
    assert!(!clean.per_task.contains_key(TOKEN_FIDELITY));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn reconstructing_every_image_scores_the_pictures_of_the_other_image_tasks() {
    use super::tokenizer::BpeTokenizer;
    use super::train::tokenizer_corpus;
    use super::train_batch::{step_rng, Draw, TaskData, TokenPath};
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    let root = temp_dir("reconstruct-every-image");
    write_split(&root.join("train"), 2);
    let split = Split::load(&root.join("train")).unwrap();
    let cfg = tiny_model();
    let tokenizer = BpeTokenizer::train(&tokenizer_corpus(&split), cfg.vocab_size).unwrap();
    // Only the captioning examples: none of them is a reconstruct example.
    let captions: Vec<usize> = (0..split.examples.len())
        .filter(|&i| split.examples[i].task == "caption")
        .collect();
    assert!(!captions.is_empty());
    let mut data = TaskData::new(split, &tokenizer, cfg.language_model.max_seq, 40).unwrap();
    let vm = VarMap::new();
    let model =
        SemanticModel::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let draws: Vec<Draw> = captions
        .iter()
        .map(|&example| Draw {
            example,
            snr_db: 10.0,
            channel: super::channel_layer::ChannelKind::Awgn,
        })
        .collect();
    let decoder_grad = |every: bool, data: &mut TaskData| {
        data.reconstruct_every_image = every;
        let loss = data
            .batch_loss(
                &model,
                &tokenizer,
                &draws,
                TokenPath::Channel,
                &mut step_rng(1, 0),
            )
            .unwrap();
        let grads = loss.total.backward().unwrap();
        let norm: f32 = vm
            .data()
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.starts_with("image_decoder."))
            .filter_map(|(_, var)| grads.get(var.as_tensor()))
            .map(|g| {
                g.abs()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
            })
            .sum();
        (loss.per_task, norm)
    };
    let (plain, plain_grad) = decoder_grad(false, &mut data);
    let (every, every_grad) = decoder_grad(true, &mut data);
    // Without the option captions never train the image decoder; with it their pictures
    // do, and the captions keep their own loss, the same in both runs.
    assert!(!plain.contains_key("reconstruct") && plain_grad == 0.0);
    assert!(every["reconstruct"] > 0.0 && every_grad > 0.0, "{every:?}");
    assert_eq!(plain["caption"], every["caption"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn centring_switched_on_when_continuing_keeps_a_running_mean_of_the_pictures() {
    use candle_core::Tensor;
    // Continue with centring at learning rate 0: the weights stay those of the first
    // run, so every batch mean is a weighted mean of the two pictures' tokens, and so
    // must the running mean be.
    let (root, first, second) = train_then_continue_at_lr_zero("centring", 12, |cfg| {
        cfg.model.projector.center = true;
    });

    let dev = Device::Cpu;
    let (plain, _) = SemanticModel::load(&first, &dev).unwrap();
    let (centred, _) = SemanticModel::load(&second, &dev).unwrap();
    let split = Split::load(&root.join("train")).unwrap();
    let pictures: Vec<Tensor> = ["r0", "r1"]
        .iter()
        .map(|id| {
            let ex = split.examples.iter().find(|e| e.id == *id).unwrap();
            let img = split.load_image(ex).unwrap().unwrap();
            crate::data::image_io::image_to_tensor(&img, &dev).unwrap()
        })
        .collect();
    let pictures = Tensor::stack(&pictures, 0).unwrap();
    let raw = plain.encode_image(&pictures).unwrap();
    let weights = candle_core::safetensors::load(second.join("model.safetensors"), &dev).unwrap();
    let mean = &weights[&super::train::token_mean_name()];
    // Inference subtracts exactly the saved running mean.
    let diff = max_abs_diff(
        &centred.encode_image(&pictures).unwrap(),
        &raw.broadcast_sub(mean).unwrap(),
    );
    assert!(diff < 1e-5, "centred tokens off by {diff}");
    // The running mean lies on the segment between the two pictures' tokens.
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let p0 = flat(&raw.get(0).unwrap());
    let p1 = flat(&raw.get(1).unwrap());
    let m = flat(mean);
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let d: Vec<f32> = p0.iter().zip(&p1).map(|(a, b)| a - b).collect();
    let r: Vec<f32> = m.iter().zip(&p1).map(|(a, b)| a - b).collect();
    let a = dot(&r, &d) / dot(&d, &d);
    let off: Vec<f32> = r.iter().zip(&d).map(|(x, y)| x - a * y).collect();
    let off_rms = (dot(&off, &off) / off.len() as f32).sqrt();
    let d_rms = (dot(&d, &d) / d.len() as f32).sqrt();
    assert!(
        (0.0..=1.0).contains(&a) && off_rms < 1e-3 * d_rms,
        "running mean = p1 + {a} (p0 - p1) + a residual of rms {off_rms} (difference rms {d_rms})"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn codec_linear_maps_switched_on_when_continuing_start_beside_the_loaded_weights() {
    // Continue with the codec's linear maps at learning rate 0: the loaded weights must
    // come through unchanged, and the new maps must be added (not refused as missing)
    // at zero, so that the continued model computes what the loaded one did.
    let (root, first, second) = train_then_continue_at_lr_zero("codec-skip", 6, |cfg| {
        cfg.model.channel_codec.linear_skip = true;
    });

    let dev = Device::Cpu;
    let load =
        |dir: &Path| candle_core::safetensors::load(dir.join("model.safetensors"), &dev).unwrap();
    let (before, after) = (load(&first), load(&second));
    for (name, t) in &before {
        let diff = max_abs_diff(t, &after[name]);
        assert!(diff == 0.0, "{name} changed by {diff} at learning rate 0");
    }
    let mut added: Vec<&String> = after.keys().filter(|n| !before.contains_key(*n)).collect();
    added.sort();
    assert_eq!(
        added,
        [
            "channel_decoder.skip.bias",
            "channel_decoder.skip.weight",
            "channel_encoder.skip.bias",
            "channel_encoder.skip.weight"
        ]
    );
    for name in added {
        let peak = after[name].abs().unwrap().max_all().unwrap();
        assert_eq!(peak.to_scalar::<f32>().unwrap(), 0.0, "{name} not zero");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Trains a tiny model for 4 steps on two pictures (`root/first`), then continues from
/// it for `steps` steps at learning rate 0 with `switch_on` applied to the configuration
/// (`root/second`). Returns (root, first, second).
fn train_then_continue_at_lr_zero(
    name: &str,
    steps: usize,
    switch_on: impl FnOnce(&mut TrainConfig),
) -> (PathBuf, PathBuf, PathBuf) {
    let root = temp_dir(name);
    write_split(&root.join("train"), 2);
    let never = AtomicBool::new(false);
    let first = root.join("first");
    train(
        &tiny_config(4),
        &options(&root, &first, false, None),
        &never,
    )
    .unwrap();
    let mut cfg = tiny_config(steps);
    switch_on(&mut cfg);
    cfg.train.init_from = Some(first.clone());
    cfg.train.optim.lr = 0.0;
    let second = root.join("second");
    train(&cfg, &options(&root, &second, false, None), &never).unwrap();
    (root, first, second)
}
