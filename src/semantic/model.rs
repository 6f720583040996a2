//! The multi-modal, multi-task semantic model: transmitter, channel and receiver.
//!
//! ```text
//! transmitter  image (b,3,64,64) -> vision encoder -> projector -> (b,16,d_model) --+
//!              text ids (b,n)    -> token embeddings          -> (b,n,d_model)  --+-> semantic tokens
//!              semantic tokens -> KAN channel encoder -> symbols (b,n,spt,2), unit power
//! channel      AWGN or Rayleigh + zero forcing (symbol level) -> equalized symbols, noise_var
//! receiver     KAN channel decoder -> received tokens (b,n,d_model)
//!              -> image decoder (reconstruct) -> (b,3,64,64)
//!              -> task template + language model (caption, vqa, classify, text) -> answer
//! ```
//!
//! The transmitter's text embedding table is the language model's (tied) table: both
//! ends share one vocabulary. Weight names: `vision_encoder.*`, `projector.*`,
//! `channel_encoder.*`, `channel_decoder.*`, `language_model.*`, `image_decoder.*`.
//!
//! Limits: answers are decoded greedily, one sequence at a time.

use super::channel_codec::{KanChannelDecoder, KanChannelEncoder};
use super::channel_layer::{ChannelKind, ChannelLayer};
use super::image_decoder::ImageDecoder;
use super::language_model::LanguageModel;
use super::model_config::{SemanticModelConfig, WeightPaths, WeightsError};
use super::projector::Projector;
use super::template::{fill_slots, render, Instruction, RenderedSequence, SlotKind};
use super::tokenizer::{BpeTokenizer, EOS_ID, PAD_ID};
use super::vision_encoder::VisionEncoder;
use candle_core::{bail, DType, Device, Result, Tensor, D};
use candle_nn::VarBuilder;
use rand::Rng;

/// Side of the square images the model takes and produces.
pub const IMAGE_SIZE: usize = 64;

/// The semantic tokens a receiver got for one message, one example (no batch axis).
#[derive(Debug, Clone, Default)]
pub struct ReceivedTokens {
    /// (16, d_model) when the message carried an image.
    pub image: Option<Tensor>,
    /// (n_text, d_model) when the message carried a sentence.
    pub text: Option<Tensor>,
}

/// One language-task training example, ready for the model.
#[derive(Debug, Clone)]
pub struct LmExample {
    /// Rendered prompt + answer.
    pub sequence: RenderedSequence,
    /// Received semantic tokens for the sequence's slots.
    pub received: ReceivedTokens,
    /// For tasks answered at the text slot: the sent token ids, one per text slot
    /// position, which the outputs at those positions are trained to predict.
    pub text_slot_targets: Option<Vec<u32>>,
}

/// The full semantic model.
pub struct SemanticModel {
    config: SemanticModelConfig,
    vision_encoder: VisionEncoder,
    projector: Projector,
    channel_encoder: KanChannelEncoder,
    channel_decoder: KanChannelDecoder,
    channel: ChannelLayer,
    language_model: LanguageModel,
    image_decoder: ImageDecoder,
    device: Device,
}

impl SemanticModel {
    /// Builds (or loads, depending on `vb`) every module of the model.
    pub fn new(config: &SemanticModelConfig, vb: VarBuilder) -> Result<Self> {
        config
            .check_consistency()
            .map_err(candle_core::Error::Msg)?;
        Ok(Self {
            config: config.clone(),
            vision_encoder: VisionEncoder::new(&config.vision_encoder, vb.pp("vision_encoder"))?,
            projector: Projector::new(&config.projector, vb.pp("projector"))?,
            channel_encoder: KanChannelEncoder::new(
                &config.channel_codec,
                vb.pp("channel_encoder"),
            )?,
            channel_decoder: KanChannelDecoder::new(
                &config.channel_codec,
                vb.pp("channel_decoder"),
            )?,
            channel: ChannelLayer::new(&config.channel)?,
            language_model: LanguageModel::new(&config.language_model, vb.pp("language_model"))?,
            image_decoder: ImageDecoder::new(&config.image_decoder, vb.pp("image_decoder"))?,
            device: vb.device().clone(),
        })
    }

