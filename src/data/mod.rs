//! Data sets and evaluation metrics of the semantic model.
//!
//! Raw sources (fetched once by `scripts/fetch_data.sh`): easy-VQA (`easy_vqa`), MNIST
//! (`mnist`), chatterbot-corpus sentences (`sentences`), plus generated scenes
//! (`scenes`). `prepare` turns them into the project format (`dataset`); `metrics`
//! scores model outputs.

pub mod dataset;
pub mod easy_vqa;
pub mod eval_subset;
pub mod image_io;
pub mod metrics;
pub mod mnist;
pub mod prepare;
pub mod scenes;
pub mod sentences;

pub use dataset::{Example, Split, SplitWriter};
pub use eval_subset::write_eval_subset;
pub use prepare::{prepare, PrepareOptions, Summary, TaskMix};
