//! Kolmogorov-Arnold Network layers with B-spline edge functions.
//!
//! Follows the "efficient-KAN" formulation of Liu et al., "KAN: Kolmogorov-Arnold
//! Networks" (2024): every edge `i -> o` carries a learnable function
//! `phi_oi(x) = w_b[o, i] * act(x) + s[o, i] * sum_j c[o, i, j] * B_j(x)`, where
//! `B_j` are the B-spline basis functions of order `spline_order` on a uniform knot
//! grid of `grid_size` intervals over `grid_range`, extended by `spline_order` knots on
//! each side. Output `o` is the sum of its incoming edge functions. The basis is
//! evaluated with the Cox-de Boor recursion directly on tensors, so autograd reaches
//! every weight and the input.
//!
//! Limits: the knot grid is fixed at construction (no data-driven grid update), and
//! outside the extended grid the spline branch is zero, leaving only the base branch.

use candle_core::{bail, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

/// Activation of the base (residual) branch of a KAN edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BaseActivation {
    /// `x * sigmoid(x)`, the efficient-KAN default.
    #[default]
    Silu,
    /// No base branch nonlinearity (`act(x) = x`).
    Identity,
}

/// Hyper-parameters shared by all layers of a KAN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KanConfig {
    /// Number of grid intervals over `grid_range`.
    pub grid_size: usize,
    /// B-spline order `k` (3 = cubic).
    pub spline_order: usize,
    /// Interval `[lo, hi]` covered by the unextended grid.
    pub grid_range: [f64; 2],
    /// Base branch activation.
    pub base_activation: BaseActivation,
    /// Standard deviation of the initial spline coefficients. With the scaler (uniform
    /// in +-1/sqrt(in_dim)) the effective coefficients start at std
    /// `spline_init_std / sqrt(3 * in_dim)`, 0.005 for 128 inputs.
    pub spline_init_std: f64,
    /// Whether each edge has its own learnable spline scaler `s[o, i]`.
    pub spline_scaler: bool,
}

impl Default for KanConfig {
    fn default() -> Self {
        Self {
            grid_size: 5,
            spline_order: 3,
            grid_range: [-1.0, 1.0],
            base_activation: BaseActivation::Silu,
            spline_init_std: 0.1,
            spline_scaler: true,
        }
    }
}

impl KanConfig {
    /// Number of B-spline basis functions per input: `grid_size + spline_order`.
    pub fn n_basis(&self) -> usize {
        self.grid_size + self.spline_order
    }

    /// The extended uniform knot vector: `grid_size + 2 * spline_order + 1` knots
    /// `lo + (j - spline_order) * h`, `h = (hi - lo) / grid_size`.
    pub fn knots(&self) -> Vec<f64> {
        let [lo, hi] = self.grid_range;
        let h = (hi - lo) / self.grid_size as f64;
        let k = self.spline_order as f64;
        (0..self.grid_size + 2 * self.spline_order + 1)
            .map(|j| lo + (j as f64 - k) * h)
            .collect()
    }

    /// Number of weights of one layer `in_dim -> out_dim`: base weights, spline
    /// coefficients and (if enabled) spline scalers.
    pub fn layer_params(&self, in_dim: usize, out_dim: usize) -> usize {
        let per_edge = 1 + self.n_basis() + usize::from(self.spline_scaler);
        in_dim * out_dim * per_edge
    }

    fn validate(&self) -> Result<()> {
        let [lo, hi] = self.grid_range;
        if self.grid_size == 0 {
            bail!("KanConfig: grid_size must be at least 1");
        }
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            bail!("KanConfig: grid_range must be finite with hi > lo, got [{lo}, {hi}]");
        }
        Ok(())
    }
}

