//! Multi-threaded decoding of a recording, giving the same frames and counters as one
//! [`Receiver`] over the whole input.
//!
//! The input arrives in blocks ([`ParallelDecoder::process_block`]); each block is cut
//! into `n_threads` equal regions and each thread runs its own receiver from the start
//! of its region and a little past its end. A receiver started in the middle of the
//! stream may see things differently at first (it starts cold, possibly inside a frame),
//! so the results are stitched at a *canonical position*: a sample index at which both
//! neighbouring receivers were searching with detector state fully determined by the
//! index (just after a frame or a rejection, or at a periodic refresh outside a
//! plateau). From such a position on, both behave exactly like the single-threaded
//! receiver. When the neighbours share no such position, the earlier receiver is run
//! further, on the calling thread, until they do; on back-to-back frames the overlap is
//! one frame.
//!
//! Across blocks nothing is cut: the receiver responsible for the end of a block is kept
//! and becomes the first receiver of the next block. It buffers internally what a frame
//! straddling the block edge still needs, so no frame is lost or decoded twice at block
//! edges, and the caller needs to hold only one block at a time.

use super::receiver::{is_finite, Outcome, Receiver, ReceiverConfig, INPUT_PIECE};
use crate::phy::received::{RxFrame, RxStats};
use num_complex::Complex32;

struct Worker {
    rx: Receiver,
    frames: Vec<RxFrame>,
    /// Absolute index of the next sample to feed.
    fed: u64,
    finished: bool,
}

/// One block of input: `samples[i]` has absolute index `start + i`.
#[derive(Clone, Copy)]
struct Block<'a> {
    samples: &'a [Complex32],
    start: u64,
    /// Whether the input ends with this block.
    last: bool,
}

impl Block<'_> {
    fn end(&self) -> u64 {
        self.start + self.samples.len() as u64
    }
}

impl Worker {
    fn new(config: ReceiverConfig, start: u64) -> Self {
        let mut rx = Receiver::starting_at(config, start);
        rx.record_events();
        Self {
            rx,
            frames: Vec::new(),
            fed: start,
            finished: false,
        }
    }

    /// Whether the worker can go no further in `block`: finished, or (when more input
    /// follows) fed up to the block's end.
    fn done(&self, block: Block) -> bool {
        self.finished || (!block.last && self.fed >= block.end())
    }

    /// Feeds one more piece of `block`; at the end of the input finishes the receiver.
    fn step(&mut self, block: Block) {
        if self.finished {
            return;
        }
        let end = (self.fed + INPUT_PIECE as u64).min(block.end());
        if end > self.fed {
            let range = (self.fed - block.start) as usize..(end - block.start) as usize;
            self.rx.process(&block.samples[range], &mut self.frames);
            self.fed = end;
        }
        if end == block.end() && block.last {
            self.rx.finish(&mut self.frames);
            self.finished = true;
        }
    }

    fn has_canonical_from(&self, from: u64) -> bool {
        self.rx
            .canonical_positions()
            .last()
            .is_some_and(|&c| c >= from)
    }
}

/// Block-wise multi-threaded decoder: feed consecutive blocks of one recording with
/// [`process_block`](Self::process_block), the last one flagged; frames come out in
/// stream order, and frames and counters equal those of one [`Receiver`] fed the whole
/// input and finished, whatever the block sizes and thread count.
pub struct ParallelDecoder {
    config: ReceiverConfig,
    n_threads: usize,
    /// The receiver that has consumed the input up to `next_start`.
    carried: Option<Worker>,
    /// Absolute index of the next block's first sample.
    next_start: u64,
    stats: RxStats,
}

impl ParallelDecoder {
    /// A decoder running `n_threads` receivers per block (at least 1).
    pub fn new(config: ReceiverConfig, n_threads: usize) -> Self {
        Self {
            config,
            n_threads: n_threads.max(1),
            carried: None,
            next_start: 0,
            stats: RxStats::default(),
        }
    }

    /// Counters over all blocks so far (final once the last block was processed).
    pub fn stats(&self) -> RxStats {
        self.stats
    }

