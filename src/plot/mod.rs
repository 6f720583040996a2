//! PNG charts of measured curves (error rates and task metrics against SNR).

mod line_chart;

pub use line_chart::{LineChart, PlotError, Point, Series, YScale, DEFAULT_FONT_PATH};
