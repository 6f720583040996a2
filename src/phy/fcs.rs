//! Frame check sequences: the IEEE 802.3 CRC-32 that ends every MPDU (IEEE 802.11-2016
//! 9.2.4.8) and the CRC-16 protecting the semantic frame header.

/// CRC-32 of IEEE 802.3: reflected polynomial 0x04C11DB7, initial value and final XOR
/// 0xFFFFFFFF. The FCS is sent least significant byte first.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            let lsb = crc & 1;
            crc >>= 1;
            if lsb != 0 {
                crc ^= 0xedb8_8320;
            }
        }
    }
    !crc
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
