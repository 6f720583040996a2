//! Data rates of the IEEE 802.11a OFDM PHY at 20 MHz channel spacing.
//!
//! Parameters follow IEEE 802.11-2016 Table 17-4 (rate-dependent parameters) and the
//! RATE field encoding of Table 17-6.

/// Subcarrier modulation, IEEE 802.11-2016 17.3.5.8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modulation {
    Bpsk,
    Qpsk,
    Qam16,
    Qam64,
}

impl Modulation {
    /// Coded bits per subcarrier, `N_BPSC`.
    pub const fn n_bpsc(self) -> usize {
        match self {
            Modulation::Bpsk => 1,
            Modulation::Qpsk => 2,
            Modulation::Qam16 => 4,
            Modulation::Qam64 => 6,
        }
    }
}

/// Convolutional code rate after puncturing, IEEE 802.11-2016 17.3.5.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeRate {
    /// R = 1/2, the mother code.
    Half,
    /// R = 2/3.
    TwoThirds,
    /// R = 3/4.
    ThreeQuarters,
}

/// One of the eight mandatory and optional data rates of the 20 MHz OFDM PHY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rate {
    Mbps6,
    Mbps9,
    Mbps12,
    Mbps18,
    Mbps24,
    Mbps36,
    Mbps48,
    Mbps54,
}

impl Rate {
    /// All rates, slowest first.
    pub const ALL: [Rate; 8] = [
        Rate::Mbps6,
        Rate::Mbps9,
        Rate::Mbps12,
        Rate::Mbps18,
        Rate::Mbps24,
        Rate::Mbps36,
        Rate::Mbps48,
        Rate::Mbps54,
    ];

    /// The rate from its value in Mb/s, `None` if it is not one of the eight.
    pub fn from_mbps(mbps: u32) -> Option<Rate> {
        Rate::ALL.into_iter().find(|r| r.mbps() == mbps)
    }

    /// Data rate in Mb/s.
    pub const fn mbps(self) -> u32 {
        match self {
            Rate::Mbps6 => 6,
            Rate::Mbps9 => 9,
            Rate::Mbps12 => 12,
            Rate::Mbps18 => 18,
            Rate::Mbps24 => 24,
            Rate::Mbps36 => 36,
            Rate::Mbps48 => 48,
            Rate::Mbps54 => 54,
        }
    }

    pub const fn modulation(self) -> Modulation {
        match self {
            Rate::Mbps6 | Rate::Mbps9 => Modulation::Bpsk,
            Rate::Mbps12 | Rate::Mbps18 => Modulation::Qpsk,
            Rate::Mbps24 | Rate::Mbps36 => Modulation::Qam16,
            Rate::Mbps48 | Rate::Mbps54 => Modulation::Qam64,
        }
    }

    pub const fn code_rate(self) -> CodeRate {
        match self {
            Rate::Mbps6 | Rate::Mbps12 | Rate::Mbps24 => CodeRate::Half,
            Rate::Mbps48 => CodeRate::TwoThirds,
            Rate::Mbps9 | Rate::Mbps18 | Rate::Mbps36 | Rate::Mbps54 => CodeRate::ThreeQuarters,
        }
    }

    /// Coded bits per subcarrier, `N_BPSC`.
    pub const fn n_bpsc(self) -> usize {
        self.modulation().n_bpsc()
    }

    /// Coded bits per OFDM symbol, `N_CBPS`.
    pub const fn n_cbps(self) -> usize {
        48 * self.n_bpsc()
    }

    /// Data bits per OFDM symbol, `N_DBPS`.
    pub const fn n_dbps(self) -> usize {
        4 * self.mbps() as usize
    }

    /// The 4-bit RATE field R1..R4 of SIGNAL, with R1 in bit 0 (transmitted first).
    ///
    /// Table 17-6 lists R1-R4 as 1101 for 6 Mb/s, 1111, 0101, 0111, 1001, 1011, 0001
    /// and 0011 for 54 Mb/s.
    pub const fn rate_field(self) -> u8 {
        let r1_to_r4: [u8; 4] = match self {
            Rate::Mbps6 => [1, 1, 0, 1],
            Rate::Mbps9 => [1, 1, 1, 1],
            Rate::Mbps12 => [0, 1, 0, 1],
            Rate::Mbps18 => [0, 1, 1, 1],
            Rate::Mbps24 => [1, 0, 0, 1],
            Rate::Mbps36 => [1, 0, 1, 1],
            Rate::Mbps48 => [0, 0, 0, 1],
            Rate::Mbps54 => [0, 0, 1, 1],
        };
        r1_to_r4[0] | (r1_to_r4[1] << 1) | (r1_to_r4[2] << 2) | (r1_to_r4[3] << 3)
    }

    /// The rate a RATE field (R1 in bit 0) names, `None` for the reserved codes.
    pub fn from_rate_field(field: u8) -> Option<Rate> {
        Rate::ALL
            .into_iter()
            .find(|r| r.rate_field() == field & 0x0f)
    }

    /// Number of OFDM data symbols for a PSDU of `psdu_bytes`, `N_SYM` (Equation 17-11):
    /// SERVICE (16 bits) + 8 * LENGTH + tail (6 bits), rounded up to whole symbols.
    pub const fn n_sym(self, psdu_bytes: usize) -> usize {
        (16 + 8 * psdu_bytes + 6).div_ceil(self.n_dbps())
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} Mb/s", self.mbps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_17_4_parameters() {
        // (Mb/s, N_BPSC, N_CBPS, N_DBPS) from IEEE 802.11-2016 Table 17-4.
        let table = [
            (6, 1, 48, 24),
            (9, 1, 48, 36),
            (12, 2, 96, 48),
            (18, 2, 96, 72),
            (24, 4, 192, 96),
            (36, 4, 192, 144),
            (48, 6, 288, 192),
            (54, 6, 288, 216),
        ];
        for (mbps, n_bpsc, n_cbps, n_dbps) in table {
            let r = Rate::from_mbps(mbps).unwrap();
            assert_eq!(
                (r.n_bpsc(), r.n_cbps(), r.n_dbps()),
                (n_bpsc, n_cbps, n_dbps)
            );
            let ratio = match r.code_rate() {
                CodeRate::Half => (1, 2),
                CodeRate::TwoThirds => (2, 3),
                CodeRate::ThreeQuarters => (3, 4),
            };
            // N_DBPS = N_CBPS * R must hold for the code rate we claim.
            assert_eq!(n_cbps * ratio.0, n_dbps * ratio.1, "{mbps} Mb/s");
        }
    }

    #[test]
    fn rate_field_round_trip_and_reserved_codes() {
        for r in Rate::ALL {
            assert_eq!(Rate::from_rate_field(r.rate_field()), Some(r));
            // Every valid RATE code has R4 = 1.
            assert_eq!(r.rate_field() & 0b1000, 0b1000);
        }
        for code in 0..8u8 {
            assert_eq!(Rate::from_rate_field(code), None, "R4 = 0 is reserved");
        }
        assert_eq!(Rate::from_mbps(11), None);
    }

    #[test]
    fn annex_i_symbol_count() {
        // Annex I: 100-byte PSDU at 36 Mb/s occupies 6 data symbols.
        assert_eq!(Rate::Mbps36.n_sym(100), 6);
    }
}
