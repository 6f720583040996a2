//! Reading a SigMF recording: the metadata is parsed and checked, and the data file's
//! length and SHA-512 verified, before the first sample is handed out; samples are then
//! read block by block at the recording's own rate (see [`super::sigmf_resampled`] for
//! the PHY's 20 MHz).
//!
//! Refused, with an error naming the file: metadata that is not JSON or lacks
//! `core:datatype`, `core:sample_rate` or `core:version`; a SigMF major version other
//! than 1; an unknown datatype; more than one channel; a sample rate, full scale or
//! capture time out of range; annotations beyond the data; a data file whose SHA-512
//! differs from `core:sha512` or whose length is not a whole number of samples; and
//! NaN or infinite samples (found while reading).

use super::sample_format::SampleFormat;
use super::sigmf_error::SigmfError;
use super::sigmf_meta::SigmfMeta;
use super::sigmf_paths::{sha512_of_file, SigmfPaths};
use super::utc_datetime::is_iso8601_utc;
use num_complex::Complex32;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Samples decoded per read call inside [`SigmfReader::read_block`].
const READ_PIECE_SAMPLES: usize = 1 << 14;

/// Sequential reader of a checked SigMF recording.
pub struct SigmfReader {
    paths: SigmfPaths,
    meta: SigmfMeta,
    format: SampleFormat,
    full_scale: f32,
    len_samples: u64,
    read_samples: u64,
    reader: BufReader<File>,
    bytes: Vec<u8>,
}