/// B-spline basis of order `order` on `knots`, by the Cox-de Boor recursion.
///
/// xs: (.., n) -> (.., n, knots.len() - 1 - order). Order 0 uses half-open intervals
/// `[t_j, t_{j+1})`; higher orders blend neighbours with weights
/// `(x - t_j) / (t_{j+p} - t_j)` and `(t_{j+p+1} - x) / (t_{j+p+1} - t_{j+1})`.
/// Knots must be strictly increasing. Differentiable in `xs`.
pub fn b_spline_basis(xs: &Tensor, knots: &[f64], order: usize) -> Result<Tensor> {
    if knots.len() < order + 2 {
        bail!(
            "b_spline_basis: need at least order + 2 = {} knots, got {}",
            order + 2,
            knots.len()
        );
    }
    if knots.windows(2).any(|w| w[1] <= w[0]) {
        bail!("b_spline_basis: knots must be strictly increasing");
    }
    let dtype = xs.dtype();
    let dev = xs.device();
    let row = |v: Vec<f64>| Tensor::new(v, dev)?.to_dtype(dtype);
    let x = xs.unsqueeze(D::Minus1)?;
    let n = knots.len();
    let lower = row(knots[..n - 1].to_vec())?;
    let upper = row(knots[1..].to_vec())?;
    let in_lower = x.broadcast_ge(&lower)?.to_dtype(dtype)?;
    let in_upper = x.broadcast_lt(&upper)?.to_dtype(dtype)?;
    let mut bases = (in_lower * in_upper)?;
    for p in 1..=order {
        // `bases` holds n - p functions of order p - 1; produce n - p - 1 of order p.
        let m = n - p - 1;
        let left_knot = row((0..m).map(|j| knots[j]).collect())?;
        let left_inv = row((0..m).map(|j| 1.0 / (knots[j + p] - knots[j])).collect())?;
        let right_knot = row((0..m).map(|j| knots[j + p + 1]).collect())?;
        let right_inv = row((0..m)
            .map(|j| 1.0 / (knots[j + p + 1] - knots[j + 1]))
            .collect())?;
        let left = x.broadcast_sub(&left_knot)?.broadcast_mul(&left_inv)?;
        let right = x
            .neg()?
            .broadcast_add(&right_knot)?
            .broadcast_mul(&right_inv)?;
        let lo_part = (left * bases.narrow(D::Minus1, 0, m)?)?;
        let hi_part = (right * bases.narrow(D::Minus1, 1, m)?)?;
        bases = (lo_part + hi_part)?;
    }
    Ok(bases)
}

/// One KAN layer `in_dim -> out_dim`.
///
/// Weights (vb paths): `base_weight` (out_dim, in_dim), `spline_weight`
/// (out_dim, in_dim, grid_size + spline_order), `spline_scaler` (out_dim, in_dim) when
/// enabled.
#[derive(Debug, Clone)]
pub struct KanLinear {
    base_weight: Tensor,
    spline_weight: Tensor,
    spline_scaler: Option<Tensor>,
    knots: Vec<f64>,
    spline_order: usize,
    base_activation: BaseActivation,
    in_dim: usize,
    out_dim: usize,
}

impl KanLinear {
    /// Creates or loads a layer `in_dim -> out_dim`.
    pub fn new(in_dim: usize, out_dim: usize, config: &KanConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        if in_dim == 0 || out_dim == 0 {
            bail!("KanLinear: dimensions must be nonzero, got {in_dim} -> {out_dim}");
        }
        // Kaiming-uniform bound for a fan-in of `in_dim` (PyTorch's Linear default).
        let bound = 1.0 / (in_dim as f64).sqrt();
        let uniform = Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let base_weight = vb.get_with_hints((out_dim, in_dim), "base_weight", uniform)?;
        let spline_weight = vb.get_with_hints(
            (out_dim, in_dim, config.n_basis()),
            "spline_weight",
            Init::Randn {
                mean: 0.0,
                stdev: config.spline_init_std,
            },
        )?;
        let spline_scaler = if config.spline_scaler {
            Some(vb.get_with_hints((out_dim, in_dim), "spline_scaler", uniform)?)
        } else {
            None
        };
        Ok(Self {
            base_weight,
            spline_weight,
            spline_scaler,
            knots: config.knots(),
            spline_order: config.spline_order,
            base_activation: config.base_activation,
            in_dim,
            out_dim,
        })
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// B-spline basis of this layer's grid: xs (.., in_dim) -> (.., in_dim, n_basis).
    pub fn basis(&self, xs: &Tensor) -> Result<Tensor> {
        b_spline_basis(xs, &self.knots, self.spline_order)
    }

    /// xs: (.., in_dim) -> (.., out_dim).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims();
        match dims.last() {
            Some(&d) if d == self.in_dim => {}
            _ => bail!(
                "KanLinear: expected input (.., {}), got {:?}",
                self.in_dim,
                dims
            ),
        }
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("nonempty dims") = self.out_dim;
        let x = xs.reshape(((), self.in_dim))?;
        let n_rows = x.dim(0)?;

        let activated = match self.base_activation {
            BaseActivation::Silu => candle_nn::ops::silu(&x)?,
            BaseActivation::Identity => x.clone(),
        };
        let base = activated.matmul(&self.base_weight.t()?)?;

        let n_basis = self.spline_weight.dim(2)?;
        let bases = self.basis(&x)?.reshape((n_rows, self.in_dim * n_basis))?;
        let coeffs = match &self.spline_scaler {
            Some(s) => self.spline_weight.broadcast_mul(&s.unsqueeze(2)?)?,
            None => self.spline_weight.clone(),
        };
        let coeffs = coeffs.reshape((self.out_dim, self.in_dim * n_basis))?;
        let spline = bases.matmul(&coeffs.t()?)?;
        (base + spline)?.reshape(out_dims)
    }
}

