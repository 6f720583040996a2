//! Seify devices (SoapySDR radios, or Seify's dummy driver) behind the stream traits:
//! opening and configuring a device from a [`DeviceProfile`], and listing devices.
//!
//! Overflows come from Seify's receive errors. Underflows come from SoapySDR's
//! `writeStream` returning `SOAPY_SDR_UNDERFLOW` (with the `soapy` feature); Seify's own
//! drivers (such as the dummy) report none.
//!
//! Limits: one channel per direction (channel 0); underflows that a SoapySDR module
//! reports only through `readStreamStatus` are not counted, because Seify 0.18 does not
//! expose that call.

use super::profile::{DeviceProfile, DirectionProfile};
use super::stream::{RxStream, StreamEvent, TxStream};
use futuresdr::seify::{self, Device, Direction, GenericDevice};
use num_complex::Complex32;

/// Longest wait for one read or write before the device counts as lost, µs.
const STREAM_TIMEOUT_US: i64 = 2_000_000;

/// Why a device could not be opened or set up; names the device arguments.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("cannot open radio device '{args}': {message}")]
    Open { args: String, message: String },
    #[error("radio device '{args}': cannot set {setting} to {value}: {message}")]
    Setting {
        args: String,
        setting: &'static str,
        value: String,
        message: String,
    },
    #[error("cannot list radio devices: {0}")]
    Enumerate(String),
}

/// The arguments of every device the enabled Seify drivers find.
pub fn enumerate_devices() -> Result<Vec<String>, DeviceError> {
    let found = seify::enumerate().map_err(|e| DeviceError::Enumerate(e.to_string()))?;
    Ok(found.iter().map(|a| a.to_string()).collect())
}

/// Opens the device of `side` and applies the profile's settings for `direction`.
fn open(
    profile: &DeviceProfile,
    side: &DirectionProfile,
    direction: Direction,
) -> Result<Device<GenericDevice>, DeviceError> {
    let args = side.args.clone();
    let dev = Device::from_args(args.as_str()).map_err(|e| DeviceError::Open {
        args: args.clone(),
        message: e.to_string(),
    })?;
    let set = |setting: &'static str, value: String, r: Result<(), seify::Error>| {
        r.map_err(|e| DeviceError::Setting {
            args: args.clone(),
            setting,
            value,
            message: e.to_string(),
        })
    };
    log::debug!(
        "{args}: driver {:?}, frequency range {:?}, gain range {:?}, antennas {:?}",
        dev.driver(),
        dev.frequency_range(direction, 0),
        dev.gain_range(direction, 0),
        dev.antennas(direction, 0)
    );
    let rate = profile.sample_rate_hz;
    set(
        "sample rate",
        format!("{rate} Hz"),
        dev.set_sample_rate(direction, 0, rate),
    )?;
    let f = profile.center_freq_hz;
    set(
        "frequency",
        format!("{f} Hz"),
        dev.set_frequency(direction, 0, f),
    )?;
    let g = side.gain_db;
    set("gain", format!("{g} dB"), dev.set_gain(direction, 0, g))?;
    if let Some(a) = &side.antenna {
        set("antenna", a.clone(), dev.set_antenna(direction, 0, a))?;
    }
    if let Some(b) = profile.bandwidth_hz {
        set(
            "bandwidth",
            format!("{b} Hz"),
            dev.set_bandwidth(direction, 0, b),
        )?;
    }
    Ok(dev)
}

/// A Seify receive stream.
pub struct SeifyRx {
    name: String,
    streamer: Box<dyn seify::RxStreamer>,
}

/// A Seify transmit stream.
pub struct SeifyTx {
    name: String,
    streamer: Box<dyn seify::TxStreamer>,
}

/// Opens, configures and starts the receive side of `profile`.
pub fn open_rx(profile: &DeviceProfile) -> Result<SeifyRx, DeviceError> {
    let dev = open(profile, &profile.rx, Direction::Rx)?;
    let args = profile.rx.args.clone();
    let fail = |e: seify::Error| DeviceError::Open {
        args: args.clone(),
        message: format!("receive stream: {e}"),
    };
    let mut streamer = dev.rx_streamer(&[0]).map_err(fail)?;
    streamer.activate().map_err(fail)?;
    Ok(SeifyRx {
        name: format!("{} ({})", profile.name, profile.rx.args),
        streamer,
    })
}

