//! End-to-end receiver tests: the shared transmitter's frames through a seeded channel
//! (carrier offset, gain, AWGN) into the receiver.

use super::test_support::awgn;
use super::{Receiver, ReceiverConfig};
use crate::phy::fcs::append_fcs;
use crate::phy::rate::Rate;
use crate::phy::received::{RxFrame, RxStats};
use crate::phy::semantic_header::{SemanticHeader, StreamKind};
use crate::phy::subcarriers::SAMPLE_RATE_HZ;
use crate::phy::tx::data_frame::encode_data_frame;
use crate::phy::tx::semantic_frame::encode_semantic_frame;
use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn zeros(n: usize) -> Vec<Complex32> {
    vec![Complex32::new(0.0, 0.0); n]
}

pub(super) fn random_psdu(rng: &mut ChaCha8Rng, payload_bytes: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..payload_bytes).map(|_| rng.random()).collect();
    append_fcs(&body)
}

/// Multiplies by `gain * exp(j 2 pi cfo_hz n / fs)`.
pub(super) fn channel(x: &mut [Complex32], gain: Complex32, cfo_hz: f64) {
    let w = 2.0 * std::f64::consts::PI * cfo_hz / SAMPLE_RATE_HZ;
    for (n, s) in x.iter_mut().enumerate() {
        let ph = (w * n as f64).rem_euclid(2.0 * std::f64::consts::PI);
        *s *= gain * Complex32::from_polar(1.0, ph as f32);
    }
}

fn receive(x: &[Complex32], config: ReceiverConfig, chunk: usize) -> (Vec<RxFrame>, RxStats) {
    let mut rx = Receiver::new(config);
    let mut out = Vec::new();
    for c in x.chunks(chunk.max(1)) {
        rx.process(c, &mut out);
    }
    rx.finish(&mut out);
    (out, rx.stats())
}

fn outcomes(s: &RxStats) -> u64 {
    s.sync_failures
        + s.signal_errors
        + s.header_errors
        + s.fcs_errors
        + s.truncated
        + s.data_frames
        + s.semantic_frames
}

fn header(n_symbols: usize) -> SemanticHeader {
    SemanticHeader {
        kind: 0,
        stream: StreamKind::Private,
        destination: 3,
        task: 7,
        message_id: 0x1234,
        fragment_index: 1,
        fragment_count: 2,
        n_symbols: n_symbols as u16,
    }
}

fn random_symbols(rng: &mut ChaCha8Rng, n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

#[test]
fn noise_free_round_trip_all_rates() {
    // Exact PSDU at every rate over an ideal channel, frames separated by silence.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut sig = zeros(300);
    let mut sent = Vec::new();
    for (i, rate) in Rate::ALL.into_iter().enumerate() {
        let psdu = random_psdu(&mut rng, 50 + 37 * i);
        sig.extend(encode_data_frame(&psdu, rate, 1 + 13 * i as u8).unwrap());
        sig.extend(zeros(200));
        sent.push((rate, psdu));
    }
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), sig.len());
    assert_eq!(stats.data_frames, 8, "{stats:?}");
    assert_eq!(stats.detected, 8, "no spurious detections: {stats:?}");
    for (f, (rate, psdu)) in frames.iter().zip(&sent) {
        let RxFrame::Data(d) = f else {
            panic!("expected a data frame")
        };
        assert_eq!(d.rate, *rate);
        assert_eq!(&d.psdu, psdu, "{rate}: PSDU differs");
        assert!(d.fcs_ok);
        assert!(
            d.info.evm_db < -40.0,
            "{rate}: noise-free EVM {}",
            d.info.evm_db
        );
    }
}

