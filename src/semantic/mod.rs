//! Semantic model: neural parts that turn images and text into channel symbols and back.

pub mod channel_codec;
pub mod channel_layer;
pub mod image_decoder;
pub mod kan;
pub mod projector;