fn invalid(
    path: &Path,
    field: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> SigmfError {
    SigmfError::Invalid {
        path: path.to_path_buf(),
        field,
        value: value.to_string(),
        expected,
    }
}

/// Parses and checks the metadata file at `path`; returns it with its sample format.
pub fn read_meta(path: &Path) -> Result<(SigmfMeta, SampleFormat), SigmfError> {
    let text = std::fs::read_to_string(path).map_err(|source| SigmfError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let meta: SigmfMeta = serde_json::from_str(&text).map_err(|e| SigmfError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let g = &meta.global;
    let format =
        SampleFormat::from_datatype(&g.datatype).ok_or_else(|| SigmfError::UnknownDatatype {
            path: path.to_path_buf(),
            datatype: g.datatype.clone(),
        })?;
    if !g.version.starts_with("1.") {
        return Err(invalid(
            path,
            "core:version",
            &g.version,
            "a SigMF 1.x version",
        ));
    }
    if !(g.sample_rate_hz.is_finite() && g.sample_rate_hz > 0.0) {
        return Err(invalid(
            path,
            "core:sample_rate",
            g.sample_rate_hz,
            "a rate above 0 Hz",
        ));
    }
    if g.num_channels.is_some_and(|n| n != 1) {
        return Err(invalid(
            path,
            "core:num_channels",
            g.num_channels.unwrap_or(0),
            "1 (multi-channel recordings are not supported)",
        ));
    }
    if let Some(fs) = g.full_scale {
        if !(fs.is_finite() && fs > 0.0) {
            return Err(invalid(
                path,
                "m4sc:full_scale",
                fs,
                "a finite amplitude above 0",
            ));
        }
    }
    if let Some(sha) = &g.sha512 {
        if sha.len() != 128 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(path, "core:sha512", sha, "128 hexadecimal digits"));
        }
    }
    for c in &meta.captures {
        if let Some(dt) = &c.datetime {
            if !is_iso8601_utc(dt) {
                return Err(invalid(
                    path,
                    "core:datetime",
                    dt,
                    "ISO-8601 UTC, e.g. 2026-01-01T00:00:00.000Z",
                ));
            }
        }
        if let Some(f) = c.center_freq_hz {
            if !f.is_finite() {
                return Err(invalid(
                    path,
                    "core:frequency",
                    f,
                    "a finite frequency in Hz",
                ));
            }
        }
    }
    Ok((meta, format))
}

impl SigmfReader {
    /// Opens the recording named by `path` (see [`SigmfPaths::of`]) and runs every
    /// check of the module documentation except the per-sample one.
    pub fn open(path: &Path) -> Result<Self, SigmfError> {
        let paths = SigmfPaths::of(path)?;
        let (meta, format) = read_meta(&paths.meta)?;
        let len_bytes = std::fs::metadata(&paths.data)
            .map_err(|source| SigmfError::Open {
                path: paths.data.clone(),
                source,
            })?
            .len();
        let bps = format.bytes_per_sample();
        if !len_bytes.is_multiple_of(bps as u64) {
            return Err(SigmfError::PartialSample {
                path: paths.data.clone(),
                len_bytes,
                bytes_per_sample: bps,
                datatype: format.datatype(),
            });
        }
        let len_samples = len_bytes / bps as u64;
        if let Some(recorded) = &meta.global.sha512 {
            let computed = sha512_of_file(&paths.data)?;
            if !computed.eq_ignore_ascii_case(recorded) {
                return Err(SigmfError::Sha512Mismatch {
                    path: paths.data.clone(),
                    computed,
                    recorded: recorded.clone(),
                });
            }
        }
        for a in &meta.annotations {
            let end = a.sample_start.saturating_add(a.sample_count.unwrap_or(0));
            if end > len_samples {
                return Err(invalid(
                    &paths.meta,
                    "annotation end (core:sample_start + core:sample_count)",
                    end,
                    "at most the data file's length in samples",
                ));
            }
        }
        let file = File::open(&paths.data).map_err(|source| SigmfError::Open {
            path: paths.data.clone(),
            source,
        })?;
        Ok(Self {
            full_scale: meta.global.full_scale.unwrap_or(1.0),
            paths,
            meta,
            format,
            len_samples,
            read_samples: 0,
            reader: BufReader::new(file),
            bytes: Vec::new(),
        })
    }

    pub fn meta(&self) -> &SigmfMeta {
        &self.meta
    }

    pub fn format(&self) -> SampleFormat {
        self.format
    }

    pub fn paths(&self) -> &SigmfPaths {
        &self.paths
    }

    /// The data file's path, for messages.
    pub fn data_path(&self) -> &PathBuf {
        &self.paths.data
    }

    /// `core:sample_rate`, Hz.
    pub fn sample_rate_hz(&self) -> f64 {
        self.meta.global.sample_rate_hz
    }

    /// Length of the data file in samples.
    pub fn len_samples(&self) -> u64 {
        self.len_samples
    }

    /// Whether every sample has been read.
    pub fn at_end(&self) -> bool {
        self.read_samples >= self.len_samples
    }

    /// Replaces the contents of `out` by the next `min(max_samples, remaining)` samples
    /// at the recording's rate; returns how many (0 at the end). A NaN or infinite
    /// sample is an error naming the data file and the sample's index.
    pub fn read_block(
        &mut self,
        max_samples: usize,
        out: &mut Vec<Complex32>,
    ) -> Result<usize, SigmfError> {
        out.clear();
        let n = (max_samples as u64).min(self.len_samples - self.read_samples) as usize;
        out.reserve(n);
        while out.len() < n {
            let piece = (n - out.len()).min(READ_PIECE_SAMPLES);
            self.bytes.resize(piece * self.format.bytes_per_sample(), 0);
            self.reader
                .read_exact(&mut self.bytes)
                .map_err(|source| SigmfError::Read {
                    path: self.paths.data.clone(),
                    source,
                })?;
            let start = out.len();
            self.format.decode(&self.bytes, self.full_scale, out);
            if let Some(i) = out[start..]
                .iter()
                .position(|s| !(s.re.is_finite() && s.im.is_finite()))
            {
                return Err(SigmfError::NonFinite {
                    path: self.paths.data.clone(),
                    index: self.read_samples + (start + i) as u64,
                    value: out[start + i].to_string(),
                });
            }
        }
        self.read_samples += n as u64;
        Ok(n)
    }
}

/// Reads a whole recording at its own rate: its metadata and every sample.
pub fn read_sigmf(path: &Path) -> Result<(SigmfMeta, Vec<Complex32>), SigmfError> {
    let mut reader = SigmfReader::open(path)?;
    let mut samples = Vec::new();
    reader.read_block(reader.len_samples() as usize, &mut samples)?;
    Ok((reader.meta, samples))
}
