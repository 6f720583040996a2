//! Header of a semantic frame: what the PHY knows about a burst of channel symbols.
//!
//! A semantic frame shares the 802.11a preamble, then carries a SIGNAL symbol whose RATE
//! field holds [`SEMANTIC_RATE_FIELD`], a reserved code (R4 = 0) that a legacy receiver
//! rejects, then this header (coded like SIGNAL: BPSK, rate 1/2), then OFDM symbols whose
//! 48 data subcarriers carry the channel symbols as they are.

/// RATE field (R1 in bit 0) that marks a semantic frame: R1..R4 = 0100, a code reserved
/// in IEEE 802.11-2016 Table 17-6, so legacy receivers drop the frame at SIGNAL.
pub const SEMANTIC_RATE_FIELD: u8 = 0b0010;

/// User address of a broadcast (public) frame.
pub const BROADCAST: u8 = 0xff;

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StreamKind {
    /// Semantics several users need, sent once.
    Public,
    /// Semantics for one user.
    Private,
}

/// Fields of the semantic frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SemanticHeader {
    /// Payload kind, 4 bits (0: channel symbols of a semantic message).
    pub kind: u8,
    /// Public or private stream.
    pub stream: StreamKind,
    /// Destination user id, or [`BROADCAST`].
    pub destination: u8,
    /// Task code from the instruction template.
    pub task: u8,
    /// Message this frame is a fragment of.
    pub message_id: u16,
    /// Index of this fragment within the message.
    pub fragment_index: u8,
    /// Number of fragments in the message (at least 1).
    pub fragment_count: u8,
    /// Number of complex channel symbols in this frame's payload.
    pub n_symbols: u16,
}

/// Bytes of an encoded header: 9 bytes of fields and a CRC-16.
pub const HEADER_BYTES: usize = 11;
/// Header bits before coding: `8 * HEADER_BYTES`.
pub const HEADER_BITS: usize = 8 * HEADER_BYTES;
/// Header bits fed to the encoder: the 88 header bits, 6 zero tail bits and 2 zero pad
/// bits, filling four BPSK rate-1/2 OFDM symbols of 24 data bits.
pub const HEADER_FIELD_BITS: usize = 96;
/// OFDM symbols that carry the header (BPSK, rate 1/2, not scrambled, interleaved
/// like SIGNAL with `N_CBPS` = 48).
pub const HEADER_OFDM_SYMBOLS: usize = 4;

/// Why a received header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("semantic header: expected {expected} bytes, got {got}")]
    Length { expected: usize, got: usize },
    #[error(
        "semantic header: CRC-16 mismatch (computed {computed:#06x}, received {received:#06x})"
    )]
    Crc { computed: u16, received: u16 },
    #[error("semantic header: stream code {0} is neither 0 (public) nor 1 (private)")]
    Stream(u8),
    #[error("semantic header: kind {0} does not fit in 4 bits")]
    Kind(u8),
    #[error("semantic header: fragment {index} of {count} is out of range")]
    Fragment { index: u8, count: u8 },
}

impl StreamKind {
    /// 4-bit code in the header: 0 public, 1 private.
    pub const fn code(self) -> u8 {
        match self {
            StreamKind::Public => 0,
            StreamKind::Private => 1,
        }
    }

    /// Stream from its header code.
    pub fn from_code(code: u8) -> Result<StreamKind, HeaderError> {
        match code {
            0 => Ok(StreamKind::Public),
            1 => Ok(StreamKind::Private),
            c => Err(HeaderError::Stream(c)),
        }
    }
}

impl SemanticHeader {
    /// Check the fields that the byte layout constrains: `kind` below 16 and
    /// `fragment_index < fragment_count`.
    pub fn validate(&self) -> Result<(), HeaderError> {
        if self.kind > 0x0f {
            return Err(HeaderError::Kind(self.kind));
        }
        if self.fragment_count == 0 || self.fragment_index >= self.fragment_count {
            return Err(HeaderError::Fragment {
                index: self.fragment_index,
                count: self.fragment_count,
            });
        }
        Ok(())
    }

