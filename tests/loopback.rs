//! The real loopback flowgraph (transmitter -> channel -> receiver -> sink) measured
//! against the frames sent.
//!
//! Frame counts and thresholds (statistical reasoning):
//! - PER <= 10 % is checked with 100 frames at operating points where a correct
//!   receiver's PER is a few percent at most (6 Mb/s needs about 2-3 dB of SNR for
//!   10 % PER with 1000-byte PSDUs and soft Viterbi decoding; 54 Mb/s about 20 dB).
//!   With a true PER of 3 %, more than 10 failures in 100 frames has probability
//!   below 1e-3 (binomial tail), so a failure points at a receiver loss of several
//!   dB, not at bad luck.
//! - At 30 dB every rate is more than 10 dB above its 10 % PER point, where the
//!   expected number of errored frames in 100 is far below 0.01; a single error
//!   therefore means a defect (for example carrier offset or pilot tracking), which
//!   is why zero errors are required. +-100 kHz is 0.16 subcarrier spacings, well
//!   within the +-625 kHz range of the short training field's coarse estimate.
//! - Semantic payload EVM is averaged over 10 frames of 2400 symbols: the
//!   measurement's own spread is about 0.1 dB (the channel estimate's error is common
//!   to a frame, so 10 frames are 10 draws of it), small against the 1 dB requirement
//!   and the 0.3 dB tolerance around the receiver's predicted EVM. The prediction:
//!   the receiver's FFT gathers 64/52 of the per-sample SNR on each used subcarrier
//!   (-0.9 dB of EVM); the channel estimate, projected onto a 21-tap delay window,
//!   adds 21/52 of the half noise of two averaged long training symbols (+0.8 dB), and
//!   common-phase tracking on four pilots averaged over 9 symbols another 1/72.

use m4sc::blocks::{TransmitterConfig, TxFrame};
use m4sc::channel::ChannelConfig;
use m4sc::flowgraphs::loopback::{loopback, LoopbackOutcome};
use m4sc::link_metrics::{measure, LinkMetrics};
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{Complex32, Rate, SemanticHeader, StreamKind, BROADCAST};
use m4sc::traffic::random_data_frames;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn run(frames: Vec<TxFrame>, channel: ChannelConfig) -> (LinkMetrics, LoopbackOutcome) {
    let rx = ReceiverConfig {
        keep_failed_fcs: true,
        ..ReceiverConfig::default()
    };
    let outcome = loopback(frames.clone(), TransmitterConfig::default(), channel, rx)
        .expect("loopback flowgraph must run");
    assert_eq!(
        outcome.frames_sent,
        frames.len() as u64,
        "every frame must be sent"
    );
    (
        measure(&frames, &outcome.burst_starts, &outcome.received),
        outcome,
    )
}

fn awgn(snr_db: f32, cfo_hz: f64, seed: u64) -> ChannelConfig {
    ChannelConfig {
        snr_db: Some(snr_db),
        cfo_hz,
        seed,
        ..ChannelConfig::default()
    }
}

#[test]
fn per_at_6_mbps_and_5_db_is_at_most_10_percent() {
    let frames = random_data_frames(100, Rate::Mbps6, 1000, 61).unwrap();
    let (m, outcome) = run(frames, awgn(5.0, 0.0, 62));
    eprintln!("6 Mb/s, 5 dB: {m:?}\n{:?}", outcome.stats);
    assert!(m.per <= 0.10, "PER {} > 10 % at 6 Mb/s, 5 dB: {m:?}", m.per);
}

#[test]
fn per_at_54_mbps_and_24_db_is_at_most_10_percent() {
    let frames = random_data_frames(100, Rate::Mbps54, 1000, 541).unwrap();
    let (m, outcome) = run(frames, awgn(24.0, 0.0, 542));
    eprintln!("54 Mb/s, 24 dB: {m:?}\n{:?}", outcome.stats);
    assert!(
        m.per <= 0.10,
        "PER {} > 10 % at 54 Mb/s, 24 dB: {m:?}",
        m.per
    );
}

