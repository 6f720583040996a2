//! `m4sc eval` and `m4sc eval-sweep`: task metrics of a trained semantic model through
//! the symbol-level channel.

use anyhow::Context;
use clap::{Args, ValueEnum};
use m4sc::data::dataset::Split;
use m4sc::data::image_io::{save_png, tensor_to_image};
use m4sc::plot::{LineChart, Point, Series, YScale};
use m4sc::semantic::channel_layer::ChannelKind;
use m4sc::semantic::eval::{
    evaluate, evaluate_with_outputs, EvalOptions, EvalOutputs, EvalReport, Prediction,
};
use m4sc::semantic::model::SemanticModel;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Channel of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalChannel {
    Awgn,
    Rayleigh,
}

impl From<EvalChannel> for ChannelKind {
    fn from(c: EvalChannel) -> Self {
        match c {
            EvalChannel::Awgn => ChannelKind::Awgn,
            EvalChannel::Rayleigh => ChannelKind::Rayleigh,
        }
    }
}

/// Model and data shared by both subcommands.
#[derive(Debug, Clone, Args)]
pub struct EvalData {
    /// Weight directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long, default_value = "weights/default")]
    pub weights: PathBuf,
    /// A split directory (with examples.jsonl) or a prepared data directory, whose
    /// test/ split is used.
    #[arg(long, default_value = "data/eval")]
    pub data: PathBuf,
    /// At most N examples per task.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Seed of the channel noise and fading.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// CPU threads per tensor operation (default: RAYON_NUM_THREADS, else 1).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub data: EvalData,
    /// SNR per complex channel symbol, in dB.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    pub snr_db: f64,
    #[arg(long, value_enum, default_value_t = EvalChannel::Awgn)]
    pub channel: EvalChannel,
    /// Print the metrics as one JSON object (otherwise as a readable list).
    #[arg(long)]
    pub json: bool,
    /// Also write every answered example (id, task, source, question, expected,
    /// predicted, correct) to FILE, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
    /// Also write every reconstructed image to DIR/<example id>.png.
    #[arg(long, value_name = "DIR")]
    pub reconstructions: Option<PathBuf>,
    /// Hand the semantic tokens to the receiver as sent, skipping the channel codec and
    /// the channel (--snr-db and --channel are then unused). For models trained on clean
    /// tokens; a receiver trained through the codec expects the codec's output instead.
    #[arg(long)]
    pub clean_tokens: bool,
}

#[derive(Debug, Clone, Args)]
pub struct EvalSweepArgs {
    #[command(flatten)]
    pub data: EvalData,
    /// SNR range in dB as START:STOP:STEP (STOP included).
    #[arg(long, default_value = "0:25:5", allow_hyphen_values = true)]
    pub snr_db: String,
    /// Channels to sweep.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "awgn,rayleigh"
    )]
    pub channel: Vec<EvalChannel>,
    /// Output directory for sweep.csv and the PNG charts.
    #[arg(long)]
    pub out: PathBuf,
}

fn load(
    data: &EvalData,
) -> anyhow::Result<(
    SemanticModel,
    m4sc::semantic::tokenizer::BpeTokenizer,
    Split,
)> {
    super::train::set_cpu_threads(data.threads);
    let device = candle_core::Device::cuda_if_available(0).context("opening the GPU")?;
    let (model, tokenizer) = SemanticModel::load(&data.weights, &device)?;
    let split_dir = if data.data.join("examples.jsonl").is_file() {
        data.data.clone()
    } else {
        data.data.join("test")
    };
    let split =
        Split::load(&split_dir).with_context(|| format!("loading {}", split_dir.display()))?;
    Ok((model, tokenizer, split))
}

