//! One frame from preamble to SIGNAL, IEEE 802.11-2016 17.3.4 and 17.3.12: LTF timing
//! and CFO, channel estimate, SIGNAL decoding and checks. The payload is decoded by
//! [`data_decoder`](super::data_decoder) or [`semantic_decoder`](super::semantic_decoder).
//!
//! Sample positions inside a frame that starts at absolute index `s`: the first long
//! training symbol at `s + 192`, SIGNAL at `s + 320`, OFDM symbol `i` after SIGNAL at
//! `s + 320 + 80 i`. Every FFT window starts [`TIMING_BACKOFF`] samples early, inside the
//! cyclic prefix, so a late timing estimate or a channel's pre-cursor costs nothing; the
//! channel estimate absorbs the resulting phase slope.

use super::channel_estimator::ChannelEstimate;
use super::delay_projection::DelayProjection;
use super::demapper::{demap_symbol, squared_error_sum};
use super::equalizer::Equalizer;
use super::ofdm_demod::{Derotator, SymbolDemodulator};
use super::receiver::ReceiverConfig;
use super::soft_bits::SoftBitMap;
use super::sync_long::LongSynchronizer;
use super::sync_short::Detection;
use super::viterbi::ViterbiDecoder;
use crate::phy::rate::{CodeRate, Modulation, Rate};
use crate::phy::semantic_header::{HEADER_OFDM_SYMBOLS, SEMANTIC_RATE_FIELD};
use crate::phy::signal_field::{Signal, SIGNAL_BITS};
use crate::phy::subcarriers::{CP_LEN, FFT_LEN, N_DATA, SAMPLE_RATE_HZ, SYMBOL_LEN};
use num_complex::Complex32;

/// Samples the FFT window is moved into the cyclic prefix. Timing locks onto the
/// strongest path, which on a multipath channel can arrive several samples after the
/// first; starting the window this early keeps it clear of the next symbol for paths up
/// to 6 samples before the strongest and 10 after it (the 16-sample prefix minus this).
pub const TIMING_BACKOFF: u64 = 6;
/// Frame start to the first long training symbol.
const LTF1_OFFSET: u64 = 192;
/// Frame start to SIGNAL.
const SIGNAL_OFFSET: u64 = 320;
/// Soft value of an average-gain subcarrier at a nominal constellation point, for the
/// weakest bit (max-log distance 4): leaves room below the `i8` clamp of 127.
const SOFT_SCALE: f32 = 8.0;
/// Most payload OFDM symbols a semantic frame may announce (LENGTH counts the header).
const MAX_SEMANTIC_OFDM_SYMBOLS: usize = 4095;

/// What a frame carries, from its SIGNAL field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameKind {
    Data {
        rate: Rate,
        length: usize,
    },
    /// `n_ofdm`: OFDM symbols after SIGNAL (header included).
    Semantic {
        n_ofdm: usize,
    },
}

/// A frame whose preamble and SIGNAL decoded; the payload may still be arriving.
#[derive(Debug, Clone)]
pub struct SyncedFrame {
    /// Absolute index of the first STF sample.
    pub start: u64,
    /// Detection position (see [`Detection::trigger`]).
    pub trigger: u64,
    pub kind: FrameKind,
    pub derotator: Derotator,
    pub equalizer: Equalizer,
    pub estimate: ChannelEstimate,
}

impl SyncedFrame {
    /// OFDM symbols after SIGNAL.
    pub fn n_sym(&self) -> usize {
        match self.kind {
            FrameKind::Data { rate, length } => rate.n_sym(length),
            FrameKind::Semantic { n_ofdm } => n_ofdm,
        }
    }

    /// Absolute index one past the frame's last sample.
    pub fn end(&self) -> u64 {
        self.start + SIGNAL_OFFSET + SYMBOL_LEN as u64 * (1 + self.n_sym() as u64)
    }

    /// First absolute index the payload decoder reads.
    pub fn first_needed(&self) -> u64 {
        self.start + LTF1_OFFSET - TIMING_BACKOFF
    }

    /// Absolute index of the FFT window of OFDM symbol `i` (SIGNAL is 0).
    pub fn fft_start(&self, i: usize) -> u64 {
        self.start + SIGNAL_OFFSET + (SYMBOL_LEN * i + CP_LEN) as u64 - TIMING_BACKOFF
    }

    pub fn cfo_hz(&self) -> f32 {
        (self.derotator.cfo_rad_per_sample() * SAMPLE_RATE_HZ / (2.0 * std::f64::consts::PI)) as f32
    }
}

