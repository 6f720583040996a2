//! SIGNAL field, IEEE 802.11-2016 17.3.4.
//!
//! 24 bits sent first in the PPDU as one BPSK, rate-1/2 OFDM symbol (not scrambled):
//! RATE R1..R4 (bits 0-3), a reserved bit (4), LENGTH LSB first (5-16), even parity over
//! bits 0-16 (17) and six zero tail bits (18-23).

use super::constellation::map_bits;
use super::convolutional::conv_encode;
use super::interleaver::{interleave, interleaver_permutation};
use super::rate::Modulation;
use super::subcarriers::N_DATA;
use num_complex::Complex32;
use thiserror::Error;

/// Number of SIGNAL bits.
pub const SIGNAL_BITS: usize = 24;
/// Largest LENGTH the 12-bit field can carry.
pub const MAX_LENGTH: u16 = 4095;

/// Why a received SIGNAL field was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SignalError {
    #[error("SIGNAL parity check failed")]
    Parity,
    #[error("SIGNAL reserved bit is set")]
    ReservedBit,
    #[error("SIGNAL tail bits are not zero")]
    Tail,
}

/// Content of the SIGNAL field. RATE is kept as its raw 4-bit code (R1 in bit 0) so that
/// reserved codes, such as the one marking semantic frames, pass through unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// RATE field, R1 in bit 0 (see [`Rate::rate_field`](super::rate::Rate::rate_field)).
    pub rate_field: u8,
    /// LENGTH field: PSDU octets for data frames, 12 bits.
    pub length: u16,
}

impl Signal {
    /// The 24 SIGNAL bits in transmission order. Bits above the 4-bit RATE and 12-bit
    /// LENGTH are ignored.
    pub fn to_bits(&self) -> [u8; SIGNAL_BITS] {
        let mut bits = [0u8; SIGNAL_BITS];
        for (i, b) in bits.iter_mut().take(4).enumerate() {
            *b = (self.rate_field >> i) & 1;
        }
        for i in 0..12 {
            bits[5 + i] = ((self.length >> i) & 1) as u8;
        }
        bits[17] = bits[..17].iter().fold(0, |acc, b| acc ^ b);
        bits
    }

    /// Parse 24 decoded SIGNAL bits, checking parity, the reserved bit and the tail.
    /// RATE is not judged here.
    pub fn from_bits(bits: &[u8; SIGNAL_BITS]) -> Result<Signal, SignalError> {
        if bits[..18].iter().fold(0, |acc, b| acc ^ (b & 1)) != 0 {
            return Err(SignalError::Parity);
        }
        if bits[4] & 1 != 0 {
            return Err(SignalError::ReservedBit);
        }
        if bits[18..].iter().any(|b| b & 1 != 0) {
            return Err(SignalError::Tail);
        }
        let rate_field = (0..4).fold(0u8, |acc, i| acc | ((bits[i] & 1) << i));
        let length = (0..12).fold(0u16, |acc, i| acc | (((bits[5 + i] & 1) as u16) << i));
        Ok(Signal { rate_field, length })
    }

    /// The 48 coded bits after rate-1/2 encoding, before interleaving (17.3.5.6).
    pub fn coded_bits(&self) -> Vec<u8> {
        conv_encode(&self.to_bits())
    }

    /// The 48 coded bits after the BPSK interleaver (`N_CBPS` = 48, `N_BPSC` = 1).
    pub fn interleaved_bits(&self) -> Vec<u8> {
        interleave(&self.coded_bits(), &interleaver_permutation(N_DATA, 1))
    }

    /// The 48 BPSK data subcarrier values of the SIGNAL symbol, in data index order.
    pub fn data_symbols(&self) -> [Complex32; N_DATA] {
        let mut v = Vec::with_capacity(N_DATA);
        map_bits(&self.interleaved_bits(), Modulation::Bpsk, &mut v);
        let mut out = [Complex32::default(); N_DATA];
        out.copy_from_slice(&v);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rate::Rate;

    #[test]
    fn field_layout_and_round_trip() {
        for rate in Rate::ALL {
            for length in [1u16, 100, 1500, 4095] {
                let s = Signal {
                    rate_field: rate.rate_field(),
                    length,
                };
                let bits = s.to_bits();
                assert_eq!(
                    bits.iter().map(|&b| b as u32).sum::<u32>() % 2,
                    0,
                    "even parity"
                );
                assert_eq!(Signal::from_bits(&bits), Ok(s));
                assert_eq!(bits[5], (length & 1) as u8, "LENGTH is sent LSB first");
            }
        }
    }

    #[test]
    fn corruption_is_detected() {
        let s = Signal {
            rate_field: Rate::Mbps36.rate_field(),
            length: 100,
        };
        for i in 0..SIGNAL_BITS {
            let mut bits = s.to_bits();
            bits[i] ^= 1;
            let expected = match i {
                0..=17 => SignalError::Parity,
                _ => SignalError::Tail,
            };
            assert_eq!(Signal::from_bits(&bits), Err(expected), "flipped bit {i}");
        }
        let mut bits = s.to_bits();
        bits[4] = 1;
        bits[17] ^= 1;
        assert_eq!(Signal::from_bits(&bits), Err(SignalError::ReservedBit));
    }

    #[test]
    fn annex_i_signal_field() {
        use crate::phy::annex_i as annex;
        let s = Signal {
            rate_field: Rate::Mbps36.rate_field(),
            length: 100,
        };
        assert_eq!(
            s.to_bits().to_vec(),
            annex::bits_from_str(annex::SIGNAL_BITS),
            "Table I-7"
        );
        assert_eq!(
            s.coded_bits(),
            annex::bits_from_str(annex::SIGNAL_CODED),
            "Table I-8"
        );
        let interleaved = annex::bits_from_str(annex::SIGNAL_INTERLEAVED);
        assert_eq!(s.interleaved_bits(), interleaved, "Table I-9");
        // Table I-10: BPSK of the interleaved bits, 0 -> -1, 1 -> +1.
        for (d, b) in s.data_symbols().iter().zip(&interleaved) {
            assert_eq!(*d, Complex32::new(2.0 * *b as f32 - 1.0, 0.0));
        }
        assert_eq!(Signal::from_bits(&s.to_bits()), Ok(s));
    }
}
