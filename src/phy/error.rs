//! Errors of the transmit path.

use super::semantic_header::HeaderError;
use thiserror::Error;

/// Why a frame could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TxError {
    #[error("PSDU of {len} bytes: expected 1 to 4095 bytes")]
    PsduLength { len: usize },
    #[error("scrambler seed {seed:#04x}: expected a nonzero 7-bit value")]
    ScramblerSeed { seed: u8 },
    #[error("semantic header announces {header} channel symbols, {got} given")]
    SymbolCountMismatch { header: usize, got: usize },
    #[error("{n_ofdm_symbols} payload OFDM symbols exceed the limit of {max}")]
    TooManySymbols { n_ofdm_symbols: usize, max: usize },
    #[error("channel symbol {index} is not finite ({value})")]
    NonFiniteSymbol {
        index: usize,
        value: num_complex::Complex32,
    },
    #[error("invalid semantic header: {0}")]
    Header(#[from] HeaderError),
}