    pub fn config(&self) -> &SemanticModelConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Complex channel symbols one semantic token costs.
    pub fn symbols_per_token(&self) -> usize {
        self.config.channel_codec.symbols_per_token
    }

    /// Transmitter, image path. images: (batch, 3, 64, 64) in [0, 1] ->
    /// semantic tokens (batch, 16, d_model).
    pub fn encode_image(&self, images: &Tensor) -> Result<Tensor> {
        self.projector.forward(&self.visual_features(images)?)
    }

    /// Transmitter, image path as trained: images (batch, 3, 64, 64) in [0, 1] ->
    /// (semantic tokens (batch, 16, d_model), the batch's mean token (16, d_model)
    /// detached). With a centring projector the tokens are centred on the batch and
    /// the mean is returned for the running mean; otherwise the tokens are
    /// [`Self::encode_image`]'s and there is no mean.
    pub fn encode_image_train(&self, images: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        self.projector.forward_train(&self.visual_features(images)?)
    }

    /// images: (batch, 3, 64, 64) -> vision encoder features (batch, 16, d_vision).
    fn visual_features(&self, images: &Tensor) -> Result<Tensor> {
        let (_, c, h, w) = images.dims4()?;
        if (c, h, w) != (3, IMAGE_SIZE, IMAGE_SIZE) {
            bail!(
                "encode_image: expected (batch, 3, {IMAGE_SIZE}, {IMAGE_SIZE}), got {:?}",
                images.dims()
            );
        }
        self.vision_encoder.forward(images)
    }

    /// Transmitter, text path. ids: (batch, n) u32 token ids -> (batch, n, d_model).
    pub fn encode_text(&self, ids: &Tensor) -> Result<Tensor> {
        ids.dims2()?;
        self.language_model.embed_tokens(ids)
    }

    /// KAN channel encoder. tokens: (batch, n, d_model) -> symbols
    /// (batch, n, symbols_per_token, 2) [re, im], unit average power per complex symbol
    /// over each message.
    pub fn to_channel(&self, tokens: &Tensor) -> Result<Tensor> {
        self.check_tokens(tokens, "to_channel")?;
        self.channel_encoder.forward(tokens)
    }

    /// The symbol-level channel. symbols: (batch, n, spt, 2), snr_db: (batch,) ->
    /// (equalized symbols (batch, n, spt, 2), noise_var (batch, n, spt)).
    pub fn transmit<R: Rng + ?Sized>(
        &self,
        symbols: &Tensor,
        snr_db: &Tensor,
        kind: ChannelKind,
        rng: &mut R,
    ) -> Result<(Tensor, Tensor)> {
        self.channel.forward(symbols, snr_db, kind, rng)
    }

    /// KAN channel decoder. symbols: (batch, n, spt, 2) equalized, noise_var:
    /// (batch, n, spt), snr_db: (batch,) receiver's SNR estimate -> tokens
    /// (batch, n, d_model).
    pub fn from_channel(
        &self,
        symbols: &Tensor,
        noise_var: &Tensor,
        snr_db: &Tensor,
    ) -> Result<Tensor> {
        self.channel_decoder.forward(symbols, noise_var, snr_db)
    }

    /// Encoder, channel and decoder in one call. tokens: (batch, n, d_model),
    /// snr_db: (batch,) -> received tokens (batch, n, d_model).
    pub fn through_channel<R: Rng + ?Sized>(
        &self,
        tokens: &Tensor,
        snr_db: &Tensor,
        kind: ChannelKind,
        rng: &mut R,
    ) -> Result<Tensor> {
        let symbols = self.to_channel(tokens)?;
        let (equalized, noise_var) = self.transmit(&symbols, snr_db, kind, rng)?;
        self.from_channel(&equalized, &noise_var, snr_db)
    }

