//! Test vectors of the worked OFDM example: a 100-octet PSDU at 36 Mb/s with scrambler
//! seed 1011101.
//!
//! Sources: IEEE 802.11a-1999 Annex G (Tables G.1 to G.24), republished with the same
//! values as IEEE 802.11-2012 Annex L and IEEE 802.11-2016/2020 Annex I. Each constant
//! names the 1999 table it comes from, and also the Annex I table where that number is
//! given. Bit tables are written as the
//! standard prints them: bits in transmission order, grouped in octets or nibbles.
//! Frequency-domain tables list subcarriers -26 .. 26 and time-domain tables use the
//! annex's scale (inverse DFT sum divided by 64) rounded to three decimals.
//!
//! One known erratum: Table G.1 of the 1999 edition ends the PSDU with the FCS
//! `da 57 99 ed`, while the true CRC-32 of the first 96 octets is `67 33 21 b6`, the
//! value printed in Table I-1 of the 2016 edition. The 1999 bit and sample tables
//! (G.14, G.17, G.24) were computed with the 1999 octets, so [`PSDU_1999`] is the input
//! that reproduces them; the fields before the FCS are identical in both editions.

use num_complex::Complex32;

/// Scrambler initial state of the example (I.1.5.2).
pub const SEED: u8 = 0b101_1101;

/// Table G.1: the 100-octet PSDU (24-octet MAC header, 72 octets of message, FCS as
/// printed in the 1999 edition).
#[rustfmt::skip]
pub const PSDU_1999: [u8; 100] = [
    0x04, 0x02, 0x00, 0x2e, 0x00, 0x60, 0x08, 0xcd, 0x37, 0xa6,
    0x00, 0x20, 0xd6, 0x01, 0x3c, 0xf1, 0x00, 0x60, 0x08, 0xad,
    0x3b, 0xaf, 0x00, 0x00, 0x4a, 0x6f, 0x79, 0x2c, 0x20, 0x62,
    0x72, 0x69, 0x67, 0x68, 0x74, 0x20, 0x73, 0x70, 0x61, 0x72,
    0x6b, 0x20, 0x6f, 0x66, 0x20, 0x64, 0x69, 0x76, 0x69, 0x6e,
    0x69, 0x74, 0x79, 0x2c, 0x0a, 0x44, 0x61, 0x75, 0x67, 0x68,
    0x74, 0x65, 0x72, 0x20, 0x6f, 0x66, 0x20, 0x45, 0x6c, 0x79,
    0x73, 0x69, 0x75, 0x6d, 0x2c, 0x0a, 0x46, 0x69, 0x72, 0x65,
    0x2d, 0x69, 0x6e, 0x73, 0x69, 0x72, 0x65, 0x64, 0x20, 0x77,
    0x65, 0x20, 0x74, 0x72, 0x65, 0x61, 0xda, 0x57, 0x99, 0xed,
];

/// Table I-1 (2016 edition): the FCS of the PSDU, octets 97 to 100.
pub const FCS_2016: [u8; 4] = [0x67, 0x33, 0x21, 0xb6];

/// The message of I.1.2 (octets 25 to 96 of the PSDU).
pub const MESSAGE: &[u8] =
    b"Joy, bright spark of divinity,\nDaughter of Elysium,\nFire-insired we trea";

/// Table I-14: the first 127 bits of the scrambling sequence for seed 1011101.
pub const SCRAMBLER_SEQUENCE: &str = "01101100 00011001 10101001 11001111 01101000 \
    01010101 11110100 10100011 01110001 11111100 00111011 11001011 00100100 00001000 \
    10011000 1011101";

/// Table I-7 (G.7): the 24 SIGNAL bits, RATE 36 Mb/s, LENGTH 100.
pub const SIGNAL_BITS: &str = "1011 0001 0011 0000 0000 0000";
/// Table I-8 (G.8): SIGNAL bits after rate-1/2 encoding.
pub const SIGNAL_CODED: &str = "1101 0001 1010 0001 0000 0010 0011 1110 0111 0000 0000 0000";
/// Table I-9 (G.9): SIGNAL bits after interleaving.
pub const SIGNAL_INTERLEAVED: &str = "1001 0100 1101 0000 0001 0100 1000 0011 0010 0100 1001 0100";

