//! Receive throughput from a recording: back-to-back 1000-byte PSDUs at 24 Mb/s
//! (16-QAM, rate 1/2) through the channel simulator at 30 dB SNR, written once to a
//! cf32 file in a temporary directory, then read and decoded block by block
//! (4 Mi samples per block, as `m4sc rx --threads`) by one streaming `Receiver` and by
//! the two-thread `ParallelDecoder`. Criterion reports samples per second.
//!
//! `cargo bench --bench rx_throughput`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use m4sc::blocks::TransmitterConfig;
use m4sc::channel::ChannelConfig;
use m4sc::flowgraphs::transmit::transmit;
use m4sc::io::Cf32BlockReader;
use m4sc::phy::rx::{ParallelDecoder, Receiver, ReceiverConfig};
use m4sc::phy::{Rate, RxFrame};
use m4sc::traffic::random_data_frames;
use num_complex::Complex32;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FRAMES: usize = 400;
const PSDU_BYTES: usize = 1000;
const SNR_DB: f32 = 30.0;
const BLOCK_SAMPLES: usize = 1 << 22;

/// Writes the recording into `dir`; returns its path and length in samples.
fn record(dir: &Path) -> (PathBuf, u64) {
    let path = dir.join("rx_24mbps_30db.cf32");
    let frames = random_data_frames(FRAMES, Rate::Mbps24, PSDU_BYTES, 7).expect("valid size");
    let channel = ChannelConfig {
        snr_db: Some(SNR_DB),
        seed: 7,
        ..ChannelConfig::default()
    };
    let outcome = transmit(frames, TransmitterConfig::default(), channel, &path)
        .expect("recording must be written");
    (path, outcome.samples)
}

/// Decodes the file with one receiver fed block by block.
fn decode_single(path: &Path, block: &mut Vec<Complex32>) -> Vec<RxFrame> {
    let mut reader = Cf32BlockReader::open(path).expect("recording readable");
    let mut rx = Receiver::new(ReceiverConfig::default());
    let mut frames = Vec::new();
    while reader.read_block(BLOCK_SAMPLES, block).expect("read") > 0 {
        rx.process(block, &mut frames);
    }
    rx.finish(&mut frames);
    frames
}

/// Decodes the file with the block-wise parallel decoder on `n_threads` threads.
fn decode_threads(path: &Path, n_threads: usize, block: &mut Vec<Complex32>) -> Vec<RxFrame> {
    let mut reader = Cf32BlockReader::open(path).expect("recording readable");
    let mut decoder = ParallelDecoder::new(ReceiverConfig::default(), n_threads);
    let mut frames = Vec::new();
    loop {
        reader.read_block(BLOCK_SAMPLES, block).expect("read");
        let last = reader.at_end();
        decoder.process_block(block, last, &mut frames);
        if last {
            return frames;
        }
    }
}

fn rx_throughput(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("m4sc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (path, samples) = record(&dir);
    let mut block = Vec::new();
    // A benchmark of a receiver that loses frames would measure the wrong thing.
    let reference = decode_single(&path, &mut block);
    assert_eq!(reference.len(), FRAMES, "30 dB: every frame must decode");
    assert_eq!(
        decode_threads(&path, 2, &mut block),
        reference,
        "two threads must decode the same frames"
    );

    let mut group = c.benchmark_group("rx_24mbps_1000B_30dB");
    group.throughput(Throughput::Elements(samples));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("receiver_1_thread", |b| {
        b.iter(|| decode_single(&path, &mut block).len())
    });
    group.bench_function("parallel_2_threads", |b| {
        b.iter(|| decode_threads(&path, 2, &mut block).len())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, rx_throughput);
criterion_main!(benches);
