//! Arguments shared by several subcommands.

use clap::{Args, ValueEnum};
use m4sc::blocks::{TransmitterConfig, TxFrame};
use m4sc::channel::{ChannelConfig, MultipathConfig};
use m4sc::phy::Rate;
use m4sc::traffic::random_data_frames;

/// Parses a data rate in Mb/s, accepting only the eight 802.11a rates.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let all: Vec<String> = Rate::ALL.iter().map(|r| r.mbps().to_string()).collect();
    let expected = format!("one of {} Mb/s", all.join(", "));
    let mbps: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number; expected {expected}"))?;
    Rate::from_mbps(mbps)
        .ok_or_else(|| format!("{mbps} Mb/s is not an IEEE 802.11a rate; expected {expected}"))
}

/// What to send.
#[derive(Debug, Clone, Args)]
pub struct FrameArgs {
    /// Number of data frames.
    #[arg(long, default_value_t = 100)]
    pub frames: usize,
    /// Data rate in Mb/s: 6, 9, 12, 18, 24, 36, 48 or 54.
    #[arg(long = "rate", value_name = "MBPS", default_value = "24", value_parser = parse_rate)]
    pub rate: Rate,
    /// PSDU size in bytes, the 4-byte FCS included (5..=4095); the payload is
    /// random bytes drawn from --seed.
    #[arg(long, default_value_t = 1000)]
    pub payload_bytes: usize,
    /// Zeros between frames, in samples at 20 MHz.
    #[arg(long, default_value_t = TransmitterConfig::default().gap_samples)]
    pub gap_samples: usize,
    /// Seed of the payload bytes (and of the channel's random draws).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl FrameArgs {
    pub fn frames(&self) -> anyhow::Result<Vec<TxFrame>> {
        Ok(random_data_frames(
            self.frames,
            self.rate,
            self.payload_bytes,
            self.seed,
        )?)
    }

    pub fn transmitter_config(&self) -> TransmitterConfig {
        TransmitterConfig {
            gap_samples: self.gap_samples,
            ..TransmitterConfig::default()
        }
    }
}

/// Channel model kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Additive white Gaussian noise only.
    Awgn,
    /// Rayleigh fading with an exponential power delay profile, redrawn every frame,
    /// plus noise.
    Multipath,
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChannelKind::Awgn => "AWGN",
            ChannelKind::Multipath => "multipath",
        })
    }
}

/// The simulated channel.
#[derive(Debug, Clone, Args)]
pub struct ChannelArgs {
    /// SNR per sample against the unit transmit power, in dB.
    #[arg(long, default_value_t = 30.0, allow_negative_numbers = true)]
    pub snr_db: f32,
    /// Channel model.
    #[arg(long, value_enum, default_value_t = ChannelKind::Awgn)]
    pub channel: ChannelKind,
    /// RMS delay spread of the multipath channel, in ns.
    #[arg(long, default_value_t = 50.0)]
    pub delay_spread_ns: f64,
    /// Carrier frequency offset, receiver minus transmitter, in Hz.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub cfo_hz: f64,
}

impl ChannelArgs {
    pub fn config(&self, seed: u64) -> ChannelConfig {
        let multipath = (self.channel == ChannelKind::Multipath).then(|| MultipathConfig {
            rms_delay_spread_ns: self.delay_spread_ns,
            ..MultipathConfig::default()
        });
        ChannelConfig {
            snr_db: Some(self.snr_db),
            multipath,
            cfo_hz: self.cfo_hz,
            seed,
            ..ChannelConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_others_are_refused_with_the_valid_list() {
        assert_eq!(parse_rate("54"), Ok(Rate::Mbps54));
        assert_eq!(parse_rate("6"), Ok(Rate::Mbps6));
        let err = parse_rate("7").unwrap_err();
        assert!(err.contains("7 Mb/s") && err.contains("6, 9, 12"), "{err}");
        assert!(parse_rate("fast").unwrap_err().contains("not a number"));
    }
}
