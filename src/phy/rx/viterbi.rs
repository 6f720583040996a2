//! Soft-decision Viterbi decoder for the 802.11a convolutional code, IEEE 802.11-2016
//! 17.3.5.6: constraint length K = 7, generators g0 = 133 (octal, output A) and
//! g1 = 171 (octal, output B), 64 states.
//!
//! The add-compare-select step works on fixed-size `i16` arrays with no branches, so the
//! compiler vectorizes it; on x86-64 CPUs with AVX2 (detected at run time) an explicit
//! 256-bit version with the same decisions runs instead. Path
//! metrics are renormalized every few steps; decisions are packed into one `u64` per
//! trellis step and the traceback runs once over the whole block, which must end in
//! state 0 (the encoder's tail bits guarantee it).
//!
//! State convention: the state is the last six input bits, the newest in bit 0, so the
//! transition on input `b` goes from `s` to `((s << 1) | b) & 63`.

/// Number of trellis states, 2^(K-1).
const N_STATES: usize = 64;
/// Taps of g0 = 133 (octal) over the register `(s << 1) | b`: delays 0, 2, 3, 5, 6.
const G0_TAPS: u32 = 0b110_1101;
/// Taps of g1 = 171 (octal): delays 0, 1, 2, 3, 6.
const G1_TAPS: u32 = 0b100_1111;
/// Renormalize path metrics every this many steps. With soft values in -127..=127 a step
/// moves a metric by at most 254, so metrics stay far inside the `i16` range.
const RENORM_PERIOD: usize = 16;
/// Initial metric of the states the encoder cannot be in at the start.
const UNREACHABLE: i16 = -4096;

/// Sign (+1 for an expected 1, -1 for an expected 0) of output A on the transition from
/// state `i` with input 0, which leads to state `2i`. Both generators tap delays 0 and 6,
/// so the three other transitions of the butterfly {i, i+32} -> {2i, 2i+1} carry the same
/// or the negated pair of outputs.
const SIGN_A: [i16; 32] = butterfly_signs(G0_TAPS);
/// As [`SIGN_A`], for output B.
const SIGN_B: [i16; 32] = butterfly_signs(G1_TAPS);

const fn butterfly_signs(taps: u32) -> [i16; 32] {
    let mut out = [0i16; 32];
    let mut i = 0;
    while i < 32 {
        let reg = (i as u32) << 1;
        out[i] = if (reg & taps).count_ones() % 2 == 1 {
            1
        } else {
            -1
        };
        i += 1;
    }
    out
}

/// Reusable Viterbi decoder; keeps its decision memory between calls so decoding does not
/// allocate once the largest block has been seen.
#[derive(Debug, Clone, Default)]
pub struct ViterbiDecoder {
    /// One word per trellis step: bit `i` (`i < 32`) is the decision of new state `2i`,
    /// bit `32 + i` that of `2i + 1`; the bit of state `s` is `s` rotated right by one.
    decisions: Vec<u64>,
}

impl ViterbiDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `n_bits` input bits from mother-code soft values and appends them (0/1) to
    /// `out`, clearing it first.
    ///
    /// `soft` holds `2 * n_bits` values A0 B0 A1 B1 ...: positive favours a coded 1,
    /// negative a 0, 0 is an erasure (a punctured bit). The path starts and ends in
    /// state 0, so the last six decoded bits are the zero tail.
    ///
    /// # Panics
    /// If `soft.len() < 2 * n_bits`.
    pub fn decode(&mut self, soft: &[i8], n_bits: usize, out: &mut Vec<u8>) {
        assert!(
            soft.len() >= 2 * n_bits,
            "Viterbi input: expected at least {} soft values, got {}",
            2 * n_bits,
            soft.len()
        );
        self.decisions.clear();
        self.decisions.resize(n_bits, 0);
        forward(&soft[..2 * n_bits], &mut self.decisions);
        out.clear();
        out.resize(n_bits, 0);
        let mut state = 0usize;
        for (t, &dec) in self.decisions.iter().enumerate().rev() {
            out[t] = (state & 1) as u8;
            let bit = (state >> 1) | ((state & 1) << 5);
            let from_upper = (dec >> bit) & 1;
            state = (state >> 1) | ((from_upper as usize) << 5);
        }
    }
}

