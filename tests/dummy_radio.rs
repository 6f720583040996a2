//! The radio code path end to end with Seify's dummy driver (no hardware, no system
//! libraries): `cargo test --release --features seify_dummy --test dummy_radio`.
#![cfg(feature = "seify_dummy")]

use std::process::Command;

fn m4sc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_m4sc"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("m4sc binary must start")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn recording_from_the_dummy_radio_keeps_the_requested_duration() {
    let dir = std::env::temp_dir().join(format!("m4sc-dummy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rec = dir.join("dummy.sigmf-meta");
    // 10 ms at 10 MS/s: 100 000 samples of zeros, no frames; the receiver sees them
    // resampled to 20 MS/s.
    let r = json(&m4sc(&[
        "record",
        "--device",
        "driver=dummy",
        "--sample-rate-hz",
        "10e6",
        "--duration-s",
        "0.01",
        "--freq-hz",
        "2.437e9",
        "-o",
        rec.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(r["samples"], 100_000);
    assert_eq!(r["frames_decoded"], 0);
    assert_eq!(r["overflows"], 0);
    assert_eq!(
        r["receiver"]["samples"], 200_000,
        "receiver runs at 20 MS/s"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rec).unwrap()).unwrap();
    assert_eq!(meta["global"]["core:sample_rate"], 10e6);
    assert_eq!(meta["captures"][0]["core:frequency"], 2.437e9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn transmitting_to_the_dummy_radio_sends_every_sample() {
    // Two 1000-byte frames at 24 Mb/s, 7120 samples each at 20 MS/s, each after a
    // 400-sample gap, and a gap after the last.
    let r = json(&m4sc(&[
        "tx",
        "--device",
        "driver=dummy",
        "--frames",
        "2",
        "--json",
    ]));
    assert_eq!(r["frames_sent"], 2);
    assert_eq!(r["samples"], 400 + 2 * (7120 + 400));
    assert_eq!(r["underflows"], 0);
}

#[test]
fn a_profile_with_an_unknown_driver_fails_naming_the_device() {
    let out = m4sc(&[
        "record",
        "--device",
        "driver=nosuchradio",
        "--duration-s",
        "0.01",
        "-o",
        "/tmp/never.sigmf-meta",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("driver=nosuchradio"), "{stderr}");
}

#[test]
fn receiving_from_the_dummy_radio_reports_its_samples() {
    let r = json(&m4sc(&[
        "rx",
        "--device",
        "driver=dummy",
        "--duration-s",
        "0.005",
        "--json",
    ]));
    assert_eq!(r["samples"], 100_000, "5 ms at 20 MS/s");
    assert_eq!(r["frames_decoded"], 0, "the dummy radio receives zeros");
}
