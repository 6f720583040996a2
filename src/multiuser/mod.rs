//! Multi-user semantic communication: scenarios, semantic sharing into public and
//! private streams, semantic framing, per-user receivers and the end-to-end run.

pub mod symbol_interleaver;
pub mod sharing_map;
pub mod sharing;
pub mod framer;
pub mod deframer;
pub mod scenario;
