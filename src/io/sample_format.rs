//! Sample formats of SigMF recordings (`core:datatype`): complex `f32`, complex
//! little-endian `i16` and complex `i8` (the HackRF's native format).
//!
//! Integers map to floats by dividing by `2^(bits - 1)` (so `i16` 16384 is 0.5 and
//! `i8` -128 is -1.0), then multiplying by the recording's full-scale amplitude. The
//! encoder inverts this with rounding to nearest and saturation: decoding an encoded
//! integer gives the same integer back, and a float inside full scale comes back within
//! half a quantization step.

use num_complex::Complex32;

/// One complex sample format of a SigMF data file; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SampleFormat {
    /// `cf32_le`: interleaved little-endian IEEE 754 `f32`, in-phase first.
    #[serde(rename = "cf32_le")]
    Cf32Le,
    /// `ci16_le`: interleaved little-endian two's-complement `i16`.
    #[serde(rename = "ci16_le")]
    Ci16Le,
    /// `ci8`: interleaved two's-complement `i8` (HackRF native).
    #[serde(rename = "ci8")]
    Ci8,
}

impl SampleFormat {
    /// Every supported format.
    pub const ALL: [SampleFormat; 3] = [
        SampleFormat::Cf32Le,
        SampleFormat::Ci16Le,
        SampleFormat::Ci8,
    ];

    /// The `core:datatype` string.
    pub const fn datatype(self) -> &'static str {
        match self {
            SampleFormat::Cf32Le => "cf32_le",
            SampleFormat::Ci16Le => "ci16_le",
            SampleFormat::Ci8 => "ci8",
        }
    }

    /// Parses a `core:datatype` string; `None` when it is not one of [`Self::ALL`].
    /// `ci8` has no byte order; SigMF also spells it `ci8_le`, accepted here.
    pub fn from_datatype(s: &str) -> Option<SampleFormat> {
        match s {
            "cf32_le" => Some(SampleFormat::Cf32Le),
            "ci16_le" => Some(SampleFormat::Ci16Le),
            "ci8" | "ci8_le" => Some(SampleFormat::Ci8),
            _ => None,
        }
    }

    /// Bytes per complex sample.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            SampleFormat::Cf32Le => 8,
            SampleFormat::Ci16Le => 4,
            SampleFormat::Ci8 => 2,
        }
    }

    /// Integer value of a float at full scale 1.0: `2^(bits - 1)`; 1 for `cf32_le`.
    const fn integer_scale(self) -> f32 {
        match self {
            SampleFormat::Cf32Le => 1.0,
            SampleFormat::Ci16Le => 32768.0,
            SampleFormat::Ci8 => 128.0,
        }
    }

    /// Decodes whole samples from `bytes` and appends them to `out`, multiplied by
    /// `full_scale` (integer formats; `cf32_le` is taken as it is).
    ///
    /// # Panics
    /// If `bytes.len()` is not a multiple of [`Self::bytes_per_sample`].
    pub fn decode(self, bytes: &[u8], full_scale: f32, out: &mut Vec<Complex32>) {
        let n = self.bytes_per_sample();
        assert!(
            bytes.len().is_multiple_of(n),
            "{}: expected a multiple of {n} bytes, got {}",
            self.datatype(),
            bytes.len()
        );
        let k = full_scale / self.integer_scale();
        match self {
            SampleFormat::Cf32Le => out.extend(bytes.chunks_exact(8).map(|c| {
                Complex32::new(
                    f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                    f32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                )
            })),
            SampleFormat::Ci16Le => out.extend(bytes.chunks_exact(4).map(|c| {
                Complex32::new(
                    f32::from(i16::from_le_bytes([c[0], c[1]])) * k,
                    f32::from(i16::from_le_bytes([c[2], c[3]])) * k,
                )
            })),
            SampleFormat::Ci8 => out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|c| Complex32::new(f32::from(c[0] as i8) * k, f32::from(c[1] as i8) * k)),
            ),
        }
    }

    /// Encodes `samples` divided by `full_scale` (integer formats) and appends the bytes
    /// to `out`; returns how many sample parts (I or Q) saturated. Non-finite parts
    /// encode as 0 in the integer formats and count as saturated.
    pub fn encode(self, samples: &[Complex32], full_scale: f32, out: &mut Vec<u8>) -> u64 {
        out.reserve(samples.len() * self.bytes_per_sample());
        let k = self.integer_scale() / full_scale;
        let (lo, hi) = (-self.integer_scale(), self.integer_scale() - 1.0);
        let mut saturated = 0u64;
        let mut quantize = |x: f32| -> f32 {
            let v = (x * k).round();
            if !v.is_finite() {
                saturated += 1;
                0.0
            } else if v < lo || v > hi {
                saturated += 1;
                v.clamp(lo, hi)
            } else {
                v
            }
        };
        match self {
            SampleFormat::Cf32Le => {
                for s in samples {
                    out.extend_from_slice(&s.re.to_le_bytes());
                    out.extend_from_slice(&s.im.to_le_bytes());
                }
            }
            SampleFormat::Ci16Le => {
                for s in samples {
                    out.extend_from_slice(&(quantize(s.re) as i16).to_le_bytes());
                    out.extend_from_slice(&(quantize(s.im) as i16).to_le_bytes());
                }
            }
            SampleFormat::Ci8 => {
                for s in samples {
                    out.push(quantize(s.re) as i8 as u8);
                    out.push(quantize(s.im) as i8 as u8);
                }
            }
        }
        saturated
    }
}

