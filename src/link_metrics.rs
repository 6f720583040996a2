//! Link measurements: what was sent against what was decoded.
//!
//! Received frames are paired with sent frames by position in the sample stream: a
//! received frame belongs to the sent burst whose first sample is nearest to the
//! receiver's estimate of the frame start, if within [`MATCH_TOLERANCE_SAMPLES`].
//! This stays correct when frames are lost, and never pairs a frame with a
//! different one of the same length.

use crate::blocks::TxFrame;
use crate::phy::{RxFrame, RxStats};
use num_complex::Complex32;

/// Largest distance, in samples, between a sent burst's first sample and a received
/// frame's estimated start for the two to be paired (one long training symbol: far
/// more than timing error or channel delay, far less than a frame).
pub const MATCH_TOLERANCE_SAMPLES: u64 = 64;

/// Figures of merit of one run.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct LinkMetrics {
    /// Frames the transmitter sent.
    pub frames_sent: u64,
    /// Sent frames received intact: data frames with a valid FCS, semantic frames
    /// with a valid header.
    pub frames_received: u64,
    /// Packet error rate: `1 - frames_received / frames_sent`.
    pub per: f64,
    /// Data frames whose SIGNAL decoded to the sent rate and length (FCS valid or
    /// not): the frames the bit error rate is measured over.
    pub frames_signal_ok: u64,
    /// Bit errors in the PSDUs of those frames.
    pub bit_errors: u64,
    /// PSDU bits of those frames.
    pub bits_compared: u64,
    /// `bit_errors / bits_compared`; `None` when no PSDU was compared.
    pub ber: Option<f64>,
    /// Mean error vector magnitude reported by the receiver over decoded frames,
    /// averaged in power, in dB; `None` when no frame was decoded.
    pub evm_db: Option<f64>,
    /// Error vector magnitude of semantic payload symbols against the symbols sent,
    /// over all paired semantic frames, in dB; `None` without semantic frames.
    pub payload_evm_db: Option<f64>,
    /// Decoded frames whose SIGNAL or header disagrees with the paired sent frame.
    pub signal_mismatches: u64,
    /// Data frames with a valid FCS but a PSDU different from the one sent.
    pub undetected_errors: u64,
    /// Decoded frames not paired with any sent frame.
    pub spurious_frames: u64,
}

/// Error vector magnitude of `received` against `sent`, in dB:
/// `10 log10(sum |r - s|^2 / sum |s|^2)`. Both slices have the same length.
///
/// # Panics
/// If the lengths differ.
pub fn symbol_evm_db(received: &[Complex32], sent: &[Complex32]) -> f64 {
    let (err, ref_power) = evm_sums(received, sent);
    10.0 * (err / ref_power).log10()
}

fn evm_sums(received: &[Complex32], sent: &[Complex32]) -> (f64, f64) {
    assert_eq!(
        received.len(),
        sent.len(),
        "symbol_evm_db: expected as many received as sent symbols"
    );
    received
        .iter()
        .zip(sent)
        .fold((0.0, 0.0), |(e, p), (r, s)| {
            (
                e + f64::from((r - s).norm_sqr()),
                p + f64::from(s.norm_sqr()),
            )
        })
}

