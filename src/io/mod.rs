//! Sample files: the IQ recordings the transmit and receive chains read and write.

pub mod cf32;
pub mod cf32_reader;

pub use cf32::{read_cf32, write_cf32, Cf32Error, CF32_BYTES_PER_SAMPLE};
pub use cf32_reader::Cf32BlockReader;
