//! SigMF through the `m4sc` binary: tx, rx --record, record and replay as a user runs
//! them, and the errors a bad recording gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn m4sc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_m4sc"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("m4sc binary must start")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("m4sc-sigmf-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn tx_to_sigmf_then_replay_finds_every_frame_sent() {
    let dir = temp_dir("tx");
    let rec = dir.join("frames.sigmf-meta");
    let args = [
        "tx",
        "-o",
        s(&rec),
        "--frames",
        "4",
        "--rate",
        "18",
        "--payload-bytes",
        "150",
    ];
    let tx = m4sc(
        &[
            &args[..],
            &["--semantic-frames", "2", "--snr-db", "28", "--json"],
        ]
        .concat(),
    );
    assert_eq!(json(&tx)["frames_sent"], 6);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rec).unwrap()).unwrap();
    assert_eq!(
        meta["annotations"].as_array().unwrap().len(),
        6,
        "one per frame sent"
    );
    assert_eq!(meta["global"]["core:datatype"], "ci16_le");
    let r = json(&m4sc(&["replay", s(&rec), "--json"]));
    assert_eq!(r["frames_decoded"], 6);
    assert_eq!(r["frames_expected"], 6);
    assert_eq!(r["frames_matched"], 6, "{r}");
    assert_eq!(r["frames_lost"], 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rx_record_keeps_the_input_as_an_annotated_recording() {
    let dir = temp_dir("rx");
    let cf32 = dir.join("air.cf32");
    let tx = m4sc(&[
        "tx",
        "-o",
        s(&cf32),
        "--frames",
        "3",
        "--rate",
        "24",
        "--snr-db",
        "30",
    ]);
    assert!(tx.status.success());
    let kept = dir.join("kept");
    let rx = json(&m4sc(&[
        "rx",
        "-i",
        s(&cf32),
        "--record",
        s(&kept),
        "--json",
    ]));
    assert_eq!(rx["frames_decoded"], 3);
    let rec = kept.join("air.sigmf-meta");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rec).unwrap()).unwrap();
    let anns = meta["annotations"].as_array().unwrap();
    assert_eq!(anns.len(), 3);
    assert!(anns
        .iter()
        .all(|a| a["m4sc:decode"] == "ok" && a["m4sc:rate_mbps"] == 24));
    // 1000-byte PSDUs at 24 Mb/s: 400 + 80 * 84 samples each.
    assert!(
        anns.iter().all(|a| a["core:sample_count"] == 7120),
        "{anns:?}"
    );
    let replayed = json(&m4sc(&["replay", s(&rec), "--json"]));
    assert_eq!(replayed["frames_matched"], 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_recording_is_refused_naming_the_file() {
    let dir = temp_dir("bad");
    let rec = dir.join("damaged.sigmf-meta");
    let tx = m4sc(&["tx", "-o", s(&rec), "--frames", "1", "--format", "ci8"]);
    assert!(tx.status.success());
    let data = dir.join("damaged.sigmf-data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&data, &bytes).unwrap();
    let out = m4sc(&["replay", s(&rec)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("damaged.sigmf-data") && stderr.contains("SHA-512"),
        "{stderr}"
    );
    let out = m4sc(&["replay", s(&dir.join("absent.sigmf-meta"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("absent.sigmf-meta"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_impossible_recording_rate_is_refused_before_any_file_is_written() {
    let dir = temp_dir("rate");
    let rec = dir.join("r.sigmf-meta");
    let out = m4sc(&[
        "record",
        "--simulate",
        "-o",
        s(&rec),
        "--frames",
        "1",
        "--sample-rate-hz",
        "19999999",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("19999999"));
    assert!(
        !dir.join("r.sigmf-data").exists(),
        "no data file may be left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replaying_a_scenario_with_other_weights_is_refused_naming_both() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let capture = root.join("captures/scenario_mixed_multipath.sigmf-meta");
    let scenario = root.join("examples/mixed_image_text.toml");
    let dir = temp_dir("other-weights");
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(root.join("weights/default").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("model.safetensors"), b"not these weights").unwrap();
    let out = m4sc(&[
        "replay",
        s(&capture),
        "--scenario",
        s(&scenario),
        "--weights",
        s(&dir),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "replay must fail");
    // Decoding channel symbols with other weights than encoded them gives confident
    // nonsense; the recording names its weights so that this is caught.
    assert!(
        err.contains("recorded with weights sha256:") && err.contains(s(&dir)),
        "stderr: {err}"
    );

    let out = m4sc(&["replay", s(&capture), "--scenario", s(&scenario), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let users = report["users"]["users"]
        .as_array()
        .expect("users in the report");
    assert_eq!(users.len(), 5);
    assert!(
        users.iter().all(|u| u["delivered"] == true),
        "every user of the recording must be served: {users:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
