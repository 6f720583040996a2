//! Streaming 802.11a / semantic frame receiver: detection, synchronization and decoding
//! over input arriving in chunks of any size.
//!
//! Input is copied (non-finite samples replaced by zero and counted) into an internal
//! buffer, [`INPUT_PIECE`] samples at a time; samples no stage can still need are dropped
//! once 65536 of them have accumulated, so the buffer never holds more than one
//! maximum-length frame (328 000 samples for a semantic frame of 4091 payload symbols)
//! plus about 100 000 samples, whatever the chunk size. Every decision depends only on
//! absolute sample positions, never on how the input was chunked, so any chunking gives
//! the same frames.
//! After a frame is handed up (or rejected at FCS or header), detection resumes at the
//! frame's end; after a rejected SIGNAL it resumes after SIGNAL.

use super::frame_decoder::{FrameDecoder, FrameKind, Rejection, SyncOutcome, SyncedFrame};
use super::sync_short::{Detection, ShortPreambleDetector};
use crate::phy::received::{RxFrame, RxStats};
use num_complex::Complex32;

/// Samples taken from the caller's chunk per step.
pub const INPUT_PIECE: usize = 1 << 15;
/// Buffered samples already consumed are dropped once this many have accumulated.
const COMPACT_THRESHOLD: usize = 1 << 16;

/// Receiver settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReceiverConfig {
    /// Hand up data frames that fail the FCS (with `fcs_ok == false`) instead of dropping
    /// them. They are counted in `fcs_errors` either way.
    pub keep_failed_fcs: bool,
    /// STF plateau threshold on the normalized lag-16 correlation, 0..1.
    pub detection_threshold: f32,
    /// Consecutive samples above the threshold that declare a frame.
    pub plateau_len: usize,
    /// Channel impulse response samples allowed before the detected timing (paths
    /// earlier than the strongest one); see [`DelayProjection`](super::delay_projection).
    pub channel_precursor_taps: usize,
    /// Channel impulse response samples allowed after the detected timing. The window
    /// of `channel_precursor_taps + 1 + channel_postcursor_taps` taps (at most 52 are
    /// used; 52 or more turns the smoothing off) bounds the delay spread the channel
    /// estimate follows without bias; its estimation noise is that many 52ths of the
    /// unsmoothed one.
    pub channel_postcursor_taps: usize,
    /// Most OFDM symbols either side whose pilots are averaged into a semantic payload
    /// symbol's common phase; the number used is chosen per frame from the measured
    /// phase noise (see [`phase_tracker`](super::phase_tracker)). 0 tracks each symbol
    /// on its own pilots. Data frames always track each symbol on its own pilots.
    pub pilot_smoothing_symbols: usize,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            keep_failed_fcs: false,
            detection_threshold: 0.3,
            plateau_len: 32,
            channel_precursor_taps: 6,
            channel_postcursor_taps: 14,
            pilot_smoothing_symbols: 4,
        }
    }
}

/// Whether both parts are finite: `0 * x` is 0 for finite `x` and NaN for NaN or an
/// infinity (a form the compiler vectorizes).
#[inline(always)]
pub(crate) fn is_finite(s: Complex32) -> bool {
    s.re * 0.0 + s.im * 0.0 == 0.0
}

/// What happened to one detection, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    SyncFailure,
    SignalError,
    HeaderError,
    FcsError,
    Truncated,
    Data,
    Semantic,
}

impl Outcome {
    /// Short name of the outcome: `sync-failure`, `signal-error`, `header-error`,
    /// `fcs-error`, `truncated`, or `ok` for a frame handed up.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::SyncFailure => "sync-failure",
            Outcome::SignalError => "signal-error",
            Outcome::HeaderError => "header-error",
            Outcome::FcsError => "fcs-error",
            Outcome::Truncated => "truncated",
            Outcome::Data | Outcome::Semantic => "ok",
        }
    }

    pub(crate) fn count(self, stats: &mut RxStats) {
        stats.detected += 1;
        let c = match self {
            Outcome::SyncFailure => &mut stats.sync_failures,
            Outcome::SignalError => &mut stats.signal_errors,
            Outcome::HeaderError => &mut stats.header_errors,
            Outcome::FcsError => &mut stats.fcs_errors,
            Outcome::Truncated => &mut stats.truncated,
            Outcome::Data => &mut stats.data_frames,
            Outcome::Semantic => &mut stats.semantic_frames,
        };
        *c += 1;
    }
}

