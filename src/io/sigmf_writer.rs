//! Writing a SigMF recording sample block by sample block: the data file grows as
//! samples arrive, its SHA-512 is computed on the way, and the metadata is written when
//! the recording is finished.

use super::sample_format::SampleFormat;
use super::sigmf_error::SigmfError;
use super::sigmf_meta::{Annotation, Capture, Global, SigmfMeta};
use super::sigmf_paths::{hex, SigmfPaths};
use num_complex::Complex32;
use sha2::{Digest, Sha512};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// What a recording says about itself, besides its samples and annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingInfo {
    /// Sample rate of the data file, Hz.
    pub sample_rate_hz: f64,
    /// Centre frequency, Hz (`None` for baseband-only recordings such as simulations).
    pub center_freq_hz: Option<f64>,
    /// Time of the first sample, ISO-8601 UTC.
    pub datetime: String,
    pub hardware: String,
    pub author: String,
    pub description: String,
    /// Seed of a synthetic recording's frames and channel.
    pub seed: Option<u64>,
}

/// A recording being written; see the module documentation.
pub struct SigmfWriter {
    paths: SigmfPaths,
    format: SampleFormat,
    full_scale: f32,
    file: BufWriter<File>,
    hasher: Sha512,
    bytes: Vec<u8>,
    samples_written: u64,
    saturated: u64,
}

impl SigmfWriter {
    /// Creates the data file of the recording named by `path` (see
    /// [`SigmfPaths::of`]), replacing an existing one. Integer formats store samples
    /// divided by `full_scale` (see [`SampleFormat`]).
    pub fn create(path: &Path, format: SampleFormat, full_scale: f32) -> Result<Self, SigmfError> {
        let paths = SigmfPaths::of(path)?;
        if !(full_scale.is_finite() && full_scale > 0.0) {
            return Err(SigmfError::Invalid {
                path: paths.meta,
                field: "m4sc:full_scale",
                value: full_scale.to_string(),
                expected: "a finite amplitude above 0",
            });
        }
        let file = File::create(&paths.data).map_err(|source| SigmfError::Create {
            path: paths.data.clone(),
            source,
        })?;
        Ok(Self {
            paths,
            format,
            full_scale,
            file: BufWriter::new(file),
            hasher: Sha512::new(),
            bytes: Vec::new(),
            samples_written: 0,
            saturated: 0,
        })
    }

    /// The recording's two files.
    pub fn paths(&self) -> &SigmfPaths {
        &self.paths
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    /// Sample parts (I or Q) that saturated the integer format so far.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    /// Appends `samples` to the data file.
    pub fn write(&mut self, samples: &[Complex32]) -> Result<(), SigmfError> {
        self.bytes.clear();
        self.saturated += self
            .format
            .encode(samples, self.full_scale, &mut self.bytes);
        self.hasher.update(&self.bytes);
        self.file
            .write_all(&self.bytes)
            .map_err(|source| SigmfError::Write {
                path: self.paths.data.clone(),
                source,
            })?;
        self.samples_written += samples.len() as u64;
        Ok(())
    }

    /// Flushes the data file and writes the metadata: `info`, one capture segment from
    /// sample 0, and `annotations` (sorted by start). Returns the metadata written.
    pub fn finish(
        mut self,
        info: &RecordingInfo,
        mut annotations: Vec<Annotation>,
    ) -> Result<SigmfMeta, SigmfError> {
        self.file.flush().map_err(|source| SigmfError::Write {
            path: self.paths.data.clone(),
            source,
        })?;
        if self.saturated > 0 {
            log::warn!(
                "{}: {} sample parts saturated the {} range at full scale {}",
                self.paths.data.display(),
                self.saturated,
                self.format,
                self.full_scale
            );
        }
        annotations.sort_by_key(|a| a.sample_start);
        let mut global = Global::new(self.format.datatype(), info.sample_rate_hz);
        global.sha512 = Some(hex(&self.hasher.finalize_reset()));
        global.hardware = Some(info.hardware.clone());
        global.author = Some(info.author.clone());
        global.description = Some(info.description.clone());
        global.seed = info.seed;
        if self.format != SampleFormat::Cf32Le {
            global.full_scale = Some(self.full_scale);
        }
        let meta = SigmfMeta {
            global,
            captures: vec![Capture {
                sample_start: 0,
                center_freq_hz: info.center_freq_hz,
                datetime: Some(info.datetime.clone()),
            }],
            annotations,
        };
        let mut json = serde_json::to_string_pretty(&meta).map_err(|e| SigmfError::Json {
            path: self.paths.meta.clone(),
            message: e.to_string(),
        })?;
        json.push('\n');
        std::fs::write(&self.paths.meta, json).map_err(|source| SigmfError::Write {
            path: self.paths.meta.clone(),
            source,
        })?;
        Ok(meta)
    }
}

/// Writes `samples` as a whole recording (see [`SigmfWriter`]).
pub fn write_sigmf(
    path: &Path,
    samples: &[Complex32],
    format: SampleFormat,
    full_scale: f32,
    info: &RecordingInfo,
    annotations: Vec<Annotation>,
) -> Result<SigmfMeta, SigmfError> {
    let mut writer = SigmfWriter::create(path, format, full_scale)?;
    writer.write(samples)?;
    writer.finish(info, annotations)
}
