//! Vision encoder: a small vision transformer (Dosovitskiy et al. 2021) that turns an RGB
//! image into a 4x4 grid of visual feature tokens.
//!
//! (batch, 3, 64, 64) -> conv patch stem (8x8 patches, stride 8) -> 8x8 grid of
//! d_vision features + learned positions -> `n_layers` pre-norm encoder layers
//! (self-attention, GELU MLP) -> final layer norm -> 2x2 average pooling -> 4x4 grid ->
//! (batch, 16, d_vision), tokens in row-major grid order.
//!
//! Weight names: `patch_embed.{weight,bias}`, `pos_embed`, `layers.{i}.norm1`,
//! `layers.{i}.attn.{qkv,out}`, `layers.{i}.norm2`, `layers.{i}.mlp.{fc1,fc2}`, `norm`.
//!
//! Limits: the image size is fixed by the config (resize first); no class token, no
//! dropout.

use super::layers::{linear, LayerNorm, SelfAttention, INIT_STD};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Init, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// Vision encoder hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisionEncoderConfig {
    /// Input height and width in pixels.
    pub image_size: usize,
    /// Input channels (3 for RGB).
    pub in_channels: usize,
    /// Patch side in pixels.
    pub patch_size: usize,
    /// Feature width of the visual tokens.
    pub d_vision: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    /// Hidden width of the MLP.
    pub d_ff: usize,
    /// Side of the average-pooling window over the patch grid.
    pub pool: usize,
    pub layer_norm_eps: f64,
}

impl Default for VisionEncoderConfig {
    fn default() -> Self {
        Self {
            image_size: 64,
            in_channels: 3,
            patch_size: 8,
            d_vision: 128,
            n_layers: 2,
            n_heads: 4,
            d_ff: 512,
            pool: 2,
            layer_norm_eps: 1e-5,
        }
    }
}

