//! JPEG for the classical baseline, in the abbreviated form of ITU-T T.81 (B.4): only
//! the entropy-coded scan goes on the air. Both ends know the encoder, so the tables
//! and frame header for a (side, quality) pair are rebuilt at the receiver by encoding
//! any picture of that size at that quality; the header does not depend on the
//! picture (the encoder uses fixed Huffman tables, checked by a test).
//!
//! To fit a small budget the transmitter may shrink the picture before coding it
//! ([`SIDES_PX`]); the receiver scales it back to 64 x 64. Among the settings that fit,
//! [`best_fit`] picks the one whose reconstruction is closest to the original, as a
//! rate-distortion optimizing encoder would.

use crate::data::metrics::psnr_db;
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::imageops::{resize, FilterType};
use image::{ColorType, ImageDecoder, RgbImage};

/// Side of the model's pictures, pixels.
pub const FULL_SIDE_PX: u32 = 64;
/// Sides the transmitter may code a picture at, largest first.
pub const SIDES_PX: [u32; 5] = [64, 48, 32, 24, 16];
/// Qualities it may use (libjpeg scale, 1..=100), best first.
pub const QUALITIES: [u8; 14] = [95, 90, 85, 80, 70, 60, 50, 40, 30, 25, 20, 15, 10, 5];

/// How a picture was coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegSettings {
    pub side_px: u32,
    pub quality: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum JpegError {
    #[error("JPEG: {0}")]
    Codec(#[from] image::ImageError),
    #[error("JPEG stream without a start-of-scan segment")]
    NoScan,
    #[error("JPEG settings out of range: side {side_px} px, quality {quality}")]
    Settings { side_px: u32, quality: u8 },
    #[error("JPEG image is {got} bytes, expected {expected} (RGB {side}x{side})")]
    Size {
        got: usize,
        expected: usize,
        side: u32,
    },
}

fn full_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, JpegError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality).encode(
        image.as_raw(),
        image.width(),
        image.height(),
        ColorType::Rgb8,
    )?;
    Ok(out)
}

/// Byte offset where the entropy-coded data of a baseline JPEG starts (just after the
/// start-of-scan segment).
fn scan_start(jpeg: &[u8]) -> Result<usize, JpegError> {
    // SOI, then marker segments: FF xx, 16-bit big-endian length (itself included).
    let mut at = 2;
    while at + 4 <= jpeg.len() {
        if jpeg[at] != 0xff {
            return Err(JpegError::NoScan);
        }
        let marker = jpeg[at + 1];
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        at += 2 + len;
        if marker == 0xda {
            return (at <= jpeg.len()).then_some(at).ok_or(JpegError::NoScan);
        }
    }
    Err(JpegError::NoScan)
}

fn check(s: JpegSettings) -> Result<(), JpegError> {
    if !(8..=FULL_SIDE_PX).contains(&s.side_px) || !(1..=100).contains(&s.quality) {
        return Err(JpegError::Settings {
            side_px: s.side_px,
            quality: s.quality,
        });
    }
    Ok(())
}

/// Everything before the scan data for `s`: what the receiver prepends.
fn header(s: JpegSettings) -> Result<Vec<u8>, JpegError> {
    let blank = RgbImage::from_pixel(s.side_px, s.side_px, image::Rgb([128, 128, 128]));
    let mut jpeg = full_jpeg(&blank, s.quality)?;
    jpeg.truncate(scan_start(&jpeg)?);
    Ok(jpeg)
}

/// The scan data of `image` (64 x 64) coded with `s`: the bytes that go on the air.
pub fn encode(image: &RgbImage, s: JpegSettings) -> Result<Vec<u8>, JpegError> {
    check(s)?;
    let small = if s.side_px == image.width() {
        image.clone()
    } else {
        resize(image, s.side_px, s.side_px, FilterType::Triangle)
    };
    let jpeg = full_jpeg(&small, s.quality)?;
    let start = scan_start(&jpeg)?;
    // Drop the end-of-image marker too; the receiver appends it.
    let end = if jpeg.ends_with(&[0xff, 0xd9]) {
        jpeg.len() - 2
    } else {
        jpeg.len()
    };
    Ok(jpeg[start..end.max(start)].to_vec())
}

/// Rebuilds the picture from scan data coded with `s`, scaled to 64 x 64.
pub fn decode(scan: &[u8], s: JpegSettings) -> Result<RgbImage, JpegError> {
    check(s)?;
    let mut jpeg = header(s)?;
    jpeg.extend_from_slice(scan);
    jpeg.extend_from_slice(&[0xff, 0xd9]);
    let decoder = JpegDecoder::new(std::io::Cursor::new(jpeg))?;
    let (w, h) = decoder.dimensions();
    let mut pixels = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut pixels)?;
    let expected = (s.side_px * s.side_px * 3) as usize;
    if (w, h) != (s.side_px, s.side_px) || pixels.len() != expected {
        return Err(JpegError::Size {
            got: pixels.len(),
            expected,
            side: s.side_px,
        });
    }
    let small = RgbImage::from_raw(w, h, pixels).ok_or(JpegError::Size {
        got: 0,
        expected,
        side: s.side_px,
    })?;
    Ok(if w == FULL_SIDE_PX {
        small
    } else {
        resize(&small, FULL_SIDE_PX, FULL_SIDE_PX, FilterType::Triangle)
    })
}

