//! Byte-level byte-pair-encoding tokenizer (Sennrich et al. 2016, on bytes as in GPT-2),
//! trained by the project on its own text.
//!
//! Vocabulary layout (ids):
//! - `0..256`: the 256 byte values, so any UTF-8 string (indeed any byte string) can be
//!   encoded and decoded exactly;
//! - `256..256 + SPECIAL_TOKENS.len()`: special tokens, never produced from plain text
//!   (the literal text `<eos>` is encoded as its bytes);
//! - after them: one token per learned merge, in the order the merges were learned (the
//!   merge rank).
//!
//! Pre-splitting: text is cut into chunks before each whitespace character, so a chunk is
//! at most one whitespace character followed by non-whitespace characters
//! (`"a  big\ncat"` -> `"a"`, `" "`, `" big"`, `"\ncat"`). Merges never cross a chunk
//! boundary, so a token holds at most one whitespace character, at its start.
//!
//! Training counts adjacent token pairs over all chunks (weighted by how often each chunk
//! occurs) and merges the most frequent pair; ties go to the pair with the smallest
//! (left id, right id). Training stops at `vocab_size` or when no pair occurs twice.
//!
//! Encoding applies, per chunk, the lowest-rank merge present (all its non-overlapping
//! occurrences, left to right) until no learned merge applies.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Number of byte tokens.
pub const N_BYTES: u32 = 256;
/// Special tokens, in id order from `N_BYTES`.
pub const SPECIAL_TOKENS: [&str; 6] = ["<pad>", "<bos>", "<eos>", "<img>", "<txt>", "<sep>"];
/// Padding.
pub const PAD_ID: u32 = 256;
/// Beginning of a sequence.
pub const BOS_ID: u32 = 257;
/// End of a sequence (ends every answer).
pub const EOS_ID: u32 = 258;
/// Image slot marker (placeholder id at the positions visual tokens are spliced into).
pub const IMG_ID: u32 = 259;
/// Text slot marker (placeholder id at the positions received text tokens fill).
pub const TXT_ID: u32 = 260;
/// Separator, free for task-specific use.
pub const SEP_ID: u32 = 261;
/// First merge id.
pub const FIRST_MERGE_ID: u32 = N_BYTES + SPECIAL_TOKENS.len() as u32;

/// Why a tokenizer could not be saved, loaded or trained.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("tokenizer file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tokenizer file {path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("tokenizer file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("vocabulary size {got} is below the {min} byte and special tokens")]
    VocabTooSmall { got: usize, min: usize },
}

/// On-disk form.
#[derive(Serialize, Deserialize)]
struct TokenizerFile {
    kind: String,
    special_tokens: Vec<String>,
    merges: Vec<(u32, u32)>,
}

const FILE_KIND: &str = "m4sc-byte-bpe-v1";

/// A trained byte-level BPE tokenizer.
#[derive(Debug, Clone, PartialEq)]
pub struct BpeTokenizer {
    /// Learned merges; merge r creates token `FIRST_MERGE_ID + r`.
    merges: Vec<(u32, u32)>,
    /// Merge rank of each pair.
    ranks: HashMap<(u32, u32), u32>,
    /// Bytes of every token (special tokens: empty).
    token_bytes: Vec<Vec<u8>>,
}