/// Compares `received` frames with `sent` frames whose bursts began at output samples
/// `burst_starts` (same order and length as `sent`).
///
/// # Panics
/// If `burst_starts.len() != sent.len()`.
pub fn measure(sent: &[TxFrame], burst_starts: &[u64], received: &[RxFrame]) -> LinkMetrics {
    assert_eq!(
        sent.len(),
        burst_starts.len(),
        "measure: expected one burst start per sent frame"
    );
    let mut m = LinkMetrics {
        frames_sent: sent.len() as u64,
        ..LinkMetrics::default()
    };
    let mut paired = vec![false; sent.len()];
    let (mut evm_lin_sum, mut evm_count) = (0.0f64, 0u64);
    let (mut payload_err, mut payload_ref) = (0.0f64, 0.0f64);

    for frame in received {
        let info = frame.info();
        evm_lin_sum += 10f64.powf(f64::from(info.evm_db) / 10.0);
        evm_count += 1;
        let Some(i) = nearest_burst(burst_starts, info.start_sample).filter(|&i| !paired[i]) else {
            m.spurious_frames += 1;
            continue;
        };
        paired[i] = true;
        match (frame, &sent[i]) {
            (RxFrame::Data(rx), TxFrame::Data { psdu, rate })
                if rx.rate == *rate && rx.psdu.len() == psdu.len() =>
            {
                m.frames_signal_ok += 1;
                m.bits_compared += 8 * psdu.len() as u64;
                let errors: u64 = rx
                    .psdu
                    .iter()
                    .zip(psdu)
                    .map(|(a, b)| u64::from((a ^ b).count_ones()))
                    .sum();
                m.bit_errors += errors;
                if rx.fcs_ok {
                    m.frames_received += 1;
                    if errors > 0 {
                        m.undetected_errors += 1;
                    }
                }
            }
            (RxFrame::Semantic(rx), TxFrame::Semantic { header, symbols })
                if rx.header == *header && rx.symbols.len() == symbols.len() =>
            {
                m.frames_received += 1;
                let (e, p) = evm_sums(&rx.symbols, symbols);
                payload_err += e;
                payload_ref += p;
            }
            _ => m.signal_mismatches += 1,
        }
    }
    m.per = if m.frames_sent == 0 {
        0.0
    } else {
        1.0 - m.frames_received as f64 / m.frames_sent as f64
    };
    m.ber = (m.bits_compared > 0).then(|| m.bit_errors as f64 / m.bits_compared as f64);
    m.evm_db = (evm_count > 0).then(|| 10.0 * (evm_lin_sum / evm_count as f64).log10());
    m.payload_evm_db = (payload_ref > 0.0).then(|| 10.0 * (payload_err / payload_ref).log10());
    m
}

/// Index of the burst start nearest to `start_sample`, if within tolerance.
fn nearest_burst(burst_starts: &[u64], start_sample: u64) -> Option<usize> {
    let after = burst_starts.partition_point(|&s| s <= start_sample);
    [after.checked_sub(1), Some(after)]
        .into_iter()
        .flatten()
        .filter(|&i| i < burst_starts.len())
        .min_by_key(|&i| burst_starts[i].abs_diff(start_sample))
        .filter(|&i| burst_starts[i].abs_diff(start_sample) <= MATCH_TOLERANCE_SAMPLES)
}

/// Receiver-only figures for a recording with no reference: frames decoded and
/// dropped by cause come from [`RxStats`]; this adds the mean EVM of decoded frames
/// (power average, dB).
pub fn mean_evm_db(received: &[RxFrame]) -> Option<f64> {
    let mut mean = EvmMean::default();
    received.iter().for_each(|f| mean.add(f));
    mean.mean_db()
}

/// Running power average of the EVM of decoded frames, for frames seen one block at
/// a time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EvmMean {
    sum_linear: f64,
    frames: u64,
}

impl EvmMean {
    pub fn add(&mut self, frame: &RxFrame) {
        self.sum_linear += 10f64.powf(f64::from(frame.info().evm_db) / 10.0);
        self.frames += 1;
    }

    /// Mean EVM in dB; `None` before any frame.
    pub fn mean_db(&self) -> Option<f64> {
        (self.frames > 0).then(|| 10.0 * (self.sum_linear / self.frames as f64).log10())
    }
}

