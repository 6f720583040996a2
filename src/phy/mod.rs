//! IEEE 802.11a OFDM physical layer (20 MHz) carrying two kinds of payload: bytes in
//! standard data frames, and complex channel symbols in semantic frames.

pub mod rate;
pub mod received;
pub mod rx;
pub mod semantic_header;
pub mod subcarriers;

pub use num_complex::Complex32;
pub use rate::{CodeRate, Modulation, Rate};
pub use received::{DataFrame, FrameInfo, RxFrame, RxStats, SemanticFrame};
pub use semantic_header::{SemanticHeader, StreamKind, BROADCAST};
