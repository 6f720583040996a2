//! Sample files: the IQ recordings the transmit and receive chains read and write, as
//! raw `.cf32` or as SigMF recordings (`.sigmf-meta` + `.sigmf-data`).

pub mod cf32;
pub mod cf32_reader;
pub mod sample_format;
pub mod sigmf_annotation;
pub mod sigmf_error;
pub mod sigmf_match;
pub mod sigmf_meta;
pub mod sigmf_paths;
pub mod sigmf_reader;
pub mod sigmf_resampled;
#[cfg(test)]
mod sigmf_tests;
pub mod sigmf_writer;
pub mod utc_datetime;

pub use cf32::{read_cf32, write_cf32, Cf32Error, CF32_BYTES_PER_SAMPLE};
pub use cf32_reader::Cf32BlockReader;
pub use sample_format::SampleFormat;
pub use sigmf_error::SigmfError;
pub use sigmf_meta::{Annotation, SigmfMeta};
pub use sigmf_paths::{is_sigmf_path, SigmfPaths};
pub use sigmf_reader::{read_sigmf, SigmfReader};
pub use sigmf_resampled::{read_sigmf_at, ResampledReader, PHY_SAMPLE_RATE_HZ};
pub use sigmf_writer::{write_sigmf, RecordingInfo, SigmfWriter};
