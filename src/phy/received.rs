//! What the receiver hands up: decoded frames and its counters.

use super::rate::Rate;
use super::semantic_header::SemanticHeader;
use super::subcarriers::N_DATA;
use num_complex::Complex32;

/// Measurements the receiver made on one detected frame.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FrameInfo {
    /// Index of the frame's first preamble sample in the receiver's input stream.
    pub start_sample: u64,
    /// Estimated carrier frequency offset (coarse plus fine), in Hz.
    pub cfo_hz: f32,
    /// SNR estimated from the two long training symbols, in dB.
    pub snr_db: f32,
    /// Error vector magnitude of the equalized data symbols against the nearest
    /// constellation point (data frames) or against the header's BPSK points (semantic
    /// frames), in dB relative to unit average power.
    pub evm_db: f32,
}

/// A decoded 802.11a data frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFrame {
    pub info: FrameInfo,
    pub rate: Rate,
    /// The PSDU as decoded, FCS included.
    pub psdu: Vec<u8>,
    /// Whether the PSDU's last four bytes are a valid IEEE 802.3 CRC-32 of the rest.
    /// Frames that fail are only handed up when the receiver is asked to keep them.
    pub fcs_ok: bool,
}

/// A decoded semantic frame: header plus equalized channel symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticFrame {
    pub info: FrameInfo,
    pub header: SemanticHeader,
    /// Equalized channel symbols, `header.n_symbols` of them, in the order sent.
    pub symbols: Vec<Complex32>,
    /// Noise variance after equalization of each data subcarrier, in the order of
    /// [`DATA_SUBCARRIERS`](super::subcarriers::DATA_SUBCARRIERS): the noise estimated
    /// from the long training field over the estimated `|H_k|^2`. It counts the
    /// channel noise only; the receiver's channel and common phase estimates add about
    /// 0.22 of it times the symbol's power `|x|^2` (16 % of the total at unit power,
    /// against 62 % for an unsmoothed two-symbol estimate). Symbol `i` was carried by
    /// data subcarrier `i % 48`; see [`SemanticFrame::noise_var_of`].
    pub noise_var: [f32; N_DATA],
}

impl SemanticFrame {
    /// Post-equalization noise variance of channel symbol `i`.
    pub fn noise_var_of(&self, i: usize) -> f32 {
        self.noise_var[i % N_DATA]
    }
}

/// One frame handed up by the receiver.
#[derive(Debug, Clone, PartialEq)]
pub enum RxFrame {
    Data(DataFrame),
    Semantic(SemanticFrame),
}

impl RxFrame {
    pub fn info(&self) -> &FrameInfo {
        match self {
            RxFrame::Data(f) => &f.info,
            RxFrame::Semantic(f) => &f.info,
        }
    }
}

/// Receiver counters. Every detected frame ends up in exactly one of the outcome
/// counters (`data_frames`, `semantic_frames`, or one of the error counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RxStats {
    /// Input samples consumed.
    pub samples: u64,
    /// Input samples that were NaN or infinite (replaced by zero).
    pub non_finite_samples: u64,
    /// Preambles detected.
    pub detected: u64,
    /// Detections whose long training field could not be aligned.
    pub sync_failures: u64,
    /// SIGNAL fields failing parity, tail, reserved bit or carrying an unknown RATE.
    pub signal_errors: u64,
    /// Semantic headers failing their CRC.
    pub header_errors: u64,
    /// Data frames failing the FCS.
    pub fcs_errors: u64,
    /// Frames whose samples ended before the length their SIGNAL announced.
    pub truncated: u64,
    /// Data frames decoded with a valid FCS.
    pub data_frames: u64,
    /// Semantic frames decoded with a valid header.
    pub semantic_frames: u64,
}
