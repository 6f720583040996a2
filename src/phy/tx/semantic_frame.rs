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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::convolutional::{G0, G1};
    use crate::phy::interleaver::deinterleave;
    use crate::phy::pilots::pilot_values;
    use crate::phy::rate::Rate;
    use crate::phy::semantic_header::{StreamKind, HEADER_BITS, HEADER_FIELD_BITS};
    use crate::phy::subcarriers::{fft_bin, CP_LEN, DATA_SUBCARRIERS, FFT_LEN, PILOT_SUBCARRIERS};

    fn header(n_symbols: u16) -> SemanticHeader {
        SemanticHeader {
            kind: 0,
            stream: StreamKind::Public,
            destination: crate::phy::semantic_header::BROADCAST,
            task: 3,
            message_id: 77,
            fragment_index: 0,
            fragment_count: 1,
            n_symbols,
        }
    }

    fn channel_symbols(n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let t = i as f32 * 0.7;
                Complex32::new(t.cos() * 1.3, (1.9 * t).sin() * 0.8)
            })
            .collect()
    }

    /// FFT bins of OFDM symbol `index` (0 = SIGNAL) of a frame, rescaled so that they
    /// equal the transmitted subcarrier values.
    fn demodulate(frame: &[Complex32], index: usize) -> Vec<Complex32> {
        let start = PREAMBLE_LEN + index * SYMBOL_LEN + CP_LEN;
        let mut y = frame[start..start + FFT_LEN].to_vec();
        rustfft::FftPlanner::new()
            .plan_fft_forward(FFT_LEN)
            .process(&mut y);
        let g = 52f32.sqrt() / FFT_LEN as f32;
        y.iter().map(|&v| v * g).collect()
    }

    /// Whether the pilots of `bins` are those of polarity index `pilot_index`.
    fn pilots_match(bins: &[Complex32], pilot_index: usize) -> bool {
        let p = pilot_values(pilot_index);
        PILOT_SUBCARRIERS
            .iter()
            .zip(p)
            .all(|(&k, v)| (bins[fft_bin(k)] - Complex32::new(v, 0.0)).norm() < 1e-5)
    }

    /// Hard BPSK decisions on the data subcarriers, deinterleaved (N_CBPS = 48).
    fn bpsk_coded_bits(bins: &[Complex32]) -> Vec<u8> {
        let hard: Vec<u8> = DATA_SUBCARRIERS
            .iter()
            .map(|&k| (bins[fft_bin(k)].re > 0.0) as u8)
            .collect();
        deinterleave(&hard, &interleaver_permutation(N_DATA, 1))
    }

    /// Noise-free inverse of the rate-1/2 code: A_n = b_n XOR (earlier bits on the g0
    /// taps) gives b_n; B_n must then agree, otherwise the sequence is not a codeword.
    fn invert_code(coded: &[u8]) -> Option<Vec<u8>> {
        let mut bits: Vec<u8> = Vec::new();
        let mut reg = 0u8;
        for pair in coded.chunks_exact(2) {
            let prior = ((reg >> 1) & G0).count_ones() as u8 & 1;
            let b = pair[0] ^ prior;
            reg = (reg >> 1) | (b << 6);
            if ((reg & G1).count_ones() as u8 & 1) != pair[1] {
                return None;
            }
            bits.push(b);
        }
        Some(bits)
    }

    #[test]
    fn signal_is_valid_but_its_rate_is_rejected_by_legacy_receivers() {
        let n = 500;
        let frame = encode_semantic_frame(&header(n as u16), &channel_symbols(n)).unwrap();
        let bins = demodulate(&frame, 0);
        assert!(pilots_match(&bins, 0), "SIGNAL uses pilot polarity p_0");
        let bits = invert_code(&bpsk_coded_bits(&bins)).expect("a codeword");
        let signal = Signal::from_bits(&bits.try_into().unwrap()).expect("parity, tail valid");
        assert_eq!(signal.rate_field, SEMANTIC_RATE_FIELD);
        assert_eq!(
            Rate::from_rate_field(signal.rate_field),
            None,
            "legacy receivers must drop it"
        );
        assert_eq!(
            signal.length as usize,
            4 + n.div_ceil(48),
            "LENGTH counts OFDM symbols"
        );
    }

    #[test]
    fn header_symbols_decode_to_the_header() {
        let h = SemanticHeader {
            stream: StreamKind::Private,
            destination: 4,
            ..header(96)
        };
        let frame = encode_semantic_frame(&h, &channel_symbols(96)).unwrap();
        let mut coded = Vec::new();
        for i in 1..=HEADER_OFDM_SYMBOLS {
            let bins = demodulate(&frame, i);
            assert!(
                pilots_match(&bins, i),
                "header symbol {i} uses pilot polarity p_{i}"
            );
            coded.extend(bpsk_coded_bits(&bins));
        }
        let bits = invert_code(&coded).expect("header symbols form one codeword");
        assert_eq!(bits.len(), HEADER_FIELD_BITS);
        assert!(
            bits[HEADER_BITS..].iter().all(|&b| b == 0),
            "tail and pad are zero"
        );
        assert_eq!(SemanticHeader::from_bits(&bits[..HEADER_BITS]), Ok(h));
    }

    #[test]
    fn payload_values_and_pilots_are_recovered_exactly() {
        for n in [1usize, 47, 48, 49, 1000] {
            let symbols = channel_symbols(n);
            let frame = encode_semantic_frame(&header(n as u16), &symbols).unwrap();
            assert_eq!(frame.len(), semantic_frame_len(n));
            assert_eq!(frame.len(), 320 + 80 * (5 + n.div_ceil(48)), "{n} symbols");
            for m in 0..payload_ofdm_symbols(n) {
                let bins = demodulate(&frame, 1 + HEADER_OFDM_SYMBOLS + m);
                for (i, &k) in DATA_SUBCARRIERS.iter().enumerate() {
                    let expected = symbols.get(m * N_DATA + i).copied().unwrap_or_default();
                    let got = bins[fft_bin(k)];
                    assert!(
                        (got - expected).norm() < 1e-5,
                        "{n}: symbol {m}, subcarrier {k}"
                    );
                }
                assert!(
                    pilots_match(&bins, FIRST_PAYLOAD_PILOT_INDEX + m),
                    "payload symbol {m} pilot polarity"
                );
            }
        }
    }

    #[test]
    fn header_only_frame() {
        let frame = encode_semantic_frame(&header(0), &[]).unwrap();
        assert_eq!(frame.len(), semantic_frame_len(0));
        assert_eq!(frame.len(), 320 + 5 * 80);
        assert_eq!(&frame[..PREAMBLE_LEN], super::super::preamble());
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut symbols = channel_symbols(10);
        assert_eq!(
            encode_semantic_frame(&header(11), &symbols),
            Err(TxError::SymbolCountMismatch {
                header: 11,
                got: 10
            })
        );
        symbols[3].im = f32::NAN;
        assert!(matches!(
            encode_semantic_frame(&header(10), &symbols),
            Err(TxError::NonFiniteSymbol { index: 3, .. })
        ));
        symbols[3] = Complex32::new(f32::INFINITY, 0.0);
        assert!(matches!(
            encode_semantic_frame(&header(10), &symbols),
            Err(TxError::NonFiniteSymbol { index: 3, .. })
        ));
        let bad = SemanticHeader {
            fragment_index: 1,
            ..header(10)
        };
        assert!(matches!(
            encode_semantic_frame(&bad, &channel_symbols(10)),
            Err(TxError::Header(_))
        ));
    }
}
