//! Evaluation metrics: accuracy, exact match, corpus BLEU-4, PSNR and SSIM.
//!
//! - BLEU: Papineni, Roukos, Ward and Zhu, "BLEU: a Method for Automatic Evaluation of
//!   Machine Translation", ACL 2002: clipped ("modified") n-gram precisions p_1..p_4
//!   pooled over the corpus, geometric mean with uniform weights, times the brevity
//!   penalty BP = exp(1 - r / c) when the total candidate length c is not above the
//!   effective reference length r (sum over sentences of the reference length closest
//!   to the candidate's, the shorter on ties). No smoothing: a corpus without a single
//!   matching 4-gram scores 0. Tokens are the whitespace-separated words of the
//!   `normalize_answer` form.
//! - PSNR: 10 log10(1 / MSE) in dB for images with values in [0, 1].
//! - SSIM: Wang, Bovik, Sheikh and Simoncelli, "Image Quality Assessment: From Error
//!   Visibility to Structural Similarity", IEEE TIP 2004, with an 11x11 Gaussian window
//!   (sigma 1.5, normalized to sum 1) at every position where it fits inside the image
//!   (no padding), dynamic range L = 1, C1 = (0.01 L)^2, C2 = (0.03 L)^2; the mean of the
//!   SSIM map per channel, then the mean over channels.

use candle_core::{DType, Tensor};
use std::collections::HashMap;
use thiserror::Error;

/// Side of the SSIM window, in pixels.
pub const SSIM_WINDOW: usize = 11;
/// Standard deviation of the SSIM Gaussian window, in pixels.
pub const SSIM_SIGMA: f64 = 1.5;
/// SSIM luminance constant (0.01 * L)^2 with L = 1.
pub const SSIM_C1: f64 = 0.01 * 0.01;
/// SSIM contrast constant (0.03 * L)^2 with L = 1.
pub const SSIM_C2: f64 = 0.03 * 0.03;

