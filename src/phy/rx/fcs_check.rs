//! Frame check sequence test on the receive path, IEEE 802.11-2016 9.2.4.8: the same
//! IEEE 802.3 CRC-32 as [`crate::phy::fcs::crc32`], computed a byte at a time from a
//! 256-entry table instead of a bit at a time, because every received frame pays for it.

/// Reflected CRC-32 polynomial (x^32 + x^26 + ... + 1).
const POLY_REFLECTED: u32 = 0xedb8_8320;

/// CRC of each byte value over eight shift steps.
const TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            k += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// IEEE 802.3 CRC-32 of `data`.
pub fn crc32_table(data: &[u8]) -> u32 {
    !data.iter().fold(0xffff_ffffu32, |crc, &b| {
        (crc >> 8) ^ TABLE[((crc ^ b as u32) & 0xff) as usize]
    })
}

/// Whether the last four bytes of `psdu` are the CRC-32 (little-endian) of the rest;
/// false for a PSDU shorter than four bytes.
pub fn fcs_ok(psdu: &[u8]) -> bool {
    if psdu.len() < 4 {
        return false;
    }
    let (body, fcs) = psdu.split_at(psdu.len() - 4);
    crc32_table(body).to_le_bytes() == fcs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::fcs::{append_fcs, check_fcs, crc32};

    #[test]
    fn agrees_with_the_bitwise_crc() {
        // The standard check value of CRC-32 ("123456789" -> 0xCBF43926), then random
        // lengths against the shared bitwise implementation.
        assert_eq!(crc32_table(b"123456789"), 0xcbf4_3926);
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0usize, 1, 3, 4, 5, 100, 2999] {
            assert_eq!(
                crc32_table(&data[..len]),
                crc32(&data[..len]),
                "length {len}"
            );
            let framed = append_fcs(&data[..len]);
            assert!(fcs_ok(&framed));
            assert_eq!(fcs_ok(&framed), check_fcs(&framed));
            let mut bad = framed.clone();
            bad[0] ^= 1;
            assert!(!fcs_ok(&bad), "a flipped bit must fail the FCS");
        }
        assert!(!fcs_ok(&[1, 2, 3]));
    }
}