    /// Encode as 11 bytes: `kind << 4 | stream`, destination, task, message_id (LE),
    /// fragment_index, fragment_count, n_symbols (LE), then the CRC-16/CCITT of those
    /// nine bytes (LE). Only the low 4 bits of `kind` are sent; see [`Self::validate`].
    pub fn to_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[0] = ((self.kind & 0x0f) << 4) | self.stream.code();
        b[1] = self.destination;
        b[2] = self.task;
        b[3..5].copy_from_slice(&self.message_id.to_le_bytes());
        b[5] = self.fragment_index;
        b[6] = self.fragment_count;
        b[7..9].copy_from_slice(&self.n_symbols.to_le_bytes());
        let crc = crate::phy::fcs::crc16(&b[..9]);
        b[9..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decode 11 bytes, checking the CRC-16 first and then the fields.
    pub fn from_bytes(bytes: &[u8]) -> Result<SemanticHeader, HeaderError> {
        if bytes.len() != HEADER_BYTES {
            return Err(HeaderError::Length {
                expected: HEADER_BYTES,
                got: bytes.len(),
            });
        }
        let computed = crate::phy::fcs::crc16(&bytes[..9]);
        let received = u16::from_le_bytes([bytes[9], bytes[10]]);
        if computed != received {
            return Err(HeaderError::Crc { computed, received });
        }
        let header = SemanticHeader {
            kind: bytes[0] >> 4,
            stream: StreamKind::from_code(bytes[0] & 0x0f)?,
            destination: bytes[1],
            task: bytes[2],
            message_id: u16::from_le_bytes([bytes[3], bytes[4]]),
            fragment_index: bytes[5],
            fragment_count: bytes[6],
            n_symbols: u16::from_le_bytes([bytes[7], bytes[8]]),
        };
        header.validate()?;
        Ok(header)
    }

    /// The 88 header bits in transmission order: bytes in order, each LSB first.
    pub fn to_bits(&self) -> [u8; HEADER_BITS] {
        let bytes = self.to_bytes();
        let mut bits = [0u8; HEADER_BITS];
        for (i, b) in bits.iter_mut().enumerate() {
            *b = (bytes[i / 8] >> (i % 8)) & 1;
        }
        bits
    }

    /// Decode 88 received bits (values 0/1, LSB of each byte first).
    pub fn from_bits(bits: &[u8]) -> Result<SemanticHeader, HeaderError> {
        if bits.len() != HEADER_BITS {
            return Err(HeaderError::Length {
                expected: HEADER_BYTES,
                got: bits.len() / 8,
            });
        }
        let mut bytes = [0u8; HEADER_BYTES];
        for (i, &b) in bits.iter().enumerate() {
            bytes[i / 8] |= (b & 1) << (i % 8);
        }
        SemanticHeader::from_bytes(&bytes)
    }

    /// The 96 bits fed to the convolutional encoder: [`Self::to_bits`], six zero tail
    /// bits, two zero pad bits.
    pub fn field_bits(&self) -> [u8; HEADER_FIELD_BITS] {
        let mut out = [0u8; HEADER_FIELD_BITS];
        out[..HEADER_BITS].copy_from_slice(&self.to_bits());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SemanticHeader {
        SemanticHeader {
            kind: 3,
            stream: StreamKind::Private,
            destination: 7,
            task: 42,
            message_id: 0xbeef,
            fragment_index: 2,
            fragment_count: 5,
            n_symbols: 1000,
        }
    }

    #[test]
    fn bytes_and_bits_round_trip() {
        let h = sample();
        let bytes = h.to_bytes();
        assert_eq!(bytes[0], 0x31, "kind in the high nibble, stream in the low");
        assert_eq!(&bytes[3..5], &[0xef, 0xbe], "message_id little-endian");
        assert_eq!(SemanticHeader::from_bytes(&bytes), Ok(h));
        assert_eq!(SemanticHeader::from_bits(&h.to_bits()), Ok(h));
        let b = SemanticHeader {
            stream: StreamKind::Public,
            destination: BROADCAST,
            ..h
        };
        assert_eq!(SemanticHeader::from_bytes(&b.to_bytes()), Ok(b));
        assert_eq!(&h.field_bits()[..HEADER_BITS], &h.to_bits()[..]);
        assert!(h.field_bits()[HEADER_BITS..].iter().all(|&b| b == 0));
    }

    #[test]
    fn every_single_bit_error_is_detected() {
        let bytes = sample().to_bytes();
        for bit in 0..HEADER_BITS {
            let mut bad = bytes;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(
                    SemanticHeader::from_bytes(&bad),
                    Err(HeaderError::Crc { .. })
                ),
                "flipped bit {bit} passed the CRC"
            );
        }
    }

    #[test]
    fn field_checks() {
        let h = sample();
        assert_eq!(
            SemanticHeader { kind: 16, ..h }.validate(),
            Err(HeaderError::Kind(16))
        );
        assert!(SemanticHeader {
            fragment_index: 5,
            ..h
        }
        .validate()
        .is_err());
        assert!(SemanticHeader {
            fragment_count: 0,
            fragment_index: 0,
            ..h
        }
        .validate()
        .is_err());
        assert_eq!(
            SemanticHeader::from_bytes(&[0u8; 10]),
            Err(HeaderError::Length {
                expected: 11,
                got: 10
            })
        );
        // A valid CRC over an invalid stream code is still rejected.
        let mut bytes = h.to_bytes();
        bytes[0] = 0x35;
        let crc = crate::phy::fcs::crc16(&bytes[..9]).to_le_bytes();
        bytes[9..].copy_from_slice(&crc);
        assert_eq!(
            SemanticHeader::from_bytes(&bytes),
            Err(HeaderError::Stream(5))
        );
    }
}
