//! The sharing map at the front of a public message: which users the message serves and,
//! when it carries only some token positions, which ones.
//!
//! Layout in bytes (bits sent least significant first), followed by a CRC-16/CCITT-FALSE
//! of those bytes (little-endian):
//!
//! ```text
//! whole content   members (u32, bit u = user u)                              4 + 2 bytes
//! some positions  members (u32), modality << 7 | n_positions (u8),
//!                 position mask (u64 low 40 bits, 5 bytes)                  10 + 2 bytes
//! ```
//!
//! The bytes are protected like the header of a semantic frame: the IEEE 802.11a
//! rate-1/2, K = 7 convolutional code with a six-bit zero tail, then QPSK (coded bits
//! `a, b` -> `((2a - 1) + j (2b - 1)) / sqrt(2)`, unit power): 54 channel symbols for a
//! whole-content map and 102 for a partial one. The receiver knows which of the two to
//! expect from the frame header's kind, and decodes with soft decisions weighted by each
//! symbol's noise variance.
//!
//! Limits: users 0..32 can be members; a partial map covers at most
//! [`MAX_POSITIONS`] token positions.

use crate::phy::convolutional::conv_encode;
use crate::phy::fcs::crc16;
use crate::phy::rx::ViterbiDecoder;
use num_complex::Complex32;

/// Most users a public message can name.
pub const MAX_MEMBERS: usize = 32;
/// Most token positions a partial map can describe (the text slot's longest message).
pub const MAX_POSITIONS: usize = 40;
/// Channel symbols of a whole-content map.
pub const WHOLE_MAP_SYMBOLS: usize = symbols_for(6);
/// Channel symbols of a partial map.
pub const PARTIAL_MAP_SYMBOLS: usize = symbols_for(12);

/// QPSK symbols of a map of `bytes` bytes (CRC included): 8 bits per byte plus the tail,
/// doubled by the code, two bits per symbol.
const fn symbols_for(bytes: usize) -> usize {
    8 * bytes + 6
}

/// Which content the shared tokens belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Image,
    Text,
}

/// The token positions a partial public message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedPositions {
    pub modality: Modality,
    /// Tokens in the whole content (16 for an image, the sentence's length for text).
    pub n_positions: usize,
    /// Bit `i` set: position `i` is in this message, in increasing position order.
    pub mask: u64,
}

impl SharedPositions {
    /// The positions, in increasing order.
    pub fn list(&self) -> Vec<usize> {
        (0..self.n_positions)
            .filter(|&i| self.mask >> i & 1 == 1)
            .collect()
    }
}

/// A public message's map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharingMap {
    /// Bit `u` set: user `u` needs this message.
    pub members: u32,
    /// `None`: the message is a whole content (every token of it, in order).
    pub positions: Option<SharedPositions>,
}

/// Why a map could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("sharing map: user {0} is beyond the {MAX_MEMBERS} users a map can name")]
    Member(usize),
    #[error("sharing map: {0} token positions, more than the {MAX_POSITIONS} a map describes")]
    Positions(usize),
    #[error("sharing map: expected {expected} channel symbols, got {got}")]
    Length { expected: usize, got: usize },
    #[error("sharing map: CRC-16 mismatch")]
    Crc,
}

impl SharingMap {
    /// Channel symbols this map takes.
    pub fn n_symbols(&self) -> usize {
        Self::symbols_of(self.positions.is_some())
    }

    /// Channel symbols of a map, partial or whole.
    pub fn symbols_of(partial: bool) -> usize {
        if partial {
            PARTIAL_MAP_SYMBOLS
        } else {
            WHOLE_MAP_SYMBOLS
        }
    }

    /// Member bit mask of `users`.
    pub fn members_of(users: &[usize]) -> Result<u32, MapError> {
        let mut m = 0u32;
        for &u in users {
            if u >= MAX_MEMBERS {
                return Err(MapError::Member(u));
            }
            m |= 1 << u;
        }
        Ok(m)
    }

    pub fn has_member(&self, user: usize) -> bool {
        user < MAX_MEMBERS && self.members >> user & 1 == 1
    }

