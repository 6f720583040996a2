//! The synthetic recordings in `captures/`: each replays to exactly the frames its seed
//! sent, and `captures/make_captures.sh` regenerates each byte for byte (those made with
//! the semantic model to within a rounding step of the model's arithmetic).

use m4sc::blocks::TxFrame;
use m4sc::flowgraphs::replay::{replay, replay_scenario};
use m4sc::multiuser::run::{run_scenario, RunOptions};
use m4sc::multiuser::scenario::{Scenario, UserChannel};
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{Rate, RxFrame};
use m4sc::semantic::model::SemanticModel;
use m4sc::semantic::model_config::weights_fingerprint;
use m4sc::traffic::{random_data_frames, random_semantic_frames, semantic_seed};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// What one capture holds, as `captures/make_captures.sh` made it.
struct Capture {
    name: &'static str,
    datatype: &'static str,
    sample_rate_hz: f64,
    seed: u64,
    data_frames: usize,
    rate: Rate,
    psdu_bytes: usize,
    semantic_frames: usize,
    semantic_symbols: usize,
}

const CAPTURES: [Capture; 3] = [
    Capture {
        name: "data_6mbps_multipath",
        datatype: "ci16_le",
        sample_rate_hz: 20e6,
        seed: 11,
        data_frames: 6,
        rate: Rate::Mbps6,
        psdu_bytes: 300,
        semantic_frames: 0,
        semantic_symbols: 480,
    },
    Capture {
        name: "data_54mbps_awgn_ci8",
        datatype: "ci8",
        sample_rate_hz: 20e6,
        seed: 12,
        data_frames: 8,
        rate: Rate::Mbps54,
        psdu_bytes: 500,
        semantic_frames: 0,
        semantic_symbols: 480,
    },
    Capture {
        name: "semantic_multipath_25msps",
        datatype: "ci16_le",
        sample_rate_hz: 25e6,
        seed: 13,
        data_frames: 2,
        rate: Rate::Mbps12,
        psdu_bytes: 200,
        semantic_frames: 4,
        semantic_symbols: 480,
    },
];

/// Recordings of a multi-user scenario: (capture name, scenario file, frames sent).
const SCENARIO_CAPTURES: [(&str, &str, usize); 1] = [(
    "scenario_mixed_multipath",
    "examples/mixed_image_text.toml",
    4,
)];

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

impl Capture {
    fn sent(&self) -> Vec<TxFrame> {
        let mut frames =
            random_data_frames(self.data_frames, self.rate, self.psdu_bytes, self.seed).unwrap();
        frames.extend(
            random_semantic_frames(
                self.semantic_frames,
                self.semantic_symbols,
                semantic_seed(self.seed),
            )
            .unwrap(),
        );
        frames
    }
}