#[test]
fn noise_free_semantic_round_trip() {
    // Header fields exact, symbols within 1e-3 of those sent.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for n in [1usize, 48, 100, 1000] {
        let symbols = random_symbols(&mut rng, n);
        let mut sig = zeros(100);
        sig.extend(encode_semantic_frame(&header(n), &symbols).unwrap());
        sig.extend(zeros(100));
        let (frames, stats) = receive(&sig, ReceiverConfig::default(), sig.len());
        assert_eq!(stats.semantic_frames, 1, "{n} symbols: {stats:?}");
        let RxFrame::Semantic(f) = &frames[0] else {
            panic!("expected a semantic frame")
        };
        assert_eq!(f.header, header(n));
        assert_eq!(f.symbols.len(), n);
        for (i, (a, b)) in f.symbols.iter().zip(&symbols).enumerate() {
            assert!((a - b).norm() < 1e-3, "symbol {i}: {a} vs {b}");
        }
        assert!(
            f.noise_var.iter().all(|&v| v < 1e-4),
            "noise-free noise_var {:?}",
            f.noise_var
        );
        assert_eq!(f.info.start_sample, 100);
    }
}

#[test]
fn decodes_through_offset_gain_and_noise() {
    // 24 Mb/s at 20 dB with 80 kHz offset and a complex gain. The semantic symbols'
    // error variance must match the reported post-equalization noise variance within
    // 15 % (one frame's noise variance estimate alone spreads by 14 %), once the
    // estimates' own error, ESTIMATION_ERROR_FACTOR times the symbol power
    // E|x|^2 = 2/3, is added.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let psdu = random_psdu(&mut rng, 996);
    let symbols = random_symbols(&mut rng, 4800);
    let mut sig = zeros(500);
    sig.extend(encode_data_frame(&psdu, Rate::Mbps24, 0x5d).unwrap());
    sig.extend(zeros(300));
    sig.extend(encode_semantic_frame(&header(4800), &symbols).unwrap());
    sig.extend(zeros(300));
    let gain = Complex32::from_polar(0.5, 2.0);
    channel(&mut sig, gain, 80e3);
    let noise_var = 0.25 * 0.01;
    awgn(&mut sig, noise_var, 33);
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 1000);
    assert_eq!(
        (stats.data_frames, stats.semantic_frames),
        (1, 1),
        "{stats:?}"
    );
    let RxFrame::Data(d) = &frames[0] else {
        panic!("data frame first")
    };
    assert_eq!(d.psdu, psdu);
    assert!((d.info.cfo_hz - 80e3).abs() < 2e3, "CFO {}", d.info.cfo_hz);
    assert!((d.info.snr_db - 20.0).abs() < 2.0, "SNR {}", d.info.snr_db);
    assert!((d.info.evm_db + 20.0).abs() < 2.0, "EVM {}", d.info.evm_db);
    let RxFrame::Semantic(f) = &frames[1] else {
        panic!("semantic frame second")
    };
    let err: f32 = f
        .symbols
        .iter()
        .zip(&symbols)
        .map(|(a, b)| (a - b).norm_sqr())
        .sum::<f32>()
        / symbols.len() as f32;
    let reported = f.noise_var.iter().sum::<f32>() / 48.0;
    let expected = reported * (1.0 + ESTIMATION_ERROR_FACTOR * 2.0 / 3.0);
    eprintln!("semantic error over expected: {:.3}", err / expected);
    assert!(
        (err / expected - 1.0).abs() < 0.15,
        "error var {err} vs expected {expected}"
    );
}

/// Error variance the channel and common phase estimates add to an equalized symbol
/// of unit power, relative to the reported (noise only) post-equalization noise
/// variance: the channel estimate keeps 21/52 of the two-symbol average's variance of
/// 1/2 (21-tap delay window), the common phase estimate 1/8 over 9 symbols.
const ESTIMATION_ERROR_FACTOR: f32 = 21.0 / 104.0 + 1.0 / 72.0;

