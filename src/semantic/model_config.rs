//! Configuration of the whole semantic model and the files of a weight directory.
//!
//! A weight directory holds three files: [`CONFIG_FILE`] (this configuration as
//! JSON), [`WEIGHTS_FILE`] (safetensors, names = the `vb.pp(..)` paths of the
//! modules) and [`TOKENIZER_FILE`] (the byte-level BPE tokenizer). Loading checks
//! that all three exist and parse, and names the offending path when one does not.

use super::channel_codec::ChannelCodecConfig;
use super::channel_layer::ChannelLayerConfig;
use super::image_decoder::ImageDecoderConfig;
use super::language_model::LmConfig;
use super::projector::{ProjectorConfig, ProjectorKind};
use super::template::IMAGE_SLOT_TOKENS;
use super::vision_encoder::VisionEncoderConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Model configuration file inside a weight directory.
pub const CONFIG_FILE: &str = "config.json";
/// Weights file inside a weight directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Tokenizer file inside a weight directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Why a weight directory or configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error(
        "{what} {path} does not exist (train a model with `m4sc train` or point --weights \
         at a trained weight directory)"
    )]
    Missing { what: &'static str, path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid {what}: {message}")]
    Malformed {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
}

/// Everything that defines the semantic model's architecture and loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticModelConfig {
    /// Width of the semantic tokens and of the language model (`d_model`).
    pub d_model: usize,
    /// Tokenizer vocabulary size (byte tokens + special tokens + merges).
    pub vocab_size: usize,
    pub vision_encoder: VisionEncoderConfig,
    /// Projector from visual features to semantic tokens (KAN or MLP).
    pub projector: ProjectorConfig,
    /// KAN channel encoder/decoder (symbols per token, KAN sizes).
    pub channel_codec: ChannelCodecConfig,
    /// Channel used in training: SNR range in dB, AWGN or Rayleigh.
    pub channel: ChannelLayerConfig,
    /// Probability that a training example goes through Rayleigh fading rather than
    /// AWGN.
    pub rayleigh_fraction: f64,
    /// Weight, in training, of the channel-token fidelity loss: the squared error of
    /// each received message's tokens against the sent ones, relative to the sent
    /// tokens' energy (the sent tokens are a fixed target for it). It trains the channel
    /// codec from the first step on every message, where the task losses reach it only
    /// once the receiver's tasks read their tokens. 0 turns it off; configurations
    /// written before it existed read as 0.
    #[serde(default = "no_token_fidelity_loss")]
    pub token_fidelity_weight: f64,
    pub language_model: LmConfig,
    pub image_decoder: ImageDecoderConfig,
    /// Longest sentence, in tokens, that the `text` task sends.
    pub max_text_tokens: usize,
    /// Longest generated answer, in tokens.
    pub max_answer_tokens: usize,
    /// Loss weight per task (cross-entropy for language tasks, MSE for
    /// `reconstruct`); tasks not listed weigh 1.
    pub loss_weights: BTreeMap<String, f64>,
}

impl Default for SemanticModelConfig {
    fn default() -> Self {
        let d_model = 128;
        let mut loss_weights = BTreeMap::new();
        // Pixel MSE of a fair reconstruction is about 0.01, two orders below the
        // cross-entropy of the language tasks.
        loss_weights.insert("reconstruct".to_string(), 20.0);
        Self {
            d_model,
            vocab_size: 1024,
            vision_encoder: VisionEncoderConfig::default(),
            projector: ProjectorConfig {
                kind: ProjectorKind::Kan,
                ..ProjectorConfig::default()
            },
            channel_codec: ChannelCodecConfig::default(),
            channel: ChannelLayerConfig::default(),
            rayleigh_fraction: 0.5,
            token_fidelity_weight: 0.0,
            language_model: LmConfig::default(),
            image_decoder: ImageDecoderConfig::default(),
            max_text_tokens: 40,
            max_answer_tokens: 48,
            loss_weights,
        }
    }
}

/// Configurations written before the token fidelity loss existed trained without it.
fn no_token_fidelity_loss() -> f64 {
    0.0
}

impl SemanticModelConfig {
    /// Loss weight of `task`.
    pub fn loss_weight(&self, task: &str) -> f64 {
        self.loss_weights.get(task).copied().unwrap_or(1.0)
    }

