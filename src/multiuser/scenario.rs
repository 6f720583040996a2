//! Multi-user scenarios: who receives what content, for which task, over which channel.
//!
//! A scenario is a TOML file:
//!
//! ```toml
//! similarity_threshold = 0.98     # optional: cosine similarity for sharing a token
//! max_symbols_per_frame = 480     # optional: longer messages are fragmented
//! sharing = true                  # optional: false serves every user privately
//! interleave_symbols = true       # optional: false sends symbols in order (ablation)
//! sharing_counts_frames = true    # optional: false weighs partial sharing by channel
//!                                 # symbols alone, ignoring the extra frame's overhead
//!
//! [[user]]
//! name = "alice"                  # unique; names the user's output folder
//! image = "images/cat.png"        # or: text = "a sentence"; paths are relative to the file
//! task = "vqa"                    # reconstruct, caption, vqa, classify or text
//! question = "what color is the shape?"   # vqa only
//! answer = "red"                  # optional ground truth (reconstruct: the image itself)
//! channel = { snr_db = 20, multipath = false, cfo_hz = 0, timing_offset_samples = 0, seed = 1 }
//! ```
//!
//! Users are numbered in file order from 0; that number is their address in frame
//! headers. Each user's instruction (task and question) is known to its own receiver:
//! the user asked for it, so it is not sent (see the README's design notes).

use super::sharing_map::{Modality, MAX_MEMBERS};
use crate::channel::{ChannelConfig, MultipathConfig};
use crate::semantic::template::Task;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Cosine similarity above which tokens of different contents are shared by default.
pub const DEFAULT_SIMILARITY_THRESHOLD: f32 = 0.98;
/// Channel symbols per frame by default: 10 payload OFDM symbols.
pub const DEFAULT_MAX_SYMBOLS_PER_FRAME: usize = 480;

/// Why a scenario could not be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scenario {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("scenario {path}: user {user}: {message}")]
    User {
        path: PathBuf,
        user: String,
        message: String,
    },
    #[error("scenario {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A user's channel as written in the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChannel {
    pub snr_db: f32,
    #[serde(default)]
    pub multipath: bool,
    #[serde(default)]
    pub cfo_hz: f64,
    #[serde(default)]
    pub timing_offset_samples: f64,
    #[serde(default)]
    pub seed: u64,
}

impl UserChannel {
    /// The channel simulator's configuration (multipath: 50 ns RMS Rayleigh, redrawn per
    /// frame).
    pub fn config(&self) -> ChannelConfig {
        ChannelConfig {
            snr_db: Some(self.snr_db),
            multipath: self.multipath.then(MultipathConfig::default),
            cfo_hz: self.cfo_hz,
            timing_offset_samples: self.timing_offset_samples,
            seed: self.seed,
            ..ChannelConfig::default()
        }
    }
}

/// What a user's content is.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A PNG image (resolved path).
    Image(PathBuf),
    Text(String),
}

impl Content {
    pub fn modality(&self) -> Modality {
        match self {
            Content::Image(_) => Modality::Image,
            Content::Text(_) => Modality::Text,
        }
    }
}

/// One user of a scenario, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub name: String,
    pub content: Content,
    pub task: Task,
    pub question: Option<String>,
    pub answer: Option<String>,
    pub channel: UserChannel,
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    pub similarity_threshold: f32,
    pub max_symbols_per_frame: usize,
    /// Share semantics across users (the default); without it every user gets its own
    /// private messages, identical contents included.
    pub sharing: bool,
    /// Interleave each frame's symbols over subcarriers and OFDM symbols (the
    /// default); without it they ride in order, as an ablation.
    pub interleave_symbols: bool,
    /// Partial sharing must also pay for the frame it adds (the default); without it
    /// only channel symbols count.
    pub sharing_counts_frames: bool,
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    similarity_threshold: Option<f32>,
    max_symbols_per_frame: Option<usize>,
    sharing: Option<bool>,
    interleave_symbols: Option<bool>,
    sharing_counts_frames: Option<bool>,
    #[serde(default)]
    user: Vec<UserFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    name: String,
    image: Option<PathBuf>,
    text: Option<String>,
    task: String,
    question: Option<String>,
    answer: Option<String>,
    channel: UserChannel,
}

