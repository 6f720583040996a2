//! Subcarrier layout of the 20 MHz OFDM PHY, IEEE 802.11-2016 17.3.5.10.
//!
//! Subcarrier indices run from -26 to 26; index 0 (DC) is unused, four carry pilots and
//! the other 48 carry data. FFT bin of subcarrier `k` is `k mod 64`.

/// FFT size, `N_FFT`.
pub const FFT_LEN: usize = 64;
/// Cyclic prefix (guard interval) in samples, `T_GI` at 20 MHz.
pub const CP_LEN: usize = 16;
/// One OFDM symbol with its cyclic prefix, in samples.
pub const SYMBOL_LEN: usize = FFT_LEN + CP_LEN;
/// Number of data subcarriers, `N_SD`.
pub const N_DATA: usize = 48;
/// Number of pilot subcarriers, `N_SP`.
pub const N_PILOTS: usize = 4;
/// Number of used (data plus pilot) subcarriers, `N_ST`.
pub const N_USED: usize = N_DATA + N_PILOTS;
/// Sample rate of the PHY, 20 MHz channel spacing.
pub const SAMPLE_RATE_HZ: f64 = 20e6;

/// Pilot subcarrier indices, in increasing order.
pub const PILOT_SUBCARRIERS: [i32; N_PILOTS] = [-21, -7, 7, 21];

/// Data subcarrier indices in the order data symbols `d_0 .. d_47` are placed on them
/// (Equation 17-23: `M(k)` maps data index k to subcarrier -26 .. 26, skipping pilots and DC).
pub const DATA_SUBCARRIERS: [i32; N_DATA] = data_subcarriers();

const fn data_subcarriers() -> [i32; N_DATA] {
    let mut out = [0i32; N_DATA];
    let mut k = -26;
    let mut i = 0;
    while k <= 26 {
        if k != 0 && k != -21 && k != -7 && k != 7 && k != 21 {
            out[i] = k;
            i += 1;
        }
        k += 1;
    }
    out
}

/// FFT bin (0 .. 64) that carries subcarrier `k` (-32 .. 31).
pub const fn fft_bin(k: i32) -> usize {
    k.rem_euclid(FFT_LEN as i32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_subcarrier_mapping_matches_equation_17_23() {
        // M(k) = k - 26 for k = 0..4, k - 25 for 5..17, k - 24 for 18..23,
        // k - 23 for 24..29, k - 22 for 30..42, k - 21 for 43..47.
        for (k, &sc) in DATA_SUBCARRIERS.iter().enumerate() {
            let k = k as i32;
            let m = match k {
                0..=4 => k - 26,
                5..=17 => k - 25,
                18..=23 => k - 24,
                24..=29 => k - 23,
                30..=42 => k - 22,
                _ => k - 21,
            };
            assert_eq!(sc, m, "data index {k}");
        }
    }

    #[test]
    fn bins_are_distinct_and_skip_dc() {
        let mut seen = [false; FFT_LEN];
        for k in DATA_SUBCARRIERS.iter().chain(PILOT_SUBCARRIERS.iter()) {
            let b = fft_bin(*k);
            assert!(!seen[b]);
            seen[b] = true;
        }
        assert!(!seen[0]);
        assert_eq!(seen.iter().filter(|s| **s).count(), N_USED);
    }
}
