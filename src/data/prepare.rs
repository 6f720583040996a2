//! Builds the train / val / test splits of the project format (`dataset.rs`) from the
//! raw sources fetched by `scripts/fetch_data.sh` and the scene generator.
//!
//! Tasks and sources:
//! - `reconstruct`, `caption`, `vqa`: easy-VQA images and generated scenes, by default
//!   half each (`scene_fraction`); when easy-VQA runs short in a split (too few
//!   images, captions or questions) scenes fill the rest.
//! - `classify`: MNIST digits; the answer is the digit as a numeral ("7").
//! - `text`: chatterbot-corpus sentences; `text` and `answer` are the sentence.
//!
//! Splits never overlap: easy-VQA images and MNIST digits (both parts of each pooled)
//! go to a split by a hash of their decoded pixels and the seed, so identical images
//! always land in the same split; sentences likewise by a hash of their text; scene
//! k of split s is generated from scene number s * 2^32 + k mixed with the seed, and a
//! val or test scene whose pixels equal an earlier split's is skipped. Each pool is
//! divided 80 / 10 / 10 % into train / val / test. Everything is deterministic given
//! the seed.

use super::dataset::{DatasetError, Example, SplitWriter};
use super::dataset::{TASK_CAPTION, TASK_CLASSIFY, TASK_RECONSTRUCT, TASK_TEXT, TASK_VQA};
use super::easy_vqa::{self, EasyVqaError};
use super::image_io::{load_image_64, ImageIoError};
use super::mnist::{digit_answer, IdxError, Mnist};
use super::scenes::Scene;
use super::sentences::{load_sentences, SentenceError};
use image::RgbImage;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Names of the splits, in the order their pools are cut (80 / 10 / 10 %).
pub const SPLITS: [&str; 3] = ["train", "val", "test"];
const SPLIT_PERCENT: [u64; 3] = [80, 10, 10];

/// Errors of data preparation.
#[derive(Debug, Error)]
pub enum PrepareError {
    #[error(transparent)]
    EasyVqa(#[from] EasyVqaError),
    #[error(transparent)]
    Mnist(#[from] IdxError),
    #[error(transparent)]
    Sentences(#[from] SentenceError),
    #[error(transparent)]
    Image(#[from] ImageIoError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("invalid option: {0}")]
    Option(String),
}

/// Fraction of each split's examples per task; need not sum to one (normalized).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskMix {
    pub reconstruct: f64,
    pub caption: f64,
    pub vqa: f64,
    pub classify: f64,
    pub text: f64,
}

impl Default for TaskMix {
    fn default() -> Self {
        TaskMix {
            reconstruct: 0.2,
            caption: 0.2,
            vqa: 0.3,
            classify: 0.15,
            text: 0.15,
        }
    }
}

/// What to prepare. Defaults: seed 1, 20,000 / 1,000 / 1,000 examples (about an hour
/// of CPU training for the default model), `TaskMix::default()`, half scenes.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// Folder written by `scripts/fetch_data.sh`.
    pub raw_dir: PathBuf,
    /// Output folder; gets `train/`, `val/`, `test/`.
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Examples per split, in `SPLITS` order.
    pub sizes: [usize; 3],
    pub mix: TaskMix,
    /// Fraction of the image-task examples taken from generated scenes.
    pub scene_fraction: f64,
}

impl PrepareOptions {
    pub fn new(raw_dir: &Path, out_dir: &Path) -> Self {
        PrepareOptions {
            raw_dir: raw_dir.to_path_buf(),
            out_dir: out_dir.to_path_buf(),
            seed: 1,
            sizes: [20_000, 1_000, 1_000],
            mix: TaskMix::default(),
            scene_fraction: 0.5,
        }
    }
}

/// Counts of what one split holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SplitSummary {
    pub name: String,
    pub dir: PathBuf,
    /// Examples per (task, source).
    pub counts: BTreeMap<(String, String), usize>,
    pub n_examples: usize,
    pub n_images: usize,
    pub image_bytes: u64,
}

impl fmt::Display for SplitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}): {} examples, {} images ({:.1} MB)",
            self.name,
            self.dir.display(),
            self.n_examples,
            self.n_images,
            self.image_bytes as f64 / 1e6
        )?;
        for ((task, source), n) in &self.counts {
            writeln!(f, "  {task:<12} {source:<11} {n}")?;
        }
        Ok(())
    }
}

/// What `prepare` wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub splits: Vec<SplitSummary>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.splits.iter().try_for_each(|s| write!(f, "{s}"))
    }
}

/// FNV-1a 64 of the seed and the bytes, followed by the splitmix64 finalizer so that
/// the low bits used for bucketing are well mixed.
pub fn content_hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in seed.to_le_bytes().iter().chain(bytes) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The split (index into `SPLITS`) an item with this hash belongs to.
pub fn split_of(hash: u64) -> usize {
    let bucket = hash % 100;
    if bucket < SPLIT_PERCENT[0] {
        0
    } else if bucket < SPLIT_PERCENT[0] + SPLIT_PERCENT[1] {
        1
    } else {
        2
    }
}