    /// Checks that the parts agree on their shared sizes (token width, vocabulary,
    /// visual feature width, number of visual tokens); the message names the fields.
    pub fn check_consistency(&self) -> Result<(), String> {
        let d = self.d_model;
        let widths = [
            ("projector.d_model", self.projector.d_model),
            ("channel_codec.d_model", self.channel_codec.d_model),
            ("language_model.d_model", self.language_model.d_model),
            ("image_decoder.d_model", self.image_decoder.d_model),
        ];
        for (name, w) in widths {
            if w != d {
                return Err(format!("{name} = {w} differs from d_model = {d}"));
            }
        }
        if self.projector.d_vision != self.vision_encoder.d_vision {
            return Err(format!(
                "projector.d_vision = {} differs from vision_encoder.d_vision = {}",
                self.projector.d_vision, self.vision_encoder.d_vision
            ));
        }
        if self.language_model.vocab_size != self.vocab_size {
            return Err(format!(
                "language_model.vocab_size = {} differs from vocab_size = {}",
                self.language_model.vocab_size, self.vocab_size
            ));
        }
        let n_visual = self.vision_encoder.n_tokens();
        if n_visual != IMAGE_SLOT_TOKENS || self.image_decoder.n_tokens != IMAGE_SLOT_TOKENS {
            return Err(format!(
                "the template has {IMAGE_SLOT_TOKENS} image slots but the vision encoder makes \
                 {n_visual} tokens and the image decoder takes {}",
                self.image_decoder.n_tokens
            ));
        }
        if !(self.token_fidelity_weight.is_finite() && self.token_fidelity_weight >= 0.0) {
            return Err(format!(
                "token_fidelity_weight = {} must be a finite number >= 0",
                self.token_fidelity_weight
            ));
        }
        if !(0.0..=1.0).contains(&self.rayleigh_fraction) {
            return Err(format!(
                "rayleigh_fraction = {} is outside [0, 1]",
                self.rayleigh_fraction
            ));
        }
        Ok(())
    }

    /// Reads a configuration from JSON (`.json`) or TOML (any other extension).
    pub fn load(path: &Path) -> Result<Self, WeightsError> {
        read_config(path, "semantic model configuration")
    }

    /// Writes the configuration as pretty JSON.
    pub fn save_json(&self, path: &Path) -> Result<(), WeightsError> {
        write_json(path, self)
    }
}

/// Paths of the three files of a weight directory, each checked to exist.
#[derive(Debug, Clone)]
pub struct WeightPaths {
    pub config: PathBuf,
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
}

impl WeightPaths {
    /// Paths inside `dir`, without checking them.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            config: dir.join(CONFIG_FILE),
            weights: dir.join(WEIGHTS_FILE),
            tokenizer: dir.join(TOKENIZER_FILE),
        }
    }

    /// Paths inside `dir`, failing with the first missing one.
    pub fn existing(dir: &Path) -> Result<Self, WeightsError> {
        if !dir.is_dir() {
            return Err(WeightsError::Missing {
                what: "weight directory",
                path: dir.to_path_buf(),
            });
        }
        let p = Self::in_dir(dir);
        for (what, path) in [
            ("model configuration", &p.config),
            ("weights file", &p.weights),
            ("tokenizer file", &p.tokenizer),
        ] {
            if !path.is_file() {
                return Err(WeightsError::Missing {
                    what,
                    path: path.clone(),
                });
            }
        }
        Ok(p)
    }
}

/// Reads a serde value from JSON (`.json`) or TOML (other extensions).
pub fn read_config<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, WeightsError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            WeightsError::Missing {
                what,
                path: path.to_path_buf(),
            }
        } else {
            WeightsError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let malformed = |message: String| WeightsError::Malformed {
        what,
        path: path.to_path_buf(),
        message,
    };
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))
    } else {
        toml::from_str(&text).map_err(|e| malformed(e.to_string()))
    }
}

/// Writes a serde value as pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WeightsError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WeightsError::Malformed {
        what: "JSON value",
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| WeightsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Names a set of weights: the first 16 hex digits of the SHA-256 of the weights file
/// of the weight directory `dir`. Recordings of semantic frames carry it, since only
/// the weights that encoded the channel symbols can decode them.
pub fn weights_fingerprint(dir: &Path) -> Result<String, WeightsError> {
    use sha2::{Digest, Sha256};
    let path = WeightPaths::in_dir(dir).weights;
    let bytes = std::fs::read(&path).map_err(|source| WeightsError::Io {
        path: path.clone(),
        source,
    })?;
    let digest = Sha256::digest(&bytes);
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_round_trips_through_json_and_toml() {
        let cfg = SemanticModelConfig::default();
        let dir = std::env::temp_dir().join(format!("m4sc-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("c.json");
        cfg.save_json(&json).unwrap();
        assert_eq!(
            SemanticModelConfig::load(&json).unwrap(),
            cfg,
            "JSON round trip"
        );
        let toml_path = dir.join("c.toml");
        std::fs::write(&toml_path, toml::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(
            SemanticModelConfig::load(&toml_path).unwrap(),
            cfg,
            "TOML round trip"
        );
        std::fs::write(&toml_path, "d_model = \"wide\"").unwrap();
        let err = SemanticModelConfig::load(&toml_path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.toml"), "error must name the file: {err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
