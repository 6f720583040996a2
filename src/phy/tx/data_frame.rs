//! Standard 802.11a data frames: PSDU to PPDU samples, IEEE 802.11-2016 17.3.5.
//!
//! DATA field = SERVICE (16 zero bits) + PSDU (each octet LSB first) + 6 tail bits +
//! pad bits up to `N_SYM * N_DBPS` (17.3.5.4). It is scrambled (17.3.5.5), the six tail
//! bits are reset to zero after scrambling, then it is encoded and punctured (17.3.5.6),
//! interleaved symbol by symbol (17.3.5.7), mapped (17.3.5.8) and OFDM modulated with
//! pilot indices 1, 2, ... (17.3.5.10). The frame is STF (160 samples) + LTF (160) +
//! SIGNAL (80) + `N_SYM` * 80 samples.
//!
//! The intermediate stages are public so that tests and the receiver can check
//! themselves against them: [`data_field_bits`] -> [`scrambled_bits`] ->
//! [`coded_bits`] -> [`interleaved_bits`] -> [`data_symbols`].

use super::{push_preamble_and_signal, OfdmModulator, PREAMBLE_LEN};
use crate::phy::constellation::map_bits;
use crate::phy::convolutional::{conv_encode, puncture};
use crate::phy::error::TxError;
use crate::phy::interleaver::{interleave, interleaver_permutation};
use crate::phy::rate::Rate;
use crate::phy::scrambler::Scrambler;
use crate::phy::signal_field::{Signal, MAX_LENGTH};
use crate::phy::subcarriers::{N_DATA, SYMBOL_LEN};
use num_complex::Complex32;

/// Bits of the SERVICE field.
pub const SERVICE_BITS: usize = 16;
/// Tail bits that return the encoder to the zero state.
pub const TAIL_BITS: usize = 6;

/// Total samples of a data frame with a `psdu_bytes`-octet PSDU at `rate`:
/// 320 (preamble) + 80 (SIGNAL) + 80 * `N_SYM`.
pub fn data_frame_len(psdu_bytes: usize, rate: Rate) -> usize {
    PREAMBLE_LEN + SYMBOL_LEN * (1 + rate.n_sym(psdu_bytes))
}

/// The unscrambled DATA field: SERVICE, PSDU bits (octets LSB first), tail and pad;
/// `N_SYM * N_DBPS` bits.
pub fn data_field_bits(psdu: &[u8], rate: Rate) -> Vec<u8> {
    let n_bits = rate.n_sym(psdu.len()) * rate.n_dbps();
    let mut bits = vec![0u8; n_bits];
    for (i, &byte) in psdu.iter().enumerate() {
        for j in 0..8 {
            bits[SERVICE_BITS + 8 * i + j] = (byte >> j) & 1;
        }
    }
    bits
}

/// The DATA field after scrambling with `scrambler_seed`, with the six tail bits
/// (following the PSDU) reset to zero; `N_SYM * N_DBPS` bits.
///
/// # Panics
/// If the low 7 bits of `scrambler_seed` are zero (see [`Scrambler::new`]).
pub fn scrambled_bits(psdu: &[u8], rate: Rate, scrambler_seed: u8) -> Vec<u8> {
    let mut bits = data_field_bits(psdu, rate);
    Scrambler::new(scrambler_seed).scramble(&mut bits);
    let tail = SERVICE_BITS + 8 * psdu.len();
    bits[tail..tail + TAIL_BITS].fill(0);
    bits
}

/// Encode and puncture the scrambled DATA field: `N_SYM * N_CBPS` bits for
/// `N_SYM * N_DBPS` input bits.
pub fn coded_bits(scrambled: &[u8], rate: Rate) -> Vec<u8> {
    puncture(&conv_encode(scrambled), rate.code_rate())
}

/// Interleave each `N_CBPS`-bit symbol of `coded`.
///
/// # Panics
/// If `coded.len()` is not a multiple of `N_CBPS`.
pub fn interleaved_bits(coded: &[u8], rate: Rate) -> Vec<u8> {
    let n_cbps = rate.n_cbps();
    assert!(
        coded.len().is_multiple_of(n_cbps),
        "interleaved_bits: expected a multiple of N_CBPS = {n_cbps} bits, got {}",
        coded.len()
    );
    let perm = interleaver_permutation(n_cbps, rate.n_bpsc());
    coded
        .chunks_exact(n_cbps)
        .flat_map(|sym| interleave(sym, &perm))
        .collect()
}

