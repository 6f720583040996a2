//! Projector from visual feature tokens to the language model's embedding space.
//!
//! The default is a two-layer KAN `d_vision -> hidden -> d_model` applied per token;
//! an MLP with (almost exactly) the same number of weights is the baseline it is
//! compared against. Both sit behind [`Projector`], chosen by [`ProjectorKind`].
//!
//! The KAN's splines cover its grid range extended by `spline_order` intervals
//! ([-2.2, 2.2] by default); feature values beyond that only reach the base branch, so
//! the visual features should arrive roughly unit-scaled (as after a layer norm).
//!
//! With [`ProjectorConfig::center`] the projector's output is centred across pictures,
//! as a batch norm centres without scaling: in training each batch's pictures have their
//! per-position, per-feature mean over the batch removed (the gradient sees the
//! subtraction, so nothing is learnt from a part common to every picture), and a
//! running mean of those batch means is kept in the weight `token_mean`
//! (16, d_model): one row per image slot of the task template), which inference subtracts instead. With
//! [`ProjectorConfig::center_on_running_mean`] training subtracts the running mean too,
//! so that a picture's tokens do not depend on which other pictures share its batch,
//! while the gradient is still that of the batch-centred tokens: the subtracted term is
//! `running + (batch_mean - detach(batch_mean))`, equal in value to the running mean.

use candle_core::{bail, Result, Tensor, Var};
use candle_nn::{Init, Linear, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::kan::{Kan, KanConfig};
use super::template::IMAGE_SLOT_TOKENS;

/// Which projector architecture to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProjectorKind {
    /// Two KAN layers `d_vision -> hidden -> d_model`.
    #[default]
    Kan,
    /// `Linear -> GELU -> Linear` with a hidden width chosen to match the KAN's
    /// parameter count ([`ProjectorConfig::mlp_hidden`]).
    Mlp,
}

/// Projector hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectorConfig {
    /// Architecture.
    pub kind: ProjectorKind,
    /// Width of the incoming visual feature tokens.
    pub d_vision: usize,
    /// Width of the language model's token embeddings.
    pub d_model: usize,
    /// Hidden width of the KAN projector (the MLP's is derived from it).
    pub hidden: usize,
    /// KAN layer settings.
    pub kan: KanConfig,
    /// Whether the output is centred across pictures (see the module documentation).
    /// Configurations written before this option read `false`.
    pub center: bool,
    /// When centring, whether training too subtracts the running mean (with the
    /// batch-centred gradient) rather than the batch mean.
    pub center_on_running_mean: bool,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            kind: ProjectorKind::Kan,
            d_vision: 128,
            d_model: 128,
            hidden: 64,
            kan: KanConfig::default(),
            center: false,
            center_on_running_mean: false,
        }
    }
}

impl ProjectorConfig {
    /// Layer widths of the KAN projector.
    pub fn kan_dims(&self) -> [usize; 3] {
        [self.d_vision, self.hidden, self.d_model]
    }

    /// Number of weights of the KAN projector.
    pub fn kan_params(&self) -> usize {
        Kan::param_count(&self.kan_dims(), &self.kan)
    }

    /// Hidden width `h` of the MLP baseline. Its weight count is
    /// `h * (d_vision + 1) + d_model * (h + 1) = h * (d_vision + d_model + 1) + d_model`;
    /// `h` is that count's solution for the KAN's count, rounded to the nearest integer
    /// (at least 1).
    pub fn mlp_hidden(&self) -> usize {
        let per_unit = (self.d_vision + self.d_model + 1) as f64;
        let target = self.kan_params().saturating_sub(self.d_model) as f64;
        ((target / per_unit).round() as usize).max(1)
    }

    /// Number of weights of the MLP baseline.
    pub fn mlp_params(&self) -> usize {
        let h = self.mlp_hidden();
        h * (self.d_vision + 1) + self.d_model * (h + 1)
    }
}

