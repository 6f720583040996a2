//! m4sc: multi-modal, multi-task, multi-user semantic communication over an IEEE 802.11a
//! OFDM radio built on FutureSDR.

pub mod baseline;
pub mod blocks;
pub mod channel;
pub mod data;
pub mod io;
pub mod link_metrics;
pub mod multiuser;
pub mod phy;
pub mod plot;
pub mod radio;
pub mod resample;
pub mod semantic;
pub mod sweep;
pub mod traffic;

#[path = "../flowgraphs/mod.rs"]
pub mod flowgraphs;