pub fn run_eval(args: &EvalArgs) -> anyhow::Result<()> {
    let (model, tokenizer, split) = load(&args.data)?;
    let opts = EvalOptions {
        snr_db: args.snr_db,
        channel: args.channel.into(),
        limit_per_task: args.data.limit,
        seed: args.data.seed,
        clean_tokens: args.clean_tokens,
    };
    let mut outputs = EvalOutputs {
        reconstructions: args.reconstructions.is_some().then(Vec::new),
        ..EvalOutputs::default()
    };
    let report = evaluate_with_outputs(&model, &tokenizer, &split, &opts, &mut outputs)?;
    if let Some(path) = &args.predictions {
        write_predictions(path, &outputs.predictions)?;
    }
    if let (Some(dir), Some(images)) = (&args.reconstructions, &outputs.reconstructions) {
        write_reconstructions(dir, images)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// Writes each reconstruction as DIR/<example id>.png (characters other than ASCII
/// letters, digits, `-`, `_` and `.` in the id become `_`).
fn write_reconstructions(
    dir: &Path,
    images: &[(String, candle_core::Tensor)],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (id, img) in images {
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.png"));
        save_png(&tensor_to_image(img)?, &path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn write_predictions(path: &Path, predictions: &[Prediction]) -> anyhow::Result<()> {
    let context = || format!("writing {}", path.display());
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).with_context(context)?);
    for p in predictions {
        serde_json::to_writer(&mut f, p).with_context(context)?;
        f.write_all(b"\n").with_context(context)?;
    }
    f.flush().with_context(context)?;
    Ok(())
}

/// Parses "START:STOP:STEP" into the SNR values, STOP included.
pub fn parse_snr_range(s: &str) -> anyhow::Result<Vec<f64>> {
    let parts: Vec<f64> = s
        .split(':')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("SNR range '{s}' must be START:STOP:STEP in dB"))?;
    let [start, stop, step] = parts[..] else {
        anyhow::bail!("SNR range '{s}' must be START:STOP:STEP in dB");
    };
    if !(step > 0.0 && stop >= start && start.is_finite() && stop.is_finite()) {
        anyhow::bail!("SNR range '{s}': need STEP > 0 and STOP >= START");
    }
    let n = ((stop - start) / step + 1e-9).floor() as usize + 1;
    Ok((0..n).map(|i| start + i as f64 * step).collect())
}

/// (CSV column name, accessor) of every swept metric.
type Metric = (&'static str, fn(&EvalReport) -> Option<f64>);
const METRICS: [Metric; 7] = [
    ("vqa_accuracy", |r| r.vqa_accuracy),
    ("caption_exact_match", |r| r.caption_exact_match),
    ("classification_accuracy", |r| r.classification_accuracy),
    ("text_bleu4", |r| r.text_bleu4),
    ("text_exact_match", |r| r.text_exact_match),
    ("image_psnr_db", |r| r.image_psnr_db),
    ("image_ssim", |r| r.image_ssim),
];

pub fn run_sweep(args: &EvalSweepArgs) -> anyhow::Result<()> {
    let snrs = parse_snr_range(&args.snr_db)?;
    let (model, tokenizer, split) = load(&args.data)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut reports = Vec::new();
    for &channel in &args.channel {
        for &snr_db in &snrs {
            let opts = EvalOptions {
                snr_db,
                channel: channel.into(),
                limit_per_task: args.data.limit,
                seed: args.data.seed,
                clean_tokens: false,
            };
            let r = evaluate(&model, &tokenizer, &split, &opts)?;
            eprintln!("{}", serde_json::to_string(&r)?);
            reports.push((channel, r));
        }
    }
    write_csv(&args.out.join("sweep.csv"), &reports)?;
    let series = |metrics: &[&str]| -> Vec<Series> {
        let mut out = Vec::new();
        for &name in metrics {
            let get = METRICS.iter().find(|m| m.0 == name).map(|m| m.1);
            for &channel in &args.channel {
                let points: Vec<Point> = reports
                    .iter()
                    .filter(|(c, _)| *c == channel)
                    .filter_map(|(_, r)| {
                        get.and_then(|g| g(r)).map(|y| Point {
                            x: r.snr_db,
                            y,
                            spread: None,
                        })
                    })
                    .collect();
                if !points.is_empty() {
                    let ch = format!("{channel:?}").to_lowercase();
                    out.push(Series {
                        label: format!("{name} ({ch})"),
                        points,
                    });
                }
            }
        }
        out
    };
    let charts = [
        (
            "task_accuracy.png",
            "Task scores through the channel",
            "score",
            vec![
                "vqa_accuracy",
                "caption_exact_match",
                "classification_accuracy",
                "text_bleu4",
                "image_ssim",
            ],
        ),
        (
            "image_psnr.png",
            "Image reconstruction",
            "PSNR (dB)",
            vec!["image_psnr_db"],
        ),
    ];
    for (file, title, y_label, metrics) in charts {
        let mut chart = LineChart::new(
            title,
            "SNR per channel symbol (dB)",
            y_label,
            YScale::Linear,
        );
        chart.series = series(&metrics);
        if chart.series.is_empty() {
            log::warn!("no data for {file}; chart skipped");
            continue;
        }
        chart.write_png(&args.out.join(file))?;
    }
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn write_csv(path: &Path, reports: &[(EvalChannel, EvalReport)]) -> anyhow::Result<()> {
    let mut f =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
    writeln!(
        f,
        "channel,snr_db,{},channel_symbols_per_image",
        names.join(",")
    )?;
    for (c, r) in reports {
        let cells: Vec<String> = METRICS
            .iter()
            .map(|m| m.1(r).map_or(String::new(), |v| format!("{v:.5}")))
            .collect();
        let ch = format!("{c:?}").to_lowercase();
        writeln!(
            f,
            "{ch},{},{},{}",
            r.snr_db,
            cells.join(","),
            r.channel_symbols_per_image
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snr_range_includes_stop_and_refuses_bad_steps() {
        assert_eq!(
            parse_snr_range("0:25:5").unwrap(),
            vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
        );
        assert_eq!(parse_snr_range("-5:0:2.5").unwrap(), vec![-5.0, -2.5, 0.0]);
        assert!(
            parse_snr_range("0:25:0").is_err(),
            "a zero step would never end"
        );
        assert!(
            parse_snr_range("0:25").is_err(),
            "two fields are not a range"
        );
    }
}
