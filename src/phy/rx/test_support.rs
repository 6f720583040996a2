//! Seeded test signals shared by the receiver's unit tests.

use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Adds complex white Gaussian noise of total variance `noise_var` (per sample), drawn
/// with Box-Muller from a seeded generator.
pub fn awgn(x: &mut [Complex32], noise_var: f32, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sigma = (noise_var / 2.0).sqrt();
    for s in x.iter_mut() {
        let u1: f32 = rng.random_range(f32::MIN_POSITIVE..1.0);
        let u2: f32 = rng.random::<f32>();
        let r = (-2.0 * u1.ln()).sqrt() * sigma;
        let phi = 2.0 * std::f32::consts::PI * u2;
        *s += Complex32::new(r * phi.cos(), r * phi.sin());
    }
}

/// 160 samples of a unit-power signal with period 16 (the property of the STF the
/// detector relies on), built from the 12 STF tones of IEEE 802.11-2016 Equation 17-6.
pub fn periodic_stf() -> Vec<Complex32> {
    let tones: [(i32, f32, f32); 12] = [
        (-24, 1.0, 1.0),
        (-20, -1.0, -1.0),
        (-16, 1.0, 1.0),
        (-12, -1.0, -1.0),
        (-8, -1.0, -1.0),
        (-4, 1.0, 1.0),
        (4, -1.0, -1.0),
        (8, -1.0, -1.0),
        (12, 1.0, 1.0),
        (16, 1.0, 1.0),
        (20, 1.0, 1.0),
        (24, 1.0, 1.0),
    ];
    let scale = (13.0f32 / 6.0).sqrt() / 52f32.sqrt();
    (0..160)
        .map(|n| {
            tones
                .iter()
                .fold(Complex32::new(0.0, 0.0), |acc, &(k, re, im)| {
                    let ph = 2.0 * std::f32::consts::PI * k as f32 * n as f32 / 64.0;
                    acc + Complex32::new(re, im) * Complex32::from_polar(scale, ph)
                })
        })
        .collect()
}
