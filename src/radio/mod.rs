//! Radio devices: profiles and overrides (every build), and with the `radio` feature
//! (`soapy` or `seify_dummy`) the Seify device streams the device blocks use.

pub mod profile;
#[cfg(feature = "radio")]
pub mod seify_stream;
pub mod stream;

pub use profile::{DeviceOverrides, DeviceProfile, DirectionProfile, Duplex, ProfileError};