    /// Like [`Self::through_channel`] with a channel model per example: examples are
    /// grouped by `kinds[i]`, each group goes through the channel layer once.
    /// tokens: (batch, n, d_model), snr_db and kinds: one per example ->
    /// received tokens (batch, n, d_model).
    pub fn through_mixed_channel<R: Rng + ?Sized>(
        &self,
        tokens: &Tensor,
        snr_db: &[f32],
        kinds: &[ChannelKind],
        rng: &mut R,
    ) -> Result<Tensor> {
        let batch = tokens.dim(0)?;
        if snr_db.len() != batch || kinds.len() != batch {
            bail!(
                "through_mixed_channel: {batch} examples but {} SNRs and {} channel kinds",
                snr_db.len(),
                kinds.len()
            );
        }
        let symbols = self.to_channel(tokens)?;
        let mut order = Vec::with_capacity(batch);
        let mut equalized = Vec::new();
        let mut noise_var = Vec::new();
        for kind in [ChannelKind::Awgn, ChannelKind::Rayleigh] {
            let rows: Vec<u32> = (0..batch as u32)
                .filter(|&i| kinds[i as usize] == kind)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let snr: Vec<f32> = rows.iter().map(|&i| snr_db[i as usize]).collect();
            let snr = Tensor::new(snr, &self.device)?;
            let idx = Tensor::new(rows.as_slice(), &self.device)?;
            let (eq, nv) = self.transmit(&symbols.index_select(&idx, 0)?, &snr, kind, rng)?;
            equalized.push(eq);
            noise_var.push(nv);
            order.extend(rows);
        }
        // Undo the grouping: row order[j] of the batch sits at position j.
        let mut inverse = vec![0u32; batch];
        for (j, &i) in order.iter().enumerate() {
            inverse[i as usize] = j as u32;
        }
        let inverse = Tensor::new(inverse, &self.device)?;
        let equalized = Tensor::cat(&equalized, 0)?.index_select(&inverse, 0)?;
        let noise_var = Tensor::cat(&noise_var, 0)?.index_select(&inverse, 0)?;
        let snr = Tensor::new(snr_db, &self.device)?;
        self.from_channel(&equalized, &noise_var, &snr)
    }

    /// Receiver, image path. tokens: (batch, 16, d_model) -> images (batch, 3, 64, 64)
    /// in [0, 1].
    pub fn reconstruct_image(&self, tokens: &Tensor) -> Result<Tensor> {
        self.check_tokens(tokens, "reconstruct_image")?;
        self.image_decoder.forward(tokens)
    }

    fn check_tokens(&self, tokens: &Tensor, who: &str) -> Result<()> {
        let (_, _, d) = tokens.dims3()?;
        if d != self.config.d_model {
            bail!(
                "{who}: expected tokens (batch, n, {}), got {:?}",
                self.config.d_model,
                tokens.dims()
            );
        }
        Ok(())
    }

    /// Input embeddings of one rendered sequence with its slots filled: ->
    /// (seq, d_model).
    fn sequence_embeds(
        &self,
        ids: &[u32],
        seq: &RenderedSequence,
        rx: &ReceivedTokens,
    ) -> Result<Tensor> {
        let ids = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let embeds = self.language_model.embed_tokens(&ids)?.squeeze(0)?;
        let mut sources = Vec::with_capacity(seq.slots.len());
        for slot in &seq.slots {
            let src = match slot.kind {
                SlotKind::Image => rx.image.as_ref(),
                SlotKind::Text => rx.text.as_ref(),
            };
            match src {
                Some(t) => sources.push(t),
                None => bail!(
                    "the instruction has a {:?} slot but no such tokens were received",
                    slot.kind
                ),
            }
        }
        fill_slots(&embeds, &seq.slots, &sources)
    }

