//! Per-user output folders of a scenario run.
//!
//! ```text
//! DIR/report.json            the whole report (what --json prints)
//! DIR/<user>/record.json     the user's line of the report
//! DIR/<user>/answer.txt      caption, answer, class or sentence (when delivered)
//! DIR/<user>/reconstruction.png   reconstructed image (reconstruct, when delivered)
//! ```
//!
//! A user whose content was not delivered gets only `record.json`, with `delivered`
//! false and the reason.

use super::run::ScenarioReport;
use super::user_receiver::TaskOutput;
use crate::data::image_io::{save_png, tensor_to_image};
use anyhow::Context;
use std::path::Path;

/// Writes `report` under `dir` (created if needed).
pub fn write_outputs(report: &ScenarioReport, dir: &Path) -> anyhow::Result<()> {
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write(
        &dir.join("report.json"),
        &serde_json::to_string_pretty(report)?,
    )?;
    for u in &report.users {
        let d = dir.join(&u.name);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        for stale in ["answer.txt", "reconstruction.png"] {
            let p = d.join(stale);
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("cannot remove {}", p.display()))?;
            }
        }
        write(&d.join("record.json"), &serde_json::to_string_pretty(u)?)?;
        match &u.output {
            Some(TaskOutput::Text(a)) => write(&d.join("answer.txt"), &format!("{a}\n"))?,
            Some(TaskOutput::Image(img)) => {
                save_png(&tensor_to_image(img)?, &d.join("reconstruction.png"))?
            }
            None => {}
        }
    }
    Ok(())
}
