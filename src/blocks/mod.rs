//! FutureSDR blocks of the radio: one block per file.

pub mod cf32_sink;
pub mod cf32_source;
pub mod channel_model;
pub mod frame_receiver;
pub mod frame_sink;
pub mod frame_transmitter;
pub mod tx_frame;

pub use cf32_sink::Cf32Sink;
pub use cf32_source::Cf32Source;
pub use channel_model::ChannelModel;
pub use frame_receiver::FrameReceiver;
pub use frame_sink::FrameSink;
pub use frame_transmitter::{FrameTransmitter, TransmitterConfig};
pub use tx_frame::{scrambler_seed_for, TxFrame};

/// Name of the stream tag marking the first preamble sample of each burst, set by
/// [`FrameTransmitter`] and read by [`ChannelModel`]. The tag is a
/// [`Tag::NamedUsize`](futuresdr::runtime::dev::Tag::NamedUsize) whose value is the
/// index of the frame among those sent.
pub const BURST_START_TAG: &str = "burst_start";
