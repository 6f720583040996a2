//! `m4sc record`: record the air into a SigMF recording, annotated by the receiver.

use super::args::{ChannelArgs, FrameArgs};
use super::device_args::{open_rx_stream, DeviceArgs};
use super::recording_args::RecordingArgs;
use super::report::print_json;
use super::semantic_args::SemanticArgs;
use anyhow::Context;
use candle_core::Device;
use clap::Args;
use m4sc::blocks::TxFrame;
use m4sc::flowgraphs::record::{record, AirSource, RecordOutcome};
use m4sc::io::{is_sigmf_path, ResampledReader, SigmfWriter, PHY_SAMPLE_RATE_HZ};
use m4sc::link_metrics::frames_dropped;
use m4sc::multiuser::scenario::Scenario;
use m4sc::multiuser::transmitter::transmit;
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{RxFrame, RxStats};
use m4sc::semantic::model::SemanticModel;
use m4sc::semantic::model_config::weights_fingerprint;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const LONG_ABOUT: &str = "\
Record the air into a SigMF recording (FILE.sigmf-meta + FILE.sigmf-data) while the \
receiver decodes it; the metadata gets one annotation per detection: where it is, the \
frame's kind, rate or semantic header, and the decode result (ok, fcs-error, \
signal-error, header-error, sync-failure, truncated).

