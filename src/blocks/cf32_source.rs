//! Stream source reading a `.cf32` IQ file (see [`crate::io::cf32`]).

use crate::io::cf32::{cf32_len_samples, decode_cf32, Cf32Error, CF32_BYTES_PER_SAMPLE};
use futuresdr::runtime::dev::prelude::*;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

/// Most samples read per `work()` call.
const CHUNK_SAMPLES: usize = 8192;

/// Reads interleaved little-endian `f32` IQ samples from a file, once, then finishes.
///
/// Unlike a raw byte copy, the file is checked when the block starts: a missing file or
/// a length that is not a whole number of 8-byte samples fails the flowgraph with a
/// [`Cf32Error`] naming the file, so a cut recording is never silently truncated.
/// The file is read with blocking calls, so the block runs on its own thread.
///
/// # Stream Inputs
///
/// No stream inputs.
///
/// # Stream Outputs
///
/// `output`: the file's samples, in order.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::Cf32Source;
///
/// let mut fg = Flowgraph::new();
/// let src = fg.add(Cf32Source::new("capture.cf32"));
/// ```
#[derive(Block)]
#[blocking]
pub struct Cf32Source<O = DefaultCpuWriter<Complex32>>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    path: PathBuf,
    file: Option<File>,
    bytes: Vec<u8>,
    samples: Vec<Complex32>,
    #[output]
    output: O,
}

impl Cf32Source<DefaultCpuWriter<Complex32>> {
    /// Creates a source for the file at `path` (opened when the flowgraph starts).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_buffers(path)
    }
}

impl<O> Cf32Source<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    /// Creates a source with a custom output buffer type.
    pub fn with_buffers(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: None,
            bytes: Vec::new(),
            samples: Vec::new(),
            output: O::default(),
        }
    }

    fn read_error(&self, source: std::io::Error) -> Cf32Error {
        Cf32Error::Read {
            path: self.path.clone(),
            source,
        }
    }
}

#[doc(hidden)]
impl<O> Kernel for Cf32Source<O>
where
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn init(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        let n_samples = cf32_len_samples(&self.path)?;
        debug!("{}: {n_samples} samples", self.path.display());
        let file = File::open(&self.path).map_err(|source| Cf32Error::Open {
            path: self.path.clone(),
            source,
        })?;
        self.file = Some(file);
        Ok(())
    }

    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let Some(file) = self.file.as_mut() else {
            anyhow::bail!("Cf32Source {}: work() before init()", self.path.display());
        };
        let out = self.output.slice();
        let want_bytes = out.len().min(CHUNK_SAMPLES) * CF32_BYTES_PER_SAMPLE;
        if want_bytes == 0 {
            return Ok(());
        }
        self.bytes.resize(want_bytes, 0);
        let mut filled = 0;
        let mut at_end = false;
        while filled < want_bytes {
            match file.read(&mut self.bytes[filled..]) {
                Ok(0) => {
                    at_end = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e).into()),
            }
        }
        if !filled.is_multiple_of(CF32_BYTES_PER_SAMPLE) {
            // Only possible at the end of a file that changed after init() checked it.
            let len_bytes = file.metadata().map(|m| m.len()).unwrap_or(filled as u64);
            return Err(Cf32Error::PartialSample {
                path: self.path.clone(),
                len_bytes,
            }
            .into());
        }
        self.samples.clear();
        decode_cf32(&self.bytes[..filled], &mut self.samples);
        let out = self.output.slice();
        out[..self.samples.len()].copy_from_slice(&self.samples);
        self.output.produce(self.samples.len());
        if at_end {
            io.finished = true;
        } else {
            io.call_again = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::cf32::write_cf32;
    use futuresdr::runtime::mocker::{Mocker, Writer};

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("m4sc-src-{}-{name}", std::process::id()))
    }

    #[test]
    fn streams_the_whole_file_in_order() {
        // More samples than one work() call reads, so chunk boundaries are crossed.
        let samples: Vec<Complex32> = (0..CHUNK_SAMPLES * 2 + 37)
            .map(|i| Complex32::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let path = temp_path("stream.cf32");
        write_cf32(&path, &samples).unwrap();
        let mut mocker = Mocker::new(Cf32Source::<Writer<Complex32>>::with_buffers(&path));
        mocker.init();
        mocker.output().reserve(samples.len() + 10);
        mocker.run();
        std::fs::remove_file(&path).unwrap();
        let (out, _) = mocker.output().get();
        assert_eq!(
            out, samples,
            "source must reproduce the file's samples exactly"
        );
    }

    #[test]
    fn partial_sample_file_fails_at_init_naming_the_file() {
        let path = temp_path("cut.cf32");
        std::fs::write(&path, [0u8; 13]).unwrap();
        let mut mocker = Mocker::new(Cf32Source::<Writer<Complex32>>::with_buffers(&path));
        let (kernel, mo, meta) = mocker.parts_mut();
        let result = futuresdr::runtime::Runtime::block_on(kernel.init(mo, meta));
        std::fs::remove_file(&path).unwrap();
        let err = result.expect_err("a 13-byte file must be rejected, not truncated");
        let cf32 = err.downcast_ref::<Cf32Error>().expect("typed cf32 error");
        assert!(
            matches!(cf32, Cf32Error::PartialSample { len_bytes: 13, .. }),
            "{cf32:?}"
        );
        assert!(err.to_string().contains("cut.cf32"), "{err}");
    }

    #[test]
    fn missing_file_fails_at_init() {
        let path = temp_path("absent.cf32");
        let mut mocker = Mocker::new(Cf32Source::<Writer<Complex32>>::with_buffers(&path));
        let (kernel, mo, meta) = mocker.parts_mut();
        let err = futuresdr::runtime::Runtime::block_on(kernel.init(mo, meta)).unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<Cf32Error>(),
                Some(Cf32Error::Open { .. })
            ),
            "{err:?}"
        );
    }
}
