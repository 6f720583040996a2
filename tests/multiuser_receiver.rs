//! The semantic receivers of a multi-user transmission fed ideal frames (the symbols as
//! sent, a small noise variance), so that what a user gets depends only on which frames
//! reach it: sharing maps, partial public messages, private rests, lost messages.

use candle_core::Device;
use m4sc::blocks::TxFrame;
use m4sc::multiuser::framer::MessageKind;
use m4sc::multiuser::scenario::Content;
use m4sc::multiuser::scenario::Scenario;
use m4sc::multiuser::sharing::cosine;
use m4sc::multiuser::transmitter::encode_content;
use m4sc::multiuser::transmitter::{transmit, Transmission};
use m4sc::multiuser::user_receiver::{receive_user, TaskOutput, UserResult};
use m4sc::phy::subcarriers::N_DATA;
use m4sc::phy::{FrameInfo, RxFrame, SemanticFrame};
use m4sc::semantic::model::SemanticModel;
use m4sc::semantic::tokenizer::BpeTokenizer;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What an ideal receiver hands up for a sent frame, at 30 dB.
fn ideal(frame: &TxFrame) -> RxFrame {
    let TxFrame::Semantic { header, symbols } = frame else {
        panic!("semantic frames only")
    };
    RxFrame::Semantic(SemanticFrame {
        info: FrameInfo {
            start_sample: 0,
            cfo_hz: 0.0,
            snr_db: 30.0,
            evm_db: -30.0,
        },
        header: *header,
        symbols: symbols.clone(),
        noise_var: [1e-3; N_DATA],
    })
}

/// Three users: two on one picture, one on another. The similarity threshold is set
/// from the model's own tokens so that the two pictures share their ten most similar
/// token positions (whatever the weights): a partial public message for all three, the
/// rest of the first picture publicly for its two users, the rest of the second
/// privately.
fn setup() -> (SemanticModel, BpeTokenizer, Scenario, Transmission) {
    let (model, tok) =
        SemanticModel::load(&root().join("weights/default"), &Device::Cpu).expect("weights");
    let images = [
        "data/eval/images/easy-vqa-0ec625ef9022fcb9.png",
        "data/eval/images/easy-vqa-7da2aefafdfcfc98.png",
    ];
    let tokens: Vec<Vec<Vec<f32>>> = images
        .iter()
        .map(|p| {
            let (_, t) = encode_content(&model, &tok, &Content::Image(root().join(p))).unwrap();
            t.to_vec2::<f32>().unwrap()
        })
        .collect();
    let mut sims: Vec<f32> = tokens[0]
        .iter()
        .zip(&tokens[1])
        .map(|(a, b)| cosine(a, b))
        .collect();
    sims.sort_by(|a, b| b.total_cmp(a));
    let threshold = sims[9];
    assert!(
        sims[15] < threshold,
        "two different pictures must differ somewhere: {sims:?}"
    );
    let text = format!(
        r#"
        similarity_threshold = {threshold}
        sharing_counts_frames = false
        [[user]]
        name = "ana"
        image = "{a}"
        task = "reconstruct"
        channel = {{ snr_db = 30 }}
        [[user]]
        name = "ben"
        image = "{a}"
        task = "vqa"
        question = "is there a black shape?"
        channel = {{ snr_db = 30 }}
        [[user]]
        name = "chloe"
        image = "{b}"
        task = "caption"
        channel = {{ snr_db = 30 }}
        "#,
        a = images[0],
        b = images[1]
    );
    let scenario = Scenario::parse(&text, Path::new("shared.toml"), &root()).unwrap();
    let tx = transmit(&model, &tok, &scenario).unwrap();
    (model, tok, scenario, tx)
}

fn receive(
    model: &SemanticModel,
    tok: &BpeTokenizer,
    scenario: &Scenario,
    frames: &[RxFrame],
) -> Vec<UserResult> {
    scenario
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| receive_user(model, tok, i, u, frames).unwrap())
        .collect()
}

