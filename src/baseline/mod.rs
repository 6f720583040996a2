//! The classical baseline: separate source and channel coding over the same 802.11a
//! PHY. Images go as JPEG (sized to the airtime the semantic system spends on them),
//! sentences as UTF-8, each item in one standard data frame; the receiver runs the
//! task on whatever arrives with a valid FCS.

pub mod airtime;
pub mod classical;
pub mod item_payload;
pub mod jpeg;
