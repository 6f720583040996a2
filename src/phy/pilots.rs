//! Pilot subcarriers, IEEE 802.11-2016 17.3.5.10.
//!
//! Subcarriers -21, -7, 7 and 21 carry BPSK pilots `P_base = (1, 1, 1, -1)` multiplied
//! by the polarity `p_n` of OFDM symbol `n`, where SIGNAL is `n = 0` and the DATA
//! symbols follow. `p_n` (Equation 17-25) is the scrambler sequence of the all-ones
//! state with 0 mapped to +1 and 1 to -1, cyclic with period 127.

/// Pilot values before polarity on subcarriers -21, -7, 7, 21 (Equation 17-24).
pub const PILOT_BASE: [f32; 4] = [1.0, 1.0, 1.0, -1.0];

/// Polarity sequence `p_0 .. p_126`, Equation 17-25.
#[rustfmt::skip]
pub const PILOT_POLARITY: [f32; 127] = [
     1.,  1.,  1.,  1., -1., -1., -1.,  1., -1., -1., -1., -1.,  1.,  1., -1.,  1.,
    -1., -1.,  1.,  1., -1.,  1.,  1., -1.,  1.,  1.,  1.,  1.,  1.,  1., -1.,  1.,
     1.,  1., -1.,  1.,  1., -1., -1.,  1.,  1.,  1., -1.,  1., -1., -1., -1.,  1.,
    -1.,  1., -1., -1.,  1., -1., -1.,  1.,  1.,  1.,  1.,  1., -1., -1.,  1.,  1.,
    -1., -1.,  1., -1.,  1., -1.,  1.,  1., -1., -1., -1.,  1.,  1., -1., -1., -1.,
    -1.,  1., -1., -1.,  1., -1.,  1.,  1.,  1.,  1., -1.,  1., -1.,  1., -1.,  1.,
    -1., -1., -1., -1., -1.,  1., -1.,  1.,  1., -1.,  1., -1.,  1.,  1.,  1., -1.,
    -1.,  1., -1., -1., -1.,  1.,  1.,  1., -1., -1., -1., -1., -1., -1., -1.,
];

/// Pilot polarity `p_n` of OFDM symbol `symbol_index` (SIGNAL is 0), cyclic in 127.
pub fn pilot_polarity(symbol_index: usize) -> f32 {
    PILOT_POLARITY[symbol_index % PILOT_POLARITY.len()]
}

/// The four pilot values of OFDM symbol `symbol_index`, for subcarriers -21, -7, 7, 21.
pub fn pilot_values(symbol_index: usize) -> [f32; 4] {
    let p = pilot_polarity(symbol_index);
    PILOT_BASE.map(|b| b * p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::scrambler::Scrambler;

    #[test]
    fn polarity_is_the_all_ones_scrambler_sequence() {
        let mut s = Scrambler::new(0x7f);
        for (n, &p) in PILOT_POLARITY.iter().enumerate() {
            let expected = if s.next_bit() == 0 { 1.0 } else { -1.0 };
            assert_eq!(
                p, expected,
                "p_{n} disagrees with the scrambler of 17.3.5.5"
            );
        }
        assert_eq!(
            pilot_polarity(127),
            pilot_polarity(0),
            "polarity must wrap at 127"
        );
        assert_eq!(pilot_values(1), [1.0, 1.0, 1.0, -1.0]);
        assert_eq!(pilot_values(4), [-1.0, -1.0, -1.0, 1.0]);
    }
}
