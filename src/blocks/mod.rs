//! tmp
pub mod cf32_sink;
pub mod cf32_source;
pub mod channel_model;
pub use cf32_sink::Cf32Sink;
pub use cf32_source::Cf32Source;
pub use channel_model::ChannelModel;
pub const BURST_START_TAG: &str = "burst_start";