/// Why a detection did not become a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Sync,
    Signal(String),
    Truncated,
}

/// Outcome of the preamble stage.
#[derive(Debug)]
pub enum SyncOutcome {
    /// More samples are needed, up to this absolute index.
    NeedSamples(u64),
    /// No frame; resume detection at `resume`.
    Rejected {
        reason: Rejection,
        resume: u64,
    },
    Synced(Box<SyncedFrame>),
}

/// Decoder state reused across frames: FFT plan, Viterbi memory and scratch buffers.
#[derive(Debug)]
pub struct FrameDecoder {
    pub(super) long_sync: LongSynchronizer,
    pub(super) demod: SymbolDemodulator,
    pub(super) viterbi: ViterbiDecoder,
    pub(super) bins: [Complex32; FFT_LEN],
    pub(super) points: [Complex32; N_DATA],
    pub(super) symbol_soft: Vec<i8>,
    pub(super) mother: Vec<i8>,
    pub(super) bits: Vec<u8>,
    /// Soft-bit map of BPSK rate-1/2 symbols (SIGNAL and the semantic header).
    pub(super) bpsk_map: SoftBitMap,
    /// Soft-bit maps of the eight rates, in [`Rate::ALL`] order.
    pub(super) rate_maps: Vec<SoftBitMap>,
    /// Smoothing of the channel estimate over the allowed delay window.
    projection: DelayProjection,
    /// Most symbols either side averaged into a semantic payload symbol's common phase.
    pub(super) pilot_smoothing_symbols: usize,
    /// Per-symbol pilot correlations of a semantic payload (scratch).
    pub(super) pilot_correlations: Vec<Complex32>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder with the default [`ReceiverConfig`].
    pub fn new() -> Self {
        Self::from_config(&ReceiverConfig::default())
    }

    /// A decoder whose channel estimate follows impulse responses from
    /// `config.channel_precursor_taps` samples before to `config.channel_postcursor_taps`
    /// after the detected timing (the FFT windows start [`TIMING_BACKOFF`] samples
    /// early, which shifts the window by as much), and whose semantic payload phase
    /// tracking averages up to `config.pilot_smoothing_symbols` symbols either side.
    pub fn from_config(config: &ReceiverConfig) -> Self {
        let precursor = config.channel_precursor_taps.min(FFT_LEN) as i32;
        let n_taps = config
            .channel_precursor_taps
            .saturating_add(config.channel_postcursor_taps)
            .saturating_add(1);
        let projection = DelayProjection::new(TIMING_BACKOFF as i32 - precursor, n_taps);
        Self {
            projection,
            pilot_smoothing_symbols: config.pilot_smoothing_symbols,
            pilot_correlations: Vec::new(),
            long_sync: LongSynchronizer::new(),
            demod: SymbolDemodulator::new(),
            viterbi: ViterbiDecoder::new(),
            bins: [Complex32::new(0.0, 0.0); FFT_LEN],
            points: [Complex32::new(0.0, 0.0); N_DATA],
            symbol_soft: Vec::with_capacity(288),
            mother: Vec::new(),
            bits: Vec::new(),
            bpsk_map: SoftBitMap::new(N_DATA, 1, CodeRate::Half),
            rate_maps: Rate::ALL
                .iter()
                .map(|r| SoftBitMap::new(r.n_cbps(), r.n_bpsc(), r.code_rate()))
                .collect(),
        }
    }

    /// FFT of the 64-sample window at absolute index `start` into `self.bins`.
    pub(super) fn fft_at(&mut self, buf: &[Complex32], buf_start: u64, start: u64, d: &Derotator) {
        let i = (start - buf_start) as usize;
        self.demod
            .demodulate(&buf[i..i + FFT_LEN], start, d, &mut self.bins);
    }

    /// Per-subcarrier soft-value weights: `|H_k|^2 / noise_var` (the LLR scale) times
    /// the quantization scale `SOFT_SCALE * noise_var / mean |H|^2`.
    pub(super) fn soft_weights(frame: &SyncedFrame) -> [f32; N_DATA] {
        let mean = frame.estimate.mean_gain.max(f32::MIN_POSITIVE);
        frame.equalizer.gains().map(|g| SOFT_SCALE * g / mean)
    }