/// Opens, configures and starts the transmit side of `profile`.
pub fn open_tx(profile: &DeviceProfile) -> Result<SeifyTx, DeviceError> {
    let dev = open(profile, &profile.tx, Direction::Tx)?;
    let args = profile.tx.args.clone();
    let fail = |e: seify::Error| DeviceError::Open {
        args: args.clone(),
        message: format!("transmit stream: {e}"),
    };
    let mut streamer = dev.tx_streamer(&[0]).map_err(fail)?;
    streamer.activate().map_err(fail)?;
    Ok(SeifyTx {
        name: format!("{} ({})", profile.name, profile.tx.args),
        streamer,
    })
}

impl SeifyRx {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl SeifyTx {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl RxStream for SeifyRx {
    fn read(&mut self, out: &mut [Complex32]) -> Result<usize, StreamEvent> {
        match self.streamer.read(&mut [out], STREAM_TIMEOUT_US) {
            Ok(n) => Ok(n),
            Err(seify::Error::Overflow) => Err(StreamEvent::Overflow),
            Err(e) => Err(StreamEvent::Lost(format!("{}: {e}", self.name))),
        }
    }

    fn stop(&mut self) -> Result<(), StreamEvent> {
        self.streamer
            .deactivate()
            .map_err(|e| StreamEvent::Lost(format!("{}: {e}", self.name)))
    }
}

/// What a failed transmit write of the device called `name` means: an underflow the
/// driver reported, otherwise the loss of the device.
fn tx_write_event(name: &str, e: seify::Error) -> StreamEvent {
    #[cfg(feature = "soapy")]
    if let seify::Error::Soapy(soapy) = &e {
        if soapy.code == soapysdr::ErrorCode::Underflow {
            return StreamEvent::Underflow;
        }
    }
    StreamEvent::Lost(format!("{name}: {e}"))
}

impl TxStream for SeifyTx {
    fn write(&mut self, samples: &[Complex32]) -> Result<usize, StreamEvent> {
        self.streamer
            .write(&[samples], None, false, STREAM_TIMEOUT_US)
            .map_err(|e| tx_write_event(&self.name, e))
    }

    fn stop(&mut self) -> Result<(), StreamEvent> {
        self.streamer
            .deactivate()
            .map_err(|e| StreamEvent::Lost(format!("{}: {e}", self.name)))
    }
}

#[cfg(test)]
mod write_event_tests {
    use super::*;

    #[test]
    fn a_failed_write_is_the_loss_of_the_device_named() {
        let event = tx_write_event("B210 (driver=uhd)", seify::Error::DeviceError);
        match event {
            StreamEvent::Lost(why) => assert!(why.contains("driver=uhd"), "{why}"),
            other => panic!("a device error must end the stream, got {other:?}"),
        }
    }

    #[cfg(feature = "soapy")]
    #[test]
    fn a_soapy_underflow_is_counted_not_fatal() {
        let soapy = |code| {
            seify::Error::Soapy(soapysdr::Error {
                code,
                message: String::new(),
            })
        };
        let underflow = tx_write_event("hackrf", soapy(soapysdr::ErrorCode::Underflow));
        assert_eq!(underflow, StreamEvent::Underflow);
        let timeout = tx_write_event("hackrf", soapy(soapysdr::ErrorCode::Timeout));
        assert!(matches!(timeout, StreamEvent::Lost(_)), "{timeout:?}");
    }
}

#[cfg(all(test, feature = "seify_dummy"))]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_driver_opens_configures_and_streams() {
        let profile = DeviceProfile::from_args("driver=dummy");
        let mut rx = open_rx(&profile).expect("the dummy device opens");
        let mut buf = vec![Complex32::new(1.0, 1.0); 1000];
        assert_eq!(rx.read(&mut buf), Ok(1000));
        assert!(
            buf.iter().all(|s| *s == Complex32::new(0.0, 0.0)),
            "dummy yields zeros"
        );
        let mut tx = open_tx(&profile).unwrap();
        assert_eq!(tx.write(&buf[..300]), Ok(300));
        assert!(enumerate_devices().is_ok());
    }

    #[test]
    fn a_missing_device_is_an_error_naming_its_arguments() {
        let profile = DeviceProfile::from_args("driver=nosuchdriver");
        let e = open_rx(&profile).err().expect("no such driver").to_string();
        assert!(e.contains("driver=nosuchdriver"), "{e}");
    }
}
