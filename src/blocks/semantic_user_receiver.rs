//! End of one user's receive chain: the semantic receiver of that user.

use crate::multiuser::scenario::User;
use crate::multiuser::user_receiver::{receive_user, UserResult};
use crate::phy::RxFrame;
use crate::semantic::model::SemanticModel;
use crate::semantic::tokenizer::BpeTokenizer;
use futuresdr::runtime::dev::prelude::*;
use log::warn;
use std::sync::Arc;
use std::time::Instant;

/// Collects the frames a user's OFDM receiver decoded and, when the receiver finishes,
/// runs that user's semantic receiver on them
/// ([`receive_user`]: deframer, sharing maps, KAN channel decoder, task).
///
/// The model's forward passes run in the message handler, on an executor thread the
/// radio blocks share (marking the block `#[blocking]` made FutureSDR 0.0.40 flowgraphs
/// stall in about one run in a hundred).
///
/// Limits: the semantic receiver runs once, on everything heard, when the input
/// finishes (the scenarios are batch jobs); it does not answer while frames arrive.
///
/// # Stream Inputs / Outputs
///
/// None.
///
/// # Message Inputs
///
/// `in`: an [`RxFrame`] as `Pmt::Any`; `Pmt::Finished` runs the semantic receiver and
/// finishes the block. Other messages are answered with `Pmt::InvalidValue`.
///
/// # Message Outputs
///
/// None.
///
/// # Usage
/// ```no_run
/// # fn f(model: std::sync::Arc<m4sc::semantic::model::SemanticModel>,
/// #      tokenizer: std::sync::Arc<m4sc::semantic::tokenizer::BpeTokenizer>,
/// #      user: m4sc::multiuser::scenario::User) {
/// use futuresdr::prelude::*;
/// use m4sc::blocks::SemanticUserReceiver;
///
/// let mut fg = Flowgraph::new();
/// let rx = fg.add(SemanticUserReceiver::new(model, tokenizer, 0, user));
/// # }
/// ```
#[derive(Block)]
#[message_inputs(r#in)]
#[null_kernel]
pub struct SemanticUserReceiver {
    model: Arc<SemanticModel>,
    tokenizer: Arc<BpeTokenizer>,
    user_index: usize,
    user: User,
    frames: Vec<RxFrame>,
    result: Option<Result<UserResult, String>>,
    elapsed_s: f64,
}

impl SemanticUserReceiver {
    /// The receiver of user `user_index` (its address in frame headers).
    pub fn new(
        model: Arc<SemanticModel>,
        tokenizer: Arc<BpeTokenizer>,
        user_index: usize,
        user: User,
    ) -> Self {
        Self {
            model,
            tokenizer,
            user_index,
            user,
            frames: Vec::new(),
            result: None,
            elapsed_s: 0.0,
        }
    }

    /// Frames the user's radio decoded, in arrival order.
    pub fn frames(&self) -> &[RxFrame] {
        &self.frames
    }

    /// The semantic receiver's result (`None` before the input finished; `Err` when the
    /// model failed, which is not the same as content not delivered).
    pub fn take_result(&mut self) -> Option<Result<UserResult, String>> {
        self.result.take()
    }

    /// Wall-clock time the semantic receiver took, s.
    pub fn elapsed_s(&self) -> f64 {
        self.elapsed_s
    }

    async fn r#in(
        &mut self,
        io: &mut WorkIo,
        _mo: &mut MessageOutputs,
        _meta: &mut BlockMeta,
        p: Pmt,
    ) -> Result<Pmt> {
        match p {
            Pmt::Finished => {
                let start = Instant::now();
                let result = receive_user(
                    &self.model,
                    &self.tokenizer,
                    self.user_index,
                    &self.user,
                    &self.frames,
                );
                self.elapsed_s = start.elapsed().as_secs_f64();
                self.result = Some(result.map_err(|e| format!("{e:#}")));
                io.finished = true;
                Ok(Pmt::Ok)
            }
            Pmt::Any(any) => match any.take::<RxFrame>() {
                Some(frame) => {
                    self.frames.push(*frame);
                    Ok(Pmt::Ok)
                }
                None => {
                    warn!("SemanticUserReceiver: ignoring a message that is not an RxFrame");
                    Ok(Pmt::InvalidValue)
                }
            },
            other => {
                warn!("SemanticUserReceiver: ignoring message {other:?}");
                Ok(Pmt::InvalidValue)
            }
        }
    }
}
