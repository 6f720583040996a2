//! `m4sc sweep`: the semantic system against the classical baseline over an SNR range.

use super::eval::parse_snr_range;
use anyhow::Context;
use candle_core::Device;
use clap::{Args, ValueEnum};
use m4sc::multiuser::scenario::Scenario;
use m4sc::phy::Rate;
use m4sc::plot::{LineChart, Point, Series, YScale};
use m4sc::semantic::model::SemanticModel;
use m4sc::sweep::summary::{SystemSummary, BEST_RATE_SYSTEM};
use m4sc::sweep::{best_rate_rows, run_point, summarize, SweepRow, SweepSetup, SystemSpec};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub const LONG_ABOUT: &str = "\
Run a scenario through the semantic system and through the classical baseline over a \
range of SNRs, several channel seeds each, and write what they score.

Every user of the scenario gets the swept SNR and channel kind (its carrier and timing \
offsets stay as the file sets them). The classical system sends each distinct item once \
as one 802.11a data frame at a fixed rate (each of --rates), within the airtime the \
semantic frames of that item take when sent alone: pictures as the best JPEG that fits \
(abbreviated, perhaps downscaled), sentences as UTF-8; a lost frame or an item that does \
not fit fails its users' tasks. Captioning, question answering and classification run \
the semantic model's own task on the decoded picture. classical-best-rate is, per SNR \
and task, the fixed rate with the best mean: link adaptation by an oracle.

Scores per task (mean over its users): reconstruction PSNR in dB (a user served nothing \
counts the PSNR of a mid-grey picture), text BLEU-4, otherwise accuracy (exact match).

Writes to --out: sweep.csv (one row per system, task, SNR and seed), summary.csv and \
summary.md (per task and system: best score, SNR at 90 % of it, gain in dB against \
classical-best-rate), and one PNG per task (mean over seeds, bars from min to max).";

/// Channel kind of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepChannel {
    Awgn,
    /// Rayleigh multipath, 50 ns RMS delay spread, redrawn per frame.
    Multipath,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    #[arg(long, default_value = "examples/sweep_eval.toml")]
    pub scenario: PathBuf,
    /// SNRs as START:STOP:STEP in dB (STOP included).
    #[arg(long, default_value = "0:30:2", allow_hyphen_values = true)]
    pub snr_db: String,
    #[arg(long, value_enum, default_value_t = SweepChannel::Awgn)]
    pub channel: SweepChannel,
    /// Channel seeds per SNR.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Rates of the classical system, Mb/s, comma-separated.
    #[arg(long, default_value = "6,12,24,54", value_delimiter = ',')]
    pub rates: Vec<u32>,
    /// Semantic model weights folder (also runs the classical receivers' tasks).
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// Another semantic system to compare, as LABEL=DIR (repeatable), e.g. an MLP
    /// projector's weights.
    #[arg(long, value_name = "LABEL=DIR")]
    pub also_weights: Vec<String>,
    /// Also run the semantic system without semantic sharing (every user served
    /// privately): same tasks, more airtime (the airtime_samples column).
    #[arg(long)]
    pub ablate_sharing: bool,
    /// Also run the semantic system with each frame's symbols in order instead of
    /// interleaved over subcarriers and OFDM symbols.
    #[arg(long)]
    pub ablate_interleaving: bool,
    /// Output folder.
    #[arg(long, default_value = "results/comparison")]
    pub out: PathBuf,
}

fn load(
    dir: &Path,
) -> anyhow::Result<(
    Arc<SemanticModel>,
    Arc<m4sc::semantic::tokenizer::BpeTokenizer>,
)> {
    let (m, t) = SemanticModel::load(dir, &Device::Cpu)
        .with_context(|| format!("loading the semantic model from {}", dir.display()))?;
    Ok((Arc::new(m), Arc::new(t)))
}