    /// Decodes the next `samples` of the recording (any length) and appends the frames
    /// decided so far to `out`; `last` ends the input (no block may follow). Memory
    /// held between calls is one receiver's buffer, never the caller's blocks.
    pub fn process_block(&mut self, samples: &[Complex32], last: bool, out: &mut Vec<RxFrame>) {
        let block = Block {
            samples,
            start: self.next_start,
            last,
        };
        self.next_start = block.end();
        self.stats.samples += samples.len() as u64;
        self.stats.non_finite_samples +=
            samples.iter().map(|&s| (!is_finite(s)) as u64).sum::<u64>();

        let n = self.n_threads.min(samples.len() / INPUT_PIECE + 1);
        let bounds: Vec<u64> = (0..=n)
            .map(|i| block.start + (i * samples.len() / n) as u64)
            .collect();
        let config = self.config;
        let first = self
            .carried
            .take()
            .unwrap_or_else(|| Worker::new(config, block.start));
        let mut workers = run_workers(first, &bounds, block, config);

        // Stitch: segments[j] = (worker, first position it is responsible for).
        let mut segments: Vec<(usize, u64)> = vec![(0, 0)];
        let mut current = 0;
        let mut next = 1;
        while next < n {
            let lower = segments.last().map_or(0, |s| s.1).max(bounds[next]);
            let theirs = workers[next].rx.canonical_positions();
            let found = workers[current]
                .rx
                .canonical_positions()
                .iter()
                .copied()
                .filter(|&c| c >= lower)
                .find(|c| theirs.binary_search(c).is_ok());
            if let Some(c) = found {
                segments.push((next, c));
                current = next;
                next += 1;
            } else if workers[current].rx.search_position() > workers[next].rx.search_position()
                || workers[current].done(block)
            {
                // The neighbour stopped before any shared position: it cannot take over.
                next += 1;
            } else {
                workers[current].step(block);
            }
        }
        // The last responsible receiver consumes the whole block, to carry on with the
        // next one (or to finish the input).
        while !workers[current].done(block) {
            workers[current].step(block);
        }

        for (k, &(w, from)) in segments.iter().enumerate() {
            let until = segments.get(k + 1).map_or(u64::MAX, |s| s.1);
            let worker = &mut workers[w];
            let mut produced = std::mem::take(&mut worker.frames).into_iter();
            for &(at, outcome) in worker.rx.events() {
                let yields_frame = match outcome {
                    Outcome::Data | Outcome::Semantic => true,
                    Outcome::FcsError => config.keep_failed_fcs,
                    _ => false,
                };
                let frame = if yields_frame { produced.next() } else { None };
                if (from..until).contains(&at) {
                    outcome.count(&mut self.stats);
                    out.extend(frame);
                }
            }
        }
        if !last {
            let mut carried = workers.swap_remove(current);
            // Everything it recorded has been handed out; the next block's stitching
            // only looks at positions inside that block.
            carried.rx.clear_recorded();
            self.carried = Some(carried);
        }
    }
}

/// Runs `first` (continuing from earlier input) over the first region of `block` and a
/// fresh receiver from each later region start, one thread each. Each runs past its
/// region's end to a canonical position there (or as far as the block allows); the
/// last runs to the block's end.
fn run_workers(first: Worker, bounds: &[u64], block: Block, config: ReceiverConfig) -> Vec<Worker> {
    let n = bounds.len() - 1;
    let mut first = Some(first);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let region_end = bounds[i + 1];
                let mut w = match first.take() {
                    Some(w) => w,
                    None => Worker::new(config, bounds[i]),
                };
                scope.spawn(move || {
                    while !w.done(block)
                        && (w.rx.search_position() < region_end
                            || !w.has_canonical_from(region_end)
                            || i == n - 1)
                    {
                        w.step(block);
                    }
                    w
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("decoder thread panicked"))
            .collect()
    })
}

/// Decodes `samples` on `n_threads` threads (at least 1). Same frames, in the same
/// order, and same counters as `Receiver::new(config)` fed the whole input and finished.
pub fn decode_parallel(
    samples: &[Complex32],
    n_threads: usize,
    config: ReceiverConfig,
) -> (Vec<RxFrame>, RxStats) {
    let mut decoder = ParallelDecoder::new(config, n_threads);
    let mut frames = Vec::new();
    decoder.process_block(samples, true, &mut frames);
    (frames, decoder.stats())
}
