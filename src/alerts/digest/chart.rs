//! An alert's chart as a PNG: the series' daily cost over the last weeks, its typical range
//! (a trailing 28-day median, ± one robust deviation), the level the rule expected, and the
//! anomalous days marked; for a budget alert, the period-to-date cost against the budget and
//! where the recent rate takes it by the period's end. Drawn with plotters on a light card (readable in light and dark
//! mail clients), at e-mail width, with an embedded font so it looks the same on any host.

use anyhow::{Result, anyhow};
use chrono::{Days, NaiveDate};
use costwatch_detect::stats::{mad, median};
use plotters::prelude::*;
use std::sync::Once;

/// Pixels: fits a 600-pixel e-mail column.
pub const WIDTH: u32 = 560;
/// Pixels.
pub const HEIGHT: u32 = 220;
/// The font plotters draws with, registered once from the bytes the binary carries.
const FONT: &str = "costwatch-sans";
static REGISTER: Once = Once::new();

/// What a chart shows.
pub struct Plot<'a> {
    /// Cost per day, oldest first, the last on `last_day`.
    pub daily: &'a [f64],
    pub last_day: NaiveDate,
    /// The level the rule expected, dollars a day.
    pub expected: f64,
    /// Days marked as anomalous (within the window).
    pub marked: &'a [NaiveDate],
    /// For a budget alert: the chart is then the period to date against the budget.
    pub budget: Option<BudgetSpan>,
}

/// A budget and its period (its days, first and last).
#[derive(Debug, Clone, Copy)]
pub struct BudgetSpan {
    pub limit: f64,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// Renders `plot` as a PNG file's bytes.
pub fn png(plot: &Plot) -> Result<Vec<u8>> {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF (the dejavu crate's); a failure only costs the text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    match plot.budget {
        Some(span) => draw_period(plot, span, &mut rgb),
        None => draw(plot, &mut rgb),
    }
    .map_err(|e| anyhow!("drawing the chart: {e}"))?;
    let image = image_rgb(rgb)?;
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| anyhow!("encoding the chart: {e}"))?;
    Ok(out.into_inner())
}

fn image_rgb(rgb: Vec<u8>) -> Result<image::RgbImage> {
    image::RgbImage::from_raw(WIDTH, HEIGHT, rgb).ok_or_else(|| anyhow!("chart buffer size"))
}

type DrawError = Box<dyn std::error::Error + Send + Sync>;
type DrawResult = std::result::Result<(), DrawError>;

/// The chart's drawing area: the whole image.
type Canvas<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
/// Days across, dollars up.
type Axes<'a, 'b> = ChartContext<
    'b,
    BitMapBackend<'a>,
    Cartesian2d<RangedDate<NaiveDate>, plotters::coord::types::RangedCoordf64>,
>;

/// The axes both charts draw on: `days` across, dollars from 0 to `top` up (`y_labels`
/// pixels for their labels), with the same mesh and labels.
fn axes<'a, 'b>(
    root: &'b Canvas<'a>,
    days: std::ops::Range<NaiveDate>,
    top: f64,
    y_labels: u32,
) -> std::result::Result<Axes<'a, 'b>, DrawError> {
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(days, 0.0..top)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 240))
        .bold_line_style(RGBColor(215, 215, 222))
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|d: &NaiveDate| d.format("%b %-d").to_string())
        .y_label_formatter(&|v: &f64| format!("${v:.0}"))
        .label_style(label_font())
        .draw()?;
    Ok(chart)
}

/// Draws the legend in the upper left corner and makes the image final.
fn legend_and_present<'a, 'b>(chart: &mut Axes<'a, 'b>, root: &'b Canvas<'a>) -> DrawResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(RGBColor(250, 250, 252).mix(0.9))
        .border_style(RGBColor(215, 215, 222))
        .label_font(label_font())
        .draw()?;
    root.present()?;
    Ok(())
}

/// The font of the axes' labels and the legend.
fn label_font() -> TextStyle<'static> {
    (FONT, 12).into_font().color(&RGBColor(60, 60, 70))
}