fn systems(args: &SweepArgs) -> anyhow::Result<Vec<SystemSpec>> {
    let (model, tokenizer) = load(&args.weights)?;
    let mut out = vec![SystemSpec::Semantic {
        label: "semantic".into(),
        sharing: true,
        interleave_symbols: true,
        model: model.clone(),
        tokenizer: tokenizer.clone(),
    }];
    if args.ablate_sharing {
        out.push(SystemSpec::Semantic {
            label: "semantic-no-sharing".into(),
            sharing: false,
            interleave_symbols: true,
            model: model.clone(),
            tokenizer: tokenizer.clone(),
        });
    }
    if args.ablate_interleaving {
        out.push(SystemSpec::Semantic {
            label: "semantic-no-interleaving".into(),
            sharing: true,
            interleave_symbols: false,
            model: model.clone(),
            tokenizer: tokenizer.clone(),
        });
    }
    for spec in &args.also_weights {
        let Some((label, dir)) = spec.split_once('=') else {
            anyhow::bail!("--also-weights {spec}: expected LABEL=DIR");
        };
        let (m, t) = load(Path::new(dir))?;
        out.push(SystemSpec::Semantic {
            label: format!("semantic-{label}"),
            sharing: true,
            interleave_symbols: true,
            model: m,
            tokenizer: t,
        });
    }
    for &mbps in &args.rates {
        let rate = Rate::from_mbps(mbps).with_context(|| {
            format!("--rates: {mbps} Mb/s is not an 802.11a rate (6 9 12 18 24 36 48 54)")
        })?;
        out.push(SystemSpec::Classical {
            rate,
            model: model.clone(),
            tokenizer: tokenizer.clone(),
        });
    }
    Ok(out)
}

/// Progress on stderr: a bar redrawn in place on a terminal, else a line per 10 %.
struct Progress {
    total: usize,
    done: usize,
    start: Instant,
    tty: bool,
    last_decile: usize,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            last_decile: 0,
        }
    }

    fn step(&mut self, what: &str) {
        self.done += 1;
        let frac = self.done as f64 / self.total as f64;
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = elapsed / frac - elapsed;
        let width = 30;
        let filled = (frac * width as f64).round() as usize;
        let line = format!(
            "[{}{}] {}/{} {what}, {:.0} s elapsed, eta {:.0} s",
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.done,
            self.total,
            elapsed,
            eta
        );
        if self.tty {
            eprint!("\r{line}\x1b[K");
            if self.done == self.total {
                eprintln!();
            }
        } else if (frac * 10.0) as usize > self.last_decile || self.done == self.total {
            self.last_decile = (frac * 10.0) as usize;
            eprintln!("{line}");
        }
    }
}

fn write_csv(path: &Path, rows: &[SweepRow]) -> anyhow::Result<()> {
    let mut f =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    writeln!(
        f,
        "system,task,metric,snr_db,seed,value,users,delivered,airtime_samples"
    )?;
    for r in rows {
        writeln!(
            f,
            "{},{},{},{},{},{:.6},{},{},{}",
            r.system,
            r.task,
            r.metric,
            r.snr_db,
            r.seed,
            r.value,
            r.users,
            r.delivered,
            r.airtime_samples
        )?;
    }
    Ok(())
}

fn fmt_snr(s: &SystemSummary) -> String {
    match (s.snr_db_at_90, s.at_90_from_start) {
        (Some(x), true) => format!("<= {x:.1}"),
        (Some(x), false) => format!("{x:.1}"),
        (None, _) => "never".into(),
    }
}

