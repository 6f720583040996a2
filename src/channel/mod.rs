//! Streaming, seeded baseband channel simulator.
//!
//! Impairments, one per file, applied in this order by [`ChannelSimulator`]:
//! multipath fading ([`Multipath`]) -> sample timing offset and sampling clock offset
//! ([`TimingOffset`]) -> carrier frequency offset ([`Cfo`]) -> Wiener phase noise
//! ([`PhaseNoise`]) -> additive white Gaussian noise ([`Awgn`]).
//!
//! Every random draw derives from one `seed`: each random impairment owns an independent
//! ChaCha8 stream (same key, its own stream number), so changing one impairment's
//! parameters (say the SNR) leaves the draws of the others (say the fading) unchanged.
//! ChaCha8 output is identical on every platform.

pub mod awgn;
pub mod cfo;
pub mod error;
pub mod multipath;
pub mod phase_noise;
pub mod simulator;
pub mod timing;

pub use awgn::Awgn;
pub use cfo::Cfo;
pub use error::ChannelError;
pub use multipath::{Multipath, MultipathConfig};
pub use phase_noise::PhaseNoise;
pub use simulator::{ChannelConfig, ChannelSimulator};
pub use timing::TimingOffset;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// ChaCha stream number of the multipath tap draws.
pub(crate) const STREAM_MULTIPATH: u64 = 1;
/// ChaCha stream number of the phase-noise increments.
pub(crate) const STREAM_PHASE_NOISE: u64 = 2;
/// ChaCha stream number of the additive noise.
pub(crate) const STREAM_AWGN: u64 = 3;

/// The random sub-stream `stream` of `seed`.
pub(crate) fn sub_stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
