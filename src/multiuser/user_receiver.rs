//! One user's semantic receiver, the mirror of the [transmitter](super::transmitter):
//! deframer (keep broadcast frames and the user's own, reassemble, de-interleave), the
//! sharing maps of public messages, the KAN channel decoder fed with each symbol's noise
//! variance and the user's SNR estimate, token assembly, then the user's task.
//!
//! A user gets its content's tokens from a whole message (public or private), or from
//! partial public messages plus a private rest. If anything is missing (a lost fragment,
//! a map that fails its CRC, a message for another task) the user's result is "not
//! delivered" with the reason; it is never filled from another user's message.

use super::deframer::{Deframer, ReceivedMessage};
use super::framer::MessageKind;
use super::scenario::{task_code, User};
use super::sharing_map::{Modality, SharingMap};
use crate::phy::RxFrame;
use crate::semantic::model::{ReceivedTokens, SemanticModel};
use crate::semantic::template::{Instruction, Task};
use crate::semantic::tokenizer::BpeTokenizer;
use candle_core::Tensor;
use log::{debug, warn};

/// What the task produced.
#[derive(Debug, Clone)]
pub enum TaskOutput {
    /// Reconstructed image, (3, 64, 64) in [0, 1].
    Image(Tensor),
    /// Caption, answer, class or sentence.
    Text(String),
}

/// The outcome of one user's receiver.
#[derive(Debug, Clone)]
pub struct UserResult {
    /// `Err(reason)` when the content was not delivered.
    pub output: Result<TaskOutput, String>,
    /// Mean of the SNR estimates of the frames used, dB (`None` when none).
    pub snr_db_estimate: Option<f32>,
    /// Frames kept (broadcast or addressed to the user).
    pub frames_kept: usize,
    /// Frames for other users.
    pub frames_ignored: usize,
    /// Kept frames dropped as inconsistent or repeated.
    pub frames_rejected: usize,
    /// Messages with missing fragments.
    pub incomplete_messages: usize,
    /// Public messages whose sharing map failed its check.
    pub map_errors: usize,
    /// Messages (public or private) whose tokens this user decoded.
    pub messages_used: usize,
    /// The assembled received tokens, (n, d_model), when complete.
    pub tokens: Option<Tensor>,
}

/// A piece of the user's content: where its tokens go and the tokens.
struct Piece {
    /// `None`: every position (a whole message) or the rest (a private rest).
    positions: Option<Vec<usize>>,
    n_positions: Option<usize>,
    rest: bool,
    message: ReceivedMessage,
    map_symbols: usize,
}

/// Runs user `user_index`'s receiver on everything its radio decoded.
pub fn receive_user(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    user_index: usize,
    user: &User,
    frames: &[RxFrame],
) -> anyhow::Result<UserResult> {
    let mut deframer = Deframer::new(user_index as u8);
    for f in frames {
        if let RxFrame::Semantic(s) = f {
            deframer.push(s);
        }
    }
    let out = deframer.finish();
    let mut result = UserResult {
        output: Err(String::new()),
        snr_db_estimate: None,
        frames_kept: out.frames_kept,
        frames_ignored: out.frames_ignored,
        frames_rejected: out.frames_rejected,
        incomplete_messages: out.incomplete.len(),
        map_errors: 0,
        messages_used: 0,
        tokens: None,
    };
    let modality = user.content.modality();
    let my_task = task_code(&user.task);
    let mut pieces = Vec::new();
    for m in out.messages {
        let piece = match m.kind {
            MessageKind::PublicWhole | MessageKind::PublicPartial => {
                let partial = m.kind == MessageKind::PublicPartial;
                let n_map = SharingMap::symbols_of(partial);
                if m.symbols.len() < n_map {
                    result.map_errors += 1;
                    continue;
                }
                let map =
                    match SharingMap::decode(&m.symbols[..n_map], &m.noise_var[..n_map], partial) {
                        Ok(map) => map,
                        Err(e) => {
                            warn!(
                                "user {}: public message {}: {e}",
                                user.name, m.header.message_id
                            );
                            result.map_errors += 1;
                            continue;
                        }
                    };
                if !map.has_member(user_index) {
                    debug!(
                        "user {}: public message {} serves other users",
                        user.name, m.header.message_id
                    );
                    continue;
                }
                if map.positions.is_some_and(|p| p.modality != modality) {
                    warn!("user {}: a shared message of the wrong modality", user.name);
                    result.map_errors += 1;
                    continue;
                }
                Piece {
                    positions: map.positions.map(|p| p.list()),
                    n_positions: map.positions.map(|p| p.n_positions),
                    rest: false,
                    message: m,
                    map_symbols: n_map,
                }
            }
            MessageKind::PrivateWhole | MessageKind::PrivateRest => {
                if Some(m.header.task) != my_task {
                    warn!(
                        "user {}: private message {} has task code {}, expected {:?}",
                        user.name, m.header.message_id, m.header.task, my_task
                    );
                    continue;
                }
                Piece {
                    positions: None,
                    n_positions: None,
                    rest: m.kind == MessageKind::PrivateRest,
                    message: m,
                    map_symbols: 0,
                }
            }
        };
        pieces.push(piece);
    }
    result.messages_used = pieces.len();
    if pieces.is_empty() {
        result.output = Err(format!(
            "not delivered: no message for this user arrived ({} incomplete)",
            result.incomplete_messages
        ));
        return Ok(result);
    }
    // The user's SNR estimate: mean over the frames of its messages, in linear power.
    let snrs: Vec<f32> = pieces
        .iter()
        .flat_map(|p| p.message.frame_snr_db.iter().copied())
        .collect();
    let mean_lin = snrs.iter().map(|s| 10f32.powf(s / 10.0)).sum::<f32>() / snrs.len() as f32;
    let snr_db = 10.0 * mean_lin.log10();
    result.snr_db_estimate = Some(snr_db);
    match assemble(model, &pieces, snr_db) {
        Ok(tokens) => {
            result.tokens = Some(tokens.clone());
            result.output = run_task(model, tokenizer, user, modality, tokens);
        }
        Err(reason) => {
            warn!("user {}: {reason}", user.name);
            result.output = Err(format!("not delivered: {reason}"));
        }
    }
    Ok(result)
}