fn check_input(xs: &Tensor, d_vision: usize, who: &str) -> Result<()> {
    let (_, _, d) = xs.dims3()?;
    if d != d_vision {
        bail!(
            "{who}: expected (batch, n_tokens, {d_vision}), got {:?}",
            xs.dims()
        );
    }
    Ok(())
}

/// KAN projector. Weights: `kan.layers.{0,1}.*`.
#[derive(Debug, Clone)]
pub struct KanProjector {
    kan: Kan,
    d_vision: usize,
}

impl KanProjector {
    /// Creates or loads the KAN projector described by `config`.
    pub fn new(config: &ProjectorConfig, vb: VarBuilder) -> Result<Self> {
        let kan = Kan::new(&config.kan_dims(), &config.kan, vb.pp("kan"))?;
        Ok(Self {
            kan,
            d_vision: config.d_vision,
        })
    }

    /// xs: (batch, n_tokens, d_vision) -> (batch, n_tokens, d_model).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        check_input(xs, self.d_vision, "KanProjector")?;
        self.kan.forward(xs)
    }
}

/// Linear layer with N(0, 0.02^2) weights and zero bias. Weights: `weight`
/// (out_dim, in_dim), `bias` (out_dim).
pub(crate) fn small_linear(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Linear> {
    let w = vb.get_with_hints(
        (out_dim, in_dim),
        "weight",
        Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        },
    )?;
    let b = vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?;
    Ok(Linear::new(w, Some(b)))
}

/// MLP baseline projector. Weights: `fc1.{weight,bias}`, `fc2.{weight,bias}`.
#[derive(Debug, Clone)]
pub struct MlpProjector {
    fc1: Linear,
    fc2: Linear,
    d_vision: usize,
}

impl MlpProjector {
    /// Creates or loads the MLP projector with hidden width
    /// [`ProjectorConfig::mlp_hidden`].
    pub fn new(config: &ProjectorConfig, vb: VarBuilder) -> Result<Self> {
        if config.d_vision == 0 || config.d_model == 0 {
            bail!("MlpProjector: d_vision and d_model must be nonzero");
        }
        let h = config.mlp_hidden();
        Ok(Self {
            fc1: small_linear(config.d_vision, h, vb.pp("fc1"))?,
            fc2: small_linear(h, config.d_model, vb.pp("fc2"))?,
            d_vision: config.d_vision,
        })
    }

    /// xs: (batch, n_tokens, d_vision) -> (batch, n_tokens, d_model).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        check_input(xs, self.d_vision, "MlpProjector")?;
        self.fc2.forward(&self.fc1.forward(xs)?.gelu()?)
    }
}

/// The two architectures behind [`Projector`].
#[derive(Debug, Clone)]
pub enum ProjectorNet {
    /// KAN projector.
    Kan(KanProjector),
    /// MLP baseline.
    Mlp(MlpProjector),
}

/// Either projector, chosen by [`ProjectorConfig::kind`], with its optional centring.
#[derive(Debug, Clone)]
pub struct Projector {
    net: ProjectorNet,
    /// Running mean of the output over pictures, (16, d_model), when centring.
    token_mean: Option<Tensor>,
    /// Training subtracts `token_mean` rather than the batch mean.
    train_on_running_mean: bool,
}

/// Weight name of the running token mean, below the projector's prefix.
pub const TOKEN_MEAN: &str = "token_mean";

/// Steps over which the running token mean averages: it is the plain mean of the batch
/// means seen so far for the first this many updates, then an exponential average with
/// this time constant.
pub const TOKEN_MEAN_WINDOW: usize = 100;