/// Table I-11 (G.11): SIGNAL symbol on subcarriers -26 .. 26 without DC (BPSK data and
/// pilots, all real).
#[rustfmt::skip]
pub const SIGNAL_FREQ: [i8; 52] = [
    1, -1, -1, 1, -1, 1, 1, -1, -1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1, -1, 1, -1, -1,
    1, -1, -1, -1, -1, -1, 1, 1, 1, -1, -1, 1, -1, -1, 1, -1, -1, 1, -1, -1, -1, 1, -1, 1, -1, -1,
];

/// Table I-2 (G.2): short training symbol on subcarriers -26 .. 26 (DC included), as
/// multiples of 1.472 (1 + j); 1.472 = sqrt(13/6) to three decimals.
#[rustfmt::skip]
pub const STF_FREQ: [i8; 53] = [
    0, 0, 1, 0, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0,
    0,
    0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
];
/// Table I-2 (G.2): magnitude of the real and imaginary parts of the used STF bins.
pub const STF_FREQ_SCALE: f32 = 1.472;

/// Table I-5 (G.5): long training symbol on subcarriers -26 .. 26 without DC.
#[rustfmt::skip]
pub const LTF_FREQ: [i8; 52] = [
    1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1,
    1, -1, -1, 1, 1, -1, 1, -1, 1, -1, -1, -1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, 1, 1,
];

/// Table G.13 (I-13): first 144 DATA bits (SERVICE and PSDU octets 1-16), octets of
/// bits in transmission order, first bit in the most significant position.
pub const DATA_BITS_FIRST_144: [u8; 18] = [
    0x00, 0x00, 0x20, 0x40, 0x00, 0x74, 0x00, 0x06, 0x10, 0xb3, 0xec, 0x65, 0x00, 0x04, 0x6b, 0x80,
    0x3c, 0x8f,
];
/// Table G.14 (I-13): last 144 DATA bits (PSDU octets 89-100, tail, pad), same packing.
pub const DATA_BITS_LAST_144: [u8; 18] = [
    0x04, 0xee, 0xa6, 0x04, 0x2e, 0x4e, 0xa6, 0x86, 0x5b, 0xea, 0x99, 0xb7, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
];
/// Table G.16: first 144 DATA bits after scrambling, same packing.
pub const SCRAMBLED_FIRST_144: [u8; 18] = [
    0x6c, 0x19, 0x89, 0x8f, 0x68, 0x21, 0xf4, 0xa5, 0x61, 0x4f, 0xd7, 0xae, 0x24, 0x0c, 0xf3, 0x3a,
    0xe4, 0xbc,
];
/// Table G.17: last 144 DATA bits after scrambling, tail bits zeroed, same packing.
pub const SCRAMBLED_LAST_144: [u8; 18] = [
    0x7d, 0x8a, 0x27, 0x17, 0x39, 0x15, 0xa0, 0xec, 0x28, 0x30, 0x8c, 0xca, 0x00, 0xdc, 0x7f, 0x0e,
    0xf2, 0xc9,
];
/// Table G.18: the 192 coded (punctured, rate 3/4) bits of the first DATA
/// symbol, same packing.
pub const CODED_FIRST_SYMBOL: [u8; 24] = [
    0x2b, 0x08, 0xa1, 0xf0, 0x9d, 0xb5, 0x9a, 0x1d, 0x4a, 0xfb, 0xe8, 0xc2, 0x8f, 0xc0, 0xc8, 0x73,
    0xc0, 0x43, 0xe0, 0x19, 0xe0, 0xd3, 0xeb, 0xb2,
];
/// Table G.21: the 192 interleaved bits of the first DATA symbol, same packing.
pub const INTERLEAVED_FIRST_SYMBOL: [u8; 24] = [
    0x77, 0xf0, 0xef, 0xc4, 0x73, 0x00, 0xbf, 0x11, 0x10, 0x9a, 0x1d, 0x12, 0x6e, 0x38, 0xf5, 0x69,
    0x1b, 0x6b, 0x98, 0x43, 0x00, 0x0d, 0xb3, 0x6d,
];

const fn c(re: f32, im: f32) -> Complex32 {
    Complex32::new(re, im)
}

