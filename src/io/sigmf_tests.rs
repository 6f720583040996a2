//! Round trips and refusals of SigMF recordings written and read by this module.

use super::sigmf_meta::Annotation;
use super::sigmf_paths::{sha512_of_file, SigmfPaths};
use super::sigmf_reader::{read_sigmf, SigmfReader};
use super::sigmf_resampled::read_sigmf_at;
use super::sigmf_writer::{write_sigmf, RecordingInfo};
use super::{SampleFormat, SigmfError};
use num_complex::Complex32;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("m4sc-sigmf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn info(sample_rate_hz: f64) -> RecordingInfo {
    RecordingInfo {
        sample_rate_hz,
        center_freq_hz: Some(2.412e9),
        datetime: "2026-01-01T00:00:00.000Z".into(),
        hardware: "channel simulator".into(),
        author: "m4sc tests".into(),
        description: "test recording".into(),
        seed: Some(7),
    }
}

fn ramp(n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|i| {
            Complex32::new(
                (i as f32 * 0.013).sin() * 1.5,
                (i as f32 * 0.029).cos() * -1.2,
            )
        })
        .collect()
}

#[test]
fn every_format_round_trips_with_its_metadata() {
    let dir = temp_dir("round-trip");
    let samples = ramp(3001);
    let mut ann = Annotation::new(100, 400);
    ann.kind = Some("data".into());
    ann.decode = Some("ok".into());
    for (format, tol) in [
        (SampleFormat::Cf32Le, 0.0),
        (SampleFormat::Ci16Le, 2.0 / 32768.0),
        (SampleFormat::Ci8, 2.0 / 128.0),
    ] {
        let path = dir.join(format!("rec-{format}.sigmf-meta"));
        let written =
            write_sigmf(&path, &samples, format, 2.0, &info(20e6), vec![ann.clone()]).unwrap();
        let (meta, back) = read_sigmf(&path).unwrap();
        assert_eq!(meta, written, "{format}: metadata changed on disk");
        assert_eq!(meta.global.datatype, format.datatype());
        assert_eq!(meta.annotations, vec![ann.clone()]);
        assert_eq!(
            meta.captures[0].datetime.as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        let data = SigmfPaths::of(&path).unwrap().data;
        assert_eq!(
            std::fs::metadata(&data).unwrap().len(),
            (samples.len() * format.bytes_per_sample()) as u64,
            "{format}: data file size"
        );
        assert_eq!(
            meta.global.sha512.as_deref(),
            Some(sha512_of_file(&data).unwrap().as_str()),
            "{format}: core:sha512 must be the data file's"
        );
        let worst = samples
            .iter()
            .zip(&back)
            .map(|(a, b)| (a.re - b.re).abs().max((a.im - b.im).abs()))
            .fold(0.0f32, f32::max);
        assert_eq!(back.len(), samples.len());
        assert!(worst <= tol * 0.5 * 1.0001, "{format}: error {worst}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a valid ci16 recording, applies `spoil` to its metadata JSON and data
/// bytes, and returns the error opening it gives.
fn spoiled(name: &str, spoil: impl FnOnce(&mut serde_json::Value, &mut Vec<u8>)) -> SigmfError {
    let dir = temp_dir(name);
    let path = dir.join(format!("{name}.sigmf-meta"));
    write_sigmf(
        &path,
        &ramp(50),
        SampleFormat::Ci16Le,
        2.0,
        &info(20e6),
        vec![],
    )
    .unwrap();
    let paths = SigmfPaths::of(&path).unwrap();
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&paths.meta).unwrap()).unwrap();
    let mut data = std::fs::read(&paths.data).unwrap();
    spoil(&mut meta, &mut data);
    std::fs::write(&paths.meta, meta.to_string()).unwrap();
    std::fs::write(&paths.data, &data).unwrap();
    let err = match SigmfReader::open(&path) {
        Ok(mut r) => {
            let mut out = Vec::new();
            r.read_block(usize::MAX, &mut out).unwrap_err()
        }
        Err(e) => e,
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        err.to_string().contains(name),
        "error must name the file: {err}"
    );
    err
}

fn without_sha(meta: &mut serde_json::Value) {
    meta["global"]
        .as_object_mut()
        .unwrap()
        .remove("core:sha512");
}

#[test]
fn malformed_metadata_is_refused_naming_the_file() {
    let e = spoiled("no-datatype", |m, _| {
        m["global"].as_object_mut().unwrap().remove("core:datatype");
    });
    assert!(e.to_string().contains("core:datatype"), "{e}");
    let e = spoiled("no-rate", |m, _| {
        m["global"]
            .as_object_mut()
            .unwrap()
            .remove("core:sample_rate");
    });
    assert!(e.to_string().contains("core:sample_rate"), "{e}");
    let e = spoiled("no-version", |m, _| {
        m["global"].as_object_mut().unwrap().remove("core:version");
    });
    assert!(e.to_string().contains("core:version"), "{e}");
    let e = spoiled("cu8", |m, _| m["global"]["core:datatype"] = "cu8".into());
    assert!(matches!(e, SigmfError::UnknownDatatype { .. }), "{e:?}");
    let e = spoiled("v2", |m, _| m["global"]["core:version"] = "2.0.0".into());
    assert!(e.to_string().contains("SigMF 1.x"), "{e}");
    let e = spoiled("rate0", |m, _| m["global"]["core:sample_rate"] = 0.0.into());
    assert!(e.to_string().contains("core:sample_rate"), "{e}");
    let e = spoiled("bad-time", |m, _| {
        m["captures"][0]["core:datetime"] = "today".into()
    });
    assert!(e.to_string().contains("core:datetime"), "{e}");
    let e = spoiled("ann-past-end", |m, _| {
        m["annotations"] = serde_json::json!([{"core:sample_start": 40, "core:sample_count": 11}]);
    });
    assert!(e.to_string().contains("annotation end"), "{e}");
    let e = spoiled("not-json", |m, _| *m = "{".into());
    assert!(matches!(e, SigmfError::Json { .. }), "{e:?}");
}

#[test]
fn a_changed_data_file_fails_its_sha512() {
    let e = spoiled("flipped", |_, d| d[17] ^= 1);
    assert!(matches!(e, SigmfError::Sha512Mismatch { .. }), "{e:?}");
    // Without a recorded hash the same change is accepted (nothing to check against).
    let dir = temp_dir("no-sha");
    let path = dir.join("rec.sigmf-meta");
    write_sigmf(
        &path,
        &ramp(10),
        SampleFormat::Ci8,
        2.0,
        &info(20e6),
        vec![],
    )
    .unwrap();
    let meta_path = SigmfPaths::of(&path).unwrap().meta;
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    without_sha(&mut m);
    std::fs::write(&meta_path, m.to_string()).unwrap();
    assert!(SigmfReader::open(&path).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn partial_samples_and_nan_samples_are_refused() {
    let e = spoiled("partial", |m, d| {
        without_sha(m);
        d.push(0);
    });
    match e {
        SigmfError::PartialSample {
            len_bytes,
            bytes_per_sample,
            ..
        } => {
            assert_eq!((len_bytes, bytes_per_sample), (201, 4));
        }
        other => panic!("expected PartialSample, got {other:?}"),
    }
    let e = spoiled("nan", |m, d| {
        without_sha(m);
        m["global"]["core:datatype"] = "cf32_le".into();
        d.clear();
        for i in 0..25 {
            let re = if i == 13 { f32::NAN } else { i as f32 };
            d.extend_from_slice(&re.to_le_bytes());
            d.extend_from_slice(&0f32.to_le_bytes());
        }
    });
    match e {
        SigmfError::NonFinite { index, .. } => assert_eq!(index, 13, "wrong sample index"),
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn a_recording_at_another_rate_is_read_at_20_mhz() {
    // A 3 MHz tone recorded at 25 MS/s must come back as the same tone sampled at
    // 20 MS/s, with no delay, and with 4/5 of the samples.
    let dir = temp_dir("rate");
    let path: &Path = &dir.join("tone25.sigmf-meta");
    let tone = |t: f64| {
        let ph = 2.0 * std::f64::consts::PI * 3e6 * t;
        Complex32::new(ph.cos() as f32, ph.sin() as f32)
    };
    let x: Vec<Complex32> = (0..25_000).map(|i| tone(i as f64 / 25e6)).collect();
    write_sigmf(path, &x, SampleFormat::Cf32Le, 1.0, &info(25e6), vec![]).unwrap();
    let y = read_sigmf_at(path, 20e6).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(y.len(), 20_000);
    let worst = (1000..19_000)
        .map(|n| (y[n] - tone(n as f64 / 20e6)).norm())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "resampled tone error {worst}");
}
