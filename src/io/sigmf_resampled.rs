//! A SigMF recording read at the PHY's sample rate: samples recorded at another rate
//! go through a [`RationalResampler`] on the way out.

use super::sigmf_error::SigmfError;
use super::sigmf_reader::SigmfReader;
use crate::resample::{resample_ratio, RationalResampler};
use num_complex::Complex32;
use std::path::Path;

/// Sample rate of the 802.11a PHY (20 MHz channel spacing), Hz.
pub const PHY_SAMPLE_RATE_HZ: f64 = 20e6;

/// Block-wise reader of a recording at a target rate (see the module documentation).
pub struct ResampledReader {
    reader: SigmfReader,
    resampler: Option<RationalResampler>,
    target_rate_hz: f64,
    block: Vec<Complex32>,
    finished: bool,
}

impl ResampledReader {
    /// Opens the recording named by `path` for reading at `target_rate_hz`; a rate
    /// ratio that is not a ratio of small whole numbers is an error naming the file.
    pub fn open(path: &Path, target_rate_hz: f64) -> Result<Self, SigmfError> {
        let reader = SigmfReader::open(path)?;
        let (l, m) = resample_ratio(reader.sample_rate_hz(), target_rate_hz).map_err(|e| {
            SigmfError::Resample {
                path: reader.paths().meta.clone(),
                message: e.to_string(),
            }
        })?;
        let resampler = (l != m).then(|| RationalResampler::new(l, m));
        if let Some(r) = &resampler {
            log::debug!(
                "{}: resampling {} Hz to {target_rate_hz} Hz by {}/{}",
                reader.paths().meta.display(),
                reader.sample_rate_hz(),
                r.l(),
                r.m()
            );
        }
        Ok(Self {
            reader,
            resampler,
            target_rate_hz,
            block: Vec::new(),
            finished: false,
        })
    }

    /// The underlying recording.
    pub fn recording(&self) -> &SigmfReader {
        &self.reader
    }

    pub fn target_rate_hz(&self) -> f64 {
        self.target_rate_hz
    }

    /// Index at the target rate of the recording's sample `index` (exact for the
    /// resampler, which has no delay).
    pub fn to_target_index(&self, index: u64) -> u64 {
        match &self.resampler {
            Some(r) => index * u64::from(r.l()) / u64::from(r.m()),
            None => index,
        }
    }

    /// Samples the whole recording gives at the target rate.
    pub fn len_samples(&self) -> u64 {
        let n = self.reader.len_samples();
        self.resampler.as_ref().map_or(n, |r| r.output_len(n))
    }

    /// Whether everything has been handed out.
    pub fn at_end(&self) -> bool {
        self.finished
    }

    /// Reads up to `max_in` samples of the recording and replaces the contents of
    /// `out` by what they give at the target rate (possibly nothing while the
    /// resampler fills; the tail comes with the last call). Returns the count in `out`.
    pub fn read_block(
        &mut self,
        max_in: usize,
        out: &mut Vec<Complex32>,
    ) -> Result<usize, SigmfError> {
        out.clear();
        if self.finished {
            return Ok(0);
        }
        match &mut self.resampler {
            None => {
                self.reader.read_block(max_in, out)?;
            }
            Some(r) => {
                self.reader.read_block(max_in, &mut self.block)?;
                r.process(&self.block, out);
                if self.reader.at_end() {
                    r.finish(out);
                }
            }
        }
        self.finished = self.reader.at_end();
        Ok(out.len())
    }
}

/// Reads a whole recording at `target_rate_hz`.
pub fn read_sigmf_at(path: &Path, target_rate_hz: f64) -> Result<Vec<Complex32>, SigmfError> {
    let mut reader = ResampledReader::open(path, target_rate_hz)?;
    let (mut all, mut block) = (Vec::new(), Vec::new());
    while !reader.at_end() {
        reader.read_block(1 << 18, &mut block)?;
        all.extend_from_slice(&block);
    }
    Ok(all)
}