/// Runs the forward recursion, choosing the widest vector unit the CPU offers.
fn forward(soft: &[i8], decisions: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { avx2::forward(soft, decisions) };
            return;
        }
    }
    forward_generic(soft, decisions);
}

/// Portable forward recursion (and the reference for the AVX2 one).
fn forward_generic(soft: &[i8], decisions: &mut [u64]) {
    let mut metrics = [UNREACHABLE; N_STATES];
    metrics[0] = 0;
    let mut next = [0i16; N_STATES];
    for (t, (pair, dec)) in soft.chunks_exact(2).zip(decisions.iter_mut()).enumerate() {
        *dec = acs_step(&metrics, &mut next, pair[0] as i16, pair[1] as i16);
        metrics = next;
        if t % RENORM_PERIOD == RENORM_PERIOD - 1 {
            let reference = metrics[0];
            for m in metrics.iter_mut() {
                *m -= reference;
            }
        }
    }
}

/// One add-compare-select step over the 32 butterflies {i, i+32} -> {2i, 2i+1}. Returns
/// the decisions: a set bit means the new state was reached from its upper predecessor
/// `i + 32`.
#[inline(always)]
fn acs_step(old: &[i16; N_STATES], new: &mut [i16; N_STATES], soft_a: i16, soft_b: i16) -> u64 {
    let (lower, upper) = old.split_at(32);
    let mut word = 0u64;
    for i in 0..32 {
        let branch = SIGN_A[i] * soft_a + SIGN_B[i] * soft_b;
        let m_even_lower = lower[i] + branch;
        let m_even_upper = upper[i] - branch;
        let m_odd_lower = lower[i] - branch;
        let m_odd_upper = upper[i] + branch;
        new[2 * i] = m_even_lower.max(m_even_upper);
        new[2 * i + 1] = m_odd_lower.max(m_odd_upper);
        word |= ((m_even_upper > m_even_lower) as u64) << i;
        word |= ((m_odd_upper > m_odd_lower) as u64) << (32 + i);
    }
    word
}

