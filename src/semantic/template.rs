//! Unified task instruction template: one token layout for every task, so that adding a
//! task is adding data with a new task name, not code.
//!
//! ```text
//! <bos>task: {task}\n[image: <img>\n][text: <txt>\n][question: {question}\n]answer: {answer}<eos>
//! ```
//!
//! `<img>` and `<txt>` are slots: `IMAGE_SLOT_TOKENS` (16) positions for the received
//! visual tokens, and one position per received text token. In the id sequence every
//! slot position holds the marker id (`IMG_ID` / `TXT_ID`); the model input replaces the
//! embeddings at those positions by the semantic tokens (`fill_slots`). The prompt ends
//! with `answer:`; the answer follows after one space and ends in `<eos>`, and only the
//! answer tokens and that `<eos>` carry training loss.
//!
//! The `text` task (deliver a sentence) is the one exception to generation after
//! `answer:`: its answer is the sentence that was sent, so it is read at the text slot
//! (`Task::answers_at_text_slot`): the output at each slot position predicts the token
//! sent at that position, and `render` adds no answer tokens for it.
//!
//! Examples (slots drawn as `<img>x16` / `<txt>xN`):
//!
//! ```text
//! reconstruct  <bos>task: reconstruct\nimage: <img>x16\nanswer:
//!              (no answer text: the image decoder serves this task, the LM is not run)
//! caption      <bos>task: caption\nimage: <img>x16\nanswer: a red circle left of a blue square<eos>
//! vqa          <bos>task: vqa\nimage: <img>x16\nquestion: what color is the shape?\nanswer: red<eos>
//! classify     <bos>task: classify\nimage: <img>x16\nanswer: 7<eos>
//! text         <bos>task: text\ntext: <txt>xN\nanswer:   (answer read at <txt>xN)
//! new task     <bos>task: count\nimage: <img>x16\nquestion: how many shapes?\nanswer: 3<eos>
//! ```
//!
//! Text between slots is tokenized as whole runs (`"task: caption\nimage: "`,
//! `"\nanswer:"`), the answer separately; since the tokenizer splits before whitespace and
//! the answer starts with a space, this equals tokenizing the whole line at once.

use super::tokenizer::{BpeTokenizer, BOS_ID, EOS_ID, IMG_ID, TXT_ID};
use candle_core::{Result as CandleResult, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Number of semantic tokens an image contributes (a 4x4 grid of visual tokens).
pub const IMAGE_SLOT_TOKENS: usize = 16;

/// Why an instruction could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("task name {0:?}: expected 1 to 32 characters from a-z, 0-9, '_'")]
    TaskName(String),
    #[error("{field} contains a line break, which would break the template lines")]
    LineBreak { field: &'static str },
    #[error("the {task} task answers with the image decoder and takes no answer text")]
    AnswerForReconstruct { task: String },
}

/// A task, named by a string. The five built-in names are `reconstruct`, `caption`,
/// `vqa`, `classify` and `text`; any other valid name is a new task.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Task(String);

impl Task {
    pub const RECONSTRUCT: &'static str = "reconstruct";
    pub const CAPTION: &'static str = "caption";
    pub const VQA: &'static str = "vqa";
    pub const CLASSIFY: &'static str = "classify";
    pub const TEXT: &'static str = "text";
    /// The built-in task names.
    pub const BUILT_IN: [&'static str; 5] = [
        Self::RECONSTRUCT,
        Self::CAPTION,
        Self::VQA,
        Self::CLASSIFY,
        Self::TEXT,
    ];

    /// A task by name: 1 to 32 characters from `a-z`, `0-9`, `_`.
    pub fn new(name: &str) -> Result<Self, TemplateError> {
        let ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(TemplateError::TaskName(name.to_string()))
        }
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// Whether the language model produces this task's answer (all but `reconstruct`).
    pub fn uses_language_model(&self) -> bool {
        self.0 != Self::RECONSTRUCT
    }

    /// Whether the answer is read at the text slot instead of generated after
    /// `answer:` (only `text`, whose answer is the sentence that was sent): the language
    /// model's output at each text slot position predicts the token sent there, so the
    /// whole sentence comes out of one pass, with the preceding received tokens as
    /// context, and no answer tokens are rendered.
    pub fn answers_at_text_slot(&self) -> bool {
        self.0 == Self::TEXT
    }
}

impl TryFrom<String> for Task {
    type Error = TemplateError;
    fn try_from(name: String) -> Result<Self, TemplateError> {
        Task::new(&name)
    }
}

impl From<Task> for String {
    fn from(t: Task) -> String {
        t.0
    }
}

impl std::str::FromStr for Task {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, TemplateError> {
        Task::new(s)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the receiver is asked to do with the semantic tokens it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    pub task: Task,
    pub question: Option<String>,
    pub has_image: bool,
    pub has_text: bool,
}

impl Instruction {
    /// The prompt as text with one `<img>` / `<txt>` marker per slot, e.g.
    /// `"<bos>task: vqa\nimage: <img>\nquestion: what shape?\nanswer:"`.
    pub fn prompt_text(&self) -> String {
        let mut s = format!("<bos>task: {}\n", self.task);
        if self.has_image {
            s.push_str("image: <img>\n");
        }
        if self.has_text {
            s.push_str("text: <txt>\n");
        }
        if let Some(q) = &self.question {
            s.push_str(&format!("question: {q}\n"));
        }
        s.push_str("answer:");
        s
    }
}

/// Which semantic tokens fill a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotKind {
    Image,
    Text,
}

/// Positions `start..start + len` of a rendered sequence that semantic tokens fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub kind: SlotKind,
    pub start: usize,
    pub len: usize,
}

