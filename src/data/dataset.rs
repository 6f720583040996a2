//! The project's data set format: one directory per split holding `examples.jsonl`
//! (one JSON `Example` per line) and `images/*.png` (64x64 RGB), image paths in the
//! records being relative to the split directory.
//!
//! The `task` of an example names what the receiver does with it; the tasks in use are
//! the `TASK_*` constants, but any name is accepted, so adding a task is adding data.

use super::image_io::{load_image, ImageIoError};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Rebuild the image (image decoder; `answer` is empty).
pub const TASK_RECONSTRUCT: &str = "reconstruct";
/// Describe the image in words.
pub const TASK_CAPTION: &str = "caption";
/// Answer `question` about the image.
pub const TASK_VQA: &str = "vqa";
/// Name the class of the image (MNIST: the digit as a numeral).
pub const TASK_CLASSIFY: &str = "classify";
/// Deliver the sentence in `text`; `answer` is the sentence itself.
pub const TASK_TEXT: &str = "text";
/// Every task the preparation step writes.
pub const ALL_TASKS: [&str; 5] = [
    TASK_RECONSTRUCT,
    TASK_CAPTION,
    TASK_VQA,
    TASK_CLASSIFY,
    TASK_TEXT,
];
/// File name of the records of a split.
pub const EXAMPLES_FILE: &str = "examples.jsonl";
/// Folder of the images of a split.
pub const IMAGES_DIR: &str = "images";

/// One record of `examples.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// Unique within the split.
    pub id: String,
    /// Where the content comes from: "easy-vqa", "mnist", "scenes", "chatterbot".
    pub source: String,
    /// One of the `TASK_*` names (or a new task's name).
    pub task: String,
    /// Image path relative to the split directory, e.g. "images/scenes-00ab.png".
    pub image: Option<String>,
    pub question: Option<String>,
    /// Input text (the `text` task's sentence).
    pub text: Option<String>,
    /// Expected output text; empty for `reconstruct`.
    pub answer: String,
}

/// Errors reading or writing a split; each names the file (and line).
#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not an example record: {source}")]
    Json {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("{path}:{line}: image {image} does not exist")]
    MissingImage {
        path: PathBuf,
        line: usize,
        image: String,
    },
    #[error("{path}:{line}: duplicate id {id}")]
    DuplicateId {
        path: PathBuf,
        line: usize,
        id: String,
    },
    #[error(transparent)]
    Image(#[from] ImageIoError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A loaded split: its directory and records.
#[derive(Debug, Clone)]
pub struct Split {
    pub dir: PathBuf,
    pub examples: Vec<Example>,
}

impl Split {
    /// Reads `dir/examples.jsonl`, checking that each line parses, ids are unique and
    /// every referenced image file exists. Blank lines are skipped.
    pub fn load(dir: &Path) -> Result<Split, DatasetError> {
        let path = dir.join(EXAMPLES_FILE);
        let file = std::fs::File::open(&path).map_err(io_err(&path))?;
        let mut examples = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(io_err(&path))?;
            if line.trim().is_empty() {
                continue;
            }
            let ex: Example = serde_json::from_str(&line).map_err(|source| DatasetError::Json {
                path: path.clone(),
                line: line_no,
                source,
            })?;
            if let Some(image) = &ex.image {
                if !dir.join(image).is_file() {
                    return Err(DatasetError::MissingImage {
                        path: path.clone(),
                        line: line_no,
                        image: image.clone(),
                    });
                }
            }
            if !ids.insert(ex.id.clone()) {
                return Err(DatasetError::DuplicateId {
                    path: path.clone(),
                    line: line_no,
                    id: ex.id,
                });
            }
            examples.push(ex);
        }
        Ok(Split {
            dir: dir.to_path_buf(),
            examples,
        })
    }

    /// The absolute path of an example's image, if it has one.
    pub fn image_path(&self, ex: &Example) -> Option<PathBuf> {
        ex.image.as_ref().map(|p| self.dir.join(p))
    }

    /// Loads an example's image (64x64 RGB as written by the preparation step).
    pub fn load_image(&self, ex: &Example) -> Result<Option<RgbImage>, DatasetError> {
        match self.image_path(ex) {
            Some(p) => Ok(Some(load_image(&p)?)),
            None => Ok(None),
        }
    }

    /// The examples of one task.
    pub fn task<'a>(&'a self, task: &'a str) -> impl Iterator<Item = &'a Example> + 'a {
        self.examples.iter().filter(move |e| e.task == task)
    }
}