/// PSNR of `b` against `a`, dB, on [0, 1] pixel values.
pub fn psnr_rgb(a: &RgbImage, b: &RgbImage) -> f64 {
    let f = |i: &RgbImage| {
        i.as_raw()
            .iter()
            .map(|&v| v as f32 / 255.0)
            .collect::<Vec<_>>()
    };
    psnr_db(&f(a), &f(b)).unwrap_or(f64::NEG_INFINITY)
}

/// The settings and scan data, of at most `capacity_bytes`, whose decoded picture is
/// closest (PSNR) to `image`; `None` when nothing fits.
pub fn best_fit(
    image: &RgbImage,
    capacity_bytes: usize,
) -> Result<Option<(JpegSettings, Vec<u8>)>, JpegError> {
    let mut best: Option<(f64, JpegSettings, Vec<u8>)> = None;
    for side_px in SIDES_PX {
        // Qualities best first: the first that fits is the best at this side.
        for quality in QUALITIES {
            let s = JpegSettings { side_px, quality };
            let scan = encode(image, s)?;
            if scan.len() > capacity_bytes {
                continue;
            }
            let psnr = psnr_rgb(image, &decode(&scan, s)?);
            if best.as_ref().is_none_or(|b| psnr > b.0) {
                best = Some((psnr, s, scan));
            }
            break;
        }
    }
    Ok(best.map(|(_, s, scan)| (s, scan)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture like the data sets': flat background, two flat shapes.
    fn shapes(seed: u32) -> RgbImage {
        RgbImage::from_fn(64, 64, |x, y| {
            let (cx, cy) = (20 + seed % 20, 30);
            if (x as i32 - cx as i32).pow(2) + (y as i32 - cy).pow(2) < 150 {
                image::Rgb([200, 30, 40])
            } else if x > 40 && y > 40 {
                image::Rgb([20, 60, 200 - (seed % 50) as u8])
            } else {
                image::Rgb([250, 250, 250])
            }
        })
    }

    #[test]
    fn header_does_not_depend_on_the_picture() {
        // If the encoder adapted its tables to the picture, a receiver rebuilding the
        // header from a blank picture would decode garbage.
        for quality in [10, 50, 90] {
            let a = full_jpeg(&shapes(1), quality).unwrap();
            let b = full_jpeg(&shapes(7), quality).unwrap();
            let (sa, sb) = (scan_start(&a).unwrap(), scan_start(&b).unwrap());
            assert_eq!(a[..sa], b[..sb], "quality {quality}");
            assert_ne!(a[sa..], b[sb..], "different pictures, different scans");
        }
    }

    #[test]
    fn abbreviated_round_trip_equals_the_full_jpeg() {
        let img = shapes(3);
        for s in [
            JpegSettings {
                side_px: 64,
                quality: 75,
            },
            JpegSettings {
                side_px: 32,
                quality: 30,
            },
        ] {
            let scan = encode(&img, s).unwrap();
            let got = decode(&scan, s).unwrap();
            // Oracle: the image crate's own decoder on the complete file.
            let small = if s.side_px == 64 {
                img.clone()
            } else {
                resize(&img, s.side_px, s.side_px, FilterType::Triangle)
            };
            let decoded = image::load_from_memory(&full_jpeg(&small, s.quality).unwrap())
                .unwrap()
                .to_rgb8();
            let full = if s.side_px == 64 {
                decoded
            } else {
                resize(&decoded, 64, 64, FilterType::Triangle)
            };
            assert_eq!(got.as_raw(), full.as_raw(), "{s:?}");
            assert!(
                psnr_rgb(&img, &got) > 20.0,
                "{s:?}: {:.1} dB",
                psnr_rgb(&img, &got)
            );
        }
    }

    #[test]
    fn best_fit_stays_within_budget_and_improves_with_it() {
        let img = shapes(5);
        let mut last = f64::NEG_INFINITY;
        for capacity in [60, 120, 260, 600, 2000] {
            let Some((s, scan)) = best_fit(&img, capacity).unwrap() else {
                panic!("{capacity} bytes: nothing fits");
            };
            assert!(scan.len() <= capacity, "{capacity}: {} bytes", scan.len());
            let psnr = psnr_rgb(&img, &decode(&scan, s).unwrap());
            assert!(
                psnr >= last - 1e-9,
                "{capacity} bytes: {psnr:.2} dB < {last:.2} dB"
            );
            last = psnr;
        }
        assert!(
            best_fit(&img, 2).unwrap().is_none(),
            "two bytes hold no picture"
        );
    }

    #[test]
    fn damaged_scan_data_is_an_error_or_a_picture_never_a_panic() {
        let img = shapes(2);
        let s = JpegSettings {
            side_px: 32,
            quality: 40,
        };
        let scan = encode(&img, s).unwrap();
        for cut in [0, 1, scan.len() / 2] {
            let _ = decode(&scan[..cut], s);
        }
        let garbage: Vec<u8> = (0..200u32).map(|i| (i * 97 % 251) as u8).collect();
        let _ = decode(&garbage, s);
        assert!(decode(
            &scan,
            JpegSettings {
                side_px: 4,
                quality: 40
            }
        )
        .is_err());
    }
}
