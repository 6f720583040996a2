//! Output of the subcommands: one JSON object (`--json`) or a readable summary,
//! always on stdout; progress and diagnostics go to stderr through the logger.

use serde::Serialize;

/// Prints `report` as one JSON object on a single line.
pub fn print_json<T: Serialize>(report: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(report)?);
    Ok(())
}

/// Formats an optional figure for the readable summary.
pub fn fmt_opt(value: Option<f64>, precision: usize, unit: &str) -> String {
    match value {
        Some(v) => format!("{v:.precision$}{unit}"),
        None => "n/a".to_string(),
    }
}

/// Formats a rate in scientific notation for the readable summary.
pub fn fmt_sci(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{v:.3e}"),
        None => "n/a".to_string(),
    }
}
