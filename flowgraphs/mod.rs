//! Flowgraphs: the wiring of blocks into the chains the command-line tool runs.
//! One file per flowgraph; every block lives under `src/blocks`.

pub mod loopback;
pub mod multiuser_loopback;
pub mod receive;
pub mod semantic_loopback;
pub mod transmit;

use crate::channel::ChannelError;
use crate::io::Cf32Error;
use futuresdr::runtime::scheduler::SmolScheduler;
use futuresdr::runtime::Runtime;

/// Why a flowgraph could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum FlowgraphError {
    #[error(transparent)]
    File(#[from] Cf32Error),
    #[error("channel model: {0}")]
    Channel(#[from] ChannelError),
    #[error("flowgraph runtime: {0}")]
    Runtime(#[from] futuresdr::runtime::Error),
}

/// A FutureSDR runtime for running one flowgraph to completion. Its remote control
/// port is disabled: these flowgraphs are batch jobs, several may run at once, and
/// none should open a network socket.
fn runtime() -> Runtime<SmolScheduler> {
    futuresdr::runtime::config::set("ctrlport_enable", "false");
    Runtime::new()
}
