//! m4sc: multi-modal, multi-task, multi-user semantic communication over an IEEE 802.11a
//! OFDM radio built on FutureSDR.

pub mod channel;
pub mod io;
pub mod phy;