/// Writes a split: creates `dir/images/` and `dir/examples.jsonl`, replacing an
/// existing split there (its `images/` folder is emptied first).
pub struct SplitWriter {
    dir: PathBuf,
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    n_examples: usize,
}

impl SplitWriter {
    pub fn create(dir: &Path) -> Result<SplitWriter, DatasetError> {
        let images = dir.join(IMAGES_DIR);
        if images.is_dir() {
            std::fs::remove_dir_all(&images).map_err(io_err(&images))?;
        }
        std::fs::create_dir_all(&images).map_err(io_err(&images))?;
        let path = dir.join(EXAMPLES_FILE);
        let file = std::fs::File::create(&path).map_err(io_err(&path))?;
        Ok(SplitWriter {
            dir: dir.to_path_buf(),
            path,
            out: BufWriter::new(file),
            n_examples: 0,
        })
    }

    /// Saves `img` as `images/{name}.png` unless that file exists already (names are
    /// content hashes, so an existing file holds the same image); returns the relative
    /// path to put in `Example::image`.
    pub fn add_image(&mut self, name: &str, img: &RgbImage) -> Result<String, DatasetError> {
        let rel = format!("{IMAGES_DIR}/{name}.png");
        let path = self.dir.join(&rel);
        if !path.exists() {
            super::image_io::save_png(img, &path)?;
        }
        Ok(rel)
    }

    /// Appends one record.
    pub fn push(&mut self, ex: &Example) -> Result<(), DatasetError> {
        let line = serde_json::to_string(ex).expect("an Example always serializes");
        writeln!(self.out, "{line}").map_err(io_err(&self.path))?;
        self.n_examples += 1;
        Ok(())
    }

    /// Flushes the records; returns how many were written.
    pub fn finish(mut self) -> Result<usize, DatasetError> {
        self.out.flush().map_err(io_err(&self.path))?;
        Ok(self.n_examples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("m4sc-dataset-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn jsonl_round_trip_keeps_every_field() {
        let dir = temp_dir("rt");
        let mut w = SplitWriter::create(&dir).unwrap();
        let img = RgbImage::from_pixel(64, 64, Rgb([1, 2, 3]));
        let rel = w.add_image("a", &img).unwrap();
        let examples = vec![
            Example {
                id: "0".into(),
                source: "scenes".into(),
                task: TASK_VQA.into(),
                image: Some(rel),
                question: Some("what is \"left\"?\nnew line".into()),
                text: None,
                answer: "red circle".into(),
            },
            Example {
                id: "1".into(),
                source: "chatterbot".into(),
                task: TASK_TEXT.into(),
                image: None,
                question: None,
                text: Some("Héllo wörld.".into()),
                answer: "Héllo wörld.".into(),
            },
        ];
        for e in &examples {
            w.push(e).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
        let split = Split::load(&dir).unwrap();
        assert_eq!(
            split.examples, examples,
            "a field changed in the round trip"
        );
        assert_eq!(split.load_image(&examples[0]).unwrap(), Some(img));
        assert_eq!(split.task(TASK_TEXT).count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loader_errors_name_file_and_line() {
        let dir = temp_dir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let good = concat!(
            r#"{"id":"0","source":"s","task":"text","image":null,"#,
            r#""question":null,"text":"a b c","answer":"a b c"}"#
        );
        std::fs::write(
            dir.join(EXAMPLES_FILE),
            format!("{good}\n\n{{\"id\": 3}}\n"),
        )
        .unwrap();
        let err = Split::load(&dir).unwrap_err();
        assert!(matches!(err, DatasetError::Json { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("examples.jsonl:3"), "{err}");
        let missing = good.replace("\"image\":null", "\"image\":\"images/x.png\"");
        std::fs::write(dir.join(EXAMPLES_FILE), format!("{missing}\n")).unwrap();
        let err = Split::load(&dir).unwrap_err();
        assert!(
            matches!(err, DatasetError::MissingImage { line: 1, .. }),
            "{err}"
        );
        std::fs::write(dir.join(EXAMPLES_FILE), format!("{good}\n{good}\n")).unwrap();
        let err = Split::load(&dir).unwrap_err();
        assert!(
            matches!(err, DatasetError::DuplicateId { line: 2, .. }),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(Split::load(&dir), Err(DatasetError::Io { .. })));
    }
}
