//! Payload of a semantic frame: the four header OFDM symbols (BPSK, rate 1/2, each
//! deinterleaved like SIGNAL, not scrambled) decoded into a [`SemanticHeader`] with its
//! CRC checked, then the equalized channel symbols of the payload OFDM symbols (48 per
//! symbol in data-subcarrier order, common phase tracked on the pilots) and each data
//! subcarrier's post-equalization noise variance.

use super::frame_decoder::{FrameDecoder, FrameKind, SyncedFrame};
use super::phase_tracker::{choose_half_width, remove_common_phase};
use crate::phy::rate::Modulation;
use crate::phy::received::{FrameInfo, SemanticFrame};
use crate::phy::semantic_header::{SemanticHeader, HEADER_BITS, HEADER_OFDM_SYMBOLS};
use crate::phy::subcarriers::N_DATA;
use num_complex::Complex32;

/// Header bits through the tail: after them the encoder is back in state 0.
const HEADER_DECODED_BITS: usize = HEADER_BITS + 6;

impl FrameDecoder {
    /// Decodes the header and payload of semantic `frame`, whose samples `buf` (first
    /// at absolute index `buf_start`) holds up to `frame.end()`. `Err` carries the reason
    /// a header was rejected.
    pub fn decode_semantic(
        &mut self,
        buf: &[Complex32],
        buf_start: u64,
        frame: &SyncedFrame,
    ) -> Result<SemanticFrame, String> {
        let FrameKind::Semantic { n_ofdm } = frame.kind else {
            return Err("not a semantic frame".into());
        };
        let weights = Self::soft_weights(frame);
        let block = self.bpsk_map.block_len();
        let mut mother = std::mem::take(&mut self.mother);
        mother.clear();
        mother.resize(HEADER_OFDM_SYMBOLS * block, 0);
        let mut sq_err = 0.0f32;
        for i in 1..=HEADER_OFDM_SYMBOLS {
            sq_err += self.demap_symbol_at(buf, buf_start, frame, i, Modulation::Bpsk, &weights);
            self.bpsk_map
                .scatter(&self.symbol_soft, &mut mother[(i - 1) * block..i * block]);
        }
        self.viterbi
            .decode(&mother, HEADER_DECODED_BITS, &mut self.bits);
        self.mother = mother;
        let header =
            SemanticHeader::from_bits(&self.bits[..HEADER_BITS]).map_err(|e| e.to_string())?;
        let n_symbols = header.n_symbols as usize;
        let n_payload = n_ofdm - HEADER_OFDM_SYMBOLS;
        if n_symbols.div_ceil(N_DATA) != n_payload {
            return Err(format!(
                "header announces {n_symbols} symbols, SIGNAL {n_payload} payload OFDM symbols"
            ));
        }
        // Equalize without phase correction, keeping each symbol's pilot correlation;
        // then remove the common phase averaged over the neighbouring symbols.
        let first = 1 + HEADER_OFDM_SYMBOLS;
        let mut symbols = Vec::with_capacity(n_payload * N_DATA);
        let mut pilots = std::mem::take(&mut self.pilot_correlations);
        pilots.clear();
        for i in first..=n_ofdm {
            self.fft_at(buf, buf_start, frame.fft_start(i), &frame.derotator);
            pilots.push(frame.equalizer.pilot_correlation(&self.bins, i));
            frame
                .equalizer
                .equalize_with(&self.bins, Complex32::new(1.0, 0.0), &mut self.points);
            symbols.extend_from_slice(&self.points);
        }
        let half_width = choose_half_width(
            &pilots,
            frame.equalizer.pilot_phase_noise_var(),
            self.pilot_smoothing_symbols,
        );
        log::debug!(
            "semantic frame at {}: common phase averaged over +-{half_width} symbols",
            frame.start
        );
        remove_common_phase(&mut symbols, &pilots, half_width);
        self.pilot_correlations = pilots;
        symbols.truncate(n_symbols);
        let evm = sq_err / (HEADER_OFDM_SYMBOLS * N_DATA) as f32;
        Ok(SemanticFrame {
            info: FrameInfo {
                start_sample: frame.start,
                cfo_hz: frame.cfo_hz(),
                snr_db: frame.estimate.snr_db(),
                evm_db: 10.0 * evm.max(1e-12).log10(),
            },
            header,
            symbols,
            noise_var: frame.equalizer.post_noise_var(),
        })
    }
}