/// Channel-decodes each piece and places its tokens: -> (n_positions, d_model).
fn assemble(model: &SemanticModel, pieces: &[Piece], snr_db: f32) -> Result<Tensor, String> {
    let spt = model.symbols_per_token();
    let mut decoded = Vec::with_capacity(pieces.len());
    for p in pieces {
        let sym = &p.message.symbols[p.map_symbols..];
        let nv = &p.message.noise_var[p.map_symbols..];
        if sym.is_empty() || sym.len() % spt != 0 {
            return Err(format!(
                "message {} carries {} symbols, not whole tokens",
                p.message.header.message_id,
                sym.len()
            ));
        }
        let n = sym.len() / spt;
        if p.positions.as_ref().is_some_and(|pos| pos.len() != n) {
            return Err(format!(
                "message {}: map lists other positions than the tokens carried",
                p.message.header.message_id
            ));
        }
        decoded.push(decode_tokens(model, sym, nv, snr_db).map_err(|e| e.to_string())?);
    }
    // Whole messages serve on their own.
    if let Some(i) = pieces.iter().position(|p| p.positions.is_none() && !p.rest) {
        return Ok(decoded.swap_remove(i));
    }
    let n_positions = pieces.iter().find_map(|p| p.n_positions).ok_or_else(|| {
        "only the private rest of the content arrived, its shared part is missing".to_string()
    })?;
    if pieces
        .iter()
        .any(|p| p.n_positions.is_some_and(|n| n != n_positions))
    {
        return Err("shared messages disagree on the content's length".into());
    }
    let mut rows: Vec<Option<Tensor>> = vec![None; n_positions];
    let mut rest = None;
    for (p, t) in pieces.iter().zip(decoded) {
        match &p.positions {
            Some(pos) => {
                for (k, &i) in pos.iter().enumerate() {
                    if rows[i].is_some() {
                        return Err(format!("token position {i} arrived twice"));
                    }
                    rows[i] = Some(t.get(k).map_err(|e| e.to_string())?);
                }
            }
            None => rest = Some(t),
        }
    }
    let missing: Vec<usize> = (0..n_positions).filter(|&i| rows[i].is_none()).collect();
    if let Some(rest) = rest {
        if rest.dim(0).map_err(|e| e.to_string())? != missing.len() {
            return Err(format!(
                "the private rest has {} tokens for {} open positions",
                rest.dim(0).unwrap_or(0),
                missing.len()
            ));
        }
        for (k, &i) in missing.iter().enumerate() {
            rows[i] = Some(rest.get(k).map_err(|e| e.to_string())?);
        }
    } else if !missing.is_empty() {
        return Err(format!("{} token positions never arrived", missing.len()));
    }
    let rows: Vec<Tensor> = rows.into_iter().flatten().collect();
    Tensor::stack(&rows, 0).map_err(|e| e.to_string())
}

/// KAN channel decoder on `n * spt` symbols: -> tokens (n, d_model).
fn decode_tokens(
    model: &SemanticModel,
    symbols: &[num_complex::Complex32],
    noise_var: &[f32],
    snr_db: f32,
) -> candle_core::Result<Tensor> {
    let spt = model.symbols_per_token();
    let n = symbols.len() / spt;
    let dev = model.device();
    let flat: Vec<f32> = symbols.iter().flat_map(|s| [s.re, s.im]).collect();
    let eq = Tensor::from_vec(flat, (1, n, spt, 2), dev)?;
    let nv = Tensor::from_vec(noise_var.to_vec(), (1, n, spt), dev)?;
    let snr = Tensor::new(&[snr_db], dev)?;
    model.from_channel(&eq, &nv, &snr)?.squeeze(0)
}

fn run_task(
    model: &SemanticModel,
    tokenizer: &BpeTokenizer,
    user: &User,
    modality: Modality,
    tokens: Tensor,
) -> Result<TaskOutput, String> {
    let run = || -> anyhow::Result<TaskOutput> {
        if user.task.name() == Task::RECONSTRUCT {
            let img = model.reconstruct_image(&tokens.unsqueeze(0)?)?.squeeze(0)?;
            return Ok(TaskOutput::Image(img));
        }
        let instruction = Instruction {
            task: user.task.clone(),
            question: user.question.clone(),
            has_image: modality == Modality::Image,
            has_text: modality == Modality::Text,
        };
        let received = match modality {
            Modality::Image => ReceivedTokens {
                image: Some(tokens),
                text: None,
            },
            Modality::Text => ReceivedTokens {
                image: None,
                text: Some(tokens),
            },
        };
        Ok(TaskOutput::Text(model.answer(
            tokenizer,
            &instruction,
            &received,
        )?))
    };
    run().map_err(|e| format!("task failed: {e}"))
}
