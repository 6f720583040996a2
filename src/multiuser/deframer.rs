//! Semantic deframer of one user: keeps broadcast frames and frames addressed to the
//! user, drops the rest, reassembles fragmented messages and undoes the symbol
//! interleaving.
//!
//! Each kept symbol comes with its post-equalization noise variance: the noise variance
//! of the data subcarrier that carried it (from [`SemanticFrame::noise_var_of`] at its
//! carried position), so the channel decoder can weight it. A message whose fragments
//! do not all arrive is reported as incomplete with the number missing; fragments that
//! disagree with the message's first fragment (another fragment count, kind, task or
//! stream) are dropped and counted.

use super::framer::{MessageKind, SEQUENTIAL_FLAG};
use super::symbol_interleaver::positions;
use crate::phy::{SemanticFrame, SemanticHeader, StreamKind, BROADCAST};
use log::warn;
use num_complex::Complex32;
use std::collections::BTreeMap;

/// A reassembled message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// The first fragment's header.
    pub header: SemanticHeader,
    pub kind: MessageKind,
    /// Channel symbols in the order sent, interleaving undone.
    pub symbols: Vec<Complex32>,
    /// Post-equalization noise variance of each symbol.
    pub noise_var: Vec<f32>,
    /// The receiver's SNR estimate of each fragment's frame, dB.
    pub frame_snr_db: Vec<f32>,
}

/// A message some of whose fragments never arrived.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncompleteMessage {
    pub message_id: u16,
    pub fragments_received: usize,
    pub fragment_count: usize,
}

/// What a user's deframer ended with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeframerOutcome {
    pub messages: Vec<ReceivedMessage>,
    pub incomplete: Vec<IncompleteMessage>,
    /// Frames kept (broadcast or addressed to this user).
    pub frames_kept: usize,
    /// Frames addressed to other users.
    pub frames_ignored: usize,
    /// Kept frames dropped: unknown kind, inconsistent with their message, or repeated.
    pub frames_rejected: usize,
}

/// One fragment's symbols and noise variances (interleaving undone) and its frame's
/// SNR estimate, dB.
type Fragment = (Vec<Complex32>, Vec<f32>, f32);

#[derive(Debug)]
struct Partial {
    first: SemanticHeader,
    kind: MessageKind,
    /// Per fragment index: (symbols, noise_var, snr_db), interleaving undone.
    fragments: Vec<Option<Fragment>>,
}

/// Deframer of user `user`.
#[derive(Debug)]
pub struct Deframer {
    user: u8,
    partial: BTreeMap<u16, Partial>,
    outcome: DeframerOutcome,
}

impl Deframer {
    pub fn new(user: u8) -> Self {
        Self {
            user,
            partial: BTreeMap::new(),
            outcome: DeframerOutcome::default(),
        }
    }

    /// Offers a received frame; returns whether it was kept.
    pub fn push(&mut self, frame: &SemanticFrame) -> bool {
        let h = frame.header;
        let for_us = match h.stream {
            StreamKind::Public => h.destination == BROADCAST,
            StreamKind::Private => h.destination == self.user,
        };
        if !for_us {
            self.outcome.frames_ignored += 1;
            return false;
        }
        self.outcome.frames_kept += 1;
        let kind = match MessageKind::from_code(h.kind & !SEQUENTIAL_FLAG) {
            Some(k) if k.is_public() == (h.stream == StreamKind::Public) => k,
            _ => return self.reject(&h, "unknown kind for its stream"),
        };
        if frame.symbols.len() != h.n_symbols as usize {
            return self.reject(&h, "symbol count differs from the header");
        }
        let entry = self.partial.entry(h.message_id).or_insert_with(|| Partial {
            first: h,
            kind,
            fragments: vec![None; h.fragment_count as usize],
        });
        let f = entry.first;
        if (f.fragment_count, f.kind, f.task, f.stream, f.destination)
            != (h.fragment_count, h.kind, h.task, h.stream, h.destination)
        {
            return self.reject(&h, "disagrees with the message's first fragment");
        }
        let slot = &mut entry.fragments[h.fragment_index as usize];
        if slot.is_some() {
            return self.reject(&h, "repeated fragment");
        }
        let pos = if h.kind & SEQUENTIAL_FLAG == 0 {
            positions(frame.symbols.len())
        } else {
            (0..frame.symbols.len()).collect()
        };
        let symbols = pos.iter().map(|&p| frame.symbols[p]).collect();
        let noise_var = pos.iter().map(|&p| frame.noise_var_of(p)).collect();
        *slot = Some((symbols, noise_var, frame.info.snr_db));
        true
    }

