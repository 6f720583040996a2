//! Frames in, baseband samples out: the OFDM transmitter as a stream source.

use super::tx_frame::{scrambler_seed_for, TxFrame};
use super::BURST_START_TAG;
use futuresdr::runtime::dev::prelude::*;
use log::{debug, info, warn};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How often the transmitter logs its progress at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(3);

/// Settings of [`FrameTransmitter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransmitterConfig {
    /// Zeros sent before each burst and once after the last one, in samples.
    pub gap_samples: usize,
    /// Scrambler seed of the first data frame (1..=127); later frames step through
    /// the 127 nonzero seeds (see [`scrambler_seed_for`]).
    pub scrambler_seed: u8,
}

impl Default for TransmitterConfig {
    /// 400 samples (20 us at 20 MHz) of silence between bursts, first seed 93.
    fn default() -> Self {
        Self {
            gap_samples: 400,
            scrambler_seed: 93,
        }
    }
}

/// Turns frames into a continuous sample stream: `gap, burst 0, gap, burst 1, ...,
/// gap`, where each burst is [`TxFrame::encode`]'s output and each gap is
/// `gap_samples` zeros.
///
/// Frames come from a queue given at construction and/or from the message input.
/// A transmitter made with [`FrameTransmitter::new`] sends its queue and finishes;
/// one made with [`FrameTransmitter::streaming`] waits for frames until the input
/// posts `Pmt::Finished`, then drains its queue and finishes. The first sample of
/// every burst carries a [`BURST_START_TAG`] tag, so a channel model downstream can
/// start a new fading realization there. A frame that cannot be encoded (for example a
/// PSDU over 4095 bytes) is dropped with a warning and counted.
///
/// # Stream Inputs
///
/// No stream inputs.
///
/// # Stream Outputs
///
/// `output`: baseband samples at 20 MHz, unit average power within a burst.
///
/// # Message Inputs
///
/// `in`: a [`TxFrame`] as `Pmt::Any`, queued behind the frames already waiting;
/// `Pmt::Finished` ends the input. Anything else is answered with `Pmt::InvalidValue`.
///
/// # Message Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::{FrameTransmitter, TransmitterConfig, TxFrame};
/// use m4sc::phy::Rate;
///
/// let frames = vec![TxFrame::Data { psdu: vec![0; 100], rate: Rate::Mbps24 }];
/// let mut fg = Flowgraph::new();
/// let tx = fg.add(FrameTransmitter::new(TransmitterConfig::default(), frames));
/// ```
#[derive(Block)]
#[message_inputs(r#in)]
pub struct FrameTransmitter<O = DefaultCpuWriter<Complex32>>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    config: TransmitterConfig,
    queue: VecDeque<TxFrame>,
    input_done: bool,
    frames_queued: u64,
    /// Samples of the gap and burst being written, and how far writing got.
    burst: Vec<Complex32>,
    burst_pos: usize,
    /// Index in `burst` of the burst's first sample, and the frame index for its tag.
    burst_tag: Option<(usize, usize)>,
    tail_sent: bool,
    frames_sent: u64,
    encode_errors: u64,
    samples_written: u64,
    burst_starts: Vec<u64>,
    last_progress: Option<Instant>,
    #[output]
    output: O,
}

impl FrameTransmitter<DefaultCpuWriter<Complex32>> {
    /// A transmitter that sends `frames` and then finishes.
    pub fn new(config: TransmitterConfig, frames: impl IntoIterator<Item = TxFrame>) -> Self {
        Self::with_buffers(config, frames, true)
    }

    /// A transmitter fed through its message input, finishing after `Pmt::Finished`.
    pub fn streaming(config: TransmitterConfig) -> Self {
        Self::with_buffers(config, Vec::new(), false)
    }
}

