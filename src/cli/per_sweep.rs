//! `m4sc per-sweep`: packet and bit error rate against SNR for every data rate, over
//! AWGN and over Rayleigh multipath, written as CSV tables and PNG charts.
//!
//! Each point is one run of the loopback flowgraph (transmitter, simulated channel,
//! receiver) scored by [`measure`], the same path and figures as `m4sc loopback`.

use super::args::parse_rate;
use clap::{Args, ValueEnum};
use m4sc::blocks::TransmitterConfig;
use m4sc::channel::{ChannelConfig, MultipathConfig};
use m4sc::flowgraphs::loopback::loopback;
use m4sc::link_metrics::{measure, LinkMetrics};
use m4sc::phy::rx::ReceiverConfig;
use m4sc::phy::Rate;
use m4sc::plot::{LineChart, Point, Series, YScale};
use m4sc::traffic::random_data_frames;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const LONG_ABOUT: &str = "\
Measure packet and bit error rate against SNR for each data rate.

Every point sends --frames random PSDUs of --payload-bytes bytes through the loopback
flowgraph (the path of `m4sc loopback`) and writes, per channel, a CSV table
per_<channel>.csv (channel, rate_mbps, snr_db, frames, frame_errors, per, bit_errors,
bits, ber) and a chart per_<channel>.png (PER on a log axis against SNR, one curve per
rate) into --out.

  per   frame_errors / frames: frames not received with a valid FCS.
  ber   bit_errors / bits over the PSDUs of frames whose SIGNAL decoded to the rate
        and length sent; empty when no PSDU was compared.
SNR is per sample against the unit transmit power (as in `m4sc loopback`). Every
point uses the same --seed, so all points of a curve see the same payloads, fading
draws and noise sequence, scaled by the SNR. Unless --full-range is given, a rate's
sweep stops after two consecutive points with no frame error: the points above are
not measured and are absent from the CSV.";

/// An SNR grid given as `START:STOP:STEP`, in dB.
#[derive(Debug, Clone, PartialEq)]
pub struct SnrGrid {
    pub points_db: Vec<f64>,
}

/// Largest number of points a grid may have.
const MAX_GRID_POINTS: usize = 1000;

/// Parses `START:STOP:STEP` (dB; STEP > 0, START <= STOP) into the points
/// `START, START + STEP, ...` up to STOP inclusive.
pub fn parse_snr_grid(s: &str) -> Result<SnrGrid, String> {
    let usage = "expected START:STOP:STEP in dB, e.g. -2:25:1";
    let parts: Vec<&str> = s.split(':').collect();
    let [start, stop, step] = parts.as_slice() else {
        return Err(format!("'{s}' has {} field(s); {usage}", parts.len()));
    };
    let num = |name: &str, v: &str| -> Result<f64, String> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{name} '{v}' in '{s}' is not a finite number; {usage}"))
    };
    let (start, stop, step) = (num("START", start)?, num("STOP", stop)?, num("STEP", step)?);
    if step <= 0.0 {
        return Err(format!("STEP must be positive, got {step}; {usage}"));
    }
    if start > stop {
        return Err(format!("START {start} is above STOP {stop}; {usage}"));
    }
    // A small tolerance keeps STOP in the grid despite rounding of fractional steps.
    let n = ((stop - start) / step + 1e-9).floor() as usize + 1;
    if n > MAX_GRID_POINTS {
        return Err(format!(
            "'{s}' gives {n} points; at most {MAX_GRID_POINTS} are allowed"
        ));
    }
    let points_db = (0..n)
        .map(|i| ((start + i as f64 * step) * 1e6).round() / 1e6)
        .collect();
    Ok(SnrGrid { points_db })
}

/// Channels to sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepChannel {
    Awgn,
    Multipath,
    Both,
}

