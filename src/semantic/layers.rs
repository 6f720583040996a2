//! Differentiable transformer building blocks shared by the vision encoder and the
//! language model: linear layers with small initial weights, layer norm, RMS norm,
//! rotary position embedding and multi-head self-attention.
//!
//! candle-nn's fused kernels `ops::layer_norm`, `ops::rms_norm`, `ops::softmax_last_dim`
//! and `rotary_emb::rope` are applied without a backward pass (the result is detached from
//! the graph), and `candle_nn::LayerNorm` uses such a kernel on contiguous input. Training
//! through them silently freezes everything upstream, so this file writes the same
//! operations out of differentiable tensor ops.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Init, Linear, VarBuilder};

/// Standard deviation of the initial weights (saturated softmax in a badly scaled model
/// produces subnormal floats that make the CPU backward pass very slow).
pub const INIT_STD: f64 = 0.02;

/// Linear layer `in_dim -> out_dim` with weight `weight` (out_dim, in_dim) drawn from
/// N(0, INIT_STD^2) and, if `bias`, a zero `bias` (out_dim).
pub fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get_with_hints(
        (out_dim, in_dim),
        "weight",
        Init::Randn {
            mean: 0.0,
            stdev: INIT_STD,
        },
    )?;
    let bias = if bias {
        Some(vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?)
    } else {
        None
    };
    Ok(Linear::new(weight, bias))
}

/// Layer normalization over the last dimension with learned `weight` (ones) and `bias`
/// (zeros), both (dim).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn new(dim: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints(dim, "weight", Init::Const(1.0))?;
        let bias = vb.get_with_hints(dim, "bias", Init::Const(0.0))?;
        Ok(Self { weight, bias, eps })
    }
}

impl Module for LayerNorm {
    /// xs: (.., dim) -> (.., dim)
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mean = xs.mean_keepdim(D::Minus1)?;
        let centered = xs.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// RMS normalization over the last dimension with a learned `weight` (dim), initialized
/// to ones.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(dim: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints(dim, "weight", Init::Const(1.0))?;
        Ok(Self { weight, eps })
    }

    /// Wraps an existing weight (dim), e.g. one read from a checkpoint.
    pub fn from_weight(weight: Tensor, eps: f64) -> Self {
        Self { weight, eps }
    }
}

impl Module for RmsNorm {
    /// xs: (.., dim) -> (.., dim)
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ms = xs.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = xs.broadcast_div(&(ms + self.eps)?.sqrt()?)?;
        normed.broadcast_mul(&self.weight)
    }
}

/// Rotary position embedding tables (Su et al. 2021): `cos` and `sin` of shape
/// (max_seq, head_dim / 2), frequency i = theta^(-2i / head_dim).
#[derive(Debug, Clone)]
pub struct Rotary {
    cos: Tensor,
    sin: Tensor,
    interleaved: bool,
}

impl Rotary {
    /// `interleaved` pairs dimensions (2i, 2i + 1) (the GGUF llama layout); otherwise
    /// dimension i is paired with i + head_dim / 2.
    pub fn new(
        head_dim: usize,
        max_seq: usize,
        theta: f64,
        interleaved: bool,
        device: &Device,
    ) -> Result<Self> {
        if !head_dim.is_multiple_of(2) {
            candle_core::bail!("rotary embedding needs an even head_dim, got {head_dim}");
        }
        let inv_freq: Vec<f32> = (0..head_dim / 2)
            .map(|i| theta.powf(-2.0 * i as f64 / head_dim as f64) as f32)
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, head_dim / 2), device)?;
        let pos = Tensor::arange(0u32, max_seq as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((max_seq, 1))?;
        let angles = pos.matmul(&inv_freq)?;
        Ok(Self {
            cos: angles.cos()?,
            sin: angles.sin()?,
            interleaved,
        })
    }

    /// Number of positions the tables cover.
    pub fn max_seq(&self) -> usize {
        self.cos.dims()[0]
    }

    /// xs: (batch, heads, seq, head_dim) at positions offset..offset+seq -> same shape.
    pub fn apply(&self, xs: &Tensor, offset: usize) -> Result<Tensor> {
        let (_, _, seq, _) = xs.dims4()?;
        if offset + seq > self.max_seq() {
            candle_core::bail!(
                "rotary embedding covers {} positions, got {} (offset {offset})",
                self.max_seq(),
                offset + seq
            );
        }
        let cos = self.cos.narrow(0, offset, seq)?.contiguous()?;
        let sin = self.sin.narrow(0, offset, seq)?.contiguous()?;
        if self.interleaved {
            candle_nn::rotary_emb::rope_i_slow(xs, &cos, &sin)
        } else {
            candle_nn::rotary_emb::rope_slow(xs, &cos, &sin)
        }
    }
}

