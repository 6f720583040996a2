//! Sample-rate conversion: recordings and radios at other rates brought to the PHY's
//! 20 MHz.

pub mod kaiser_sinc;
pub mod ratio;
pub mod rational;

pub use ratio::{resample_ratio, RatioError};
pub use rational::RationalResampler;