/// The same recursion on 256-bit vectors: 64 metrics in four registers, the decisions
/// of a step packed with a byte pack, a quarter permute and a movemask.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{N_STATES, RENORM_PERIOD, SIGN_A, SIGN_B, UNREACHABLE};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn forward(soft: &[i8], decisions: &mut [u64]) {
        let mut init = [UNREACHABLE; N_STATES];
        init[0] = 0;
        // SAFETY (all loads and stores): unaligned 256-bit accesses to arrays of exactly
        // 16 i16 lanes each.
        let ld = |p: &[i16]| unsafe { _mm256_loadu_si256(p.as_ptr() as *const __m256i) };
        let sign_a = [ld(&SIGN_A[..16]), ld(&SIGN_A[16..])];
        let sign_b = [ld(&SIGN_B[..16]), ld(&SIGN_B[16..])];
        let mut m = [
            ld(&init[..16]),
            ld(&init[16..32]),
            ld(&init[32..48]),
            ld(&init[48..]),
        ];
        for (t, (pair, dec)) in soft.chunks_exact(2).zip(decisions.iter_mut()).enumerate() {
            let a = _mm256_set1_epi16(pair[0] as i16);
            let b = _mm256_set1_epi16(pair[1] as i16);
            let mut even = [_mm256_setzero_si256(); 2];
            let mut odd = [_mm256_setzero_si256(); 2];
            let mut dec_even = [_mm256_setzero_si256(); 2];
            let mut dec_odd = [_mm256_setzero_si256(); 2];
            for j in 0..2 {
                let branch = _mm256_add_epi16(
                    _mm256_sign_epi16(a, sign_a[j]),
                    _mm256_sign_epi16(b, sign_b[j]),
                );
                let (lower, upper) = (m[j], m[j + 2]);
                let even_lower = _mm256_add_epi16(lower, branch);
                let even_upper = _mm256_sub_epi16(upper, branch);
                let odd_lower = _mm256_sub_epi16(lower, branch);
                let odd_upper = _mm256_add_epi16(upper, branch);
                even[j] = _mm256_max_epi16(even_lower, even_upper);
                odd[j] = _mm256_max_epi16(odd_lower, odd_upper);
                dec_even[j] = _mm256_cmpgt_epi16(even_upper, even_lower);
                dec_odd[j] = _mm256_cmpgt_epi16(odd_upper, odd_lower);
            }
            // The byte pack works per 128-bit lane; reorder its 64-bit quarters
            // (0, 2, 1, 3) so byte i holds butterfly i.
            let pack = |x: __m256i, y: __m256i| {
                _mm256_movemask_epi8(_mm256_permute4x64_epi64::<0xd8>(_mm256_packs_epi16(x, y)))
            };
            let mask_even = pack(dec_even[0], dec_even[1]);
            let mask_odd = pack(dec_odd[0], dec_odd[1]);
            *dec = (mask_even as u32 as u64) | ((mask_odd as u32 as u64) << 32);
            for j in 0..2 {
                // New states 32j .. 32j + 32 interleave even and odd butterflies
                // 16j .. 16j + 16: state 2i from even[i], 2i + 1 from odd[i].
                let lo = _mm256_unpacklo_epi16(even[j], odd[j]);
                let hi = _mm256_unpackhi_epi16(even[j], odd[j]);
                m[2 * j] = _mm256_permute2x128_si256::<0x20>(lo, hi);
                m[2 * j + 1] = _mm256_permute2x128_si256::<0x31>(lo, hi);
            }
            if t % RENORM_PERIOD == RENORM_PERIOD - 1 {
                let reference = _mm256_set1_epi16(_mm256_extract_epi16::<0>(m[0]) as i16);
                for v in m.iter_mut() {
                    *v = _mm256_sub_epi16(*v, reference);
                }
            }
        }
    }
}

