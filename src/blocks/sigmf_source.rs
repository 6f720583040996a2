//! Stream source reading a SigMF recording at the PHY's rate (see
//! [`crate::io::sigmf_resampled`]).

use crate::io::{ResampledReader, SigmfError};
use futuresdr::runtime::dev::prelude::*;

/// Recording samples read per `work()` call (before resampling).
const CHUNK_SAMPLES: usize = 1 << 14;

/// Streams a SigMF recording, resampled to the reader's target rate, once, then
/// finishes.
///
/// The recording is opened (and its metadata, length and SHA-512 checked) before the
/// block is made, so a bad file is reported naming it before any flowgraph starts. A
/// NaN or infinite sample met while streaming fails the flowgraph with a
/// [`SigmfError`] naming the data file and the sample. Reads are blocking, so the block
/// runs on its own thread.
///
/// # Stream Inputs
///
/// No stream inputs.
///
/// # Stream Outputs
///
/// `output`: the recording's samples at the target rate, in order.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::SigmfSource;
/// use m4sc::io::ResampledReader;
///
/// let reader = ResampledReader::open("capture.sigmf-meta".as_ref(), 20e6).unwrap();
/// let mut fg = Flowgraph::new();
/// let src = fg.add(SigmfSource::new(reader));
/// ```
#[derive(Block)]
#[blocking]
pub struct SigmfSource<O = DefaultCpuWriter<Complex32>>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    reader: ResampledReader,
    pending: Vec<Complex32>,
    pending_from: usize,
    produced: u64,
    #[output]
    output: O,
}

impl SigmfSource<DefaultCpuWriter<Complex32>> {
    /// A source streaming the opened recording `reader`.
    pub fn new(reader: ResampledReader) -> Self {
        Self::with_buffers(reader)
    }
}

impl<O> SigmfSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    /// A source with a custom output buffer type.
    pub fn with_buffers(reader: ResampledReader) -> Self {
        Self {
            reader,
            pending: Vec::new(),
            pending_from: 0,
            produced: 0,
            output: O::default(),
        }
    }

    /// Samples produced so far, at the target rate.
    pub fn samples_produced(&self) -> u64 {
        self.produced
    }
}

#[doc(hidden)]
impl<O> Kernel for SigmfSource<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        if self.pending_from >= self.pending.len() {
            if self.reader.at_end() {
                io.finished = true;
                return Ok(());
            }
            self.reader
                .read_block(CHUNK_SAMPLES, &mut self.pending)
                .map_err(|e: SigmfError| anyhow::Error::from(e))?;
            self.pending_from = 0;
        }
        let out = self.output.slice();
        let n = out.len().min(self.pending.len() - self.pending_from);
        out[..n].copy_from_slice(&self.pending[self.pending_from..self.pending_from + n]);
        self.output.produce(n);
        self.pending_from += n;
        self.produced += n as u64;
        if self.pending_from >= self.pending.len() && self.reader.at_end() {
            io.finished = true;
        } else if n > 0 || self.pending_from >= self.pending.len() {
            io.call_again = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{write_sigmf, RecordingInfo, SampleFormat};
    use futuresdr::runtime::mocker::{Mocker, Writer};

    #[test]
    fn streams_the_recording_exactly() {
        // More samples than one chunk, in ci16 at full scale 1: the source must give
        // what the reader decodes, every sample once.
        let samples: Vec<Complex32> = (0..CHUNK_SAMPLES * 2 + 37)
            .map(|i| Complex32::new((i % 1000) as f32 / 1000.0, -((i % 77) as f32) / 100.0))
            .collect();
        let dir = std::env::temp_dir().join(format!("m4sc-sigmf-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rec.sigmf-meta");
        let info = RecordingInfo {
            sample_rate_hz: 20e6,
            center_freq_hz: None,
            datetime: "2026-01-01T00:00:00Z".into(),
            hardware: "none".into(),
            author: "test".into(),
            description: "test".into(),
            seed: None,
        };
        write_sigmf(&path, &samples, SampleFormat::Ci16Le, 1.0, &info, vec![]).unwrap();
        let expected = crate::io::read_sigmf(&path).unwrap().1;
        let reader = ResampledReader::open(&path, 20e6).unwrap();
        let mut mocker = Mocker::new(SigmfSource::<Writer<Complex32>>::with_buffers(reader));
        mocker.output().reserve(samples.len() + 10);
        mocker.run();
        std::fs::remove_dir_all(&dir).unwrap();
        let (out, _) = mocker.output().get();
        assert_eq!(out, expected);
        assert_eq!(mocker.samples_produced(), samples.len() as u64);
    }
}