fn draw(plot: &Plot, rgb: &mut [u8]) -> DrawResult {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&RGBColor(250, 250, 252))?;
    let n = plot.daily.len();
    let first = plot.last_day - Days::new(n.saturating_sub(1) as u64);
    let band: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let window = &plot.daily[i.saturating_sub(28)..i.max(1).min(n)];
            let m = median(window);
            let spread = mad(window);
            ((m - spread).max(0.0), m + spread)
        })
        .collect();
    let top = (plot.daily.iter().copied())
        .chain(band.iter().map(|b| b.1))
        .chain([plot.expected])
        .fold(1.0_f64, f64::max)
        * 1.1;
    let day = |i: usize| first + Days::new(i as u64);
    let mut chart = axes(&root, first..plot.last_day, top, 58)?;
    // The typical range, then the expected level, the daily cost, the anomalous days.
    chart.draw_series(AreaSeries::new(
        (0..n).map(|i| (day(i), band[i].1)),
        0.0,
        RGBColor(200, 215, 240).mix(0.6),
    ))?;
    chart.draw_series(AreaSeries::new(
        (0..n).map(|i| (day(i), band[i].0)),
        0.0,
        RGBColor(250, 250, 252),
    ))?;
    chart
        .draw_series(LineSeries::new(
            [(first, plot.expected), (plot.last_day, plot.expected)],
            RGBColor(110, 110, 120).stroke_width(1),
        ))?
        .label("expected")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RGBColor(110, 110, 120)));
    chart
        .draw_series(LineSeries::new(
            (0..n).map(|i| (day(i), plot.daily[i])),
            RGBColor(30, 90, 200).stroke_width(2),
        ))?
        .label("daily cost")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RGBColor(30, 90, 200)));
    chart.draw_series(
        (plot.marked.iter())
            .filter(|d| **d >= first && **d <= plot.last_day)
            .map(|d| {
                let i = (*d - first).num_days() as usize;
                Circle::new((*d, plot.daily[i]), 4, RGBColor(210, 40, 40).filled())
            }),
    )?;
    legend_and_present(&mut chart, &root)
}

/// Days of the recent rate projected to the period's end.
const RECENT_DAYS: usize = 7;

/// The period to date: cumulative cost, the budget, and the recent rate carried to the end.
fn draw_period(plot: &Plot, span: BudgetSpan, rgb: &mut [u8]) -> DrawResult {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&RGBColor(250, 250, 252))?;
    let (first, last, limit) = (span.first, span.last, span.limit);
    let elapsed = (plot.last_day - first).num_days() as usize + 1;
    let daily = &plot.daily[plot.daily.len().saturating_sub(elapsed)..];
    let cumulative: Vec<f64> = (daily.iter())
        .scan(0.0, |sum, d| {
            *sum += d;
            Some(*sum)
        })
        .collect();
    let to_date = cumulative.last().copied().unwrap_or(0.0);
    let recent = &daily[daily.len().saturating_sub(RECENT_DAYS)..];
    let rate = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
    let projected = to_date + rate * (last - plot.last_day).num_days() as f64;
    let top = projected.max(limit).max(1.0) * 1.1;
    let data_first = plot.last_day - Days::new(daily.len().saturating_sub(1) as u64);
    let day = |i: usize| data_first + Days::new(i as u64);
    let mut chart = axes(&root, first..last, top, 64)?;
    let red = RGBColor(210, 40, 40);
    chart
        .draw_series(LineSeries::new(
            [(first, limit), (last, limit)],
            red.stroke_width(1),
        ))?
        .label("budget")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], red));
    let blue = RGBColor(30, 90, 200);
    chart
        .draw_series(LineSeries::new(
            (0..cumulative.len()).map(|i| (day(i), cumulative[i])),
            blue.stroke_width(2),
        ))?
        .label("so far this period")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], blue));
    let grey = RGBColor(110, 110, 120);
    chart
        .draw_series(DashedLineSeries::new(
            [(plot.last_day, to_date), (last, projected)],
            5,
            4,
            grey.stroke_width(1),
        ))?
        .label("at the recent rate")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], grey));
    legend_and_present(&mut chart, &root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_of_the_email_width() {
        let daily: Vec<f64> = (0..60).map(|i| 40.0 + (i % 7) as f64).collect();
        let last_day: NaiveDate = "2026-03-19".parse().unwrap();
        let bytes = png(&Plot {
            daily: &daily,
            last_day,
            expected: 43.0,
            marked: &[last_day],
            budget: None,
        })
        .unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (WIDTH, HEIGHT));
    }

    #[test]
    fn a_budget_chart_shows_the_month_to_date() {
        let daily: Vec<f64> = (0..60).map(|i| 40.0 + (i % 7) as f64).collect();
        let last_day: NaiveDate = "2026-03-19".parse().unwrap();
        let plot = |budget| Plot {
            daily: &daily,
            last_day,
            expected: 40.0,
            marked: &[],
            budget,
        };
        let span = BudgetSpan {
            limit: 1240.0,
            first: "2026-03-01".parse().unwrap(),
            last: "2026-03-31".parse().unwrap(),
        };
        let month = png(&plot(Some(span))).unwrap();
        assert_ne!(month, png(&plot(None)).unwrap());
        let decoded = image::load_from_memory(&month).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (WIDTH, HEIGHT));
    }
}
