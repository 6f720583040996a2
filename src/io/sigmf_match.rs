//! Which of a recording's annotated frames a replay decoded again, and which it lost.

use super::sigmf_annotation::payload_crc32;
use super::sigmf_meta::Annotation;
use crate::phy::RxFrame;

/// Largest distance, in samples at 20 MHz, between an annotation's start and a decoded
/// frame's start for the two to be the same frame: one OFDM symbol (timing offsets,
/// multipath and resampling move the detected start by a few samples).
pub const MATCH_TOLERANCE_SAMPLES: u64 = 80;

/// Result of [`match_annotations`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AnnotationMatch {
    /// Annotations that claim a frame: sent frames (no decode result) and frames
    /// decoded `ok` when the recording was made.
    pub frames_expected: usize,
    /// Expected frames decoded again, with the same contents where the annotation
    /// records them (PSDU CRC-32; semantic user, stream and message id).
    pub frames_matched: usize,
    /// Start samples (at the recording's rate) of expected frames not decoded again.
    pub lost_starts: Vec<u64>,
    /// Decoded frames that match no annotation.
    pub frames_unexpected: usize,
}

impl AnnotationMatch {
    /// Expected frames not decoded again.
    pub fn frames_lost(&self) -> usize {
        self.lost_starts.len()
    }
}

fn claims_a_frame(a: &Annotation) -> bool {
    let kind_known = matches!(a.kind.as_deref(), Some("data") | Some("semantic"));
    kind_known && matches!(a.decode.as_deref(), None | Some("ok"))
}

fn same_contents(a: &Annotation, frame: &RxFrame) -> bool {
    match frame {
        RxFrame::Data(f) => {
            a.kind.as_deref() == Some("data")
                && f.fcs_ok
                && a.rate_mbps.is_none_or(|r| r == f.rate.mbps())
                && a.psdu_crc32
                    .as_deref()
                    .is_none_or(|c| c == payload_crc32(&f.psdu))
        }
        RxFrame::Semantic(f) => {
            let h = &f.header;
            a.kind.as_deref() == Some("semantic")
                && a.user.is_none_or(|u| u == h.destination)
                && a.message_id.is_none_or(|m| m == h.message_id)
                && a.n_symbols.is_none_or(|n| n == h.n_symbols)
        }
    }
}

/// Matches `frames` (decoded at 20 MHz) against `annotations` (at `sample_rate_hz`):
/// each expected annotation is matched by at most one frame starting within
/// [`MATCH_TOLERANCE_SAMPLES`] of it with the same recorded contents.
pub fn match_annotations(
    annotations: &[Annotation],
    sample_rate_hz: f64,
    frames: &[RxFrame],
) -> AnnotationMatch {
    let to_phy = 20e6 / sample_rate_hz;
    let mut used = vec![false; frames.len()];
    let mut out = AnnotationMatch::default();
    for a in annotations.iter().filter(|a| claims_a_frame(a)) {
        out.frames_expected += 1;
        let start = (a.sample_start as f64 * to_phy).round() as u64;
        let hit = frames.iter().enumerate().position(|(i, f)| {
            !used[i]
                && f.info().start_sample.abs_diff(start) <= MATCH_TOLERANCE_SAMPLES
                && same_contents(a, f)
        });
        match hit {
            Some(i) => {
                used[i] = true;
                out.frames_matched += 1;
            }
            None => out.lost_starts.push(a.sample_start),
        }
    }
    out.frames_unexpected = used.iter().filter(|u| !**u).count();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::{DataFrame, FrameInfo, Rate};

    fn frame(start: u64, psdu: &[u8]) -> RxFrame {
        RxFrame::Data(DataFrame {
            info: FrameInfo {
                start_sample: start,
                cfo_hz: 0.0,
                snr_db: 30.0,
                evm_db: -30.0,
            },
            rate: Rate::Mbps12,
            psdu: psdu.to_vec(),
            fcs_ok: true,
        })
    }

    fn sent(start: u64, psdu: &[u8]) -> Annotation {
        let mut a = Annotation::new(start, 1000);
        a.kind = Some("data".into());
        a.rate_mbps = Some(12);
        a.psdu_crc32 = Some(payload_crc32(psdu));
        a
    }

    #[test]
    fn frames_match_by_position_and_contents() {
        // Annotations at 25 MS/s: 1250 is 1000 at 20 MS/s.
        let anns = vec![
            sent(1250, b"first frame"),
            sent(5000, b"second frame"),
            sent(10_000, b"third frame"),
            Annotation {
                decode: Some("fcs-error".into()),
                ..sent(20_000, b"fourth frame")
            },
        ];
        let frames = vec![
            frame(1003, b"first frame"), // matches the first
            frame(4000, b"other frame"), // contents differ from the second: lost + unexpected
            frame(8100, b"third frame"), // 100 samples from 8000: too far, lost + unexpected
        ];
        let m = match_annotations(&anns, 25e6, &frames);
        assert_eq!(
            m.frames_expected, 3,
            "an fcs-error annotation claims no frame"
        );
        assert_eq!(m.frames_matched, 1);
        assert_eq!(m.lost_starts, vec![5000, 10_000]);
        assert_eq!(m.frames_unexpected, 2);
    }
}
