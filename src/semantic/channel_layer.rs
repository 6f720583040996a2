//! Differentiable symbol-level channel for end-to-end training.
//!
//! Complex channel symbols travel as real tensors (batch, n_tokens, symbols_per_token, 2)
//! holding `[re, im]`. The SNR is per complex symbol for unit average symbol power:
//! noise variance `noise_var = 10^(-snr_db / 10)`, split evenly over I and Q
//! (`noise_var / 2` each), as in DeepJSCC (Bourtsoulatze et al. 2019).
//!
//! - AWGN: `y = x + n`, `n ~ CN(0, noise_var)`.
//! - Rayleigh: `y = h x + n` with an independent `h ~ CN(0, 1)` per symbol (flat fading
//!   per OFDM subcarrier), then zero-forcing equalization `x_hat = y conj(h) / |h|^2`,
//!   whose noise variance is `noise_var / |h|^2`. `|h|^2` is clamped below at
//!   `min_gain_power` so that deep fades give large but finite values.
//!
//! Random draws come from the caller's RNG (seed a `rand_chacha::ChaCha8Rng` for
//! reproducible runs): for Rayleigh first all gains, then all noise, both in row-major
//! order of (batch, n_tokens, symbols_per_token, [re, im]). Gains and noise are constants
//! for autograd; gradients pass to the transmitted symbols.

use candle_core::{bail, DType, Device, Result, Tensor, D};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Channel model applied to the symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Additive white Gaussian noise.
    #[default]
    Awgn,
    /// Per-symbol Rayleigh fading with perfect-CSI zero-forcing equalization.
    Rayleigh,
}

/// Channel layer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelLayerConfig {
    /// Channel model used in training.
    pub kind: ChannelKind,
    /// Training SNR range `[lo, hi]` in dB, drawn uniformly per example.
    pub snr_db_range: [f64; 2],
    /// Lower clamp on `|h|^2` before equalization.
    pub min_gain_power: f64,
}

impl Default for ChannelLayerConfig {
    fn default() -> Self {
        Self {
            kind: ChannelKind::Awgn,
            snr_db_range: [0.0, 25.0],
            min_gain_power: 1e-6,
        }
    }
}

/// The differentiable channel (no weights).
#[derive(Debug, Clone)]
pub struct ChannelLayer {
    config: ChannelLayerConfig,
}

/// Complex product of two `[re, im]` tensors of the same shape (.., 2) -> (.., 2).
fn complex_mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ar, ai) = (a.narrow(D::Minus1, 0, 1)?, a.narrow(D::Minus1, 1, 1)?);
    let (br, bi) = (b.narrow(D::Minus1, 0, 1)?, b.narrow(D::Minus1, 1, 1)?);
    let re = ((&ar * &br)? - (&ai * &bi)?)?;
    let im = ((&ar * &bi)? + (&ai * &br)?)?;
    Tensor::cat(&[re, im], D::Minus1)
}

/// `n` standard normal draws scaled by `std`, as an f32 vector.
fn normal_draws<R: Rng + ?Sized>(rng: &mut R, n: usize, std: f64) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.sample::<f64, _>(StandardNormal) * std) as f32)
        .collect()
}