impl<O> FrameTransmitter<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    /// A transmitter with a custom output buffer type; `finite` says whether it
    /// finishes when `frames` are sent (true) or waits for `Pmt::Finished` (false).
    ///
    /// # Panics
    /// If `config.scrambler_seed` is not in 1..=127.
    pub fn with_buffers(
        config: TransmitterConfig,
        frames: impl IntoIterator<Item = TxFrame>,
        finite: bool,
    ) -> Self {
        assert!(
            (1..=127).contains(&config.scrambler_seed),
            "FrameTransmitter: scrambler seed expected in 1..=127, got {}",
            config.scrambler_seed
        );
        let queue: VecDeque<TxFrame> = frames.into_iter().collect();
        Self {
            config,
            frames_queued: queue.len() as u64,
            queue,
            input_done: finite,
            burst: Vec::new(),
            burst_pos: 0,
            burst_tag: None,
            tail_sent: false,
            frames_sent: 0,
            encode_errors: 0,
            samples_written: 0,
            burst_starts: Vec::new(),
            last_progress: None,
            output: O::default(),
        }
    }

    /// Frames encoded and written (or being written) to the output.
    pub fn frames_sent(&self) -> u64 {
        self.frames_sent
    }

    /// Frames dropped because they could not be encoded.
    pub fn encode_errors(&self) -> u64 {
        self.encode_errors
    }

    /// Samples written to the output.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    /// Output sample index of the first preamble sample of each frame sent, in order.
    pub fn burst_starts(&self) -> &[u64] {
        &self.burst_starts
    }

    /// Loads the next gap and burst into `self.burst`; false when nothing is left to
    /// send for now.
    fn load_next(&mut self) -> bool {
        while let Some(frame) = self.queue.pop_front() {
            let seed = scrambler_seed_for(self.config.scrambler_seed, self.frames_sent);
            match frame.encode(seed) {
                Ok(samples) => {
                    let gap = self.config.gap_samples;
                    self.burst.clear();
                    self.burst.resize(gap, Complex32::new(0.0, 0.0));
                    self.burst.extend_from_slice(&samples);
                    self.burst_pos = 0;
                    self.burst_tag = Some((gap, self.frames_sent as usize));
                    self.burst_starts.push(self.samples_written + gap as u64);
                    debug!(
                        "frame {}: {} samples, scrambler seed {seed}",
                        self.frames_sent,
                        samples.len()
                    );
                    self.frames_sent += 1;
                    return true;
                }
                Err(e) => {
                    self.encode_errors += 1;
                    warn!("dropping a frame that cannot be encoded: {e}");
                }
            }
        }
        if self.input_done && !self.tail_sent {
            self.burst.clear();
            self.burst
                .resize(self.config.gap_samples, Complex32::new(0.0, 0.0));
            self.burst_pos = 0;
            self.burst_tag = None;
            self.tail_sent = true;
            return true;
        }
        false
    }

    fn log_progress(&mut self) {
        let now = Instant::now();
        let due = self
            .last_progress
            .is_none_or(|t| now.duration_since(t) >= PROGRESS_INTERVAL);
        if due {
            if self.last_progress.is_some() {
                info!(
                    "transmitted {} of {} frames",
                    self.frames_sent, self.frames_queued
                );
            }
            self.last_progress = Some(now);
        }
    }

    async fn r#in(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
        p: Pmt,
    ) -> Result<Pmt> {
        match p {
            Pmt::Finished => {
                self.input_done = true;
            }
            Pmt::Any(any) => match any.take::<TxFrame>() {
                Some(frame) => {
                    self.queue.push_back(*frame);
                    self.frames_queued += 1;
                }
                None => {
                    warn!("FrameTransmitter: ignoring a message that is not a TxFrame");
                    return Ok(Pmt::InvalidValue);
                }
            },
            other => {
                warn!("FrameTransmitter: ignoring message {other:?}");
                return Ok(Pmt::InvalidValue);
            }
        }
        io.call_again = true;
        Ok(Pmt::Ok)
    }
}

#[doc(hidden)]
impl<O> Kernel for FrameTransmitter<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        loop {
            if self.burst_pos == self.burst.len() && !self.load_next() {
                if self.input_done && self.queue.is_empty() {
                    io.finished = true;
                }
                // Otherwise wait for the message input to deliver more frames.
                return Ok(());
            }
            let (out, mut tags) = self.output.slice_with_tags();
            if out.is_empty() {
                // Called again when the downstream block frees space.
                return Ok(());
            }
            let n = out.len().min(self.burst.len() - self.burst_pos);
            out[..n].copy_from_slice(&self.burst[self.burst_pos..self.burst_pos + n]);
            if let Some((at, frame_index)) = self.burst_tag {
                if (self.burst_pos..self.burst_pos + n).contains(&at) {
                    tags.add_tag(
                        at - self.burst_pos,
                        Tag::NamedUsize(BURST_START_TAG.to_string(), frame_index),
                    );
                    self.burst_tag = None;
                }
            }
            self.output.produce(n);
            self.burst_pos += n;
            self.samples_written += n as u64;
            self.log_progress();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::{Rate, SemanticHeader, StreamKind, BROADCAST};
    use futuresdr::runtime::mocker::{Mocker, Writer};

    const GAP: usize = 50;
    const SEED: u8 = 5;

    fn frames() -> Vec<TxFrame> {
        let symbols: Vec<Complex32> = (0..100)
            .map(|i| Complex32::from_polar(1.0, 0.1 * i as f32))
            .collect();
        vec![
            TxFrame::Data {
                psdu: (0..60).collect(),
                rate: Rate::Mbps6,
            },
            TxFrame::Semantic {
                header: SemanticHeader {
                    kind: 0,
                    stream: StreamKind::Public,
                    destination: BROADCAST,
                    task: 3,
                    message_id: 77,
                    fragment_index: 0,
                    fragment_count: 1,
                    n_symbols: symbols.len() as u16,
                },
                symbols,
            },
            TxFrame::Data {
                psdu: (0..200).map(|i| (i * 7) as u8).collect(),
                rate: Rate::Mbps54,
            },
        ]
    }