impl Projector {
    /// Creates or loads the projector of kind `config.kind` (and, when centring, its
    /// running mean `token_mean`, zero in a new model).
    pub fn new(config: &ProjectorConfig, vb: VarBuilder) -> Result<Self> {
        let token_mean = if config.center {
            Some(vb.get_with_hints(
                (IMAGE_SLOT_TOKENS, config.d_model),
                TOKEN_MEAN,
                Init::Const(0.0),
            )?)
        } else {
            None
        };
        let net = match config.kind {
            ProjectorKind::Kan => ProjectorNet::Kan(KanProjector::new(config, vb)?),
            ProjectorKind::Mlp => ProjectorNet::Mlp(MlpProjector::new(config, vb)?),
        };
        Ok(Self {
            net,
            token_mean,
            train_on_running_mean: config.center_on_running_mean,
        })
    }

    /// The projection alone, before any centring. xs: (batch, n_tokens, d_vision) ->
    /// (batch, n_tokens, d_model).
    pub fn forward_uncentred(&self, xs: &Tensor) -> Result<Tensor> {
        match &self.net {
            ProjectorNet::Kan(p) => p.forward(xs),
            ProjectorNet::Mlp(p) => p.forward(xs),
        }
    }

    /// Inference. xs: (batch, n_tokens, d_vision) -> (batch, n_tokens, d_model), minus
    /// the running mean when centring.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = self.forward_uncentred(xs)?;
        match &self.token_mean {
            Some(mean) => ys.broadcast_sub(&mean.detach()),
            None => Ok(ys),
        }
    }

    /// Training. xs: (batch, n_tokens, d_vision) -> (tokens (batch, n_tokens, d_model),
    /// this batch's mean (n_tokens, d_model) detached, when centring). When centring,
    /// the tokens are the projection minus the batch mean, with the gradient through
    /// both (or, with `center_on_running_mean`, minus the running mean in value and
    /// with that same gradient); otherwise they are [`Self::forward`]'s.
    pub fn forward_train(&self, xs: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let ys = self.forward_uncentred(xs)?;
        let Some(running) = &self.token_mean else {
            return Ok((ys, None));
        };
        let mean = ys.mean_keepdim(0)?;
        let shift = if self.train_on_running_mean {
            // Zero in value, the batch mean in gradient.
            let grad_only = (&mean - mean.detach())?;
            running.detach().unsqueeze(0)?.broadcast_add(&grad_only)?
        } else {
            mean.clone()
        };
        let centred = ys.broadcast_sub(&shift)?;
        Ok((centred, Some(mean.squeeze(0)?.detach())))
    }
}

