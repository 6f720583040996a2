//! FutureSDR blocks of the radio: one block per file.

pub mod cf32_sink;
pub mod cf32_source;
pub mod channel_model;
pub mod device_sink;
pub mod device_source;
pub mod frame_receiver;
pub mod frame_sink;
pub mod frame_transmitter;
pub mod resampler;
pub mod semantic_user_receiver;
pub mod sigmf_sink;
pub mod sigmf_source;
pub mod tx_frame;
#[cfg(feature = "zeromq")]
pub mod zmq_pub_sink;
#[cfg(feature = "zeromq")]
pub mod zmq_sub_source;

pub use cf32_sink::Cf32Sink;
pub use cf32_source::Cf32Source;
pub use channel_model::ChannelModel;
pub use device_sink::DeviceSink;
pub use device_source::DeviceSource;
pub use frame_receiver::FrameReceiver;
pub use frame_sink::FrameSink;
pub use frame_transmitter::{FrameTransmitter, TransmitterConfig};
pub use resampler::Resampler;
pub use semantic_user_receiver::SemanticUserReceiver;
pub use sigmf_sink::SigmfSink;
pub use sigmf_source::SigmfSource;
pub use tx_frame::{scrambler_seed_for, TxFrame};
#[cfg(feature = "zeromq")]
pub use zmq_pub_sink::ZmqPubSink;
#[cfg(feature = "zeromq")]
pub use zmq_sub_source::ZmqSubSource;

/// Name of the stream tag marking the first preamble sample of each burst, set by
/// [`FrameTransmitter`] and read by [`ChannelModel`]. The tag is a
/// [`Tag::NamedUsize`](futuresdr::runtime::dev::Tag::NamedUsize) whose value is the
/// index of the frame among those sent.
pub const BURST_START_TAG: &str = "burst_start";

/// Capacity, in samples, the sample-stream blocks ask of the buffers they read: 512 Ki
/// samples (4 MiB). FutureSDR's default of 32 KiB makes neighbouring blocks trade a few
/// thousand samples at a time, and the buffers' locks then cost about twenty times the
/// signal processing; from about 1 MiB up the chain runs at the speed of its kernels.
pub const STREAM_BUFFER_SAMPLES: usize = 1 << 19;

/// An input buffer of the default kind that holds at least [`STREAM_BUFFER_SAMPLES`].
fn large_input<I: futuresdr::runtime::buffer::CpuBufferReader>() -> I {
    let mut input = I::default();
    input.set_min_buffer_size_in_items(STREAM_BUFFER_SAMPLES);
    input
}