    /// The oracle: each frame's encoder output behind a gap, a gap at the end, and the
    /// index of each burst's first sample.
    fn expected(frames: &[TxFrame]) -> (Vec<Complex32>, Vec<usize>) {
        let zero = Complex32::new(0.0, 0.0);
        let mut samples = Vec::new();
        let mut starts = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            samples.resize(samples.len() + GAP, zero);
            starts.push(samples.len());
            samples.extend(f.encode(scrambler_seed_for(SEED, i as u64)).unwrap());
        }
        samples.resize(samples.len() + GAP, zero);
        (samples, starts)
    }

    /// Runs the mocked block with a small output buffer until it stops producing.
    fn drain(
        mocker: &mut Mocker<FrameTransmitter<Writer<Complex32>>>,
    ) -> (Vec<Complex32>, Vec<ItemTag>) {
        let (mut out, mut tags) = (Vec::new(), Vec::new());
        loop {
            mocker.output().reserve(1500);
            mocker.run();
            let (chunk, chunk_tags) = mocker.output().take();
            if chunk.is_empty() {
                return (out, tags);
            }
            tags.extend(chunk_tags.into_iter().map(|mut t| {
                t.index += out.len();
                t
            }));
            out.extend(chunk);
        }
    }

    fn config() -> TransmitterConfig {
        TransmitterConfig {
            gap_samples: GAP,
            scrambler_seed: SEED,
        }
    }

    fn assert_matches_oracle(out: &[Complex32], tags: &[ItemTag], frames: &[TxFrame]) {
        let (samples, starts) = expected(frames);
        assert_eq!(
            out.len(),
            samples.len(),
            "output length: gaps plus encoded frames"
        );
        assert!(
            out == samples,
            "output must equal the encoders' output plus gaps"
        );
        let expected_tags: Vec<ItemTag> = starts
            .iter()
            .enumerate()
            .map(|(i, &index)| ItemTag {
                index,
                tag: Tag::NamedUsize(BURST_START_TAG.to_string(), i),
            })
            .collect();
        assert_eq!(
            tags, expected_tags,
            "one burst tag on each burst's first sample"
        );
    }

    #[test]
    fn queued_frames_become_gapped_tagged_bursts() {
        let block = FrameTransmitter::<Writer<Complex32>>::with_buffers(config(), frames(), true);
        let mut mocker = Mocker::new(block);
        let (out, tags) = drain(&mut mocker);
        assert_matches_oracle(&out, &tags, &frames());
        assert_eq!(mocker.frames_sent(), 3);
        assert_eq!(mocker.samples_written(), out.len() as u64);
        let starts: Vec<u64> = tags.iter().map(|t| t.index as u64).collect();
        assert_eq!(mocker.burst_starts(), &starts[..]);
    }

    #[test]
    fn message_input_frames_are_sent_the_same_way() {
        let block = FrameTransmitter::<Writer<Complex32>>::with_buffers(config(), [], false);
        let mut mocker = Mocker::new(block);
        for f in frames() {
            assert!(matches!(
                mocker.post("in", Pmt::Any(Box::new(f))),
                Ok(Pmt::Ok)
            ));
        }
        let (out_before_finish, tags_before) = drain(&mut mocker);
        mocker.post("in", Pmt::Finished).unwrap();
        let (tail, _) = drain(&mut mocker);
        assert_eq!(tail.len(), GAP, "the closing gap follows Pmt::Finished");
        let out = [out_before_finish, tail].concat();
        assert_matches_oracle(&out, &tags_before, &frames());
        let reply = mocker.post("in", Pmt::U32(1));
        assert!(matches!(reply, Ok(Pmt::InvalidValue)), "{reply:?}");
    }

    #[test]
    fn unencodable_frame_is_dropped_and_counted() {
        let mut with_bad = frames();
        with_bad.insert(
            1,
            TxFrame::Data {
                psdu: vec![0; 5000],
                rate: Rate::Mbps6,
            },
        );
        let block = FrameTransmitter::<Writer<Complex32>>::with_buffers(config(), with_bad, true);
        let mut mocker = Mocker::new(block);
        let (out, tags) = drain(&mut mocker);
        assert_eq!(
            mocker.encode_errors(),
            1,
            "a 5000-byte PSDU cannot be encoded"
        );
        assert_matches_oracle(&out, &tags, &frames());
    }
}