#[test]
fn reported_noise_var_plus_estimation_error_matches_symbol_error() {
    // 20 semantic frames of 480 symbols through a complex gain, a 3-tap channel and
    // 40 kHz offset at 20 dB. Per symbol the expected squared error is the reported
    // noise_var of its subcarrier times (1 + ESTIMATION_ERROR_FACTOR |x|^2); summed
    // over all frames it must match the measured error within 6 % (spread of the
    // per-frame noise estimate, 14 %, over 20 frames: about 3 %). The unsmoothed
    // estimate's factor (1/2 + 1/8) would be 10 % high, no estimation error 13 % low.
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let n_frames = 20;
    let mut clean = zeros(400);
    let mut sent = Vec::new();
    for _ in 0..n_frames {
        let symbols = random_symbols(&mut rng, 480);
        clean.extend(encode_semantic_frame(&header(480), &symbols).unwrap());
        clean.extend(zeros(300));
        sent.push(symbols);
    }
    let taps = [
        Complex32::new(0.8, 0.1),
        Complex32::new(0.0, -0.35),
        Complex32::new(0.15, 0.1),
    ];
    let mut sig: Vec<Complex32> = (0..clean.len())
        .map(|n| {
            (0..taps.len())
                .filter(|&d| d <= n)
                .map(|d| taps[d] * clean[n - d])
                .sum()
        })
        .collect();
    channel(&mut sig, Complex32::from_polar(0.7, -1.0), 40e3);
    awgn(&mut sig, 0.49 * 0.01, 22);
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 7000);
    assert_eq!(stats.semantic_frames, n_frames, "{stats:?}");
    let (mut err, mut expected) = (0.0f64, 0.0f64);
    for (f, symbols) in frames.iter().zip(&sent) {
        let RxFrame::Semantic(f) = f else {
            panic!("semantic frame expected")
        };
        for (i, (y, x)) in f.symbols.iter().zip(symbols).enumerate() {
            err += f64::from((y - x).norm_sqr());
            expected +=
                f64::from(f.noise_var_of(i) * (1.0 + ESTIMATION_ERROR_FACTOR * x.norm_sqr()));
        }
    }
    eprintln!("symbol error over expected: {:.3}", err / expected);
    assert!(
        (err / expected - 1.0).abs() < 0.06,
        "symbol error {err} vs expected {expected} (ratio {})",
        err / expected
    );
}

/// A stream of mixed frames at 25 dB with offset, for the chunking tests.
fn mixed_stream() -> Vec<Complex32> {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut sig = zeros(777);
    for (i, rate) in [Rate::Mbps6, Rate::Mbps54, Rate::Mbps24, Rate::Mbps12]
        .iter()
        .enumerate()
    {
        sig.extend(encode_data_frame(&random_psdu(&mut rng, 200 + 100 * i), *rate, 9).unwrap());
        sig.extend(zeros(50 * i));
        let syms = random_symbols(&mut rng, 300);
        sig.extend(encode_semantic_frame(&header(300), &syms).unwrap());
    }
    sig.extend(zeros(500));
    channel(&mut sig, Complex32::new(0.8, -0.3), -45e3);
    awgn(&mut sig, 0.73 * 10f32.powf(-2.5), 44);
    sig
}

#[test]
fn results_do_not_depend_on_chunking() {
    let sig = mixed_stream();
    let (whole, whole_stats) = receive(&sig, ReceiverConfig::default(), sig.len());
    assert_eq!(
        (whole_stats.data_frames, whole_stats.semantic_frames),
        (4, 4),
        "{whole_stats:?}"
    );
    for chunk in [1usize, 7, 4096] {
        let (frames, stats) = receive(&sig, ReceiverConfig::default(), chunk);
        assert_eq!(frames, whole, "chunk size {chunk} changed the frames");
        assert_eq!(
            stats, whole_stats,
            "chunk size {chunk} changed the counters"
        );
    }
}

