//! easy-VQA 1.0 (PyPI `easy-vqa`, MIT): 64x64 PNG images of one coloured shape each
//! (circle, rectangle, triangle; 8 colours) with question/answer pairs.
//!
//! Layout under the raw folder: `easy_vqa/data/{train,test}/questions.json` (a JSON
//! array of `[question, answer, image_id]`) and `.../images/{image_id}.png`.
//!
//! The package has no captions; `infer_caption` derives "a {colour} {shape}" from an
//! image's own answers: "what color/shape ..." answers name them directly, and yes/no
//! answers ("is there not a red shape?" -> "no") give facts for or against a colour or
//! shape; a property left with one candidate after the facts against is taken. About
//! 11 % of the images stay without a caption (their questions do not pin both down).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The colours easy-VQA draws with.
pub const COLOURS: [&str; 8] = [
    "red", "green", "blue", "yellow", "teal", "brown", "gray", "black",
];
/// The shapes easy-VQA draws.
pub const SHAPES: [&str; 3] = ["circle", "rectangle", "triangle"];

/// Errors reading easy-VQA; each names the file.
#[derive(Debug, Error)]
pub enum EasyVqaError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: entry {index} is not [question, answer, image_id]")]
    Entry { path: PathBuf, index: usize },
    #[error("{path}: image {image_id} referenced by a question does not exist")]
    MissingImage { path: PathBuf, image_id: u64 },
}

/// One image with its questions and derived caption.
#[derive(Debug, Clone, PartialEq)]
pub struct EasyVqaImage {
    pub path: PathBuf,
    /// (question, answer) pairs in file order.
    pub qa: Vec<(String, String)>,
    pub caption: Option<String>,
}

/// Reads one part ("train" or "test") of easy-VQA from the raw folder; images are
/// returned in image-id order.
pub fn load_part(raw_dir: &Path, part: &str) -> Result<Vec<EasyVqaImage>, EasyVqaError> {
    let dir = raw_dir.join("easy_vqa").join("data").join(part);
    let path = dir.join("questions.json");
    let text = std::fs::read_to_string(&path).map_err(|source| EasyVqaError::Io {
        path: path.clone(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| EasyVqaError::Json {
        path: path.clone(),
        source,
    })?;
    let entries = value.as_array().ok_or_else(|| EasyVqaError::Entry {
        path: path.clone(),
        index: 0,
    })?;
    let mut by_image: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
    for (index, e) in entries.iter().enumerate() {
        let bad = || EasyVqaError::Entry {
            path: path.clone(),
            index,
        };
        let (q, a, id) = match e.as_array().map(|v| v.as_slice()) {
            Some([q, a, id]) => (q.as_str(), a.as_str(), id.as_u64()),
            _ => return Err(bad()),
        };
        let (q, a, id) = (q.ok_or_else(bad)?, a.ok_or_else(bad)?, id.ok_or_else(bad)?);
        by_image
            .entry(id)
            .or_default()
            .push((q.to_string(), a.to_string()));
    }
    by_image
        .into_iter()
        .map(|(image_id, qa)| {
            let img = dir.join("images").join(format!("{image_id}.png"));
            if !img.is_file() {
                return Err(EasyVqaError::MissingImage {
                    path: path.clone(),
                    image_id,
                });
            }
            let caption = infer_caption(&qa);
            Ok(EasyVqaImage {
                path: img,
                qa,
                caption,
            })
        })
        .collect()
}

/// Derives "a {colour} {shape}" from the question/answer pairs of one image, or None
/// when they do not determine both (see the module docs).
pub fn infer_caption(qa: &[(String, String)]) -> Option<String> {
    let mut for_: Vec<&str> = Vec::new();
    let mut against: Vec<&str> = Vec::new();
    for (q, a) in qa {
        let words: Vec<&str> = q.trim_end_matches('?').split_whitespace().collect();
        let named: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| COLOURS.contains(w) || SHAPES.contains(w))
            .collect();
        let a = a.as_str();
        if COLOURS.contains(&a) || SHAPES.contains(&a) {
            // "what is the blue shape?" -> "rectangle": both words hold.
            for_.push(a);
            for_.extend(&named);
            continue;
        }
        let negated = words.contains(&"not") || words.contains(&"no");
        let holds = match a {
            "yes" => !negated,
            "no" => negated,
            _ => continue,
        };
        if holds {
            for_.extend(&named);
        } else {
            against.extend(&named);
        }
    }
    let pick = |options: &[&'static str]| -> Option<&'static str> {
        let known: Vec<&'static str> = options
            .iter()
            .copied()
            .filter(|o| for_.contains(o))
            .collect();
        match known.as_slice() {
            [one] => Some(*one),
            [] => {
                let left: Vec<&'static str> = options
                    .iter()
                    .copied()
                    .filter(|o| !against.contains(o))
                    .collect();
                (left.len() == 1).then(|| left[0])
            }
            // Contradictory answers: leave the image without a caption.
            _ => None,
        }
    };
    let name = format!("{} {}", pick(&COLOURS)?, pick(&SHAPES)?);
    Some(super::scenes::with_article(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qa(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(q, a)| (q.to_string(), a.to_string()))
            .collect()
    }

    #[test]
    fn caption_from_direct_answers() {
        let c = infer_caption(&qa(&[
            ("what is the blue shape?", "rectangle"),
            ("is there a red shape?", "no"),
        ]));
        assert_eq!(c.as_deref(), Some("a blue rectangle"));
    }

    #[test]
    fn caption_from_yes_no_facts_and_elimination() {
        // Colour: 7 colours ruled out, one by a negated question answered "yes".
        let mut pairs = vec![("does the image contain a circle?", "yes")];
        let qs = [
            "is there a red shape?",
            "is there a green shape?",
            "is there a blue shape?",
            "is there a yellow shape?",
            "is there a teal shape?",
            "is there a gray shape?",
        ];
        pairs.extend(qs.iter().map(|q| (*q, "no")));
        pairs.push(("does the image not contain a black shape?", "yes"));
        assert_eq!(
            infer_caption(&qa(&pairs)).as_deref(),
            Some("a brown circle")
        );
        // Only 6 colours ruled out: undetermined.
        pairs.pop();
        assert_eq!(infer_caption(&qa(&pairs)), None);
        // "is no yellow shape present?" -> "no" means yellow is present.
        let c = infer_caption(&qa(&[
            ("is no yellow shape present?", "no"),
            ("what shape is present?", "triangle"),
        ]));
        assert_eq!(c.as_deref(), Some("a yellow triangle"));
    }

    #[test]
    fn bad_questions_file_is_a_typed_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("m4sc-evqa-{}", std::process::id()));
        let part = dir.join("easy_vqa/data/train");
        std::fs::create_dir_all(part.join("images")).unwrap();
        std::fs::write(
            part.join("questions.json"),
            r#"[["q?", "yes", 0], ["q", 1, 0]]"#,
        )
        .unwrap();
        let err = load_part(&dir, "train").unwrap_err();
        assert!(matches!(err, EasyVqaError::Entry { index: 1, .. }), "{err}");
        std::fs::write(part.join("questions.json"), r#"[["q?", "yes", 5]]"#).unwrap();
        let err = load_part(&dir, "train").unwrap_err();
        assert!(
            matches!(err, EasyVqaError::MissingImage { image_id: 5, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("questions.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