/// Additive causal mask (seq_q, offset + seq_q) for queries at positions
/// offset..offset+seq_q over keys 0..offset+seq_q: 0 where key <= query, -inf elsewhere.
pub fn causal_mask(seq_q: usize, offset: usize, device: &Device) -> Result<Tensor> {
    let seq_k = offset + seq_q;
    let data: Vec<f32> = (0..seq_q)
        .flat_map(|q| {
            (0..seq_k).map(move |k| {
                if k <= offset + q {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            })
        })
        .collect();
    Tensor::from_vec(data, (seq_q, seq_k), device)
}

/// Keys and values of the positions seen so far, each (batch, heads, seq_so_far,
/// head_dim), for incremental decoding.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    kv: Option<(Tensor, Tensor)>,
}

impl KvCache {
    /// Number of cached positions.
    pub fn len(&self) -> usize {
        self.kv.as_ref().map_or(0, |(k, _)| k.dims()[2])
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the keys and values of new positions, each (batch, heads, seq, head_dim),
    /// and returns all cached keys and values.
    pub fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let kv = match &self.kv {
            Some((k0, v0)) => (Tensor::cat(&[k0, k], 2)?, Tensor::cat(&[v0, v], 2)?),
            None => (k.clone(), v.clone()),
        };
        self.kv = Some(kv.clone());
        Ok(kv)
    }
}

/// Scaled dot-product attention with an optional additive mask.
/// q: (batch, heads, seq_q, head_dim), k, v: (batch, heads, seq_k, head_dim),
/// mask: broadcastable to (batch, heads, seq_q, seq_k) -> (batch, heads, seq_q, head_dim).
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let head_dim = q.dim(D::Minus1)?;
    let scores = (q.matmul(&k.t()?)? / (head_dim as f64).sqrt())?;
    let scores = match mask {
        Some(m) => scores.broadcast_add(m)?,
        None => scores,
    };
    candle_nn::ops::softmax(&scores, D::Minus1)?.matmul(&v.contiguous()?)
}

/// Multi-head self-attention with a fused `qkv` projection (3 * d_model, d_model) and an
/// `out` projection; optional rotary positions and causal masking.
#[derive(Debug, Clone)]
pub struct SelfAttention {
    qkv: Linear,
    out: Linear,
    n_heads: usize,
    head_dim: usize,
}

impl SelfAttention {
    pub fn new(d_model: usize, n_heads: usize, bias: bool, vb: VarBuilder) -> Result<Self> {
        if n_heads == 0 || !d_model.is_multiple_of(n_heads) {
            candle_core::bail!("d_model {d_model} is not divisible by n_heads {n_heads}");
        }
        Ok(Self {
            qkv: linear(d_model, 3 * d_model, bias, vb.pp("qkv"))?,
            out: linear(d_model, d_model, bias, vb.pp("out"))?,
            n_heads,
            head_dim: d_model / n_heads,
        })
    }

    /// xs: (batch, seq, d_model) -> (batch, seq, d_model). `causal` hides later positions.
    pub fn forward(&self, xs: &Tensor, rotary: Option<&Rotary>, causal: bool) -> Result<Tensor> {
        self.forward_cached(xs, rotary, causal, None)
    }

