//! Block interleaver of one OFDM symbol, IEEE 802.11-2016 17.3.5.7.
//!
//! Two permutations: the first (Equation 17-16) maps adjacent coded bits onto
//! non-adjacent subcarriers, the second (Equation 17-17) alternates adjacent coded
//! bits between more and less significant constellation bits.

/// Interleaver permutation for `n_cbps` coded bits per symbol and `n_bpsc` bits per
/// subcarrier: `perm[k] = j` means coded bit `k` is transmitted at position `j`.
///
/// # Panics
/// If `n_cbps` is not a positive multiple of 16 or `n_bpsc` is zero.
pub fn interleaver_permutation(n_cbps: usize, n_bpsc: usize) -> Vec<usize> {
    assert!(
        n_cbps > 0 && n_cbps.is_multiple_of(16) && n_bpsc > 0,
        "interleaver: expected n_cbps a positive multiple of 16 and n_bpsc > 0, got \
         n_cbps = {n_cbps}, n_bpsc = {n_bpsc}"
    );
    let s = (n_bpsc / 2).max(1);
    (0..n_cbps)
        .map(|k| {
            let i = (n_cbps / 16) * (k % 16) + k / 16;
            s * (i / s) + (i + n_cbps - (16 * i / n_cbps)) % s
        })
        .collect()
}

/// Interleave one symbol: `out[perm[k]] = coded[k]`.
///
/// # Panics
/// If `coded.len() != perm.len()`.
pub fn interleave<T: Copy + Default>(coded: &[T], perm: &[usize]) -> Vec<T> {
    assert_eq!(
        coded.len(),
        perm.len(),
        "interleave: symbol length versus permutation"
    );
    let mut out = vec![T::default(); coded.len()];
    for (k, &j) in perm.iter().enumerate() {
        out[j] = coded[k];
    }
    out
}

/// Undo [`interleave`]: `out[k] = received[perm[k]]`. Generic so that soft values
/// (log-likelihood ratios) can be deinterleaved as well as bits.
///
/// # Panics
/// If `received.len() != perm.len()`.
pub fn deinterleave<T: Copy>(received: &[T], perm: &[usize]) -> Vec<T> {
    assert_eq!(
        received.len(),
        perm.len(),
        "deinterleave: symbol length versus permutation"
    );
    perm.iter().map(|&j| received[j]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::rate::Rate;

    /// Equations 17-16 and 17-17 as written, with floor() spelled out.
    fn naive(n_cbps: usize, n_bpsc: usize) -> Vec<usize> {
        let s = std::cmp::max(n_bpsc / 2, 1) as f64;
        let n = n_cbps as f64;
        (0..n_cbps)
            .map(|k| {
                let k = k as f64;
                let i = (n / 16.0) * (k % 16.0) + (k / 16.0).floor();
                let j = s * (i / s).floor() + (i + n - (16.0 * i / n).floor()) % s;
                j as usize
            })
            .collect()
    }

    #[test]
    fn permutation_is_a_bijection_matching_the_equations() {
        for rate in Rate::ALL {
            let perm = interleaver_permutation(rate.n_cbps(), rate.n_bpsc());
            assert_eq!(perm, naive(rate.n_cbps(), rate.n_bpsc()), "{rate}");
            let mut seen = vec![false; perm.len()];
            for &j in &perm {
                assert!(!seen[j], "{rate}: position {j} used twice");
                seen[j] = true;
            }
        }
    }

    #[test]
    fn deinterleave_inverts_interleave() {
        for rate in Rate::ALL {
            let perm = interleaver_permutation(rate.n_cbps(), rate.n_bpsc());
            let data: Vec<u32> = (0..rate.n_cbps() as u32).collect();
            let tx = interleave(&data, &perm);
            assert_ne!(tx, data, "{rate}: interleaving must move bits");
            assert_eq!(deinterleave(&tx, &perm), data, "{rate}");
        }
    }

    #[test]
    fn adjacent_bits_land_on_distant_subcarriers() {
        // First permutation: coded bits k and k+1 are 3 subcarriers apart (n_cbps / 16
        // positions of n_bpsc bits each) for every rate.
        for rate in Rate::ALL {
            let perm = interleaver_permutation(rate.n_cbps(), rate.n_bpsc());
            for k in 0..15 {
                let sc = |j: usize| j / rate.n_bpsc();
                assert_eq!(
                    sc(perm[k + 1]) as i64 - sc(perm[k]) as i64,
                    3,
                    "{rate}, k {k}"
                );
            }
        }
    }
}
