//! Semantic frames: a header and complex channel symbols over the legacy preamble.
//!
//! Layout: STF (160 samples) + LTF (160) + SIGNAL (80; RATE =
//! [`SEMANTIC_RATE_FIELD`], LENGTH = number of OFDM symbols after SIGNAL) + 4 header
//! symbols + `ceil(n / 48)` payload symbols, 80 samples each. The header's 96 field bits
//! ([`SemanticHeader::field_bits`]) are encoded at rate 1/2 like SIGNAL (not scrambled),
//! split into four 48-bit blocks, each interleaved with the 48-bit BPSK interleaver and
//! BPSK mapped. Payload channel symbol `i` is placed as it is on data subcarrier
//! `DATA_SUBCARRIERS[i % 48]` of payload symbol `i / 48`; the last symbol is zero padded.
//! All symbols carry the standard pilots, with polarity index 0 for SIGNAL, 1..=4 for the
//! header and 5, 6, ... for the payload.
//!
//! A legacy 802.11a receiver rejects the frame at SIGNAL because the RATE code is
//! reserved.

use super::{push_preamble_and_signal, OfdmModulator, PREAMBLE_LEN};
use crate::phy::constellation::map_bits;
use crate::phy::convolutional::conv_encode;
use crate::phy::error::TxError;
use crate::phy::interleaver::{interleave, interleaver_permutation};
use crate::phy::rate::Modulation;
use crate::phy::semantic_header::{SemanticHeader, HEADER_OFDM_SYMBOLS, SEMANTIC_RATE_FIELD};
use crate::phy::signal_field::{Signal, MAX_LENGTH};
use crate::phy::subcarriers::{N_DATA, SYMBOL_LEN};
use num_complex::Complex32;

/// Most payload OFDM symbols a frame can carry: LENGTH (12 bits) counts them together
/// with the four header symbols.
pub const MAX_PAYLOAD_OFDM_SYMBOLS: usize = MAX_LENGTH as usize - HEADER_OFDM_SYMBOLS;

/// Pilot polarity index of the first payload OFDM symbol.
pub const FIRST_PAYLOAD_PILOT_INDEX: usize = 1 + HEADER_OFDM_SYMBOLS;

/// Payload OFDM symbols needed for `n_symbols` channel symbols: `ceil(n / 48)`.
pub fn payload_ofdm_symbols(n_symbols: usize) -> usize {
    n_symbols.div_ceil(N_DATA)
}

/// Total samples of a semantic frame carrying `n_symbols` channel symbols.
pub fn semantic_frame_len(n_symbols: usize) -> usize {
    PREAMBLE_LEN + SYMBOL_LEN * (1 + HEADER_OFDM_SYMBOLS + payload_ofdm_symbols(n_symbols))
}

/// The SIGNAL field of a semantic frame carrying `n_symbols` channel symbols.
/// LENGTH is taken modulo 4096; [`encode_semantic_frame`] rejects counts that overflow.
pub fn semantic_signal(n_symbols: usize) -> Signal {
    let length = (HEADER_OFDM_SYMBOLS + payload_ofdm_symbols(n_symbols)) & 0x0fff;
    Signal {
        rate_field: SEMANTIC_RATE_FIELD,
        length: length as u16,
    }
}

/// The 48 BPSK data subcarrier values of each of the four header OFDM symbols.
pub fn header_data_symbols(header: &SemanticHeader) -> [[Complex32; N_DATA]; HEADER_OFDM_SYMBOLS] {
    let coded = conv_encode(&header.field_bits());
    let perm = interleaver_permutation(N_DATA, 1);
    let mut out = [[Complex32::default(); N_DATA]; HEADER_OFDM_SYMBOLS];
    for (sym, block) in out.iter_mut().zip(coded.chunks_exact(N_DATA)) {
        let mut points = Vec::with_capacity(N_DATA);
        map_bits(&interleave(block, &perm), Modulation::Bpsk, &mut points);
        sym.copy_from_slice(&points);
    }
    out
}

/// Build the time-domain samples of a semantic frame.
///
/// `symbols` are the channel symbols (any scale; unit average power matches the
/// preamble and pilots); `header.n_symbols` must equal `symbols.len()`, every value must
/// be finite, the header fields must be valid and the payload must fit in
/// [`MAX_PAYLOAD_OFDM_SYMBOLS`]. Returns [`semantic_frame_len`]`(symbols.len())` samples.
pub fn encode_semantic_frame(
    header: &SemanticHeader,
    symbols: &[Complex32],
) -> Result<Vec<Complex32>, TxError> {
    header.validate()?;
    if header.n_symbols as usize != symbols.len() {
        return Err(TxError::SymbolCountMismatch {
            header: header.n_symbols as usize,
            got: symbols.len(),
        });
    }
    let n_payload = payload_ofdm_symbols(symbols.len());
    if n_payload > MAX_PAYLOAD_OFDM_SYMBOLS {
        return Err(TxError::TooManySymbols {
            n_ofdm_symbols: n_payload,
            max: MAX_PAYLOAD_OFDM_SYMBOLS,
        });
    }
    if let Some((index, &value)) = symbols
        .iter()
        .enumerate()
        .find(|(_, s)| !(s.re.is_finite() && s.im.is_finite()))
    {
        return Err(TxError::NonFiniteSymbol { index, value });
    }

    let mut out = Vec::with_capacity(semantic_frame_len(symbols.len()));
    let mut modulator = OfdmModulator::new();
    push_preamble_and_signal(&mut modulator, &semantic_signal(symbols.len()), &mut out);
    for (i, sym) in header_data_symbols(header).iter().enumerate() {
        modulator.modulate(sym, 1 + i, &mut out);
    }
    for (m, chunk) in symbols.chunks(N_DATA).enumerate() {
        let mut data = [Complex32::default(); N_DATA];
        data[..chunk.len()].copy_from_slice(chunk);
        modulator.modulate(&data, FIRST_PAYLOAD_PILOT_INDEX + m, &mut out);
    }
    log::debug!(
        "semantic frame: message {} fragment {}/{}, {} channel symbols, {} samples",
        header.message_id,
        header.fragment_index,
        header.fragment_count,
        symbols.len(),
        out.len()
    );
    Ok(out)
}
