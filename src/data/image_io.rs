//! Image input and output: PNG files, resizing to the model's 64x64 RGB input, and
//! conversion to and from f32 tensors of shape (3, 64, 64) with values in [0, 1].
//!
//! Resizing is separable and per axis: an axis that shrinks uses area averaging (each
//! output pixel is the mean of the source pixels it covers, fractional coverage
//! weighted), an axis that grows uses bilinear interpolation with pixel centres at
//! half-integer positions and edge clamping. The weights of every output pixel sum to
//! one, so a constant image stays constant.

use candle_core::{DType, Device, Tensor};
use image::RgbImage;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Side of the square images the semantic model takes, in pixels.
pub const IMAGE_SIZE: usize = 64;

/// Errors of image loading, saving and conversion.
#[derive(Debug, Error)]
pub enum ImageIoError {
    #[error("cannot read image {path}: {source}")]
    Read {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("cannot write image {path}: {source}")]
    Write {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("image tensor has shape {got:?}; expected (3, height, width)")]
    Shape { got: Vec<usize> },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Loads an image file (PNG; any colour type) and converts it to 8-bit RGB.
pub fn load_image(path: &Path) -> Result<RgbImage, ImageIoError> {
    let img = image::open(path).map_err(|source| ImageIoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(img.to_rgb8())
}

/// Loads an image file and resizes it to `IMAGE_SIZE` x `IMAGE_SIZE` RGB.
pub fn load_image_64(path: &Path) -> Result<RgbImage, ImageIoError> {
    Ok(resize_to_64(&load_image(path)?))
}

/// Saves an RGB image as PNG.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), ImageIoError> {
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|source| ImageIoError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Resizes any image to `IMAGE_SIZE` x `IMAGE_SIZE` (area filter when shrinking,
/// bilinear when growing). An image already of that size is returned unchanged.
pub fn resize_to_64(img: &RgbImage) -> RgbImage {
    resize_rgb(img, IMAGE_SIZE as u32, IMAGE_SIZE as u32)
}

/// Resizes an RGB image to `out_width` x `out_height` pixels.
///
/// # Panics
/// If the source or the requested size has a zero side.
pub fn resize_rgb(img: &RgbImage, out_width: u32, out_height: u32) -> RgbImage {
    let (in_w, in_h) = img.dimensions();
    assert!(
        in_w > 0 && in_h > 0 && out_width > 0 && out_height > 0,
        "resize needs non-empty images: got {in_w}x{in_h} -> {out_width}x{out_height}"
    );
    if (in_w, in_h) == (out_width, out_height) {
        return img.clone();
    }
    let (in_w, in_h, out_w, out_h) = (
        in_w as usize,
        in_h as usize,
        out_width as usize,
        out_height as usize,
    );
    let wx = axis_weights(in_w, out_w);
    let wy = axis_weights(in_h, out_h);
    let src = img.as_raw();
    // Horizontal pass: (in_h, out_w, 3).
    let mut rows = vec![0f32; in_h * out_w * 3];
    for y in 0..in_h {
        for (ox, taps) in wx.iter().enumerate() {
            for &(ix, w) in taps {
                for c in 0..3 {
                    rows[(y * out_w + ox) * 3 + c] += w * src[(y * in_w + ix) * 3 + c] as f32;
                }
            }
        }
    }
    // Vertical pass: (out_h, out_w, 3).
    let mut out = vec![0u8; out_h * out_w * 3];
    for (oy, taps) in wy.iter().enumerate() {
        for x in 0..out_w {
            for c in 0..3 {
                let v: f32 = taps
                    .iter()
                    .map(|&(iy, w)| w * rows[(iy * out_w + x) * 3 + c])
                    .sum();
                out[(oy * out_w + x) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbImage::from_raw(out_width, out_height, out).expect("buffer sized width * height * 3")
}

/// Per output index, the (input index, weight) taps of one axis; weights sum to one.
fn axis_weights(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            if n_out < n_in {
                // Area: output pixel o covers source interval [o * scale, (o + 1) * scale).
                let (lo, hi) = (o as f64 * scale, (o + 1) as f64 * scale);
                let mut taps = Vec::new();
                let mut i = lo.floor() as usize;
                while (i as f64) < hi && i < n_in {
                    let cover = (hi.min(i as f64 + 1.0) - lo.max(i as f64)).max(0.0);
                    if cover > 0.0 {
                        taps.push((i, (cover / scale) as f32));
                    }
                    i += 1;
                }
                taps
            } else {
                // Bilinear with pixel centres at i + 0.5 on both grids.
                let pos = ((o as f64 + 0.5) * scale - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i0 = pos.floor() as usize;
                let frac = pos - i0 as f64;
                if i0 + 1 < n_in && frac > 0.0 {
                    vec![(i0, (1.0 - frac) as f32), (i0 + 1, frac as f32)]
                } else {
                    vec![(i0, 1.0)]
                }
            }
        })
        .collect()
}

/// Converts an RGB image to an f32 tensor of shape (3, height, width), values in [0, 1].
pub fn image_to_tensor(img: &RgbImage, device: &Device) -> Result<Tensor, ImageIoError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut data = vec![0f32; 3 * h * w];
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            data[c * h * w + i] = px.0[c] as f32 / 255.0;
        }
    }
    Ok(Tensor::from_vec(data, (3, h, w), device)?)
}

/// Converts a tensor of shape (3, height, width) with values in [0, 1] (any float
/// dtype; values outside are clamped) to an RGB image, rounding to 8 bits.
pub fn tensor_to_image(t: &Tensor) -> Result<RgbImage, ImageIoError> {
    let dims = t.dims().to_vec();
    if dims.len() != 3 || dims[0] != 3 {
        return Err(ImageIoError::Shape { got: dims });
    }
    let (h, w) = (dims[1], dims[2]);
    let planes = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0u8; h * w * 3];
    for i in 0..h * w {
        for c in 0..3 {
            let v = planes[c * h * w + i];
            let v = if v.is_finite() { v } else { 0.0 };
            out[i * 3 + c] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
    Ok(RgbImage::from_raw(w as u32, h as u32, out).expect("buffer sized width * height * 3"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn resize_of_constant_image_stays_constant() {
        // Weights not summing to one (or misplaced taps) would change the colour.
        for &(w, h) in &[(28, 28), (100, 37), (64, 64), (200, 150), (13, 90)] {
            let img = RgbImage::from_pixel(w, h, Rgb([17, 128, 250]));
            let out = resize_to_64(&img);
            assert_eq!(out.dimensions(), (64, 64));
            assert!(
                out.pixels().all(|p| p.0 == [17, 128, 250]),
                "{w}x{h}: resize changed a constant colour"
            );
        }
    }

    #[test]
    fn area_downscale_by_two_averages_blocks() {
        // Each output pixel of a 2x shrink is the mean of one 2x2 source block.
        let img = RgbImage::from_fn(128, 128, |x, y| Rgb([((x + y) % 2 * 200) as u8, 0, 0]));
        let out = resize_to_64(&img);
        assert!(
            out.pixels().all(|p| p.0 == [100, 0, 0]),
            "2x2 mean of 0/200 is 100"
        );
    }

    #[test]
    fn bilinear_upscale_keeps_a_ramp_monotonic() {
        // Upscaling a horizontal ramp must keep it non-decreasing left to right.
        let img = RgbImage::from_fn(28, 28, |x, _| Rgb([(x * 9) as u8, 0, 0]));
        let out = resize_to_64(&img);
        for y in 0..64 {
            for x in 1..64 {
                assert!(out.get_pixel(x, y).0[0] >= out.get_pixel(x - 1, y).0[0]);
            }
        }
        assert_eq!(
            out.get_pixel(0, 0).0[0],
            0,
            "left edge clamps to the first pixel"
        );
        assert_eq!(
            out.get_pixel(63, 0).0[0],
            243,
            "right edge clamps to the last pixel"
        );
    }

    #[test]
    fn tensor_round_trip_and_png_round_trip() {
        let img = RgbImage::from_fn(64, 64, |x, y| Rgb([x as u8 * 4, y as u8 * 4, 77]));
        let t = image_to_tensor(&img, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[3, 64, 64]);
        // Channel-first layout: green plane at (y=10, x=3) is 40/255.
        let g = t.get(1).unwrap().get(10).unwrap().get(3).unwrap();
        assert!((g.to_scalar::<f32>().unwrap() - 40.0 / 255.0).abs() < 1e-6);
        assert_eq!(
            tensor_to_image(&t).unwrap(),
            img,
            "tensor round trip lost pixels"
        );
        let dir = std::env::temp_dir().join(format!("m4sc-image-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.png");
        save_png(&img, &path).unwrap();
        assert_eq!(
            load_image_64(&path).unwrap(),
            img,
            "PNG round trip lost pixels"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let bad = Tensor::zeros((1, 64, 64), DType::F32, &Device::Cpu).unwrap();
        assert!(matches!(
            tensor_to_image(&bad),
            Err(ImageIoError::Shape { .. })
        ));
    }
}
