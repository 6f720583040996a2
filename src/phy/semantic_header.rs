//! Header of a semantic frame: what the PHY knows about a burst of channel symbols.
//!
//! A semantic frame shares the 802.11a preamble, then carries a SIGNAL symbol whose RATE
//! field holds [`SEMANTIC_RATE_FIELD`], a reserved code (R4 = 0) that a legacy receiver
//! rejects, then this header (coded like SIGNAL: BPSK, rate 1/2), then OFDM symbols whose
//! 48 data subcarriers carry the channel symbols as they are.

/// RATE field (R1 in bit 0) that marks a semantic frame: R1..R4 = 0100, a code reserved
/// in IEEE 802.11-2016 Table 17-6, so legacy receivers drop the frame at SIGNAL.
pub const SEMANTIC_RATE_FIELD: u8 = 0b0010;

/// User address of a broadcast (public) frame.
pub const BROADCAST: u8 = 0xff;

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StreamKind {
    /// Semantics several users need, sent once.
    Public,
    /// Semantics for one user.
    Private,
}

/// Fields of the semantic frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SemanticHeader {
    /// Payload kind, 4 bits (0: channel symbols of a semantic message).
    pub kind: u8,
    /// Public or private stream.
    pub stream: StreamKind,
    /// Destination user id, or [`BROADCAST`].
    pub destination: u8,
    /// Task code from the instruction template.
    pub task: u8,
    /// Message this frame is a fragment of.
    pub message_id: u16,
    /// Index of this fragment within the message.
    pub fragment_index: u8,
    /// Number of fragments in the message (at least 1).
    pub fragment_count: u8,
    /// Number of complex channel symbols in this frame's payload.
    pub n_symbols: u16,
}