#[test]
fn noise_zeros_and_non_finite_input_are_harmless() {
    let mut noise = zeros(300_000);
    awgn(&mut noise, 1.0, 5);
    let (frames, stats) = receive(&noise, ReceiverConfig::default(), 5000);
    assert!(frames.is_empty());
    assert_eq!(stats.samples, 300_000);
    assert_eq!(
        stats.detected,
        outcomes(&stats),
        "every detection has one outcome"
    );

    let (frames, stats) = receive(&zeros(100_000), ReceiverConfig::default(), 3333);
    assert!(frames.is_empty() && stats.detected == 0, "{stats:?}");

    // NaN and infinities scattered over a valid frame: counted and replaced by zero;
    // a few zeroed samples in a 6 Mb/s frame still decode.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let psdu = random_psdu(&mut rng, 100);
    let mut sig = zeros(200);
    sig.extend(encode_data_frame(&psdu, Rate::Mbps6, 3).unwrap());
    sig.extend(zeros(200));
    let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
    for (j, i) in (1000..sig.len() - 300).step_by(397).enumerate() {
        sig[i] = Complex32::new(bad[j % 3], 0.0);
    }
    sig.extend(vec![Complex32::new(f32::NAN, f32::NAN); 1000]);
    let n_bad = sig
        .iter()
        .filter(|s| !s.re.is_finite() || !s.im.is_finite())
        .count() as u64;
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 1024);
    assert_eq!(stats.non_finite_samples, n_bad);
    assert_eq!(frames.len(), 1, "{stats:?}");
    assert_eq!(stats.detected, outcomes(&stats));
    // Huge finite values must not panic either.
    let huge = vec![Complex32::new(3e38, -3e38); 5000];
    let (_, stats) = receive(&huge, ReceiverConfig::default(), 5000);
    assert_eq!(stats.detected, outcomes(&stats));
}

#[test]
fn truncated_frames_and_fcs_failures_are_counted() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let psdu = random_psdu(&mut rng, 4000);
    let frame = encode_data_frame(&psdu, Rate::Mbps6, 3).unwrap();
    for cut in [100usize, 350, 450, frame.len() / 2, frame.len() - 1] {
        let mut sig = zeros(200);
        sig.extend_from_slice(&frame[..cut]);
        let (frames, stats) = receive(&sig, ReceiverConfig::default(), 999);
        assert!(frames.is_empty(), "cut at {cut}");
        assert_eq!(stats.detected, outcomes(&stats), "cut at {cut}: {stats:?}");
        if cut >= 450 {
            assert_eq!(stats.truncated, 1, "cut at {cut}: {stats:?}");
        }
    }
    // A PSDU whose FCS does not match: dropped by default, kept on request.
    let mut bad = random_psdu(&mut rng, 100);
    bad[10] ^= 0x40;
    let mut sig = zeros(200);
    sig.extend(encode_data_frame(&bad, Rate::Mbps36, 3).unwrap());
    sig.extend(zeros(200));
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), sig.len());
    assert!(frames.is_empty());
    assert_eq!((stats.fcs_errors, stats.detected), (1, 1));
    let keep = ReceiverConfig {
        keep_failed_fcs: true,
        ..Default::default()
    };
    let (frames, _) = receive(&sig, keep, sig.len());
    let [RxFrame::Data(d)] = frames.as_slice() else {
        panic!("one kept frame")
    };
    assert!(!d.fcs_ok);
    assert_eq!(d.psdu, bad, "the corrupted PSDU is decoded as sent");
}

/// Back-to-back 1000-byte 24 Mb/s frames at 30 dB SNR (the throughput benchmark's input).
fn back_to_back_24mbps(n_frames: usize, seed: u64) -> Vec<Complex32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sig = zeros(123);
    for i in 0..n_frames {
        let psdu = random_psdu(&mut rng, 996);
        sig.extend(encode_data_frame(&psdu, Rate::Mbps24, 1 + (i % 127) as u8).unwrap());
    }
    sig.extend(zeros(200));
    channel(&mut sig, Complex32::from_polar(1.0, 0.3), 23e3);
    awgn(&mut sig, 1e-3, seed);
    sig
}

#[test]
fn parallel_decoding_matches_single_threaded() {
    for (sig, what) in [
        (back_to_back_24mbps(40, 8), "back-to-back"),
        (mixed_stream(), "mixed"),
    ] {
        let (single, single_stats) = receive(&sig, ReceiverConfig::default(), sig.len());
        for n_threads in [1usize, 2, 3, 5] {
            let (frames, stats) =
                super::decode_parallel(&sig, n_threads, ReceiverConfig::default());
            assert_eq!(frames, single, "{what}, {n_threads} threads: frames differ");
            assert_eq!(
                stats, single_stats,
                "{what}, {n_threads} threads: counters differ"
            );
        }
    }
}