/// A rendered instruction (and answer, for training).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedSequence {
    /// Token ids (seq); slot positions hold `IMG_ID` / `TXT_ID`.
    pub ids: Vec<u32>,
    /// Slots in sequence order.
    pub slots: Vec<Slot>,
    /// Number of prompt tokens (through `answer:`); generation starts after them.
    pub prompt_len: usize,
    /// (seq): true exactly on the answer tokens and the final `<eos>`.
    pub answer_mask: Vec<bool>,
}

impl RenderedSequence {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Next-token training targets, both (seq): `targets[t] = ids[t + 1]` and
    /// `mask[t] = 1` where `ids[t + 1]` is an answer token or the final `<eos>`, else 0.
    /// The last position has target `<pad>` and mask 0.
    pub fn next_token_targets(&self) -> (Vec<u32>, Vec<f32>) {
        let n = self.ids.len();
        let mut targets = Vec::with_capacity(n);
        let mut mask = Vec::with_capacity(n);
        for t in 0..n {
            if t + 1 < n {
                targets.push(self.ids[t + 1]);
                mask.push(if self.answer_mask[t + 1] { 1.0 } else { 0.0 });
            } else {
                targets.push(super::tokenizer::PAD_ID);
                mask.push(0.0);
            }
        }
        (targets, mask)
    }
}

fn check_line(field: &'static str, s: &str) -> Result<(), TemplateError> {
    if s.contains(['\n', '\r']) {
        Err(TemplateError::LineBreak { field })
    } else {
        Ok(())
    }
}

/// Renders `instruction` with `n_text_tokens` text slot positions (used when
/// `has_text`) and, for training, the `answer` followed by `<eos>`. Without an answer the
/// sequence is the prompt alone (generation input).
pub fn render(
    tokenizer: &BpeTokenizer,
    instruction: &Instruction,
    n_text_tokens: usize,
    answer: Option<&str>,
) -> Result<RenderedSequence, TemplateError> {
    if let Some(q) = &instruction.question {
        check_line("question", q)?;
    }
    if answer.is_some() && !instruction.task.uses_language_model() {
        return Err(TemplateError::AnswerForReconstruct {
            task: instruction.task.to_string(),
        });
    }
    let mut ids = vec![BOS_ID];
    let mut slots = Vec::new();
    let mut run = format!("task: {}\n", instruction.task);
    let mut add_slot = |ids: &mut Vec<u32>, run: &mut String, kind, len, marker| {
        ids.extend(tokenizer.encode(run));
        run.clear();
        slots.push(Slot {
            kind,
            start: ids.len(),
            len,
        });
        ids.extend(std::iter::repeat_n(marker, len));
    };
    if instruction.has_image {
        run.push_str("image: ");
        add_slot(
            &mut ids,
            &mut run,
            SlotKind::Image,
            IMAGE_SLOT_TOKENS,
            IMG_ID,
        );
        run.push('\n');
    }
    if instruction.has_text {
        run.push_str("text: ");
        add_slot(&mut ids, &mut run, SlotKind::Text, n_text_tokens, TXT_ID);
        run.push('\n');
    }
    if let Some(q) = &instruction.question {
        run.push_str(&format!("question: {q}\n"));
    }
    run.push_str("answer:");
    ids.extend(tokenizer.encode(&run));
    let prompt_len = ids.len();
    let mut answer_mask = vec![false; prompt_len];
    if let Some(a) = answer.filter(|_| !instruction.task.answers_at_text_slot()) {
        ids.extend(tokenizer.encode(&format!(" {a}")));
        ids.push(EOS_ID);
        answer_mask.resize(ids.len(), true);
    }
    Ok(RenderedSequence {
        ids,
        slots,
        prompt_len,
        answer_mask,
    })
}