#[derive(Debug)]
enum State {
    Searching,
    Detected(Detection),
    Synced(Box<SyncedFrame>),
}

/// Streaming receiver; see the module documentation.
#[derive(Debug)]
pub struct Receiver {
    config: ReceiverConfig,
    buf: Vec<Complex32>,
    /// Absolute index of `buf[0]`.
    buf_start: u64,
    detector: ShortPreambleDetector,
    decoder: FrameDecoder,
    state: State,
    stats: RxStats,
    /// Detection position and outcome of every detection, when recording.
    events: Option<Vec<(u64, Outcome)>>,
}

impl Receiver {
    pub fn new(config: ReceiverConfig) -> Self {
        Self::starting_at(config, 0)
    }

    /// A receiver whose first input sample has absolute index `first_sample`.
    pub(crate) fn starting_at(config: ReceiverConfig, first_sample: u64) -> Self {
        Self {
            config,
            buf: Vec::with_capacity(2 * INPUT_PIECE),
            buf_start: first_sample,
            detector: ShortPreambleDetector::new(
                config.detection_threshold,
                config.plateau_len,
                first_sample,
            ),
            decoder: FrameDecoder::from_config(&config),
            state: State::Searching,
            stats: RxStats::default(),
            events: None,
        }
    }

    /// Records every detection's outcome (read with [`Receiver::detections`]) and the
    /// detector's canonical positions, for annotating recordings and for stitching
    /// receivers that ran over neighbouring parts of one recording.
    pub fn record_events(&mut self) {
        self.events = Some(Vec::new());
        self.detector.record_canonical();
    }

    /// Forgets the events and canonical positions recorded so far (recording goes on).
    pub(crate) fn clear_recorded(&mut self) {
        if let Some(ev) = self.events.as_mut() {
            ev.clear();
        }
        self.detector.clear_canonical();
    }

    pub(crate) fn canonical_positions(&self) -> &[u64] {
        self.detector.canonical_positions()
    }

    /// Detection position (STF trigger) and outcome of each detection so far, when
    /// recording ([`Receiver::record_events`]); empty otherwise.
    pub fn detections(&self) -> &[(u64, Outcome)] {
        self.events()
    }

    pub(crate) fn events(&self) -> &[(u64, Outcome)] {
        self.events.as_deref().unwrap_or(&[])
    }