/// Header task code of each built-in task (0 marks a public message).
pub fn task_code(task: &Task) -> Option<u8> {
    Task::BUILT_IN
        .iter()
        .position(|&t| t == task.name())
        .map(|i| i as u8 + 1)
}

impl Scenario {
    /// Reads and checks a scenario file; relative image paths are taken from the file's
    /// folder.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, path, base)
    }

    /// Parses scenario `text` (named `path` in messages), resolving relative image paths
    /// against `base`.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| ScenarioError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if file.user.is_empty() || file.user.len() > MAX_MEMBERS {
            return Err(invalid(format!(
                "expected 1 to {MAX_MEMBERS} [[user]] entries, got {}",
                file.user.len()
            )));
        }
        let similarity_threshold = file
            .similarity_threshold
            .unwrap_or(DEFAULT_SIMILARITY_THRESHOLD);
        if !similarity_threshold.is_finite() || similarity_threshold <= 0.0 {
            return Err(invalid(format!(
                "similarity_threshold must be a positive number, got {similarity_threshold}"
            )));
        }
        let max_symbols_per_frame = file
            .max_symbols_per_frame
            .unwrap_or(DEFAULT_MAX_SYMBOLS_PER_FRAME);
        let frame_max = super::framer::max_frame_symbols();
        if !(16..=frame_max).contains(&max_symbols_per_frame) {
            return Err(invalid(format!(
                "max_symbols_per_frame must be 16..={frame_max}, got {max_symbols_per_frame}"
            )));
        }
        let mut users: Vec<User> = Vec::with_capacity(file.user.len());
        for u in file.user {
            let name = u.name.clone();
            let bad = |message: String| ScenarioError::User {
                path: path.to_path_buf(),
                user: name.clone(),
                message,
            };
            let name_ok = !u.name.is_empty()
                && u.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !name_ok {
                return Err(bad("name must be letters, digits, '_' or '-'".into()));
            }
            if users.iter().any(|v| v.name == u.name) {
                return Err(bad("the name is used twice".into()));
            }
            let content = match (u.image, u.text) {
                (Some(image), None) => {
                    let p = if image.is_absolute() {
                        image
                    } else {
                        base.join(image)
                    };
                    if !p.is_file() {
                        return Err(bad(format!("image {} does not exist", p.display())));
                    }
                    Content::Image(p)
                }
                (None, Some(text)) if !text.trim().is_empty() && !text.contains('\n') => {
                    Content::Text(text)
                }
                (None, Some(_)) => return Err(bad("text must be one non-empty line".into())),
                _ => return Err(bad("give exactly one of `image` and `text`".into())),
            };
            let task = Task::new(&u.task).map_err(|e| bad(e.to_string()))?;
            if task_code(&task).is_none() {
                return Err(bad(format!(
                    "task {task} is not one of {}",
                    Task::BUILT_IN.join(", ")
                )));
            }
            let wants_text = task.name() == Task::TEXT;
            if wants_text != (content.modality() == Modality::Text) {
                return Err(bad(format!(
                    "task {task} needs {} content",
                    if wants_text { "text" } else { "image" }
                )));
            }
            match (&u.question, task.name() == Task::VQA) {
                (None, true) => return Err(bad("task vqa needs a question".into())),
                (Some(_), false) => return Err(bad(format!("task {task} takes no question"))),
                (Some(q), true) if q.contains('\n') || q.trim().is_empty() => {
                    return Err(bad("the question must be one non-empty line".into()))
                }
                _ => {}
            }
            if u.answer.is_some() && task.name() == Task::RECONSTRUCT {
                return Err(bad(
                    "reconstruct is scored against the image; remove `answer`".into(),
                ));
            }
            if !u.channel.snr_db.is_finite() || !u.channel.cfo_hz.is_finite() {
                return Err(bad("channel snr_db and cfo_hz must be finite".into()));
            }
            if u.channel.timing_offset_samples.is_nan() || u.channel.timing_offset_samples < 0.0 {
                return Err(bad("channel timing_offset_samples must be >= 0".into()));
            }
            users.push(User {
                name: u.name,
                content,
                task,
                question: u.question,
                answer: u.answer,
                channel: u.channel,
            });
        }
        Ok(Scenario {
            path: path.to_path_buf(),
            similarity_threshold,
            max_symbols_per_frame,
            sharing: file.sharing.unwrap_or(true),
            interleave_symbols: file.interleave_symbols.unwrap_or(true),
            sharing_counts_frames: file.sharing_counts_frames.unwrap_or(true),
            users,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR"));
        Scenario::parse(text, Path::new("test.toml"), base)
    }

    const IMAGE: &str = "data/eval/images/easy-vqa-0ec625ef9022fcb9.png";

    #[test]
    fn a_valid_scenario_is_read_with_defaults() {
        let s = parse(&format!(
            r#"
            [[user]]
            name = "a"
            image = "{IMAGE}"
            task = "vqa"
            question = "is there a black shape?"
            answer = "no"
            channel = {{ snr_db = 20, multipath = true, seed = 3 }}
            [[user]]
            name = "b"
            text = "hello there"
            task = "text"
            channel = {{ snr_db = 5.5, cfo_hz = 1e3 }}
            "#
        ))
        .unwrap();
        assert_eq!(s.users.len(), 2);
        assert_eq!(s.similarity_threshold, DEFAULT_SIMILARITY_THRESHOLD);
        assert_eq!(s.max_symbols_per_frame, DEFAULT_MAX_SYMBOLS_PER_FRAME);
        assert!(matches!(&s.users[0].content, Content::Image(p) if p.is_file()));
        let c = s.users[0].channel.config();
        assert_eq!(
            (c.snr_db, c.multipath.is_some(), c.seed),
            (Some(20.0), true, 3)
        );
        assert_eq!(s.users[1].content, Content::Text("hello there".into()));
        assert_eq!(s.users[1].channel.config().cfo_hz, 1e3);
        assert_eq!(task_code(&s.users[0].task), Some(3));
    }

    #[test]
    fn errors_name_the_file_and_the_user() {
        let cases = [
            ("[[user]]\nname = \"a\"\n", "missing field"),
            ("", "expected 1 to 32"),
            (
                "[[user]]\nname=\"a\"\ntext=\"hi\"\ntask=\"caption\"\nchannel={snr_db=1}",
                "needs image content",
            ),
            (
                "[[user]]\nname=\"a\"\nimage=\"nope.png\"\ntask=\"caption\"\nchannel={snr_db=1}",
                "does not exist",
            ),
            (
                &format!(
                    "[[user]]\nname=\"a\"\nimage=\"{IMAGE}\"\ntask=\"vqa\"\nchannel={{snr_db=1}}"
                ),
                "needs a question",
            ),
            (
                "[[user]]\nname=\"a\"\ntext=\"hi\"\ntask=\"count\"\nchannel={snr_db=1}",
                "is not one of",
            ),
            (
                "[[user]]\nname=\"a\"\ntext=\"hi\"\ntask=\"text\"\nchannel={snr_db=1, fading=1}",
                "unknown field",
            ),
            (
                "[[user]]\nname=\"a\"\ntext=\"hi\"\ntask=\"text\"\nchannel={snr_db=1}\n\
                 [[user]]\nname=\"a\"\ntext=\"hi\"\ntask=\"text\"\nchannel={snr_db=1}",
                "used twice",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains("test.toml"), "the file must be named: {err}");
            assert!(err.contains(expected), "{expected:?} expected in: {err}");
        }
        let err = Scenario::load(Path::new("/nonexistent/s.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/s.toml"), "{err}");
    }
}
