//! Deinterleaving and depuncturing of soft bits, IEEE 802.11-2016 17.3.5.7
//! (interleaver, Equations 17-16 and 17-17) and 17.3.5.6 (puncturing, Figure 17-9).
//!
//! Both are fixed permutations within one OFDM symbol: each symbol's `N_CBPS` coded bits
//! fill exactly `2 N_DBPS` positions of the mother-code stream A0 B0 A1 B1 ... . One table
//! maps a soft bit's position in the received symbol straight to its mother-code offset;
//! punctured positions are never written and stay 0 (an erasure).

use crate::phy::convolutional::puncture_pattern;
use crate::phy::interleaver::interleaver_permutation;
use crate::phy::rate::CodeRate;

/// Scatter table for one rate's OFDM symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftBitMap {
    /// `target[j]`: mother-code offset (within the symbol's block) of received bit `j`.
    target: Vec<u16>,
    /// Mother-code soft values per symbol, `2 * N_DBPS`.
    block_len: usize,
}

impl SoftBitMap {
    /// Table for symbols of `n_cbps` coded bits, `n_bpsc` bits per subcarrier, code rate
    /// `rate`.
    pub fn new(n_cbps: usize, n_bpsc: usize, rate: CodeRate) -> Self {
        let perm = interleaver_permutation(n_cbps, n_bpsc);
        let pattern = puncture_pattern(rate);
        // Mother-code offsets of the transmitted bits, in transmission order.
        let mut kept = Vec::with_capacity(n_cbps);
        let mut m = 0usize;
        while kept.len() < n_cbps {
            if pattern[m % pattern.len()] {
                kept.push(m as u16);
            }
            m += 1;
        }
        let mut target = vec![0u16; n_cbps];
        for (k, &j) in perm.iter().enumerate() {
            target[j] = kept[k];
        }
        // The block ends on a whole puncturing period (trailing punctured positions).
        let block_len = m.div_ceil(pattern.len()) * pattern.len();
        Self { target, block_len }
    }

    /// Mother-code soft values one symbol fills, `2 * N_DBPS`.
    pub fn block_len(&self) -> usize {
        self.block_len
    }

    /// Writes one symbol's received soft bits (`N_CBPS` of them, in received order) into
    /// its mother-code block (`block_len()` values, erasures left as they are).
    ///
    /// # Panics
    /// If the lengths differ from `N_CBPS` and `block_len()`.
    pub fn scatter(&self, received: &[i8], block: &mut [i8]) {
        assert_eq!(
            received.len(),
            self.target.len(),
            "soft bits per symbol (N_CBPS)"
        );
        assert_eq!(
            block.len(),
            self.block_len,
            "mother-code block length (2 N_DBPS)"
        );
        for (&s, &t) in received.iter().zip(&self.target) {
            block[t as usize] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::convolutional::{conv_encode, puncture};
    use crate::phy::interleaver::interleave;
    use crate::phy::rate::Rate;

    #[test]
    fn inverts_the_transmit_chain_for_every_rate() {
        // Encode, puncture and interleave with the shared transmit functions; scatter
        // must put every coded bit back on its mother-code position and leave exactly
        // the punctured positions erased.
        for rate in Rate::ALL {
            let n_dbps = rate.n_dbps();
            let bits: Vec<u8> = (0..n_dbps).map(|i| ((i * 7 + 3) % 5 % 2) as u8).collect();
            let mother = conv_encode(&bits);
            let coded = puncture(&mother, rate.code_rate());
            let perm = interleaver_permutation(rate.n_cbps(), rate.n_bpsc());
            let sent = interleave(&coded, &perm);
            let soft: Vec<i8> = sent
                .iter()
                .map(|&b| if b == 1 { 10 } else { -10 })
                .collect();
            let map = SoftBitMap::new(rate.n_cbps(), rate.n_bpsc(), rate.code_rate());
            assert_eq!(map.block_len(), 2 * n_dbps, "{rate}");
            let mut block = vec![0i8; map.block_len()];
            map.scatter(&soft, &mut block);
            let pattern = puncture_pattern(rate.code_rate());
            for (m, (&s, &c)) in block.iter().zip(&mother).enumerate() {
                if pattern[m % pattern.len()] {
                    assert_eq!(s, if c == 1 { 10 } else { -10 }, "{rate} position {m}");
                } else {
                    assert_eq!(s, 0, "{rate} punctured position {m} must be an erasure");
                }
            }
        }
    }
}
