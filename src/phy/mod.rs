//! IEEE 802.11a OFDM physical layer (20 MHz) carrying two kinds of payload: bytes in
//! standard data frames, and complex channel symbols in semantic frames.

#[cfg(test)]
pub mod annex_i;
pub mod constellation;
pub mod convolutional;
pub mod error;
pub mod fcs;
pub mod interleaver;
pub mod pilots;
pub mod preamble;
pub mod rate;
pub mod received;
pub mod rx;
pub mod scrambler;
pub mod semantic_header;
pub mod signal_field;
pub mod subcarriers;
pub mod tx;

pub use error::TxError;
pub use num_complex::Complex32;
pub use rate::{CodeRate, Modulation, Rate};
pub use received::{DataFrame, FrameInfo, RxFrame, RxStats, SemanticFrame};
pub use semantic_header::{HeaderError, SemanticHeader, StreamKind, BROADCAST};
pub use signal_field::{Signal, SignalError};