/// Reference encoder of the same code, for tests in this module and its neighbours.
#[cfg(test)]
pub(crate) fn reference_encode(bits: &[u8]) -> Vec<u8> {
    let mut state = 0u32;
    let mut out = Vec::with_capacity(2 * bits.len());
    for &b in bits {
        let reg = (state << 1) | b as u32;
        out.push(((reg & G0_TAPS).count_ones() % 2) as u8);
        out.push(((reg & G1_TAPS).count_ones() % 2) as u8);
        state = reg & 63;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn to_soft(coded: &[u8], magnitude: i8) -> Vec<i8> {
        coded
            .iter()
            .map(|&c| if c == 1 { magnitude } else { -magnitude })
            .collect()
    }

    fn random_block(rng: &mut ChaCha8Rng, n_info: usize) -> Vec<u8> {
        let mut bits: Vec<u8> = (0..n_info).map(|_| rng.random_range(0..2u8)).collect();
        bits.extend_from_slice(&[0; 6]);
        bits
    }

    #[test]
    fn reference_encoder_matches_generator_polynomials() {
        // An impulse yields the generators themselves: A = 1011011, B = 1111001
        // (133 and 171 octal read from delay 0 to delay 6).
        let coded = reference_encode(&[1, 0, 0, 0, 0, 0, 0]);
        let a: Vec<u8> = coded.iter().step_by(2).copied().collect();
        let b: Vec<u8> = coded.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(a, [1, 0, 1, 1, 0, 1, 1], "g0 = 133 octal");
        assert_eq!(b, [1, 1, 1, 1, 0, 0, 1], "g1 = 171 octal");
    }

    #[test]
    fn reference_encoder_agrees_with_shared_encoder() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let bits = random_block(&mut rng, 500);
        assert_eq!(
            reference_encode(&bits),
            crate::phy::convolutional::conv_encode(&bits)
        );
    }

    #[test]
    fn vector_and_portable_recursions_agree() {
        // Both recursions must make bit-identical decisions on random soft values.
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let soft: Vec<i8> = (0..2 * 3000)
            .map(|_| rng.random_range(-127..=127i8))
            .collect();
        let mut generic = vec![0u64; 3000];
        forward_generic(&soft, &mut generic);
        let mut dispatched = vec![0u64; 3000];
        forward(&soft, &mut dispatched);
        assert_eq!(generic, dispatched);
    }

    #[test]
    fn decodes_clean_codewords_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut dec = ViterbiDecoder::new();
        let mut out = Vec::new();
        for n in [1usize, 7, 100, 4000] {
            let bits = random_block(&mut rng, n);
            dec.decode(&to_soft(&reference_encode(&bits), 50), bits.len(), &mut out);
            assert_eq!(out, bits, "clean codeword of {n} bits must decode exactly");
        }
    }

    #[test]
    fn corrects_scattered_errors_and_erasures() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let bits = random_block(&mut rng, 2000);
        let mut soft = to_soft(&reference_encode(&bits), 40);
        // Flip one coded bit in every 20 and erase one in every 7 (free distance 10).
        for i in (3..soft.len()).step_by(20) {
            soft[i] = -soft[i];
        }
        for i in (5..soft.len()).step_by(7) {
            soft[i] = 0;
        }
        let mut out = Vec::new();
        ViterbiDecoder::new().decode(&soft, bits.len(), &mut out);
        assert_eq!(out, bits, "scattered errors must be corrected");
    }

    /// Correlation metric of a candidate input sequence against the soft values.
    fn path_metric(bits: &[u8], soft: &[i8]) -> i64 {
        reference_encode(bits)
            .iter()
            .zip(soft)
            .map(|(&c, &s)| if c == 1 { s as i64 } else { -(s as i64) })
            .sum()
    }

    #[test]
    fn matches_brute_force_maximum_likelihood() {
        // Exhaustive search over all 2^10 inputs (plus zero tail) must find no path with
        // a better metric than the Viterbi output.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut dec = ViterbiDecoder::new();
        let mut out = Vec::new();
        let n_info = 10;
        for _ in 0..40 {
            let n = n_info + 6;
            let soft: Vec<i8> = (0..2 * n).map(|_| rng.random_range(-127..=127i8)).collect();
            let mut best = i64::MIN;
            for word in 0..(1u32 << n_info) {
                let mut cand: Vec<u8> = (0..n_info).map(|j| ((word >> j) & 1) as u8).collect();
                cand.extend_from_slice(&[0; 6]);
                best = best.max(path_metric(&cand, &soft));
            }
            dec.decode(&soft, n, &mut out);
            assert_eq!(&out[n_info..], &[0; 6], "path must end in state 0");
            assert_eq!(
                path_metric(&out, &soft),
                best,
                "Viterbi path is not the ML path"
            );
        }
    }

    /// Release-build throughput of the decoder alone: `cargo test --release --lib
    /// viterbi_throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn viterbi_throughput() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let bits = random_block(&mut rng, 8000);
        let soft = to_soft(&reference_encode(&bits), 30);
        let mut dec = ViterbiDecoder::new();
        let mut out = Vec::new();
        let reps = 500;
        let t0 = std::time::Instant::now();
        for _ in 0..reps {
            dec.decode(&soft, bits.len(), &mut out);
        }
        let secs = t0.elapsed().as_secs_f64();
        assert_eq!(out, bits);
        println!(
            "Viterbi: {:.1} Mbit/s",
            (reps * bits.len()) as f64 / secs / 1e6
        );
    }
}