/// Replaces the embeddings at each slot's positions by its semantic tokens.
/// token_embeds: (seq, d_model); sources[i]: (slots[i].len, d_model), in slot order
/// -> (seq, d_model). Differentiable in both inputs.
pub fn fill_slots(
    token_embeds: &Tensor,
    slots: &[Slot],
    sources: &[&Tensor],
) -> CandleResult<Tensor> {
    let (seq, d_model) = token_embeds.dims2()?;
    if slots.len() != sources.len() {
        candle_core::bail!(
            "{} slots but {} semantic token tensors",
            slots.len(),
            sources.len()
        );
    }
    let mut pieces = Vec::with_capacity(2 * slots.len() + 1);
    let mut pos = 0;
    for (slot, src) in slots.iter().zip(sources) {
        let (n, d) = src.dims2()?;
        if n != slot.len || d != d_model || slot.start < pos || slot.start + slot.len > seq {
            candle_core::bail!(
                "slot {slot:?} in a ({seq}, {d_model}) sequence cannot take ({n}, {d}) tokens"
            );
        }
        if slot.start > pos {
            pieces.push(token_embeds.narrow(0, pos, slot.start - pos)?);
        }
        if n > 0 {
            pieces.push((*src).clone());
        }
        pos = slot.start + slot.len;
    }
    if pos < seq {
        pieces.push(token_embeds.narrow(0, pos, seq - pos)?);
    }
    Tensor::cat(&pieces, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn tokenizer() -> BpeTokenizer {
        let corpus = [
            "task: caption\nimage: \nanswer: a red circle",
            "task: vqa\nquestion: what color is the shape?\nanswer: red",
            "task: text\ntext: \nanswer: how are you",
        ];
        BpeTokenizer::train(&corpus, 320).unwrap()
    }

    fn instr(task: &str, q: Option<&str>, img: bool, txt: bool) -> Instruction {
        Instruction {
            task: Task::new(task).unwrap(),
            question: q.map(str::to_string),
            has_image: img,
            has_text: txt,
        }
    }

    /// Decodes with slot markers collapsed, for comparing against the written template.
    fn show(tok: &BpeTokenizer, r: &RenderedSequence) -> String {
        let mut s = String::new();
        let mut i = 0;
        while i < r.ids.len() {
            match r.slots.iter().find(|sl| sl.start == i && sl.len > 0) {
                Some(sl) => {
                    let m = if sl.kind == SlotKind::Image {
                        "<img>"
                    } else {
                        "<txt>"
                    };
                    s.push_str(&format!("{m}x{}", sl.len));
                    i += sl.len;
                }
                None => {
                    match r.ids[i] {
                        BOS_ID => s.push_str("<bos>"),
                        EOS_ID => s.push_str("<eos>"),
                        id => s.push_str(&tok.decode(&[id])),
                    }
                    i += 1;
                }
            }
        }
        s
    }

    #[test]
    fn every_task_renders_as_documented() {
        let tok = tokenizer();
        let cases = [
            (
                instr("reconstruct", None, true, false),
                None,
                "<bos>task: reconstruct\nimage: <img>x16\nanswer:",
            ),
            (
                instr("caption", None, true, false),
                Some("a red circle"),
                "<bos>task: caption\nimage: <img>x16\nanswer: a red circle<eos>",
            ),
            (
                instr("vqa", Some("what color is the shape?"), true, false),
                Some("red"),
                "<bos>task: vqa\nimage: <img>x16\nquestion: what color is the shape?\nanswer: red<eos>",
            ),
            (
                instr("classify", None, true, false),
                Some("7"),
                "<bos>task: classify\nimage: <img>x16\nanswer: 7<eos>",
            ),
            (
                instr("text", None, false, true),
                Some("how are you"),
                // Read at the slot: no answer tokens follow the prompt.
                "<bos>task: text\ntext: <txt>x5\nanswer:",
            ),
            (
                instr("count", Some("how many shapes?"), true, true),
                Some("3"),
                "<bos>task: count\nimage: <img>x16\ntext: <txt>x5\nquestion: how many shapes?\nanswer: 3<eos>",
            ),
        ];
        for (ins, answer, want) in cases {
            let r = render(&tok, &ins, 5, answer).unwrap();
            assert_eq!(
                show(&tok, &r),
                want,
                "task {} renders differently",
                ins.task
            );
            assert_eq!(r.ids.len(), r.answer_mask.len());
            // The prompt text form agrees with the token form (one marker per slot).
            let prompt = show(&tok, &render(&tok, &ins, 1, None).unwrap())
                .replace("<img>x16", "<img>")
                .replace("<txt>x1", "<txt>");
            assert_eq!(prompt, ins.prompt_text());
        }
    }

    #[test]
    fn slots_sit_where_the_markers_are() {
        let tok = tokenizer();
        let r = render(&tok, &instr("count", Some("q?"), true, true), 7, Some("3")).unwrap();
        assert_eq!(r.slots.len(), 2);
        let (img, txt) = (r.slots[0], r.slots[1]);
        assert_eq!((img.kind, img.len), (SlotKind::Image, IMAGE_SLOT_TOKENS));
        assert_eq!((txt.kind, txt.len), (SlotKind::Text, 7));
        assert!(
            img.start + img.len < txt.start,
            "slots overlap or are out of order"
        );
        for (i, &id) in r.ids.iter().enumerate() {
            let in_img = (img.start..img.start + img.len).contains(&i);
            let in_txt = (txt.start..txt.start + txt.len).contains(&i);
            assert_eq!(
                id == IMG_ID,
                in_img,
                "IMG marker at {i} outside its slot or missing"
            );
            assert_eq!(
                id == TXT_ID,
                in_txt,
                "TXT marker at {i} outside its slot or missing"
            );
        }
    }

    #[test]
    fn mask_covers_exactly_the_answer_and_eos() {
        let tok = tokenizer();
        let ins = instr("vqa", Some("what color is the shape?"), true, false);
        let prompt = render(&tok, &ins, 0, None).unwrap();
        let full = render(&tok, &ins, 0, Some("red circle")).unwrap();
        assert_eq!(
            &full.ids[..prompt.len()],
            &prompt.ids[..],
            "prompt changed with answer"
        );
        assert_eq!(full.prompt_len, prompt.len());
        let answer_ids: Vec<u32> = full
            .ids
            .iter()
            .zip(&full.answer_mask)
            .filter(|(_, &m)| m)
            .map(|(&id, _)| id)
            .collect();
        let mut want = tok.encode(" red circle");
        want.push(EOS_ID);
        assert_eq!(
            answer_ids, want,
            "mask does not select exactly answer + <eos>"
        );
        assert!(full.answer_mask[..full.prompt_len].iter().all(|&m| !m));
        let (targets, mask) = full.next_token_targets();
        for t in 0..full.len() {
            let expect = t + 1 < full.len() && t + 1 >= full.prompt_len;
            assert_eq!(mask[t] == 1.0, expect, "shifted mask wrong at {t}");
            if t + 1 < full.len() {
                assert_eq!(targets[t], full.ids[t + 1]);
            }
        }
        assert!(
            prompt.answer_mask.iter().all(|&m| !m),
            "prompt alone has no loss"
        );
    }

    #[test]
    fn bad_instructions_are_errors() {
        let tok = tokenizer();
        assert_eq!(Task::new(""), Err(TemplateError::TaskName(String::new())));
        assert!(
            Task::new("Caption").is_err(),
            "upper case is not a task name"
        );
        assert!(Task::new("two words").is_err());
        assert!(serde_json::from_str::<Task>("\"a b\"").is_err());
        assert_eq!(
            serde_json::from_str::<Task>("\"count\"").unwrap().name(),
            "count"
        );
        let ins = instr("vqa", Some("two\nlines"), true, false);
        assert_eq!(
            render(&tok, &ins, 0, None),
            Err(TemplateError::LineBreak { field: "question" })
        );
        let ins = instr("reconstruct", None, true, false);
        assert!(render(&tok, &ins, 0, Some("x")).is_err());
        assert!(Task::BUILT_IN.iter().all(|t| Task::new(t).is_ok()));
    }

    #[test]
    fn fill_slots_places_semantic_tokens_exactly() -> CandleResult<()> {
        let dev = Device::Cpu;
        let embeds = Tensor::zeros((10, 3), candle_core::DType::F32, &dev)?;
        let a = Tensor::ones((2, 3), candle_core::DType::F32, &dev)?;
        let b = (Tensor::ones((3, 3), candle_core::DType::F32, &dev)? * 2.0)?;
        let slots = [
            Slot {
                kind: SlotKind::Image,
                start: 1,
                len: 2,
            },
            Slot {
                kind: SlotKind::Text,
                start: 5,
                len: 3,
            },
        ];
        let out = fill_slots(&embeds, &slots, &[&a, &b])?;
        let rows: Vec<f32> = out.get_on_dim(1, 0)?.to_vec1()?;
        assert_eq!(rows, [0., 1., 1., 0., 0., 2., 2., 2., 0., 0.]);
        // Wrong lengths are errors, not silent misplacement.
        assert!(fill_slots(&embeds, &slots, &[&b, &a]).is_err());
        assert!(fill_slots(&embeds, &slots[..1], &[&a, &b]).is_err());
        Ok(())
    }
}
