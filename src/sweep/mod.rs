//! SNR sweeps of the semantic system against the classical baseline over one scenario:
//! both over the same PHY and channel simulator, with the same airtime per item.

pub mod point;
pub mod summary;

pub use point::{run_point, SweepRow, SweepSetup, SystemSpec};
pub use summary::{best_rate_rows, summarize, SystemSummary};
