//! The multi-user semantic transmitter: every user's content through the semantic
//! encoder, semantic sharing into public and private messages, the KAN channel encoder,
//! and the semantic framer.
//!
//! Each message is channel-encoded on its own, so its symbols have unit average power;
//! a public message starts with its [sharing map](super::sharing_map). Public messages
//! go on the air first, then the private ones in user order. Users' instructions are not
//! sent (each receiver knows the task and question its user asked); private frames carry
//! the destination user's task code, public frames code 0.

use super::framer::{frame_message, MessageKind, OutgoingMessage};
use super::scenario::{task_code, Content, Scenario};
use super::sharing::{
    plan_sharing, PlannedMessage, SharingCosts, SharingPlan, UserTokens, FRAME_OVERHEAD_SYMBOLS,
};
use super::sharing_map::{SharedPositions, SharingMap};
use crate::blocks::TxFrame;
use crate::data::image_io::{image_to_tensor, load_image_64};
use crate::semantic::model::SemanticModel;
use crate::semantic::tokenizer::BpeTokenizer;
use anyhow::Context;
use candle_core::Tensor;
use num_complex::Complex32;

/// One message as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub message_id: u16,
    pub kind: MessageKind,
    /// Users it serves.
    pub members: Vec<usize>,
    /// Channel symbols, map included.
    pub n_symbols: usize,
    /// Channel symbols of its sharing map (0 for private messages).
    pub map_symbols: usize,
    pub n_frames: usize,
}

/// Everything the transmitter produced for one scenario.
pub struct Transmission {
    pub frames: Vec<TxFrame>,
    pub messages: Vec<SentMessage>,
    pub plan: SharingPlan,
    /// Each user's content as sent, (3, 64, 64) in [0, 1] for images.
    pub images: Vec<Option<Tensor>>,
    /// Semantic tokens of each user's content before the channel, (n, d_model).
    pub tokens: Vec<Tensor>,
    /// Channel symbols of serving every user on its own (one private message each).
    pub unshared_channel_symbols: usize,
    /// The same, per user.
    pub user_unshared_symbols: Vec<usize>,
}

impl Transmission {
    /// Total channel symbols on the air, maps included.
    pub fn total_channel_symbols(&self) -> usize {
        self.messages.iter().map(|m| m.n_symbols).sum()
    }
}

/// Encodes a user's content: image (3, 64, 64) when it is one, and tokens (n, d).
pub fn encode_content(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    content: &Content,
) -> anyhow::Result<(Option<Tensor>, Tensor)> {
    match content {
        Content::Image(path) => {
            let img = load_image_64(path)?;
            let t = image_to_tensor(&img, model.device())?;
            let tokens = model.encode_image(&t.unsqueeze(0)?)?.squeeze(0)?;
            Ok((Some(t), tokens))
        }
        Content::Text(text) => {
            let mut ids = tokenizer.encode(text);
            ids.truncate(model.config().max_text_tokens);
            if ids.is_empty() {
                ids.push(u32::from(b' '));
            }
            let ids = Tensor::new(ids, model.device())?.unsqueeze(0)?;
            Ok((None, model.encode_text(&ids)?.squeeze(0)?))
        }
    }
}

/// Content identity for sharing: the image file's bytes or the sentence.
fn content_key(content: &Content) -> anyhow::Result<String> {
    Ok(match content {
        Content::Image(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            // FNV-1a of the file: equal files give equal keys.
            let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            format!("image:{h:016x}:{}", bytes.len())
        }
        Content::Text(t) => format!("text:{t}"),
    })
}

/// Channel symbols of `tokens` (n, d_model) through the KAN channel encoder, token by
/// token, 16 (symbols per token) each.
pub fn channel_symbols(model: &SemanticModel, tokens: &Tensor) -> anyhow::Result<Vec<Complex32>> {
    let s = model.to_channel(&tokens.unsqueeze(0)?)?;
    let flat = s.flatten_all()?.to_vec1::<f32>()?;
    Ok(flat
        .chunks_exact(2)
        .map(|p| Complex32::new(p[0], p[1]))
        .collect())
}

