//! Radio device profiles (`hw/NAME.toml`) and the command-line overrides applied to them.
//!
//! A profile names the device(s) by their Seify/SoapySDR arguments, one per direction
//! (a half-duplex radio such as the HackRF One needs two devices for a link; a
//! full-duplex one such as the USRP B210 can use the same arguments for both), and the
//! settings a link needs: centre frequency, sample rate, gains and antennas. Parsing
//! and checking need no radio library, so they work in every build.

use crate::resample::resample_ratio;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Whether one device can transmit and receive at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Duplex {
    /// One direction at a time: a link needs two devices.
    Half,
    /// Both directions at once.
    Full,
}

/// The settings of one direction.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionProfile {
    /// Seify device arguments, e.g. `driver=soapy,soapy_driver=hackrf,serial=...`.
    pub args: String,
    /// Overall gain, dB.
    pub gain_db: f64,
    /// Antenna port name (`None`: the driver's default).
    #[serde(default)]
    pub antenna: Option<String>,
}

/// A device profile as written in `hw/NAME.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// Human-readable device name, e.g. `HackRF One`.
    pub name: String,
    pub duplex: Duplex,
    /// Centre frequency, Hz.
    pub center_freq_hz: f64,
    /// Sample rate of the device, Hz; resampled to and from the PHY's 20 MHz when it
    /// differs.
    pub sample_rate_hz: f64,
    /// Analog filter bandwidth, Hz (`None`: the driver's choice).
    #[serde(default)]
    pub bandwidth_hz: Option<f64>,
    pub rx: DirectionProfile,
    pub tx: DirectionProfile,
}

/// Command-line settings that replace a profile's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceOverrides {
    /// Seify arguments for both directions.
    pub device_args: Option<String>,
    pub center_freq_hz: Option<f64>,
    pub sample_rate_hz: Option<f64>,
    pub tx_gain_db: Option<f64>,
    pub rx_gain_db: Option<f64>,
    /// Antenna for both directions.
    pub antenna: Option<String>,
}

/// Why a profile or its overrides cannot be used; each names the file (or
/// `command line`) and the field.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read device profile {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("device profile {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: {field} = {value}: expected {expected}")]
    Invalid {
        origin: String,
        field: &'static str,
        value: String,
        expected: String,
    },
}