/// Errors of metric inputs.
#[derive(Debug, Error)]
pub enum MetricError {
    #[error("{what}: {got} predictions for {expected} references")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: no examples")]
    Empty { what: &'static str },
    #[error("{what}: image shape {got:?}; expected {expected}")]
    Shape {
        what: &'static str,
        expected: String,
        got: Vec<usize>,
    },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

fn check_lengths(what: &'static str, got: usize, expected: usize) -> Result<(), MetricError> {
    if got != expected {
        return Err(MetricError::LengthMismatch {
            what,
            expected,
            got,
        });
    }
    if got == 0 {
        return Err(MetricError::Empty { what });
    }
    Ok(())
}

/// Fraction of positions where prediction equals target.
pub fn accuracy<T: PartialEq>(predictions: &[T], targets: &[T]) -> Result<f64, MetricError> {
    check_lengths("accuracy", predictions.len(), targets.len())?;
    let hits = predictions
        .iter()
        .zip(targets)
        .filter(|(p, t)| p == t)
        .count();
    Ok(hits as f64 / targets.len() as f64)
}

/// The form answers are compared in: lower case; every character that is neither
/// alphanumeric nor whitespace replaced by a space, except an apostrophe between two
/// letters ("isn't"); the articles "a", "an" and "the" dropped; words joined by single
/// spaces. "A red circle." and "red  circle" both become "red circle".
pub fn normalize_answer(s: &str) -> String {
    let chars: Vec<char> = s.to_lowercase().chars().collect();
    let cleaned: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let inner_apostrophe = c == '\''
                && i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            if c.is_alphanumeric() || c.is_whitespace() || inner_apostrophe {
                c
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fraction of predictions equal to their reference after `normalize_answer`.
pub fn exact_match(predictions: &[&str], references: &[&str]) -> Result<f64, MetricError> {
    check_lengths("exact match", predictions.len(), references.len())?;
    let hits = predictions
        .iter()
        .zip(references)
        .filter(|(p, r)| normalize_answer(p) == normalize_answer(r))
        .count();
    Ok(hits as f64 / references.len() as f64)
}

fn ngram_counts(tokens: &[&str], n: usize) -> HashMap<Vec<String>, usize> {
    let mut counts = HashMap::new();
    for w in tokens.windows(n) {
        let key: Vec<String> = w.iter().map(|s| s.to_string()).collect();
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Modified n-gram precision counts of one candidate (Papineni et al. 2002, 2.1):
/// (sum over the candidate's n-grams of min(count, max count in any reference),
/// number of candidate n-grams).
pub fn modified_precision(
    candidate: &[&str],
    references: &[Vec<&str>],
    n: usize,
) -> (usize, usize) {
    let cand = ngram_counts(candidate, n);
    let refs: Vec<_> = references.iter().map(|r| ngram_counts(r, n)).collect();
    let clipped = cand
        .iter()
        .map(|(g, &c)| {
            let max_ref = refs.iter().map(|r| r.get(g).copied().unwrap_or(0)).max();
            c.min(max_ref.unwrap_or(0))
        })
        .sum();
    (clipped, candidate.len().saturating_sub(n - 1))
}

/// Corpus BLEU-4 of tokenized candidates, each with one or more tokenized references.
pub fn corpus_bleu(
    candidates: &[Vec<&str>],
    references: &[Vec<Vec<&str>>],
) -> Result<f64, MetricError> {
    check_lengths("BLEU", candidates.len(), references.len())?;
    let mut matched = [0usize; 4];
    let mut total = [0usize; 4];
    let (mut c_len, mut r_len) = (0usize, 0usize);
    for (cand, refs) in candidates.iter().zip(references) {
        for n in 1..=4 {
            let (m, t) = modified_precision(cand, refs, n);
            matched[n - 1] += m;
            total[n - 1] += t;
        }
        c_len += cand.len();
        // Closest reference length; the shorter one on ties.
        r_len += refs
            .iter()
            .map(|r| r.len())
            .min_by_key(|&l| (l.abs_diff(cand.len()), l))
            .unwrap_or(0);
    }
    if (0..4).any(|i| matched[i] == 0 || total[i] == 0) {
        return Ok(0.0);
    }
    let log_precision: f64 = (0..4)
        .map(|i| (matched[i] as f64 / total[i] as f64).ln())
        .sum::<f64>()
        / 4.0;
    let brevity_penalty = if c_len > r_len {
        1.0
    } else {
        (1.0 - r_len as f64 / c_len as f64).exp()
    };
    Ok(brevity_penalty * log_precision.exp())
}

/// Corpus BLEU-4 of predicted against reference strings (one reference each),
/// tokenized as the words of `normalize_answer`.
pub fn bleu4(predictions: &[&str], references: &[&str]) -> Result<f64, MetricError> {
    let cand: Vec<String> = predictions.iter().map(|s| normalize_answer(s)).collect();
    let refs: Vec<String> = references.iter().map(|s| normalize_answer(s)).collect();
    let cand_tokens: Vec<Vec<&str>> = cand
        .iter()
        .map(|s| s.split(' ').filter(|w| !w.is_empty()).collect())
        .collect();
    let ref_tokens: Vec<Vec<Vec<&str>>> = refs
        .iter()
        .map(|s| vec![s.split(' ').filter(|w| !w.is_empty()).collect()])
        .collect();
    corpus_bleu(&cand_tokens, &ref_tokens)
}

/// PSNR in dB of two equally long buffers of values in [0, 1]; infinite when equal.
pub fn psnr_db(prediction: &[f32], target: &[f32]) -> Result<f64, MetricError> {
    check_lengths("PSNR", prediction.len(), target.len())?;
    let mse = prediction
        .iter()
        .zip(target)
        .map(|(&p, &t)| (p as f64 - t as f64).powi(2))
        .sum::<f64>()
        / target.len() as f64;
    Ok(-10.0 * mse.log10())
}

/// The normalized 1-D Gaussian of `SSIM_WINDOW` taps; the 2-D window is its outer
/// product with itself.
pub fn ssim_gaussian() -> [f64; SSIM_WINDOW] {
    let mut g = [0f64; SSIM_WINDOW];
    let half = (SSIM_WINDOW / 2) as f64;
    for (i, v) in g.iter_mut().enumerate() {
        let d = i as f64 - half;
        *v = (-d * d / (2.0 * SSIM_SIGMA * SSIM_SIGMA)).exp();
    }
    let sum: f64 = g.iter().sum();
    g.map(|v| v / sum)
}

/// Separable 'valid' Gaussian filtering of a (height, width) plane:
/// -> (height - 10, width - 10).
fn filter_valid(plane: &[f64], height: usize, width: usize, g: &[f64; SSIM_WINDOW]) -> Vec<f64> {
    let (oh, ow) = (height - SSIM_WINDOW + 1, width - SSIM_WINDOW + 1);
    let mut rows = vec![0f64; height * ow];
    for y in 0..height {
        for x in 0..ow {
            rows[y * ow + x] = (0..SSIM_WINDOW)
                .map(|k| g[k] * plane[y * width + x + k])
                .sum();
        }
    }
    let mut out = vec![0f64; oh * ow];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..SSIM_WINDOW)
                .map(|k| g[k] * rows[(y + k) * ow + x])
                .sum();
        }
    }
    out
}

/// Mean SSIM of one (height, width) plane pair, values in [0, 1].
fn ssim_plane(a: &[f64], b: &[f64], height: usize, width: usize) -> f64 {
    let g = ssim_gaussian();
    let prod =
        |f: fn(f64, f64) -> f64| -> Vec<f64> { a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect() };
    let mu_a = filter_valid(a, height, width, &g);
    let mu_b = filter_valid(b, height, width, &g);
    let aa = filter_valid(&prod(|x, _| x * x), height, width, &g);
    let bb = filter_valid(&prod(|_, y| y * y), height, width, &g);
    let ab = filter_valid(&prod(|x, y| x * y), height, width, &g);
    let n = mu_a.len();
    (0..n)
        .map(|i| {
            let (ma, mb) = (mu_a[i], mu_b[i]);
            let var_a = aa[i] - ma * ma;
            let var_b = bb[i] - mb * mb;
            let cov = ab[i] - ma * mb;
            ((2.0 * ma * mb + SSIM_C1) * (2.0 * cov + SSIM_C2))
                / ((ma * ma + mb * mb + SSIM_C1) * (var_a + var_b + SSIM_C2))
        })
        .sum::<f64>()
        / n as f64
}

/// SSIM of two images stored channel-first as (channels, height, width) buffers with
/// values in [0, 1]; both sides need at least `SSIM_WINDOW` pixels.
pub fn ssim(
    prediction: &[f32],
    target: &[f32],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<f64, MetricError> {
    let n = channels * height * width;
    let shape_err = |got: usize| MetricError::Shape {
        what: "SSIM",
        expected: format!("(channels, height, width) with {n} values, sides >= {SSIM_WINDOW}"),
        got: vec![got],
    };
    if prediction.len() != n || target.len() != n || height < SSIM_WINDOW || width < SSIM_WINDOW {
        return Err(shape_err(prediction.len()));
    }
    if channels == 0 {
        return Err(MetricError::Empty { what: "SSIM" });
    }
    let plane = height * width;
    let total: f64 = (0..channels)
        .map(|c| {
            let a: Vec<f64> = prediction[c * plane..(c + 1) * plane]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let b: Vec<f64> = target[c * plane..(c + 1) * plane]
                .iter()
                .map(|&v| v as f64)
                .collect();
            ssim_plane(&a, &b, height, width)
        })
        .sum();
    Ok(total / channels as f64)
}

/// Two flattened image batches and their (batch, channels, height, width).
type BatchBuffers = (Vec<f32>, Vec<f32>, [usize; 4]);

/// Splits two image batches (batch, channels, height, width) into per-image buffers.
fn batch_buffers(
    what: &'static str,
    prediction: &Tensor,
    target: &Tensor,
) -> Result<BatchBuffers, MetricError> {
    let dims = prediction.dims().to_vec();
    if dims.len() != 4 || target.dims() != dims.as_slice() {
        return Err(MetricError::Shape {
            what,
            expected: format!(
                "(batch, channels, height, width), equal; target {:?}",
                target.dims()
            ),
            got: dims,
        });
    }
    let flat = |t: &Tensor| -> Result<Vec<f32>, MetricError> {
        Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    };
    Ok((
        flat(prediction)?,
        flat(target)?,
        [dims[0], dims[1], dims[2], dims[3]],
    ))
}

/// Mean PSNR in dB over a batch. prediction, target: (batch, channels, height, width).
pub fn psnr_db_batch(prediction: &Tensor, target: &Tensor) -> Result<f64, MetricError> {
    let (p, t, [b, c, h, w]) = batch_buffers("PSNR", prediction, target)?;
    let n = c * h * w;
    let mut sum = 0.0;
    for i in 0..b {
        sum += psnr_db(&p[i * n..(i + 1) * n], &t[i * n..(i + 1) * n])?;
    }
    if b == 0 {
        return Err(MetricError::Empty { what: "PSNR" });
    }
    Ok(sum / b as f64)
}

/// Mean SSIM over a batch. prediction, target: (batch, channels, height, width).
pub fn ssim_batch(prediction: &Tensor, target: &Tensor) -> Result<f64, MetricError> {
    let (p, t, [b, c, h, w]) = batch_buffers("SSIM", prediction, target)?;
    let n = c * h * w;
    let mut sum = 0.0;
    for i in 0..b {
        sum += ssim(&p[i * n..(i + 1) * n], &t[i * n..(i + 1) * n], c, h, w)?;
    }
    if b == 0 {
        return Err(MetricError::Empty { what: "SSIM" });
    }
    Ok(sum / b as f64)
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
