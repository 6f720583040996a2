//! Semantic core: the neural model parts that turn images and text into semantic tokens,
//! semantic tokens into channel symbols and back, trained with a differentiable channel
//! and no flowgraph.

pub mod backbone_gguf;
pub mod channel_codec;
pub mod channel_layer;
pub mod image_decoder;
pub mod kan;
pub mod language_model;
pub mod layers;
pub mod projector;
pub mod template;
pub mod tokenizer;
pub mod vision_encoder;

pub mod eval;
pub mod model;
pub mod model_config;
pub mod optim;
pub mod seeded_init;
#[cfg(test)]
mod shipped_weights_tests;
pub mod train;
pub mod train_batch;
#[cfg(test)]
mod train_option_tests;
#[cfg(test)]
mod train_tests;