    /// Equalizes OFDM symbol `i` (SIGNAL is 0) into `self.points` and demaps it with
    /// `m` into `self.symbol_soft`. Returns the summed squared error against the
    /// nearest constellation points.
    pub(super) fn demap_symbol_at(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        frame: &SyncedFrame,
        i: usize,
        m: Modulation,
        weights: &[f32; N_DATA],
    ) -> f32 {
        self.fft_at(buf, buf_start, frame.fft_start(i), &frame.derotator);
        frame.equalizer.equalize(&self.bins, i, &mut self.points);
        self.symbol_soft.clear();
        self.symbol_soft.resize(N_DATA * m.n_bpsc(), 0);
        demap_symbol(&self.points, weights, m, &mut self.symbol_soft);
        squared_error_sum(&self.points, m)
    }

    /// Runs LTF synchronization, channel estimation and SIGNAL decoding for `det`.
    /// `buf` starts at absolute index `buf_start` and must hold samples from
    /// `det.trigger` on; `at_end` says no more samples will come.
    pub fn sync(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        det: &Detection,
        at_end: bool,
    ) -> SyncOutcome {
        let buf_end = buf_start + buf.len() as u64;
        let needed =
            LongSynchronizer::samples_needed(det) + SIGNAL_OFFSET - LTF1_OFFSET + SYMBOL_LEN as u64;
        if buf_end < needed {
            return if at_end {
                SyncOutcome::Rejected {
                    reason: Rejection::Truncated,
                    resume: buf_end,
                }
            } else {
                SyncOutcome::NeedSamples(needed)
            };
        }
        let Some(ls) = self.long_sync.synchronize(buf, buf_start, det) else {
            return SyncOutcome::Rejected {
                reason: Rejection::Sync,
                resume: det.trigger + 80,
            };
        };
        let start = ls.ltf_start - LTF1_OFFSET;
        let derotator = Derotator::new(ls.cfo_rad_per_sample, ls.ltf_start);
        self.fft_at(buf, buf_start, ls.ltf_start - TIMING_BACKOFF, &derotator);
        let y1 = self.bins;
        self.fft_at(
            buf,
            buf_start,
            ls.ltf_start + FFT_LEN as u64 - TIMING_BACKOFF,
            &derotator,
        );
        let estimate = ChannelEstimate::from_ltf(&y1, &self.bins, &self.projection);
        let equalizer = Equalizer::new(&estimate);
        let mut frame = SyncedFrame {
            start,
            trigger: det.trigger,
            kind: FrameKind::Semantic { n_ofdm: 0 },
            derotator,
            equalizer,
            estimate,
        };
        let resume = start + SIGNAL_OFFSET + SYMBOL_LEN as u64;
        match self.decode_signal(buf, buf_start, &frame) {
            Ok(kind) => {
                frame.kind = kind;
                SyncOutcome::Synced(Box::new(frame))
            }
            Err(reason) => SyncOutcome::Rejected {
                reason: Rejection::Signal(reason),
                resume,
            },
        }
    }

    /// Decodes and checks SIGNAL (17.3.4): BPSK, rate 1/2, 24 bits with parity, reserved
    /// bit and tail checked, RATE known, LENGTH in range.
    fn decode_signal(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        frame: &SyncedFrame,
    ) -> Result<FrameKind, String> {
        let weights = Self::soft_weights(frame);
        self.demap_symbol_at(buf, buf_start, frame, 0, Modulation::Bpsk, &weights);
        self.mother.clear();
        self.mother.resize(self.bpsk_map.block_len(), 0);
        self.bpsk_map.scatter(&self.symbol_soft, &mut self.mother);
        self.viterbi
            .decode(&self.mother, SIGNAL_BITS, &mut self.bits);
        let mut bits = [0u8; SIGNAL_BITS];
        bits.copy_from_slice(&self.bits);
        let signal = Signal::from_bits(&bits).map_err(|e| e.to_string())?;
        let length = signal.length as usize;
        if let Some(rate) = Rate::from_rate_field(signal.rate_field) {
            if length == 0 {
                return Err("LENGTH 0 in a data frame".into());
            }
            Ok(FrameKind::Data { rate, length })
        } else if signal.rate_field == SEMANTIC_RATE_FIELD {
            if !(HEADER_OFDM_SYMBOLS..=MAX_SEMANTIC_OFDM_SYMBOLS).contains(&length) {
                return Err(format!(
                    "semantic frame LENGTH {length} below the 4 header symbols"
                ));
            }
            Ok(FrameKind::Semantic { n_ofdm: length })
        } else {
            Err(format!("reserved RATE field {:#06b}", signal.rate_field))
        }
    }
}
