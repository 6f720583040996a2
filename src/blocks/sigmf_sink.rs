//! Stream sink writing the data file of a SigMF recording (see
//! [`crate::io::sigmf_writer`]).

use crate::io::SigmfWriter;
use futuresdr::runtime::dev::prelude::*;

/// Appends its input to a [`SigmfWriter`]'s data file. The metadata (with the
/// annotations only known once the run is over) is written by the caller after the
/// run: take the writer back with [`SigmfSink::take_writer`] and call
/// [`SigmfWriter::finish`]. A write error fails the flowgraph with a
/// [`SigmfError`](crate::io::SigmfError) naming the file; what was written before it
/// stays in the file. Writes are blocking, so the block runs on its own thread.
///
/// # Stream Inputs
///
/// `input`: samples to record.
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
/// use m4sc::blocks::SigmfSink;
/// use m4sc::io::{SampleFormat, SigmfWriter};
///
/// let writer = SigmfWriter::create("rec.sigmf-meta".as_ref(), SampleFormat::Ci16Le, 4.0)
///     .unwrap();
/// let mut fg = Flowgraph::new();
/// let snk = fg.add(SigmfSink::new(writer));
/// ```
#[derive(Block)]
#[blocking]
pub struct SigmfSink<I = DefaultCpuReader<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
{
    writer: Option<SigmfWriter>,
    #[input]
    input: I,
}

impl SigmfSink<DefaultCpuReader<Complex32>> {
    /// A sink appending to `writer`.
    pub fn new(writer: SigmfWriter) -> Self {
        Self::with_buffers(writer)
    }
}

impl<I> SigmfSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    /// A sink with a custom input buffer type.
    pub fn with_buffers(writer: SigmfWriter) -> Self {
        Self {
            writer: Some(writer),
            input: super::large_input(),
        }
    }

    /// Samples written so far (0 once the writer was taken).
    pub fn samples_written(&self) -> u64 {
        self.writer.as_ref().map_or(0, SigmfWriter::samples_written)
    }

    /// Takes the writer back, to finish the recording after the run.
    pub fn take_writer(&mut self) -> Option<SigmfWriter> {
        self.writer.take()
    }
}

#[doc(hidden)]
impl<I> Kernel for SigmfSink<I>
where
    I: CpuBufferReader<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        let input = self.input.slice();
        let n = input.len();
        let Some(writer) = self.writer.as_mut() else {
            anyhow::bail!("SigmfSink: work() after the writer was taken");
        };
        writer.write(input)?;
        self.input.consume(n);
        if self.input.finished() {
            io.finished = true;
        }
        Ok(())
    }
}