fn text(r: &UserResult) -> Option<String> {
    match &r.output {
        Ok(TaskOutput::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

#[test]
fn partial_sharing_delivers_every_user_its_own_content() {
    let (model, tok, scenario, tx) = setup();
    let plan: Vec<(MessageKind, Vec<usize>)> = tx
        .messages
        .iter()
        .map(|m| (m.kind, m.members.clone()))
        .collect();
    assert_eq!(
        plan,
        vec![
            (MessageKind::PublicPartial, vec![0, 1, 2]),
            (MessageKind::PublicPartial, vec![0, 1]),
            (MessageKind::PrivateRest, vec![2]),
        ],
        "shared positions for all, the rest of each picture for its users"
    );
    assert!(tx.total_channel_symbols() < tx.unshared_channel_symbols);
    let frames: Vec<RxFrame> = tx.frames.iter().map(ideal).collect();
    let results = receive(&model, &tok, &scenario, &frames);
    for (u, r) in scenario.users.iter().zip(&results) {
        assert!(
            r.output.is_ok(),
            "{}: {:?}",
            u.name,
            r.output.as_ref().err()
        );
        let rx = r.tokens.as_ref().unwrap();
        assert_eq!(rx.dim(0).unwrap(), 16, "{}: an image is 16 tokens", u.name);
        assert_eq!(r.frames_ignored + r.frames_kept, frames.len());
    }
    // A user sharing nothing with a lost message is unaffected by its loss, and a user
    // needing it is not delivered.
    let partial = tx
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::PublicPartial)
        .unwrap();
    let without: Vec<RxFrame> = tx
        .frames
        .iter()
        .filter(|f| {
            !matches!(f, TxFrame::Semantic { header, .. }
                if header.message_id == partial.message_id)
        })
        .map(ideal)
        .collect();
    let lossy = receive(&model, &tok, &scenario, &without);
    for (i, (full, lost)) in results.iter().zip(&lossy).enumerate() {
        let name = &scenario.users[i].name;
        if partial.members.contains(&i) {
            let reason = lost.output.as_ref().expect_err("must not be delivered");
            assert!(reason.starts_with("not delivered"), "{name}: {reason}");
        } else {
            assert!(
                lost.output.is_ok(),
                "{name}: {:?}",
                lost.output.as_ref().err()
            );
            assert_eq!(
                text(full),
                text(lost),
                "{name}: unaffected by others' losses"
            );
        }
    }
}

#[test]
fn a_receiver_never_uses_another_users_private_frames() {
    let (model, tok, scenario, tx) = setup();
    let full: Vec<RxFrame> = tx.frames.iter().map(ideal).collect();
    let before = receive(&model, &tok, &scenario, &full);
    // Chloe's private frames re-addressed to ana: chloe must ignore them, ana must not
    // use them (they are not her task's and not her content).
    let readdressed: Vec<RxFrame> = tx
        .frames
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let TxFrame::Semantic { header, .. } = &mut f {
                if header.destination == 2 {
                    header.destination = 0;
                }
            }
            ideal(&f)
        })
        .collect();
    let after = receive(&model, &tok, &scenario, &readdressed);
    assert!(
        after[2].output.is_err(),
        "chloe was served from frames for ana"
    );
    assert!(
        after[2].frames_ignored > 0,
        "frames for ana must be ignored by chloe"
    );
    assert!(
        after[0].output.is_ok(),
        "{:?}",
        after[0].output.as_ref().err()
    );
    let same = (before[0].tokens.as_ref().unwrap() - after[0].tokens.as_ref().unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(same, 0.0, "ana's tokens must not change");
}

#[test]
fn a_private_message_for_another_task_is_refused() {
    let (model, tok, scenario, tx) = setup();
    let user = tx
        .messages
        .iter()
        .find(|m| !m.kind.is_public())
        .map(|m| m.members[0])
        .expect("the scenario has a private message");
    // Re-label the user's private frames with a task code that is not its task's.
    let relabelled: Vec<RxFrame> = tx
        .frames
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let TxFrame::Semantic { header, .. } = &mut f {
                if header.destination == user as u8 {
                    header.task = if header.task == 2 { 3 } else { 2 };
                }
            }
            ideal(&f)
        })
        .collect();
    let r = receive_user(&model, &tok, user, &scenario.users[user], &relabelled).unwrap();
    assert!(
        r.output.is_err(),
        "{}: a private message with a foreign task code must not be used",
        scenario.users[user].name
    );
}