/// CPU time (user + system) this process has used so far, in seconds, from
/// `/proc/self/stat` (Linux; clock ticks of 10 ms).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Receive throughput, release build: `cargo test --release --lib rx_throughput --
/// --ignored --nocapture`. Prints the best wall-clock rate of ten runs and the rate per
/// CPU-second actually used (what one core sustains when other processes compete).
#[test]
#[ignore]
fn rx_throughput() {
    let sig = back_to_back_24mbps(400, 9);
    for n_threads in [1usize, 2] {
        let reps = 10;
        let mut best = f64::INFINITY;
        let cpu0 = process_cpu_seconds();
        for _ in 0..reps {
            let t0 = std::time::Instant::now();
            let (frames, stats) =
                super::decode_parallel(&sig, n_threads, ReceiverConfig::default());
            best = best.min(t0.elapsed().as_secs_f64());
            assert_eq!(frames.len(), 400, "{stats:?}");
        }
        let cpu = process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
        let per_cpu = cpu.map_or(f64::NAN, |c| (reps * sig.len()) as f64 / c / 1e6);
        println!(
            "{n_threads} thread(s): {:.1} MS/s wall (best of {reps}), {:.1} MS/s per CPU-second",
            sig.len() as f64 / best / 1e6,
            per_cpu
        );
    }
}

#[test]
fn reserved_rate_is_a_signal_error_and_detection_resumes() {
    // Replace a frame's SIGNAL by one with a reserved RATE code (R4 = 0, not the
    // semantic code): the frame is dropped as a SIGNAL error, and the frame after it
    // still decodes.
    use crate::phy::signal_field::Signal;
    use crate::phy::tx::OfdmModulator;
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut first = encode_data_frame(&random_psdu(&mut rng, 300), Rate::Mbps12, 5).unwrap();
    let bad = Signal {
        rate_field: 0b0100,
        length: 300,
    };
    let mut symbol = Vec::new();
    OfdmModulator::new().modulate(&bad.data_symbols(), 0, &mut symbol);
    first[320..400].copy_from_slice(&symbol);
    let psdu = random_psdu(&mut rng, 50);
    let mut sig = zeros(100);
    sig.extend(first);
    sig.extend(encode_data_frame(&psdu, Rate::Mbps54, 5).unwrap());
    sig.extend(zeros(100));
    awgn(&mut sig, 1e-3, 10);
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 512);
    assert_eq!(stats.signal_errors, 1, "{stats:?}");
    assert_eq!(stats.detected, outcomes(&stats), "{stats:?}");
    let [RxFrame::Data(d)] = frames.as_slice() else {
        panic!("one frame expected: {stats:?}")
    };
    assert_eq!(d.psdu, psdu);
}

/// Convolves `clean` with `taps` (tap `d` delays by `d` samples).
fn convolve(clean: &[Complex32], taps: &[Complex32]) -> Vec<Complex32> {
    (0..clean.len())
        .map(|n| {
            (0..taps.len())
                .filter(|&d| d <= n)
                .map(|d| taps[d] * clean[n - d])
                .sum()
        })
        .collect()
}

#[test]
fn strongest_path_arriving_late_causes_no_intersymbol_interference() {
    // The long-training correlation peaks on the strongest path, here 3 samples after the
    // first. An FFT window placed at that peak would take samples of the next symbol and
    // 64-QAM 3/4 would fail even without noise; the window must start before the first
    // path. At 50 dB every frame must decode and the LTF-based SNR estimate must not
    // report the intersymbol interference as noise (it would read below 25 dB).
    let taps = [
        Complex32::new(0.30, 0.1),
        Complex32::new(0.0, 0.15),
        Complex32::new(0.1, 0.0),
        Complex32::new(-0.1, 0.9),
        Complex32::new(0.05, 0.05),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut clean = zeros(300);
    let mut sent = Vec::new();
    for _ in 0..4 {
        let psdu = random_psdu(&mut rng, 1000);
        clean.extend(encode_data_frame(&psdu, Rate::Mbps54, 33).unwrap());
        clean.extend(zeros(200));
        sent.push(psdu);
    }
    let mut sig = convolve(&clean, &taps);
    awgn(&mut sig, 1e-5, 22);
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 4096);
    assert_eq!(stats.data_frames, 4, "late strongest path: {stats:?}");
    for (f, psdu) in frames.iter().zip(&sent) {
        let RxFrame::Data(d) = f else {
            panic!("data frame expected")
        };
        assert_eq!(&d.psdu, psdu);
        assert!(d.info.snr_db > 35.0, "SNR estimate {} dB", d.info.snr_db);
    }
}

