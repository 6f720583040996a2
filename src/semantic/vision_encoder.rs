//! Vision encoder: a small vision transformer (Dosovitskiy et al. 2021) that turns an RGB
//! image into a 4x4 grid of visual feature tokens.
//!
//! (batch, 3, 64, 64) -> stem (downsampling x8) -> 8x8 grid of d_vision features +
//! learned positions -> `n_layers` pre-norm encoder layers (self-attention, GELU MLP) ->
//! final layer norm -> 2x2 average pooling -> 4x4 grid -> (batch, 16, d_vision), tokens
//! in row-major grid order.
//!
//! Two stems: `conv` (the default), three 3x3 stride-2 convolutions (3 -> 32 -> 64 ->
//! d_vision, SiLU between), whose local filters learn shapes and strokes from little
//! data far faster than patches do (Xiao et al., "Early convolutions help transformers
//! see better", 2021); and `patch`, one 8x8 stride-8 convolution (plain ViT patches).
//!
//! Weight names: `stem.{0,1,2}.{weight,bias}` (conv) or `patch_embed.{weight,bias}`
//! (patch), `pos_embed`, `layers.{i}.norm1`, `layers.{i}.attn.{qkv,out}`,
//! `layers.{i}.norm2`, `layers.{i}.mlp.{fc1,fc2}`, `norm`.
//!
//! Limits: the image size is fixed by the config (resize first); no class token, no
//! dropout.

use super::layers::{linear, LayerNorm, SelfAttention, INIT_STD};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Init, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// How the image becomes the 8x8 feature grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StemKind {
    /// Three 3x3 stride-2 convolutions (needs `patch_size` 8).
    Conv,
    /// One `patch_size` x `patch_size` convolution with stride `patch_size`.
    Patch,
}

/// A configuration file without a `stem` field predates the convolutional stem.
fn stem_of_older_configs() -> StemKind {
    StemKind::Patch
}

/// Vision encoder hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisionEncoderConfig {
    /// Stem; `patch` when a configuration file does not name one.
    #[serde(default = "stem_of_older_configs")]
    pub stem: StemKind,
    /// Input height and width in pixels.
    pub image_size: usize,
    /// Input channels (3 for RGB).
    pub in_channels: usize,
    /// Patch side in pixels: the stem's downsampling factor (8 for the conv stem).
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
            stem: StemKind::Conv,
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
        if self.stem == StemKind::Conv && self.patch_size != CONV_STEM_STRIDE {
            candle_core::bail!(
                "vision encoder: the conv stem downsamples by {CONV_STEM_STRIDE}, patch_size is {}",
                self.patch_size
            );
        }
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

/// Downsampling factor of the conv stem (three stride-2 layers).
const CONV_STEM_STRIDE: usize = 8;
/// Feature maps of the conv stem's first two layers.
const CONV_STEM_CHANNELS: [usize; 2] = [32, 64];

/// The stem's convolutions.
#[derive(Debug, Clone)]
enum Stem {
    Conv([Conv2d; 3]),
    Patch(Conv2d),
}

impl Stem {
    fn new(cfg: &VisionEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let small = Init::Randn {
            mean: 0.0,
            stdev: INIT_STD,
        };
        match cfg.stem {
            StemKind::Patch => {
                let p = cfg.patch_size;
                let w = vb.pp("patch_embed").get_with_hints(
                    (cfg.d_vision, cfg.in_channels, p, p),
                    "weight",
                    small,
                )?;
                let b =
                    vb.pp("patch_embed")
                        .get_with_hints(cfg.d_vision, "bias", Init::Const(0.0))?;
                let conv_cfg = Conv2dConfig {
                    stride: p,
                    ..Default::default()
                };
                Ok(Stem::Patch(Conv2d::new(w, Some(b), conv_cfg)))
            }
            StemKind::Conv => {
                let [c1, c2] = CONV_STEM_CHANNELS;
                let widths = [(cfg.in_channels, c1), (c1, c2), (c2, cfg.d_vision)];
                let conv_cfg = Conv2dConfig {
                    stride: 2,
                    padding: 1,
                    ..Default::default()
                };
                let mut convs = Vec::with_capacity(3);
                for (i, (cin, cout)) in widths.into_iter().enumerate() {
                    convs.push(candle_nn::conv2d(
                        cin,
                        cout,
                        3,
                        conv_cfg,
                        vb.pp("stem").pp(i),
                    )?);
                }
                let [a, b, c]: [Conv2d; 3] = convs
                    .try_into()
                    .map_err(|_| candle_core::Error::Msg("three stem layers".into()))?;
                Ok(Stem::Conv([a, b, c]))
            }
        }
    }

    /// images: (batch, in_channels, s, s) -> (batch, d_vision, s / 8, s / 8)
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        match self {
            Stem::Patch(conv) => conv.forward(images),
            Stem::Conv([a, b, c]) => {
                let xs = a.forward(images)?.silu()?;
                let xs = b.forward(&xs)?.silu()?;
                c.forward(&xs)
            }
        }
    }
}

/// Image -> 16 visual feature tokens.
#[derive(Debug, Clone)]
pub struct VisionEncoder {
    cfg: VisionEncoderConfig,
    stem: Stem,
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
        let n_patches = cfg.grid() * cfg.grid();
        let pos_embed = vb.get_with_hints((1, n_patches, cfg.d_vision), "pos_embed", small)?;
        let layers = (0..cfg.n_layers)
            .map(|i| EncoderLayer::new(cfg, vb.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            stem: Stem::new(cfg, vb.clone())?,
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
            .stem
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
        // conv stem 3*9*32 + 32, 32*9*64 + 64, 64*9*128 + 128, positions 64*128, per
        // layer 2*(2*128) + 128*384 + 384 + 128*128 + 128 + 128*512 + 512 + 512*128
        // + 128, final norm 2*128.
        let stem = 896 + 18_496 + 73_856;
        let per_layer = 512 + 49_536 + 16_512 + 66_048 + 65_664;
        let want = stem + 8_192 + 2 * per_layer + 256;
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
            .stem
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