/// Moves the running token mean towards a batch's mean: by `1 / (updates_before + 1)`
/// of the gap for the first [`TOKEN_MEAN_WINDOW`] updates (the plain mean of the
/// batch means so far), by `1 / TOKEN_MEAN_WINDOW` after. running: the variable
/// `projector.token_mean`, batch_mean: (16, d_model).
pub fn update_token_mean(running: &Var, batch_mean: &Tensor, updates_before: usize) -> Result<()> {
    let rate = 1.0 / (updates_before + 1).min(TOKEN_MEAN_WINDOW) as f64;
    let current = running.as_tensor().detach();
    let next = (&current + ((batch_mean.detach() - &current)? * rate)?)?;
    running.set(&next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn built_params(config: &ProjectorConfig) -> Result<(Projector, usize)> {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let p = Projector::new(config, vb)?;
        let n = vm.all_vars().iter().map(|v| v.elem_count()).sum();
        Ok((p, n))
    }

    #[test]
    fn default_kan_and_mlp_counts_match_within_five_percent() -> Result<()> {
        let kan_cfg = ProjectorConfig::default();
        let mlp_cfg = ProjectorConfig {
            kind: ProjectorKind::Mlp,
            ..kan_cfg.clone()
        };
        let (_, kan_n) = built_params(&kan_cfg)?;
        let (_, mlp_n) = built_params(&mlp_cfg)?;
        // The formulas must describe what is actually built.
        assert_eq!(kan_n, kan_cfg.kan_params(), "KAN formula vs built weights");
        assert_eq!(mlp_n, mlp_cfg.mlp_params(), "MLP formula vs built weights");
        assert_eq!(kan_n, 163_840);
        let rel = (kan_n as f64 - mlp_n as f64).abs() / kan_n as f64;
        assert!(rel < 0.05, "KAN {kan_n} vs MLP {mlp_n} weights: {rel:.4}");
        Ok(())
    }

    #[test]
    fn matched_hidden_width_over_several_shapes() {
        for (dv, dm, h) in [(128, 128, 64), (64, 256, 16), (32, 16, 8), (512, 128, 32)] {
            let cfg = ProjectorConfig {
                d_vision: dv,
                d_model: dm,
                hidden: h,
                ..ProjectorConfig::default()
            };
            let rel =
                (cfg.kan_params() as f64 - cfg.mlp_params() as f64).abs() / cfg.kan_params() as f64;
            assert!(rel < 0.05, "({dv}, {dm}, {h}): counts differ by {rel:.4}");
        }
    }

    #[test]
    fn forward_shapes_and_errors() -> Result<()> {
        for kind in [ProjectorKind::Kan, ProjectorKind::Mlp] {
            let cfg = ProjectorConfig {
                kind,
                d_vision: 12,
                d_model: 20,
                hidden: 6,
                ..ProjectorConfig::default()
            };
            let (p, _) = built_params(&cfg)?;
            let xs = Tensor::randn(0f32, 1.0, (2, 16, 12), &Device::Cpu)?;
            let ys = p.forward(&xs)?;
            assert_eq!(ys.dims(), &[2, 16, 20], "{kind:?} output shape");
            let bad = Tensor::zeros((2, 16, 13), DType::F32, &Device::Cpu)?;
            assert!(p.forward(&bad).is_err(), "{kind:?} accepted width 13");
            let bad_rank = Tensor::zeros((16, 12), DType::F32, &Device::Cpu)?;
            assert!(p.forward(&bad_rank).is_err(), "{kind:?} accepted rank 2");
        }
        Ok(())
    }

    #[test]
    fn config_round_trips_through_json() {
        let cfg = ProjectorConfig {
            kind: ProjectorKind::Mlp,
            ..ProjectorConfig::default()
        };
        let json = serde_json::to_string(&cfg).expect("serialize");
        let back: ProjectorConfig = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, cfg);
        let partial: ProjectorConfig = serde_json::from_str(r#"{"kind":"kan"}"#).expect("partial");
        assert_eq!(
            partial,
            ProjectorConfig::default(),
            "missing fields take defaults"
        );
    }

    #[test]
    fn centring_removes_the_batch_mean_in_training_and_the_running_mean_in_inference() -> Result<()>
    {
        let dev = Device::Cpu;
        let cfg = ProjectorConfig {
            d_vision: 12,
            d_model: 20,
            hidden: 6,
            center: true,
            ..ProjectorConfig::default()
        };
        let vm = VarMap::new();
        let p = Projector::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let xs = Tensor::randn(0f32, 1.0, (5, IMAGE_SLOT_TOKENS, 12), &dev)?;
        let raw = p.forward_uncentred(&xs)?;
        let (tokens, mean) = p.forward_train(&xs)?;
        let mean = mean.expect("a centring projector returns the batch mean");
        // Naive reference: the mean over the five pictures, element by element.
        let raw_v: Vec<Vec<Vec<f32>>> = raw.to_vec3()?;
        let mean_v: Vec<Vec<f32>> = mean.to_vec2()?;
        let tok_v: Vec<Vec<Vec<f32>>> = tokens.to_vec3()?;
        for t in 0..IMAGE_SLOT_TOKENS {
            for f in 0..20 {
                let naive = raw_v.iter().map(|b| b[t][f]).sum::<f32>() / 5.0;
                assert!((mean_v[t][f] - naive).abs() < 1e-5, "mean at ({t}, {f})");
                for b in 0..5 {
                    let want = raw_v[b][t][f] - naive;
                    assert!(
                        (tok_v[b][t][f] - want).abs() < 1e-5,
                        "token ({b}, {t}, {f})"
                    );
                }
            }
        }
        // Inference subtracts the stored running mean, whatever the batch.
        let var = vm.data().lock().unwrap()[TOKEN_MEAN].clone();
        let stored = Tensor::randn(0f32, 1.0, (IMAGE_SLOT_TOKENS, 20), &dev)?;
        var.set(&stored)?;
        let inferred = p.forward(&xs.narrow(0, 0, 1)?)?;
        let want = raw.narrow(0, 0, 1)?.broadcast_sub(&stored)?;
        assert!((inferred - want)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-6);
        // Centring on the running mean: training gives inference's values, and the
        // gradient of the tokens' sum is zero (the batch-centred gradient of a loss
        // that weighs every picture alike), where the uncentred one is not.
        let on_running = ProjectorConfig {
            center_on_running_mean: true,
            ..cfg.clone()
        };
        let vm = VarMap::new();
        let p = Projector::new(&on_running, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        vm.data().lock().unwrap()[TOKEN_MEAN].set(&stored)?;
        let (tokens, mean) = p.forward_train(&xs)?;
        let want = p.forward_uncentred(&xs)?.broadcast_sub(&stored)?;
        assert!((&tokens - want)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-6);
        assert!(mean.is_some());
        let weights: Vec<Var> = vm.all_vars();
        let grads = tokens.sum_all()?.backward()?;
        let plain_grads = p.forward_uncentred(&xs)?.sum_all()?.backward()?;
        let mut plain_norm = 0f32;
        for w in &weights {
            if let Some(g) = grads.get(w.as_tensor()) {
                let n = g.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(n < 1e-5, "a common shift still has gradient {n}");
            }
            if let Some(g) = plain_grads.get(w.as_tensor()) {
                plain_norm = plain_norm.max(g.abs()?.max_all()?.to_scalar::<f32>()?);
            }
        }
        assert!(
            plain_norm > 1e-3,
            "the uncentred control has no gradient either"
        );
        // Without centring there is no running mean and training equals inference.
        let plain = ProjectorConfig {
            center: false,
            ..cfg
        };
        let vm = VarMap::new();
        let p = Projector::new(&plain, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        assert!(!vm.data().lock().unwrap().contains_key(TOKEN_MEAN));
        let (tokens, mean) = p.forward_train(&xs)?;
        assert!(mean.is_none());
        let diff = (tokens - p.forward(&xs)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert_eq!(diff, 0.0);
        Ok(())
    }

    #[test]
    fn running_mean_averages_the_first_window_then_decays_exponentially() -> Result<()> {
        let dev = Device::Cpu;
        let var = Var::zeros((1, 1), DType::F32, &dev)?;
        let value = |v: &Var| -> Result<f64> {
            Ok(f64::from(v.as_tensor().flatten_all()?.to_vec1::<f32>()?[0]))
        };
        // Batch means 1, 2, 3, ...: after k updates the plain mean (k + 1) / 2.
        for k in 0..TOKEN_MEAN_WINDOW {
            update_token_mean(&var, &Tensor::full((k + 1) as f32, (1, 1), &dev)?, k)?;
        }
        let plain = (TOKEN_MEAN_WINDOW as f64 + 1.0) / 2.0;
        assert!(
            (value(&var)? - plain).abs() < 1e-3,
            "{} vs {plain}",
            value(&var)?
        );
        // Then a constant batch mean 0: the gap shrinks by (1 - 1/window) per update.
        let zero = Tensor::zeros((1, 1), DType::F32, &dev)?;
        for k in 0..50 {
            update_token_mean(&var, &zero, TOKEN_MEAN_WINDOW + k)?;
        }
        let want = plain * (1.0 - 1.0 / TOKEN_MEAN_WINDOW as f64).powi(50);
        assert!(
            (value(&var)? - want).abs() < 1e-3,
            "{} vs {want}",
            value(&var)?
        );
        Ok(())
    }
}
