//! OFDM modulation of one symbol, IEEE 802.11-2016 17.3.5.10.
//!
//! 48 data values and 4 pilots are placed on their subcarriers, transformed with a
//! 64-point inverse FFT and preceded by a 16-sample cyclic prefix (the last 16 samples
//! of the symbol). Samples are the unnormalized inverse DFT sum divided by sqrt(52), so
//! a symbol of unit-power subcarriers has unit average power per sample.
//!
//! No time-domain windowing (Equation 17-4 with T_TR > 0) is applied: consecutive
//! symbols abut without overlap.

use crate::phy::pilots::pilot_values;
use crate::phy::subcarriers::{
    fft_bin, CP_LEN, DATA_SUBCARRIERS, FFT_LEN, N_DATA, N_USED, PILOT_SUBCARRIERS, SYMBOL_LEN,
};
use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Frequency-domain symbol, indexed by FFT bin: `data[i]` on subcarrier
/// `DATA_SUBCARRIERS[i]`, the pilots of OFDM symbol `pilot_index` (SIGNAL is 0) on
/// -21, -7, 7, 21, zeros elsewhere.
pub fn frequency_domain_symbol(
    data: &[Complex32; N_DATA],
    pilot_index: usize,
) -> [Complex32; FFT_LEN] {
    let mut bins = [Complex32::default(); FFT_LEN];
    for (&k, &d) in DATA_SUBCARRIERS.iter().zip(data.iter()) {
        bins[fft_bin(k)] = d;
    }
    for (&k, p) in PILOT_SUBCARRIERS.iter().zip(pilot_values(pilot_index)) {
        bins[fft_bin(k)] = Complex32::new(p, 0.0);
    }
    bins
}

/// Inverse-FFT OFDM modulator with its FFT plan and work buffers.
pub struct OfdmModulator {
    ifft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    scale: f32,
}

impl OfdmModulator {
    pub fn new() -> OfdmModulator {
        let ifft = FftPlanner::new().plan_fft_inverse(FFT_LEN);
        let scratch = vec![Complex32::default(); ifft.get_inplace_scratch_len()];
        OfdmModulator {
            ifft,
            buf: vec![Complex32::default(); FFT_LEN],
            scratch,
            scale: 1.0 / (N_USED as f32).sqrt(),
        }
    }

    /// Append one OFDM symbol (80 samples: 16 cyclic prefix + 64) carrying `data` on the
    /// data subcarriers and the pilots of symbol `pilot_index` (SIGNAL is 0).
    pub fn modulate(
        &mut self,
        data: &[Complex32; N_DATA],
        pilot_index: usize,
        out: &mut Vec<Complex32>,
    ) {
        self.modulate_bins(&frequency_domain_symbol(data, pilot_index), out);
    }

    /// Append the 80-sample symbol (cyclic prefix + 64) of arbitrary FFT bins.
    pub fn modulate_bins(&mut self, bins: &[Complex32; FFT_LEN], out: &mut Vec<Complex32>) {
        self.buf.copy_from_slice(bins);
        self.ifft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let scale = self.scale;
        out.reserve(SYMBOL_LEN);
        out.extend(self.buf[FFT_LEN - CP_LEN..].iter().map(|&x| x * scale));
        out.extend(self.buf.iter().map(|&x| x * scale));
    }
}

impl Default for OfdmModulator {
    fn default() -> Self {
        OfdmModulator::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::constellation::map_bits;
    use crate::phy::pilots::pilot_polarity;
    use crate::phy::preamble::reference_idft;
    use crate::phy::rate::Modulation;

    fn random_qam64(seed: u32) -> [Complex32; N_DATA] {
        let mut x = seed | 1;
        let bits: Vec<u8> = (0..N_DATA * 6)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 7 & 1) as u8
            })
            .collect();
        let mut v = Vec::new();
        map_bits(&bits, Modulation::Qam64, &mut v);
        v.try_into().expect("48 points")
    }

    #[test]
    fn cyclic_prefix_is_the_symbol_tail() {
        let mut m = OfdmModulator::new();
        let mut out = Vec::new();
        m.modulate(&random_qam64(7), 3, &mut out);
        assert_eq!(out.len(), SYMBOL_LEN);
        for n in 0..CP_LEN {
            assert_eq!(out[n], out[FFT_LEN + n], "prefix sample {n}");
        }
    }

    #[test]
    fn forward_fft_recovers_data_and_pilots() {
        let mut m = OfdmModulator::new();
        let fft = FftPlanner::new().plan_fft_forward(FFT_LEN);
        for (seed, pilot_index) in [(1u32, 0usize), (2, 4), (3, 126), (4, 200)] {
            let data = random_qam64(seed);
            let mut out = Vec::new();
            m.modulate(&data, pilot_index, &mut out);
            let mut y = out[CP_LEN..].to_vec();
            fft.process(&mut y);
            // x = IDFT-sum / sqrt(52), so the forward FFT returns 64 / sqrt(52) * X.
            let g = (N_USED as f32).sqrt() / FFT_LEN as f32;
            for (i, &k) in DATA_SUBCARRIERS.iter().enumerate() {
                assert!((y[fft_bin(k)] * g - data[i]).norm() < 1e-5, "data {i}");
            }
            for (j, &k) in PILOT_SUBCARRIERS.iter().enumerate() {
                let p = crate::phy::pilots::PILOT_BASE[j] * pilot_polarity(pilot_index);
                assert!((y[fft_bin(k)] * g - p).norm() < 1e-5, "pilot {k}");
            }
            assert!(y[0].norm() < 1e-5, "DC must stay empty");
            for (b, v) in y.iter().enumerate().take(38).skip(27) {
                assert!(v.norm() < 1e-5, "guard bin {b} must stay empty");
            }
        }
    }

    #[test]
    fn fft_matches_naive_inverse_dft_and_has_unit_power() {
        let mut m = OfdmModulator::new();
        let mut total = 0.0f64;
        let n_syms = 200;
        for s in 0..n_syms {
            let data = random_qam64(s + 11);
            let mut out = Vec::new();
            m.modulate(&data, s as usize, &mut out);
            let reference = reference_idft(&frequency_domain_symbol(&data, s as usize));
            for n in 0..FFT_LEN {
                assert!(
                    (out[CP_LEN + n] - reference[n]).norm() < 1e-5,
                    "symbol {s}, sample {n}"
                );
            }
            total += out[CP_LEN..]
                .iter()
                .map(|c| c.norm_sqr() as f64)
                .sum::<f64>();
        }
        let power = total / (n_syms as f64 * FFT_LEN as f64);
        assert!(
            (power - 1.0).abs() < 0.03,
            "average power {power}, expected 1"
        );
    }
}
