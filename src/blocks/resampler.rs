//! Sample-rate conversion as a stream block, around a [`RationalResampler`].

use crate::resample::RationalResampler;
use futuresdr::runtime::dev::prelude::*;

/// Converts its input's sample rate by `L / M` (see [`RationalResampler`]: windowed-sinc
/// polyphase filter, no delay: output `n` is the input at time `n M / L`). At the end
/// of the input the filter's tail is flushed, so `N` input samples give
/// `ceil(N L / M)` output samples. Stream tags are not forwarded.
///
/// # Stream Inputs
///
/// `input`: samples at the input rate.
///
/// # Stream Outputs
///
/// `output`: samples at `L / M` times the input rate.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::Resampler;
/// use m4sc::resample::RationalResampler;
///
/// let mut fg = Flowgraph::new();
/// // 20 MS/s to 25 MS/s.
/// let up = fg.add(Resampler::new(RationalResampler::new(5, 4)));
/// ```
#[derive(Block)]
pub struct Resampler<I = DefaultCpuReader<Complex32>, O = DefaultCpuWriter<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
    O: CpuBufferWriter<Item = Complex32>,
{
    resampler: RationalResampler,
    pending: Vec<Complex32>,
    pending_pos: usize,
    flushed: bool,
    #[input]
    input: I,
    #[output]
    output: O,
}

impl Resampler<DefaultCpuReader<Complex32>, DefaultCpuWriter<Complex32>> {
    /// Wraps `resampler`.
    pub fn new(resampler: RationalResampler) -> Self {
        Self::with_buffers(resampler)
    }
}

impl<I, O> Resampler<I, O>
where
    I: CpuBufferReader<Item = Complex32>,
    O: CpuBufferWriter<Item = Complex32>,
{
    /// Wraps `resampler`, with custom buffer types.
    pub fn with_buffers(resampler: RationalResampler) -> Self {
        Self {
            resampler,
            pending: Vec::new(),
            pending_pos: 0,
            flushed: false,
            input: super::large_input(),
            output: O::default(),
        }
    }

    /// Writes as much pending output as fits; returns whether all of it was written.
    fn drain(&mut self) -> bool {
        let out = self.output.slice();
        let n = out.len().min(self.pending.len() - self.pending_pos);
        out[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
        self.output.produce(n);
        self.pending_pos += n;
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
            true
        } else {
            false
        }
    }
}

#[doc(hidden)]
impl<I, O> Kernel for Resampler<I, O>
where
    I: CpuBufferReader<Item = Complex32>,
    O: CpuBufferWriter<Item = Complex32>,
{
    async fn work(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
    ) -> Result<()> {
        if !self.drain() {
            return Ok(());
        }
        let input = self.input.slice();
        let n = input.len();
        if n > 0 {
            self.resampler.process(input, &mut self.pending);
            self.input.consume(n);
        }
        let at_end = self.input.finished() && self.input.slice().is_empty();
        if at_end && !self.flushed {
            self.resampler.finish(&mut self.pending);
            self.flushed = true;
        }
        let all_written = self.drain();
        if at_end && all_written {
            io.finished = true;
        } else if n > 0 && all_written {
            io.call_again = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futuresdr::blocks::{VectorSink, VectorSource};
    use futuresdr::prelude::{connect, Flowgraph, Runtime};

    #[test]
    fn flowgraph_output_equals_the_resampler_run_directly() -> anyhow::Result<()> {
        // The runtime chunks the input arbitrarily; the streaming resampler must give
        // the same samples as one call over the whole input, tail included.
        let x: Vec<Complex32> = (0..50_001)
            .map(|i| Complex32::new((i as f32 * 0.01).sin(), (i as f32 * 0.023).cos()))
            .collect();
        let mut direct = RationalResampler::new(5, 4);
        let mut expected = Vec::new();
        direct.process(&x, &mut expected);
        direct.finish(&mut expected);
        assert_eq!(expected.len(), 62_502, "ceil(50001 * 5 / 4)");

        // Sink first, source last (see the `flowgraphs` module documentation).
        let mut fg = Flowgraph::new();
        let snk = fg.add(VectorSink::<Complex32>::new(1 << 16));
        let resampler = fg.add(Resampler::new(RationalResampler::new(5, 4)));
        let src = fg.add(VectorSource::<Complex32>::new(x));
        connect!(fg, src > resampler > snk);
        futuresdr::runtime::config::set("ctrlport_enable", "false");
        let fg = Runtime::new().run(fg)?;
        assert_eq!(fg.block(&snk)?.items(), &expected[..]);
        Ok(())
    }
}