The air is one of: --input FILE (a .cf32 file at 20 MHz, or a SigMF recording, read at \
20 MHz); --simulate (the transmitter's frames through the channel simulator: the \
frame, semantic and channel options below, all seeded by --seed, so the same command \
writes the same data file); or a radio (--device ARGS or --profile hw/NAME.toml, for \
--duration-s seconds; needs a build with the soapy feature), recorded at the radio's \
rate and decoded at 20 MHz. Receive overflows are counted and logged; a radio that \
disappears ends the run with an error after the recording of what came before it is \
written.";

/// Where `m4sc record` takes its samples from (or a radio: see the device options).
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct SourceArgs {
    /// Record a file: FILE.cf32 (20 MHz) or FILE.sigmf-meta.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Record the channel simulator's output.
    #[arg(long)]
    pub simulate: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The recording to write: NAME.sigmf-meta (NAME.sigmf-data is written beside it).
    #[arg(long, short, value_name = "FILE.sigmf-meta")]
    pub output: PathBuf,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub frames: FrameArgs,
    #[command(flatten)]
    pub semantic: SemanticArgs,
    #[command(flatten)]
    pub channel: ChannelArgs,
    /// Simulated timing offset (delay), in samples; fractional values allowed.
    #[arg(long, default_value_t = 0.0)]
    pub timing_offset_samples: f64,
    /// Sample rate of the recording, Hz (default 20e6, or the radio's): the air is
    /// resampled to it (the annotations follow). With a radio, the radio's rate too.
    #[arg(long)]
    pub sample_rate_hz: Option<f64>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// How long to record from a radio, in seconds.
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// Simulated receiver sampling-clock offset, in ppm.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub clock_offset_ppm: f64,
    #[command(flatten)]
    pub recording: RecordingArgs,
    /// With --simulate: send this multi-user scenario's frames (what `m4sc loopback
    /// --scenario FILE` sends) instead of data and semantic test frames.
    #[arg(long, value_name = "FILE", requires = "simulate")]
    pub scenario: Option<PathBuf>,
    /// Semantic model weights folder of --scenario.
    #[arg(long, value_name = "DIR", default_value = "weights/default")]
    pub weights: PathBuf,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// Marks, in a recording's description, the weights that encoded its semantic frames.
pub const WEIGHTS_TAG: &str = "weights sha256:";

/// The frames of `scenario` as its transmitter sends them, and what the recording
/// says about them.
pub fn scenario_frames(scenario: &Path, weights: &Path) -> anyhow::Result<(Vec<TxFrame>, String)> {
    let scenario = Scenario::load(scenario)?;
    let (model, tokenizer) = SemanticModel::load(weights, &Device::Cpu)
        .with_context(|| format!("loading the semantic model from {}", weights.display()))?;
    let tx = transmit(&Arc::new(model), &Arc::new(tokenizer), &scenario)?;
    let described = format!(
        "scenario {} ({} users, {} semantic frames, {} channel symbols; {WEIGHTS_TAG}{})",
        scenario.path.display(),
        scenario.users.len(),
        tx.frames.len(),
        tx.total_channel_symbols(),
        weights_fingerprint(weights)?
    );
    Ok((tx.frames, described))
}

/// What a recording run reports.
#[derive(Debug, Serialize)]
pub struct RecordReport {
    pub output: PathBuf,
    pub samples: u64,
    pub annotations: usize,
    pub frames_decoded: usize,
    pub frames_failed_fcs: usize,
    pub frames_dropped: u64,
    pub overflows: u64,
    pub receiver: RxStats,
}

impl RecordReport {
    pub fn new(output: &Path, outcome: &RecordOutcome) -> Self {
        let failed = outcome
            .frames
            .iter()
            .filter(|f| matches!(f, RxFrame::Data(d) if !d.fcs_ok))
            .count();
        Self {
            output: output.to_path_buf(),
            samples: outcome.samples,
            annotations: outcome.meta.annotations.len(),
            frames_decoded: outcome.frames.len() - failed,
            frames_failed_fcs: failed,
            frames_dropped: frames_dropped(&outcome.stats),
            overflows: outcome.overflows,
            receiver: outcome.stats,
        }
    }

    pub fn print(&self) {
        println!(
            "recorded {} samples to {} with {} annotations",
            self.samples,
            self.output.display(),
            self.annotations
        );
        println!(
            "frames: {} decoded, {} dropped after detection ({} failed the FCS)",
            self.frames_decoded, self.frames_dropped, self.frames_failed_fcs
        );
        if self.overflows > 0 {
            println!("receive overflows: {} (samples were lost)", self.overflows);
        }
    }
}

/// The receiver of recording runs: it keeps frames that fail the FCS, so their
/// annotations carry the rate and length.
pub fn recording_receiver() -> ReceiverConfig {
    ReceiverConfig {
        keep_failed_fcs: true,
        ..ReceiverConfig::default()
    }
}

/// The air source for a file input: SigMF (read at 20 MHz) or cf32.
pub fn file_source(input: &Path) -> anyhow::Result<AirSource> {
    Ok(if is_sigmf_path(input) {
        AirSource::Sigmf(Box::new(ResampledReader::open(input, PHY_SAMPLE_RATE_HZ)?))
    } else {
        AirSource::Cf32File(input.to_path_buf())
    })
}

/// The radio source of `m4sc record`, with what the recording says about it.
struct RadioAir {
    air: AirSource,
    name: String,
    description: String,
    sample_rate_hz: f64,
    center_freq_hz: f64,
}

fn device_source(args: &RecordArgs) -> anyhow::Result<RadioAir> {
    let Some(profile) = args.device.profile(args.sample_rate_hz)? else {
        anyhow::bail!("no radio given: --device ARGS or --profile hw/NAME.toml");
    };
    let duration_s = match args.duration_s {
        Some(d) if d.is_finite() && d > 0.0 => d,
        Some(d) => anyhow::bail!("--duration-s {d}: expected a positive number of seconds"),
        None => anyhow::bail!("recording from a radio needs --duration-s"),
    };
    let rate_hz = profile.sample_rate_hz;
    let (stream, name) = open_rx_stream(&profile)?;
    let description = format!(
        "m4sc record: {duration_s} s from {name} at {} Hz, {} dB receive gain",
        profile.center_freq_hz, profile.rx.gain_db
    );
    let air = AirSource::Device {
        name: name.clone(),
        stream,
        sample_rate_hz: rate_hz,
        max_samples: Some((duration_s * rate_hz).round() as u64),
    };
    Ok(RadioAir {
        air,
        name,
        description,
        sample_rate_hz: rate_hz,
        center_freq_hz: profile.center_freq_hz,
    })
}

pub fn run(args: &RecordArgs) -> anyhow::Result<()> {
    let seed = args.frames.seed;
    let radio = args.device.device.is_some() || args.device.profile.is_some();
    let sources = usize::from(args.source.input.is_some())
        + usize::from(args.source.simulate)
        + usize::from(radio);
    if sources != 1 {
        anyhow::bail!(
            "choose exactly one source: --input FILE, --simulate, or a radio (--device ARGS \
             or --profile hw/NAME.toml)"
        );
    }
    let mut rate_hz = args.sample_rate_hz.unwrap_or(PHY_SAMPLE_RATE_HZ);
    let mut center_freq_hz = args.recording.center_freq_hz;
    let (air, hardware, description, seed) = match &args.source.input {
        _ if radio => {
            let radio = device_source(args)?;
            rate_hz = radio.sample_rate_hz;
            center_freq_hz = Some(radio.center_freq_hz);
            (radio.air, radio.name, radio.description, None)
        }
        Some(input) => (
            file_source(input)?,
            "file".to_string(),
            format!("m4sc record of {}", input.display()),
            None,
        ),
        None => {
            let (frames, sent) = match &args.scenario {
                Some(path) => scenario_frames(path, &args.weights)?,
                None => {
                    let mut frames = args.frames.frames()?;
                    frames.extend(args.semantic.frames(seed)?);
                    let sent = format!(
                        "{} data frames at {} Mb/s ({}-byte PSDUs), {} semantic frames of {} \
                         symbols",
                        args.frames.frames,
                        args.frames.rate.mbps(),
                        args.frames.payload_bytes,
                        args.semantic.semantic_frames,
                        args.semantic.semantic_symbols,
                    );
                    (frames, sent)
                }
            };
            let mut channel = args.channel.config(seed);
            channel.timing_offset_samples = args.timing_offset_samples;
            channel.sample_clock_offset_ppm = args.clock_offset_ppm;
            let c = &args.channel;
            let description = format!(
                "synthetic: m4sc transmitter through the channel simulator; {sent}; {} \
                 channel, {} dB SNR, {} ns RMS delay spread, {} Hz CFO, {} samples timing \
                 offset, {} ppm clock offset; seed {seed}",
                c.channel,
                c.snr_db,
                c.delay_spread_ns,
                c.cfo_hz,
                args.timing_offset_samples,
                args.clock_offset_ppm,
            );
            let air = AirSource::Simulated {
                frames,
                tx_config: args.frames.transmitter_config(),
                channel,
            };
            (
                air,
                "m4sc channel simulator".to_string(),
                description,
                Some(seed),
            )
        }
    };
    // Refuse an impossible rate before any file is created or replaced.
    m4sc::resample::resample_ratio(PHY_SAMPLE_RATE_HZ, rate_hz)?;
    let r = &args.recording;
    let mut info = r.info(rate_hz, &hardware, description, seed);
    info.center_freq_hz = center_freq_hz;
    let writer = SigmfWriter::create(&args.output, r.format, r.full_scale())?;
    let outcome = record(air, writer, recording_receiver(), &info)?;
    let report = RecordReport::new(&args.output, &outcome);
    if args.json {
        print_json(&report)?;
    } else {
        report.print();
    }
    if let Some(reason) = &outcome.device_lost {
        anyhow::bail!(
            "radio lost: {reason}; the {} samples received before are kept in {}",
            outcome.samples,
            args.output.display()
        );
    }
    Ok(())
}
