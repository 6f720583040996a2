//! The classical system over a scenario: every distinct content item once, as one
//! 802.11a data frame at a fixed rate, within the airtime the semantic system spends
//! on that item; each user decodes what its own channel delivers and runs its task.
//!
//! - Budget: an item's airtime is that of the semantic frames of its tokens sent alone
//!   (`n_tokens * symbols_per_token` channel symbols, fragmented as the scenario says),
//!   so both systems use the same number of samples per item.
//! - Images: the best JPEG ([`best_fit`]) of the 64 x 64 picture the semantic system
//!   encodes, within the payload capacity left after the item header. Sentences: UTF-8.
//!   An item that does not fit at the rate is not sent: its users fail.
//! - Receivers: a frame with a failed FCS is lost (no partial JPEG). Reconstruction is
//!   the decoded picture; captioning, question answering and classification are the
//!   semantic model's own task on the decoded picture, its tokens passed through the
//!   channel codec without noise ([`clean_link_tokens`]), so only the transport
//!   differs; text delivery is the decoded sentence.

use super::airtime::{payload_capacity_bytes, semantic_frame_len};
use super::item_payload::{Item, ItemBody, JPEG_HEADER_BYTES, TEXT_HEADER_BYTES};
use super::jpeg::{best_fit, decode, JpegSettings};
use crate::blocks::{TransmitterConfig, TxFrame};
use crate::flowgraphs::multiuser_loopback::multiuser_loopback;
use crate::multiuser::run::{score_output, Score};
use crate::multiuser::scenario::{Content, Scenario};
use crate::multiuser::transmitter::Transmission;
use crate::multiuser::user_receiver::TaskOutput;
use crate::phy::fcs::append_fcs;
use crate::phy::rx::ReceiverConfig;
use crate::phy::{Rate, RxFrame};
use crate::semantic::model::{ReceivedTokens, SemanticModel};
use crate::semantic::template::{Instruction, Task};
use crate::semantic::tokenizer::BpeTokenizer;
use candle_core::{Device, Tensor};
use image::RgbImage;
use log::warn;
use std::collections::BTreeMap;

/// SNR estimate the channel decoder is given on the noiseless link, dB (the top of
/// the training range).
pub const CLEAN_LINK_SNR_DB: f32 = 25.0;

/// One distinct content item of a scenario.
#[derive(Debug, Clone)]
pub struct ClassicalItem {
    pub id: u8,
    /// Users who need it.
    pub users: Vec<usize>,
    pub airtime_samples: usize,
    pub capacity_bytes: Option<usize>,
    /// Payload bytes sent (header included); `None` when it did not fit.
    pub payload_bytes: Option<usize>,
    /// JPEG settings of an image item that fit.
    pub jpeg: Option<JpegSettings>,
}

/// One user's outcome.
#[derive(Debug, Clone)]
pub struct ClassicalUser {
    pub output: Result<TaskOutput, String>,
    pub score: Score,
}

/// A run of the classical system.
#[derive(Debug, Clone)]
pub struct ClassicalRun {
    pub rate: Rate,
    pub items: Vec<ClassicalItem>,
    pub users: Vec<ClassicalUser>,
    /// Samples on the air, gaps excluded.
    pub airtime_samples: usize,
}

/// Items of `scenario`: for each user, the index of its item; items in order of first
/// use, identified by image path or sentence.
pub fn item_of_user(scenario: &Scenario) -> (Vec<usize>, usize) {
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut of_user = Vec::with_capacity(scenario.users.len());
    for u in &scenario.users {
        let key = match &u.content {
            Content::Image(p) => format!("image:{}", p.display()),
            Content::Text(t) => format!("text:{t}"),
        };
        let next = ids.len();
        of_user.push(*ids.entry(key).or_insert(next));
    }
    (of_user, ids.len())
}

