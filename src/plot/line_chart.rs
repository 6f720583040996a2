//! A line chart with optional spread bars, written to PNG with plotters.
//!
//! Text needs a TrueType font; none is embedded in the binary. The chart reads one from
//! [`DEFAULT_FONT_PATH`] (Debian's `fonts-dejavu-core`) unless told otherwise.

use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the font comes from unless a chart names another.
pub const DEFAULT_FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Font family name the chart registers its font under.
const FONT_FAMILY: &str = "sans-serif";

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot read font {path}: {source} (install fonts-dejavu-core or pass another TTF)")]
    FontRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable TrueType font")]
    FontInvalid { path: PathBuf },
    #[error("chart {path} has no finite points to draw")]
    Empty { path: PathBuf },
    #[error("cannot draw chart {path}: {message}")]
    Draw { path: PathBuf, message: String },
}

/// Distinct, print-safe line colours, cycled through by series index.
const SERIES_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How the y axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YScale {
    Linear,
    /// Base-10 logarithmic; points with y <= 0 are left out.
    Log10,
}

/// One measured point: `y` with an optional spread `[y_low, y_high]` (e.g. across seeds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub spread: Option<(f64, f64)>,
}

/// One curve of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

/// A chart of several series over a shared x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub y_scale: YScale,
    pub series: Vec<Series>,
    /// Pixel size, width by height.
    pub size_px: (u32, u32),
    /// TrueType font used for all text.
    pub font_path: PathBuf,
}

impl LineChart {
    pub fn new(title: &str, x_label: &str, y_label: &str, y_scale: YScale) -> Self {
        Self {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            y_scale,
            series: Vec::new(),
            size_px: (1024, 720),
            font_path: PathBuf::from(DEFAULT_FONT_PATH),
        }
    }

    /// Maps a y value onto the drawn axis, `None` where the scale cannot show it.
    fn axis_y(&self, y: f64) -> Option<f64> {
        match self.y_scale {
            YScale::Linear => y.is_finite().then_some(y),
            YScale::Log10 => (y > 0.0 && y.is_finite()).then(|| y.log10()),
        }
    }

    /// Axis ranges covering every drawable point and spread, with a small margin.
    fn ranges(&self) -> Option<((f64, f64), (f64, f64))> {
        let mut x = (f64::INFINITY, f64::NEG_INFINITY);
        let mut y = (f64::INFINITY, f64::NEG_INFINITY);
        for p in self.series.iter().flat_map(|s| s.points.iter()) {
            let ys = [Some(p.y), p.spread.map(|s| s.0), p.spread.map(|s| s.1)];
            for v in ys.into_iter().flatten().filter_map(|v| self.axis_y(v)) {
                if p.x.is_finite() {
                    x = (x.0.min(p.x), x.1.max(p.x));
                    y = (y.0.min(v), y.1.max(v));
                }
            }
        }
        if !x.0.is_finite() {
            return None;
        }
        let pad = |(lo, hi): (f64, f64), min_span: f64| {
            let span = (hi - lo).max(min_span);
            (lo - 0.05 * span, hi + 0.05 * span)
        };
        let y = match self.y_scale {
            YScale::Linear => pad(y, 1e-9),
            YScale::Log10 => (y.0.floor(), y.1.ceil().max(y.0.floor() + 1.0)),
        };
        Some((pad(x, 1e-9), y))
    }

