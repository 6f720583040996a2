//! The two files of a SigMF recording: `NAME.sigmf-meta` and `NAME.sigmf-data`.

use super::sigmf_error::SigmfError;
use sha2::{Digest, Sha512};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extension of the metadata file.
pub const META_EXT: &str = "sigmf-meta";
/// Extension of the data file.
pub const DATA_EXT: &str = "sigmf-data";

/// Paths of a recording's metadata and data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmfPaths {
    pub meta: PathBuf,
    pub data: PathBuf,
}

impl SigmfPaths {
    /// The recording named by `path`: `NAME.sigmf-meta`, `NAME.sigmf-data` or `NAME`
    /// without an extension. Any other extension is refused (a `.cf32` file is not
    /// SigMF, and `.sigmf` archives are not supported).
    pub fn of(path: &Path) -> Result<Self, SigmfError> {
        let base = match path.extension().and_then(|e| e.to_str()) {
            Some(META_EXT) | Some(DATA_EXT) => path.with_extension(""),
            None => path.to_path_buf(),
            Some(_) => {
                return Err(SigmfError::NotSigmfPath {
                    path: path.to_path_buf(),
                })
            }
        };
        if base.file_name().is_none() {
            return Err(SigmfError::NotSigmfPath {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            meta: base.with_extension(META_EXT),
            data: base.with_extension(DATA_EXT),
        })
    }
}

/// Whether `path` names a SigMF recording by its extension (`.sigmf-meta` or
/// `.sigmf-data`).
pub fn is_sigmf_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some(META_EXT) | Some(DATA_EXT)
    )
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-512 of the file at `path`, lower-case hexadecimal, read in 1 MiB pieces.
pub fn sha512_of_file(path: &Path) -> Result<String, SigmfError> {
    let mut file = File::open(path).map_err(|source| SigmfError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha512::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|source| SigmfError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha512_matches_the_published_vectors() {
        // FIPS 180-2 appendix C.1 ("abc") and the empty message.
        let dir = std::env::temp_dir().join(format!("m4sc-sha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let abc = dir.join("abc");
        std::fs::write(&abc, b"abc").unwrap();
        assert_eq!(
            sha512_of_file(&abc).unwrap(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        let empty = dir.join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            sha512_of_file(&empty).unwrap(),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn either_file_or_the_base_name_finds_both_files() {
        let want = SigmfPaths {
            meta: PathBuf::from("dir/rec.sigmf-meta"),
            data: PathBuf::from("dir/rec.sigmf-data"),
        };
        for p in ["dir/rec.sigmf-meta", "dir/rec.sigmf-data", "dir/rec"] {
            assert_eq!(SigmfPaths::of(Path::new(p)).unwrap(), want, "{p}");
        }
        let err = SigmfPaths::of(Path::new("frames.cf32")).unwrap_err();
        assert!(err.to_string().contains("frames.cf32"), "{err}");
        assert!(is_sigmf_path(Path::new("a.sigmf-meta")));
        assert!(!is_sigmf_path(Path::new("a.cf32")));
    }
}
