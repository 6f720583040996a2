//! Multi-threaded decoding of a recording, giving the same frames and counters as one
//! [`Receiver`] over the whole input.
//!
//! The input is cut into `n_threads` equal regions; each thread runs its own receiver
//! from the start of its region and a little past its end. A receiver started in the
//! middle of the stream may see things differently at first (it starts cold, possibly
//! inside a frame), so the results are stitched at a *canonical position*: a sample index
//! at which both neighbouring receivers were searching with detector state fully
//! determined by the index (just after a frame or a rejection, or at a periodic refresh
//! outside a plateau). From such a position on, both behave exactly like the
//! single-threaded receiver. When the neighbours share no such position, the earlier
//! receiver is run further, on the calling thread, until they do; the overlap is bounded
//! by the input, and on back-to-back frames it is one frame.

use super::receiver::{is_finite, Outcome, Receiver, ReceiverConfig, INPUT_PIECE};
use crate::phy::received::{RxFrame, RxStats};
use num_complex::Complex32;

struct Worker {
    rx: Receiver,
    frames: Vec<RxFrame>,
    /// Absolute index of the next sample to feed.
    fed: usize,
    finished: bool,
}

impl Worker {
    fn new(config: ReceiverConfig, start: usize) -> Self {
        let mut rx = Receiver::starting_at(config, start as u64);
        rx.record_events();
        Self {
            rx,
            frames: Vec::new(),
            fed: start,
            finished: false,
        }
    }

    /// Feeds one more piece; at the end of the input finishes the receiver.
    fn step(&mut self, samples: &[Complex32]) {
        if self.finished {
            return;
        }
        let end = (self.fed + INPUT_PIECE).min(samples.len());
        self.rx.process(&samples[self.fed..end], &mut self.frames);
        self.fed = end;
        if end == samples.len() {
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

/// Decodes `samples` on `n_threads` threads (at least 1). Same frames, in the same
/// order, and same counters as `Receiver::new(config)` fed the whole input and finished.
pub fn decode_parallel(
    samples: &[Complex32],
    n_threads: usize,
    config: ReceiverConfig,
) -> (Vec<RxFrame>, RxStats) {
    let n = n_threads.max(1).min(samples.len() / INPUT_PIECE + 1);
    let bounds: Vec<usize> = (0..=n).map(|i| i * samples.len() / n).collect();
    let mut workers: Vec<Worker> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let region_end = bounds[i + 1] as u64;
                let start = bounds[i];
                scope.spawn(move || {
                    let mut w = Worker::new(config, start);
                    while !w.finished
                        && (w.rx.search_position() < region_end
                            || !w.has_canonical_from(region_end))
                    {
                        w.step(samples);
                    }
                    w
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("decoder thread panicked"))
            .collect()
    });

    // Stitch: segments[j] = (worker, first position it is responsible for).
    let mut segments: Vec<(usize, u64)> = vec![(0, 0)];
    let mut current = 0;
    let mut next = 1;
    while next < n {
        let lower = segments.last().map_or(0, |s| s.1).max(bounds[next] as u64);
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
            || workers[current].finished
        {
            // The neighbour stopped before any shared position: it cannot take over.
            next += 1;
        } else {
            workers[current].step(samples);
        }
    }

    let mut frames = Vec::new();
    let mut stats = RxStats {
        samples: samples.len() as u64,
        non_finite_samples: samples.iter().map(|&s| (!is_finite(s)) as u64).sum(),
        ..Default::default()
    };
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
                outcome.count(&mut stats);
                frames.extend(frame);
            }
        }
    }
    (frames, stats)
}