#[test]
fn each_capture_replays_to_the_frames_its_seed_sent() {
    for c in &CAPTURES {
        let path = captures_dir().join(format!("{}.sigmf-meta", c.name));
        let outcome =
            replay(&path, ReceiverConfig::default()).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let g = &outcome.meta.global;
        assert_eq!(g.datatype, c.datatype, "{}", c.name);
        assert_eq!(g.sample_rate_hz, c.sample_rate_hz, "{}", c.name);
        assert_eq!(g.seed, Some(c.seed), "{}", c.name);
        let sent = c.sent();
        assert_eq!(
            outcome.frames.len(),
            sent.len(),
            "{}: decoded {} of {} frames ({:?})",
            c.name,
            outcome.frames.len(),
            sent.len(),
            outcome.stats
        );
        assert_eq!(
            outcome.stats.detected,
            sent.len() as u64,
            "{}: spurious detections",
            c.name
        );
        for (i, (rx, tx)) in outcome.frames.iter().zip(&sent).enumerate() {
            match (rx, tx) {
                (RxFrame::Data(r), TxFrame::Data { psdu, rate }) => {
                    assert!(r.fcs_ok, "{} frame {i}: FCS", c.name);
                    assert_eq!(r.rate, *rate, "{} frame {i}: rate", c.name);
                    assert_eq!(&r.psdu, psdu, "{} frame {i}: payload differs", c.name);
                }
                (RxFrame::Semantic(r), TxFrame::Semantic { header, symbols }) => {
                    assert_eq!(&r.header, header, "{} frame {i}: header", c.name);
                    // The errors of the equalized symbols must be what the receiver's
                    // per-subcarrier noise estimate says (mean |r - s|^2 / noise_var near
                    // 1.2: channel noise plus the 0.22 the estimates add), so a faded
                    // subcarrier is flagged, not hidden; and few QPSK decisions may flip.
                    let n = symbols.len();
                    let z = (0..n)
                        .map(|k| (r.symbols[k] - symbols[k]).norm_sqr() / r.noise_var_of(k))
                        .sum::<f32>()
                        / n as f32;
                    assert!(
                        (0.7..2.0).contains(&z),
                        "{} frame {i}: normalized symbol error {z:.2}",
                        c.name
                    );
                    let flipped = (0..n)
                        .filter(|&k| {
                            let (a, b) = (r.symbols[k], symbols[k]);
                            a.re.signum() != b.re.signum() || a.im.signum() != b.im.signum()
                        })
                        .count();
                    assert!(
                        flipped * 20 < n,
                        "{} frame {i}: {flipped} of {n} QPSK decisions wrong",
                        c.name
                    );
                }
                (r, t) => panic!("{} frame {i}: kind differs: got {r:?}, sent {t:?}", c.name),
            }
        }
        // Every annotation of the recording claims a frame decoded ok there.
        let ok = outcome
            .meta
            .annotations
            .iter()
            .filter(|a| a.decode.as_deref() == Some("ok"));
        assert_eq!(ok.count(), sent.len(), "{}: annotations", c.name);
    }
}

#[test]
fn a_recorded_scenario_gives_every_user_what_a_clean_link_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let weights = root.join("weights/default");
    let (model, tokenizer) = SemanticModel::load(&weights, &candle_core::Device::Cpu).unwrap();
    let (model, tokenizer) = (Arc::new(model), Arc::new(tokenizer));
    for (name, scenario_file, n_frames) in SCENARIO_CAPTURES {
        let path = captures_dir().join(format!("{name}.sigmf-meta"));
        let scenario = Scenario::load(&root.join(scenario_file)).unwrap();
        let (outcome, users) = replay_scenario(
            &path,
            ReceiverConfig::default(),
            &scenario,
            &model,
            &tokenizer,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let description = outcome.meta.global.description.clone().unwrap_or_default();
        let fingerprint = weights_fingerprint(&weights).unwrap();
        assert!(
            description.contains(&fingerprint),
            "{name} was recorded with other weights than weights/default: run \
             captures/make_captures.sh after training ({description})"
        );
        assert_eq!(outcome.frames.len(), n_frames, "{name}: frames decoded");

        // The reference: the same users over a clean link (40 dB AWGN, no offsets).
        let mut clean = scenario.clone();
        for (i, u) in clean.users.iter_mut().enumerate() {
            u.channel = UserChannel {
                snr_db: 40.0,
                multipath: false,
                cfo_hz: 0.0,
                timing_offset_samples: 0.0,
                seed: i as u64 + 1,
            };
        }
        let reference = run_scenario(&model, &tokenizer, &clean, &RunOptions::default()).unwrap();
        for (i, (u, r)) in users.into_iter().zip(&reference.users).enumerate() {
            let user = &scenario.users[i].name;
            let result = u.result.unwrap_or_else(|e| panic!("{name} {user}: {e}"));
            let output = result
                .output
                .unwrap_or_else(|e| panic!("{name} {user}: not delivered: {e}"));
            match (output, &r.output) {
                (
                    m4sc::multiuser::user_receiver::TaskOutput::Text(a),
                    Some(m4sc::multiuser::user_receiver::TaskOutput::Text(b)),
                ) => {
                    // The clean link's answer, or the right one: where the model's
                    // decision sits near a boundary (a shape it hardly sees), noise that
                    // the link delivers faithfully can still tip it, and a right answer
                    // cannot come from semantics the replay corrupted but by chance.
                    let right = scenario.users[i].answer.as_deref() == Some(a.as_str());
                    assert!(
                        &a == b || right,
                        "{name} {user}: answer {a:?} is neither the clean link's {b:?} nor \
                         the expected {:?}",
                        scenario.users[i].answer
                    );
                }
                (
                    m4sc::multiuser::user_receiver::TaskOutput::Image(a),
                    Some(m4sc::multiuser::user_receiver::TaskOutput::Image(b)),
                ) => {
                    // 22 dB over multipath against 40 dB: the reconstruction may move a
                    // little, not become another picture.
                    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                    let psnr = m4sc::data::metrics::psnr_db(&a, &b).unwrap();
                    assert!(
                        psnr > 25.0,
                        "{name} {user}: {psnr:.1} dB from the clean image"
                    );
                }
                (a, b) => panic!("{name} {user}: outputs of different kinds: {a:?} / {b:?}"),
            }
        }
    }
}

