//! The small evaluation subset committed under `data/eval/`: the first examples of
//! every (task, source) group of a prepared split (normally `test`), copied with their
//! images into a split of its own.

use super::dataset::{DatasetError, Split, SplitWriter};
use super::image_io::load_image;
use super::prepare::{PrepareError, SplitSummary};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Writes to `out_dir` up to `per_group` examples of each (task, source) group of the
/// split in `from_dir`, keeping their order and ids.
pub fn write_eval_subset(
    from_dir: &Path,
    out_dir: &Path,
    per_group: usize,
) -> Result<SplitSummary, PrepareError> {
    let split = Split::load(from_dir)?;
    let mut taken: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut writer = SplitWriter::create(out_dir)?;
    let mut images = HashSet::new();
    let mut image_bytes = 0;
    for ex in &split.examples {
        let key = (ex.task.clone(), ex.source.clone());
        let n = taken.entry(key).or_insert(0);
        if *n >= per_group {
            continue;
        }
        *n += 1;
        if let (Some(rel), Some(src)) = (&ex.image, split.image_path(ex)) {
            if images.insert(rel.clone()) {
                let stem = Path::new(rel)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("image");
                // Decoded and re-encoded: the written name is what the record holds.
                let written = writer.add_image(stem, &load_image(&src)?)?;
                if &written != rel {
                    return Err(PrepareError::Option(format!(
                        "{}: image {rel} is not of the form images/NAME.png",
                        from_dir.display()
                    )));
                }
                image_bytes += std::fs::metadata(out_dir.join(rel))
                    .map_err(|source| DatasetError::Io {
                        path: out_dir.join(rel),
                        source,
                    })?
                    .len();
            }
        }
        writer.push(ex)?;
    }
    let n_examples = writer.finish()?;
    Ok(SplitSummary {
        name: "eval".into(),
        dir: out_dir.to_path_buf(),
        counts: taken,
        n_examples,
        n_images: images.len(),
        image_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::ALL_TASKS;
    use crate::data::image_io::IMAGE_SIZE;

    #[test]
    fn committed_eval_subset_loads_and_covers_every_task() {
        // data/eval is produced by `m4sc prepare-data ... --eval-subset data/eval` and
        // committed; a missing task or a broken record would fail here.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/eval");
        let split = Split::load(&dir).expect("data/eval must load");
        assert!(
            split.examples.len() >= 200,
            "{} examples",
            split.examples.len()
        );
        for task in ALL_TASKS {
            assert!(
                split.task(task).count() >= 20,
                "data/eval lacks {task} examples"
            );
        }
        for ex in &split.examples {
            assert!(
                ex.id.starts_with("test-"),
                "{}: not from the test split",
                ex.id
            );
            let has_image = ex.task != crate::data::dataset::TASK_TEXT;
            assert_eq!(ex.image.is_some(), has_image, "{}: image presence", ex.id);
            if ex.task == crate::data::dataset::TASK_VQA {
                assert!(ex.question.is_some(), "{}: vqa without a question", ex.id);
            }
        }
        let first = split.examples.iter().find(|e| e.image.is_some()).unwrap();
        let img = split.load_image(first).unwrap().unwrap();
        let side = IMAGE_SIZE as u32;
        assert_eq!(img.dimensions(), (side, side));
    }
}
