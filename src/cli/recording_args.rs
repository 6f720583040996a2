//! Arguments describing a SigMF recording to write.

use clap::Args;
use m4sc::io::utc_datetime::{is_iso8601_utc, now_iso8601_utc};
use m4sc::io::{RecordingInfo, SampleFormat};

fn parse_datetime(s: &str) -> Result<String, String> {
    if is_iso8601_utc(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not ISO-8601 UTC like 2026-01-01T00:00:00.000Z"
        ))
    }
}

/// How a SigMF recording is written and described.
#[derive(Debug, Clone, Args)]
pub struct RecordingArgs {
    /// Sample format of the data file: cf32_le, ci16_le or ci8 (HackRF native).
    #[arg(long, default_value = "ci16_le")]
    pub format: SampleFormat,
    /// Amplitude stored as integer full scale (ci16_le, ci8; default 8 for ci16_le, 5 for
    /// ci8). The transmitter's average power is 1; OFDM peaks with noise and fading
    /// reach about 5; samples beyond full scale saturate and are counted in a warning.
    #[arg(long)]
    pub full_scale: Option<f32>,
    /// core:datetime of the first sample (default: now).
    #[arg(long, value_parser = parse_datetime)]
    pub datetime: Option<String>,
    /// core:author.
    #[arg(long, default_value = "m4sc")]
    pub author: String,
    /// core:description (default: what was recorded, in words).
    #[arg(long)]
    pub description: Option<String>,
    /// core:frequency of the capture segment, Hz (default: none for simulated air).
    #[arg(long)]
    pub center_freq_hz: Option<f64>,
}

impl RecordingArgs {
    /// `--full-scale`, or the format's default.
    pub fn full_scale(&self) -> f32 {
        self.full_scale.unwrap_or(match self.format {
            SampleFormat::Cf32Le => 1.0,
            SampleFormat::Ci16Le => 8.0,
            SampleFormat::Ci8 => 5.0,
        })
    }

    /// The recording's description; `hardware` and `default_description` fill what the
    /// arguments leave open.
    pub fn info(
        &self,
        sample_rate_hz: f64,
        hardware: &str,
        default_description: String,
        seed: Option<u64>,
    ) -> RecordingInfo {
        RecordingInfo {
            sample_rate_hz,
            center_freq_hz: self.center_freq_hz,
            datetime: self.datetime.clone().unwrap_or_else(now_iso8601_utc),
            hardware: hardware.to_string(),
            author: self.author.clone(),
            description: self.description.clone().unwrap_or(default_description),
            seed,
        }
    }
}