/// Frames dropped by the receiver after detection, all causes together.
pub fn frames_dropped(stats: &RxStats) -> u64 {
    stats.sync_failures
        + stats.signal_errors
        + stats.header_errors
        + stats.fcs_errors
        + stats.truncated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::{DataFrame, FrameInfo, Rate};

    fn info(start_sample: u64, evm_db: f32) -> FrameInfo {
        FrameInfo {
            start_sample,
            cfo_hz: 0.0,
            snr_db: 30.0,
            evm_db,
        }
    }

    fn data_rx(start: u64, psdu: Vec<u8>, fcs_ok: bool, evm_db: f32) -> RxFrame {
        RxFrame::Data(DataFrame {
            info: info(start, evm_db),
            rate: Rate::Mbps12,
            psdu,
            fcs_ok,
        })
    }

    #[test]
    fn pairs_by_position_and_counts_bit_errors_and_losses() {
        let psdu = |b: u8| vec![b; 10];
        let sent: Vec<TxFrame> = (0..4)
            .map(|i| TxFrame::Data {
                psdu: psdu(i),
                rate: Rate::Mbps12,
            })
            .collect();
        let starts = [1000, 3000, 5000, 7000];
        // Frame 0 intact; frame 1 lost; frame 2 with 3 bit errors and a failed FCS;
        // frame 3 intact but detected 20 samples late; one spurious detection.
        let mut corrupted = psdu(2);
        corrupted[4] ^= 0b1000_0011;
        let received = vec![
            data_rx(1003, psdu(0), true, -30.0),
            data_rx(4000, psdu(9), true, -30.0),
            data_rx(4998, corrupted, false, -20.0),
            data_rx(7020, psdu(3), true, -30.0),
        ];
        let m = measure(&sent, &starts, &received);
        assert_eq!(m.frames_sent, 4);
        assert_eq!(
            m.frames_received, 2,
            "frames 0 and 3 arrived with a valid FCS"
        );
        assert!((m.per - 0.5).abs() < 1e-12, "per {}", m.per);
        assert_eq!(m.spurious_frames, 1, "the frame at 4000 matches no burst");
        assert_eq!(m.frames_signal_ok, 3);
        assert_eq!((m.bit_errors, m.bits_compared), (3, 3 * 80));
        assert_eq!(m.ber, Some(3.0 / 240.0));
        // Power mean of three -30 dB frames and one -20 dB frame.
        let expected = 10.0 * ((3.0 * 1e-3 + 1e-2) / 4.0f64).log10();
        assert!(
            (m.evm_db.unwrap() - expected).abs() < 1e-9,
            "{:?}",
            m.evm_db
        );
    }

    #[test]
    fn wrong_length_is_a_signal_mismatch_not_bit_errors() {
        let sent = vec![TxFrame::Data {
            psdu: vec![0; 10],
            rate: Rate::Mbps12,
        }];
        let m = measure(&sent, &[500], &[data_rx(500, vec![0; 11], false, -25.0)]);
        assert_eq!(m.signal_mismatches, 1);
        assert_eq!(m.bits_compared, 0);
        assert_eq!(m.ber, None, "no PSDU compared, so no BER");
        assert_eq!(m.per, 1.0);
    }

    #[test]
    fn mean_evm_is_a_power_average_and_none_without_frames() {
        // A dB average would give -25 dB; the power average of 1e-3 and 1e-2 is higher.
        let frames = [
            data_rx(0, vec![1], true, -30.0),
            data_rx(900, vec![2], false, -20.0),
        ];
        let expected = 10.0 * ((1e-3 + 1e-2) / 2.0f64).log10();
        let got = mean_evm_db(&frames).unwrap();
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        assert_eq!(mean_evm_db(&[]), None);
    }

    #[test]
    fn symbol_evm_of_a_known_error() {
        let sent = [Complex32::new(1.0, 0.0), Complex32::new(0.0, -1.0)];
        let received = [Complex32::new(1.1, 0.0), Complex32::new(0.0, -0.9)];
        // Error power 0.01 + 0.01 over reference power 2: -20 dB.
        assert!((symbol_evm_db(&received, &sent) + 20.0).abs() < 1e-4);
    }
}
