//! Radio device options shared by the subcommands that can use a radio, and the
//! `m4sc devices` subcommand.

use clap::Args;
use m4sc::radio::stream::{RxStream, TxStream};
use m4sc::radio::{DeviceOverrides, DeviceProfile};
use std::path::PathBuf;

/// What a build without radio support says when asked for a device.
#[cfg(not(feature = "radio"))]
const NO_RADIO: &str = "this m4sc was built without radio support: rebuild with \
    `cargo build --release --features soapy` (needs apt libsoapysdr-dev libclang-dev)";

/// Which radio to use and how to set it up.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// Use the radio with these Seify arguments (both directions), e.g.
    /// driver=soapy,soapy_driver=hackrf or driver=dummy.
    #[arg(long, value_name = "ARGS")]
    pub device: Option<String>,
    /// Use the radio(s) of a device profile, e.g. hw/hackrf_one.toml.
    #[arg(long, value_name = "hw/NAME.toml")]
    pub profile: Option<PathBuf>,
    /// Centre frequency of the radio, Hz (replaces the profile's).
    #[arg(long)]
    pub freq_hz: Option<f64>,
    /// Transmit gain, dB (replaces the profile's).
    #[arg(long, allow_negative_numbers = true)]
    pub tx_gain_db: Option<f64>,
    /// Receive gain, dB (replaces the profile's).
    #[arg(long, allow_negative_numbers = true)]
    pub rx_gain_db: Option<f64>,
    /// Antenna port of both directions (replaces the profile's).
    #[arg(long)]
    pub antenna: Option<String>,
}

impl DeviceArgs {
    /// The profile to use, with the command line's settings applied; `None` when no
    /// radio was asked for. `sample_rate_hz` is the command's `--sample-rate-hz`.
    pub fn profile(&self, sample_rate_hz: Option<f64>) -> anyhow::Result<Option<DeviceProfile>> {
        let base = match (&self.profile, &self.device) {
            (Some(path), _) => DeviceProfile::load(path)?,
            (None, Some(args)) => DeviceProfile::from_args(args),
            (None, None) => return Ok(None),
        };
        let overrides = DeviceOverrides {
            device_args: if self.profile.is_some() {
                self.device.clone()
            } else {
                None
            },
            center_freq_hz: self.freq_hz,
            sample_rate_hz,
            tx_gain_db: self.tx_gain_db,
            rx_gain_db: self.rx_gain_db,
            antenna: self.antenna.clone(),
        };
        Ok(Some(base.with_overrides(&overrides)?))
    }
}

/// Opens the receive side of `profile`: its stream and a name for messages.
#[cfg(feature = "radio")]
pub fn open_rx_stream(profile: &DeviceProfile) -> anyhow::Result<(Box<dyn RxStream>, String)> {
    let rx = m4sc::radio::seify_stream::open_rx(profile)?;
    let name = rx.name().to_string();
    Ok((Box::new(rx), name))
}

/// Opens the transmit side of `profile`: its stream and a name for messages.
#[cfg(feature = "radio")]
pub fn open_tx_stream(profile: &DeviceProfile) -> anyhow::Result<(Box<dyn TxStream>, String)> {
    let tx = m4sc::radio::seify_stream::open_tx(profile)?;
    let name = tx.name().to_string();
    Ok((Box::new(tx), name))
}

#[cfg(not(feature = "radio"))]
pub fn open_rx_stream(_profile: &DeviceProfile) -> anyhow::Result<(Box<dyn RxStream>, String)> {
    anyhow::bail!(NO_RADIO)
}

#[cfg(not(feature = "radio"))]
pub fn open_tx_stream(_profile: &DeviceProfile) -> anyhow::Result<(Box<dyn TxStream>, String)> {
    anyhow::bail!(NO_RADIO)
}

/// `m4sc devices`: list radios, or check a profile.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Sample rate of the radio, Hz (replaces the profile's).
    #[arg(long)]
    pub sample_rate_hz: Option<f64>,
}

pub fn run_devices(args: &DevicesArgs) -> anyhow::Result<()> {
    if let Some(profile) = args.device.profile(args.sample_rate_hz)? {
        println!("{}", toml::to_string(&profile)?);
        return Ok(());
    }
    list_devices()
}

#[cfg(feature = "radio")]
fn list_devices() -> anyhow::Result<()> {
    let found = m4sc::radio::seify_stream::enumerate_devices()?;
    if found.is_empty() {
        println!("no radio found (is the SoapySDR module of your radio installed?)");
    }
    for args in found {
        println!("{args}");
    }
    Ok(())
}

#[cfg(not(feature = "radio"))]
fn list_devices() -> anyhow::Result<()> {
    anyhow::bail!(NO_RADIO)
}
