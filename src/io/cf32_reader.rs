//! Reading a cf32 file block by block, so that a recording of any length is decoded
//! holding one block of samples in memory.

use super::cf32::{cf32_len_samples, decode_cf32, Cf32Error, CF32_BYTES_PER_SAMPLE};
use num_complex::Complex32;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Samples converted per read call inside [`Cf32BlockReader::read_block`].
const READ_PIECE_SAMPLES: usize = 1 << 13;

/// Sequential reader of a cf32 file (see [`super::cf32`]) in blocks of whole samples.
pub struct Cf32BlockReader {
    path: PathBuf,
    reader: BufReader<File>,
    len_samples: u64,
    read_samples: u64,
    bytes: Vec<u8>,
}

impl Cf32BlockReader {
    /// Opens the file at `path`, checking that it holds whole samples.
    pub fn open(path: &Path) -> Result<Self, Cf32Error> {
        let len_samples = cf32_len_samples(path)?;
        let file = File::open(path).map_err(|source| Cf32Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            len_samples,
            read_samples: 0,
            bytes: Vec::new(),
        })
    }

    /// Length of the file in samples, as found when it was opened.
    pub fn len_samples(&self) -> u64 {
        self.len_samples
    }

    /// Whether every sample has been read.
    pub fn at_end(&self) -> bool {
        self.read_samples >= self.len_samples
    }

    /// Replaces the contents of `out` by the next `min(max_samples, remaining)` samples;
    /// returns how many were read (0 at the end of the file). A file shortened since it
    /// was opened is a read error naming it.
    pub fn read_block(
        &mut self,
        max_samples: usize,
        out: &mut Vec<Complex32>,
    ) -> Result<usize, Cf32Error> {
        out.clear();
        let remaining = self.len_samples - self.read_samples;
        let n = (max_samples as u64).min(remaining) as usize;
        out.reserve(n);
        while out.len() < n {
            let piece = (n - out.len()).min(READ_PIECE_SAMPLES);
            self.bytes.resize(piece * CF32_BYTES_PER_SAMPLE, 0);
            self.reader
                .read_exact(&mut self.bytes)
                .map_err(|source| Cf32Error::Read {
                    path: self.path.clone(),
                    source,
                })?;
            decode_cf32(&self.bytes, out);
        }
        self.read_samples += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::cf32::write_cf32;

    #[test]
    fn blocks_concatenate_to_the_whole_file() {
        // Block and piece sizes that do not divide the length: a sample skipped or
        // repeated at a block or piece edge breaks the equality.
        let samples: Vec<Complex32> = (0..20_011)
            .map(|i| Complex32::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let path = std::env::temp_dir().join(format!("m4sc-blocks-{}.cf32", std::process::id()));
        write_cf32(&path, &samples).unwrap();
        let mut reader = Cf32BlockReader::open(&path).unwrap();
        assert_eq!(reader.len_samples(), 20_011);
        let (mut all, mut block) = (Vec::new(), Vec::new());
        let mut sizes = Vec::new();
        while !reader.at_end() {
            sizes.push(reader.read_block(9_000, &mut block).unwrap());
            all.extend_from_slice(&block);
        }
        assert_eq!(
            reader.read_block(9_000, &mut block).unwrap(),
            0,
            "read past the end"
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(sizes, [9_000, 9_000, 2_011]);
        assert_eq!(
            all, samples,
            "blocks must concatenate to the file's samples"
        );
    }
}