/// Image file stem: source and unseeded pixel hash.
fn image_name(source: &str, img: &RgbImage) -> String {
    format!("{source}-{:016x}", content_hash(0, img.as_raw()))
}

/// The generator seed of scene `index` of split `split`.
pub fn scene_seed(seed: u64, split: usize, index: u64) -> u64 {
    let number = ((split as u64) << 32) | (index & 0xffff_ffff);
    content_hash(seed, &number.to_le_bytes())
}

/// The raw sources, each divided into the three splits.
struct Pools {
    easy_vqa: [Vec<(RgbImage, easy_vqa::EasyVqaImage)>; 3],
    mnist: [Vec<(RgbImage, u8)>; 3],
    sentences: [Vec<String>; 3],
}

fn load_pools(opts: &PrepareOptions, needed_digits: [usize; 3]) -> Result<Pools, PrepareError> {
    let mut pools = Pools {
        easy_vqa: Default::default(),
        mnist: Default::default(),
        sentences: Default::default(),
    };
    let mut seen = HashSet::new();
    for part in ["train", "test"] {
        for item in easy_vqa::load_part(&opts.raw_dir, part)? {
            let img = load_image_64(&item.path)?;
            let h = content_hash(opts.seed, img.as_raw());
            if seen.insert(h) {
                pools.easy_vqa[split_of(h)].push((img, item));
            }
        }
    }
    // Digits: hash all, keep up to the needed number per split (in file order).
    let mut seen = HashSet::new();
    for part in Mnist::load_all(&opts.raw_dir.join("mnist"))? {
        for i in 0..part.images.count {
            let h = content_hash(opts.seed, part.images.image(i));
            let s = split_of(h);
            if seen.insert(h) && pools.mnist[s].len() < needed_digits[s] {
                pools.mnist[s].push((part.images.image_rgb64(i), part.labels[i]));
            }
        }
    }
    let dir = opts.raw_dir.join("chatterbot_corpus/data/english");
    for s in load_sentences(&dir)? {
        pools.sentences[split_of(content_hash(opts.seed, s.as_bytes()))].push(s);
    }
    Ok(pools)
}

/// Per-task example counts of a split of `size` examples.
fn task_counts(mix: &TaskMix, size: usize) -> [usize; 5] {
    let w = [
        mix.reconstruct,
        mix.caption,
        mix.vqa,
        mix.classify,
        mix.text,
    ];
    let total: f64 = w.iter().sum();
    let mut counts = w.map(|x| (x / total * size as f64).floor() as usize);
    // Give the rounding remainder to the first tasks.
    let mut rest = size - counts.iter().sum::<usize>();
    for c in counts.iter_mut() {
        if rest == 0 {
            break;
        }
        *c += 1;
        rest -= 1;
    }
    counts
}

fn check_options(opts: &PrepareOptions) -> Result<(), PrepareError> {
    let m = &opts.mix;
    let w = [m.reconstruct, m.caption, m.vqa, m.classify, m.text];
    if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f64>() <= 0.0 {
        return Err(PrepareError::Option(format!(
            "task mix {m:?} needs weights >= 0, sum > 0"
        )));
    }
    if !(0.0..=1.0).contains(&opts.scene_fraction) {
        let f = opts.scene_fraction;
        return Err(PrepareError::Option(format!(
            "scene fraction {f} is not in [0, 1]"
        )));
    }
    Ok(())
}

/// Builds `out_dir/{train,val,test}` from the raw data (see the module docs).
pub fn prepare(opts: &PrepareOptions) -> Result<Summary, PrepareError> {
    check_options(opts)?;
    let counts: Vec<[usize; 5]> = opts
        .sizes
        .iter()
        .map(|&n| task_counts(&opts.mix, n))
        .collect();
    let pools = load_pools(opts, [0, 1, 2].map(|s| counts[s][3]))?;
    let mut summary = Summary::default();
    let mut earlier_scenes = HashSet::new();
    for (s, name) in SPLITS.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(content_hash(opts.seed, name.as_bytes()));
        let ctx = SplitContext {
            opts,
            split: s,
            counts: counts[s],
        };
        let items = ctx.collect(&pools, &mut rng, &mut earlier_scenes);
        let dir = opts.out_dir.join(name);
        summary
            .splits
            .push(write_split(&dir, name, items, &mut rng)?);
    }
    Ok(summary)
}

/// An example before writing: its record (without id and image path) and image.
pub(crate) struct Item {
    pub example: Example,
    pub image: Option<RgbImage>,
}

fn item(
    source: &str,
    task: &str,
    image: Option<RgbImage>,
    q: Option<String>,
    answer: String,
) -> Item {
    Item {
        example: Example {
            id: String::new(),
            source: source.into(),
            task: task.into(),
            image: None,
            question: q,
            text: None,
            answer,
        },
        image,
    }
}

struct SplitContext<'a> {
    opts: &'a PrepareOptions,
    split: usize,
    counts: [usize; 5],
}

