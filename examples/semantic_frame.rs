//! Sends one semantic frame of QPSK-like channel symbols through a multipath channel with
//! the PHY library alone (no flowgraph), and prints how well the symbols came back.
//!
//! ```sh
//! cargo run --release --example semantic_frame -- 20
//! ```
//! The optional argument is the SNR in dB (default 20).

use m4sc::channel::{ChannelConfig, ChannelSimulator, MultipathConfig};
use m4sc::link_metrics::symbol_evm_db;
use m4sc::phy::rx::{Receiver, ReceiverConfig};
use m4sc::phy::tx::semantic_frame::encode_semantic_frame;
use m4sc::phy::{Complex32, RxFrame, SemanticHeader, StreamKind};

fn main() -> anyhow::Result<()> {
    let snr_db: f32 = match std::env::args().nth(1) {
        Some(s) => s
            .parse()
            .map_err(|_| anyhow::anyhow!("SNR must be a number of dB, got {s:?}"))?,
        None => 20.0,
    };

    // 256 unit-power symbols: the channel symbols of one image in the default model.
    let symbols: Vec<Complex32> = (0..256)
        .map(|i| Complex32::from_polar(1.0, std::f32::consts::FRAC_PI_4 * (2 * (i % 4) + 1) as f32))
        .collect();
    let header = SemanticHeader {
        kind: 0,
        stream: StreamKind::Public,
        destination: m4sc::phy::BROADCAST,
        task: 1,
        message_id: 7,
        fragment_index: 0,
        fragment_count: 1,
        n_symbols: symbols.len() as u16,
    };
    let mut samples = vec![Complex32::default(); 200];
    samples.extend(encode_semantic_frame(&header, &symbols)?);
    samples.extend(std::iter::repeat_n(Complex32::default(), 200));

    let mut channel = ChannelSimulator::new(ChannelConfig {
        snr_db: Some(snr_db),
        multipath: Some(MultipathConfig::default()),
        cfo_hz: 30e3,
        seed: 3,
        ..ChannelConfig::default()
    })?;
    let mut air = Vec::with_capacity(samples.len());
    channel.apply(&samples, &mut air);

    let mut receiver = Receiver::new(ReceiverConfig::default());
    let mut frames = Vec::new();
    receiver.process(&air, &mut frames);
    receiver.finish(&mut frames);

    match frames.first() {
        Some(RxFrame::Semantic(f)) => {
            println!(
                "header {:?}\nestimated SNR {:.1} dB, CFO {:.0} Hz, \
                 symbol EVM {:.1} dB at {snr_db} dB",
                f.header,
                f.info.snr_db,
                f.info.cfo_hz,
                symbol_evm_db(&f.symbols, &symbols)
            );
        }
        _ => println!("frame lost: {:?}", receiver.stats()),
    }
    Ok(())
}
