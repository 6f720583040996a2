//! `m4sc prepare-data`: build the train / val / test splits of the semantic model
//! from the raw data sets, and optionally the committed evaluation subset.

use clap::Args;
use m4sc::data::prepare::SPLITS;
use m4sc::data::{prepare, write_eval_subset, PrepareOptions, TaskMix};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Build the train / val / test splits of the semantic model \
(examples.jsonl + images/*.png per split) from the raw data sets that \
scripts/fetch_data.sh downloads once into data/raw, plus generated scenes. Nothing is \
downloaded. The result is deterministic given --seed.\n\n\
Example: m4sc prepare-data --raw data/raw --out data/prepared \
--eval-subset data/eval --eval-per-group 40";

#[derive(Debug, Args)]
pub struct PrepareDataArgs {
    /// Folder of the raw data sets (written by scripts/fetch_data.sh).
    #[arg(long, value_name = "DIR", default_value = "data/raw")]
    pub raw: PathBuf,
    /// Output folder; gets train/, val/ and test/.
    #[arg(long, value_name = "DIR", default_value = "data/prepared")]
    pub out: PathBuf,
    /// Seed of every random choice (split assignment, scenes, sampling).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Examples in the train split.
    #[arg(long, default_value_t = 20_000)]
    pub train: usize,
    /// Examples in the val split.
    #[arg(long, default_value_t = 1_000)]
    pub val: usize,
    /// Examples in the test split.
    #[arg(long, default_value_t = 1_000)]
    pub test: usize,
    /// Task weights reconstruct,caption,vqa,classify,text (normalized).
    #[arg(long, value_name = "R,C,V,K,T", default_value = "0.2,0.2,0.3,0.15,0.15",
          value_parser = parse_mix)]
    pub mix: TaskMix,
    /// Fraction of the image-task examples taken from generated scenes (the rest
    /// from easy-VQA).
    #[arg(long, default_value_t = 0.5)]
    pub scene_fraction: f64,
    /// Also write an evaluation subset, taken from the test split, into this folder.
    #[arg(long, value_name = "DIR")]
    pub eval_subset: Option<PathBuf>,
    /// Examples per (task, source) group in the evaluation subset.
    #[arg(long, default_value_t = 40)]
    pub eval_per_group: usize,
    /// Do not rebuild the splits; only write the evaluation subset from <OUT>/test.
    #[arg(long, requires = "eval_subset")]
    pub eval_only: bool,
}

/// Parses "R,C,V,K,T" task weights.
fn parse_mix(s: &str) -> Result<TaskMix, String> {
    let w: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("'{s}': {e}; expected five numbers R,C,V,K,T"))?;
    match w.as_slice() {
        &[reconstruct, caption, vqa, classify, text] => Ok(TaskMix {
            reconstruct,
            caption,
            vqa,
            classify,
            text,
        }),
        _ => Err(format!(
            "'{s}' has {} numbers; expected five: R,C,V,K,T",
            w.len()
        )),
    }
}

pub fn run(args: &PrepareDataArgs) -> anyhow::Result<()> {
    if !args.eval_only {
        let opts = PrepareOptions {
            seed: args.seed,
            sizes: [args.train, args.val, args.test],
            mix: args.mix,
            scene_fraction: args.scene_fraction,
            ..PrepareOptions::new(&args.raw, &args.out)
        };
        let summary = prepare(&opts)?;
        print!("{summary}");
    }
    if let Some(eval_dir) = &args.eval_subset {
        let test_dir = args.out.join(SPLITS[2]);
        let summary = write_eval_subset(&test_dir, eval_dir, args.eval_per_group)?;
        print!("{summary}");
    }
    Ok(())
}
