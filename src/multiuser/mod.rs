//! Multi-user semantic communication: scenarios, semantic sharing into public and
//! private streams, semantic framing, per-user receivers and the end-to-end run.

pub mod deframer;
pub mod framer;
pub mod outputs;
pub mod run;
pub mod scenario;
pub mod sharing;
pub mod sharing_map;
pub mod symbol_interleaver;
pub mod transmitter;
pub mod user_receiver;
