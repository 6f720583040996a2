//! The air, simulated: a stream block around [`ChannelSimulator`].

use super::BURST_START_TAG;
use crate::channel::ChannelSimulator;
use futuresdr::runtime::dev::prelude::*;
use log::debug;

/// Passes samples through a [`ChannelSimulator`] (fading, carrier offset, noise).
///
/// At every input sample tagged [`BURST_START_TAG`] the simulator's
/// [`start_burst`](ChannelSimulator::start_burst) is called before that sample is
/// processed, so each burst sees a fresh multipath realization (block fading). The tag
/// is forwarded to the output sample produced at that point. Samples the simulator
/// returns are queued and written as the output buffer allows.
///
/// # Stream Inputs
///
/// `input`: transmitted baseband samples.
///
/// # Stream Outputs
///
/// `output`: received baseband samples.
///
/// # Message Inputs / Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// use futuresdr::prelude::*;
/// use m4sc::blocks::ChannelModel;
/// use m4sc::channel::{ChannelConfig, ChannelSimulator};
///
/// let sim = ChannelSimulator::new(ChannelConfig::default()).unwrap();
/// let mut fg = Flowgraph::new();
/// let channel = fg.add(ChannelModel::new(sim));
/// ```
#[derive(Block)]
pub struct ChannelModel<I = DefaultCpuReader<Complex32>, O = DefaultCpuWriter<Complex32>>
where
    I: CpuBufferReader<Item = Complex32>,
    O: CpuBufferWriter<Item = Complex32>,
{
    simulator: ChannelSimulator,
    /// Simulator output not yet written, from `pending_pos` on.
    pending: Vec<Complex32>,
    pending_pos: usize,
    /// Tags to attach to `pending[index]`.
    pending_tags: Vec<ItemTag>,
    bursts: u64,
    #[input]
    input: I,
    #[output]
    output: O,
}

impl ChannelModel<DefaultCpuReader<Complex32>, DefaultCpuWriter<Complex32>> {
    /// Wraps `simulator`.
    pub fn new(simulator: ChannelSimulator) -> Self {
        Self::with_buffers(simulator)
    }
}

impl<I, O> ChannelModel<I, O>
where
    I: CpuBufferReader<Item = Complex32>,
    O: CpuBufferWriter<Item = Complex32>,
{
    /// Wraps `simulator`, with custom stream buffer types.
    pub fn with_buffers(simulator: ChannelSimulator) -> Self {
        Self {
            simulator,
            pending: Vec::new(),
            pending_pos: 0,
            pending_tags: Vec::new(),
            bursts: 0,
            input: super::large_input(),
            output: O::default(),
        }
    }

    /// Burst starts seen (fading redraws).
    pub fn bursts(&self) -> u64 {
        self.bursts
    }

    /// Runs the whole input slice through the simulator into `pending`.
    fn process_input(&mut self) -> Result<usize> {
        let (input, tags) = self.input.slice_with_tags();
        let n = input.len();
        if n == 0 {
            return Ok(0);
        }
        let mut starts: Vec<usize> = tags
            .iter()
            .filter(|t| matches!(&t.tag, Tag::NamedUsize(name, _) if name == BURST_START_TAG))
            .map(|t| t.index)
            .filter(|&i| i < n)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let forwarded: Vec<ItemTag> = tags.iter().filter(|t| t.index < n).cloned().collect();

        let base = self.pending.len();
        let mut segment_start = 0;
        let mut out_index_of = Vec::with_capacity(forwarded.len());
        for &start in starts.iter().chain(std::iter::once(&n)) {
            if start > segment_start {
                self.simulator
                    .apply(&input[segment_start..start], &mut self.pending);
            }
            if start < n {
                self.simulator.start_burst();
                self.bursts += 1;
                debug!("burst {} starts at input offset {start}", self.bursts);
            }
            segment_start = start;
        }
        // The simulator returns one output sample per input sample, so a tag keeps
        // its offset relative to the slice.
        let produced = self.pending.len() - base;
        if produced != n {
            anyhow::bail!("ChannelModel: simulator returned {produced} samples for {n} inputs");
        }
        for t in &forwarded {
            out_index_of.push(ItemTag {
                index: base + t.index,
                tag: t.tag.clone(),
            });
        }
        self.pending_tags.extend(out_index_of);
        self.input.consume(n);
        Ok(n)
    }

    /// Writes queued samples and their tags to the output; returns how many.
    fn flush(&mut self) -> usize {
        let (out, mut tags) = self.output.slice_with_tags();
        let n = out.len().min(self.pending.len() - self.pending_pos);
        if n == 0 {
            return 0;
        }
        let range = self.pending_pos..self.pending_pos + n;
        out[..n].copy_from_slice(&self.pending[range.clone()]);
        for t in &self.pending_tags {
            if range.contains(&t.index) {
                tags.add_tag(t.index - self.pending_pos, t.tag.clone());
            }
        }
        self.output.produce(n);
        self.pending_pos += n;
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
            self.pending_tags.clear();
        }
        n
    }
}