impl std::fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.datatype())
    }
}

impl std::str::FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SampleFormat::from_datatype(s)
            .ok_or_else(|| format!("unknown sample format '{s}': expected cf32_le, ci16_le or ci8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_i16_value_survives_decode_then_encode() {
        // Byte-exact: all 65536 values as I and reversed as Q, at full scale 2.5 (a
        // scale applied on decode but not undone on encode would change them).
        let mut bytes = Vec::new();
        for v in i16::MIN..=i16::MAX {
            bytes.extend_from_slice(&v.to_le_bytes());
            bytes.extend_from_slice(&(-1 - v).to_le_bytes());
        }
        let mut samples = Vec::new();
        SampleFormat::Ci16Le.decode(&bytes, 2.5, &mut samples);
        assert_eq!(samples.len(), 65536);
        assert_eq!(
            samples[0].re, -2.5,
            "-32768 must decode to minus full scale"
        );
        let mut back = Vec::new();
        let saturated = SampleFormat::Ci16Le.encode(&samples, 2.5, &mut back);
        assert_eq!(saturated, 0);
        assert_eq!(back, bytes, "ci16 decode/encode must be byte-exact");
    }

    #[test]
    fn every_i8_value_survives_decode_then_encode() {
        let bytes: Vec<u8> = (0..=255u8).flat_map(|b| [b, 255 - b]).collect();
        let mut samples = Vec::new();
        SampleFormat::Ci8.decode(&bytes, 1.0, &mut samples);
        assert_eq!(samples[0], Complex32::new(0.0, -1.0 / 128.0));
        assert_eq!(samples[128].re, -1.0, "0x80 is -128, minus full scale");
        let mut back = Vec::new();
        assert_eq!(SampleFormat::Ci8.encode(&samples, 1.0, &mut back), 0);
        assert_eq!(back, bytes, "ci8 decode/encode must be byte-exact");
    }

    #[test]
    fn known_values_have_the_documented_layout() {
        // 0.5 at full scale 1 is 16384 = 0x4000 (little-endian 00 40); -0.25 is -8192 =
        // 0xe000 (00 e0); in ci8 0.5 is 64 = 0x40, -0.25 is -32 = 0xe0.
        let s = [Complex32::new(0.5, -0.25)];
        let mut b = Vec::new();
        SampleFormat::Ci16Le.encode(&s, 1.0, &mut b);
        assert_eq!(b, [0x00, 0x40, 0x00, 0xe0]);
        b.clear();
        SampleFormat::Ci8.encode(&s, 1.0, &mut b);
        assert_eq!(b, [0x40, 0xe0]);
        b.clear();
        SampleFormat::Cf32Le.encode(&s, 1.0, &mut b);
        assert_eq!(b, [0, 0, 0, 0x3f, 0, 0, 0x80, 0xbe]);
    }

    #[test]
    fn floats_round_trip_within_half_a_step_and_overload_saturates() {
        let full_scale = 4.0f32;
        let samples: Vec<Complex32> = (0..1000)
            .map(|i| {
                let t = i as f32 * 0.37;
                Complex32::new(3.9 * t.sin(), -3.9 * (1.3 * t).cos())
            })
            .collect();
        for (format, step) in [
            (SampleFormat::Ci16Le, 4.0 / 32768.0),
            (SampleFormat::Ci8, 4.0 / 128.0),
        ] {
            let mut bytes = Vec::new();
            assert_eq!(format.encode(&samples, full_scale, &mut bytes), 0);
            let mut back = Vec::new();
            format.decode(&bytes, full_scale, &mut back);
            let worst = samples
                .iter()
                .zip(&back)
                .map(|(a, b)| (a.re - b.re).abs().max((a.im - b.im).abs()))
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 0.5 * step * 1.0001,
                "{format}: error {worst} > step/2 {step}"
            );
        }
        let mut bytes = Vec::new();
        let over = [Complex32::new(5.0, -5.0), Complex32::new(f32::NAN, 0.0)];
        assert_eq!(
            SampleFormat::Ci16Le.encode(&over, full_scale, &mut bytes),
            3
        );
        assert_eq!(
            bytes,
            [0xff, 0x7f, 0x00, 0x80, 0, 0, 0, 0],
            "saturates to the i16 range"
        );
    }

    #[test]
    fn datatype_names_parse_and_unknown_ones_are_refused() {
        for f in SampleFormat::ALL {
            assert_eq!(SampleFormat::from_datatype(f.datatype()), Some(f));
        }
        assert_eq!(
            SampleFormat::from_datatype("ci8_le"),
            Some(SampleFormat::Ci8)
        );
        assert_eq!(SampleFormat::from_datatype("cf32_be"), None);
        assert_eq!(SampleFormat::from_datatype("rf32_le"), None);
        assert!("cu8".parse::<SampleFormat>().unwrap_err().contains("cu8"));
    }
}