fn map_of(m: &PlannedMessage) -> anyhow::Result<SharingMap> {
    let members = SharingMap::members_of(&m.members)?;
    let positions = (!m.is_whole()).then(|| SharedPositions {
        modality: m.modality,
        n_positions: m.n_positions,
        mask: m.positions.iter().fold(0u64, |acc, &i| acc | 1 << i),
    });
    Ok(SharingMap { members, positions })
}

/// Encodes, shares and frames the contents of `scenario`.
pub fn transmit(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    scenario: &Scenario,
) -> anyhow::Result<Transmission> {
    let mut images = Vec::new();
    let mut tokens = Vec::new();
    let mut users = Vec::new();
    for (i, u) in scenario.users.iter().enumerate() {
        let (img, t) = encode_content(model, tokenizer, &u.content)
            .with_context(|| format!("scenario {}: user {}", scenario.path.display(), u.name))?;
        // Without sharing, every user's content counts as its own.
        let key = match scenario.sharing {
            true => content_key(&u.content)?,
            false => format!("user:{i}"),
        };
        users.push(UserTokens {
            key,
            modality: u.content.modality(),
            tokens: t.to_vec2::<f32>()?,
        });
        images.push(img);
        tokens.push(t);
    }
    let spt = model.symbols_per_token();
    let user_unshared_symbols: Vec<usize> = users.iter().map(|u| u.tokens.len() * spt).collect();
    let unshared_channel_symbols = user_unshared_symbols.iter().sum();
    let threshold = match scenario.sharing {
        true => scenario.similarity_threshold,
        false => f32::INFINITY,
    };
    let costs = SharingCosts {
        frame_overhead_symbols: match scenario.sharing_counts_frames {
            true => FRAME_OVERHEAD_SYMBOLS,
            false => 0,
        },
        ..SharingCosts::with_maps(spt)
    };
    let plan = plan_sharing(&users, threshold, costs);
    let mut ordered: Vec<&PlannedMessage> = plan.messages.iter().filter(|m| m.public).collect();
    let mut private: Vec<&PlannedMessage> = plan.messages.iter().filter(|m| !m.public).collect();
    private.sort_by_key(|m| m.members[0]);
    ordered.extend(private);
    let mut frames = Vec::new();
    let mut messages = Vec::new();
    for (id, m) in ordered.into_iter().enumerate() {
        let message_id = u16::try_from(id).context("more than 65536 messages")?;
        let t = Tensor::new(m.tokens.clone(), model.device())?;
        let payload = channel_symbols(model, &t)?;
        let (kind, mut symbols, destination, task) = if m.public {
            let map = map_of(m)?;
            let kind = if m.is_whole() {
                MessageKind::PublicWhole
            } else {
                MessageKind::PublicPartial
            };
            (kind, map.encode()?, crate::phy::BROADCAST, 0)
        } else {
            let u = m.members[0];
            let kind = if m.is_whole() {
                MessageKind::PrivateWhole
            } else {
                MessageKind::PrivateRest
            };
            let code = task_code(&scenario.users[u].task).context("task without a code")?;
            (kind, Vec::new(), u as u8, code)
        };
        let map_symbols = symbols.len();
        symbols.extend(payload);
        let out = OutgoingMessage {
            kind,
            destination,
            task,
            message_id,
            symbols,
            interleaved: scenario.interleave_symbols,
        };
        let f = frame_message(&out, scenario.max_symbols_per_frame)?;
        messages.push(SentMessage {
            message_id,
            kind,
            members: m.members.clone(),
            n_symbols: out.symbols.len(),
            map_symbols,
            n_frames: f.len(),
        });
        frames.extend(f);
    }
    Ok(Transmission {
        frames,
        messages,
        plan,
        images,
        tokens,
        unshared_channel_symbols,
        user_unshared_symbols,
    })
}
