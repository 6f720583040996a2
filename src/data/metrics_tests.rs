//! Tests of `metrics.rs` against hand-computed values, invariants and naive versions.

use super::*;
use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

#[test]
fn accuracy_and_exact_match_with_normalization() {
    assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 0, 3, 0]).unwrap(), 0.5);
    assert!(matches!(
        accuracy(&[1], &[1, 2]),
        Err(MetricError::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    assert!(matches!(
        accuracy::<u8>(&[], &[]),
        Err(MetricError::Empty { .. })
    ));
    assert_eq!(normalize_answer("  A Red, circle. "), "red circle");
    assert_eq!(normalize_answer("It isn't THE 'end'!"), "it isn't end");
    let em = exact_match(
        &["The red circle.", "3", "blue"],
        &["red circle", "three", "Blue"],
    );
    assert!(
        (em.unwrap() - 2.0 / 3.0).abs() < 1e-12,
        "2 of 3 match after normalization"
    );
}

#[test]
fn modified_precision_matches_papineni_example() {
    // Papineni et al. 2002, section 2.1: "the the the the the the the" against the two
    // references has modified unigram precision 2/7.
    let refs = vec![
        words("the cat is on the mat"),
        words("there is a cat on the mat"),
    ];
    assert_eq!(
        modified_precision(&words("the the the the the the the"), &refs, 1),
        (2, 7)
    );
}

#[test]
fn corpus_bleu_matches_hand_computed_value() {
    // Sentence 1: candidate "a b c d e f" (6), reference "a b c d e g h" (7).
    //   matches: 1-grams 5/6, 2-grams 4/5 (ab bc cd de), 3-grams 3/4, 4-grams 2/3.
    // Sentence 2: candidate = reference = "a b c d": 4/4, 3/3, 2/2, 1/1.
    // Pooled: p1 = 9/10, p2 = 7/8, p3 = 5/6, p4 = 3/4; c = 10, r = 11,
    // BP = exp(1 - 11/10) = exp(-0.1); BLEU = exp(-0.1) * (0.9*0.875*5/6*0.75)^(1/4)
    // = exp(-0.1) * 0.4921875^(1/4) = 0.757884...
    let cands = vec![words("a b c d e f"), words("a b c d")];
    let refs = vec![vec![words("a b c d e g h")], vec![words("a b c d")]];
    let expected = (-0.1f64).exp() * 0.4921875f64.powf(0.25);
    let got = corpus_bleu(&cands, &refs).unwrap();
    assert!(
        (got - expected).abs() < 1e-12,
        "BLEU {got}, hand-computed {expected}"
    );
    assert!((got - 0.757884).abs() < 1e-6);
    // Same sentences through the string interface ("a" would be dropped as an
    // article, so "k" stands for it).
    let s = bleu4(&["K b c d e f", "k b c d."], &["k b c d e g h", "k b c d"]).unwrap();
    assert!((s - expected).abs() < 1e-12, "string BLEU {s}");
}

#[test]
fn bleu_edge_cases() {
    let same = bleu4(
        &["the cat sat on the mat today"],
        &["the cat sat on the mat today"],
    );
    assert!(
        (same.unwrap() - 1.0).abs() < 1e-12,
        "identical corpus must score 1"
    );
    // No matching 4-gram: no smoothing, so 0.
    assert_eq!(bleu4(&["x y z w"], &["x y z q"]).unwrap(), 0.0);
    // Longer candidate: BP = 1, score = precision part only:
    // p1 = 4/5, p2 = 3/4, p3 = 2/3, p4 = 1/2 -> (0.2)^(1/4).
    let long = bleu4(&["k b c d e"], &["k b c d"]).unwrap();
    assert!((long - 0.2f64.powf(0.25)).abs() < 1e-12, "{long}");
    // Closest reference length, shorter on ties: candidate 5 words, references 4 and 6
    // -> r = 4 -> BP = 1.
    let cands = vec![words("a b c d e")];
    let refs = vec![vec![words("a b c d z z"), words("a b c d")]];
    assert!((corpus_bleu(&cands, &refs).unwrap() - 0.2f64.powf(0.25)).abs() < 1e-12);
}

#[test]
fn psnr_of_known_error() {
    let a = vec![0.5f32; 300];
    let b = vec![0.75f32; 300];
    // MSE = 0.0625 -> PSNR = -10 log10(0.0625) = 12.0412 dB.
    let p = psnr_db(&a, &b).unwrap();
    assert!((p - 12.041199826559248).abs() < 1e-9, "{p}");
    assert_eq!(psnr_db(&a, &a).unwrap(), f64::INFINITY, "identical images");
}

/// A structured test image: ramps plus a checkerboard, channel-first.
fn test_image(channels: usize, height: usize, width: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(channels * height * width);
    for c in 0..channels {
        for y in 0..height {
            for x in 0..width {
                let checker = if (x / 4 + y / 4) % 2 == 0 { 0.3 } else { 0.0 };
                v.push((x as f32 / width as f32 * 0.5 + checker + 0.1 * c as f32).min(1.0));
            }
        }
    }
    v
}

#[test]
fn ssim_identical_is_one_and_decreases_with_noise() {
    let (c, h, w) = (3, 64, 64);
    let img = test_image(c, h, w);
    let same = ssim(&img, &img, c, h, w).unwrap();
    assert!(
        (same - 1.0).abs() < 1e-12,
        "identical images must give SSIM 1, got {same}"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut last = same;
    for sigma in [0.02f32, 0.05, 0.1, 0.2, 0.4] {
        let noisy: Vec<f32> = img
            .iter()
            .map(|&v| (v + sigma * (rng.random::<f32>() - 0.5) * 3.46).clamp(0.0, 1.0))
            .collect();
        let s = ssim(&noisy, &img, c, h, w).unwrap();
        let sym = ssim(&img, &noisy, c, h, w).unwrap();
        assert!((s - sym).abs() < 1e-12, "SSIM must be symmetric");
        assert!(
            s < last,
            "SSIM must fall as noise grows: sigma {sigma} gave {s} >= {last}"
        );
        last = s;
    }
    assert!(
        last < 0.5,
        "heavy noise should destroy most structure, got {last}"
    );
}

#[test]
fn ssim_of_constant_images_is_the_luminance_term() {
    // Zero variances: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) = 0.1601 / 0.2001.
    let a = vec![0.2f32; 11 * 11];
    let b = vec![0.4f32; 11 * 11];
    let s = ssim(&a, &b, 1, 11, 11).unwrap();
    assert!((s - 0.1601 / 0.2001).abs() < 1e-6, "{s}");
}

#[test]
fn ssim_matches_a_naive_windowed_computation() {
    // 2-D weights built here from the Gaussian formula, statistics summed directly at
    // each of the (13 - 10) x (12 - 10) window positions.
    let (h, w) = (13, 12);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let a: Vec<f32> = (0..h * w).map(|_| rng.random::<f32>()).collect();
    let b: Vec<f32> = a
        .iter()
        .map(|&v| (0.7 * v + 0.3 * rng.random::<f32>()).min(1.0))
        .collect();
    // (row, column, weight) of the window, weights normalized to sum 1.
    let mut taps = Vec::new();
    for i in 0..11 {
        for j in 0..11 {
            let (di, dj) = (i as f64 - 5.0, j as f64 - 5.0);
            taps.push((i, j, (-(di * di + dj * dj) / (2.0 * 1.5 * 1.5)).exp()));
        }
    }
    let total: f64 = taps.iter().map(|t| t.2).sum();
    let mut map = Vec::new();
    for y0 in 0..=h - 11 {
        for x0 in 0..=w - 11 {
            let at = |v: &[f32], i: usize, j: usize| v[(y0 + i) * w + x0 + j] as f64;
            let (mut ma, mut mb) = (0.0, 0.0);
            for &(i, j, wt) in &taps {
                ma += wt / total * at(&a, i, j);
                mb += wt / total * at(&b, i, j);
            }
            let (mut va, mut vb, mut cov) = (0.0, 0.0, 0.0);
            for &(i, j, wt) in &taps {
                let (da, db) = (at(&a, i, j) - ma, at(&b, i, j) - mb);
                va += wt / total * da * da;
                vb += wt / total * db * db;
                cov += wt / total * da * db;
            }
            let c1 = 0.0001;
            let c2 = 0.0009;
            map.push(
                ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                    / ((ma * ma + mb * mb + c1) * (va + vb + c2)),
            );
        }
    }
    assert_eq!(map.len(), 6);
    let naive = map.iter().sum::<f64>() / map.len() as f64;
    let got = ssim(&a, &b, 1, h, w).unwrap();
    assert!((got - naive).abs() < 1e-9, "SSIM {got}, naive {naive}");
    assert!(matches!(
        ssim(&a, &b, 1, 10, 15),
        Err(MetricError::Shape { .. })
    ));
}

#[test]
fn batch_metrics_average_over_images() {
    let img = test_image(3, 16, 16);
    let other: Vec<f32> = img.iter().map(|v| (v + 0.1).min(1.0)).collect();
    let both: Vec<f32> = img.iter().chain(&img).copied().collect();
    let mixed: Vec<f32> = img.iter().chain(&other).copied().collect();
    let t = |v: Vec<f32>| Tensor::from_vec(v, (2, 3, 16, 16), &Device::Cpu).unwrap();
    let s = ssim_batch(&t(mixed.clone()), &t(both.clone())).unwrap();
    let expected = (1.0 + ssim(&other, &img, 3, 16, 16).unwrap()) / 2.0;
    assert!(
        (s - expected).abs() < 1e-12,
        "batch SSIM is the mean over images"
    );
    let p = psnr_db_batch(&t(mixed), &t(both.clone())).unwrap();
    assert_eq!(
        p,
        f64::INFINITY,
        "one identical image makes the mean PSNR infinite"
    );
    let flat = Tensor::from_vec(both, (6, 16, 16), &Device::Cpu).unwrap();
    assert!(matches!(
        ssim_batch(&flat, &flat),
        Err(MetricError::Shape { .. })
    ));
}
