//! Cosine similarity, position by position, between the semantic tokens of images:
//! a guide for a scenario's `similarity_threshold`.
//!
//! ```sh
//! cargo run --release --example token_similarity -- weights/default a.png b.png [c.png ...]
//! ```
//!
//! Prints, for every pair of images, the similarity of each of the 16 token positions
//! and how many would be shared at thresholds 0.9, 0.95 and 0.98.

use anyhow::Context;
use candle_core::Device;
use m4sc::multiuser::scenario::Content;
use m4sc::multiuser::sharing::cosine;
use m4sc::multiuser::transmitter::encode_content;
use m4sc::semantic::model::SemanticModel;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        anyhow::bail!("usage: token_similarity WEIGHTS_DIR IMAGE IMAGE [IMAGE ...]");
    }
    let (model, tokenizer) = SemanticModel::load(&PathBuf::from(&args[0]), &Device::Cpu)?;
    let mut tokens = Vec::new();
    for p in &args[1..] {
        let (_, t) = encode_content(&model, &tokenizer, &Content::Image(PathBuf::from(p)))
            .with_context(|| format!("encoding {p}"))?;
        tokens.push(t.to_vec2::<f32>()?);
    }
    for a in 0..tokens.len() {
        for b in a + 1..tokens.len() {
            let sims: Vec<f32> = tokens[a]
                .iter()
                .zip(&tokens[b])
                .map(|(x, y)| cosine(x, y))
                .collect();
            let count = |t: f32| sims.iter().filter(|&&s| s >= t).count();
            println!(
                "{} ~ {}: min {:.3} max {:.3}; shared at 0.90/0.95/0.98: {}/{}/{}",
                args[1 + a],
                args[1 + b],
                sims.iter().copied().fold(f32::INFINITY, f32::min),
                sims.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                count(0.90),
                count(0.95),
                count(0.98)
            );
            let row: Vec<String> = sims.iter().map(|s| format!("{s:.3}")).collect();
            println!("  {}", row.join(" "));
        }
    }
    Ok(())
}