#[doc(hidden)]
impl<I, O> Kernel for ChannelModel<I, O>
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
        self.flush();
        if self.pending.is_empty() {
            if self.process_input()? > 0 {
                self.flush();
                io.call_again = self.pending.is_empty();
            } else if self.input.finished() {
                io.finished = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{ChannelConfig, MultipathConfig};
    use futuresdr::runtime::mocker::{Mocker, Reader, Writer};

    fn faded_config() -> ChannelConfig {
        ChannelConfig {
            snr_db: Some(25.0),
            multipath: Some(MultipathConfig {
                rms_delay_spread_ns: 50.0,
                rician_k_db: None,
                profile_floor_db: 25.0,
            }),
            cfo_hz: 30_000.0,
            seed: 11,
            ..ChannelConfig::default()
        }
    }

    fn burst_tag(index: usize, frame: usize) -> ItemTag {
        ItemTag {
            index,
            tag: Tag::NamedUsize(BURST_START_TAG.to_string(), frame),
        }
    }

    #[test]
    fn redraws_fading_exactly_at_burst_tags() {
        let input: Vec<Complex32> = (0..3000)
            .map(|i| Complex32::from_polar(1.0, 0.37 * i as f32))
            .collect();
        // Oracle: the simulator itself, driven by hand with start_burst at 500 and 1800.
        let mut oracle = ChannelSimulator::new(faded_config()).unwrap();
        let mut expected = Vec::new();
        oracle.apply(&input[..500], &mut expected);
        oracle.start_burst();
        oracle.apply(&input[500..1800], &mut expected);
        oracle.start_burst();
        oracle.apply(&input[1800..], &mut expected);

        let sim = ChannelSimulator::new(faded_config()).unwrap();
        let block = ChannelModel::<Reader<Complex32>, Writer<Complex32>>::with_buffers(sim);
        let mut mocker = Mocker::new(block);
        // Two input chunks (the second tag is relative to the second chunk) and an
        // output smaller than the input, so queued samples are flushed over calls.
        let mut output = Vec::new();
        let mut out_tags = Vec::new();
        for (chunk, tags) in [
            (&input[..1000], vec![burst_tag(500, 0)]),
            (&input[1000..], vec![burst_tag(800, 1)]),
        ] {
            mocker.input().set_with_tags(chunk.to_vec(), tags);
            for _ in 0..10 {
                mocker.output().reserve(700);
                mocker.run();
                let (out, tags) = mocker.output().take();
                out_tags.extend(tags.into_iter().map(|mut t| {
                    t.index += output.len();
                    t
                }));
                output.extend(out);
            }
        }
        assert_eq!(mocker.bursts(), 2, "one redraw per tag");
        assert_eq!(
            output.len(),
            input.len(),
            "one output sample per input sample"
        );
        assert_eq!(output, expected, "block output must equal the simulator's");
        let tagged: Vec<usize> = out_tags.iter().map(|t| t.index).collect();
        assert_eq!(
            tagged,
            vec![500, 1800],
            "burst tags must stay on their samples"
        );
    }
}