#[derive(Debug, Args)]
pub struct PerSweepArgs {
    /// SNR grid, START:STOP:STEP in dB.
    #[arg(long = "snr-db", value_name = "START:STOP:STEP", default_value = "-2:30:1",
          value_parser = parse_snr_grid, allow_hyphen_values = true)]
    pub snr_grid: SnrGrid,
    /// Frames sent per point.
    #[arg(long, default_value_t = 500)]
    pub frames: usize,
    /// PSDU size in bytes, the 4-byte FCS included (5..=4095).
    #[arg(long, default_value_t = 1000)]
    pub payload_bytes: usize,
    /// Rates in Mb/s, comma separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_rate,
          default_value = "6,9,12,18,24,36,48,54")]
    pub rates: Vec<Rate>,
    /// Channel model(s) to sweep.
    #[arg(long, value_enum, default_value_t = SweepChannel::Both)]
    pub channel: SweepChannel,
    /// RMS delay spread of the exponential power delay profile (Rayleigh taps,
    /// redrawn for every frame), in ns.
    #[arg(long, default_value_t = 50.0)]
    pub delay_spread_ns: f64,
    /// Seed of the payloads, fading and noise (the same for every point).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Measure every point of the grid, even after PER has reached 0.
    #[arg(long)]
    pub full_range: bool,
    /// Output directory (created if missing).
    #[arg(long, default_value = "results/phy")]
    pub out: PathBuf,
}

/// One measured point of a curve.
#[derive(Debug, Clone, Copy)]
struct SweepPoint {
    rate: Rate,
    snr_db: f64,
    metrics: LinkMetrics,
}

pub fn run(args: &PerSweepArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.frames > 0, "--frames must be at least 1");
    anyhow::ensure!(!args.rates.is_empty(), "--rates lists no rate");
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    // Each failed frame is a receiver warning; in a sweep they are the measurement
    // itself (counted in the CSV), so they are silenced unless RUST_LOG asks for them.
    if std::env::var_os("RUST_LOG").is_none() {
        log::set_max_level(log::LevelFilter::Error);
    }
    let channels: &[&str] = match args.channel {
        SweepChannel::Awgn => &["awgn"],
        SweepChannel::Multipath => &["multipath"],
        SweepChannel::Both => &["awgn", "multipath"],
    };
    for &name in channels {
        let start = Instant::now();
        let points = sweep_channel(args, name)?;
        let csv = args.out.join(format!("per_{name}.csv"));
        let png = args.out.join(format!("per_{name}.png"));
        write_csv(&csv, name, args.frames, &points)?;
        chart(args, name, &points).write_png(&png)?;
        eprintln!(
            "{name}: {} points in {:.1} s -> {}, {}",
            points.len(),
            start.elapsed().as_secs_f64(),
            csv.display(),
            png.display()
        );
    }
    Ok(())
}

fn channel_config(args: &PerSweepArgs, name: &str, snr_db: f64) -> ChannelConfig {
    ChannelConfig {
        snr_db: Some(snr_db as f32),
        multipath: (name == "multipath").then(|| MultipathConfig {
            rms_delay_spread_ns: args.delay_spread_ns,
            ..MultipathConfig::default()
        }),
        seed: args.seed,
        ..ChannelConfig::default()
    }
}

fn sweep_channel(args: &PerSweepArgs, name: &str) -> anyhow::Result<Vec<SweepPoint>> {
    let rx_config = ReceiverConfig {
        keep_failed_fcs: true,
        ..ReceiverConfig::default()
    };
    let mut points = Vec::new();
    for &rate in &args.rates {
        let frames = random_data_frames(args.frames, rate, args.payload_bytes, args.seed)?;
        let mut error_free_run = 0;
        for &snr_db in &args.snr_grid.points_db {
            let t0 = Instant::now();
            let outcome = loopback(
                frames.clone(),
                TransmitterConfig::default(),
                channel_config(args, name, snr_db),
                rx_config,
            )?;
            let m = measure(&frames, &outcome.burst_starts, &outcome.received);
            eprintln!(
                "{name} {:>2} Mb/s {snr_db:>6.1} dB: PER {:.4} ({}/{}), BER {}  [{:.1} s]",
                rate.mbps(),
                m.per,
                m.frames_sent - m.frames_received,
                m.frames_sent,
                m.ber.map_or("n/a".to_string(), |b| format!("{b:.3e}")),
                t0.elapsed().as_secs_f64()
            );
            points.push(SweepPoint {
                rate,
                snr_db,
                metrics: m,
            });
            error_free_run = if m.frames_received == m.frames_sent {
                error_free_run + 1
            } else {
                0
            };
            if error_free_run >= 2 && !args.full_range {
                break;
            }
        }
    }
    Ok(points)
}

