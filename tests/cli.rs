//! The `m4sc` binary as a user runs it.

use std::process::Command;

fn m4sc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_m4sc"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("m4sc binary must start")
}

#[test]
fn loopback_json_is_one_object_with_the_required_fields() {
    let out = m4sc(&["loopback", "--data-frames", "--json", "--frames", "5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loopback failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 stdout");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "stdout must be one JSON line: {stdout}"
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
    for field in [
        "frames_sent",
        "frames_received",
        "per",
        "ber",
        "evm_db",
        "samples",
        "elapsed_s",
    ] {
        assert!(
            report.get(field).is_some(),
            "missing field {field}: {report}"
        );
    }
    assert_eq!(report["frames_sent"], 5);
    // 30 dB AWGN at 24 Mb/s: every frame arrives.
    assert_eq!(report["frames_received"], 5, "{report}");
    assert_eq!(report["per"], 0.0);
    assert!(report["samples"].as_u64().unwrap() > 5 * 7000, "{report}");
}

#[test]
fn an_invalid_rate_is_refused_with_the_valid_list() {
    let out = m4sc(&["loopback", "--data-frames", "--rate", "7"]);
    assert!(!out.status.success(), "rate 7 must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("7 Mb/s") && stderr.contains("6, 9, 12, 18, 24, 36, 48, 54"),
        "error must say why and list the rates: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout on error");
}

#[test]
fn default_loopback_serves_several_users_and_writes_their_outputs() {
    let dir = std::env::temp_dir().join(format!("m4sc-cli-users-{}", std::process::id()));
    let out = m4sc(&["loopback", "--json", "--out", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loopback failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 stdout");
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON line: {stdout}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
    let users = report["users"].as_array().expect("users");
    assert!(
        users.len() >= 4,
        "the built-in scenario has several users: {report}"
    );
    let total = report["total_channel_symbols"].as_u64().unwrap();
    let unshared = report["unshared_channel_symbols"].as_u64().unwrap();
    assert!(total < unshared, "sharing must save symbols: {report}");
    let mut tasks = std::collections::BTreeSet::new();
    for u in users {
        for field in [
            "task",
            "metric",
            "frames_received",
            "frames_lost",
            "channel_symbols",
        ] {
            assert!(u.get(field).is_some(), "missing {field}: {u}");
        }
        tasks.insert(u["task"].as_str().unwrap().to_string());
        let name = u["name"].as_str().unwrap();
        let record = dir.join(name).join("record.json");
        assert!(record.is_file(), "{} missing", record.display());
        let output = if u["task"] == "reconstruct" {
            "reconstruction.png"
        } else {
            "answer.txt"
        };
        assert!(
            dir.join(name).join(output).is_file(),
            "{name}: {output} missing"
        );
    }
    assert!(tasks.len() >= 3, "several tasks at once: {tasks:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_scenario_or_misplaced_option_is_refused_clearly() {
    let path = std::env::temp_dir().join(format!("m4sc-cli-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[[user]]\nname = \"x\"\ntask = \"caption\"\n").unwrap();
    let out = m4sc(&["loopback", "--scenario", path.to_str().unwrap()]);
    std::fs::remove_file(&path).unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(path.to_str().unwrap()),
        "must name the file: {stderr}"
    );
    let out = m4sc(&["loopback", "--rate", "54"]);
    assert!(
        !out.status.success(),
        "a data-frame option without --data-frames"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data-frames"));
}

#[test]
fn tx_then_rx_recovers_every_frame_from_the_file() {
    let path = std::env::temp_dir().join(format!("m4sc-cli-{}.cf32", std::process::id()));
    let path_str = path.to_str().unwrap();
    let out = m4sc(&[
        "tx", "--output", path_str, "--frames", "4", "--rate", "36", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tx: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tx JSON");
    let out = m4sc(&["rx", "--input", path_str, "--json"]);
    std::fs::remove_file(&path).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rx: serde_json::Value = serde_json::from_slice(&out.stdout).expect("rx JSON");
    assert_eq!(
        rx["samples"], tx["samples"],
        "rx must read every sample tx wrote"
    );
    assert_eq!(
        rx["frames_decoded"], 4,
        "noise-free file: every frame decodes: {rx}"
    );
    assert_eq!(rx["frames_dropped"], 0);
}

#[test]
fn rx_of_a_missing_file_names_it() {
    let out = m4sc(&["rx", "--input", "/nonexistent/capture.cf32"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/capture.cf32"), "{stderr}");
}

#[test]
fn rx_of_a_cut_file_is_refused_not_truncated() {
    let path = std::env::temp_dir().join(format!("m4sc-cut-{}.cf32", std::process::id()));
    std::fs::write(&path, [0u8; 8 * 100 + 3]).unwrap();
    let out = m4sc(&["rx", "--input", path.to_str().unwrap(), "--json"]);
    std::fs::remove_file(&path).unwrap();
    assert!(!out.status.success(), "a partial sample must be an error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("803 bytes") && stderr.contains("m4sc-cut-"),
        "error must give the length and name the file: {stderr}"
    );
    assert!(out.stdout.is_empty(), "no report for a malformed file");
}

/// Runs `m4sc` and parses its one-line JSON report, failing with its stderr.
fn m4sc_json(args: &[&str]) -> serde_json::Value {
    let out = m4sc(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn threaded_block_wise_rx_reports_what_the_flowgraph_reports() {
    // A noisy file spanning several 40 000-sample blocks: a frame lost or decoded twice
    // at a block edge shows up as a different frame list or counter set.
    let path = std::env::temp_dir().join(format!("m4sc-blocks-{}.cf32", std::process::id()));
    let path_str = path.to_str().unwrap();
    let tx = m4sc_json(&[
        "tx", "--output", path_str, "--frames", "30", "--rate", "24", "--snr-db", "11", "--seed",
        "5", "--json",
    ]);
    let reference = m4sc_json(&["rx", "--input", path_str, "--json"]);
    for threads in ["1", "2"] {
        let rx = m4sc_json(&[
            "rx",
            "--input",
            path_str,
            "--threads",
            threads,
            "--block-samples",
            "40000",
            "--json",
        ]);
        assert_eq!(rx["samples"], tx["samples"], "{threads} threads: samples");
        assert_eq!(
            rx["frames"], reference["frames"],
            "{threads} threads: decoded frames differ from the flowgraph's"
        );
        assert_eq!(rx["receiver"], reference["receiver"], "{threads} threads");
        assert!(rx["samples_per_s"].as_f64().unwrap() > 0.0);
    }
    std::fs::remove_file(&path).unwrap();
    // 11 dB is in the 24 Mb/s waterfall: some frames fail, so drops are compared too.
    let decoded = reference["frames_decoded"].as_u64().unwrap();
    let dropped = reference["frames_dropped"].as_u64().unwrap();
    assert!(decoded > 0 && dropped > 0, "{reference}");
}

#[test]
fn eval_writes_one_prediction_per_answered_example_consistent_with_its_metrics() {
    let dir = std::env::temp_dir().join(format!("m4sc-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("predictions.jsonl");
    let out = m4sc(&[
        "eval",
        "--limit",
        "4",
        "--snr-db",
        "20",
        "--json",
        "--predictions",
        file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "eval failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).expect("JSON");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .expect("predictions written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    // Four examples of each answered task (reconstruct has no answer to record).
    let counts = report["counts"].as_object().unwrap();
    let answered: u64 = counts
        .iter()
        .filter(|(task, _)| *task != "reconstruct")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(lines.len() as u64, answered, "{report}");
    // Each task's exact match in the report is the share of its correct predictions;
    // a dump that disagreed with the metrics would be useless for error analysis.
    for (task, field) in [
        ("vqa", "vqa_accuracy"),
        ("caption", "caption_exact_match"),
        ("classify", "classification_accuracy"),
        ("text", "text_exact_match"),
    ] {
        let mine: Vec<&serde_json::Value> = lines.iter().filter(|p| p["task"] == task).collect();
        let correct = mine.iter().filter(|p| p["correct"] == true).count();
        let em = report[field].as_f64().unwrap();
        assert!(
            (em - correct as f64 / mine.len() as f64).abs() < 1e-9,
            "{task}: {correct} of {} correct, report says {em}",
            mine.len()
        );
        assert!(mine
            .iter()
            .all(|p| p["expected"].is_string() && p["predicted"].is_string()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scenario_sent_by_tx_replays_to_every_user() {
    let dir = std::env::temp_dir().join(format!("m4sc-cli-tx-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let meta = dir.join("scenario.sigmf-meta");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mixed_image_text.toml"
    );
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/default");
    let out = m4sc(&[
        "tx",
        "--scenario",
        scenario,
        "--weights",
        weights,
        "--snr-db",
        "25",
        "--json",
        "-o",
        meta.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "tx --scenario failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // One public image message and three private ones (see the scenario file).
    assert_eq!(sent["semantic_frames"], 4, "{sent}");
    let out = m4sc(&[
        "replay",
        meta.to_str().unwrap(),
        "--scenario",
        scenario,
        "--weights",
        weights,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "replay --scenario failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(replayed["frames_matched"], 4, "{replayed}");
    let users = replayed["users"]["users"].as_array().expect("users");
    assert_eq!(users.len(), 5, "{replayed}");
    // At 25 dB every user's semantics must arrive; a frame the file lost or a user
    // routed to the wrong message would show as not delivered.
    for u in users {
        assert_eq!(u["delivered"], true, "{u}");
    }
    // A data-frame count next to --scenario would be ignored silently: refused instead.
    let out = m4sc(&[
        "tx",
        "--scenario",
        scenario,
        "--frames",
        "3",
        "-o",
        "x.cf32",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frames"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rx_scenario_without_a_radio_points_to_replay() {
    let out = m4sc(&[
        "rx",
        "--input",
        "missing.sigmf-meta",
        "--scenario",
        "examples/mixed_image_text.toml",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("m4sc replay"), "{stderr}");
}
