//! The classical baseline and the sweep against the semantic system, over the real
//! flowgraphs with the shipped weights.

use candle_core::Device;
use m4sc::baseline::airtime::payload_capacity_bytes;
use m4sc::baseline::classical::{run_classical, ClassicalRun};
use m4sc::multiuser::scenario::{Content, Scenario};
use m4sc::multiuser::transmitter::transmit;
use m4sc::multiuser::user_receiver::TaskOutput;
use m4sc::phy::Rate;
use m4sc::semantic::model::SemanticModel;
use m4sc::semantic::tokenizer::BpeTokenizer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model() -> (Arc<SemanticModel>, Arc<BpeTokenizer>) {
    let (model, tokenizer) =
        SemanticModel::load(&root().join("weights/default"), &Device::Cpu).unwrap();
    (Arc::new(model), Arc::new(tokenizer))
}

/// The classical system over `mixed_image_text.toml` with every user at `snr_db`.
fn classical_at(snr_db: f32, rate: Rate) -> (Scenario, ClassicalRun) {
    let (model, tokenizer) = model();
    let scenario = scenario_at(snr_db);
    let tx = transmit(&model, &tokenizer, &scenario).unwrap();
    let run = run_classical(
        &model,
        &tokenizer,
        &scenario,
        &tx,
        rate,
        Default::default(),
        Default::default(),
    )
    .unwrap();
    (scenario, run)
}

fn scenario_at(snr_db: f32) -> Scenario {
    let mut s = Scenario::load(&root().join("examples/mixed_image_text.toml")).unwrap();
    for (i, u) in s.users.iter_mut().enumerate() {
        u.channel.snr_db = snr_db;
        u.channel.multipath = false;
        u.channel.seed = 40 + i as u64;
    }
    s
}

#[test]
fn classical_items_fit_their_airtime_and_arrive_whole_on_a_clean_link() {
    let (scenario, run) = classical_at(35.0, Rate::Mbps24);
    // Four items: the picture two users share, two sentences, the digit.
    assert_eq!(run.items.len(), 4);
    let mut budget = 0;
    for item in &run.items {
        let cap = payload_capacity_bytes(item.airtime_samples, Rate::Mbps24).unwrap();
        let sent = item.payload_bytes.expect("every item fits at 24 Mb/s");
        assert!(
            sent <= cap,
            "item {}: {sent} bytes > capacity {cap}",
            item.id
        );
        budget += item.airtime_samples;
    }
    // Same airtime as the semantic frames of each item: never more.
    assert!(
        run.airtime_samples <= budget,
        "classical used {} samples, budget {budget}",
        run.airtime_samples
    );
    for (u, user) in run.users.iter().zip(&scenario.users) {
        let out = u
            .output
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", user.name));
        match (user.task.name(), out) {
            ("reconstruct", TaskOutput::Image(_)) => {
                // A JPEG of a flat-shaded picture in 120+ bytes: well above the
                // semantic reconstruction's 21 dB; a wrong colour plane order or a
                // broken upscaling would fall far below.
                let psnr = u.score.metric.unwrap().value;
                assert!(psnr > 24.0, "{}: {psnr:.1} dB", user.name);
            }
            ("text", TaskOutput::Text(t)) => match &user.content {
                Content::Text(sent) => assert_eq!(t, sent, "{}", user.name),
                Content::Image(_) => panic!("{}: text task on a picture", user.name),
            },
            (_, TaskOutput::Text(_)) => {}
            (task, o) => panic!("{}: {task} gave {o:?}", user.name),
        }
    }
}

#[test]
fn below_the_rate_s_threshold_every_classical_user_fails() {
    // 54 Mb/s (64-QAM 3/4) needs about 20 dB: at -3 dB no frame survives its FCS,
    // and a lost frame must fail the task, not deliver a damaged item.
    let (scenario, run) = classical_at(-3.0, Rate::Mbps54);
    for (u, user) in run.users.iter().zip(&scenario.users) {
        assert!(u.output.is_err(), "{} was served at -3 dB", user.name);
    }
}

#[test]
fn sweep_writes_rows_summary_and_charts() {
    let out = std::env::temp_dir().join(format!("m4sc-sweep-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_m4sc"))
        .args(["sweep", "--scenario"])
        .arg(root().join("examples/four_tasks_one_image.toml"))
        .args(["--snr-db", "10:20:10", "--seeds", "2", "--rates", "12,54"])
        .args(["--ablate-sharing", "--ablate-interleaving"])
        .arg("--weights")
        .arg(root().join("weights/default"))
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    // 2 SNRs x 2 seeds x 3 tasks (reconstruct, caption, vqa) x 6 systems (semantic,
    // without sharing, without interleaving, 12 and 54 Mb/s, best rate), plus the header.
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 3 * 6, "{csv}");
    // Without sharing the four users' picture goes four times.
    let airtime = |system: &str| -> u64 {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{system},")))
            .unwrap();
        line.rsplit(',').next().unwrap().parse().unwrap()
    };
    assert!(airtime("semantic-no-sharing") > 3 * airtime("semantic"));
    assert_eq!(airtime("semantic-no-interleaving"), airtime("semantic"));
    assert!(csv
        .lines()
        .any(|l| l.starts_with("classical-best-rate,vqa,accuracy,20,2,")));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("| reconstruct | psnr_db | semantic |"),
        "{summary}"
    );
    for task in ["reconstruct", "caption", "vqa"] {
        let png = std::fs::read(out.join(format!("{task}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{task}.png is not a PNG");
    }
    std::fs::remove_dir_all(Path::new(&out)).unwrap();
}
