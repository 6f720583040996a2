//! Stream sink writing a `.cf32` IQ file (see [`crate::io::cf32`]).

use crate::io::cf32::{encode_cf32, Cf32Error};
use futuresdr::runtime::dev::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Writes its input to a file as interleaved little-endian `f32` IQ samples.
///
/// The file is created (or truncated) when the flowgraph starts; any I/O error fails
/// the flowgraph with a [`Cf32Error`] naming the file. The block counts the samples
/// written ([`Cf32Sink::samples_written`]). Writes are blocking, so the block runs on
/// its own thread.
///
/// # Stream Inputs
///
/// `input`: samples to write.
///
/// # Stream Outputs
///
/// No stream outputs.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::Cf32Sink;
///
/// let mut fg = Flowgraph::new();
/// let snk = fg.add(Cf32Sink::new("out.cf32"));
/// ```
#[derive(Block)]
#[blocking]
pub struct Cf32Sink<I = DefaultCpuReader<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
{
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    bytes: Vec<u8>,
    samples_written: u64,
    #[input]
    input: I,
}

impl Cf32Sink<DefaultCpuReader<Complex32>> {
    /// Creates a sink writing to `path` (created when the flowgraph starts).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_buffers(path)
    }
}

impl<I> Cf32Sink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    /// Creates a sink with a custom input buffer type.
    pub fn with_buffers(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writer: None,
            bytes: Vec::new(),
            samples_written: 0,
            input: super::large_input(),
        }
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    fn write_error(&self, source: std::io::Error) -> Cf32Error {
        Cf32Error::Write {
            path: self.path.clone(),
            source,
        }
    }
}

#[doc(hidden)]
impl<I> Kernel for Cf32Sink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    async fn init(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        let file = File::create(&self.path).map_err(|source| Cf32Error::Create {
            path: self.path.clone(),
            source,
        })?;
        self.writer = Some(BufWriter::new(file));
        Ok(())
    }

    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let input = self.input.slice();
        let n = input.len();
        self.bytes.clear();
        encode_cf32(input, &mut self.bytes);
        let Some(writer) = self.writer.as_mut() else {
            anyhow::bail!("Cf32Sink {}: work() before init()", self.path.display());
        };
        if let Err(e) = writer.write_all(&self.bytes) {
            return Err(self.write_error(e).into());
        }
        self.input.consume(n);
        self.samples_written += n as u64;
        if self.input.finished() {
            io.finished = true;
        }
        Ok(())
    }

    async fn deinit(&mut self, _mo: &mut MessageOutputs, _meta: &mut BlockMeta) -> Result<()> {
        if let Some(mut writer) = self.writer.take() {
            if let Err(e) = writer.flush() {
                return Err(self.write_error(e).into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::Cf32Source;
    use crate::io::cf32::{read_cf32, write_cf32};
    use futuresdr::prelude::{connect, Flowgraph, Runtime};
    use futuresdr::runtime::mocker::{Mocker, Reader};

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("m4sc-snk-{}-{name}", std::process::id()))
    }

    #[test]
    fn writes_what_read_cf32_reads_back() {
        let samples: Vec<Complex32> = (0..1000)
            .map(|i| Complex32::new((i as f32).sin(), (i as f32 * 0.3).cos()))
            .collect();
        let path = temp_path("mock.cf32");
        let mut mocker = Mocker::new(Cf32Sink::<Reader<Complex32>>::with_buffers(&path));
        mocker.init();
        mocker.input().set(samples[..600].to_vec());
        mocker.run();
        mocker.input().set(samples[600..].to_vec());
        mocker.run();
        mocker.deinit();
        assert_eq!(mocker.samples_written(), 1000);
        let back = read_cf32(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, samples, "file must hold the input samples, in order");
    }

    #[test]
    fn file_to_file_flowgraph_copies_exactly() -> anyhow::Result<()> {
        let samples: Vec<Complex32> = (0..50_000)
            .map(|i| Complex32::new(i as f32, 1.0 / (i as f32 + 1.0)))
            .collect();
        let (src_path, dst_path) = (temp_path("fg-in.cf32"), temp_path("fg-out.cf32"));
        write_cf32(&src_path, &samples).unwrap();
        let mut fg = Flowgraph::new();
        let src = Cf32Source::new(&src_path);
        let snk = Cf32Sink::new(&dst_path);
        connect!(fg, src > snk);
        futuresdr::runtime::config::set("ctrlport_enable", "false");
        let fg = Runtime::new().run(fg).unwrap();
        assert_eq!(fg.block(&snk).unwrap().samples_written(), 50_000);
        let back = read_cf32(&dst_path).unwrap();
        std::fs::remove_file(&src_path).unwrap();
        std::fs::remove_file(&dst_path).unwrap();
        assert_eq!(
            back, samples,
            "a file copied through the runtime must be identical"
        );
        Ok(())
    }
}