/// A stack of [`KanLinear`] layers, `dims[0] -> dims[1] -> .. -> dims[last]`.
///
/// Weights (vb paths): `layers.{i}.*` for layer `i`.
#[derive(Debug, Clone)]
pub struct Kan {
    layers: Vec<KanLinear>,
}

impl Kan {
    /// Creates or loads a KAN with layer widths `dims` (at least two entries).
    pub fn new(dims: &[usize], config: &KanConfig, vb: VarBuilder) -> Result<Self> {
        if dims.len() < 2 {
            bail!("Kan: need at least an input and an output width, got {dims:?}");
        }
        let vb = vb.pp("layers");
        let layers = dims
            .windows(2)
            .enumerate()
            .map(|(i, w)| KanLinear::new(w[0], w[1], config, vb.pp(i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers })
    }

    /// Total number of weights of a KAN with widths `dims`.
    pub fn param_count(dims: &[usize], config: &KanConfig) -> usize {
        dims.windows(2)
            .map(|w| config.layer_params(w[0], w[1]))
            .sum()
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[KanLinear] {
        &self.layers
    }

    /// xs: (.., dims[0]) -> (.., dims[last]).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut x = xs.clone();
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};
    use candle_nn::{Optimizer, VarMap};

    /// Scalar Cox-de Boor recursion, the textbook definition.
    fn basis_scalar(x: f64, knots: &[f64], j: usize, p: usize) -> f64 {
        if p == 0 {
            return f64::from(u8::from(knots[j] <= x && x < knots[j + 1]));
        }
        let left = (x - knots[j]) / (knots[j + p] - knots[j]) * basis_scalar(x, knots, j, p - 1);
        let right = (knots[j + p + 1] - x) / (knots[j + p + 1] - knots[j + 1])
            * basis_scalar(x, knots, j + 1, p - 1);
        left + right
    }

    fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn tensor_basis_matches_scalar_recursion() -> Result<()> {
        let cfg = KanConfig::default();
        let knots = cfg.knots();
        assert_eq!(knots.len(), cfg.grid_size + 2 * cfg.spline_order + 1);
        // Points well outside the extended grid [-2.2, 2.2] too; 997 avoids landing
        // exactly on knots.
        let xs = linspace(-3.0, 3.0, 997);
        let x32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        let t = Tensor::from_vec(x32.clone(), (x32.len(), 1), &Device::Cpu)?;
        let got = b_spline_basis(&t, &knots, cfg.spline_order)?.squeeze(1)?;
        assert_eq!(got.dims(), &[xs.len(), cfg.n_basis()]);
        let got = got.to_vec2::<f32>()?;
        for (i, &x) in x32.iter().enumerate() {
            for (j, &g) in got[i].iter().enumerate() {
                let want = basis_scalar(f64::from(x), &knots, j, cfg.spline_order);
                assert!(
                    (f64::from(g) - want).abs() < 1e-5,
                    "basis {j} at x = {x}: tensor recursion {g} vs scalar {want}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn basis_is_partition_of_unity_inside_range() -> Result<()> {
        let cfg = KanConfig {
            grid_size: 7,
            grid_range: [-0.5, 2.0],
            ..KanConfig::default()
        };
        let xs: Vec<f32> = linspace(-0.5, 1.999, 501)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let t = Tensor::from_vec(xs, (501,), &Device::Cpu)?;
        let sums = b_spline_basis(&t, &cfg.knots(), cfg.spline_order)?
            .sum(D::Minus1)?
            .to_vec1::<f32>()?;
        for (i, s) in sums.iter().enumerate() {
            // A sum other than 1 means a wrong blending weight in the recursion.
            assert!((s - 1.0).abs() < 1e-5, "sum of bases at point {i} is {s}");
        }
        Ok(())
    }

    #[test]
    fn forward_rejects_wrong_width() -> Result<()> {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let layer = KanLinear::new(4, 2, &KanConfig::default(), vb)?;
        let bad = Tensor::zeros((3, 5), DType::F32, &Device::Cpu)?;
        assert!(layer.forward(&bad).is_err(), "width 5 into a width-4 layer");
        let ok = layer.forward(&Tensor::zeros((2, 3, 4), DType::F32, &Device::Cpu)?)?;
        assert_eq!(ok.dims(), &[2, 3, 2]);
        Ok(())
    }

    #[test]
    fn gradients_match_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F64, &dev);
        let cfg = KanConfig::default();
        let layer = KanLinear::new(2, 3, &cfg, vb)?;
        let x_vals: Vec<f64> = vec![-1.3, -0.71, -0.25, 0.07, 0.33, 0.52, 0.91, 1.7, 2.5, -2.9];
        let x = Var::from_vec(x_vals, (5, 2), &dev)?;
        let probe = Tensor::new(&[[0.3f64, -1.1, 0.7]], &dev)?;
        let loss_of = |l: &KanLinear, x: &Tensor| -> Result<Tensor> {
            l.forward(x)?.broadcast_mul(&probe)?.sum_all()
        };
        let grads = loss_of(&layer, x.as_tensor())?.backward()?;
        let mut vars: Vec<(String, Var)> = vm
            .data()
            .lock()
            .expect("var map lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        vars.push(("input".to_string(), x.clone()));
        let eps = 1e-6;
        for (name, var) in &vars {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()?
                .to_vec1::<f64>()?;
            assert!(
                g.iter().any(|v| v.abs() > 1e-8),
                "{name}: gradient is all zero"
            );
            let base = var.as_tensor().flatten_all()?.to_vec1::<f64>()?;
            for idx in 0..base.len() {
                let eval = |delta: f64| -> Result<f64> {
                    let mut v = base.clone();
                    v[idx] += delta;
                    var.set(&Tensor::from_vec(v, var.shape(), &dev)?)?;
                    loss_of(&layer, x.as_tensor())?.to_scalar::<f64>()
                };
                let fd = (eval(eps)? - eval(-eps)?) / (2.0 * eps);
                var.set(&Tensor::from_vec(base.clone(), var.shape(), &dev)?)?;
                assert!(
                    (fd - g[idx]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{name}[{idx}]: autograd {} vs finite difference {fd}",
                    g[idx]
                );
            }
        }
        Ok(())
    }

    #[test]
    fn kan_learns_sine() -> Result<()> {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let cfg = KanConfig::default();
        let kan = Kan::new(&[1, 8, 1], &cfg, vb)?;
        assert_eq!(
            vm.all_vars().iter().map(|v| v.elem_count()).sum::<usize>(),
            Kan::param_count(&[1, 8, 1], &cfg)
        );
        let xs: Vec<f32> = linspace(-1.0, 1.0, 128).iter().map(|&v| v as f32).collect();
        let ys: Vec<f32> = xs
            .iter()
            .map(|&v| (std::f32::consts::PI * v).sin())
            .collect();
        let x = Tensor::from_vec(xs, (128, 1), &dev)?;
        let y = Tensor::from_vec(ys, (128, 1), &dev)?;
        let mse = |k: &Kan| -> Result<Tensor> { (k.forward(&x)? - &y)?.sqr()?.mean_all() };
        let initial = mse(&kan)?.to_scalar::<f32>()?;
        let mut opt = candle_nn::AdamW::new(
            vm.all_vars(),
            candle_nn::ParamsAdamW {
                lr: 1e-2,
                weight_decay: 0.0,
                ..Default::default()
            },
        )?;
        for _ in 0..300 {
            opt.backward_step(&mse(&kan)?)?;
        }
        let last = mse(&kan)?.to_scalar::<f32>()?;
        // sin(pi x) has variance 0.5 on [-1, 1]; a working spline branch fits it
        // closely (seen: 0.58 -> 1e-4), a broken one stalls near the variance.
        assert!(
            last < 2e-3,
            "KAN failed to fit sin(pi x): MSE {initial} -> {last} after 300 steps"
        );
        Ok(())
    }
}
