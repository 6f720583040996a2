//! Convolutional encoder and puncturing, IEEE 802.11-2016 17.3.5.6.
//!
//! Industry-standard rate-1/2 code, constraint length K = 7, generator polynomials
//! g0 = 133 (octal) giving output A and g1 = 171 (octal) giving output B. The encoder
//! starts in the all-zero state. Higher rates puncture the A/B sequence (Figure 17-9).

use super::rate::CodeRate;

/// Constraint length K.
pub const CONSTRAINT_LEN: usize = 7;
/// Generator polynomial g0 (output A), octal 133.
pub const G0: u8 = 0o133;
/// Generator polynomial g1 (output B), octal 171.
pub const G1: u8 = 0o171;

/// Encode `bits` (values 0/1) with the rate-1/2 mother code.
///
/// Returns `2 * bits.len()` coded bits in the order A0 B0 A1 B1 ... The caller appends
/// the six zero tail bits that return the encoder to the zero state.
pub fn conv_encode(bits: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * bits.len());
    // Bit 6 holds the newest input, bit 0 the input six steps ago, so that the
    // polynomial coefficient of D^0 (MSB of the octal constant) lines up with bit 6.
    let mut reg: u8 = 0;
    for &b in bits {
        reg = (reg >> 1) | ((b & 1) << 6);
        out.push(((reg & G0).count_ones() & 1) as u8);
        out.push(((reg & G1).count_ones() & 1) as u8);
    }
    out
}

/// Puncturing pattern over the A/B mother-code sequence (A0 B0 A1 B1 ...), one period;
/// `true` marks a transmitted bit. Figure 17-9: rate 3/4 drops B1 and A2, rate 2/3
/// drops B1.
pub fn puncture_pattern(rate: CodeRate) -> &'static [bool] {
    match rate {
        CodeRate::Half => &[true, true],
        CodeRate::TwoThirds => &[true, true, true, false],
        CodeRate::ThreeQuarters => &[true, true, true, false, false, true],
    }
}

/// Remove the stolen bits of `coded` (mother-code output, A/B interleaved) for `rate`.
///
/// Returns the transmitted bits in order. `coded.len()` need not be a multiple of the
/// pattern period; the pattern restarts at index 0.
pub fn puncture(coded: &[u8], rate: CodeRate) -> Vec<u8> {
    let pattern = puncture_pattern(rate);
    coded
        .iter()
        .zip(pattern.iter().cycle())
        .filter(|(_, &keep)| keep)
        .map(|(&b, _)| b)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rate::Rate;

    /// Direct evaluation of the generator polynomials: output A at time n is
    /// the XOR of x[n - d] over the delays d where g0 has a one (coefficient of D^d
    /// read from the most significant of the 7 bits).
    fn naive_encode(bits: &[u8]) -> Vec<u8> {
        let taps = |g: u8| -> Vec<usize> { (0..7).filter(|d| (g >> (6 - d)) & 1 == 1).collect() };
        let (ta, tb) = (taps(G0), taps(G1));
        let x = |n: isize| -> u8 {
            if n < 0 {
                0
            } else {
                bits[n as usize]
            }
        };
        let mut out = Vec::new();
        for n in 0..bits.len() as isize {
            let a = ta.iter().fold(0, |acc, &d| acc ^ x(n - d as isize));
            let b = tb.iter().fold(0, |acc, &d| acc ^ x(n - d as isize));
            out.push(a);
            out.push(b);
        }
        out
    }

    #[test]
    fn polynomial_taps() {
        // 133o = 1 011 011: delays 0, 2, 3, 5, 6. 171o = 1 111 001: delays 0, 1, 2, 3, 6.
        let impulse = {
            let mut v = vec![1u8];
            v.extend([0u8; 6]);
            conv_encode(&v)
        };
        let a: Vec<u8> = impulse.iter().step_by(2).copied().collect();
        let b: Vec<u8> = impulse.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(a, [1, 0, 1, 1, 0, 1, 1], "impulse response of g0 (A)");
        assert_eq!(b, [1, 1, 1, 1, 0, 0, 1], "impulse response of g1 (B)");
    }

    #[test]
    fn matches_naive_polynomial_evaluation() {
        let mut x = 0x1234_5678u32;
        let bits: Vec<u8> = (0..500)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x & 1) as u8
            })
            .collect();
        assert_eq!(conv_encode(&bits), naive_encode(&bits));
    }

    #[test]
    fn punctured_lengths_give_n_cbps_per_n_dbps() {
        for rate in Rate::ALL {
            let coded = conv_encode(&vec![0u8; rate.n_dbps()]);
            assert_eq!(
                puncture(&coded, rate.code_rate()).len(),
                rate.n_cbps(),
                "{rate}: one symbol of data bits must fill one symbol of coded bits"
            );
        }
    }

    #[test]
    fn three_quarter_pattern_keeps_a0_b0_a1_b2() {
        let coded: Vec<u8> = (0..12).collect();
        assert_eq!(
            puncture(&coded, CodeRate::ThreeQuarters),
            [0, 1, 2, 5, 6, 7, 8, 11]
        );
        assert_eq!(
            puncture(&coded, CodeRate::TwoThirds),
            [0, 1, 2, 4, 5, 6, 8, 9, 10]
        );
        assert_eq!(puncture(&coded, CodeRate::Half), coded);
    }
}
