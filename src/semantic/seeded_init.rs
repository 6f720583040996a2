//! Reproducible weight initialization.
//!
//! candle's CPU random generator cannot be seeded, so a model built from a plain
//! `VarMap` starts from different weights on every run. [`SeededVarMap`] is a
//! `VarBuilder` backend that honours each module's `Init` hint (constant, normal,
//! uniform, Kaiming) but draws the values from a ChaCha8 generator keyed by the
//! training seed and the variable's name. The weights therefore depend only on
//! (seed, name, shape, init), not on the order in which modules are built.

use candle_core::{bail, DType, Device, Result, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A `VarMap` whose new variables are drawn from a seeded generator.
#[derive(Clone)]
pub struct SeededVarMap {
    varmap: VarMap,
    seed: u64,
}

/// FNV-1a hash of a variable name: the per-variable stream of the generator.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Draws the initial values of one variable, as f32 on the CPU.
fn draw(shape: &Shape, init: Init, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let n = shape.elem_count();
    let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
        (0..n)
            .map(|_| (mean + std * rng.sample::<f64, _>(StandardNormal)) as f32)
            .collect()
    };
    let uniform = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| -> Vec<f32> {
        (0..n)
            .map(|_| (lo + (hi - lo) * rng.random::<f64>()) as f32)
            .collect()
    };
    let values = match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Randn { mean, stdev } => normal(rng, mean, stdev),
        Init::Uniform { lo, up } => uniform(rng, lo, up),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                candle_nn::init::NormalOrUniform::Normal => normal(rng, 0.0, std),
                candle_nn::init::NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    uniform(rng, -bound, bound)
                }
            }
        }
    };
    Tensor::from_vec(values, shape.clone(), &Device::Cpu)
}

impl SeededVarMap {
    /// An empty map whose variables will be drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            varmap: VarMap::new(),
            seed,
        }
    }

    /// The underlying map (for saving, loading and listing the trainable variables).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// A `VarBuilder` creating variables in this map.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// All variables with their names, sorted by name (a stable order).
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let data = self
            .varmap
            .data()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut vars: Vec<(String, Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }
}

impl SimpleBackend for SeededVarMap {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut data = self
            .varmap
            .data()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(var) = data.get(name) {
            if var.shape() != &s {
                bail!(
                    "shape mismatch on {name}: expected {s:?}, have {:?}",
                    var.shape()
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ name_hash(name));
        let values = draw(&s, h, &mut rng)?.to_dtype(dtype)?.to_device(dev)?;
        let var = Var::from_tensor(&values)?;
        let tensor = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        bail!("SeededVarMap: variable {name} must be requested with its shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap
            .data()
            .lock()
            .map(|d| d.contains_key(name))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_weights_regardless_of_build_order() {
        let build = |order: &[&str], seed| -> Vec<f32> {
            let map = SeededVarMap::new(seed);
            let vb = map.var_builder(DType::F32, &Device::Cpu);
            for name in order {
                vb.get_with_hints((4, 3), name, candle_nn::init::DEFAULT_KAIMING_NORMAL)
                    .unwrap();
            }
            let t = vb
                .get_with_hints((4, 3), "a", candle_nn::init::DEFAULT_KAIMING_NORMAL)
                .unwrap();
            t.flatten_all().unwrap().to_vec1().unwrap()
        };
        let x = build(&["a", "b"], 7);
        let y = build(&["b", "a"], 7);
        assert_eq!(
            x, y,
            "weights must not depend on the order variables are created"
        );
        assert_ne!(
            x,
            build(&["a"], 8),
            "a different seed must give other weights"
        );
        // Kaiming normal (ReLU gain sqrt 2, fan-in 3): std sqrt(2/3); 12 draws all within
        // 5 std would fail only for a broken scale.
        let bound = 5.0 * (2.0f32 / 3.0).sqrt();
        assert!(x.iter().all(|v| v.abs() < bound && *v != 0.0), "{x:?}");
    }
}