#[test]
fn the_script_regenerates_every_capture_byte_for_byte() {
    let out = std::env::temp_dir().join(format!("m4sc-captures-{}", std::process::id()));
    let status = Command::new("bash")
        .arg(captures_dir().join("make_captures.sh"))
        .arg(&out)
        .env("M4SC", env!("CARGO_BIN_EXE_m4sc"))
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("bash must start");
    assert!(status.success(), "make_captures.sh failed");
    let read = |dir: &Path, file: &str| {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert!(bytes.len() < 1 << 20, "{file} must stay under 1 MiB");
        bytes
    };
    for name in CAPTURES.iter().map(|c| c.name) {
        for ext in ["sigmf-meta", "sigmf-data"] {
            let file = format!("{name}.{ext}");
            assert!(
                read(&out, &file) == read(&captures_dir(), &file),
                "{file}: regenerated file differs from the shipped one"
            );
        }
    }
    // The scenario captures carry what the semantic model computed. candle's matrix
    // kernels choose their SIMD path by CPU, so another CPU may round an f32 of the
    // model's output differently and move a ci16 sample by one step: allowed for at
    // most one sample in a thousand, nothing larger, and the metadata must agree but
    // for the data's hash and the last digits of its floating-point fields.
    for name in SCENARIO_CAPTURES.iter().map(|c| c.0) {
        let data = |dir: &Path| -> Vec<i16> {
            read(dir, &format!("{name}.sigmf-data"))
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect()
        };
        let (made, shipped) = (data(&out), data(&captures_dir()));
        assert_eq!(made.len(), shipped.len(), "{name}: sample count differs");
        let steps: Vec<i32> = made
            .iter()
            .zip(&shipped)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .collect();
        let moved = steps.iter().filter(|d| **d > 0).count();
        assert!(
            steps.iter().all(|d| *d <= 1) && moved * 1000 <= made.len(),
            "{name}.sigmf-data: {moved} of {} values differ, by up to {}",
            made.len(),
            steps.iter().max().unwrap()
        );
        let meta = |dir: &Path| -> serde_json::Value {
            serde_json::from_slice(&read(dir, &format!("{name}.sigmf-meta"))).unwrap()
        };
        assert_json_close(
            &meta(&out),
            &meta(&captures_dir()),
            &format!("{name}.sigmf-meta"),
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// Equal JSON but for `core:sha512` and numbers within 1e-4 (relative or absolute).
fn assert_json_close(made: &serde_json::Value, shipped: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (made, shipped) {
        (Value::Object(a), Value::Object(b)) => {
            let keys =
                |m: &serde_json::Map<String, Value>| -> Vec<String> { m.keys().cloned().collect() };
            assert_eq!(keys(a), keys(b), "{at}: different fields");
            for (k, v) in a {
                if k != "core:sha512" {
                    assert_json_close(v, &b[k], &format!("{at}.{k}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: different lengths");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_json_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} against {y}"
            );
        }
        (a, b) => assert_eq!(a, b, "{at}"),
    }
}
