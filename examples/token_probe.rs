//! Linear probes of what a model's image tokens carry: can a linear classifier read the
//! colour and the shape of a one-shape easy-VQA picture from its 16 semantic tokens?
//!
//! ```sh
//! cargo run --release --example token_probe -- WEIGHTS_DIR TRAIN_SPLIT TEST_SPLIT [SNR_DB]
//! # e.g. weights/default data/prepared/train data/prepared/test 20
//! ```
//!
//! Labels come from the easy-VQA captions ("a red circle": colour, shape). Features are
//! the 16 x d_model token values, standardized with the training set's mean and spread,
//! before the channel ("sent") and after the channel codec and AWGN at SNR_DB (default
//! 20) ("received"). The probe is multinomial logistic regression, trained by full-batch
//! gradient descent (300 epochs, step 0.5, L2 1e-3). It prints each probe's training
//! and test accuracy and the share of the most frequent test label (chance), and first
//! the share of the tokens' and of the channel symbols' energy that varies between
//! pictures (the rest is common to all of them and tells the receiver nothing).

use anyhow::Context;
use candle_core::{Device, Tensor};
use m4sc::data::dataset::Split;
use m4sc::data::image_io::image_to_tensor;
use m4sc::semantic::channel_layer::ChannelKind;
use m4sc::semantic::model::SemanticModel;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Token features of one split's easy-VQA captions: (sent rows, received rows, captions,
/// channel symbol rows).
type Features = (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<String>, Vec<Vec<f32>>);

fn features(model: &SemanticModel, split_dir: &str, snr_db: f32) -> anyhow::Result<Features> {
    let split = Split::load(&PathBuf::from(split_dir))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let examples: Vec<_> = split
        .task("caption")
        .filter(|ex| ex.source == "easy-vqa")
        .collect();
    let (mut sent, mut received, mut captions) = (Vec::new(), Vec::new(), Vec::new());
    let mut symbols = Vec::new();
    for chunk in examples.chunks(32) {
        let mut images = Vec::new();
        for ex in chunk {
            let img = split.load_image(ex)?.context("caption without picture")?;
            images.push(image_to_tensor(&img, &Device::Cpu)?);
            captions.push(ex.answer.clone());
        }
        let images = Tensor::stack(&images, 0)?;
        let tokens = model.encode_image(&images)?;
        let snr = Tensor::full(snr_db, chunk.len(), &Device::Cpu)?;
        let rx = model.through_channel(&tokens, &snr, ChannelKind::Awgn, &mut rng)?;
        symbols.extend(
            model
                .to_channel(&tokens)?
                .flatten_from(1)?
                .to_vec2::<f32>()?,
        );
        sent.extend(tokens.flatten_from(1)?.to_vec2::<f32>()?);
        received.extend(rx.flatten_from(1)?.to_vec2::<f32>()?);
    }
    Ok((sent, received, captions, symbols))
}

/// Share of the rows' energy that varies from row to row: sum |x_i - mean|^2 over
/// sum |x_i|^2, 1 for zero-mean rows, 0 when every row is the same.
fn varying_share(rows: &[Vec<f32>]) -> f64 {
    let n = rows.len() as f64;
    let d = rows.first().map_or(0, Vec::len);
    let mean: Vec<f64> = (0..d)
        .map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / n)
        .collect();
    let total: f64 = rows.iter().flatten().map(|&v| f64::from(v).powi(2)).sum();
    let varying: f64 = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(&v, m)| (f64::from(v) - m).powi(2))
                .sum::<f64>()
        })
        .sum();
    varying / total.max(f64::MIN_POSITIVE)
}

/// Class index of every label, in a fixed (sorted) order of the training labels; a test
/// label never seen in training gets `usize::MAX` (always wrong).
fn encode_labels(train: &[String], test: &[String]) -> (Vec<usize>, Vec<usize>, usize) {
    let classes: BTreeMap<&String, usize> = train
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, i))
        .collect();
    let idx = |v: &[String]| -> Vec<usize> {
        v.iter()
            .map(|l| classes.get(l).copied().unwrap_or(usize::MAX))
            .collect()
    };
    (idx(train), idx(test), classes.len())
}

/// Logits of rows `x` (n x d) under weights `w` (d x k, row-major) and bias `b` (k).
fn logits(x: &[Vec<f32>], w: &[f32], b: &[f32], k: usize) -> Vec<Vec<f32>> {
    x.iter()
        .map(|row| {
            let mut z = b.to_vec();
            for (j, &v) in row.iter().enumerate() {
                for (c, zc) in z.iter_mut().enumerate() {
                    *zc += v * w[j * k + c];
                }
            }
            z
        })
        .collect()
}

