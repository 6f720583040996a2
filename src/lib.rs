//! m4sc
pub mod blocks;
pub mod channel;
pub mod io;
pub mod phy;
