//! Flowgraphs: the wiring of blocks into the chains the command-line tool runs.
//! One file per flowgraph; every block lives under `src/blocks`.
//!
//! Each flowgraph adds its blocks downstream first and its sources last. FutureSDR
//! 0.0.40 initializes blocks in the order they were added and lets a block work as soon
//! as it is initialized; a block that is told its input ended before it received its
//! own initialization drops the notice and then waits forever. A source that finishes
//! quickly (a short file, a radio that is lost at once) could do that to a block added
//! after it. Added last, a source starts only after every block downstream has its
//! initialization queued ahead of any end-of-input notice.

pub mod loopback;
pub mod multiuser_loopback;
#[cfg(feature = "zeromq")]
pub mod network;
pub mod receive;
pub mod record;
pub mod replay;
pub mod semantic_loopback;
pub mod transmit;

use crate::channel::ChannelError;
use crate::io::{Cf32Error, SigmfError};
use futuresdr::runtime::scheduler::SmolScheduler;
use futuresdr::runtime::Runtime;

/// Why a flowgraph could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum FlowgraphError {
    #[error(transparent)]
    File(#[from] Cf32Error),
    #[error(transparent)]
    Recording(#[from] SigmfError),
    #[error("channel model: {0}")]
    Channel(#[from] ChannelError),
    #[error("flowgraph runtime: {0}")]
    Runtime(#[from] futuresdr::runtime::Error),
    /// A recording rate the 20 MHz stream cannot be resampled to.
    #[error("recording sample rate: {0}")]
    RecordingRate(String),
    /// A recording sink's writer was taken before the flowgraph could finish it.
    #[error("the recording's writer was already taken")]
    WriterTaken,
}

/// A FutureSDR runtime for running one flowgraph to completion. Its remote control
/// port is disabled: these flowgraphs are batch jobs, several may run at once, and
/// none should open a network socket.
fn runtime() -> Runtime<SmolScheduler> {
    futuresdr::runtime::config::set("ctrlport_enable", "false");
    Runtime::new()
}