fn accuracy(z: &[Vec<f32>], y: &[usize]) -> f64 {
    let argmax = |r: &Vec<f32>| {
        r.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |m| m.0)
    };
    let hits = z.iter().zip(y).filter(|(r, &t)| argmax(r) == t).count();
    hits as f64 / y.len() as f64
}

/// Trains the probe on (`xtr`, `ytr`) and returns (train accuracy, test accuracy).
fn probe(xtr: &[Vec<f32>], ytr: &[usize], xte: &[Vec<f32>], yte: &[usize], k: usize) -> (f64, f64) {
    let d = xtr[0].len();
    let n = xtr.len() as f32;
    let mean: Vec<f32> = (0..d)
        .map(|j| xtr.iter().map(|r| r[j]).sum::<f32>() / n)
        .collect();
    let sd: Vec<f32> = (0..d)
        .map(|j| {
            let v = xtr.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f32>() / n;
            v.sqrt() + 1e-6
        })
        .collect();
    let standardize = |x: &[Vec<f32>]| -> Vec<Vec<f32>> {
        x.iter()
            .map(|r| (0..d).map(|j| (r[j] - mean[j]) / sd[j]).collect())
            .collect()
    };
    let (a, t) = (standardize(xtr), standardize(xte));
    let (mut w, mut b) = (vec![0f32; d * k], vec![0f32; k]);
    let (step, l2) = (0.5f32, 1e-3f32);
    for _ in 0..300 {
        let z = logits(&a, &w, &b, k);
        let mut gw = vec![0f32; d * k];
        let mut gb = vec![0f32; k];
        for ((row, zr), &y) in a.iter().zip(&z).zip(ytr) {
            let m = zr.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = zr.iter().map(|v| (v - m).exp()).collect();
            let s: f32 = e.iter().sum();
            for c in 0..k {
                let g = e[c] / s - f32::from(u8::from(c == y));
                gb[c] += g / n;
                for (j, &v) in row.iter().enumerate() {
                    gw[j * k + c] += g * v / n;
                }
            }
        }
        for (wi, gi) in w.iter_mut().zip(&gw) {
            *wi -= step * (gi + l2 * *wi);
        }
        for (bi, gi) in b.iter_mut().zip(&gb) {
            *bi -= step * gi;
        }
    }
    (
        accuracy(&logits(&a, &w, &b, k), ytr),
        accuracy(&logits(&t, &w, &b, k), yte),
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        anyhow::bail!("usage: token_probe WEIGHTS_DIR TRAIN_SPLIT TEST_SPLIT [SNR_DB]");
    }
    let (model, _) = SemanticModel::load(&PathBuf::from(&args[0]), &Device::Cpu)?;
    let snr_db: f32 = args.get(3).map_or(Ok(20.0), |s| s.parse())?;
    let (tr_sent, tr_rx, tr_cap, tr_sym) = features(&model, &args[1], snr_db)?;
    let (te_sent, te_rx, te_cap, _) = features(&model, &args[2], snr_db)?;
    anyhow::ensure!(
        !tr_cap.is_empty() && !te_cap.is_empty(),
        "both splits need easy-VQA caption examples"
    );
    println!(
        "{} training and {} test pictures, AWGN {snr_db} dB",
        tr_cap.len(),
        te_cap.len()
    );
    println!(
        "share of energy that varies between pictures: tokens {:.3}, channel symbols {:.3}",
        varying_share(&tr_sent),
        varying_share(&tr_sym)
    );
    let word = |caps: &[String], pick: fn(&[&str]) -> String| -> Vec<String> {
        caps.iter()
            .map(|c| pick(&c.split_whitespace().collect::<Vec<_>>()))
            .collect()
    };
    let colour = |w: &[&str]| w.get(1).map_or(String::new(), |s| s.to_string());
    let shape = |w: &[&str]| w.last().map_or(String::new(), |s| s.to_string());
    for (name, pick) in [
        ("colour", colour as fn(&[&str]) -> String),
        ("shape", shape),
    ] {
        let (ytr, yte, k) = encode_labels(&word(&tr_cap, pick), &word(&te_cap, pick));
        let mut counts = vec![0usize; k];
        for &y in yte.iter().filter(|&&y| y < k) {
            counts[y] += 1;
        }
        let chance = *counts.iter().max().unwrap_or(&0) as f64 / yte.len() as f64;
        for (tokens, xtr, xte) in [("sent", &tr_sent, &te_sent), ("received", &tr_rx, &te_rx)] {
            let (acc_tr, acc_te) = probe(xtr, &ytr, xte, &yte, k);
            println!(
                "{name:6} {tokens:8} {k} classes: train {acc_tr:.3} test {acc_te:.3} \
                 (chance {chance:.3})"
            );
        }
    }
    Ok(())
}