    fn to_bytes(self) -> Result<Vec<u8>, MapError> {
        let mut b = self.members.to_le_bytes().to_vec();
        if let Some(p) = self.positions {
            if p.n_positions > MAX_POSITIONS || p.mask >> p.n_positions != 0 {
                return Err(MapError::Positions(
                    p.n_positions.max(64 - p.mask.leading_zeros() as usize),
                ));
            }
            let modality = u8::from(p.modality == Modality::Text) << 7;
            b.push(modality | p.n_positions as u8);
            b.extend_from_slice(&p.mask.to_le_bytes()[..5]);
        }
        let crc = crc16(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        Ok(b)
    }

    /// The map as unit-power QPSK channel symbols.
    pub fn encode(&self) -> Result<Vec<Complex32>, MapError> {
        let bytes = self.to_bytes()?;
        let mut bits: Vec<u8> = bytes
            .iter()
            .flat_map(|&byte| (0..8).map(move |i| byte >> i & 1))
            .collect();
        bits.extend([0u8; 6]);
        let coded = conv_encode(&bits);
        let a = std::f32::consts::FRAC_1_SQRT_2;
        Ok(coded
            .chunks_exact(2)
            .map(|p| Complex32::new(a * (2.0 * p[0] as f32 - 1.0), a * (2.0 * p[1] as f32 - 1.0)))
            .collect())
    }

    /// Reads a map from its equalized channel symbols and their noise variances.
    /// `partial` says which layout to expect (from the frame header's kind).
    pub fn decode(
        symbols: &[Complex32],
        noise_var: &[f32],
        partial: bool,
    ) -> Result<SharingMap, MapError> {
        let expected = Self::symbols_of(partial);
        if symbols.len() != expected || noise_var.len() != expected {
            return Err(MapError::Length {
                expected,
                got: symbols.len().min(noise_var.len()),
            });
        }
        // Soft value of a coded 1 on each axis: proportional to the log-likelihood
        // ratio 2 sqrt(2) x / noise_var, scaled into i8 (clipped beyond about 15 dB).
        let soft: Vec<i8> = symbols
            .iter()
            .zip(noise_var)
            .flat_map(|(s, &nv)| {
                let w = 0.4 / nv.max(1e-4);
                [s.re, s.im].map(|x| (x * w * 8.0).round().clamp(-127.0, 127.0) as i8)
            })
            .collect();
        let n_bits = expected;
        let mut bits = Vec::new();
        ViterbiDecoder::new().decode(&soft, n_bits, &mut bits);
        let bytes: Vec<u8> = bits[..n_bits - 6]
            .chunks_exact(8)
            .map(|c| c.iter().enumerate().fold(0u8, |acc, (i, &b)| acc | b << i))
            .collect();
        let (body, crc) = bytes.split_at(bytes.len() - 2);
        if crc16(body).to_le_bytes() != [crc[0], crc[1]] {
            return Err(MapError::Crc);
        }
        let members = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
        let positions = partial.then(|| {
            let mut mask = [0u8; 8];
            mask[..5].copy_from_slice(&body[5..10]);
            SharedPositions {
                modality: if body[4] >> 7 == 1 {
                    Modality::Text
                } else {
                    Modality::Image
                },
                n_positions: usize::from(body[4] & 0x7f),
                mask: u64::from_le_bytes(mask),
            }
        });
        if let Some(p) = positions {
            if p.n_positions > MAX_POSITIONS || p.mask >> p.n_positions != 0 {
                return Err(MapError::Positions(p.n_positions));
            }
        }
        Ok(SharingMap { members, positions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    fn maps() -> Vec<SharingMap> {
        vec![
            SharingMap {
                members: 0b1011,
                positions: None,
            },
            SharingMap {
                members: 1 << 31 | 1,
                positions: Some(SharedPositions {
                    modality: Modality::Text,
                    n_positions: 40,
                    mask: 1 << 39 | 0b101,
                }),
            },
            SharingMap {
                members: 0b110,
                positions: Some(SharedPositions {
                    modality: Modality::Image,
                    n_positions: 16,
                    mask: 0x8421,
                }),
            },
        ]
    }

    #[test]
    fn sizes_are_as_documented_and_power_is_unit() {
        for m in maps() {
            let s = m.encode().unwrap();
            assert_eq!(s.len(), m.n_symbols());
            let p: f32 = s.iter().map(|x| x.norm_sqr()).sum::<f32>() / s.len() as f32;
            assert!((p - 1.0).abs() < 1e-5, "QPSK must have unit power, got {p}");
        }
        assert_eq!((WHOLE_MAP_SYMBOLS, PARTIAL_MAP_SYMBOLS), (54, 102));
    }

    #[test]
    fn round_trip_through_noise_at_3_db() {
        // At 3 dB SNR the raw QPSK bit error rate is about 6 %; the code must correct it.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let nv = 10f32.powf(-0.3);
        let noise = Normal::new(0.0, (nv / 2.0).sqrt()).unwrap();
        for m in maps() {
            let partial = m.positions.is_some();
            let mut raw_errors = 0;
            let rx: Vec<Complex32> = m
                .encode()
                .unwrap()
                .iter()
                .map(|s| {
                    let r = s + Complex32::new(noise.sample(&mut rng), noise.sample(&mut rng));
                    raw_errors += usize::from(r.re * s.re < 0.0) + usize::from(r.im * s.im < 0.0);
                    r
                })
                .collect();
            assert!(raw_errors > 0, "the test must exercise error correction");
            let nvs = vec![nv; rx.len()];
            assert_eq!(SharingMap::decode(&rx, &nvs, partial), Ok(m));
        }
    }

    #[test]
    fn corruption_and_bad_input_are_refused() {
        let m = maps()[2];
        let mut s = m.encode().unwrap();
        let nv = vec![0.01; s.len()];
        // Flip a long run of symbols: beyond what the code corrects, so the CRC fails.
        for x in &mut s[10..40] {
            *x = -*x;
        }
        assert!(SharingMap::decode(&s, &nv, true).is_err());
        assert_eq!(
            SharingMap::decode(&s[..5], &nv[..5], true),
            Err(MapError::Length {
                expected: 102,
                got: 5
            })
        );
        assert_eq!(SharingMap::members_of(&[0, 40]), Err(MapError::Member(40)));
        let too_long = SharingMap {
            members: 1,
            positions: Some(SharedPositions {
                modality: Modality::Text,
                n_positions: 41,
                mask: 1,
            }),
        };
        assert!(matches!(too_long.encode(), Err(MapError::Positions(_))));
    }
}