/// Table G.22: first DATA symbol (16-QAM data and pilots) on subcarriers
/// -26 .. 26, DC included.
#[rustfmt::skip]
pub const FIRST_DATA_SYMBOL_FREQ: [Complex32; 53] = [
    c(-0.316, 0.316), c(-0.316, 0.316), c(0.316, 0.316), c(-0.949, -0.949),
    c(0.316, 0.949), c(1.000, 0.000), c(0.316, 0.316), c(0.316, -0.949),
    c(-0.316, -0.949), c(-0.316, 0.316), c(-0.949, 0.316), c(-0.949, -0.949),
    c(-0.949, -0.949), c(0.949, 0.316), c(0.316, 0.316), c(-0.949, -0.316),
    c(-0.949, -0.316), c(-0.949, -0.316), c(-0.949, -0.949), c(1.000, 0.000),
    c(0.949, -0.316), c(0.949, 0.949), c(-0.949, -0.316), c(0.316, -0.316),
    c(-0.949, -0.316), c(-0.949, 0.949), c(0.000, 0.000), c(-0.316, 0.949),
    c(0.316, 0.949), c(-0.949, 0.316), c(0.949, -0.949), c(0.316, 0.316),
    c(-0.316, -0.316), c(1.000, 0.000), c(-0.316, 0.949), c(0.949, -0.316),
    c(-0.949, -0.316), c(0.949, 0.316), c(-0.316, 0.949), c(0.949, 0.316),
    c(0.949, -0.316), c(0.949, -0.949), c(-0.316, -0.949), c(-0.949, 0.316),
    c(-0.949, -0.949), c(-0.949, -0.949), c(-0.949, -0.949), c(-1.000, 0.000),
    c(0.316, -0.316), c(0.949, 0.316), c(-0.949, 0.316), c(-0.316, 0.949),
    c(0.316, -0.316),
];

/// Table G.24 (split over several tables in Annex I): the whole packet in the time
/// domain, 881 samples: STF (0-159), LTF (160-319), SIGNAL (320-399), six DATA symbols
/// (400-879) and the trailing half-weight sample. Samples at field boundaries (0, 160,
/// 320, 400, ..., 880) are the overlap of two windowed fields (Equation 17-4 with half
/// weights).
pub fn packet_time_domain() -> Vec<Complex32> {
    include_str!("annex_i_packet.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l
                .split_whitespace()
                .map(|v| v.parse::<f32>().expect("annex sample"));
            c(
                it.next().expect("real part"),
                it.next().expect("imaginary part"),
            )
        })
        .collect()
}

/// Bits written as '0'/'1' characters, other characters ignored.
pub fn bits_from_str(s: &str) -> Vec<u8> {
    s.chars()
        .filter_map(|ch| ch.to_digit(2).map(|d| d as u8))
        .collect()
}

/// Bits packed first-bit-most-significant into octets, as the annex tables print them.
pub fn bits_from_msb_octets(octets: &[u8]) -> Vec<u8> {
    octets
        .iter()
        .flat_map(|&o| (0..8).rev().map(move |i| (o >> i) & 1))
        .collect()
}

/// Scale of the annex time-domain tables relative to this crate: the annex divides the
/// inverse DFT sum by 64, this crate by sqrt(52), so annex = crate * sqrt(52) / 64.
pub fn annex_scale() -> f32 {
    52f32.sqrt() / 64.0
}

#[test]
fn tables_are_consistent() {
    assert_eq!(packet_time_domain().len(), 881);
    assert_eq!(bits_from_str(SCRAMBLER_SEQUENCE).len(), 127);
    assert_eq!(bits_from_str(SIGNAL_BITS).len(), 24);
    assert_eq!(bits_from_str(SIGNAL_CODED).len(), 48);
    assert_eq!(bits_from_str(SIGNAL_INTERLEAVED).len(), 48);
    assert_eq!(
        &PSDU_1999[24..96],
        MESSAGE,
        "Table G.1 octets 25-96 hold the message"
    );
    assert_eq!(
        crate::phy::fcs::crc32(&PSDU_1999[..96]).to_le_bytes(),
        FCS_2016,
        "the 2016 FCS is the CRC-32 of the first 96 octets"
    );
    assert!(
        !crate::phy::fcs::check_fcs(&PSDU_1999),
        "the 1999 FCS is the known erratum"
    );
}
