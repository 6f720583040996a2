//! Test traffic: reproducible frames for loopback and file transmission.

use crate::blocks::TxFrame;
use crate::phy::fcs::append_fcs;
use crate::phy::{Rate, SemanticHeader, StreamKind, BROADCAST};
use num_complex::Complex32;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// FCS length, IEEE 802.11-2016 9.2.4.8.
pub const FCS_BYTES: usize = 4;
/// Largest PSDU the 12-bit LENGTH field of SIGNAL can announce (17.3.4.1).
pub const MAX_PSDU_BYTES: usize = 4095;

/// A requested PSDU size outside what a data frame can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "PSDU of {psdu_bytes} bytes: expected {min}..={MAX_PSDU_BYTES} bytes (payload plus the \
     {FCS_BYTES}-byte FCS)",
    min = FCS_BYTES + 1
)]
pub struct PsduSizeError {
    pub psdu_bytes: usize,
}

/// `n_frames` data frames at `rate`, each a PSDU of `psdu_bytes` bytes: random
/// payload bytes drawn from a ChaCha8 generator seeded with `seed`, then their FCS.
/// The same arguments always give the same frames.
pub fn random_data_frames(
    n_frames: usize,
    rate: Rate,
    psdu_bytes: usize,
    seed: u64,
) -> Result<Vec<TxFrame>, PsduSizeError> {
    if !(FCS_BYTES + 1..=MAX_PSDU_BYTES).contains(&psdu_bytes) {
        return Err(PsduSizeError { psdu_bytes });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut payload = vec![0u8; psdu_bytes - FCS_BYTES];
    Ok((0..n_frames)
        .map(|_| {
            rng.fill_bytes(&mut payload);
            TxFrame::Data {
                psdu: append_fcs(&payload),
                rate,
            }
        })
        .collect())
}

/// Seed of the semantic frames sent alongside data frames drawn from `seed`: a
/// different stream, so the two kinds of payload are independent.
pub fn semantic_seed(seed: u64) -> u64 {
    seed ^ 0x5e3a_0000
}

/// Largest channel-symbol count the 16-bit header field can announce.
pub const MAX_SEMANTIC_SYMBOLS: usize = u16::MAX as usize;

/// `n_frames` semantic frames of `n_symbols` QPSK channel symbols each (unit power,
/// drawn from a ChaCha8 generator seeded with `seed`). Frames alternate between the
/// public stream (broadcast) and private streams for users 0, 1, 2 in turn; frame `i`
/// carries task `i % 4` and message id `i`, as the single fragment of its message.
pub fn random_semantic_frames(
    n_frames: usize,
    n_symbols: usize,
    seed: u64,
) -> Result<Vec<TxFrame>, SemanticSizeError> {
    if !(1..=MAX_SEMANTIC_SYMBOLS).contains(&n_symbols) {
        return Err(SemanticSizeError { n_symbols });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = std::f32::consts::FRAC_1_SQRT_2;
    Ok((0..n_frames)
        .map(|i| {
            let (stream, destination) = if i % 2 == 0 {
                (StreamKind::Public, BROADCAST)
            } else {
                (StreamKind::Private, ((i / 2) % 3) as u8)
            };
            let symbols = (0..n_symbols)
                .map(|_| {
                    let bits: u8 = rng.random_range(0..4);
                    let re = if bits & 1 == 0 { a } else { -a };
                    let im = if bits & 2 == 0 { a } else { -a };
                    Complex32::new(re, im)
                })
                .collect();
            TxFrame::Semantic {
                header: SemanticHeader {
                    kind: 0,
                    stream,
                    destination,
                    task: (i % 4) as u8,
                    message_id: i as u16,
                    fragment_index: 0,
                    fragment_count: 1,
                    n_symbols: n_symbols as u16,
                },
                symbols,
            }
        })
        .collect())
}

/// A requested semantic payload size outside what a header can announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{n_symbols} channel symbols per semantic frame: expected 1..={MAX_SEMANTIC_SYMBOLS}")]
pub struct SemanticSizeError {
    pub n_symbols: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::fcs::check_fcs;

    #[test]
    fn frames_are_seeded_distinct_and_carry_a_valid_fcs() {
        let a = random_data_frames(3, Rate::Mbps12, 100, 7).unwrap();
        let b = random_data_frames(3, Rate::Mbps12, 100, 7).unwrap();
        let c = random_data_frames(3, Rate::Mbps12, 100, 8).unwrap();
        assert_eq!(a, b, "same seed must give the same frames");
        assert_ne!(a, c, "a different seed must give different frames");
        assert_ne!(a[0], a[1], "consecutive frames must differ");
        for f in &a {
            let TxFrame::Data { psdu, rate } = f else {
                panic!("expected a data frame")
            };
            assert_eq!(psdu.len(), 100, "PSDU length must include the FCS");
            assert_eq!(*rate, Rate::Mbps12);
            assert!(check_fcs(psdu), "FCS must verify");
        }
    }

    #[test]
    fn sizes_outside_the_length_field_are_rejected() {
        assert!(
            random_data_frames(1, Rate::Mbps6, 4, 0).is_err(),
            "no room for payload"
        );
        assert!(
            random_data_frames(1, Rate::Mbps6, 4096, 0).is_err(),
            "over 4095 bytes"
        );
        assert!(random_data_frames(1, Rate::Mbps6, 4095, 0).is_ok());
        assert!(random_data_frames(1, Rate::Mbps6, 5, 0).is_ok());
    }

    #[test]
    fn semantic_frames_are_seeded_and_cover_both_streams() {
        let a = random_semantic_frames(4, 100, 3).unwrap();
        assert_eq!(a, random_semantic_frames(4, 100, 3).unwrap());
        assert_ne!(a, random_semantic_frames(4, 100, 4).unwrap());
        let headers: Vec<_> = a
            .iter()
            .map(|f| match f {
                TxFrame::Semantic { header, symbols } => {
                    assert_eq!(symbols.len(), 100);
                    let p: f32 = symbols.iter().map(|s| s.norm_sqr()).sum::<f32>() / 100.0;
                    assert!((p - 1.0).abs() < 1e-5, "unit power, got {p}");
                    (header.stream, header.destination)
                }
                other => panic!("expected a semantic frame, got {other:?}"),
            })
            .collect();
        assert_eq!(
            headers,
            [
                (StreamKind::Public, BROADCAST),
                (StreamKind::Private, 0),
                (StreamKind::Public, BROADCAST),
                (StreamKind::Private, 1)
            ]
        );
        assert!(random_semantic_frames(1, 0, 0).is_err());
        assert!(random_semantic_frames(1, 65_536, 0).is_err());
    }
}
