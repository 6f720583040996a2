//! Semantic framer: a message's channel symbols -> semantic frames.
//!
//! A message longer than `max_symbols_per_frame` is cut into fragments of at most that
//! many symbols (the last one shorter), numbered in the header's fragment index and
//! count; each fragment's symbols are interleaved over its frame's subcarriers and OFDM
//! symbols ([`symbol_interleaver`](super::symbol_interleaver)). The header's 4-bit
//! `kind` says how the receiver reads the message: bits 0-2 the [`MessageKind`], bit 3
//! ([`SEQUENTIAL_FLAG`]) set when the symbols ride in order, not interleaved (for the
//! interleaving ablation).

use super::symbol_interleaver::interleave;
use crate::blocks::TxFrame;
use crate::phy::subcarriers::N_DATA;
use crate::phy::tx::semantic_frame::MAX_PAYLOAD_OFDM_SYMBOLS;
use crate::phy::{SemanticHeader, StreamKind, BROADCAST};
use num_complex::Complex32;

/// Bit of the header's `kind` marking a frame whose symbols are not interleaved.
pub const SEQUENTIAL_FLAG: u8 = 0b1000;

/// How a message's symbols are laid out, sent in bits 0-2 of the header's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Private: every token of the user's content, in order.
    PrivateWhole = 0,
    /// Public: a whole-content sharing map, then every token of the content.
    PublicWhole = 1,
    /// Public: a partial sharing map, then the tokens at the positions it lists.
    PublicPartial = 2,
    /// Private: the tokens of the positions the user's public messages leave out, in
    /// increasing position order.
    PrivateRest = 3,
}

impl MessageKind {
    pub fn from_code(code: u8) -> Option<MessageKind> {
        match code {
            0 => Some(MessageKind::PrivateWhole),
            1 => Some(MessageKind::PublicWhole),
            2 => Some(MessageKind::PublicPartial),
            3 => Some(MessageKind::PrivateRest),
            _ => None,
        }
    }

    pub fn is_public(self) -> bool {
        matches!(self, MessageKind::PublicWhole | MessageKind::PublicPartial)
    }
}

/// A message ready for the air.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    pub kind: MessageKind,
    /// Destination user of a private message; ignored (broadcast) for a public one.
    pub destination: u8,
    /// Task code of the destination user (0 on public messages).
    pub task: u8,
    pub message_id: u16,
    /// Channel symbols, map first for public messages.
    pub symbols: Vec<Complex32>,
    /// Interleave each fragment's symbols (the default); off for the ablation.
    pub interleaved: bool,
}

/// Why a message could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("message {id}: {n} channel symbols need {frames} fragments, more than 255")]
    TooManyFragments { id: u16, n: usize, frames: usize },
    #[error("max symbols per frame must be 1..={max}, got {got}")]
    FrameSize { got: usize, max: usize },
    #[error("message {0} has no channel symbols")]
    Empty(u16),
    #[error("user {0} cannot be addressed: {BROADCAST} means broadcast")]
    Destination(u8),
}

/// Largest payload one semantic frame can hold, in channel symbols (limited by the
/// header's 16-bit symbol count and SIGNAL's LENGTH).
pub fn max_frame_symbols() -> usize {
    (MAX_PAYLOAD_OFDM_SYMBOLS * N_DATA).min(u16::MAX as usize)
}

/// Frames of `message`, fragments of at most `max_symbols_per_frame` symbols.
pub fn frame_message(
    message: &OutgoingMessage,
    max_symbols_per_frame: usize,
) -> Result<Vec<TxFrame>, FramingError> {
    if max_symbols_per_frame == 0 || max_symbols_per_frame > max_frame_symbols() {
        return Err(FramingError::FrameSize {
            got: max_symbols_per_frame,
            max: max_frame_symbols(),
        });
    }
    let n = message.symbols.len();
    if n == 0 {
        return Err(FramingError::Empty(message.message_id));
    }
    let count = n.div_ceil(max_symbols_per_frame);
    if count > 255 {
        return Err(FramingError::TooManyFragments {
            id: message.message_id,
            n,
            frames: count,
        });
    }
    let public = message.kind.is_public();
    if !public && message.destination == BROADCAST {
        return Err(FramingError::Destination(message.destination));
    }
    Ok(message
        .symbols
        .chunks(max_symbols_per_frame)
        .enumerate()
        .map(|(i, chunk)| TxFrame::Semantic {
            header: SemanticHeader {
                kind: message.kind as u8
                    | if message.interleaved {
                        0
                    } else {
                        SEQUENTIAL_FLAG
                    },
                stream: if public {
                    StreamKind::Public
                } else {
                    StreamKind::Private
                },
                destination: if public {
                    BROADCAST
                } else {
                    message.destination
                },
                task: message.task,
                message_id: message.message_id,
                fragment_index: i as u8,
                fragment_count: count as u8,
                n_symbols: chunk.len() as u16,
            },
            symbols: if message.interleaved {
                interleave(chunk)
            } else {
                chunk.to_vec()
            },
        })
        .collect())
}
