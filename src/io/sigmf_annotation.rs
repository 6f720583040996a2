//! SigMF annotations of what the receiver found in a recording: one per detection,
//! with the frame's kind, rate, user and stream where known and the decode result.

use super::sigmf_meta::Annotation;
use crate::blocks::TxFrame;
use crate::phy::fcs::crc32;
use crate::phy::rx::Outcome;
use crate::phy::subcarriers::SYMBOL_LEN;
use crate::phy::tx::{data_frame_len, semantic_frame_len, PREAMBLE_LEN};
use crate::phy::{RxFrame, StreamKind, BROADCAST};

/// Samples annotated for a detection that failed before its length was known: the
/// preamble and SIGNAL.
pub const FAILED_DETECTION_SAMPLES: u64 = (PREAMBLE_LEN + SYMBOL_LEN) as u64;

/// `m4sc:psdu_crc32` of a PSDU: the CRC-32 of its bytes before the 4-byte FCS, as 8
/// hexadecimal digits (the FCS a correct frame carries; the CRC over the whole PSDU
/// would be the same constant for every correct frame).
pub fn payload_crc32(psdu: &[u8]) -> String {
    let body = &psdu[..psdu.len().saturating_sub(4)];
    format!("{:08x}", crc32(body))
}

/// The annotation of one frame the receiver handed up: from its first preamble sample
/// over its nominal length, with what the receiver decoded and measured.
pub fn frame_annotation(frame: &RxFrame) -> Annotation {
    let info = frame.info();
    let mut a = match frame {
        RxFrame::Data(f) => {
            let len = data_frame_len(f.psdu.len(), f.rate) as u64;
            let mut a = Annotation::new(info.start_sample, len);
            let result = if f.fcs_ok { "ok" } else { "fcs-error" };
            a.kind = Some("data".into());
            a.decode = Some(result.into());
            a.rate_mbps = Some(f.rate.mbps());
            a.psdu_bytes = Some(f.psdu.len() as u64);
            a.psdu_crc32 = Some(payload_crc32(&f.psdu));
            a.label = Some(format!("data {} Mb/s {result}", f.rate.mbps()));
            a
        }
        RxFrame::Semantic(f) => {
            let h = &f.header;
            let len = semantic_frame_len(usize::from(h.n_symbols)) as u64;
            let mut a = Annotation::new(info.start_sample, len);
            let stream = stream_name(h.stream);
            a.kind = Some("semantic".into());
            a.decode = Some("ok".into());
            a.user = Some(h.destination);
            a.stream = Some(stream.into());
            a.task = Some(h.task);
            a.message_id = Some(h.message_id);
            a.fragment = Some([h.fragment_index, h.fragment_count]);
            a.n_symbols = Some(h.n_symbols);
            let to = if h.destination == BROADCAST {
                "broadcast".to_string()
            } else {
                format!("user {}", h.destination)
            };
            a.label = Some(format!("semantic {stream} {to} ok"));
            a
        }
    };
    a.snr_db = Some(info.snr_db);
    a.cfo_hz = Some(info.cfo_hz);
    a.evm_db = Some(info.evm_db);
    a
}

/// The annotation of a frame as sent, starting at `start_sample`: kind, rate, PSDU
/// length and CRC-32 of a data frame, or the header fields of a semantic frame; no
/// decode result (nothing was received).
pub fn tx_annotation(frame: &TxFrame, start_sample: u64) -> Annotation {
    match frame {
        TxFrame::Data { psdu, rate } => {
            let mut a = Annotation::new(start_sample, data_frame_len(psdu.len(), *rate) as u64);
            a.kind = Some("data".into());
            a.rate_mbps = Some(rate.mbps());
            a.psdu_bytes = Some(psdu.len() as u64);
            a.psdu_crc32 = Some(payload_crc32(psdu));
            a.label = Some(format!("sent data {} Mb/s", rate.mbps()));
            a
        }
        TxFrame::Semantic { header: h, .. } => {
            let len = semantic_frame_len(usize::from(h.n_symbols)) as u64;
            let mut a = Annotation::new(start_sample, len);
            a.kind = Some("semantic".into());
            a.user = Some(h.destination);
            a.stream = Some(stream_name(h.stream).into());
            a.task = Some(h.task);
            a.message_id = Some(h.message_id);
            a.fragment = Some([h.fragment_index, h.fragment_count]);
            a.n_symbols = Some(h.n_symbols);
            a.label = Some(format!("sent semantic {}", stream_name(h.stream)));
            a
        }
    }
}

fn stream_name(stream: StreamKind) -> &'static str {
    match stream {
        StreamKind::Public => "public",
        StreamKind::Private => "private",
    }
}