/// Map interleaved bits to the 48 data subcarrier values of each OFDM symbol, in data
/// index order (before pilots and the inverse FFT).
///
/// # Panics
/// If `interleaved.len()` is not a multiple of `N_CBPS`.
pub fn data_symbols(interleaved: &[u8], rate: Rate) -> Vec<[Complex32; N_DATA]> {
    let n_cbps = rate.n_cbps();
    assert!(
        interleaved.len().is_multiple_of(n_cbps),
        "data_symbols: expected a multiple of N_CBPS = {n_cbps} bits, got {}",
        interleaved.len()
    );
    let mut points = Vec::with_capacity(interleaved.len() / rate.n_bpsc());
    map_bits(interleaved, rate.modulation(), &mut points);
    points
        .chunks_exact(N_DATA)
        .map(|c| {
            let mut s = [Complex32::default(); N_DATA];
            s.copy_from_slice(c);
            s
        })
        .collect()
}

/// Build the time-domain PPDU for `psdu` (1 to 4095 octets, FCS included if wanted) at
/// `rate` with the 7-bit nonzero `scrambler_seed`.
///
/// Returns [`data_frame_len`]`(psdu.len(), rate)` samples: STF, LTF, SIGNAL, DATA.
pub fn encode_data_frame(
    psdu: &[u8],
    rate: Rate,
    scrambler_seed: u8,
) -> Result<Vec<Complex32>, TxError> {
    if psdu.is_empty() || psdu.len() > MAX_LENGTH as usize {
        return Err(TxError::PsduLength { len: psdu.len() });
    }
    if scrambler_seed & 0x7f == 0 {
        return Err(TxError::ScramblerSeed {
            seed: scrambler_seed,
        });
    }
    let scrambled = scrambled_bits(psdu, rate, scrambler_seed);
    let symbols = data_symbols(&interleaved_bits(&coded_bits(&scrambled, rate), rate), rate);

    let mut out = Vec::with_capacity(data_frame_len(psdu.len(), rate));
    let mut modulator = OfdmModulator::new();
    let signal = Signal {
        rate_field: rate.rate_field(),
        length: psdu.len() as u16,
    };
    push_preamble_and_signal(&mut modulator, &signal, &mut out);
    for (n, sym) in symbols.iter().enumerate() {
        modulator.modulate(sym, n + 1, &mut out);
    }
    log::debug!(
        "data frame: {} PSDU octets at {rate}, {} OFDM symbols, {} samples",
        psdu.len(),
        symbols.len(),
        out.len()
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::annex_i as annex;
    use crate::phy::subcarriers::{fft_bin, CP_LEN, FFT_LEN};
    use crate::phy::tx::ofdm_modulator::frequency_domain_symbol;

    const RATE: Rate = Rate::Mbps36;

    #[test]
    fn annex_i_data_bits_and_scrambling() {
        let psdu = annex::PSDU_1999;
        let bits = data_field_bits(&psdu, RATE);
        assert_eq!(
            bits.len(),
            6 * 144,
            "N_SYM * N_DBPS for 100 octets at 36 Mb/s"
        );
        assert_eq!(
            bits[..144],
            annex::bits_from_msb_octets(&annex::DATA_BITS_FIRST_144)
        );
        assert_eq!(
            bits[720..],
            annex::bits_from_msb_octets(&annex::DATA_BITS_LAST_144)
        );
        let s = scrambled_bits(&psdu, RATE, annex::SEED);
        assert_eq!(
            s[..144],
            annex::bits_from_msb_octets(&annex::SCRAMBLED_FIRST_144),
            "Table G.16: scrambled SERVICE and first octets"
        );
        assert_eq!(
            s[720..],
            annex::bits_from_msb_octets(&annex::SCRAMBLED_LAST_144),
            "Table G.17: scrambled end, tail reset to zero after scrambling"
        );
        assert!(
            s[816..822].iter().all(|&b| b == 0),
            "tail bits must be zero"
        );
    }

    #[test]
    fn annex_i_first_symbol_coding_interleaving_mapping() {
        let s = scrambled_bits(&annex::PSDU_1999, RATE, annex::SEED);
        let coded = coded_bits(&s, RATE);
        assert_eq!(coded.len(), 6 * 192);
        assert_eq!(
            coded[..192],
            annex::bits_from_msb_octets(&annex::CODED_FIRST_SYMBOL),
            "G.18"
        );
        let inter = interleaved_bits(&coded, RATE);
        assert_eq!(
            inter[..192],
            annex::bits_from_msb_octets(&annex::INTERLEAVED_FIRST_SYMBOL),
            "Table G.21"
        );
        let syms = data_symbols(&inter, RATE);
        assert_eq!(syms.len(), 6);
        // Table G.22: first DATA symbol (pilot index 1), values printed to 3 decimals.
        let bins = frequency_domain_symbol(&syms[0], 1);
        for (i, expected) in annex::FIRST_DATA_SYMBOL_FREQ.iter().enumerate() {
            let k = i as i32 - 26;
            let got = bins[fft_bin(k)];
            assert!(
                (got - expected).norm() < 1e-3,
                "k = {k}: ours {got}, annex {expected}"
            );
        }
    }

    #[test]
    fn annex_i_whole_packet_time_domain() {
        // Table G.24: all 881 samples. The annex scales by 1/64 where this crate scales by
        // 1/sqrt(52), and it windows each field: at a boundary the sample is half the
        // new field's first sample plus half the previous field's periodic continuation.
        let frame = encode_data_frame(&annex::PSDU_1999, RATE, annex::SEED).unwrap();
        assert_eq!(frame.len(), 880);
        assert_eq!(frame.len(), data_frame_len(100, RATE));
        let scale = annex::annex_scale();
        let mut expected: Vec<Complex32> = frame.iter().map(|&x| x * scale).collect();
        expected.push(Complex32::default());
        // Continuation of the field ending at each boundary: STF (period 16) at 160,
        // LTF (period 64 after its 32-sample guard) at 320, an OFDM symbol (sample 16
        // of the symbol, the start of its 64-sample body) at 400, 480, ..., 880.
        let mut boundaries = vec![(160, frame[0]), (320, frame[PREAMBLE_LEN - 128])];
        for start in (320..880).step_by(SYMBOL_LEN) {
            boundaries.push((start + SYMBOL_LEN, frame[start + CP_LEN]));
        }
        expected[0] *= 0.5;
        for (b, continuation) in boundaries {
            expected[b] = 0.5 * expected[b] + 0.5 * continuation * scale;
        }
        let annex_samples = annex::packet_time_domain();
        let mut worst = 0.0f32;
        for (n, (a, e)) in annex_samples.iter().zip(&expected).enumerate() {
            let err = (a.re - e.re).abs().max((a.im - e.im).abs());
            worst = worst.max(err);
            assert!(err < 1e-3, "sample {n}: annex {a}, ours scaled {e}");
        }
        assert!(worst > 0.0, "comparison must have run over nonzero data");
    }

    #[test]
    fn frame_lengths_and_layout() {
        for rate in Rate::ALL {
            for len in [1usize, 14, 100, 1500, 4095] {
                let psdu: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
                let frame = encode_data_frame(&psdu, rate, 0x5d).unwrap();
                let n_sym = (16 + 8 * len + 6).div_ceil(rate.n_dbps());
                assert_eq!(frame.len(), 400 + 80 * n_sym, "{rate}, {len} octets");
                assert_eq!(frame.len(), data_frame_len(len, rate));
                assert_eq!(&frame[..PREAMBLE_LEN], super::super::preamble());
            }
        }
    }

    #[test]
    fn data_symbols_have_unit_average_power() {
        let mut x = 0x9e37_79b9u32;
        let psdu: Vec<u8> = (0..4000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for rate in Rate::ALL {
            let frame = encode_data_frame(&psdu, rate, 0x2a).unwrap();
            let data = &frame[PREAMBLE_LEN + SYMBOL_LEN..];
            let p = data.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / data.len() as f64;
            assert!(
                (p - 1.0).abs() < 0.02,
                "{rate}: data power {p}, expected 1 per sample"
            );
        }
    }

    #[test]
    fn fft_of_each_data_symbol_recovers_the_mapped_values() {
        let psdu = annex::PSDU_1999;
        let rate = Rate::Mbps54;
        let frame = encode_data_frame(&psdu, rate, 0x11).unwrap();
        let s = scrambled_bits(&psdu, rate, 0x11);
        let syms = data_symbols(&interleaved_bits(&coded_bits(&s, rate), rate), rate);
        let fft = rustfft::FftPlanner::new().plan_fft_forward(FFT_LEN);
        let g = 52f32.sqrt() / FFT_LEN as f32;
        for (n, sym) in syms.iter().enumerate() {
            let start = PREAMBLE_LEN + SYMBOL_LEN * (n + 1) + CP_LEN;
            let mut y = frame[start..start + FFT_LEN].to_vec();
            fft.process(&mut y);
            let expected = frequency_domain_symbol(sym, n + 1);
            for b in 0..FFT_LEN {
                assert!(
                    (y[b] * g - expected[b]).norm() < 1e-4,
                    "symbol {n}, bin {b}"
                );
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(
            encode_data_frame(&[], RATE, 1),
            Err(TxError::PsduLength { len: 0 })
        );
        assert_eq!(
            encode_data_frame(&vec![0; 4096], RATE, 1),
            Err(TxError::PsduLength { len: 4096 })
        );
        assert_eq!(
            encode_data_frame(&[1], RATE, 0x80),
            Err(TxError::ScramblerSeed { seed: 0x80 })
        );
    }
}
