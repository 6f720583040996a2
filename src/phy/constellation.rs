//! Subcarrier modulation mapping, IEEE 802.11-2016 17.3.5.8.
//!
//! Gray-coded BPSK, QPSK, 16-QAM and 64-QAM (Tables 17-7 to 17-10), scaled by the
//! normalization factor `K_MOD` of Table 17-11 so that every constellation has unit
//! average power. The first bit of each group selects the in-phase level.

use super::rate::Modulation;
use num_complex::Complex32;

/// Normalization factor `K_MOD` (Table 17-11): 1, 1/sqrt(2), 1/sqrt(10), 1/sqrt(42).
pub fn k_mod(m: Modulation) -> f32 {
    match m {
        Modulation::Bpsk => 1.0,
        Modulation::Qpsk => std::f32::consts::FRAC_1_SQRT_2,
        Modulation::Qam16 => 1.0 / 10f32.sqrt(),
        Modulation::Qam64 => 1.0 / 42f32.sqrt(),
    }
}

/// Gray-coded amplitude level on one axis for `bits` (first bit most significant),
/// before `K_MOD`: 1 bit -> +-1, 2 bits -> +-1, +-3, 3 bits -> +-1 .. +-7.
///
/// Tables 17-8..17-10: the first bit gives the sign (1 positive); the remaining bits,
/// Gray coded, give the magnitude, with 0 on the outermost level.
fn axis_level(bits: &[u8]) -> f32 {
    let sign = if bits[0] & 1 == 1 { 1.0 } else { -1.0 };
    match bits.len() {
        1 => sign,
        2 => sign * if bits[1] & 1 == 1 { 1.0 } else { 3.0 },
        _ => {
            // b1 b2 = 00 -> 7, 01 -> 5, 11 -> 3, 10 -> 1 (magnitude), Table 17-10.
            let mag = match (bits[1] & 1, bits[2] & 1) {
                (0, 0) => 7.0,
                (0, 1) => 5.0,
                (1, 1) => 3.0,
                _ => 1.0,
            };
            sign * mag
        }
    }
}

/// Map `bits` (values 0/1) to constellation points of `m`, appending
/// `bits.len() / n_bpsc` points to `out`.
///
/// # Panics
/// If `bits.len()` is not a multiple of `N_BPSC` of `m`.
pub fn map_bits(bits: &[u8], m: Modulation, out: &mut Vec<Complex32>) {
    let n_bpsc = m.n_bpsc();
    assert!(
        bits.len().is_multiple_of(n_bpsc),
        "map_bits: expected a multiple of {n_bpsc} bits, got {}",
        bits.len()
    );
    let k = k_mod(m);
    out.reserve(bits.len() / n_bpsc);
    for group in bits.chunks_exact(n_bpsc) {
        let point = if n_bpsc == 1 {
            Complex32::new(axis_level(group), 0.0)
        } else {
            let half = n_bpsc / 2;
            Complex32::new(axis_level(&group[..half]), axis_level(&group[half..]))
        };
        out.push(point * k);
    }
}

/// All `2^N_BPSC` points of `m`, indexed by the bit group read as a binary number with
/// the first bit most significant.
pub fn constellation_points(m: Modulation) -> Vec<Complex32> {
    let n_bpsc = m.n_bpsc();
    let mut out = Vec::with_capacity(1 << n_bpsc);
    for v in 0..(1usize << n_bpsc) {
        let bits: Vec<u8> = (0..n_bpsc)
            .map(|i| ((v >> (n_bpsc - 1 - i)) & 1) as u8)
            .collect();
        map_bits(&bits, m, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Modulation; 4] = [
        Modulation::Bpsk,
        Modulation::Qpsk,
        Modulation::Qam16,
        Modulation::Qam64,
    ];

    #[test]
    fn unit_average_power() {
        for m in ALL {
            let pts = constellation_points(m);
            let p = pts.iter().map(|c| c.norm_sqr()).sum::<f32>() / pts.len() as f32;
            assert!((p - 1.0).abs() < 1e-6, "{m:?}: K_MOD wrong, power {p}");
        }
    }

    #[test]
    fn gray_neighbours_differ_in_one_bit() {
        for m in ALL {
            let pts = constellation_points(m);
            let step = 2.0 * k_mod(m);
            for (a, pa) in pts.iter().enumerate() {
                for (b, pb) in pts.iter().enumerate() {
                    if ((pa - pb).norm() - step).abs() < 1e-4 {
                        assert_eq!((a ^ b).count_ones(), 1, "{m:?}: {a:b} vs {b:b}");
                    }
                }
            }
        }
    }

    #[test]
    fn table_entries() {
        // Table 17-9 (16-QAM): bits 00 -> -3, 01 -> -1, 11 -> +1, 10 -> +3 on each axis.
        let mut out = Vec::new();
        map_bits(&[0, 0, 1, 0, 1, 1, 0, 1], Modulation::Qam16, &mut out);
        let k = k_mod(Modulation::Qam16);
        assert!((out[0] - Complex32::new(-3.0, 3.0) * k).norm() < 1e-6);
        assert!((out[1] - Complex32::new(1.0, -1.0) * k).norm() < 1e-6);
        // Table 17-10 (64-QAM): 000 -> -7, 001 -> -5, 011 -> -3, 010 -> -1, 110 -> 1,
        // 111 -> 3, 101 -> 5, 100 -> 7.
        let levels = [-7.0, -5.0, -1.0, -3.0, 7.0, 5.0, 1.0, 3.0];
        for (v, &lvl) in levels.iter().enumerate() {
            let b = [(v >> 2) as u8 & 1, (v >> 1) as u8 & 1, v as u8 & 1];
            let mut o = Vec::new();
            map_bits(&[b[0], b[1], b[2], 0, 0, 0], Modulation::Qam64, &mut o);
            assert!(
                (o[0].re - lvl * k_mod(Modulation::Qam64)).abs() < 1e-6,
                "{b:?}"
            );
        }
        // BPSK: 0 -> -1, 1 -> +1; QPSK: first bit I, second bit Q.
        let mut o = Vec::new();
        map_bits(&[0, 1], Modulation::Bpsk, &mut o);
        map_bits(&[1, 0], Modulation::Qpsk, &mut o);
        assert_eq!(o[0], Complex32::new(-1.0, 0.0));
        assert_eq!(o[1], Complex32::new(1.0, 0.0));
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((o[2] - Complex32::new(h, -h)).norm() < 1e-7);
    }
}