    fn reject(&mut self, h: &SemanticHeader, why: &str) -> bool {
        warn!(
            "user {}: dropping fragment {} of message {}: {why}",
            self.user, h.fragment_index, h.message_id
        );
        self.outcome.frames_rejected += 1;
        false
    }

    /// Complete messages in message id order, and the incomplete ones.
    pub fn finish(mut self) -> DeframerOutcome {
        for (id, p) in std::mem::take(&mut self.partial) {
            let received = p.fragments.iter().flatten().count();
            if received < p.fragments.len() {
                warn!(
                    "user {}: message {id} incomplete, {received} of {} fragments",
                    self.user,
                    p.fragments.len()
                );
                self.outcome.incomplete.push(IncompleteMessage {
                    message_id: id,
                    fragments_received: received,
                    fragment_count: p.fragments.len(),
                });
                continue;
            }
            let mut m = ReceivedMessage {
                header: p.first,
                kind: p.kind,
                symbols: Vec::new(),
                noise_var: Vec::new(),
                frame_snr_db: Vec::new(),
            };
            for (s, nv, snr) in p.fragments.into_iter().flatten() {
                m.symbols.extend(s);
                m.noise_var.extend(nv);
                m.frame_snr_db.push(snr);
            }
            self.outcome.messages.push(m);
        }
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::super::framer::{frame_message, FramingError, OutgoingMessage};
    use super::*;
    use crate::blocks::TxFrame;
    use crate::phy::subcarriers::N_DATA;
    use crate::phy::FrameInfo;

    fn message(kind: MessageKind, destination: u8, id: u16, n: usize) -> OutgoingMessage {
        OutgoingMessage {
            kind,
            destination,
            task: 3,
            message_id: id,
            symbols: (0..n)
                .map(|i| Complex32::new(i as f32, -(id as f32)))
                .collect(),
            interleaved: true,
        }
    }

    /// What an ideal receiver hands up for a sent frame: the symbols as carried, with
    /// subcarrier `k`'s noise variance equal to `k`.
    fn received(frame: &TxFrame) -> SemanticFrame {
        let TxFrame::Semantic { header, symbols } = frame else {
            panic!("a semantic frame expected")
        };
        let mut noise_var = [0.0; N_DATA];
        for (k, v) in noise_var.iter_mut().enumerate() {
            *v = k as f32;
        }
        SemanticFrame {
            info: FrameInfo {
                start_sample: 0,
                cfo_hz: 0.0,
                snr_db: 20.0,
                evm_db: -20.0,
            },
            header: *header,
            symbols: symbols.clone(),
            noise_var,
        }
    }

    #[test]
    fn fragments_reassemble_in_any_order_with_noise_of_their_subcarrier() {
        let sent = message(MessageKind::PrivateWhole, 2, 7, 1000);
        let frames = frame_message(&sent, 300).unwrap();
        assert_eq!(frames.len(), 4, "1000 symbols in fragments of 300");
        let mut d = Deframer::new(2);
        for f in frames.iter().rev() {
            assert!(d.push(&received(f)));
        }
        let out = d.finish();
        assert_eq!(out.messages.len(), 1);
        let m = &out.messages[0];
        assert_eq!(m.symbols, sent.symbols, "order restored across fragments");
        // Symbol j of fragment f rode carried position positions(len)[j].
        let mut expected_nv = Vec::new();
        for chunk in sent.symbols.chunks(300) {
            expected_nv.extend(positions(chunk.len()).iter().map(|&p| (p % N_DATA) as f32));
        }
        assert_eq!(
            m.noise_var, expected_nv,
            "noise variance follows the carrying subcarrier"
        );
        assert_eq!(m.frame_snr_db, vec![20.0; 4]);
    }

    #[test]
    fn sequential_frames_are_flagged_and_read_in_order() {
        let mut sent = message(MessageKind::PublicWhole, 0, 5, 130);
        sent.interleaved = false;
        let frames = frame_message(&sent, 100).unwrap();
        let mut d = Deframer::new(4);
        let mut carried = 0;
        for f in &frames {
            let TxFrame::Semantic { header, symbols } = f else {
                panic!("a semantic frame expected")
            };
            assert_eq!(
                header.kind,
                MessageKind::PublicWhole as u8 | SEQUENTIAL_FLAG
            );
            // Carried as they are: symbol j of the fragment on position j.
            assert_eq!(symbols[..], sent.symbols[carried..carried + symbols.len()]);
            carried += symbols.len();
            assert!(d.push(&received(f)));
        }
        let out = d.finish();
        assert_eq!(out.messages[0].symbols, sent.symbols);
        // Without the flag the receiver would de-interleave symbols that never were.
        let mut wrong = received(&frames[1]);
        wrong.header.kind = MessageKind::PublicWhole as u8;
        let mut d = Deframer::new(4);
        d.push(&received(&frames[0]));
        d.push(&wrong);
        assert_ne!(
            d.finish().messages.len(),
            1,
            "the kinds of the fragments differ"
        );
    }

    #[test]
    fn lost_fragments_leave_the_message_incomplete_and_counted() {
        let frames = frame_message(&message(MessageKind::PrivateWhole, 1, 9, 700), 200).unwrap();
        let whole = frame_message(&message(MessageKind::PrivateWhole, 1, 10, 50), 200).unwrap();
        let mut d = Deframer::new(1);
        for (i, f) in frames.iter().chain(&whole).enumerate() {
            if i != 1 && i != 2 {
                d.push(&received(f));
            }
        }
        let out = d.finish();
        assert_eq!(
            out.messages.len(),
            1,
            "only the unfragmented message is complete"
        );
        assert_eq!(out.messages[0].header.message_id, 10);
        assert_eq!(
            out.incomplete,
            vec![IncompleteMessage {
                message_id: 9,
                fragments_received: 2,
                fragment_count: 4
            }]
        );
    }

    #[test]
    fn keeps_broadcast_and_own_frames_and_ignores_the_rest() {
        let mut d = Deframer::new(1);
        let public = frame_message(&message(MessageKind::PublicWhole, 0, 1, 60), 500).unwrap();
        let mine = frame_message(&message(MessageKind::PrivateWhole, 1, 2, 60), 500).unwrap();
        let theirs = frame_message(&message(MessageKind::PrivateWhole, 3, 3, 60), 500).unwrap();
        assert!(d.push(&received(&public[0])));
        assert!(d.push(&received(&mine[0])));
        assert!(!d.push(&received(&theirs[0])));
        assert!(
            !d.push(&received(&mine[0])),
            "a repeated fragment is dropped"
        );
        let out = d.finish();
        let ids: Vec<u16> = out.messages.iter().map(|m| m.header.message_id).collect();
        assert_eq!(ids, vec![1, 2], "never another user's message");
        assert_eq!(
            (out.frames_kept, out.frames_ignored, out.frames_rejected),
            (3, 1, 1)
        );
    }

    #[test]
    fn framing_refuses_what_it_cannot_send() {
        let m = message(MessageKind::PrivateWhole, 1, 4, 300);
        assert!(matches!(
            frame_message(&m, 0),
            Err(FramingError::FrameSize { .. })
        ));
        assert_eq!(
            frame_message(&m, 1).unwrap_err(),
            FramingError::TooManyFragments {
                id: 4,
                n: 300,
                frames: 300
            }
        );
        let empty = message(MessageKind::PrivateWhole, 1, 5, 0);
        assert_eq!(frame_message(&empty, 10), Err(FramingError::Empty(5)));
        let to_all = message(MessageKind::PrivateRest, BROADCAST, 6, 10);
        assert_eq!(
            frame_message(&to_all, 10),
            Err(FramingError::Destination(BROADCAST))
        );
    }
}