#[test]
fn every_rate_is_error_free_at_30_db_with_100_khz_cfo() {
    for cfo_hz in [100e3, -100e3] {
        for (i, rate) in Rate::ALL.into_iter().enumerate() {
            let frames = random_data_frames(100, rate, 1000, 300 + i as u64).unwrap();
            let (m, outcome) = run(frames, awgn(30.0, cfo_hz, 400 + i as u64));
            assert!(
                m.frames_received == 100 && m.bit_errors == 0 && m.spurious_frames == 0,
                "{rate} with CFO {cfo_hz} Hz at 30 dB must be error free: {m:?}\n{:?}",
                outcome.stats
            );
            let cfo_err = outcome
                .received
                .iter()
                .map(|f| (f64::from(f.info().cfo_hz) - cfo_hz).abs())
                .fold(0.0, f64::max);
            assert!(cfo_err < 2e3, "CFO estimate off by {cfo_err} Hz at {rate}");
        }
    }
}

fn semantic_frames(n_frames: usize, n_symbols: usize, seed: u64) -> Vec<TxFrame> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n_frames)
        .map(|i| {
            // Unit-power channel symbols with uniformly random phase.
            let symbols: Vec<Complex32> = (0..n_symbols)
                .map(|_| Complex32::from_polar(1.0, rng.random_range(0.0..std::f32::consts::TAU)))
                .collect();
            TxFrame::Semantic {
                header: SemanticHeader {
                    kind: 0,
                    stream: StreamKind::Public,
                    destination: BROADCAST,
                    task: 1,
                    message_id: i as u16,
                    fragment_index: 0,
                    fragment_count: 1,
                    n_symbols: n_symbols as u16,
                },
                symbols,
            }
        })
        .collect()
}

/// Payload EVM against the symbols sent, over AWGN at `snr_db`, as (SNR, EVM) in dB.
fn payload_evm_at(snr_db: f32) -> f64 {
    let frames = semantic_frames(10, 2400, snr_db as u64);
    let (m, outcome) = run(frames, awgn(snr_db, 0.0, 7 + snr_db as u64));
    assert_eq!(
        m.frames_received, 10,
        "all semantic frames must arrive: {m:?}"
    );
    let evm_db = m.payload_evm_db.expect("payload EVM measured");
    eprintln!(
        "SNR {snr_db} dB: payload EVM {evm_db:.2} dB, {:?}",
        outcome.stats
    );
    evm_db
}

/// EVM of this receiver over AWGN in dB relative to -SNR: per-subcarrier noise of 52/64
/// of the per-sample noise, plus the channel estimate's error (21/52 of 1/2) and the
/// common phase estimate's (1/(8 * 9)): 10 log10((1 + 21/104 + 1/72) * 52/64).
const PREDICTED_EVM_OFFSET_DB: f64 = -0.05;

/// The system requirement: payload EVM within 1 dB of -SNR at 10-30 dB. A receiver
/// with the plain two-symbol least-squares channel estimate and per-symbol pilot
/// tracking misses it (about +1.2 dB); a loss of more than 0.3 dB against the
/// prediction above would point at a worse channel or phase estimate than designed.
#[test]
fn semantic_payload_evm_tracks_channel_snr_within_1_db() {
    let mut results = Vec::new();
    for snr_db in [10.0f32, 20.0, 30.0] {
        results.push((snr_db, payload_evm_at(snr_db)));
    }
    for (snr_db, evm_db) in results.iter().copied() {
        let offset_db = evm_db + f64::from(snr_db);
        assert!(
            offset_db.abs() <= 1.0,
            "payload EVM not within 1 dB of -SNR: (SNR dB, EVM dB) = {results:?}"
        );
        assert!(
            (offset_db - PREDICTED_EVM_OFFSET_DB).abs() <= 0.3,
            "payload EVM more than 0.3 dB from the predicted -SNR {PREDICTED_EVM_OFFSET_DB} \
             dB: (SNR dB, EVM dB) = {results:?}"
        );
    }
}
