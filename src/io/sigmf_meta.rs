//! The SigMF metadata file (`.sigmf-meta`, JSON): the core fields m4sc writes and reads,
//! plus its own `m4sc:` namespace on the global object and on frame annotations.
//!
//! Field names follow the SigMF specification, version 1.x: a `global` object, a list of
//! `captures` (segments of the data file with their centre frequency and time) and a list
//! of `annotations` (sample ranges with what is in them). Fields of other namespaces are
//! ignored on reading.

use serde::{Deserialize, Serialize};

/// SigMF version written by m4sc.
pub const SIGMF_VERSION: &str = "1.2.0";
/// Name of m4sc's metadata namespace, declared in `core:extensions`.
pub const M4SC_NAMESPACE: &str = "m4sc";

/// A whole metadata file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigmfMeta {
    pub global: Global,
    pub captures: Vec<Capture>,
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

/// The `global` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Global {
    /// Sample format, e.g. `ci16_le` (validated against
    /// [`SampleFormat`](super::SampleFormat) by the reader).
    #[serde(rename = "core:datatype")]
    pub datatype: String,
    /// Sample rate of the data file, Hz.
    #[serde(rename = "core:sample_rate")]
    pub sample_rate_hz: f64,
    /// SigMF version the file follows.
    #[serde(rename = "core:version")]
    pub version: String,
    #[serde(
        rename = "core:num_channels",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub num_channels: Option<u64>,
    /// SHA-512 of the data file, lower-case hexadecimal.
    #[serde(
        rename = "core:sha512",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sha512: Option<String>,
    #[serde(
        rename = "core:hardware",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hardware: Option<String>,
    #[serde(
        rename = "core:author",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub author: Option<String>,
    #[serde(
        rename = "core:description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(
        rename = "core:recorder",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recorder: Option<String>,
    #[serde(
        rename = "core:extensions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extensions: Vec<Extension>,
    /// Amplitude that integer full scale stands for (`i16` 32768, `i8` 128); the reader
    /// multiplies decoded integers by it. Absent means 1.
    #[serde(
        rename = "m4sc:full_scale",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub full_scale: Option<f32>,
    /// The seed the recording's frames and channel were drawn from, when synthetic.
    #[serde(rename = "m4sc:seed", default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One entry of `core:extensions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub version: String,
    pub optional: bool,
}

/// One capture segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// First sample of the segment in the data file.
    #[serde(rename = "core:sample_start")]
    pub sample_start: u64,
    /// Centre frequency of the segment, Hz.
    #[serde(
        rename = "core:frequency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub center_freq_hz: Option<f64>,
    /// Time of the segment's first sample, ISO-8601 UTC (`2026-01-01T00:00:00.000Z`).
    #[serde(
        rename = "core:datetime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub datetime: Option<String>,
}

