//! Raw complex float files (`.cf32`, the GNU Radio convention): interleaved
//! little-endian IEEE 754 `f32` pairs, in-phase first, no header.
//!
//! A file whose length is not a whole number of 8-byte samples is rejected, never
//! silently truncated: a partial sample means the file was cut or is not cf32.

use num_complex::Complex32;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes per complex sample: two little-endian `f32`.
pub const CF32_BYTES_PER_SAMPLE: usize = 8;

/// Errors reading or writing a cf32 file; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum Cf32Error {
    #[error("cannot open IQ file {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create IQ file {path}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error reading IQ file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error writing IQ file {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "IQ file {path} is {len_bytes} bytes long, not a multiple of {CF32_BYTES_PER_SAMPLE} \
         bytes (one complex f32 sample): truncated or not a cf32 file"
    )]
    PartialSample { path: PathBuf, len_bytes: u64 },
}

/// Decodes whole samples from `bytes` (length a multiple of 8) and appends them to `out`.
///
/// # Panics
/// If `bytes.len()` is not a multiple of [`CF32_BYTES_PER_SAMPLE`].
pub fn decode_cf32(bytes: &[u8], out: &mut Vec<Complex32>) {
    assert!(
        bytes.len().is_multiple_of(CF32_BYTES_PER_SAMPLE),
        "decode_cf32: expected a multiple of {CF32_BYTES_PER_SAMPLE} bytes, got {}",
        bytes.len()
    );
    out.extend(bytes.chunks_exact(CF32_BYTES_PER_SAMPLE).map(|c| {
        let re = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let im = f32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        Complex32::new(re, im)
    }));
}

/// Encodes `samples` as interleaved little-endian `f32` and appends the bytes
/// (`8 * samples.len()`) to `out`.
pub fn encode_cf32(samples: &[Complex32], out: &mut Vec<u8>) {
    out.reserve(samples.len() * CF32_BYTES_PER_SAMPLE);
    for s in samples {
        out.extend_from_slice(&s.re.to_le_bytes());
        out.extend_from_slice(&s.im.to_le_bytes());
    }
}

/// Checks that the file at `path` exists and holds whole samples; returns its
/// length in samples.
pub fn cf32_len_samples(path: &Path) -> Result<u64, Cf32Error> {
    let meta = std::fs::metadata(path).map_err(|source| Cf32Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len_bytes = meta.len();
    if !len_bytes.is_multiple_of(CF32_BYTES_PER_SAMPLE as u64) {
        return Err(Cf32Error::PartialSample {
            path: path.to_path_buf(),
            len_bytes,
        });
    }
    Ok(len_bytes / CF32_BYTES_PER_SAMPLE as u64)
}

/// Reads a whole cf32 file.
pub fn read_cf32(path: impl AsRef<Path>) -> Result<Vec<Complex32>, Cf32Error> {
    let path = path.as_ref();
    cf32_len_samples(path)?;
    let file = File::open(path).map_err(|source| Cf32Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    BufReader::new(file)
        .read_to_end(&mut bytes)
        .map_err(|source| Cf32Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    // The file may have changed since the length check.
    if !bytes.len().is_multiple_of(CF32_BYTES_PER_SAMPLE) {
        return Err(Cf32Error::PartialSample {
            path: path.to_path_buf(),
            len_bytes: bytes.len() as u64,
        });
    }
    let mut samples = Vec::with_capacity(bytes.len() / CF32_BYTES_PER_SAMPLE);
    decode_cf32(&bytes, &mut samples);
    Ok(samples)
}

/// Writes `samples` to a new cf32 file at `path` (replacing any existing file).
pub fn write_cf32(path: impl AsRef<Path>, samples: &[Complex32]) -> Result<(), Cf32Error> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|source| Cf32Error::Create {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer = BufWriter::new(file);
    let mut bytes = Vec::new();
    encode_cf32(samples, &mut bytes);
    writer
        .write_all(&bytes)
        .and_then(|()| writer.flush())
        .map_err(|source| Cf32Error::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("m4sc-cf32-{}-{name}", std::process::id()))
    }

    #[test]
    fn round_trip_preserves_every_bit() {
        // Values chosen to exercise sign, subnormal, infinity and extremes: a byte-order
        // or re/im swap bug changes at least one of them.
        let samples = vec![
            Complex32::new(1.0, -2.5),
            Complex32::new(f32::MIN_POSITIVE / 4.0, -0.0),
            Complex32::new(f32::MAX, f32::MIN),
            Complex32::new(f32::INFINITY, 1e-30),
        ];
        let path = temp_path("round_trip.cf32");
        write_cf32(&path, &samples).unwrap();
        let back = read_cf32(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            back.len(),
            samples.len(),
            "sample count changed in round trip"
        );
        for (a, b) in samples.iter().zip(&back) {
            assert_eq!(a.re.to_bits(), b.re.to_bits(), "real part changed");
            assert_eq!(a.im.to_bits(), b.im.to_bits(), "imaginary part changed");
        }
    }

    #[test]
    fn layout_is_little_endian_in_phase_first() {
        // GNU Radio convention: I then Q, each little-endian f32. 1.0f32 = 0x3f800000.
        let mut bytes = Vec::new();
        encode_cf32(&[Complex32::new(1.0, -2.0)], &mut bytes);
        assert_eq!(
            bytes,
            [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0],
            "wrong byte layout"
        );
    }

    #[test]
    fn missing_file_is_an_open_error_naming_the_file() {
        let path = temp_path("does-not-exist.cf32");
        let err = read_cf32(&path).unwrap_err();
        assert!(matches!(err, Cf32Error::Open { .. }), "got {err:?}");
        assert!(
            err.to_string().contains("does-not-exist.cf32"),
            "message must name the file: {err}"
        );
    }

    #[test]
    fn partial_sample_is_rejected_not_truncated() {
        let path = temp_path("partial.cf32");
        std::fs::write(&path, [0u8; 8 * 3 + 5]).unwrap();
        let err = read_cf32(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        match &err {
            Cf32Error::PartialSample { len_bytes, .. } => assert_eq!(*len_bytes, 29),
            other => panic!("expected PartialSample, got {other:?}"),
        }
        assert!(err.to_string().contains("partial.cf32"), "{err}");
    }

    #[test]
    fn empty_file_is_zero_samples() {
        let path = temp_path("empty.cf32");
        std::fs::write(&path, []).unwrap();
        let back = read_cf32(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(back.is_empty());
    }
}