#[test]
fn decodes_over_multipath_and_at_low_snr() {
    // A three-tap channel (delay spread well inside the cyclic prefix) at 25 dB, 36 Mb/s;
    // then 6 Mb/s at 6 dB, where BPSK rate 1/2 with soft decisions still delivers
    // nearly every frame (at least 18 of 20).
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let taps = [
        Complex32::new(0.9, 0.0),
        Complex32::new(0.0, 0.4),
        Complex32::new(0.2, -0.1),
    ];
    let mut clean = zeros(300);
    let mut sent = Vec::new();
    for _ in 0..5 {
        let psdu = random_psdu(&mut rng, 400);
        clean.extend(encode_data_frame(&psdu, Rate::Mbps36, 77).unwrap());
        clean.extend(zeros(100));
        sent.push(psdu);
    }
    let mut sig = convolve(&clean, &taps);
    channel(&mut sig, Complex32::new(1.0, 0.0), 12e3);
    awgn(&mut sig, 10f32.powf(-2.5), 12);
    let (frames, stats) = receive(&sig, ReceiverConfig::default(), 4096);
    assert_eq!(stats.data_frames, 5, "multipath: {stats:?}");
    for (f, psdu) in frames.iter().zip(&sent) {
        let RxFrame::Data(d) = f else {
            panic!("data frame expected")
        };
        assert_eq!(&d.psdu, psdu);
    }

    let mut sig = zeros(300);
    for _ in 0..20 {
        sig.extend(encode_data_frame(&random_psdu(&mut rng, 100), Rate::Mbps6, 9).unwrap());
        sig.extend(zeros(200));
    }
    channel(&mut sig, Complex32::new(1.0, 0.0), -30e3);
    awgn(&mut sig, 10f32.powf(-0.6), 13);
    let (_, stats) = receive(&sig, ReceiverConfig::default(), 4096);
    assert!(stats.data_frames >= 18, "6 Mb/s at 6 dB: {stats:?}");
    assert_eq!(stats.detected, outcomes(&stats));
}

#[test]
fn block_wise_parallel_decoding_matches_single_threaded() {
    // Blocks far shorter than the recording, in sizes that cut frames at arbitrary
    // samples: a frame lost or decoded twice at a block edge, or a counter taken twice,
    // makes the result differ from one receiver over the whole input.
    for (sig, what) in [
        (back_to_back_24mbps(40, 8), "back-to-back"),
        (mixed_stream(), "mixed"),
    ] {
        let (single, single_stats) = receive(&sig, ReceiverConfig::default(), sig.len());
        let n = sig.len();
        for (n_threads, block_len) in [(1, 1000), (1, n / 5), (2, n / 4 + 1), (3, n / 2 + 3)] {
            let mut decoder = super::ParallelDecoder::new(ReceiverConfig::default(), n_threads);
            let mut frames = Vec::new();
            let blocks: Vec<&[Complex32]> = sig.chunks(block_len).collect();
            assert!(
                blocks.len() >= 2,
                "{what}: the input must span several blocks"
            );
            for (i, block) in blocks.iter().enumerate() {
                decoder.process_block(block, i + 1 == blocks.len(), &mut frames);
            }
            let ctx = format!("{what}, {n_threads} threads, blocks of {block_len}");
            assert_eq!(frames, single, "{ctx}: frames differ");
            assert_eq!(decoder.stats(), single_stats, "{ctx}: counters differ");
        }
    }
}