impl ChannelLayer {
    /// Creates the layer, checking the settings.
    pub fn new(config: &ChannelLayerConfig) -> Result<Self> {
        let [lo, hi] = config.snr_db_range;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            bail!("ChannelLayer: snr_db_range must be finite with lo <= hi, got [{lo}, {hi}]");
        }
        if !(config.min_gain_power > 0.0 && config.min_gain_power.is_finite()) {
            bail!(
                "ChannelLayer: min_gain_power must be positive, got {}",
                config.min_gain_power
            );
        }
        Ok(Self {
            config: config.clone(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ChannelLayerConfig {
        &self.config
    }

    /// Draws one training SNR per example, uniform over `snr_db_range`: -> (batch,) f32.
    pub fn sample_snr_db<R: Rng + ?Sized>(
        &self,
        batch: usize,
        rng: &mut R,
        device: &Device,
    ) -> Result<Tensor> {
        let [lo, hi] = self.config.snr_db_range;
        let v: Vec<f32> = (0..batch)
            .map(|_| (lo + (hi - lo) * rng.random::<f64>()) as f32)
            .collect();
        Tensor::from_vec(v, batch, device)
    }

    /// Passes `symbols` through the channel `kind`.
    ///
    /// symbols: (batch, n_tokens, symbols_per_token, 2), snr_db: (batch,) ->
    /// (equalized symbols (batch, n_tokens, symbols_per_token, 2),
    ///  post-equalization noise_var (batch, n_tokens, symbols_per_token)).
    pub fn forward<R: Rng + ?Sized>(
        &self,
        symbols: &Tensor,
        snr_db: &Tensor,
        kind: ChannelKind,
        rng: &mut R,
    ) -> Result<(Tensor, Tensor)> {
        let (batch, n_tokens, spt, two) = symbols.dims4()?;
        if two != 2 {
            bail!(
                "ChannelLayer: expected symbols (batch, n_tokens, symbols_per_token, 2), got {:?}",
                symbols.dims()
            );
        }
        if snr_db.dims() != [batch] {
            bail!(
                "ChannelLayer: expected snr_db ({batch},), got {:?}",
                snr_db.dims()
            );
        }
        let snr_db = snr_db.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        if let Some(bad) = snr_db.iter().find(|v| !v.is_finite()) {
            bail!("ChannelLayer: snr_db must be finite, got {bad}");
        }
        let dev = symbols.device();
        let dtype = symbols.dtype();
        let per_example = n_tokens * spt;
        let noise_var: Vec<f64> = snr_db.iter().map(|s| 10f64.powf(-s / 10.0)).collect();

        let gain_power = match kind {
            ChannelKind::Awgn => None,
            ChannelKind::Rayleigh => {
                let h = normal_draws(
                    rng,
                    batch * per_example * 2,
                    std::f64::consts::FRAC_1_SQRT_2,
                );
                Some(h)
            }
        };
        let mut noise = Vec::with_capacity(batch * per_example * 2);
        for &nv in &noise_var {
            noise.extend(normal_draws(rng, per_example * 2, (nv / 2.0).sqrt()));
        }
        let shape = (batch, n_tokens, spt, 2);
        let noise = Tensor::from_vec(noise, shape, dev)?.to_dtype(dtype)?;

        match gain_power {
            None => {
                let received = symbols.broadcast_add(&noise)?;
                let nv: Vec<f32> = noise_var
                    .iter()
                    .flat_map(|&v| std::iter::repeat_n(v as f32, per_example))
                    .collect();
                let nv = Tensor::from_vec(nv, (batch, n_tokens, spt), dev)?.to_dtype(dtype)?;
                Ok((received, nv))
            }
            Some(h) => {
                let mut equalizer = Vec::with_capacity(h.len());
                let mut nv_out = Vec::with_capacity(h.len() / 2);
                for (i, hc) in h.chunks_exact(2).enumerate() {
                    let (hr, hi) = (f64::from(hc[0]), f64::from(hc[1]));
                    let g2 = (hr * hr + hi * hi).max(self.config.min_gain_power);
                    equalizer.push((hr / g2) as f32);
                    equalizer.push((-hi / g2) as f32);
                    nv_out.push((noise_var[i / per_example] / g2) as f32);
                }
                let h = Tensor::from_vec(h, shape, dev)?.to_dtype(dtype)?;
                let equalizer = Tensor::from_vec(equalizer, shape, dev)?.to_dtype(dtype)?;
                let received = (complex_mul(&h, symbols)? + noise)?;
                let equalized = complex_mul(&received, &equalizer)?;
                let nv = Tensor::from_vec(nv_out, (batch, n_tokens, spt), dev)?.to_dtype(dtype)?;
                Ok((equalized, nv))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn unit_symbols(shape: (usize, usize, usize), seed: u64) -> Result<Tensor> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = shape.0 * shape.1 * shape.2 * 2;
        let v = normal_draws(&mut rng, n, std::f64::consts::FRAC_1_SQRT_2);
        Tensor::from_vec(v, (shape.0, shape.1, shape.2, 2), &Device::Cpu)
    }

    fn mean(t: &Tensor) -> Result<f64> {
        t.to_dtype(DType::F64)?.mean_all()?.to_scalar::<f64>()
    }

    #[test]
    fn awgn_noise_power_matches_snr() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let x = unit_symbols((3, 200, 200), 1)?;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // One SNR per example: 0, 10 and 20 dB, each over 40,000 complex symbols (the
        // per-component power then has a relative standard error of 0.7 %).
        let snr = Tensor::new(&[0f32, 10.0, 20.0], &Device::Cpu)?;
        let (y, nv) = layer.forward(&x, &snr, ChannelKind::Awgn, &mut rng)?;
        let err = (y - &x)?;
        for (b, snr_db) in [0.0, 10.0, 20.0].iter().enumerate() {
            let want = 10f64.powf(-snr_db / 10.0);
            let e = err.get(b)?;
            let i_pow = mean(&e.narrow(D::Minus1, 0, 1)?.sqr()?)?;
            let q_pow = mean(&e.narrow(D::Minus1, 1, 1)?.sqr()?)?;
            // Total per complex symbol must be noise_var, half of it in each of I and Q.
            let total = i_pow + q_pow;
            assert!(
                (total / want - 1.0).abs() < 0.03,
                "{snr_db} dB: {total} vs {want}"
            );
            assert!(
                (i_pow / (want / 2.0) - 1.0).abs() < 0.03,
                "{snr_db} dB I: {i_pow}"
            );
            assert!(
                (q_pow / (want / 2.0) - 1.0).abs() < 0.03,
                "{snr_db} dB Q: {q_pow}"
            );
            let reported = mean(&nv.get(b)?)?;
            assert!(
                (reported / want - 1.0).abs() < 1e-6,
                "reported noise_var {reported}"
            );
        }
        assert_eq!(nv.dims(), &[3, 200, 200]);
        Ok(())
    }

    #[test]
    fn gradient_passes_to_symbols() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let x = Var::from_tensor(&unit_symbols((2, 4, 8), 2)?)?;
        let probe = unit_symbols((2, 4, 8), 3)?;
        let snr = Tensor::new(&[5f32, 15.0], &Device::Cpu)?;
        for kind in [ChannelKind::Awgn, ChannelKind::Rayleigh] {
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let (y, _) = layer.forward(x.as_tensor(), &snr, kind, &mut rng)?;
            let grads = (y * &probe)?.sum_all()?.backward()?;
            let g = grads
                .get(x.as_tensor())
                .expect("gradient reaches the symbols");
            // d x_hat / d x is the identity for both (ZF undoes h exactly when unclamped).
            let diff = (g - &probe)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(
                diff < 1e-4,
                "{kind:?}: gradient differs from identity by {diff}"
            );
        }
        Ok(())
    }

    #[test]
    fn rayleigh_gain_and_noise_var() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let x = unit_symbols((2, 100, 100), 4)?;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let snr = Tensor::new(&[10f32, 10.0], &Device::Cpu)?;
        let (x_hat, nv) = layer.forward(&x, &snr, ChannelKind::Rayleigh, &mut rng)?;
        let awgn_nv = 0.1f64;
        // |h|^2 = noise_var / post-equalization noise_var; CN(0, 1) has E|h|^2 = 1.
        let gain = mean(&nv.to_dtype(DType::F64)?.recip()?.affine(awgn_nv, 0.0)?)?;
        assert!((gain - 1.0).abs() < 0.03, "E|h|^2 = {gain}");
        // The residual error after ZF, normalized by the reported variance, has unit
        // mean: the reported noise_var is the actual one, symbol by symbol.
        let err2 = (x_hat - &x)?.sqr()?.sum(D::Minus1)?;
        let ratio = mean(&(err2 / &nv)?)?;
        assert!((ratio - 1.0).abs() < 0.03, "E[|e|^2 / noise_var] = {ratio}");
        Ok(())
    }

    #[test]
    fn draws_are_reproducible_from_seed() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let x = unit_symbols((2, 3, 4), 6)?;
        let run = |seed: u64| -> Result<Vec<f32>> {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let snr = layer.sample_snr_db(2, &mut rng, &Device::Cpu)?;
            let (y, _) = layer.forward(&x, &snr, ChannelKind::Rayleigh, &mut rng)?;
            y.flatten_all()?.to_vec1::<f32>()
        };
        assert_eq!(run(42)?, run(42)?, "same seed, different draws");
        assert_ne!(run(42)?, run(43)?, "different seeds, same draws");
        Ok(())
    }

    #[test]
    fn sampled_snr_within_range() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let v = layer
            .sample_snr_db(1000, &mut rng, &Device::Cpu)?
            .to_vec1::<f32>()?;
        assert!(
            v.iter().all(|s| (0.0..=25.0).contains(s)),
            "SNR outside 0..25 dB"
        );
        let m = v.iter().sum::<f32>() / 1000.0;
        assert!(
            (m - 12.5).abs() < 1.0,
            "mean SNR {m} dB, uniform 0..25 expects 12.5"
        );
        Ok(())
    }

    #[test]
    fn bad_shapes_are_errors() -> Result<()> {
        let layer = ChannelLayer::new(&ChannelLayerConfig::default())?;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let snr = Tensor::new(&[10f32, 10.0], &Device::Cpu)?;
        let three = Tensor::zeros((2, 3, 4, 3), DType::F32, &Device::Cpu)?;
        assert!(layer
            .forward(&three, &snr, ChannelKind::Awgn, &mut rng)
            .is_err());
        let x = Tensor::zeros((2, 3, 4, 2), DType::F32, &Device::Cpu)?;
        let snr3 = Tensor::new(&[10f32, 10.0, 1.0], &Device::Cpu)?;
        assert!(layer
            .forward(&x, &snr3, ChannelKind::Awgn, &mut rng)
            .is_err());
        let nan = Tensor::new(&[f32::NAN, 1.0], &Device::Cpu)?;
        assert!(layer
            .forward(&x, &nan, ChannelKind::Awgn, &mut rng)
            .is_err());
        let bad_cfg = ChannelLayerConfig {
            snr_db_range: [10.0, 0.0],
            ..ChannelLayerConfig::default()
        };
        assert!(ChannelLayer::new(&bad_cfg).is_err());
        Ok(())
    }
}