/// The CSV table: a header line, then one line per point.
fn csv_text(channel: &str, frames: usize, points: &[SweepPoint]) -> String {
    let mut text =
        String::from("channel,rate_mbps,snr_db,frames,frame_errors,per,bit_errors,bits,ber\n");
    for p in points {
        let m = &p.metrics;
        debug_assert_eq!(m.frames_sent, frames as u64);
        let _ = writeln!(
            text,
            "{channel},{},{},{},{},{:.6},{},{},{}",
            p.rate.mbps(),
            p.snr_db,
            m.frames_sent,
            m.frames_sent - m.frames_received,
            m.per,
            m.bit_errors,
            m.bits_compared,
            m.ber.map_or(String::new(), |b| format!("{b:.6e}"))
        );
    }
    text
}

fn write_csv(
    path: &Path,
    channel: &str,
    frames: usize,
    points: &[SweepPoint],
) -> anyhow::Result<()> {
    std::fs::write(path, csv_text(channel, frames, points))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

fn chart(args: &PerSweepArgs, channel: &str, points: &[SweepPoint]) -> LineChart {
    // Short enough to fit the chart's width at its title font size.
    let what = if channel == "multipath" {
        format!("Rayleigh {} ns RMS", args.delay_spread_ns)
    } else {
        "AWGN".to_string()
    };
    let mut c = LineChart::new(
        &format!(
            "PER, {what}, {} B PSDU, {} frames/pt",
            args.payload_bytes, args.frames
        ),
        "SNR (dB)",
        "packet error rate",
        YScale::Log10,
    );
    for &rate in &args.rates {
        c.series.push(Series {
            label: format!("{} Mb/s", rate.mbps()),
            points: points
                .iter()
                .filter(|p| p.rate == rate)
                .map(|p| Point {
                    x: p.snr_db,
                    y: p.metrics.per,
                    spread: None,
                })
                .collect(),
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snr_grid_includes_both_ends_and_negative_starts() {
        assert_eq!(
            parse_snr_grid("-2:2:1").unwrap().points_db,
            [-2.0, -1.0, 0.0, 1.0, 2.0]
        );
        // 0.1 steps accumulate rounding; STOP must still be in the grid.
        let g = parse_snr_grid("0:1:0.1").unwrap().points_db;
        assert_eq!(g.len(), 11, "{g:?}");
        assert_eq!(g[10], 1.0);
        assert_eq!(parse_snr_grid("5:5:1").unwrap().points_db, [5.0]);
    }

    #[test]
    fn bad_snr_grids_say_what_is_wrong() {
        let err = |s| parse_snr_grid(s).unwrap_err();
        assert!(err("0:10").contains("START:STOP:STEP"), "{}", err("0:10"));
        assert!(err("0:x:1").contains("STOP 'x'"), "{}", err("0:x:1"));
        assert!(err("0:10:0").contains("STEP must be positive"));
        assert!(err("10:0:1").contains("above STOP"));
        assert!(err("0:1e6:0.001").contains("at most"));
    }

    #[test]
    fn csv_rows_carry_counts_and_rates() {
        let m = LinkMetrics {
            frames_sent: 10,
            frames_received: 7,
            per: 0.3,
            bit_errors: 12,
            bits_compared: 8000,
            ber: Some(12.0 / 8000.0),
            ..LinkMetrics::default()
        };
        let lost = LinkMetrics {
            frames_sent: 10,
            per: 1.0,
            ..LinkMetrics::default()
        };
        let points = [
            SweepPoint {
                rate: Rate::Mbps6,
                snr_db: 2.5,
                metrics: m,
            },
            SweepPoint {
                rate: Rate::Mbps54,
                snr_db: -1.0,
                metrics: lost,
            },
        ];
        let text = csv_text("awgn", 10, &points);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "channel,rate_mbps,snr_db,frames,frame_errors,per,bit_errors,bits,ber",
                "awgn,6,2.5,10,3,0.300000,12,8000,1.500000e-3",
                // No PSDU compared: BER is left empty, not 0.
                "awgn,54,-1,10,10,1.000000,0,0,",
            ]
        );
    }
}
