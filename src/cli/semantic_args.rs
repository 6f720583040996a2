//! Semantic test frames to send alongside the data frames.

use clap::Args;
use m4sc::blocks::TxFrame;
use m4sc::traffic::{random_semantic_frames, semantic_seed};

/// Semantic frames of random QPSK channel symbols (see
/// `m4sc::traffic::random_semantic_frames`), sent after the data frames.
#[derive(Debug, Clone, Args)]
pub struct SemanticArgs {
    /// Number of semantic frames (public and private streams alternate).
    #[arg(long, default_value_t = 0)]
    pub semantic_frames: usize,
    /// Channel symbols per semantic frame (48 per OFDM symbol).
    #[arg(long, default_value_t = 480)]
    pub semantic_symbols: usize,
}

impl SemanticArgs {
    /// The frames, drawn from `semantic_seed(seed)`.
    pub fn frames(&self, seed: u64) -> anyhow::Result<Vec<TxFrame>> {
        Ok(random_semantic_frames(
            self.semantic_frames,
            self.semantic_symbols,
            semantic_seed(seed),
        )?)
    }
}