impl DeviceProfile {
    /// Reads and checks the profile at `path`.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let profile: DeviceProfile = toml::from_str(&text).map_err(|e| ProfileError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        profile.check(&path.display().to_string())?;
        Ok(profile)
    }

    /// A profile for `device_args` in both directions with no gain, for `--device`
    /// without `--profile`: 2.412 GHz (2.4 GHz ISM band, Wi-Fi channel 1), 20 MS/s.
    pub fn from_args(device_args: &str) -> Self {
        let side = DirectionProfile {
            args: device_args.to_string(),
            gain_db: 0.0,
            antenna: None,
        };
        Self {
            name: device_args.to_string(),
            duplex: Duplex::Full,
            center_freq_hz: 2.412e9,
            sample_rate_hz: 20e6,
            bandwidth_hz: None,
            rx: side.clone(),
            tx: side,
        }
    }

    /// Applies `o` (checked like the file).
    pub fn with_overrides(mut self, o: &DeviceOverrides) -> Result<Self, ProfileError> {
        if let Some(a) = &o.device_args {
            self.rx.args = a.clone();
            self.tx.args = a.clone();
        }
        if let Some(f) = o.center_freq_hz {
            self.center_freq_hz = f;
        }
        if let Some(r) = o.sample_rate_hz {
            self.sample_rate_hz = r;
        }
        if let Some(g) = o.tx_gain_db {
            self.tx.gain_db = g;
        }
        if let Some(g) = o.rx_gain_db {
            self.rx.gain_db = g;
        }
        if let Some(a) = &o.antenna {
            self.rx.antenna = Some(a.clone());
            self.tx.antenna = Some(a.clone());
        }
        self.check("command line")?;
        Ok(self)
    }

    /// Checks every field's range; `origin` names where the values came from.
    pub fn check(&self, origin: &str) -> Result<(), ProfileError> {
        let invalid = |field: &'static str, value: String, expected: &str| ProfileError::Invalid {
            origin: origin.to_string(),
            field,
            value,
            expected: expected.to_string(),
        };
        let f = self.center_freq_hz;
        if !(f.is_finite() && (1e6..=7.25e9).contains(&f)) {
            return Err(invalid("center_freq_hz", f.to_string(), "1e6..=7.25e9 Hz"));
        }
        let r = self.sample_rate_hz;
        if !(r.is_finite() && (1e5..=100e6).contains(&r)) {
            return Err(invalid("sample_rate_hz", r.to_string(), "1e5..=100e6 Hz"));
        }
        if let Err(e) = resample_ratio(r, 20e6) {
            return Err(invalid("sample_rate_hz", r.to_string(), &e.to_string()));
        }
        if let Some(b) = self.bandwidth_hz {
            if !(b.is_finite() && b > 0.0) {
                return Err(invalid(
                    "bandwidth_hz",
                    b.to_string(),
                    "a bandwidth above 0 Hz",
                ));
            }
        }
        for (field, side) in [("rx.gain_db", &self.rx), ("tx.gain_db", &self.tx)] {
            if !(side.gain_db.is_finite() && (-20.0..=120.0).contains(&side.gain_db)) {
                return Err(invalid(field, side.gain_db.to_string(), "-20..=120 dB"));
            }
        }
        for (field, side) in [("rx.args", &self.rx), ("tx.args", &self.tx)] {
            if side.args.trim().is_empty() {
                return Err(invalid(field, "\"\"".into(), "Seify device arguments"));
            }
        }
        if self.duplex == Duplex::Half && self.rx.args == self.tx.args {
            log::warn!(
                "{origin}: half-duplex device {} uses the same arguments for receive and \
                 transmit; a link needs two devices",
                self.name
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("hw").join(name)
    }

    #[test]
    fn shipped_profiles_parse_and_pass_their_checks() {
        let hackrf = DeviceProfile::load(&hw("hackrf_one.toml")).unwrap();
        assert_eq!(hackrf.duplex, Duplex::Half);
        assert_ne!(hackrf.rx.args, hackrf.tx.args, "half duplex: two devices");
        assert_eq!(hackrf.sample_rate_hz, 20e6);
        let b210 = DeviceProfile::load(&hw("usrp_b210.toml")).unwrap();
        assert_eq!(b210.duplex, Duplex::Full);
        for p in [&hackrf, &b210] {
            let f = p.center_freq_hz;
            let ism_24 = (2.4e9 + 10e6..=2.4835e9 - 10e6).contains(&f);
            let ism_58 = (5.725e9 + 10e6..=5.875e9 - 10e6).contains(&f);
            assert!(
                ism_24 || ism_58,
                "{}: {f} Hz puts the 20 MHz channel outside ISM",
                p.name
            );
        }
    }

    #[test]
    fn overrides_replace_fields_and_are_checked() {
        let p = DeviceProfile::load(&hw("hackrf_one.toml")).unwrap();
        let o = DeviceOverrides {
            device_args: Some("driver=dummy".into()),
            center_freq_hz: Some(5.8e9),
            sample_rate_hz: Some(10e6),
            tx_gain_db: Some(3.0),
            rx_gain_db: Some(16.0),
            antenna: Some("TX/RX".into()),
        };
        let q = p.clone().with_overrides(&o).unwrap();
        assert_eq!(
            (q.rx.args.as_str(), q.tx.args.as_str()),
            ("driver=dummy", "driver=dummy")
        );
        assert_eq!((q.center_freq_hz, q.sample_rate_hz), (5.8e9, 10e6));
        assert_eq!((q.tx.gain_db, q.rx.gain_db), (3.0, 16.0));
        assert_eq!(q.rx.antenna.as_deref(), Some("TX/RX"));
        let bad = DeviceOverrides {
            sample_rate_hz: Some(19_999_999.0),
            ..DeviceOverrides::default()
        };
        let e = p.clone().with_overrides(&bad).unwrap_err().to_string();
        assert!(
            e.contains("command line") && e.contains("sample_rate_hz"),
            "{e}"
        );
        let nan = DeviceOverrides {
            center_freq_hz: Some(f64::NAN),
            ..DeviceOverrides::default()
        };
        assert!(p.with_overrides(&nan).is_err());
    }

    #[test]
    fn malformed_profiles_are_refused_naming_the_file_and_field() {
        let dir = std::env::temp_dir().join(format!("m4sc-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = std::fs::read_to_string(hw("usrp_b210.toml")).unwrap();
        let cases = [
            (
                "typo.toml",
                good.replace("center_freq_hz", "centre_freq_hz"),
                "centre_freq_hz",
            ),
            (
                "missing.toml",
                good.replace("duplex = \"full\"", ""),
                "duplex",
            ),
            (
                "gain.toml",
                good.replace("gain_db = 0.0", "gain_db = 400.0"),
                "tx.gain_db",
            ),
            ("duplex.toml", good.replace("\"full\"", "\"both\""), "both"),
        ];
        for (name, text, needle) in cases {
            assert_ne!(text, good, "{name}: the case must change the file");
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let e = DeviceProfile::load(&path).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
        }
        let e = DeviceProfile::load(&dir.join("absent.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent.toml"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
