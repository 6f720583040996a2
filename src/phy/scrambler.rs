//! DATA scrambler and descrambler, IEEE 802.11-2016 17.3.5.5.
//!
//! The frame-synchronous scrambler uses the generator polynomial
//! `S(x) = x^7 + x^4 + 1`. Its 7-bit state holds `x1 .. x7` with `x7` in bit 6; each
//! step outputs `x7 XOR x4` and shifts that bit in as the new `x1`. Scrambling and
//! descrambling are the same XOR.

/// Length of the scrambler's period: the sequence repeats every 127 bits.
pub const SCRAMBLER_PERIOD: usize = 127;

/// Seed used by the worked example of IEEE 802.11-2016 Annex I (state `1011101`).
pub const ANNEX_I_SEED: u8 = 0b101_1101;

/// The 7-bit linear feedback shift register of Figure 17-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrambler {
    state: u8,
}

impl Scrambler {
    /// A scrambler whose state is the low 7 bits of `seed` (`x7` in bit 6).
    ///
    /// # Panics
    /// If those 7 bits are all zero (the all-zero state never leaves zero and is not a
    /// valid initial state).
    pub fn new(seed: u8) -> Scrambler {
        let state = seed & 0x7f;
        assert!(
            state != 0,
            "scrambler seed: expected a nonzero 7-bit state, got 0"
        );
        Scrambler { state }
    }

    /// Current 7-bit state (`x7` in bit 6).
    pub fn state(&self) -> u8 {
        self.state
    }

    /// Next bit (0 or 1) of the scrambling sequence.
    #[inline]
    pub fn next_bit(&mut self) -> u8 {
        let out = ((self.state >> 6) ^ (self.state >> 3)) & 1;
        self.state = ((self.state << 1) & 0x7f) | out;
        out
    }

    /// XOR `bits` (values 0/1) in place with the next `bits.len()` sequence bits.
    pub fn scramble(&mut self, bits: &mut [u8]) {
        for b in bits.iter_mut() {
            *b ^= self.next_bit();
        }
    }

    /// Recover the scrambler from the first 7 received SERVICE bits, which are zero
    /// before scrambling and therefore equal the first 7 sequence bits. The returned
    /// scrambler is positioned after those 7 bits, ready to descramble bit 7 onwards.
    ///
    /// # Panics
    /// If `first7` holds fewer than 7 bits. Only the low bit of each value is used.
    /// An all-zero input (impossible from a valid seed) yields the all-ones state so that
    /// the call never panics on corrupted input; the caller will see a failed FCS.
    pub fn from_service_bits(first7: &[u8]) -> Scrambler {
        assert!(
            first7.len() >= 7,
            "SERVICE bits: expected at least 7, got {}",
            first7.len()
        );
        // After seven steps the register holds exactly the seven output bits, the
        // oldest in bit 6.
        let state = first7[..7].iter().fold(0u8, |acc, &b| (acc << 1) | (b & 1));
        Scrambler {
            state: if state == 0 { 0x7f } else { state },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 127-bit sequence produced from the all-ones initial state, as printed in
    /// IEEE 802.11-2016 17.3.5.5 (grouped in octets as in the standard).
    const ALL_ONES_SEQUENCE: &str = "00001110 11110010 11001001 00000010 00100110 00101110 \
        10110110 00001100 11010100 11100111 10110100 00101010 11111010 01010001 \
        10111000 1111111";

    fn parse_bits(s: &str) -> Vec<u8> {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| (c == '1') as u8)
            .collect()
    }

    #[test]
    fn all_ones_seed_gives_the_sequence_of_17_3_5_5() {
        let expected = parse_bits(ALL_ONES_SEQUENCE);
        assert_eq!(expected.len(), SCRAMBLER_PERIOD);
        let mut s = Scrambler::new(0x7f);
        let got: Vec<u8> = (0..SCRAMBLER_PERIOD).map(|_| s.next_bit()).collect();
        assert_eq!(got, expected, "feedback taps or shift direction are wrong");
    }

    #[test]
    fn period_is_127_for_every_seed() {
        for seed in 1..128u8 {
            let mut s = Scrambler::new(seed);
            let first: Vec<u8> = (0..SCRAMBLER_PERIOD).map(|_| s.next_bit()).collect();
            assert_eq!(
                s.state(),
                seed,
                "seed {seed}: state must return after 127 steps"
            );
            let second: Vec<u8> = (0..SCRAMBLER_PERIOD).map(|_| s.next_bit()).collect();
            assert_eq!(first, second);
            // A maximal-length sequence never returns to its start earlier.
            let mut t = Scrambler::new(seed);
            for step in 1..SCRAMBLER_PERIOD {
                t.next_bit();
                assert_ne!(
                    t.state(),
                    seed,
                    "seed {seed}: period shorter than 127 ({step})"
                );
            }
            // 64 ones and 63 zeros per period.
            assert_eq!(first.iter().map(|&b| b as usize).sum::<usize>(), 64);
        }
    }

    #[test]
    fn scramble_twice_is_identity_and_service_recovers_state() {
        let data: Vec<u8> = (0..300).map(|i| ((i * 7 + i / 3) % 2) as u8).collect();
        for seed in [1u8, 0x5d, 0x7f, 0x40] {
            let mut bits = vec![0u8; 7];
            bits.extend_from_slice(&data);
            let mut tx = Scrambler::new(seed);
            tx.scramble(&mut bits);
            let mut rx = Scrambler::from_service_bits(&bits[..7]);
            let mut rest = bits[7..].to_vec();
            rx.scramble(&mut rest);
            assert_eq!(
                rest, data,
                "seed {seed}: descrambling after state recovery failed"
            );
        }
    }

    #[test]
    #[should_panic(expected = "nonzero")]
    fn zero_seed_is_rejected() {
        let _ = Scrambler::new(0x80);
    }

    #[test]
    fn annex_i_seed_sequence() {
        // IEEE 802.11-2016 Table I-14: 127 sequence bits from state 1011101.
        let expected = crate::phy::annex_i::bits_from_str(crate::phy::annex_i::SCRAMBLER_SEQUENCE);
        let mut s = Scrambler::new(ANNEX_I_SEED);
        let got: Vec<u8> = (0..SCRAMBLER_PERIOD).map(|_| s.next_bit()).collect();
        assert_eq!(
            got, expected,
            "state bit order (x7 in bit 6) disagrees with Annex I"
        );
    }
}
