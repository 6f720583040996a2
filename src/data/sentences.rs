//! English sentences from the chatterbot-corpus 1.3.3 YAML files
//! (`chatterbot_corpus/data/english/*.yml`).
//!
//! The files hold `conversations:` as a list of lists of strings, written as
//! `- - first utterance` / `  - reply` lines. A small line parser reads those items:
//! plain, single-quoted ('' escapes ') and double-quoted (backslash escapes) scalars,
//! plain scalars continued on more-indented lines. Block scalars (`|`, `>`: code
//! samples and long texts) are skipped with their indented body. Utterances are split
//! into sentences at `.`, `!` or `?` followed by a space and an upper-case letter
//! (not after a one-letter word, a dotted abbreviation such as "p.m." or a common
//! title), whitespace is collapsed, duplicates are dropped (first occurrence kept),
//! and only sentences of 3 to 20 words are kept.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Fewest words in a kept sentence.
pub const MIN_WORDS: usize = 3;
/// Most words in a kept sentence.
pub const MAX_WORDS: usize = 20;

/// Errors reading the corpus.
#[derive(Debug, Error)]
pub enum SentenceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no .yml files in {path}")]
    Empty { path: PathBuf },
}

/// Unquotes one YAML flow scalar as written after `- `.
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s[1..s.len() - 1].replace("''", "'")
    } else if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let mut out = String::new();
        let mut chars = s[1..s.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') | Some('t') => out.push(' '),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s.to_string()
    }
}

/// Extracts the conversation utterances of one corpus file, in file order.
pub fn parse_corpus_yaml(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Indentation of the current item's text; continuation lines are indented more.
    let mut item_indent: Option<usize> = None;
    let mut in_block = false;
    let mut in_conversations = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if indent == 0 && !body.starts_with('-') && !body.is_empty() {
            // A top-level key such as `categories:` or `conversations:`.
            in_conversations = body == "conversations:";
            item_indent = None;
            in_block = false;
            continue;
        }
        let item = body
            .strip_prefix("- - ")
            .filter(|_| indent == 0)
            .or_else(|| body.strip_prefix("- ").filter(|_| indent == 2));
        if let Some(item) = item.filter(|_| in_conversations) {
            let item = item.trim();
            in_block = item.starts_with('|') || item.starts_with('>');
            if in_block || item.is_empty() {
                item_indent = None;
            } else {
                // The inner dash sits at column 2 in both item forms.
                item_indent = Some(2);
                out.push(unquote(item));
            }
            continue;
        }
        if in_block || body.is_empty() {
            continue;
        }
        // A more-indented line continues a plain scalar.
        if let (Some(base), Some(last)) = (item_indent, out.last_mut()) {
            if indent > base {
                last.push(' ');
                last.push_str(body);
            }
        }
    }
    out
}

/// Splits an utterance into sentences and collapses whitespace.
pub fn split_sentences(utterance: &str) -> Vec<String> {
    let words: Vec<&str> = utterance.split_whitespace().collect();
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        current.push(w);
        let ends = w.ends_with(['.', '!', '?']);
        let stem = w.trim_end_matches(['.', '!', '?']);
        let abbreviation = stem.chars().filter(|c| c.is_alphabetic()).count() <= 1
            || stem.contains('.')
            || ["Mr", "Mrs", "Ms", "Dr", "Lt", "St", "Jr", "Sr", "vs", "etc"].contains(&stem);
        let next_upper = words
            .get(i + 1)
            .and_then(|n| n.chars().next())
            .is_some_and(|c| c.is_uppercase());
        if ends && !abbreviation && next_upper {
            out.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

/// Whether a sentence has `MIN_WORDS..=MAX_WORDS` words.
pub fn has_kept_length(sentence: &str) -> bool {
    (MIN_WORDS..=MAX_WORDS).contains(&sentence.split_whitespace().count())
}

/// Sentences of several utterances: split, length-filtered and deduplicated in order.
pub fn sentences_of(utterances: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    utterances
        .iter()
        .flat_map(|u| split_sentences(u))
        .filter(|s| has_kept_length(s) && seen.insert(s.clone()))
        .collect()
}

/// Reads every `*.yml` file of `dir` (in name order) and returns its sentences.
pub fn load_sentences(dir: &Path) -> Result<Vec<String>, SentenceError> {
    let io = |source| SentenceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    if files.is_empty() {
        return Err(SentenceError::Empty {
            path: dir.to_path_buf(),
        });
    }
    files.sort();
    let mut utterances = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|source| SentenceError::Io {
            path: f.clone(),
            source,
        })?;
        utterances.extend(parse_corpus_yaml(&text));
    }
    Ok(sentences_of(&utterances))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "categories:
- AI
conversations:
- - What is AI?
  - Artificial Intelligence is the branch of science. It builds machines.
- - 'It''s a test, isn''t it?'
  - \"She said \\\"hi\\\" to me.\"
- - Show me code
  - |
    - not an item
    def f(): pass
  - A plain scalar that
    goes on here.
- - What is AI?
  - Ok.
";

    #[test]
    fn parses_items_quotes_blocks_and_continuations() {
        let items = parse_corpus_yaml(SAMPLE);
        assert_eq!(
            items,
            vec![
                "What is AI?",
                "Artificial Intelligence is the branch of science. It builds machines.",
                "It's a test, isn't it?",
                "She said \"hi\" to me.",
                "Show me code",
                "A plain scalar that goes on here.",
                "What is AI?",
                "Ok.",
            ],
            "categories must be skipped, block scalar bodies dropped"
        );
    }

    #[test]
    fn splits_filters_and_dedupes() {
        assert_eq!(
            split_sentences("Hello there.  How are you? I met Dr. Smith at 5 p.m. Today."),
            vec![
                "Hello there.",
                "How are you?",
                "I met Dr. Smith at 5 p.m. Today."
            ]
        );
        let s = sentences_of(&parse_corpus_yaml(SAMPLE));
        assert_eq!(
            s,
            vec![
                "What is AI?",
                "Artificial Intelligence is the branch of science.",
                "It builds machines.",
                "It's a test, isn't it?",
                "She said \"hi\" to me.",
                "Show me code",
                "A plain scalar that goes on here.",
            ],
            "duplicates and sentences under 3 words must go"
        );
        assert!(!has_kept_length(&"word ".repeat(21)));
        assert!(has_kept_length(&"word ".repeat(20)));
    }
}
