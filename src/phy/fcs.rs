//! Frame check sequences: the IEEE 802.3 CRC-32 that ends every MPDU (IEEE 802.11-2016
//! 9.2.4.8) and the CRC-16 protecting the semantic frame header.

/// Reflected CRC-32 polynomial of IEEE 802.3 (0x04C11DB7 bit-reversed).
const CRC32_POLY_REFLECTED: u32 = 0xedb8_8320;

/// CRC-32 of each byte value: the register after eight shift steps from that byte.
const CRC32_TABLE: [u32; 256] = crc32_table();

const fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut step = 0;
        while step < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ CRC32_POLY_REFLECTED
            } else {
                crc >> 1
            };
            step += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC-32 of IEEE 802.3: reflected polynomial 0x04C11DB7, initial value and final XOR
/// 0xFFFFFFFF, computed a byte at a time from a 256-entry table (every received frame
/// pays for it). The FCS is sent least significant byte first.
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(0xffff_ffffu32, |crc, &b| {
        (crc >> 8) ^ CRC32_TABLE[((crc ^ u32::from(b)) & 0xff) as usize]
    })
}

/// `data` followed by its 4-byte FCS (CRC-32, little-endian).
pub fn append_fcs(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out
}

/// Whether the last four bytes of `psdu` are the FCS of the rest. False for fewer than
/// four bytes.
pub fn check_fcs(psdu: &[u8]) -> bool {
    if psdu.len() < 4 {
        return false;
    }
    let (body, fcs) = psdu.split_at(psdu.len() - 4);
    crc32(body).to_le_bytes() == fcs
}

/// CRC-16/CCITT (the "CCITT-FALSE" parameter set): polynomial 0x1021, initial value
/// 0xFFFF, no reflection, no final XOR.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0xffffu16;
    for &byte in data {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_check_values() {
        // Catalogue check values of both CRCs for the ASCII string "123456789".
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "CRC-32 (IEEE 802.3)");
        assert_eq!(crc16(b"123456789"), 0x29b1, "CRC-16/CCITT-FALSE");
    }

    /// Bit-at-a-time CRC-32 straight from the definition (shift the reflected register,
    /// XOR the polynomial when a one falls out): the oracle of the table-driven one.
    fn crc32_bitwise(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let lsb = crc & 1;
                crc >>= 1;
                if lsb != 0 {
                    crc ^= CRC32_POLY_REFLECTED;
                }
            }
        }
        !crc
    }

    #[test]
    fn table_crc_agrees_with_the_bitwise_definition() {
        // A wrong table entry or byte order would show on some length of varied data.
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0usize, 1, 3, 4, 5, 100, 255, 2999] {
            assert_eq!(
                crc32(&data[..len]),
                crc32_bitwise(&data[..len]),
                "length {len}"
            );
        }
        assert_eq!(crc32(&[]), 0, "CRC-32 of no bytes");
    }

    #[test]
    fn fcs_round_trip_and_corruption() {
        let data: Vec<u8> = (0..200u16).map(|i| (i * 31 % 251) as u8).collect();
        let psdu = append_fcs(&data);
        assert!(check_fcs(&psdu));
        for bit in [0usize, 7, 800, 8 * psdu.len() - 1] {
            let mut bad = psdu.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!check_fcs(&bad), "flipped bit {bit} not detected");
        }
        assert!(!check_fcs(&[1, 2, 3]));
    }
}
