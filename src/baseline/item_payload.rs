//! The payload of one classical item in a data frame: a 2- or 4-byte header, then the
//! item. Layout: item id (u8), kind (0: UTF-8 text, 1: JPEG scan), and for JPEG the
//! side in pixels and the quality (u8 each), then the bytes.

use super::jpeg::JpegSettings;

/// What one data frame carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemBody {
    Text(String),
    Jpeg {
        settings: JpegSettings,
        scan: Vec<u8>,
    },
}

/// An item with the id that tells receivers which it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: u8,
    pub body: ItemBody,
}

/// Header bytes of a text item and of a JPEG item.
pub const TEXT_HEADER_BYTES: usize = 2;
pub const JPEG_HEADER_BYTES: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("item payload of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("item payload kind {0} is neither 0 (text) nor 1 (JPEG)")]
    Kind(u8),
    #[error("text item is not UTF-8")]
    Utf8,
}

impl Item {
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.body {
            ItemBody::Text(t) => [&[self.id, 0][..], t.as_bytes()].concat(),
            ItemBody::Jpeg { settings, scan } => [
                &[self.id, 1, settings.side_px as u8, settings.quality][..],
                scan,
            ]
            .concat(),
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Item, PayloadError> {
        if bytes.len() < TEXT_HEADER_BYTES {
            return Err(PayloadError::Short(bytes.len()));
        }
        let id = bytes[0];
        let body = match bytes[1] {
            0 => ItemBody::Text(
                String::from_utf8(bytes[TEXT_HEADER_BYTES..].to_vec())
                    .map_err(|_| PayloadError::Utf8)?,
            ),
            1 if bytes.len() >= JPEG_HEADER_BYTES => ItemBody::Jpeg {
                settings: JpegSettings {
                    side_px: bytes[2] as u32,
                    quality: bytes[3],
                },
                scan: bytes[JPEG_HEADER_BYTES..].to_vec(),
            },
            1 => return Err(PayloadError::Short(bytes.len())),
            k => return Err(PayloadError::Kind(k)),
        };
        Ok(Item { id, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_bad_payloads_are_refused() {
        let items = [
            Item {
                id: 3,
                body: ItemBody::Text("My system is overheating.".into()),
            },
            Item {
                id: 250,
                body: ItemBody::Jpeg {
                    settings: JpegSettings {
                        side_px: 32,
                        quality: 25,
                    },
                    scan: vec![1, 2, 0xff, 0],
                },
            },
        ];
        for it in &items {
            assert_eq!(&Item::from_bytes(&it.to_bytes()).unwrap(), it);
        }
        assert_eq!(items[1].to_bytes().len(), JPEG_HEADER_BYTES + 4);
        assert_eq!(Item::from_bytes(&[1]), Err(PayloadError::Short(1)));
        assert_eq!(Item::from_bytes(&[1, 1, 32]), Err(PayloadError::Short(3)));
        assert_eq!(Item::from_bytes(&[1, 7, 0]), Err(PayloadError::Kind(7)));
        assert_eq!(Item::from_bytes(&[1, 0, 0xff]), Err(PayloadError::Utf8));
    }
}