impl SplitContext<'_> {
    fn collect(
        &self,
        pools: &Pools,
        rng: &mut ChaCha8Rng,
        scenes_seen: &mut HashSet<u64>,
    ) -> Vec<Item> {
        let s = self.split;
        let mut items = Vec::new();
        let mut easy: Vec<&(RgbImage, easy_vqa::EasyVqaImage)> = pools.easy_vqa[s].iter().collect();
        easy.shuffle(rng);
        let mut scene_index = 0u64;
        let mut next_scene = |rng: &mut ChaCha8Rng| -> (Scene, RgbImage, u64) {
            loop {
                let seed = scene_seed(self.opts.seed, s, scene_index);
                scene_index += 1;
                let scene = Scene::generate(seed);
                let img = scene.render();
                // Scenes of earlier splits are remembered; a repeat is skipped.
                if scenes_seen.insert(content_hash(0, img.as_raw())) {
                    return (scene, img, rng.random());
                }
            }
        };
        let image_tasks = [TASK_RECONSTRUCT, TASK_CAPTION, TASK_VQA];
        for (t, task) in image_tasks.iter().enumerate() {
            let n = self.counts[t];
            let n_easy_wanted = n - (n as f64 * self.opts.scene_fraction).round() as usize;
            let easy_items: Vec<Item> = match *task {
                TASK_RECONSTRUCT => easy
                    .iter()
                    .map(|(img, _)| item("easy-vqa", task, Some(img.clone()), None, String::new()))
                    .take(n_easy_wanted)
                    .collect(),
                TASK_CAPTION => easy
                    .iter()
                    .filter_map(|(img, e)| {
                        let c = e.caption.clone()?;
                        Some(item("easy-vqa", task, Some(img.clone()), None, c))
                    })
                    .take(n_easy_wanted)
                    .collect(),
                _ => {
                    let mut pairs: Vec<(usize, usize)> = (0..easy.len())
                        .flat_map(|i| (0..easy[i].1.qa.len()).map(move |j| (i, j)))
                        .collect();
                    pairs.shuffle(rng);
                    pairs
                        .iter()
                        .take(n_easy_wanted)
                        .map(|&(i, j)| {
                            let (q, a) = easy[i].1.qa[j].clone();
                            item("easy-vqa", task, Some(easy[i].0.clone()), Some(q), a)
                        })
                        .collect()
                }
            };
            let n_scenes = n - easy_items.len();
            items.extend(easy_items);
            for _ in 0..n_scenes {
                let (scene, img, qa_seed) = next_scene(rng);
                let it = match *task {
                    TASK_RECONSTRUCT => item("scenes", task, Some(img), None, String::new()),
                    TASK_CAPTION => item("scenes", task, Some(img), None, scene.caption()),
                    _ => {
                        let qs = scene.questions(qa_seed);
                        let qa = &qs[rng.random_range(0..qs.len())];
                        item(
                            "scenes",
                            task,
                            Some(img),
                            Some(qa.question.clone()),
                            qa.answer.clone(),
                        )
                    }
                };
                items.push(it);
            }
        }
        let mut digits: Vec<&(RgbImage, u8)> = pools.mnist[s].iter().collect();
        digits.shuffle(rng);
        for (img, label) in digits.into_iter().take(self.counts[3]) {
            items.push(item(
                "mnist",
                TASK_CLASSIFY,
                Some(img.clone()),
                None,
                digit_answer(*label),
            ));
        }
        let mut sentences: Vec<&String> = pools.sentences[s].iter().collect();
        sentences.shuffle(rng);
        for text in sentences.into_iter().take(self.counts[4]) {
            let mut it = item("chatterbot", TASK_TEXT, None, None, text.clone());
            it.example.text = Some(text.clone());
            items.push(it);
        }
        for (task, &n) in super::dataset::ALL_TASKS.iter().zip(&self.counts) {
            let got = items.iter().filter(|i| i.example.task == *task).count();
            if got < n {
                log::warn!(
                    "{}: {task}: only {got} of {n} examples available",
                    SPLITS[s]
                );
            }
        }
        items
    }
}

/// Shuffles the items, numbers them and writes the split.
pub(crate) fn write_split(
    dir: &Path,
    name: &str,
    mut items: Vec<Item>,
    rng: &mut ChaCha8Rng,
) -> Result<SplitSummary, PrepareError> {
    items.shuffle(rng);
    let mut writer = SplitWriter::create(dir)?;
    let mut summary = SplitSummary {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let mut images = HashSet::new();
    for (i, mut it) in items.into_iter().enumerate() {
        it.example.id = format!("{name}-{i:06}");
        if let Some(img) = &it.image {
            let stem = image_name(&it.example.source, img);
            let rel = writer.add_image(&stem, img)?;
            if images.insert(rel.clone()) {
                summary.image_bytes += std::fs::metadata(dir.join(&rel))
                    .map(|m| m.len())
                    .unwrap_or(0);
            }
            it.example.image = Some(rel);
        }
        let key = (it.example.task.clone(), it.example.source.clone());
        *summary.counts.entry(key).or_insert(0) += 1;
        writer.push(&it.example)?;
    }
    summary.n_examples = writer.finish()?;
    summary.n_images = images.len();
    Ok(summary)
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;