    /// Teacher-forced language loss of a batch of examples.
    ///
    /// Returns per example the summed next-token cross-entropy over the answer tokens
    /// (and final `<eos>`), plus, where `text_slot_targets` is given, the cross-entropy
    /// of each text slot position's output against the token sent there, (batch,), and
    /// the number of those terms, (batch,) f32.
    pub fn answer_nll(&self, examples: &[LmExample]) -> Result<(Tensor, Tensor)> {
        if examples.is_empty() {
            bail!("answer_nll: empty batch");
        }
        let max_seq = self.config.language_model.max_seq;
        let len = examples.iter().map(|e| e.sequence.len()).max().unwrap_or(0);
        if len > max_seq {
            bail!("answer_nll: a sequence of {len} tokens exceeds max_seq {max_seq}");
        }
        let mut rows = Vec::with_capacity(examples.len());
        let mut targets = Vec::with_capacity(examples.len() * len);
        let mut mask = Vec::with_capacity(examples.len() * len);
        for ex in examples {
            let mut ids = ex.sequence.ids.clone();
            ids.resize(len, PAD_ID);
            rows.push(self.sequence_embeds(&ids, &ex.sequence, &ex.received)?);
            let (mut t, mut m) = ex.sequence.next_token_targets();
            if let Some(sent) = &ex.text_slot_targets {
                let slot = text_slot(&ex.sequence)?;
                if sent.len() != slot.len {
                    bail!(
                        "answer_nll: {} text slot targets for a slot of {}",
                        sent.len(),
                        slot.len
                    );
                }
                t[slot.start..slot.start + slot.len].copy_from_slice(sent);
                m[slot.start..slot.start + slot.len].fill(1.0);
            }
            t.resize(len, PAD_ID);
            m.resize(len, 0.0);
            targets.extend(t);
            mask.extend(m);
        }
        let b = examples.len();
        let embeds = Tensor::stack(&rows, 0)?;
        let logits = self.language_model.forward_embeds(&embeds)?;
        let log_probs = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?;
        let targets = Tensor::from_vec(targets, (b, len, 1), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, len), &self.device)?;
        let picked = log_probs.gather(&targets, D::Minus1)?.squeeze(D::Minus1)?;
        let nll = (picked.neg()? * &mask)?.sum(1)?;
        Ok((nll, mask.sum(1)?))
    }

    /// Greedy answer of the language model to `instruction` given received tokens.
    /// Stops at `<eos>` or after `max_answer_tokens` tokens.
    pub fn answer(
        &self,
        tokenizer: &BpeTokenizer,
        instruction: &Instruction,
        received: &ReceivedTokens,
    ) -> anyhow::Result<String> {
        let n_text = match &received.text {
            Some(t) => t.dims2()?.0,
            None => 0,
        };
        let prompt = render(tokenizer, instruction, n_text, None)?;
        let embeds = self
            .sequence_embeds(&prompt.ids, &prompt, received)?
            .unsqueeze(0)?;
        if instruction.task.answers_at_text_slot() {
            let slot = text_slot(&prompt)?;
            let logits = self.language_model.forward_embeds(&embeds)?;
            let ids: Vec<u32> = logits
                .squeeze(0)?
                .narrow(0, slot.start, slot.len)?
                .argmax(D::Minus1)?
                .to_vec1()?;
            return Ok(tokenizer.decode(&ids).trim().to_string());
        }
        let answer =
            self.language_model
                .generate_greedy(&embeds, self.config.max_answer_tokens, EOS_ID)?;
        Ok(tokenizer.decode(&answer).trim().to_string())
    }
}

/// The text slot of a rendered sequence (an error if it has none).
fn text_slot(seq: &RenderedSequence) -> Result<super::template::Slot> {
    match seq.slots.iter().find(|s| s.kind == SlotKind::Text) {
        Some(s) => Ok(*s),
        None => bail!("the task is answered at the text slot but the sequence has none"),
    }
}

impl SemanticModel {
    /// Loads a trained model and its tokenizer from a weight directory
    /// (`config.json`, `model.safetensors`, `tokenizer.json`). Nothing is downloaded;
    /// a missing or malformed file is an error naming its path.
    pub fn load(
        dir: &std::path::Path,
        device: &Device,
    ) -> std::result::Result<(Self, BpeTokenizer), WeightsError> {
        let paths = WeightPaths::existing(dir)?;
        let config = SemanticModelConfig::load(&paths.config)?;
        let tokenizer =
            BpeTokenizer::load(&paths.tokenizer).map_err(|e| WeightsError::Malformed {
                what: "tokenizer file",
                path: paths.tokenizer.clone(),
                message: e.to_string(),
            })?;
        let malformed = |e: candle_core::Error| WeightsError::Malformed {
            what: "weights file",
            path: paths.weights.clone(),
            message: e.to_string(),
        };
        let tensors = candle_core::safetensors::load(&paths.weights, device).map_err(malformed)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let model = Self::new(&config, vb).map_err(malformed)?;
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(WeightsError::Malformed {
                what: "tokenizer file",
                path: paths.tokenizer,
                message: format!(
                    "{} tokens, more than the model's vocabulary of {}",
                    tokenizer.vocab_size(),
                    config.vocab_size
                ),
            });
        }
        Ok((model, tokenizer))
    }
}
