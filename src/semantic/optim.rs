//! AdamW (Loshchilov & Hutter 2019, decoupled weight decay) with a linear-warmup,
//! cosine-decay learning-rate schedule and global gradient-norm clipping.
//!
//! Unlike `candle_nn::AdamW`, the moment estimates and the step count are public
//! state keyed by variable name, so a checkpoint can store them and a resumed run
//! continues exactly where it stopped.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Optimizer and schedule settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Peak learning rate, reached at the end of the warmup.
    pub lr: f64,
    /// Learning rate at the last step, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// Steps of linear warmup from 0 to `lr`.
    pub warmup_steps: usize,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay, applied to matrices only (not to biases, norms, scales).
    pub weight_decay: f64,
    /// Global L2 norm above which gradients are scaled down; 0 disables clipping.
    pub max_grad_norm: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            final_lr_fraction: 0.05,
            warmup_steps: 100,
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-8,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
        }
    }
}

impl OptimConfig {
    /// Learning rate of step `step` (0-based) out of `total_steps`: linear warmup to
    /// `lr`, then cosine decay to `lr * final_lr_fraction` at the last step.
    pub fn lr_at(&self, step: usize, total_steps: usize) -> f64 {
        if step < self.warmup_steps {
            return self.lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let decay_steps = total_steps.saturating_sub(self.warmup_steps).max(1);
        let t = ((step - self.warmup_steps) as f64 / decay_steps as f64).min(1.0);
        let floor = self.lr * self.final_lr_fraction;
        floor + (self.lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

/// One optimized variable and its moment estimates.
struct Slot {
    name: String,
    var: Var,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

/// AdamW over named variables.
pub struct AdamW {
    config: OptimConfig,
    slots: Vec<Slot>,
    /// Number of updates applied so far.
    step_t: usize,
}

impl AdamW {
    /// Zero moments for every variable; `vars` as (name, var).
    pub fn new(vars: Vec<(String, Var)>, config: &OptimConfig) -> Result<Self> {
        let slots = vars
            .into_iter()
            .map(|(name, var)| {
                let m = var.as_tensor().zeros_like()?;
                let v = var.as_tensor().zeros_like()?;
                let decay = var.rank() >= 2;
                Ok(Slot {
                    name,
                    var,
                    m,
                    v,
                    decay,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config: config.clone(),
            slots,
            step_t: 0,
        })
    }

    /// Updates applied so far.
    pub fn step_count(&self) -> usize {
        self.step_t
    }

    /// Global L2 norm of the gradients of the optimized variables.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut sum = 0f64;
        for s in &self.slots {
            if let Some(g) = grads.get(s.var.as_tensor()) {
                sum += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
        }
        Ok(sum.sqrt())
    }

    /// Applies one update with learning rate `lr`, clipping the gradients to
    /// `max_grad_norm`. Returns the gradient norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<f64> {
        let norm = self.grad_norm(grads)?;
        let c = &self.config;
        let clip = if c.max_grad_norm > 0.0 && norm > c.max_grad_norm {
            c.max_grad_norm / norm
        } else {
            1.0
        };
        self.step_t += 1;
        let t = self.step_t as i32;
        let scale_m = 1.0 / (1.0 - c.beta1.powi(t));
        let scale_v = 1.0 / (1.0 - c.beta2.powi(t));
        for s in &mut self.slots {
            let Some(g) = grads.get(s.var.as_tensor()) else {
                continue;
            };
            let g = (g * clip)?;
            // Gradients carry the autograd graph of the step; detaching keeps each
            // step's graph from being chained to (and kept alive by) the moments.
            let g = g.detach();
            s.m = ((&s.m * c.beta1)? + (&g * (1.0 - c.beta1))?)?.detach();
            s.v = ((&s.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?.detach();
            let update = ((&s.m * scale_m)? / ((&s.v * scale_v)?.sqrt()? + c.eps)?)?;
            let mut theta = s.var.as_tensor().clone();
            if s.decay && c.weight_decay > 0.0 {
                theta = (theta * (1.0 - lr * c.weight_decay))?;
            }
            s.var.set(&(theta - (update * lr)?)?)?;
        }
        Ok(norm)
    }

    /// Moment tensors keyed `m.<name>` / `v.<name>`, for a checkpoint.
    pub fn state_tensors(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for s in &self.slots {
            out.insert(format!("m.{}", s.name), s.m.clone());
            out.insert(format!("v.{}", s.name), s.v.clone());
        }
        out
    }

    /// Restores the moments written by `state_tensors` and the step count.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>, step_t: usize) -> Result<()> {
        for s in &mut self.slots {
            for (key, slot) in [("m", &mut s.m), ("v", &mut s.v)] {
                let name = format!("{key}.{}", s.name);
                let t = tensors.get(&name).ok_or_else(|| {
                    candle_core::Error::Msg(format!("optimizer state lacks {name}"))
                })?;
                if t.dims() != slot.dims() {
                    candle_core::bail!(
                        "optimizer state {name}: expected {:?}, got {:?}",
                        slot.dims(),
                        t.dims()
                    );
                }
                *slot = t.to_device(slot.device())?.to_dtype(slot.dtype())?;
            }
        }
        self.step_t = step_t;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn moments_hold_no_autograd_graph_between_steps() {
        // Moments that kept the graph of each step's gradients would chain every
        // past step's activations together: memory grows without bound (a training
        // run reached 22 GB by step 215 before this was fixed).
        let var = Var::new(&[[1.0f32, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap();
        let mut opt = AdamW::new(vec![("w".into(), var.clone())], &OptimConfig::default()).unwrap();
        for _ in 0..2 {
            let y = var.as_tensor().matmul(var.as_tensor()).unwrap();
            let loss = y.sqr().unwrap().sum_all().unwrap();
            opt.step(&loss.backward().unwrap(), 0.01).unwrap();
        }
        for (name, t) in opt.state_tensors() {
            assert!(!t.track_op(), "{name} still references an autograd graph");
        }
    }

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        let c = OptimConfig {
            lr: 1.0,
            warmup_steps: 10,
            final_lr_fraction: 0.1,
            ..OptimConfig::default()
        };
        assert!(
            (c.lr_at(0, 110) - 0.1).abs() < 1e-12,
            "warmup starts at lr/warmup"
        );
        assert!(
            (c.lr_at(9, 110) - 1.0).abs() < 1e-12,
            "warmup ends at the peak"
        );
        assert!((c.lr_at(60, 110) - 0.55).abs() < 1e-12, "cosine midpoint");
        assert!(
            (c.lr_at(110, 110) - 0.1).abs() < 1e-12,
            "decays to the floor"
        );
    }

    #[test]
    fn adamw_first_step_moves_each_weight_by_lr_against_its_gradient_sign() {
        // With bias correction, Adam's first update is lr * g / (|g| + eps): a sign step.
        let var = Var::new(&[1.0f32, -2.0, 3.0], &Device::Cpu).unwrap();
        let c = OptimConfig {
            weight_decay: 0.0,
            max_grad_norm: 0.0,
            ..OptimConfig::default()
        };
        let mut opt = AdamW::new(vec![("w".into(), var.clone())], &c).unwrap();
        let loss = (var.as_tensor() * &Tensor::new(&[2f32, -0.5, 0.0], &Device::Cpu).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        opt.step(&loss.backward().unwrap(), 0.1).unwrap();
        let w: Vec<f32> = var.as_tensor().to_vec1().unwrap();
        assert!((w[0] - 0.9).abs() < 1e-5, "{w:?}");
        assert!((w[1] + 1.9).abs() < 1e-5, "{w:?}");
        assert!(
            (w[2] - 3.0).abs() < 1e-5,
            "zero gradient must not move: {w:?}"
        );
    }
}
