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
