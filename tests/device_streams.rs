//! The device receive path with a scripted device stream: recording at the device's
//! rate, decoding at 20 MHz, overflows counted, and a device lost mid-run keeping what
//! it delivered.

use m4sc::flowgraphs::receive::receive_radio;
use m4sc::flowgraphs::record::{record, AirSource};
use m4sc::flowgraphs::replay::replay;
use m4sc::io::{RecordingInfo, SampleFormat, SigmfWriter};
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::{Complex32, RxFrame};
use m4sc::radio::stream::{RxStream, StreamEvent};
use m4sc::resample::RationalResampler;
use m4sc::traffic::random_data_frames;

/// Hands out `samples` in pieces of at most `piece`, reports one overflow after the
/// first piece, then reports the device lost.
struct ScriptedStream {
    samples: Vec<Complex32>,
    pos: usize,
    piece: usize,
    calls: usize,
}

impl RxStream for ScriptedStream {
    fn read(&mut self, out: &mut [Complex32]) -> Result<usize, StreamEvent> {
        self.calls += 1;
        if self.calls == 2 {
            return Err(StreamEvent::Overflow);
        }
        if self.pos == self.samples.len() {
            return Err(StreamEvent::Lost("scripted device: unplugged".into()));
        }
        let n = out.len().min(self.piece).min(self.samples.len() - self.pos);
        out[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }

    fn stop(&mut self) -> Result<(), StreamEvent> {
        Ok(())
    }
}

/// Three 12 Mb/s frames with gaps at 20 MS/s, as a 25 MS/s radio delivers them; and
/// the frames.
fn radio_air() -> (Vec<Complex32>, Vec<m4sc::blocks::TxFrame>) {
    let frames = random_data_frames(3, m4sc::phy::Rate::Mbps12, 300, 5).unwrap();
    let mut air = vec![Complex32::new(0.0, 0.0); 500];
    for (i, f) in frames.iter().enumerate() {
        air.extend(f.encode(1 + i as u8).unwrap());
        air.extend(vec![Complex32::new(0.0, 0.0); 700]);
    }
    let mut up = RationalResampler::new(5, 4);
    let mut air_25 = Vec::new();
    up.process(&air, &mut air_25);
    up.finish(&mut air_25);
    // Scale as a device would deliver (peaks within [-1, 1]).
    air_25.iter_mut().for_each(|s| *s *= 0.25);
    (air_25, frames)
}

#[test]
fn receiving_from_a_radio_at_another_rate_decodes_until_it_is_lost() {
    let (air_25, frames) = radio_air();
    let stream = ScriptedStream {
        samples: air_25.clone(),
        pos: 0,
        piece: 3000,
        calls: 0,
    };
    let out = receive_radio(
        "scripted",
        Box::new(stream),
        25e6,
        None,
        ReceiverConfig::default(),
    )
    .unwrap();
    assert_eq!(
        out.device_lost.as_deref(),
        Some("scripted device: unplugged")
    );
    assert_eq!((out.overflows, out.samples), (1, air_25.len() as u64));
    assert_eq!(out.frames.len(), frames.len(), "{:?}", out.stats);
    assert_eq!(
        out.stats.samples,
        air_25.len() as u64 * 4 / 5,
        "decoded at 20 MS/s"
    );
}

#[test]
fn a_lost_device_ends_the_run_and_keeps_what_it_delivered() {
    let (air_25, frames) = radio_air();

    let dir = std::env::temp_dir().join(format!("m4sc-device-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("radio.sigmf-meta");
    let writer = SigmfWriter::create(&path, SampleFormat::Ci8, 1.0).unwrap();
    let info = RecordingInfo {
        sample_rate_hz: 25e6,
        center_freq_hz: Some(2.412e9),
        datetime: "2026-01-01T00:00:00Z".into(),
        hardware: "scripted device".into(),
        author: "test".into(),
        description: "device path test".into(),
        seed: None,
    };
    let stream = ScriptedStream {
        samples: air_25.clone(),
        pos: 0,
        piece: 4096,
        calls: 0,
    };
    let source = AirSource::Device {
        name: "scripted device".into(),
        stream: Box::new(stream),
        sample_rate_hz: 25e6,
        max_samples: None,
    };
    let outcome = record(source, writer, ReceiverConfig::default(), &info).unwrap();
    assert_eq!(
        outcome.device_lost.as_deref(),
        Some("scripted device: unplugged")
    );
    assert_eq!(outcome.overflows, 1, "the overflow must be counted");
    assert_eq!(
        outcome.samples,
        air_25.len() as u64,
        "every delivered sample is kept"
    );
    assert_eq!(
        outcome.frames.len(),
        3,
        "decoded at 20 MHz: {:?}",
        outcome.stats
    );
    for (rx, tx) in outcome.frames.iter().zip(&frames) {
        let (RxFrame::Data(r), m4sc::blocks::TxFrame::Data { psdu, .. }) = (rx, tx) else {
            panic!("expected data frames");
        };
        assert_eq!(&r.psdu, psdu);
    }
    // The annotations are at the recording's 25 MS/s: the first frame starts at
    // 500 samples at 20 MS/s, 625 at 25 MS/s.
    let first = &outcome.meta.annotations[0];
    assert!(first.sample_start.abs_diff(625) <= 3, "{first:?}");
    let replayed = replay(&path, ReceiverConfig::default()).unwrap();
    assert_eq!(replayed.frames.len(), 3, "the kept recording replays");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_duration_limit_stops_a_stream_that_never_ends() {
    struct Silence;
    impl RxStream for Silence {
        fn read(&mut self, out: &mut [Complex32]) -> Result<usize, StreamEvent> {
            out.fill(Complex32::new(0.0, 0.0));
            Ok(out.len())
        }
        fn stop(&mut self) -> Result<(), StreamEvent> {
            Ok(())
        }
    }
    let dir = std::env::temp_dir().join(format!("m4sc-device-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("quiet.sigmf-meta");
    let writer = SigmfWriter::create(&path, SampleFormat::Ci16Le, 1.0).unwrap();
    let info = RecordingInfo {
        sample_rate_hz: 20e6,
        center_freq_hz: Some(5.785e9),
        datetime: "2026-01-01T00:00:00Z".into(),
        hardware: "silent device".into(),
        author: "test".into(),
        description: "limit test".into(),
        seed: None,
    };
    let source = AirSource::Device {
        name: "silent device".into(),
        stream: Box::new(Silence),
        sample_rate_hz: 20e6,
        max_samples: Some(123_457),
    };
    let outcome = record(source, writer, ReceiverConfig::default(), &info).unwrap();
    assert_eq!(outcome.samples, 123_457);
    assert_eq!(outcome.device_lost, None);
    assert!(outcome.frames.is_empty() && outcome.meta.annotations.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_radio_lost_at_once_still_ends_the_run() {
    // A source that finishes before the blocks after it are initialized must not leave
    // them waiting (see the `flowgraphs` module documentation). Eight threads run short
    // flowgraphs through the resampler at once, so that initialization is slow; every
    // run must end within 30 s and report the loss.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let runs_per_thread = 15;
    for _ in 0..8 {
        let done_tx = done_tx.clone();
        std::thread::spawn(move || {
            for _ in 0..runs_per_thread {
                let stream = ScriptedStream {
                    samples: vec![Complex32::new(0.0, 0.0); 50],
                    pos: 0,
                    piece: 50,
                    calls: 1,
                };
                let config = ReceiverConfig::default();
                let out = receive_radio("brief", Box::new(stream), 25e6, None, config);
                let _ = done_tx.send(out.map(|o| o.device_lost.is_some()));
            }
        });
    }
    for run in 0..8 * runs_per_thread {
        let lost = done_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{run} runs finished, the others hang"));
        assert!(lost.unwrap(), "the loss must be reported");
    }
}

#[test]
fn a_radio_receiver_serves_every_user_of_a_scenario() {
    use m4sc::flowgraphs::receive::receive_radio_scenario;
    use m4sc::multiuser::scenario::Scenario;
    use m4sc::multiuser::transmitter::transmit;
    use m4sc::multiuser::user_receiver::TaskOutput;
    use m4sc::semantic::model::SemanticModel;
    use std::sync::Arc;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&root.join("examples/mixed_image_text.toml")).unwrap();
    let (model, tokenizer) =
        SemanticModel::load(&root.join("weights/default"), &candle_core::Device::Cpu).unwrap();
    let (model, tokenizer) = (Arc::new(model), Arc::new(tokenizer));
    let tx = transmit(&model, &tokenizer, &scenario).unwrap();
    let mut air = vec![Complex32::new(0.0, 0.0); 500];
    for (i, f) in tx.frames.iter().enumerate() {
        air.extend(f.encode(1 + i as u8).unwrap());
        air.extend(vec![Complex32::new(0.0, 0.0); 700]);
    }
    air.iter_mut().for_each(|s| *s *= 0.25);
    let stream = ScriptedStream {
        samples: air,
        pos: 0,
        piece: 2000,
        calls: 0,
    };
    let (out, users) = receive_radio_scenario(
        "scripted",
        Box::new(stream),
        20e6,
        None,
        ReceiverConfig::default(),
        (&scenario, &model, &tokenizer),
    )
    .unwrap();
    assert_eq!(out.frames.len(), tx.frames.len(), "{:?}", out.stats);
    assert_eq!(users.len(), scenario.users.len());
    // A clean radio carries every frame: each user must get its content, a picture for
    // reconstruction and text otherwise. A user routed to another's message, or one
    // whose receiver missed the public broadcast, would fail here.
    for (user, outcome) in scenario.users.iter().zip(&users) {
        let result = outcome.result.as_ref().expect("the semantic receiver ran");
        let output = result
            .output
            .as_ref()
            .unwrap_or_else(|why| panic!("{}: not delivered: {why}", user.name));
        let is_image = matches!(output, TaskOutput::Image(_));
        assert_eq!(is_image, user.task.name() == "reconstruct", "{}", user.name);
    }
}
