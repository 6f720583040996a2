//! Decoder-only language model: pre-norm transformer with RMS norm, rotary positions
//! (non-interleaved halves), causal self-attention, a SwiGLU MLP and output logits tied to
//! the token embeddings.
//!
//! The model runs on embeddings, not ids (`forward_embeds`), so that the instruction
//! template can splice received semantic tokens in between token embeddings.
//!
//! Weight names: `embed_tokens.weight` (vocab_size, d_model) (also the output matrix),
//! `layers.{i}.attn_norm.weight`, `layers.{i}.attn.{qkv,out}.weight`,
//! `layers.{i}.mlp_norm.weight`, `layers.{i}.mlp.{gate,up,down}.weight`, `norm.weight`.
//!
//! Limits: sequences up to `max_seq` positions; greedy decoding only, batch 1.

use super::layers::{greedy_decode, linear, KvCache, RmsNorm, Rotary, SelfAttention, INIT_STD};
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Init, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// Language model hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LmConfig {
    /// Vocabulary size; must equal the tokenizer's `vocab_size()`.
    pub vocab_size: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    /// Hidden width of the SwiGLU MLP.
    pub d_ff: usize,
    /// Longest sequence (prompt, slots and answer) in positions.
    pub max_seq: usize,
    pub rms_norm_eps: f64,
    /// Rotary base frequency.
    pub rope_theta: f64,
}