    /// Renders the chart to a PNG file at `path`.
    pub fn write_png(&self, path: &Path) -> Result<(), PlotError> {
        register_font(&self.font_path)?;
        let ((x0, x1), (y0, y1)) = self.ranges().ok_or_else(|| PlotError::Empty {
            path: path.to_path_buf(),
        })?;
        let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let root = BitMapBackend::new(path, self.size_px).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FONT_FAMILY, 28))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| draw_err(&e))?;
        let log = self.y_scale == YScale::Log10;
        let y_fmt = |v: &f64| {
            if log {
                format!("1e{:.0}", v)
            } else {
                format!("{v:.3}")
            }
        };
        // On a log axis, one label per decade so every label is a power of ten.
        let y_labels = if log {
            (y1 - y0).round() as usize + 1
        } else {
            10
        };
        chart
            .configure_mesh()
            .y_labels(y_labels)
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .y_label_formatter(&y_fmt)
            .label_style((FONT_FAMILY, 16))
            .axis_desc_style((FONT_FAMILY, 18))
            .draw()
            .map_err(|e| draw_err(&e))?;
        for (i, s) in self.series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()].to_rgba();
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| self.axis_y(p.y).map(|y| (p.x, y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| draw_err(&e))?
                .label(&s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| draw_err(&e))?;
            let bars = s.points.iter().filter_map(|p| {
                let (lo, hi) = p.spread?;
                let (lo, hi, y) = (self.axis_y(lo)?, self.axis_y(hi)?, self.axis_y(p.y)?);
                Some(ErrorBar::new_vertical(p.x, lo, y, hi, color.filled(), 8))
            });
            chart.draw_series(bars).map_err(|e| draw_err(&e))?;
        }
        let legend_at = match self.y_scale {
            // Error rates fall with SNR, metrics rise: keep the legend off the curves.
            YScale::Log10 => SeriesLabelPosition::LowerLeft,
            YScale::Linear => SeriesLabelPosition::LowerRight,
        };
        chart
            .configure_series_labels()
            .position(legend_at)
            .label_font((FONT_FAMILY, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| draw_err(&e))?;
        root.present().map_err(|e| draw_err(&e))?;
        Ok(())
    }
}

/// Registers the font under [`FONT_FAMILY`]; plotters keeps a `'static` reference, so
/// each distinct font file is read and leaked once per process.
fn register_font(path: &Path) -> Result<(), PlotError> {
    static REGISTERED: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if registered.as_deref() == Some(path) {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|source| PlotError::FontRead {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, bytes).map_err(|_| {
        PlotError::FontInvalid {
            path: path.to_path_buf(),
        }
    })?;
    *registered = Some(path.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(y_scale: YScale) -> LineChart {
        let mut c = LineChart::new("t", "SNR (dB)", "PER", y_scale);
        c.series.push(Series {
            label: "a".into(),
            points: vec![
                Point {
                    x: 0.0,
                    y: 1.0,
                    spread: Some((0.5, 1.0)),
                },
                Point {
                    x: 10.0,
                    y: 1e-3,
                    spread: None,
                },
                Point {
                    x: 20.0,
                    y: 0.0,
                    spread: None,
                },
            ],
        });
        c
    }

    #[test]
    fn log_axis_skips_zero_and_spans_whole_decades() {
        // A zero error rate cannot sit on a log axis; the range must still cover 1e-3..1.
        let ((x0, x1), (y0, y1)) = chart(YScale::Log10).ranges().unwrap();
        assert!(x0 < 0.0 && x1 > 10.0 && x1 < 20.0, "x range {x0}..{x1}");
        assert_eq!((y0, y1), (-3.0, 0.0));
    }

    #[test]
    fn linear_axis_covers_spread() {
        let ((_, _), (y0, y1)) = chart(YScale::Linear).ranges().unwrap();
        assert!(y0 < 0.0 && y1 > 1.0);
    }

    #[test]
    fn empty_chart_is_an_error_not_a_blank_image() {
        let c = LineChart::new("t", "x", "y", YScale::Log10);
        let err = c
            .write_png(Path::new("/nonexistent/dir/x.png"))
            .unwrap_err();
        assert!(matches!(
            err,
            PlotError::Empty { .. } | PlotError::FontRead { .. }
        ));
    }

    #[test]
    fn missing_font_names_the_file() {
        let mut c = chart(YScale::Linear);
        c.font_path = PathBuf::from("/no/such/font.ttf");
        let err = c.write_png(Path::new("unused.png")).unwrap_err();
        assert!(err.to_string().contains("/no/such/font.ttf"), "{err}");
    }

    #[test]
    fn writes_a_png_when_the_font_is_there() {
        let dir = std::env::temp_dir().join(format!("m4sc-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chart.png");
        match chart(YScale::Log10).write_png(&path) {
            Ok(()) => {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
            }
            // Without the system font the error must say which file was missing.
            Err(e) => assert!(matches!(e, PlotError::FontRead { .. }), "{e}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