/// Samples the semantic system spends on `n_symbols` channel symbols sent alone.
pub fn semantic_airtime_samples(n_symbols: usize, max_symbols_per_frame: usize) -> usize {
    let max = max_symbols_per_frame.max(1);
    let full = n_symbols / max;
    let rest = n_symbols % max;
    full * semantic_frame_len(max)
        + if rest > 0 {
            semantic_frame_len(rest)
        } else {
            0
        }
}

/// (3, 64, 64) in [0, 1] -> 8-bit RGB.
pub fn tensor_to_rgb(image: &Tensor) -> anyhow::Result<RgbImage> {
    let (c, h, w) = image.dims3()?;
    anyhow::ensure!(
        c == 3,
        "expected an RGB image tensor, got {:?}",
        image.dims()
    );
    let v = image.flatten_all()?.to_vec1::<f32>()?;
    let plane = h * w;
    Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        let px = |k: usize| (v[k * plane + i].clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([px(0), px(1), px(2)])
    }))
}

/// 8-bit RGB -> (3, h, w) in [0, 1].
pub fn rgb_to_tensor(image: &RgbImage, device: &Device) -> anyhow::Result<Tensor> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut v = vec![0f32; 3 * w * h];
    for (x, y, p) in image.enumerate_pixels() {
        for k in 0..3 {
            v[k * w * h + y as usize * w + x as usize] = p.0[k] as f32 / 255.0;
        }
    }
    Ok(Tensor::from_vec(v, (3, h, w), device)?)
}

/// Image tokens as a perfect semantic link would deliver them: tokens (n, d_model)
/// through the channel encoder and decoder with no noise -> (n, d_model).
pub fn clean_link_tokens(model: &SemanticModel, tokens: &Tensor) -> anyhow::Result<Tensor> {
    let symbols = model.to_channel(&tokens.unsqueeze(0)?)?;
    let (_, n, spt, _) = symbols.dims4()?;
    let noise_var = Tensor::zeros((1, n, spt), symbols.dtype(), symbols.device())?;
    let snr = Tensor::new(&[CLEAN_LINK_SNR_DB], symbols.device())?;
    Ok(model.from_channel(&symbols, &noise_var, &snr)?.squeeze(0)?)
}

/// An item's data-frame payload (FCS excluded); `None` when it does not fit.
type Payload = Option<Vec<u8>>;

/// The payload of every item that fits at `rate`.
fn item_payloads(
    scenario: &Scenario,
    tx: &Transmission,
    spt: usize,
    rate: Rate,
) -> anyhow::Result<(Vec<ClassicalItem>, Vec<Payload>)> {
    let (of_user, n_items) = item_of_user(scenario);
    let mut items = Vec::with_capacity(n_items);
    let mut payloads = Vec::with_capacity(n_items);
    for id in 0..n_items {
        let users: Vec<usize> = (0..of_user.len()).filter(|&u| of_user[u] == id).collect();
        let first = users[0];
        let n_symbols = tx.tokens[first].dims2()?.0 * spt;
        let airtime = semantic_airtime_samples(n_symbols, scenario.max_symbols_per_frame);
        let capacity = payload_capacity_bytes(airtime, rate);
        let mut item = ClassicalItem {
            id: id as u8,
            users,
            airtime_samples: airtime,
            capacity_bytes: capacity,
            payload_bytes: None,
            jpeg: None,
        };
        let body = match (&scenario.users[first].content, &tx.images[first]) {
            (Content::Text(t), _) => capacity
                .filter(|&c| t.len() + TEXT_HEADER_BYTES <= c)
                .map(|_| ItemBody::Text(t.clone())),
            (Content::Image(_), Some(img)) => {
                let room = capacity.and_then(|c| c.checked_sub(JPEG_HEADER_BYTES));
                match room {
                    Some(room) => best_fit(&tensor_to_rgb(img)?, room)?.map(|(s, scan)| {
                        item.jpeg = Some(s);
                        ItemBody::Jpeg { settings: s, scan }
                    }),
                    None => None,
                }
            }
            (Content::Image(p), None) => {
                anyhow::bail!("{}: the transmitter kept no picture", p.display())
            }
        };
        let payload = body.map(|body| Item { id: id as u8, body }.to_bytes());
        item.payload_bytes = payload.as_ref().map(Vec::len);
        items.push(item);
        payloads.push(payload);
    }
    anyhow::ensure!(n_items <= 256, "{n_items} distinct items: at most 256");
    Ok((items, payloads))
}