/// summary.csv and summary.md; returns the markdown.
fn write_summary(out: &Path, summaries: &[SystemSummary], header: &str) -> anyhow::Result<String> {
    let mut csv = String::from(
        "task,metric,system,best,snr_db_at_90,at_90_from_start,gain_db_vs_classical_best_rate\n",
    );
    let mut md = format!("{header}\n\n| task | metric | system | best | SNR at 90 % of best (dB) | gain vs classical-best-rate (dB) |\n|---|---|---|---|---|---|\n");
    for s in summaries {
        let reference = summaries
            .iter()
            .find(|o| o.task == s.task && o.system == BEST_RATE_SYSTEM)
            .and_then(|o| o.snr_db_at_90);
        let gain = match (reference, s.snr_db_at_90) {
            (Some(r), Some(x)) if s.system != BEST_RATE_SYSTEM => Some(r - x),
            _ => None,
        };
        csv.push_str(&format!(
            "{},{},{},{:.4},{},{},{}\n",
            s.task,
            s.metric,
            s.system,
            s.best,
            s.snr_db_at_90.map_or(String::new(), |x| format!("{x:.2}")),
            s.at_90_from_start,
            gain.map_or(String::new(), |g| format!("{g:.2}"))
        ));
        md.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} | {} |\n",
            s.task,
            s.metric,
            s.system,
            s.best,
            fmt_snr(s),
            gain.map_or("".into(), |g| format!("{g:+.1}"))
        ));
    }
    std::fs::write(out.join("summary.csv"), csv)?;
    std::fs::write(out.join("summary.md"), &md)?;
    Ok(md)
}

fn write_plots(out: &Path, summaries: &[SystemSummary], channel: &str) -> anyhow::Result<()> {
    let mut tasks: Vec<&str> = summaries.iter().map(|s| s.task.as_str()).collect();
    tasks.dedup();
    for task in tasks {
        let of_task: Vec<&SystemSummary> = summaries.iter().filter(|s| s.task == task).collect();
        let metric = of_task[0].metric;
        let y_label = match metric {
            "psnr_db" => "PSNR (dB)",
            "bleu4" => "BLEU-4",
            _ => "accuracy",
        };
        let mut chart = LineChart::new(
            &format!("{task}: semantic vs classical, {channel}"),
            "SNR (dB)",
            y_label,
            YScale::Linear,
        );
        for s in of_task {
            chart.series.push(Series {
                label: s.system.clone(),
                points: s
                    .curve
                    .iter()
                    .map(|&(x, y, lo, hi)| Point {
                        x,
                        y,
                        spread: Some((lo, hi)),
                    })
                    .collect(),
            });
        }
        chart.write_png(&out.join(format!("{task}.png")))?;
    }
    Ok(())
}

pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let snrs = parse_snr_range(&args.snr_db)?;
    anyhow::ensure!(args.seeds >= 1, "--seeds must be at least 1");
    let scenario = Scenario::load(&args.scenario)?;
    let systems = systems(args)?;
    let (model, tokenizer) = match &systems[0] {
        SystemSpec::Semantic {
            model, tokenizer, ..
        } => (model.clone(), tokenizer.clone()),
        SystemSpec::Classical { .. } => unreachable!("the first system is the semantic one"),
    };
    let multipath = args.channel == SweepChannel::Multipath;
    let setup = SweepSetup::new(scenario, multipath, &model, &tokenizer)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let mut rows = Vec::new();
    let mut progress = Progress::new(snrs.len() * args.seeds as usize * systems.len());
    for &snr_db in &snrs {
        for seed in 1..=args.seeds {
            for system in &systems {
                rows.extend(run_point(&setup, system, snr_db, seed)?);
                progress.step(&format!("{} at {snr_db} dB, seed {seed}", system.name()));
            }
        }
    }
    rows.extend(best_rate_rows(&rows));
    write_csv(&args.out.join("sweep.csv"), &rows)?;
    let summaries = summarize(&rows);
    let channel = match args.channel {
        SweepChannel::Awgn => "AWGN",
        SweepChannel::Multipath => "Rayleigh multipath",
    };
    let header = format!(
        "Scenario {}, {channel}, SNR {} dB, {} seeds; weights {}.",
        args.scenario.display(),
        args.snr_db,
        args.seeds,
        args.weights.display()
    );
    let md = write_summary(&args.out, &summaries, &header)?;
    write_plots(&args.out, &summaries, channel)?;
    println!("{md}");
    println!("wrote {}", args.out.display());
    Ok(())
}