/// One annotation per detection, in order: detections that gave a frame are annotated
/// from the frame ([`frame_annotation`]); the others from their detection point over
/// [`FAILED_DETECTION_SAMPLES`], with kind `unknown` and the failure as the decode
/// result. `frames` are the frames handed up for `detections`, in order (FCS failures
/// included when the receiver kept them). Annotations are clipped to `len_samples`.
pub fn detection_annotations(
    detections: &[(u64, Outcome)],
    frames: &[RxFrame],
    len_samples: u64,
) -> Vec<Annotation> {
    let mut frames = frames.iter().peekable();
    let mut out = Vec::with_capacity(detections.len());
    for &(trigger, outcome) in detections {
        let frame = match (outcome, frames.peek()) {
            (Outcome::Data, Some(RxFrame::Data(f))) if f.fcs_ok => frames.next(),
            (Outcome::FcsError, Some(RxFrame::Data(f))) if !f.fcs_ok => frames.next(),
            (Outcome::Semantic, Some(RxFrame::Semantic(_))) => frames.next(),
            _ => None,
        };
        let mut a = match frame {
            Some(f) => frame_annotation(f),
            None => {
                let mut a = Annotation::new(trigger, FAILED_DETECTION_SAMPLES);
                a.kind = Some(
                    match outcome {
                        Outcome::Data | Outcome::FcsError => "data",
                        Outcome::Semantic | Outcome::HeaderError => "semantic",
                        _ => "unknown",
                    }
                    .into(),
                );
                a.decode = Some(outcome.name().into());
                a.label = Some(format!("detection {}", outcome.name()));
                a
            }
        };
        let end = (a.sample_start + a.sample_count.unwrap_or(0)).min(len_samples);
        a.sample_start = a.sample_start.min(len_samples);
        a.sample_count = Some(end - a.sample_start);
        out.push(a);
    }
    out
}

/// `a` with its sample range moved from a stream at `from_hz` to one at `to_hz`
/// (positions scale with the rate; for a recording kept at the device's rate while
/// the receiver ran at 20 MHz).
pub fn rescale(mut a: Annotation, from_hz: f64, to_hz: f64) -> Annotation {
    if from_hz != to_hz {
        let k = to_hz / from_hz;
        let end = a.sample_start + a.sample_count.unwrap_or(0);
        a.sample_start = (a.sample_start as f64 * k).floor() as u64;
        let end = (end as f64 * k).ceil() as u64;
        a.sample_count = a.sample_count.map(|_| end - a.sample_start);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::{DataFrame, FrameInfo, Rate};

    fn data(start: u64, fcs_ok: bool) -> RxFrame {
        RxFrame::Data(DataFrame {
            info: FrameInfo {
                start_sample: start,
                cfo_hz: 1e3,
                snr_db: 25.0,
                evm_db: -24.0,
            },
            rate: Rate::Mbps24,
            psdu: b"123456789".to_vec(),
            fcs_ok,
        })
    }

    #[test]
    fn detections_pair_with_their_frames_in_order() {
        let detections = [
            (130, Outcome::Data),
            (900, Outcome::SignalError),
            (2030, Outcome::FcsError),
            (5000, Outcome::FcsError),
            (9990, Outcome::Truncated),
        ];
        // The second FCS failure was not kept, so only two frames came up.
        let frames = [data(100, true), data(2000, false)];
        let a = detection_annotations(&detections, &frames, 10_100);
        assert_eq!(a.len(), 5);
        // 9 bytes at 24 Mb/s: 16 + 72 + 6 bits in one 96-bit symbol, so 400 + 80.
        assert_eq!((a[0].sample_start, a[0].sample_count), (100, Some(480)));
        assert_eq!(a[0].decode.as_deref(), Some("ok"));
        assert_eq!(a[0].rate_mbps, Some(24));
        // CRC-32 of the bytes before the FCS, "12345" (zlib.crc32 gives 0xcbf53a1c).
        assert_eq!(a[0].psdu_crc32.as_deref(), Some("cbf53a1c"));
        assert_eq!(
            (a[1].sample_start, a[1].decode.as_deref()),
            (900, Some("signal-error"))
        );
        assert_eq!(a[1].kind.as_deref(), Some("unknown"));
        assert_eq!(
            (a[2].sample_start, a[2].decode.as_deref()),
            (2000, Some("fcs-error"))
        );
        assert_eq!((a[3].sample_start, a[3].sample_count), (5000, Some(400)));
        assert_eq!(a[3].kind.as_deref(), Some("data"));
        assert_eq!(
            (a[4].sample_start, a[4].sample_count),
            (9990, Some(110)),
            "must be clipped to the recording"
        );
    }

    #[test]
    fn rescaling_maps_ranges_between_rates() {
        let a = rescale(Annotation::new(400, 480), 20e6, 25e6);
        assert_eq!((a.sample_start, a.sample_count), (500, Some(600)));
        let b = rescale(Annotation::new(401, 480), 20e6, 10e6);
        assert_eq!(
            (b.sample_start, b.sample_count),
            (200, Some(241)),
            "must cover the frame"
        );
    }
}