    /// Like `forward`, but with a cache: xs holds the positions after the `cache.len()`
    /// cached ones, which it attends to as well; their keys and values are appended.
    /// xs: (batch, seq, d_model) -> (batch, seq, d_model).
    pub fn forward_cached(
        &self,
        xs: &Tensor,
        rotary: Option<&Rotary>,
        causal: bool,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let (b, seq, d_model) = xs.dims3()?;
        let offset = cache.as_ref().map_or(0, |c| c.len());
        let qkv = self
            .qkv
            .forward(xs)?
            .reshape((b, seq, 3, self.n_heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?;
        let (mut q, mut k) = (qkv.get(0)?.contiguous()?, qkv.get(1)?.contiguous()?);
        let mut v = qkv.get(2)?.contiguous()?;
        if let Some(r) = rotary {
            q = r.apply(&q, offset)?;
            k = r.apply(&k, offset)?;
        }
        if let Some(cache) = cache {
            (k, v) = cache.append(&k, &v)?;
        }
        let mask = if causal && seq > 1 {
            Some(causal_mask(seq, offset, xs.device())?)
        } else {
            None
        };
        let ys = attention(&q, &k, &v, mask.as_ref())?
            .transpose(1, 2)?
            .reshape((b, seq, d_model))?;
        self.out.forward(&ys)
    }
}

/// The greedy decoding loop shared by the decoders. `step` runs the model, with its
/// key/value caches, on new input embeddings (1, n, d_model) and returns logits
/// (1, n, vocab); the chosen token's row of `embed` (vocab, d_model) is fed back.
/// prefix_embeds: (1, seq, d_model). Stops at `eos` (not included), after
/// `max_new_tokens` tokens, or when prompt plus generated tokens fill `max_seq`.
pub fn greedy_decode(
    prefix_embeds: &Tensor,
    embed: &Tensor,
    max_new_tokens: usize,
    max_seq: usize,
    eos: u32,
    mut step: impl FnMut(&Tensor) -> Result<Tensor>,
) -> Result<Vec<u32>> {
    let (_, seq, d_model) = prefix_embeds.dims3()?;
    let mut input = prefix_embeds.clone();
    let mut out = Vec::new();
    while out.len() < max_new_tokens && seq + out.len() < max_seq {
        let logits = step(&input)?;
        let last = logits.get(0)?.get(input.dims()[1] - 1)?;
        let next = last.argmax(D::Minus1)?.to_scalar::<u32>()?;
        if next == eos {
            break;
        }
        out.push(next);
        input = embed.get(next as usize)?.reshape((1, 1, d_model))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn norms_match_their_definition_and_pass_gradients() -> Result<()> {
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let ln = LayerNorm::new(4, 1e-5, vb.pp("ln"))?;
        let rms = RmsNorm::new(4, 1e-5, vb.pp("rms"))?;
        let x = candle_core::Var::new(&[[1f32, 2.0, 3.0, 6.0]], &dev)?;
        // mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
        let want_ln: Vec<f32> = [-2f32, -1.0, 0.0, 3.0]
            .iter()
            .map(|v| v / (3.5f32 + 1e-5).sqrt())
            .collect();
        let got = ln.forward(x.as_tensor())?.flatten_all()?.to_vec1::<f32>()?;
        for (g, w) in got.iter().zip(&want_ln) {
            assert!((g - w).abs() < 1e-5, "layer norm {g} vs {w}");
        }
        // mean square (1 + 4 + 9 + 36) / 4 = 12.5
        let got = rms
            .forward(x.as_tensor())?
            .flatten_all()?
            .to_vec1::<f32>()?;
        for (g, v) in got.iter().zip([1f32, 2.0, 3.0, 6.0]) {
            let w = v / (12.5f32 + 1e-5).sqrt();
            assert!((g - w).abs() < 1e-5, "rms norm {g} vs {w}");
        }
        let w = Tensor::new(&[[1f32, -2.0, 3.0, 4.0]], &dev)?;
        let loss = ((rms.forward(x.as_tensor())? + ln.forward(x.as_tensor())?)? * w)?.sum_all()?;
        let grads = loss.backward()?;
        let g = grads
            .get(x.as_tensor())
            .map(|g| g.abs()?.sum_all()?.to_scalar::<f32>());
        assert!(
            matches!(g, Some(Ok(v)) if v > 1e-3),
            "no gradient reached the norm input: a fused kernel without backward is in use"
        );
        Ok(())
    }
}