/// Cuts text into chunks before every whitespace character (see the module docs).
pub fn pre_split(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && i > start {
            chunks.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    chunks
}

impl BpeTokenizer {
    /// A tokenizer with the given merges (checked: each merge may only use earlier ids).
    pub fn from_merges(merges: Vec<(u32, u32)>) -> Result<Self, String> {
        let mut token_bytes: Vec<Vec<u8>> = (0..N_BYTES).map(|b| vec![b as u8]).collect();
        token_bytes.extend(SPECIAL_TOKENS.iter().map(|_| Vec::new()));
        let mut ranks = HashMap::with_capacity(merges.len());
        for (r, &(a, b)) in merges.iter().enumerate() {
            let next = FIRST_MERGE_ID + r as u32;
            let usable = |t: u32| t < next && !(N_BYTES..FIRST_MERGE_ID).contains(&t);
            if !usable(a) || !usable(b) {
                return Err(format!(
                    "merge {r} ({a}, {b}) uses a special token or a token not defined before it"
                ));
            }
            if ranks.insert((a, b), r as u32).is_some() {
                return Err(format!("merge {r} ({a}, {b}) appears twice"));
            }
            let mut bytes = token_bytes[a as usize].clone();
            bytes.extend_from_slice(&token_bytes[b as usize]);
            token_bytes.push(bytes);
        }
        Ok(Self {
            merges,
            ranks,
            token_bytes,
        })
    }

    /// Learns merges from `texts` until the vocabulary (bytes + special tokens + merges)
    /// reaches `vocab_size` or no adjacent pair occurs at least twice. Deterministic: the
    /// most frequent pair wins, ties go to the smallest (left id, right id).
    pub fn train<S: AsRef<str>>(texts: &[S], vocab_size: usize) -> Result<Self, TokenizerError> {
        let min = FIRST_MERGE_ID as usize;
        if vocab_size < min {
            return Err(TokenizerError::VocabTooSmall {
                got: vocab_size,
                min,
            });
        }
        let mut chunk_counts: HashMap<&str, u64> = HashMap::new();
        for t in texts {
            for c in pre_split(t.as_ref()) {
                *chunk_counts.entry(c).or_insert(0) += 1;
            }
        }
        // Sorted so that nothing depends on hash-map order.
        let mut words: Vec<(Vec<u32>, u64)> = chunk_counts
            .into_iter()
            .map(|(c, n)| (c.bytes().map(u32::from).collect(), n))
            .collect();
        words.sort();
        let mut merges = Vec::new();
        while min + merges.len() < vocab_size {
            let mut pair_counts: HashMap<(u32, u32), u64> = HashMap::new();
            for (w, n) in &words {
                for p in w.windows(2) {
                    *pair_counts.entry((p[0], p[1])).or_insert(0) += n;
                }
            }
            let best = pair_counts
                .into_iter()
                .filter(|&(_, n)| n >= 2)
                .max_by(|(pa, na), (pb, nb)| na.cmp(nb).then(pb.cmp(pa)));
            let Some((pair, _)) = best else { break };
            let new_id = FIRST_MERGE_ID + merges.len() as u32;
            for (w, _) in &mut words {
                merge_pair(w, pair, new_id);
            }
            merges.push(pair);
        }
        log::debug!("trained BPE tokenizer with {} merges", merges.len());
        Ok(Self::from_merges(merges).expect("training only merges existing tokens"))
    }

    /// Number of tokens (bytes + special tokens + merges).
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// Learned merges in rank order.
    pub fn merges(&self) -> &[(u32, u32)] {
        &self.merges
    }

    /// Id of a special token by name (`"<eos>"`), if it is one.
    pub fn special_id(name: &str) -> Option<u32> {
        SPECIAL_TOKENS
            .iter()
            .position(|&s| s == name)
            .map(|i| N_BYTES + i as u32)
    }

    /// Whether `id` is a special token.
    pub fn is_special(id: u32) -> bool {
        (N_BYTES..FIRST_MERGE_ID).contains(&id)
    }

    /// Bytes a token stands for (empty for special tokens), None for unknown ids.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.token_bytes.get(id as usize).map(Vec::as_slice)
    }

    /// Encodes plain text (never yields special tokens). Output length <= text.len().
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len());
        for chunk in pre_split(text) {
            let mut ids: Vec<u32> = chunk.bytes().map(u32::from).collect();
            loop {
                let best = ids
                    .windows(2)
                    .filter_map(|p| self.ranks.get(&(p[0], p[1])).map(|&r| (r, (p[0], p[1]))))
                    .min();
                let Some((rank, pair)) = best else { break };
                merge_pair(&mut ids, pair, FIRST_MERGE_ID + rank);
            }
            out.extend(ids);
        }
        out
    }

    /// Decodes ids to text. Special tokens are skipped; ids outside the vocabulary and
    /// byte sequences that are not valid UTF-8 (possible for arbitrary id sequences, never
    /// for the output of `encode`) become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(ids.len() * 2);
        for &id in ids {
            match self.token_bytes.get(id as usize) {
                Some(b) => bytes.extend_from_slice(b),
                None => bytes.extend_from_slice("\u{fffd}".as_bytes()),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Writes the tokenizer as JSON.
    pub fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        let file = TokenizerFile {
            kind: FILE_KIND.to_string(),
            special_tokens: SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect(),
            merges: self.merges.clone(),
        };
        let json = serde_json::to_string(&file).map_err(|source| TokenizerError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        std::fs::write(path, json).map_err(|source| TokenizerError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a tokenizer written by `save`.
    pub fn load(path: &Path) -> Result<Self, TokenizerError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenizerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: TokenizerFile =
            serde_json::from_str(&text).map_err(|source| TokenizerError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        let invalid = |reason: String| TokenizerError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if file.kind != FILE_KIND {
            return Err(invalid(format!(
                "kind {:?}, expected {FILE_KIND:?}",
                file.kind
            )));
        }
        if file.special_tokens != SPECIAL_TOKENS {
            return Err(invalid(format!(
                "special tokens {:?}, expected {SPECIAL_TOKENS:?}",
                file.special_tokens
            )));
        }
        Self::from_merges(file.merges).map_err(invalid)
    }
}

/// Replaces every non-overlapping occurrence of `pair` in `ids` (left to right) by `new_id`.
fn merge_pair(ids: &mut Vec<u32>, pair: (u32, u32), new_id: u32) {
    let mut out = 0;
    let mut i = 0;
    while i < ids.len() {
        if i + 1 < ids.len() && (ids[i], ids[i + 1]) == pair {
            ids[out] = new_id;
            i += 2;
        } else {
            ids[out] = ids[i];
            i += 1;
        }
        out += 1;
    }
    ids.truncate(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_text(rng: &mut ChaCha8Rng, n_chars: usize) -> String {
        const POOL: &[char] = &[
            'a', 'b', 'c', 'e', 't', 'h', ' ', ' ', '\n', '\t', 'é', 'ß', 'Ж', '中', '文', '😀',
            '<', '>', '\u{0}', '\u{a0}', '\u{3000}',
        ];
        (0..n_chars)
            .map(|_| {
                if rng.random_bool(0.2) {
                    // Any scalar value, surrogates excluded by char::from_u32.
                    loop {
                        if let Some(c) = char::from_u32(rng.random_range(0..0x11_0000)) {
                            break c;
                        }
                    }
                } else {
                    POOL[rng.random_range(0..POOL.len())]
                }
            })
            .collect()
    }

    fn toy_tokenizer() -> BpeTokenizer {
        let corpus = [
            "the cat sat on the mat",
            "the hat is on the cat",
            "a red circle left of a blue square",
            "zwölf Äpfel für 中文 😀 words",
            "the red cat is on the blue mat",
            "a green triangle above the red circle",
            "what colour is the circle? the circle is red",
        ];
        BpeTokenizer::train(&corpus, FIRST_MERGE_ID as usize + 40).unwrap()
    }

    #[test]
    fn pre_split_keeps_one_leading_whitespace_per_chunk() {
        assert_eq!(
            pre_split("a  big\ncat "),
            vec!["a", " ", " big", "\ncat", " "],
            "chunks must start at each whitespace character"
        );
        assert_eq!(pre_split(""), Vec::<&str>::new());
    }

    #[test]
    fn toy_corpus_first_merges_are_the_hand_counted_ones() {
        // Chunks: "aaab" x1, " aaab" x1, " ab" x1.
        // Pair counts: (a,a) 4, (a,b) 3, (' ',a) 2. First merge: (a,a) -> 262.
        // Words become [262,a,b], [' ',262,a,b], [' ',a,b]:
        // (a,b) 3, (262,a) 2, (' ',262) 1, (' ',a) 1. Second merge: (a,b) -> 263.
        // Words [262,263], [' ',262,263], [' ',263]: (262,263) 2, (' ',262) 1,
        // (' ',263) 1. Third merge: (262,263) -> 264. Then no pair occurs twice.
        let a = u32::from(b'a');
        let b = u32::from(b'b');
        let tok = BpeTokenizer::train(&["aaab aaab ab"], 1000).unwrap();
        assert_eq!(
            tok.merges(),
            &[(a, a), (a, b), (FIRST_MERGE_ID, FIRST_MERGE_ID + 1)],
            "training picked a different pair than the hand count"
        );
        // Tie rule: "xyyx xyyx" counts (x,y) 2, (y,y) 2, (y,x) 2, (' ',x) 1: the
        // smallest pair (x,y) must win.
        let tok = BpeTokenizer::train(&["xyyx xyyx"], FIRST_MERGE_ID as usize + 1).unwrap();
        let (x, y) = (u32::from(b'x'), u32::from(b'y'));
        assert_eq!(tok.merges(), &[(x, y)], "ties must go to the smallest pair");
    }

    #[test]
    fn round_trip_on_random_unicode() {
        let tok = toy_tokenizer();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..300 {
            let n = rng.random_range(0..40);
            let s = random_text(&mut rng, n);
            let ids = tok.encode(&s);
            assert!(ids.len() <= s.len(), "more tokens than bytes");
            assert_eq!(tok.decode(&ids), s, "decode(encode(s)) lost information");
        }
    }

    /// Reference: apply every merge in rank order over the whole chunk.
    fn naive_encode(tok: &BpeTokenizer, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        for chunk in pre_split(text) {
            let mut ids: Vec<u32> = chunk.bytes().map(u32::from).collect();
            for (r, &pair) in tok.merges().iter().enumerate() {
                merge_pair(&mut ids, pair, FIRST_MERGE_ID + r as u32);
            }
            out.extend(ids);
        }
        out
    }

    #[test]
    fn encode_matches_rank_order_reference() {
        let tok = toy_tokenizer();
        assert!(
            tok.merges().len() > 20,
            "toy training learned too few merges"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let words = [
            "the", " cat", " mat", "at", " on", "a", " red", "中文", " ", "\n",
        ];
        for _ in 0..300 {
            let n = rng.random_range(0..12);
            let mut s: String = (0..n)
                .map(|_| words[rng.random_range(0..words.len())])
                .collect();
            s.push_str(&random_text(&mut rng, 3));
            assert_eq!(
                tok.encode(&s),
                naive_encode(&tok, &s),
                "greedy encoding disagrees with rank-order merging on {s:?}"
            );
        }
        // And it actually compresses text like the corpus.
        assert!(tok.encode("the cat sat on the mat").len() < 12);
    }

    #[test]
    fn special_tokens_never_come_from_plain_text() {
        let tok = toy_tokenizer();
        let text = "<pad><bos><eos><img><txt><sep> the cat <eos>";
        let ids = tok.encode(text);
        assert!(
            ids.iter().all(|&id| !BpeTokenizer::is_special(id)),
            "plain text produced a special token: {ids:?}"
        );
        assert_eq!(tok.decode(&ids), text);
        assert_eq!(BpeTokenizer::special_id("<eos>"), Some(EOS_ID));
        assert_eq!(BpeTokenizer::special_id("<img>"), Some(IMG_ID));
        assert_eq!(BpeTokenizer::special_id("<txt>"), Some(TXT_ID));
        // Decoding skips special tokens.
        let mut with_specials = vec![BOS_ID];
        with_specials.extend(tok.encode("hat"));
        with_specials.push(EOS_ID);
        assert_eq!(tok.decode(&with_specials), "hat");
    }

    #[test]
    fn save_load_round_trip_and_errors_name_the_file() {
        let tok = toy_tokenizer();
        let dir = std::env::temp_dir().join(format!("m4sc_tok_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        tok.save(&path).unwrap();
        let back = BpeTokenizer::load(&path).unwrap();
        assert_eq!(back, tok, "loaded tokenizer differs from the saved one");

        let missing = dir.join("missing.json");
        let err = BpeTokenizer::load(&missing).unwrap_err();
        assert!(matches!(err, TokenizerError::Io { .. }));
        assert!(err.to_string().contains("missing.json"), "{err}");

        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{not json").unwrap();
        let err = BpeTokenizer::load(&bad).unwrap_err();
        assert!(matches!(err, TokenizerError::Json { .. }));
        assert!(err.to_string().contains("bad.json"), "{err}");

        let forward = dir.join("forward.json");
        let json = format!(
            r#"{{"kind":"{FILE_KIND}","special_tokens":{:?},"merges":[[300,1]]}}"#,
            SPECIAL_TOKENS
        );
        std::fs::write(&forward, json).unwrap();
        let err = BpeTokenizer::load(&forward).unwrap_err();
        assert!(matches!(err, TokenizerError::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("forward.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn too_small_vocabulary_is_an_error() {
        let err = BpeTokenizer::train(&["abc"], 10).unwrap_err();
        assert!(matches!(err, TokenizerError::VocabTooSmall { got: 10, .. }));
    }
}
