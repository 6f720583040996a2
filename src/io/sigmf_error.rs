//! Errors reading or writing a SigMF recording; each names the file.

use std::path::PathBuf;

/// Why a SigMF recording could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SigmfError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error reading {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error writing {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a SigMF path: expected NAME.sigmf-meta, NAME.sigmf-data or NAME")]
    NotSigmfPath { path: PathBuf },
    #[error("{path}: malformed SigMF metadata: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: {field} = {value}: {expected}")]
    Invalid {
        path: PathBuf,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "{path}: core:datatype '{datatype}' is not supported: expected cf32_le, ci16_le or ci8"
    )]
    UnknownDatatype { path: PathBuf, datatype: String },
    #[error(
        "{path}: SHA-512 of the data file is {computed}, but the metadata records {recorded}: \
         the data file was changed or belongs to another recording"
    )]
    Sha512Mismatch {
        path: PathBuf,
        computed: String,
        recorded: String,
    },
    #[error(
        "{path} is {len_bytes} bytes long, not a multiple of {bytes_per_sample} bytes (one \
         {datatype} sample): truncated or not this datatype"
    )]
    PartialSample {
        path: PathBuf,
        len_bytes: u64,
        bytes_per_sample: usize,
        datatype: &'static str,
    },
    #[error("{path}: sample {index} is not finite ({value}): the recording is corrupt")]
    NonFinite {
        path: PathBuf,
        index: u64,
        value: String,
    },
    #[error("{path}: {message}")]
    Resample { path: PathBuf, message: String },
}
