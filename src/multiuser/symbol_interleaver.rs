//! Symbol interleaver of a semantic frame: spreads consecutive channel symbols (the 16
//! symbols of one token) over subcarriers and OFDM symbols.
//!
//! A frame of `n` channel symbols occupies `s = ceil(n / 48)` payload OFDM symbols; the
//! PHY carries position `p` on data subcarrier `p % 48` of payload OFDM symbol `p / 48`.
//! On the full `s x 48` grid, input symbol `j` goes to
//!
//! ```text
//! t = j mod s                          (OFDM symbol: consecutive inputs step through time)
//! k = j div s
//! c = (STRIDE * k + ROTATION * t) mod 48   (subcarrier)
//! position = 48 t + c
//! ```
//!
//! which is a bijection of the grid because `gcd(STRIDE, 48) = 1`. When `n` is not a
//! multiple of 48 the last OFDM symbol is partly empty; the interleaver is *pruned*:
//! inputs are assigned, in order, the grid positions of the sequence above that fall
//! below `n`, so it stays a permutation of `0..n`.
//!
//! Spread (checked by the tests for every `n` from 16 to 2400, the sizes of frames that
//! carry whole tokens): two consecutive symbols never share a subcarrier; when they ride
//! in the same OFDM symbol their subcarriers are at least [`MIN_SUBCARRIER_SPREAD`]
//! apart (circularly), otherwise they are in different OFDM symbols (on the full part of
//! the grid, consecutive symbols step through the OFDM symbols in turn). Any 16
//! consecutive symbols (one token) use at least
//! [`MIN_TOKEN_SUBCARRIERS`] distinct subcarriers, so a faded stretch of the band costs
//! a token only a few of its symbols.

use crate::phy::subcarriers::N_DATA;

/// Subcarrier step between successive columns of the grid (coprime with 48).
pub const STRIDE: usize = 7;
/// Subcarrier rotation from one OFDM symbol to the next (even, so that it never cancels
/// the odd `STRIDE` when a column wraps to the next one).
pub const ROTATION: usize = 20;
/// Smallest circular subcarrier distance of consecutive symbols that share an OFDM
/// symbol (frames of at least 16 symbols).
pub const MIN_SUBCARRIER_SPREAD: usize = 6;
/// Fewest distinct subcarriers among any 16 consecutive symbols of a frame.
pub const MIN_TOKEN_SUBCARRIERS: usize = 11;

/// Carried position of each input symbol: `positions(n)[j]` is where symbol `j` of the
/// message rides in a frame of `n` symbols. A permutation of `0..n`.
pub fn positions(n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let s = n.div_ceil(N_DATA);
    let mut out = Vec::with_capacity(n);
    for j in 0..s * N_DATA {
        let t = j % s;
        let k = j / s;
        let c = (STRIDE * k + ROTATION * t) % N_DATA;
        let p = N_DATA * t + c;
        if p < n {
            out.push(p);
        }
    }
    out
}

/// Reorders `symbols` into carried order: `out[positions[j]] = symbols[j]`.
pub fn interleave<T: Copy + Default>(symbols: &[T]) -> Vec<T> {
    let mut out = vec![T::default(); symbols.len()];
    for (j, &p) in positions(symbols.len()).iter().enumerate() {
        out[p] = symbols[j];
    }
    out
}

/// Inverse of [`interleave`]: `out[j] = carried[positions[j]]`.
pub fn deinterleave<T: Copy>(carried: &[T]) -> Vec<T> {
    positions(carried.len())
        .iter()
        .map(|&p| carried[p])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circular_distance(a: usize, b: usize) -> usize {
        let d = a.abs_diff(b);
        d.min(N_DATA - d)
    }

    #[test]
    fn is_a_permutation_for_every_length() {
        for n in 0..=2400 {
            let mut p = positions(n);
            assert_eq!(p.len(), n, "n = {n}: one position per symbol");
            p.sort_unstable();
            assert!(
                p.iter().enumerate().all(|(i, &v)| i == v),
                "n = {n}: positions must be 0..n exactly once (a lost or doubled symbol)"
            );
        }
    }

    #[test]
    fn round_trip_restores_the_order() {
        for n in [1, 16, 47, 48, 49, 256, 330, 1000] {
            let x: Vec<u32> = (0..n as u32).collect();
            let carried = interleave(&x);
            assert_ne!(
                n > 1,
                carried == x,
                "n = {n}: interleaving must move symbols"
            );
            assert_eq!(
                deinterleave(&carried),
                x,
                "n = {n}: de-interleaving is the inverse"
            );
        }
    }

    #[test]
    fn consecutive_symbols_are_spread_as_documented() {
        for n in 16..=2400 {
            let p = positions(n);
            for w in p.windows(2) {
                let (sc0, sc1) = (w[0] % N_DATA, w[1] % N_DATA);
                assert_ne!(sc0, sc1, "n = {n}: consecutive symbols share a subcarrier");
                if w[0] / N_DATA == w[1] / N_DATA {
                    assert!(
                        circular_distance(sc0, sc1) >= MIN_SUBCARRIER_SPREAD,
                        "n = {n}: subcarriers {sc0} and {sc1} of one OFDM symbol too close"
                    );
                }
            }
            for token in p.windows(16) {
                let mut sc: Vec<usize> = token.iter().map(|q| q % N_DATA).collect();
                sc.sort_unstable();
                sc.dedup();
                assert!(
                    sc.len() >= MIN_TOKEN_SUBCARRIERS,
                    "n = {n}: 16 consecutive symbols on only {} subcarriers",
                    sc.len()
                );
            }
        }
    }
}
