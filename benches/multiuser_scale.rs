//! Airtime and receive CPU time of multi-user scenarios of 1, 2, 4, 8 and 16 users.
//!
//! User `k` looks at picture `k % 4` of a pool of four scenes from `data/eval` (so from
//! five users on, pictures repeat and their tokens go once on the public stream) and
//! asks, in turn, for reconstruct, caption, a vqa question or classify; every user has
//! its own AWGN channel at 20 dB. The transmitter's frames are passed through each
//! user's channel into a sample recording per user; then, timed, each user's receive
//! chain runs on its recording: the OFDM receiver, then the semantic receiver
//! (deframer, sharing maps, KAN channel decoder, task). Receive CPU time is the
//! process's CPU time over all users' receive chains, run one after the other, best of
//! three runs. Airtime is the recording's length at 20 MHz.
//!
//! `cargo bench --bench multiuser_scale` prints a Markdown table.

use candle_core::Device;
use m4sc::blocks::TransmitterConfig;
use m4sc::flowgraphs::transmit::transmit as transmit_to_file;
use m4sc::io::cf32::read_cf32;
use m4sc::multiuser::run::SAMPLE_RATE_HZ;
use m4sc::multiuser::scenario::Scenario;
use m4sc::multiuser::transmitter::transmit;
use m4sc::multiuser::user_receiver::receive_user;
use m4sc::phy::rx::{Receiver, ReceiverConfig};
use m4sc::semantic::model::SemanticModel;
use std::path::{Path, PathBuf};

const USERS: [usize; 5] = [1, 2, 4, 8, 16];
const RUNS: usize = 3;
const IMAGES: [&str; 4] = [
    "scenes-01e67edb7ce09ba3.png",
    "scenes-0493e79e7d5ce3ad.png",
    "scenes-0f91b3b6a460c35b.png",
    "scenes-1048812db50f54ff.png",
];

/// CPU time of this process (all threads), seconds.
fn process_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn scenario(root: &Path, n: usize) -> Scenario {
    let mut text = String::from("similarity_threshold = 0.98\n");
    for k in 0..n {
        let image = root.join("data/eval/images").join(IMAGES[k % IMAGES.len()]);
        let task = match k % 4 {
            0 => "task = \"reconstruct\"".to_string(),
            1 => "task = \"caption\"".to_string(),
            2 => "task = \"vqa\"\nquestion = \"what color is the circle?\"".to_string(),
            _ => "task = \"classify\"".to_string(),
        };
        text.push_str(&format!(
            "[[user]]\nname = \"u{k}\"\nimage = \"{}\"\n{task}\n\
             channel = {{ snr_db = 20, seed = {} }}\n",
            image.display(),
            100 + k
        ));
    }
    Scenario::parse(&text, Path::new("multiuser_scale.toml"), root).expect("valid scenario")
}

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (model, tok) = SemanticModel::load(&root.join("weights/default"), &Device::Cpu)?;
    let dir = std::env::temp_dir().join(format!("m4sc-multiuser-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "| users | messages public/private | channel symbols (unshared) | frames | airtime \
         | receive CPU, PHY | receive CPU, semantic | receive CPU per user |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in USERS {
        let sc = scenario(&root, n);
        let tx = transmit(&model, &tok, &sc)?;
        let mut recordings = Vec::new();
        for (k, u) in sc.users.iter().enumerate() {
            let path = dir.join(format!("user{k}.cf32"));
            transmit_to_file(
                tx.frames.clone(),
                TransmitterConfig::default(),
                u.channel.config(),
                &path,
            )?;
            recordings.push(read_cf32(&path)?);
            std::fs::remove_file(&path)?;
        }
        let (mut best_phy, mut best_sem) = (f64::INFINITY, f64::INFINITY);
        let mut delivered = 0;
        for _ in 0..RUNS {
            let (mut phy, mut sem) = (0.0, 0.0);
            delivered = 0;
            for (k, (u, samples)) in sc.users.iter().zip(&recordings).enumerate() {
                let t0 = process_cpu_s();
                let mut rx = Receiver::new(ReceiverConfig::default());
                let mut frames = Vec::new();
                rx.process(samples, &mut frames);
                rx.finish(&mut frames);
                let t1 = process_cpu_s();
                let result = receive_user(&model, &tok, k, u, &frames)?;
                let t2 = process_cpu_s();
                delivered += usize::from(result.output.is_ok());
                phy += t1 - t0;
                sem += t2 - t1;
            }
            best_phy = best_phy.min(phy);
            best_sem = best_sem.min(sem);
        }
        assert_eq!(delivered, n, "every user must be served at 20 dB");
        let public = tx.messages.iter().filter(|m| m.kind.is_public()).count();
        let airtime_ms = recordings[0].len() as f64 / SAMPLE_RATE_HZ * 1e3;
        println!(
            "| {n} | {public}/{} | {} ({}) | {} | {airtime_ms:.3} ms \
             | {:.1} ms | {:.1} ms | {:.1} ms |",
            tx.messages.len() - public,
            tx.total_channel_symbols(),
            tx.unshared_channel_symbols,
            tx.frames.len(),
            best_phy * 1e3,
            best_sem * 1e3,
            (best_phy + best_sem) * 1e3 / n as f64
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