/// Runs user `u`'s task on its decoded item.
fn run_task(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    scenario: &Scenario,
    u: usize,
    body: ItemBody,
) -> Result<TaskOutput, String> {
    let user = &scenario.users[u];
    let run = || -> anyhow::Result<TaskOutput> {
        match body {
            ItemBody::Text(t) => Ok(TaskOutput::Text(t)),
            ItemBody::Jpeg { settings, scan } => {
                let picture = rgb_to_tensor(&decode(&scan, settings)?, model.device())?;
                if user.task.name() == Task::RECONSTRUCT {
                    return Ok(TaskOutput::Image(picture));
                }
                let tokens = model.encode_image(&picture.unsqueeze(0)?)?.squeeze(0)?;
                let received = ReceivedTokens {
                    image: Some(clean_link_tokens(model, &tokens)?),
                    text: None,
                };
                let instruction = Instruction {
                    task: user.task.clone(),
                    question: user.question.clone(),
                    has_image: true,
                    has_text: false,
                };
                Ok(TaskOutput::Text(model.answer(
                    tokenizer,
                    &instruction,
                    &received,
                )?))
            }
        }
    };
    run().map_err(|e| format!("decoding failed: {e}"))
}

/// Sends every item of `scenario` that fits at `rate` through each user's channel (as
/// the scenario describes it) and scores each user's task. `tx` is the semantic
/// transmission of the same scenario: its pictures and token counts.
pub fn run_classical(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    scenario: &Scenario,
    tx: &Transmission,
    rate: Rate,
    tx_config: TransmitterConfig,
    rx_config: ReceiverConfig,
) -> anyhow::Result<ClassicalRun> {
    let spt = model.symbols_per_token();
    let (items, payloads) = item_payloads(scenario, tx, spt, rate)?;
    let frames: Vec<TxFrame> = payloads
        .iter()
        .flatten()
        .map(|p| TxFrame::Data {
            psdu: append_fcs(p),
            rate,
        })
        .collect();
    let airtime_samples = frames.iter().map(TxFrame::len_samples).sum();
    let channels: Vec<_> = scenario.users.iter().map(|u| u.channel.config()).collect();
    let outcome = multiuser_loopback(frames, tx_config, &channels, rx_config)?;
    let (of_user, _) = item_of_user(scenario);
    let mut users = Vec::with_capacity(scenario.users.len());
    for (u, reception) in outcome.users.iter().enumerate() {
        let item = &items[of_user[u]];
        let output = if item.payload_bytes.is_none() {
            Err(format!(
                "does not fit in {} samples at {rate}",
                item.airtime_samples
            ))
        } else {
            let mut found = None;
            let mut bad_payloads = 0;
            for f in &reception.received {
                if let RxFrame::Data(d) = f {
                    if !d.fcs_ok || d.psdu.len() < 4 {
                        continue;
                    }
                    match Item::from_bytes(&d.psdu[..d.psdu.len() - 4]) {
                        Ok(it) if it.id == item.id => found = Some(it.body),
                        Ok(_) => {}
                        Err(_) => bad_payloads += 1,
                    }
                }
            }
            if bad_payloads > 0 {
                warn!("user {u}: {bad_payloads} frames with a valid FCS but a bad payload");
            }
            match found {
                Some(body) => run_task(model, tokenizer, scenario, u, body),
                None => Err("frame lost".to_string()),
            }
        };
        let score = score_output(&scenario.users[u], &output, tx.images[u].as_ref())?;
        users.push(ClassicalUser { output, score });
    }
    Ok(ClassicalRun {
        rate,
        items,
        users,
        airtime_samples,
    })
}
