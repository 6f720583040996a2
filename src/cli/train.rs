//! `m4sc train`: trains the semantic model on prepared data.

use anyhow::Context;
use clap::Args;
use m4sc::semantic::train::{train, TrainConfig, TrainOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Training configuration (TOML, or JSON by extension); not needed with --resume,
    /// which uses the configuration the run started with.
    #[arg(long, required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// Prepared data directory holding train/ and val/ splits.
    #[arg(long, default_value = "data/prepared")]
    pub data: PathBuf,
    /// Output directory: weights, tokenizer, checkpoints, loss.csv, val.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Stop with a checkpoint once this many steps are done (resume later).
    #[arg(long, value_name = "STEP")]
    pub stop_at: Option<usize>,
    /// Train on the CPU even when a GPU is available.
    #[arg(long)]
    pub cpu: bool,
    /// CPU threads per tensor operation (default: RAYON_NUM_THREADS, else 1).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Sets the number of threads candle's CPU kernels use, before any tensor work.
///
/// The model's tensors are small: with several threads, the per-operation thread
/// barriers cost more than the parallel work saves. On a loaded 2-core machine one
/// thread trained the default model at 0.62 steps/s against 0.23 with two, with
/// identical losses.
pub fn set_cpu_threads(threads: Option<usize>) {
    let n = match threads {
        Some(n) => n.max(1).to_string(),
        None => match std::env::var("RAYON_NUM_THREADS") {
            Ok(v) => v,
            Err(_) => "1".to_string(),
        },
    };
    // Single-threaded at this point: no thread reads the environment concurrently.
    std::env::set_var("RAYON_NUM_THREADS", n);
}

/// Set by SIGINT / SIGTERM; the training loop checkpoints and returns.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signal: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Routes Ctrl-C and SIGTERM to `STOP` instead of killing the process.
fn install_stop_handler() {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) if !args.resume => TrainConfig::load(path)?,
        Some(_) => {
            log::warn!("--resume uses the configuration saved in --out; --config is ignored");
            TrainConfig::default()
        }
        None => TrainConfig::default(),
    };
    set_cpu_threads(args.threads);
    let device = if args.cpu {
        candle_core::Device::Cpu
    } else {
        candle_core::Device::cuda_if_available(0).context("opening the GPU")?
    };
    log::info!("training on {device:?}");
    install_stop_handler();
    let opts = TrainOptions {
        data_dir: args.data.clone(),
        out_dir: args.out.clone(),
        resume: args.resume,
        stop_at: args.stop_at,
        device,
        progress: true,
    };
    let summary = train(&config, &opts, &STOP)?;
    eprintln!(
        "{} at step {}: mean loss {:.4} -> {:.4}, {:.2} steps/s; weights in {}",
        if summary.interrupted {
            "stopped"
        } else {
            "finished"
        },
        summary.step,
        summary.first_loss,
        summary.last_loss,
        summary.steps_per_s,
        args.out.display()
    );
    Ok(())
}
