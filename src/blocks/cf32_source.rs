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
        if filled % CF32_BYTES_PER_SAMPLE != 0 {
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