impl Default for LmConfig {
    fn default() -> Self {
        Self {
            vocab_size: 1024,
            d_model: 128,
            n_layers: 4,
            n_heads: 4,
            d_ff: 384,
            max_seq: 128,
            rms_norm_eps: 1e-5,
            rope_theta: 10_000.0,
        }
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    attn_norm: RmsNorm,
    attn: SelfAttention,
    mlp_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl DecoderLayer {
    fn new(cfg: &LmConfig, vb: VarBuilder) -> Result<Self> {
        let (d, f) = (cfg.d_model, cfg.d_ff);
        let mlp = vb.pp("mlp");
        Ok(Self {
            attn_norm: RmsNorm::new(d, cfg.rms_norm_eps, vb.pp("attn_norm"))?,
            attn: SelfAttention::new(d, cfg.n_heads, false, vb.pp("attn"))?,
            mlp_norm: RmsNorm::new(d, cfg.rms_norm_eps, vb.pp("mlp_norm"))?,
            gate: linear(d, f, false, mlp.pp("gate"))?,
            up: linear(d, f, false, mlp.pp("up"))?,
            down: linear(f, d, false, mlp.pp("down"))?,
        })
    }

    /// xs: (batch, seq, d_model) -> (batch, seq, d_model)
    fn forward(&self, xs: &Tensor, rotary: &Rotary, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let h = self.attn_norm.forward(xs)?;
        let xs = (xs + self.attn.forward_cached(&h, Some(rotary), true, cache)?)?;
        let h = self.mlp_norm.forward(&xs)?;
        let h = (self.gate.forward(&h)?.silu()? * self.up.forward(&h)?)?;
        xs + self.down.forward(&h)?
    }
}

/// The decoder-only language model.
#[derive(Debug, Clone)]
pub struct LanguageModel {
    cfg: LmConfig,
    embed: Tensor,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    rotary: Rotary,
}

impl LanguageModel {
    pub fn new(cfg: &LmConfig, vb: VarBuilder) -> Result<Self> {
        if cfg.vocab_size == 0 || cfg.max_seq == 0 {
            candle_core::bail!("language model: vocab_size and max_seq must be positive");
        }
        let embed = vb.pp("embed_tokens").get_with_hints(
            (cfg.vocab_size, cfg.d_model),
            "weight",
            Init::Randn {
                mean: 0.0,
                stdev: INIT_STD,
            },
        )?;
        let layers = (0..cfg.n_layers)
            .map(|i| DecoderLayer::new(cfg, vb.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let head_dim = cfg.d_model / cfg.n_heads.max(1);
        let rotary = Rotary::new(head_dim, cfg.max_seq, cfg.rope_theta, false, vb.device())?;
        Ok(Self {
            cfg: cfg.clone(),
            embed,
            layers,
            norm: RmsNorm::new(cfg.d_model, cfg.rms_norm_eps, vb.pp("norm"))?,
            rotary,
        })
    }

    pub fn config(&self) -> &LmConfig {
        &self.cfg
    }

    /// ids: (batch, seq) u32 -> (batch, seq, d_model). Ids must be < vocab_size.
    pub fn embed_tokens(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, seq) = ids.dims2()?;
        if b * seq > 0 {
            let max_id = ids
                .flatten_all()?
                .max(0)?
                .to_dtype(DType::U32)?
                .to_scalar::<u32>()?;
            if max_id as usize >= self.cfg.vocab_size {
                candle_core::bail!("token id {max_id} >= vocab_size {}", self.cfg.vocab_size);
            }
        }
        let flat = self.embed.index_select(&ids.flatten_all()?, 0)?;
        flat.reshape((b, seq, self.cfg.d_model))
    }

    /// embeds: (batch, seq, d_model) with seq <= max_seq -> logits (batch, seq, vocab_size).
    /// Position t sees positions 0..=t only.
    pub fn forward_embeds(&self, embeds: &Tensor) -> Result<Tensor> {
        self.forward_inner(embeds, None)
    }

    fn forward_inner(&self, embeds: &Tensor, caches: Option<&mut [KvCache]>) -> Result<Tensor> {
        let (_, seq, d) = embeds.dims3()?;
        let offset = caches
            .as_ref()
            .and_then(|c| c.first())
            .map_or(0, KvCache::len);
        if d != self.cfg.d_model {
            candle_core::bail!(
                "language model: d_model {}, embeddings have {d}",
                self.cfg.d_model
            );
        }
        if offset + seq > self.cfg.max_seq {
            candle_core::bail!(
                "language model: {} positions exceed max_seq {}",
                offset + seq,
                self.cfg.max_seq
            );
        }
        let mut xs = embeds.clone();
        match caches {
            Some(caches) => {
                for (layer, cache) in self.layers.iter().zip(caches.iter_mut()) {
                    xs = layer.forward(&xs, &self.rotary, Some(cache))?;
                }
            }
            None => {
                for layer in &self.layers {
                    xs = layer.forward(&xs, &self.rotary, None)?;
                }
            }
        }
        self.norm.forward(&xs)?.broadcast_matmul(&self.embed.t()?)
    }

    /// Greedy decoding after a prompt. prefix_embeds: (1, seq, d_model) -> generated ids.
    /// Stops at `eos` (not included in the result), after `max_new_tokens` tokens, or when
    /// prompt + generated tokens fill max_seq positions. Uses a key/value cache.
    pub fn generate_greedy(
        &self,
        prefix_embeds: &Tensor,
        max_new_tokens: usize,
        eos: u32,
    ) -> Result<Vec<u32>> {
        let (b, seq, _) = prefix_embeds.dims3()?;
        if b != 1 || seq == 0 {
            candle_core::bail!("generate_greedy: expected a (1, seq > 0, d_model) prompt");
        }
        let mut caches = vec![KvCache::default(); self.layers.len()];
        greedy_decode(
            prefix_embeds,
            &self.embed,
            max_new_tokens,
            self.cfg.max_seq,
            eos,
            |input| self.forward_inner(input, Some(&mut caches)),
        )
    }
}

/// Mean cross-entropy over the masked positions.
/// logits: (batch, seq, vocab), targets: (batch, seq) u32, mask: (batch, seq) f32 (1 =
/// counts) -> scalar. Zero when the mask is empty.
pub fn masked_cross_entropy(logits: &Tensor, targets: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (b, s, _) = logits.dims3()?;
    if targets.dims2()? != (b, s) || mask.dims2()? != (b, s) {
        candle_core::bail!(
            "masked_cross_entropy: logits {:?}, targets {:?}, mask {:?}",
            logits.dims(),
            targets.dims(),
            mask.dims()
        );
    }
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_p.gather(&targets.unsqueeze(2)?, 2)?.squeeze(2)?;
    let n = mask.sum_all()?.to_scalar::<f32>()?.max(1.0);
    ((picked * mask)?.sum_all()? * (-1.0 / n as f64))?.to_dtype(DType::F32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn model(cfg: &LmConfig) -> Result<(VarMap, LanguageModel)> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let lm = LanguageModel::new(cfg, vb)?;
        Ok((varmap, lm))
    }

    fn tiny() -> LmConfig {
        LmConfig {
            vocab_size: 12,
            d_model: 32,
            n_layers: 2,
            n_heads: 2,
            d_ff: 64,
            max_seq: 16,
            ..Default::default()
        }
    }

    #[test]
    fn default_shapes_and_parameter_count() -> Result<()> {
        let cfg = LmConfig::default();
        let (varmap, lm) = model(&cfg)?;
        let ids = Tensor::new(&[[1u32, 5, 1023], [0, 2, 3]], &Device::Cpu)?;
        let emb = lm.embed_tokens(&ids)?;
        assert_eq!(emb.dims(), &[2, 3, 128]);
        assert_eq!(lm.forward_embeds(&emb)?.dims(), &[2, 3, 1024]);
        // embed 1024*128; per layer 2*128 + 128*384 + 128*128 + 3*128*384; final norm 128
        let want = 131_072 + 4 * (256 + 49_152 + 16_384 + 147_456) + 128;
        let got: usize = varmap.all_vars().iter().map(|v| v.elem_count()).sum();
        assert_eq!(
            got, want,
            "parameter count differs from the documented layout"
        );
        Ok(())
    }

    #[test]
    fn bad_inputs_are_errors() -> Result<()> {
        let (_vm, lm) = model(&tiny())?;
        let dev = Device::Cpu;
        assert!(
            lm.embed_tokens(&Tensor::new(&[[12u32]], &dev)?).is_err(),
            "id = vocab"
        );
        let long = Tensor::zeros((1, 17, 32), DType::F32, &dev)?;
        assert!(lm.forward_embeds(&long).is_err(), "longer than max_seq");
        let narrow = Tensor::zeros((1, 4, 31), DType::F32, &dev)?;
        assert!(lm.forward_embeds(&narrow).is_err(), "wrong d_model");
        assert!(lm
            .generate_greedy(&Tensor::zeros((2, 3, 32), DType::F32, &dev)?, 4, 0)
            .is_err());
        Ok(())
    }

    #[test]
    fn later_tokens_do_not_change_earlier_logits() -> Result<()> {
        let (_vm, lm) = model(&tiny())?;
        let dev = Device::Cpu;
        let a = lm.embed_tokens(&Tensor::new(&[[1u32, 2, 3, 4, 5, 6]], &dev)?)?;
        let b = lm.embed_tokens(&Tensor::new(&[[1u32, 2, 3, 9, 10, 11]], &dev)?)?;
        let la = lm.forward_embeds(&a)?.squeeze(0)?;
        let lb = lm.forward_embeds(&b)?.squeeze(0)?;
        let early = (la.narrow(0, 0, 3)? - lb.narrow(0, 0, 3)?)?
            .abs()?
            .max_keepdim(0)?;
        let early = early.max(1)?.to_vec1::<f32>()?[0];
        assert!(
            early < 1e-6,
            "position < 3 saw a later token (diff {early})"
        );
        let late = (la.get(3)? - lb.get(3)?)?
            .abs()?
            .max(0)?
            .to_scalar::<f32>()?;
        assert!(late > 1e-6, "position 3 ignores its own token");
        Ok(())
    }

    #[test]
    fn cached_generation_matches_recomputation_and_stops() -> Result<()> {
        let (_vm, lm) = model(&tiny())?;
        let dev = Device::Cpu;
        let prefix = lm.embed_tokens(&Tensor::new(&[[3u32, 1, 4, 1, 5]], &dev)?)?;
        // Reference: recompute the whole sequence for every new token.
        let mut seq = prefix.clone();
        let mut want = Vec::new();
        for _ in 0..8 {
            let logits = lm.forward_embeds(&seq)?;
            let n = seq.dims()[1];
            let next = logits.get(0)?.get(n - 1)?.argmax(0)?.to_scalar::<u32>()?;
            want.push(next);
            let e = lm.embed_tokens(&Tensor::new(&[[next]], &dev)?)?;
            seq = Tensor::cat(&[&seq, &e], 1)?;
        }
        let no_eos = u32::MAX;
        assert_eq!(
            lm.generate_greedy(&prefix, 8, no_eos)?,
            want,
            "KV cache changes decoding"
        );
        // Stops at eos (excluded) ...
        let eos = want[2];
        let first = want.iter().position(|&t| t == eos).unwrap();
        assert_eq!(lm.generate_greedy(&prefix, 8, eos)?, want[..first].to_vec());
        // ... at max_new_tokens ...
        assert_eq!(lm.generate_greedy(&prefix, 3, no_eos)?.len(), 3);
        // ... and at max_seq (16 positions: 5 prompt + 11 generated).
        assert_eq!(lm.generate_greedy(&prefix, 100, no_eos)?.len(), 11);
        Ok(())
    }

    #[test]
    fn masked_cross_entropy_matches_hand_value() -> Result<()> {
        let dev = Device::Cpu;
        // Two positions, vocab 2: logits (0, 0) -> ln 2; (ln 3, 0) target 0 -> ln(4/3).
        let logits = Tensor::new(&[[[0f32, 0.0], [3f32.ln(), 0.0], [5.0, -5.0]]], &dev)?;
        let targets = Tensor::new(&[[1u32, 0, 1]], &dev)?;
        let mask = Tensor::new(&[[1f32, 1.0, 0.0]], &dev)?;
        let got = masked_cross_entropy(&logits, &targets, &mask)?.to_scalar::<f32>()?;
        let want = (2f32.ln() + (4f32 / 3.0).ln()) / 2.0;
        assert!(
            (got - want).abs() < 1e-5,
            "{got} vs {want}: masked position counted?"
        );
        Ok(())
    }

    /// Copy task: `<bos> x1..x5 <sep> x1..x5`, loss on the copy only. Random guessing
    /// costs about ln 12 = 2.48 nats (12-token vocabulary); a model that learned to copy
    /// is far below.
    #[test]
    fn copy_task_loss_falls() -> Result<()> {
        let cfg = tiny();
        let (varmap, lm) = model(&cfg)?;
        let dev = Device::Cpu;
        let (bos, sep, n, batch) = (10u32, 11u32, 5usize, 32usize);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut opt = AdamW::new(
            varmap.all_vars(),
            ParamsAdamW {
                lr: 1e-2,
                weight_decay: 0.0,
                ..Default::default()
            },
        )?;
        let seq = 2 * n + 2;
        let mask_row: Vec<f32> = (0..seq)
            .map(|t| if t > n && t < seq - 1 { 1.0 } else { 0.0 })
            .collect();
        let mask = Tensor::new(mask_row.as_slice(), &dev)?
            .unsqueeze(0)?
            .repeat((batch, 1))?;
        let mut losses = Vec::new();
        for _ in 0..150 {
            let mut ids = Vec::with_capacity(batch * seq);
            for _ in 0..batch {
                let xs: Vec<u32> = (0..n).map(|_| rng.random_range(0..10)).collect();
                ids.push(bos);
                ids.extend(&xs);
                ids.push(sep);
                ids.extend(&xs);
            }
            let ids = Tensor::from_vec(ids, (batch, seq), &dev)?;
            let inputs = ids.narrow(1, 0, seq)?;
            let targets = Tensor::cat(&[ids.narrow(1, 1, seq - 1)?, ids.narrow(1, 0, 1)?], 1)?;
            let logits = lm.forward_embeds(&lm.embed_tokens(&inputs)?)?;
            let loss = masked_cross_entropy(&logits, &targets, &mask)?;
            opt.backward_step(&loss)?;
            losses.push(loss.to_scalar::<f32>()?);
        }
        let first = losses[0];
        let last = losses[losses.len() - 10..].iter().sum::<f32>() / 10.0;
        assert!(
            (first - 12f32.ln()).abs() < 0.2,
            "initial loss {first} is not near ln 12"
        );
        assert!(
            last < 0.5,
            "copy task loss only fell from {first} to {last}"
        );
        Ok(())
    }
}
