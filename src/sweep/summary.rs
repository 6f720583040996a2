//! What a sweep shows: each system's curve per task, its best score, and the SNR at
//! which it first reaches 90 % of that best.

use super::point::SweepRow;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Name of the rows [`best_rate_rows`] adds.
pub const BEST_RATE_SYSTEM: &str = "classical-best-rate";

/// Fraction of its best score at which a system counts as working.
pub const WORKING_FRACTION: f64 = 0.9;

/// One system's curve on one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSummary {
    pub system: String,
    pub task: String,
    pub metric: &'static str,
    /// (SNR dB, mean over seeds, min, max), by SNR.
    pub curve: Vec<(f64, f64, f64, f64)>,
    /// Highest mean over the SNRs.
    pub best: f64,
    /// Lowest SNR at which the mean reaches 90 % of `best`, interpolated linearly
    /// between grid points; `None` when the curve never gets there (a flat zero).
    pub snr_db_at_90: Option<f64>,
    /// The curve is already at 90 % at the lowest SNR swept (`snr_db_at_90` is then
    /// an upper bound).
    pub at_90_from_start: bool,
}

/// Curves of every (system, task) in `rows`, by task, then system.
pub fn summarize(rows: &[SweepRow]) -> Vec<SystemSummary> {
    let mut groups: BTreeMap<(String, String), Vec<&SweepRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.task.clone(), r.system.clone()))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((task, system), rs)| {
            let mut by_snr: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for r in &rs {
                by_snr.entry(snr_key(r.snr_db)).or_default().push(r.value);
            }
            let curve: Vec<(f64, f64, f64, f64)> = by_snr
                .into_iter()
                .map(|(k, vs)| {
                    let mean = vs.iter().sum::<f64>() / vs.len() as f64;
                    let lo = vs.iter().cloned().fold(f64::INFINITY, f64::min);
                    let hi = vs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    (k as f64 / 1000.0, mean, lo, hi)
                })
                .collect();
            let best = curve.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
            let (snr_db_at_90, at_90_from_start) = crossing(&curve, WORKING_FRACTION * best);
            SystemSummary {
                metric: rs[0].metric,
                system,
                task,
                curve,
                best,
                snr_db_at_90: if best > 0.0 { snr_db_at_90 } else { None },
                at_90_from_start,
            }
        })
        .collect()
}

/// SNR in thousandths of a dB, as a map key.
fn snr_key(snr_db: f64) -> i64 {
    (snr_db * 1000.0).round() as i64
}

/// First SNR at which `curve` reaches `threshold`, interpolated from the point below.
fn crossing(curve: &[(f64, f64, f64, f64)], threshold: f64) -> (Option<f64>, bool) {
    for (i, &(snr, mean, _, _)) in curve.iter().enumerate() {
        if mean >= threshold {
            if i == 0 {
                return (Some(snr), true);
            }
            let (s0, m0, _, _) = curve[i - 1];
            let t = (threshold - m0) / (mean - m0);
            return (Some(s0 + t * (snr - s0)), false);
        }
    }
    (None, false)
}

/// Rows of a classical system with link adaptation by an oracle: at each SNR and for
/// each task, the fixed-rate classical system with the best mean over seeds (its rows
/// for every seed), named [`BEST_RATE_SYSTEM`].
pub fn best_rate_rows(rows: &[SweepRow]) -> Vec<SweepRow> {
    let classical: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| r.system.starts_with("classical-") && r.system != BEST_RATE_SYSTEM)
        .collect();
    let keys: BTreeSet<(String, i64)> = classical
        .iter()
        .map(|r| (r.task.clone(), snr_key(r.snr_db)))
        .collect();
    let mut out = Vec::new();
    for (task, snr) in keys {
        let at: Vec<&&SweepRow> = classical
            .iter()
            .filter(|r| r.task == task && snr_key(r.snr_db) == snr)
            .collect();
        let mut means: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for r in &at {
            let e = means.entry(r.system.as_str()).or_default();
            e.0 += r.value;
            e.1 += 1;
        }
        let Some((best, _)) = means
            .iter()
            .map(|(s, (sum, n))| (*s, sum / *n as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            continue;
        };
        out.extend(at.iter().filter(|r| r.system == best).map(|r| SweepRow {
            system: BEST_RATE_SYSTEM.to_string(),
            ..(**r).clone()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(system: &str, snr_db: f64, seed: u64, value: f64) -> SweepRow {
        SweepRow {
            system: system.into(),
            task: "vqa".into(),
            metric: "accuracy",
            snr_db,
            seed,
            value,
            users: 1,
            delivered: 1,
            airtime_samples: 0,
        }
    }

    #[test]
    fn the_90_percent_point_is_interpolated_on_the_mean_curve() {
        // Means 0.0, 0.5, 1.0 at 0, 10, 20 dB: 0.9 is reached at 18 dB.
        let rows = vec![
            row("a", 0.0, 1, 0.0),
            row("a", 10.0, 1, 0.4),
            row("a", 10.0, 2, 0.6),
            row("a", 20.0, 1, 1.0),
            row("a", 20.0, 2, 1.0),
        ];
        let s = &summarize(&rows)[0];
        assert_eq!(s.best, 1.0);
        assert_eq!(s.curve[1], (10.0, 0.5, 0.4, 0.6));
        let at = s.snr_db_at_90.unwrap();
        assert!((at - 18.0).abs() < 1e-9, "{at}");
        assert!(!s.at_90_from_start);
        // A curve that never leaves zero has no working point.
        let flat = summarize(&[row("b", 0.0, 1, 0.0), row("b", 5.0, 1, 0.0)]);
        assert_eq!(flat[0].snr_db_at_90, None);
    }

    #[test]
    fn best_rate_picks_per_snr_the_rate_with_the_best_mean() {
        let rows = vec![
            row("classical-6mbps", 0.0, 1, 0.3),
            row("classical-6mbps", 0.0, 2, 0.5),
            row("classical-54mbps", 0.0, 1, 0.9),
            row("classical-54mbps", 0.0, 2, 0.0),
            row("classical-6mbps", 30.0, 1, 0.5),
            row("classical-54mbps", 30.0, 1, 1.0),
            row("semantic", 0.0, 1, 1.0),
        ];
        let best = best_rate_rows(&rows);
        // At 0 dB the means are 0.4 (6 Mb/s) and 0.45 (54 Mb/s): 54 Mb/s, both seeds.
        let at0: Vec<f64> = best
            .iter()
            .filter(|r| r.snr_db == 0.0)
            .map(|r| r.value)
            .collect();
        assert_eq!(at0, vec![0.9, 0.0]);
        let at30: Vec<f64> = best
            .iter()
            .filter(|r| r.snr_db == 30.0)
            .map(|r| r.value)
            .collect();
        assert_eq!(at30, vec![1.0]);
        assert!(best.iter().all(|r| r.system == BEST_RATE_SYSTEM));
    }
}