/// One annotation: a range of samples and what m4sc's receiver found there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    #[serde(rename = "core:sample_start")]
    pub sample_start: u64,
    #[serde(
        rename = "core:sample_count",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sample_count: Option<u64>,
    /// Short human-readable summary, e.g. `data 24 Mb/s ok`.
    #[serde(
        rename = "core:label",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label: Option<String>,
    #[serde(
        rename = "core:comment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub comment: Option<String>,
    /// `data` (802.11a data frame), `semantic`, or `unknown` (a detection that failed
    /// before its kind was known).
    #[serde(rename = "m4sc:kind", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Decode result: `ok`, `fcs-error`, `header-error`, `signal-error`,
    /// `sync-failure` or `truncated`.
    #[serde(
        rename = "m4sc:decode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub decode: Option<String>,
    /// Data rate of a data frame, Mb/s.
    #[serde(
        rename = "m4sc:rate_mbps",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_mbps: Option<u32>,
    /// PSDU length of a data frame, bytes (FCS included).
    #[serde(
        rename = "m4sc:psdu_bytes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub psdu_bytes: Option<u64>,
    /// CRC-32 (IEEE 802.3) of the PSDU's bytes before its FCS, as 8 hexadecimal digits.
    #[serde(
        rename = "m4sc:psdu_crc32",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub psdu_crc32: Option<String>,
    /// Semantic frame: destination user (255 broadcast).
    #[serde(rename = "m4sc:user", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<u8>,
    /// Semantic frame: `public` or `private`.
    #[serde(
        rename = "m4sc:stream",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stream: Option<String>,
    /// Semantic frame: task code, message id, fragment index and count.
    #[serde(rename = "m4sc:task", default, skip_serializing_if = "Option::is_none")]
    pub task: Option<u8>,
    #[serde(
        rename = "m4sc:message_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_id: Option<u16>,
    #[serde(
        rename = "m4sc:fragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fragment: Option<[u8; 2]>,
    /// Semantic frame: number of channel symbols.
    #[serde(
        rename = "m4sc:n_symbols",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub n_symbols: Option<u16>,
    #[serde(
        rename = "m4sc:snr_db",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub snr_db: Option<f32>,
    #[serde(
        rename = "m4sc:cfo_hz",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cfo_hz: Option<f32>,
    #[serde(
        rename = "m4sc:evm_db",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub evm_db: Option<f32>,
}

impl Annotation {
    /// An annotation of `sample_count` samples from `sample_start` with every optional
    /// field empty.
    pub fn new(sample_start: u64, sample_count: u64) -> Self {
        Self {
            sample_start,
            sample_count: Some(sample_count),
            label: None,
            comment: None,
            kind: None,
            decode: None,
            rate_mbps: None,
            psdu_bytes: None,
            psdu_crc32: None,
            user: None,
            stream: None,
            task: None,
            message_id: None,
            fragment: None,
            n_symbols: None,
            snr_db: None,
            cfo_hz: None,
            evm_db: None,
        }
    }
}

impl Global {
    /// A global object for a single-channel recording of `datatype` at `sample_rate_hz`
    /// that declares the m4sc namespace; the optional fields are empty.
    pub fn new(datatype: &str, sample_rate_hz: f64) -> Self {
        Self {
            datatype: datatype.to_string(),
            sample_rate_hz,
            version: SIGMF_VERSION.to_string(),
            num_channels: Some(1),
            sha512: None,
            hardware: None,
            author: None,
            description: None,
            recorder: Some(format!("m4sc {}", env!("CARGO_PKG_VERSION"))),
            extensions: vec![Extension {
                name: M4SC_NAMESPACE.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                optional: true,
            }],
            full_scale: None,
            seed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_the_spec_field_names() {
        let mut global = Global::new("ci16_le", 20e6);
        global.sha512 = Some("ab".into());
        let mut ann = Annotation::new(400, 1200);
        ann.kind = Some("data".into());
        ann.rate_mbps = Some(24);
        let meta = SigmfMeta {
            global,
            captures: vec![Capture {
                sample_start: 0,
                center_freq_hz: Some(2.412e9),
                datetime: Some("2026-01-01T00:00:00.000Z".into()),
            }],
            annotations: vec![ann],
        };
        let v: serde_json::Value = serde_json::to_value(&meta).unwrap();
        assert_eq!(v["global"]["core:datatype"], "ci16_le");
        assert_eq!(v["global"]["core:sample_rate"], 20e6);
        assert_eq!(v["global"]["core:version"], SIGMF_VERSION);
        assert_eq!(v["global"]["core:extensions"][0]["name"], "m4sc");
        assert_eq!(v["captures"][0]["core:frequency"], 2.412e9);
        assert_eq!(v["annotations"][0]["core:sample_count"], 1200);
        assert_eq!(v["annotations"][0]["m4sc:rate_mbps"], 24);
        assert!(
            v["annotations"][0].get("m4sc:user").is_none(),
            "empty optional fields must be left out"
        );
        let back: SigmfMeta = serde_json::from_value(v).unwrap();
        assert_eq!(back, meta, "JSON round trip changed the metadata");
    }
}