    /// Absolute index before which no detection can still happen (the detector's next
    /// window, or the detection being decoded).
    pub(crate) fn search_position(&self) -> u64 {
        match &self.state {
            State::Searching => self.detector.position(),
            State::Detected(d) => d.trigger,
            State::Synced(f) => f.start,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> RxStats {
        self.stats
    }

    pub fn config(&self) -> &ReceiverConfig {
        &self.config
    }

    /// Consumes `samples` (any length) and appends the frames completed by them to `out`.
    pub fn process(&mut self, samples: &[Complex32], out: &mut Vec<RxFrame>) {
        for piece in samples.chunks(INPUT_PIECE) {
            self.stats.samples += piece.len() as u64;
            let mut bad = 0u64;
            self.buf.extend(piece.iter().map(|s| {
                let ok = is_finite(*s);
                bad += (!ok) as u64;
                if ok {
                    *s
                } else {
                    Complex32::new(0.0, 0.0)
                }
            }));
            self.stats.non_finite_samples += bad;
            self.run(out, false);
            self.compact();
        }
    }

    /// Ends the input: a frame still waiting for samples is counted as truncated.
    /// The receiver can be used again afterwards; it continues the same sample count.
    pub fn finish(&mut self, out: &mut Vec<RxFrame>) {
        self.run(out, true);
        let end = self.buf_end();
        self.buf.clear();
        self.buf_start = end;
        self.detector.reset(end);
        self.state = State::Searching;
    }

    fn buf_end(&self) -> u64 {
        self.buf_start + self.buf.len() as u64
    }

    fn record(&mut self, at: u64, outcome: Outcome) {
        outcome.count(&mut self.stats);
        if let Some(ev) = self.events.as_mut() {
            ev.push((at, outcome));
        }
    }

    fn resume_at(&mut self, pos: u64) {
        self.detector.reset(pos);
        self.state = State::Searching;
    }

    fn run(&mut self, out: &mut Vec<RxFrame>, at_end: bool) {
        loop {
            match std::mem::replace(&mut self.state, State::Searching) {
                State::Searching => match self.detector.scan(&self.buf, self.buf_start) {
                    Some(det) => self.state = State::Detected(det),
                    None => return,
                },
                State::Detected(det) => {
                    match self.decoder.sync(&self.buf, self.buf_start, &det, at_end) {
                        SyncOutcome::NeedSamples(_) => {
                            self.state = State::Detected(det);
                            return;
                        }
                        SyncOutcome::Rejected { reason, resume } => {
                            let outcome = match &reason {
                                Rejection::Sync => Outcome::SyncFailure,
                                Rejection::Signal(_) => Outcome::SignalError,
                                Rejection::Truncated => Outcome::Truncated,
                            };
                            log::warn!(
                                "dropped frame detected at sample {}: {reason:?}",
                                det.trigger
                            );
                            self.record(det.trigger, outcome);
                            self.resume_at(resume);
                        }
                        SyncOutcome::Synced(frame) => self.state = State::Synced(frame),
                    }
                }
                State::Synced(frame) => {
                    if self.buf_end() < frame.end() {
                        if at_end {
                            log::warn!(
                                "dropped frame at sample {}: input ended at {} before its end {}",
                                frame.start,
                                self.buf_end(),
                                frame.end()
                            );
                            self.record(frame.trigger, Outcome::Truncated);
                            let end = self.buf_end();
                            self.resume_at(end);
                        } else {
                            self.state = State::Synced(frame);
                            return;
                        }
                    } else {
                        self.decode_payload(&frame, out);
                        self.resume_at(frame.end());
                    }
                }
            }
        }
    }

    fn decode_payload(&mut self, frame: &SyncedFrame, out: &mut Vec<RxFrame>) {
        match frame.kind {
            FrameKind::Data { .. } => {
                let Some(df) = self.decoder.decode_data(&self.buf, self.buf_start, frame) else {
                    return;
                };
                if df.fcs_ok {
                    self.record(frame.trigger, Outcome::Data);
                    out.push(RxFrame::Data(df));
                } else {
                    log::warn!(
                        "frame at sample {} ({}, {} bytes) failed its FCS{}",
                        frame.start,
                        df.rate,
                        df.psdu.len(),
                        if self.config.keep_failed_fcs {
                            "; kept"
                        } else {
                            "; dropped"
                        }
                    );
                    self.record(frame.trigger, Outcome::FcsError);
                    if self.config.keep_failed_fcs {
                        out.push(RxFrame::Data(df));
                    }
                }
            }
            FrameKind::Semantic { .. } => {
                match self
                    .decoder
                    .decode_semantic(&self.buf, self.buf_start, frame)
                {
                    Ok(sf) => {
                        self.record(frame.trigger, Outcome::Semantic);
                        out.push(RxFrame::Semantic(sf));
                    }
                    Err(reason) => {
                        log::warn!("dropped semantic frame at sample {}: {reason}", frame.start);
                        self.record(frame.trigger, Outcome::HeaderError);
                    }
                }
            }
        }
    }

    /// Drops buffered samples no stage can still need.
    fn compact(&mut self) {
        let keep_from = match &self.state {
            State::Searching => self.detector.position(),
            State::Detected(d) => d.trigger,
            State::Synced(f) => f.first_needed(),
        }
        .min(self.buf_end());
        let drop = (keep_from - self.buf_start) as usize;
        if drop >= COMPACT_THRESHOLD || (drop > 0 && drop == self.buf.len()) {
            self.buf.drain(..drop);
            self.buf_start = keep_from;
        }
    }
}
