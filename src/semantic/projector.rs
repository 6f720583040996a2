//! Projector from visual feature tokens to the language model's embedding space.
//!
//! The default is a two-layer KAN `d_vision -> hidden -> d_model` applied per token;
//! an MLP with (almost exactly) the same number of weights is the baseline it is
//! compared against. Both sit behind [`Projector`], chosen by [`ProjectorKind`].
//!
//! The KAN's splines cover its grid range extended by `spline_order` intervals
//! ([-2.2, 2.2] by default); feature values beyond that only reach the base branch, so
//! the visual features should arrive roughly unit-scaled (as after a layer norm).

use candle_core::{bail, Result, Tensor};
use candle_nn::{Init, Linear, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::kan::{Kan, KanConfig};

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
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            kind: ProjectorKind::Kan,
            d_vision: 128,
            d_model: 128,
            hidden: 64,
            kan: KanConfig::default(),
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

/// Either projector, chosen by [`ProjectorConfig::kind`].
#[derive(Debug, Clone)]
pub enum Projector {
    /// KAN projector.
    Kan(KanProjector),
    /// MLP baseline.
    Mlp(MlpProjector),
}

impl Projector {
    /// Creates or loads the projector of kind `config.kind`.
    pub fn new(config: &ProjectorConfig, vb: VarBuilder) -> Result<Self> {
        Ok(match config.kind {
            ProjectorKind::Kan => Self::Kan(KanProjector::new(config, vb)?),
            ProjectorKind::Mlp => Self::Mlp(MlpProjector::new(config, vb)?),
        })
    }

    /// xs: (batch, n_tokens, d_vision) -> (batch, n_tokens, d_model).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Kan(p) => p.forward(xs),
            Self::Mlp(p) => p.forward(xs),
        }
    }
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
}
