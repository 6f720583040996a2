//! A multi-user semantic scenario on the air: one transmitter, and per user a channel,
//! an OFDM receiver and that user's semantic receiver:
//!
//! ```text
//!                   +-> ChannelModel -> FrameReceiver | SemanticUserReceiver (0)
//! FrameTransmitter -+-> ChannelModel -> FrameReceiver | SemanticUserReceiver (1)
//!                   +-> ...
//! ```

use super::{runtime, FlowgraphError};
use crate::blocks::{
    ChannelModel, FrameReceiver, FrameTransmitter, SemanticUserReceiver, TransmitterConfig, TxFrame,
};
use crate::channel::ChannelSimulator;
use crate::multiuser::scenario::Scenario;
use crate::multiuser::user_receiver::UserResult;
use crate::phy::rx::ReceiverConfig;
use crate::phy::{RxFrame, RxStats};
use crate::semantic::model::SemanticModel;
use crate::semantic::tokenizer::BpeTokenizer;
use futuresdr::prelude::*;
use std::sync::Arc;

/// What one user's chain ended with.
#[derive(Debug)]
pub struct SemanticUserOutcome {
    pub received: Vec<RxFrame>,
    pub stats: RxStats,
    /// `Err`: the semantic receiver itself failed (not: content not delivered).
    pub result: Result<UserResult, String>,
    /// Wall-clock time of the user's semantic receiver, s.
    pub semantic_receive_s: f64,
}

/// A scenario's users and the model they decode with.
pub type ScenarioUsers<'a> = (&'a Scenario, &'a Arc<SemanticModel>, &'a Arc<BpeTokenizer>);

/// Adds one semantic receiver per user of `users` (none for `None`), in the scenario's
/// order, all fed by `receiver`: every user hears the one air that receiver decodes.
pub(crate) fn add_shared_air_users(
    mut fg: &mut Flowgraph,
    receiver: BlockRef<FrameReceiver>,
    users: Option<ScenarioUsers<'_>>,
) -> Result<Vec<BlockRef<SemanticUserReceiver>>, FlowgraphError> {
    let mut blocks = Vec::new();
    if let Some((scenario, model, tokenizer)) = users {
        for (i, user) in scenario.users.iter().enumerate() {
            let block = fg.add(SemanticUserReceiver::new(
                model.clone(),
                tokenizer.clone(),
                i,
                user.clone(),
            ));
            connect!(fg, receiver | block);
            blocks.push(block);
        }
    }
    Ok(blocks)
}

/// What the semantic receiver `block` of a finished flowgraph ended with, `stats` being
/// its OFDM receiver's counters.
pub(crate) fn user_outcome(
    fg: &mut Flowgraph,
    block: BlockRef<SemanticUserReceiver>,
    stats: RxStats,
) -> Result<SemanticUserOutcome, FlowgraphError> {
    let mut block = fg.block_mut(&block)?;
    let result = block
        .take_result()
        .unwrap_or_else(|| Err("the semantic receiver never ran".into()));
    Ok(SemanticUserOutcome {
        received: block.frames().to_vec(),
        stats,
        result,
        semantic_receive_s: block.elapsed_s(),
    })
}

/// What went through [`semantic_loopback`].
#[derive(Debug)]
pub struct SemanticLoopbackOutcome {
    pub frames_sent: u64,
    /// Samples sent through every channel (20 MHz).
    pub samples: u64,
    /// One entry per user of the scenario, in order.
    pub users: Vec<SemanticUserOutcome>,
}

/// Sends `frames` once and receives them as every user of `scenario`, each through the
/// channel its entry describes.
pub fn semantic_loopback(
    frames: Vec<TxFrame>,
    scenario: &Scenario,
    model: &Arc<SemanticModel>,
    tokenizer: &Arc<BpeTokenizer>,
    tx_config: TransmitterConfig,
    rx_config: ReceiverConfig,
) -> Result<SemanticLoopbackOutcome, FlowgraphError> {
    let simulators = scenario
        .users
        .iter()
        .map(|u| ChannelSimulator::new(u.channel.config()))
        .collect::<Result<Vec<_>, _>>()?;

    // Downstream blocks first, the source last (see the module `flowgraphs`).
    let mut fg = Flowgraph::new();
    let mut chains = Vec::with_capacity(simulators.len());
    for (i, (simulator, user)) in simulators.into_iter().zip(&scenario.users).enumerate() {
        let semantic = fg.add(SemanticUserReceiver::new(
            model.clone(),
            tokenizer.clone(),
            i,
            user.clone(),
        ));
        let receiver = fg.add(FrameReceiver::new(rx_config));
        let channel = fg.add(ChannelModel::new(simulator));
        chains.push((channel, receiver, semantic));
    }
    let transmitter = fg.add(FrameTransmitter::new(tx_config, frames));
    let mut wired = Vec::with_capacity(chains.len());
    for (channel, receiver, semantic) in chains {
        connect!(fg, transmitter > channel > receiver | semantic);
        wired.push((receiver, semantic));
    }
    let chains = wired;

    let mut fg = runtime().run(fg)?;

    let (frames_sent, samples) =
        transmitter.with(&fg, |tx| (tx.frames_sent(), tx.samples_written()))?;
    let mut users = Vec::with_capacity(chains.len());
    for (receiver, semantic) in chains {
        let stats = fg.block(&receiver)?.stats();
        users.push(user_outcome(&mut fg, semantic, stats)?);
    }
    Ok(SemanticLoopbackOutcome {
        frames_sent,
        samples,
        users,
    })
}