impl VisionEncoderConfig {
    /// Patches per side (8 by default).
    pub fn grid(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Output tokens: (grid / pool)^2 (16 by default).
    pub fn n_tokens(&self) -> usize {
        (self.grid() / self.pool).pow(2)
    }

    fn validate(&self) -> Result<()> {
        let ok = self.patch_size > 0
            && self.pool > 0
            && self.image_size.is_multiple_of(self.patch_size)
            && self.grid().is_multiple_of(self.pool)
            && self.grid() > 0;
        if !ok {
            candle_core::bail!(
                "vision encoder: image {} must split into patches of {} and a grid divisible \
                 by pool {}",
                self.image_size,
                self.patch_size,
                self.pool
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct EncoderLayer {
    norm1: LayerNorm,
    attn: SelfAttention,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl EncoderLayer {
    fn new(cfg: &VisionEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_vision;
        Ok(Self {
            norm1: LayerNorm::new(d, cfg.layer_norm_eps, vb.pp("norm1"))?,
            attn: SelfAttention::new(d, cfg.n_heads, true, vb.pp("attn"))?,
            norm2: LayerNorm::new(d, cfg.layer_norm_eps, vb.pp("norm2"))?,
            fc1: linear(d, cfg.d_ff, true, vb.pp("mlp").pp("fc1"))?,
            fc2: linear(cfg.d_ff, d, true, vb.pp("mlp").pp("fc2"))?,
        })
    }

    /// xs: (batch, n, d_vision) -> (batch, n, d_vision)
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = (xs + self.attn.forward(&self.norm1.forward(xs)?, None, false)?)?;
        let h = self.fc1.forward(&self.norm2.forward(&xs)?)?.gelu()?;
        xs + self.fc2.forward(&h)?
    }
}

/// Image -> 16 visual feature tokens.
#[derive(Debug, Clone)]
pub struct VisionEncoder {
    cfg: VisionEncoderConfig,
    patch_embed: Conv2d,
    pos_embed: Tensor,
    layers: Vec<EncoderLayer>,
    norm: LayerNorm,
}

impl VisionEncoder {
    pub fn new(cfg: &VisionEncoderConfig, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let small = Init::Randn {
            mean: 0.0,
            stdev: INIT_STD,
        };
        let p = cfg.patch_size;
        let w = vb.pp("patch_embed").get_with_hints(
            (cfg.d_vision, cfg.in_channels, p, p),
            "weight",
            small,
        )?;
        let b = vb
            .pp("patch_embed")
            .get_with_hints(cfg.d_vision, "bias", Init::Const(0.0))?;
        let conv_cfg = Conv2dConfig {
            stride: p,
            ..Default::default()
        };
        let n_patches = cfg.grid() * cfg.grid();
        let pos_embed = vb.get_with_hints((1, n_patches, cfg.d_vision), "pos_embed", small)?;
        let layers = (0..cfg.n_layers)
            .map(|i| EncoderLayer::new(cfg, vb.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            patch_embed: Conv2d::new(w, Some(b), conv_cfg),
            pos_embed,
            layers,
            norm: LayerNorm::new(cfg.d_vision, cfg.layer_norm_eps, vb.pp("norm"))?,
        })
    }

    pub fn config(&self) -> &VisionEncoderConfig {
        &self.cfg
    }

    /// images: (batch, in_channels, image_size, image_size), f32 in [0, 1]
    /// -> (batch, n_tokens, d_vision) with n_tokens = (image_size / patch_size / pool)^2.
    pub fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = images.dims4()?;
        let s = self.cfg.image_size;
        if (c, h, w) != (self.cfg.in_channels, s, s) {
            candle_core::bail!(
                "vision encoder: expected images (batch, {}, {s}, {s}), got {:?}",
                self.cfg.in_channels,
                images.dims()
            );
        }
        let g = self.cfg.grid();
        let d = self.cfg.d_vision;
        // (b, d, g, g) -> (b, g*g, d), patches in row-major order.
        let xs = self
            .patch_embed
            .forward(images)?
            .flatten_from(2)?
            .transpose(1, 2)?;
        let mut xs = xs.broadcast_add(&self.pos_embed)?;
        for layer in &self.layers {
            xs = layer.forward(&xs)?;
        }
        let xs = self.norm.forward(&xs)?;
        let grid = xs.transpose(1, 2)?.reshape((b, d, g, g))?;
        let pooled = grid.avg_pool2d(self.cfg.pool)?;
        pooled.flatten_from(2)?.transpose(1, 2)?.contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};
    use candle_nn::VarMap;

    fn encoder(cfg: &VisionEncoderConfig) -> Result<(VarMap, VisionEncoder)> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let enc = VisionEncoder::new(cfg, vb)?;
        Ok((varmap, enc))
    }

    #[test]
    fn default_shapes_and_parameter_count() -> Result<()> {
        let cfg = VisionEncoderConfig::default();
        let (varmap, enc) = encoder(&cfg)?;
        let images = Tensor::rand(0f32, 1.0, (2, 3, 64, 64), &Device::Cpu)?;
        let out = enc.forward(&images)?;
        assert_eq!(out.dims(), &[2, 16, 128], "not 16 tokens of d_vision");
        // patch 3*8*8*128 + 128, positions 64*128, per layer 2*(2*128) + 128*384 + 384
        // + 128*128 + 128 + 128*512 + 512 + 512*128 + 128, final norm 2*128.
        let per_layer = 512 + 49_536 + 16_512 + 66_048 + 65_664;
        let want = 24_704 + 8_192 + 2 * per_layer + 256;
        let got: usize = varmap.all_vars().iter().map(|v| v.elem_count()).sum();
        assert_eq!(
            got, want,
            "parameter count differs from the documented layout"
        );
        let names = varmap
            .data()
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        assert!(
            names.contains(&"layers.1.mlp.fc2.weight".to_string()),
            "{names:?}"
        );
        Ok(())
    }

    #[test]
    fn pooling_averages_neighbouring_patches() -> Result<()> {
        // With zero layers, token 0 is the mean of the normed patch features 0, 1, 8, 9.
        let cfg = VisionEncoderConfig {
            n_layers: 0,
            ..Default::default()
        };
        let (_vm, enc) = encoder(&cfg)?;
        let images = Tensor::rand(0f32, 1.0, (1, 3, 64, 64), &Device::Cpu)?;
        let feats = enc
            .patch_embed
            .forward(&images)?
            .flatten_from(2)?
            .transpose(1, 2)?
            .broadcast_add(&enc.pos_embed)?;
        let feats = enc.norm.forward(&feats)?.squeeze(0)?;
        let want = ((feats.get(0)? + feats.get(1)?)? + (feats.get(8)? + feats.get(9)?)?)? / 4.0;
        let got = enc.forward(&images)?.squeeze(0)?.get(0)?;
        let err = (got - want?)?.abs()?.max(0)?.to_scalar::<f32>()?;
        assert!(
            err < 1e-5,
            "pooled token 0 is not the 2x2 patch mean (err {err})"
        );
        Ok(())
    }

    #[test]
    fn wrong_input_size_is_an_error() -> Result<()> {
        let (_vm, enc) = encoder(&VisionEncoderConfig::default())?;
        let dev = Device::Cpu;
        for shape in [(1, 3, 32, 32), (1, 1, 64, 64), (1, 3, 64, 63)] {
            let x = Tensor::zeros(shape, DType::F32, &dev)?;
            assert!(enc.forward(&x).is_err(), "{shape:?} accepted");
        }
        assert!(enc
            .forward(&Tensor::zeros((3, 64, 64), DType::F32, &dev)?)
            .is_err());
        let bad = VisionEncoderConfig {
            patch_size: 7,
            ..Default::default()
        };
        assert!(
            encoder(&bad).is_err(),
            "64 px do not split into 7 px patches"
        );
        Ok(())
    }

    #[test]
    fn gradient_reaches_every_weight_and_the_image() -> Result<()> {
        let (varmap, enc) = encoder(&VisionEncoderConfig::default())?;
        let images = Var::from_tensor(&Tensor::rand(0f32, 1.0, (2, 3, 64, 64), &Device::Cpu)?)?;
        let target = Tensor::randn(0f32, 1.0, (2, 16, 128), &Device::Cpu)?;
        let loss = (enc.forward(images.as_tensor())? - target)?
            .sqr()?
            .mean_all()?;
        let grads = loss.backward()?;
        for (name, var) in varmap.data().lock().unwrap().iter() {
            let g = grads.get(var.as_tensor());
            let norm = match g {
                Some(g) => g.abs()?.sum_all()?.to_scalar::<f32>()?,
                None => 0.0,
            };
            assert!(norm > 0.0, "no gradient reached {name}");
        }
        assert!(
            grads.get(images.as_tensor()).is_some(),
            "no gradient to the image"
        );
        Ok(())
    }
}
