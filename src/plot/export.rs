//! Exports for the lab report: the exact plotted points as CSV (one row per point, local time and
//! Unix milliseconds), and the figure as a PNG at a chosen size, drawn with plotters.

use std::io::Write;
use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{Figure, Scales};
use super::{Side, local, time_label, time_step, value_label};

/// Writes every point of the figure within its range (not decimated).
pub fn write_csv(out: &mut impl Write, figure: &Figure<'_>) -> std::io::Result<usize> {
    writeln!(out, "time,unix_ms,series,topic,unit,value")?;
    let mut rows = 0;
    for line in &figure.lines {
        for p in line.points {
            let time = local(p[0]).format("%Y-%m-%dT%H:%M:%S%.3f%:z");
            // Milliseconds since 1970: exact in an i64.
            #[allow(clippy::cast_possible_truncation)]
            let ms = (p[0] * 1000.0).round() as i64;
            writeln!(
                out,
                "{time},{ms},{},{},{},{}",
                csv_field(&line.name),
                csv_field(line.topic),
                csv_field(line.unit),
                p[1]
            )?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// Quotes a field that holds a comma, a quote or a line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The font plotters draws with: egui's own default font, so the PNG reads like the screen.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a font egui ships; a failure would only leave text out of the PNG.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT);
    });
}

/// Draws the figure into a `width` x `height` PNG at `path`.
pub fn write_png(path: &Path, figure: &Figure<'_>, title: &str, (width, height): (u32, u32)) -> Result<(), String> {
    if !(200..=10_000).contains(&width) || !(150..=10_000).contains(&height) {
        return Err(format!("{width} x {height} pixels: choose 200 to 10000 wide and 150 to 10000 high"));
    }
    register_font();
    let plot_width = width.saturating_sub(140) as usize;
    let drawn = figure.decimated(plot_width);
    let scales = figure.scales(&drawn);
    draw(path, figure, &drawn, scales, title, (width, height)).map_err(|e| format!("{}: {e}", path.display()))
}

fn draw(
    path: &Path,
    figure: &Figure<'_>,
    drawn: &[super::figure::Drawn],
    scales: Scales,
    title: &str,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let (from, to) = figure.range;
    let left = scales.left;
    let right = scales.right.unwrap_or(left);
    let span = to - from;
    // A round time label every ~120 px, on local clock multiples.
    let step = time_step(span / (f64::from(size.0) / 120.0).max(1.0));
    let x_keys = super::time_marks(from, to, step);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .right_y_label_area_size(if scales.right.is_some() { 64 } else { 0 })
        .build_cartesian_2d(from..to, left.low..left.high())?
        .set_secondary_coord(from..to, right.low..right.high());
    // Time labels are drawn by hand below: plotters would put them at decimal, not clock, steps.
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(left.ticks as usize + 1)
        .y_label_formatter(&|v| value_label(*v, left.step))
        .y_desc(figure.units(if scales.right.is_some() || figure.lines.iter().any(|l| l.side == Side::Left) {
            Side::Left
        } else {
            Side::Right
        }))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if scales.right.is_some() {
        chart
            .configure_secondary_axes()
            .y_labels(right.ticks as usize + 1)
            .y_label_formatter(&|v| value_label(*v, right.step))
            .y_desc(figure.units(Side::Right))
            .draw()?;
    }
    let label_style = ("sans-serif", 14).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
    for x in x_keys {
        let grid = PathElement::new(vec![(x, left.low), (x, left.high())], BLACK.mix(0.12));
        chart.draw_series(std::iter::once(grid))?;
        let (px, py) = chart.backend_coord(&(x, left.low));
        root.draw(&Text::new(time_label(x, step, span), (px, py + 6), label_style.clone()))?;
    }
    for (line, d) in figure.lines.iter().zip(drawn) {
        let [r, g, b] = line.color;
        let color = RGBColor(r, g, b);
        // Dense data (several points a pixel) in a thin line, sparse data bolder.
        let width = if line.points.len() > size.0 as usize { 1 } else { 2 };
        let secondary = line.side == Side::Right && scales.right.is_some();
        // One series per segment, so no line crosses a gap; a lone point between two gaps is a dot.
        // The legend names the line once.
        let mut named = false;
        for segment in d.segments() {
            let points = segment.iter().map(|p| (p[0], p[1]));
            let style = color.stroke_width(width);
            let series = match (segment.len(), secondary) {
                (1, false) => chart.draw_series(points.map(|p| Circle::new(p, width + 1, style.filled())))?,
                (1, true) => chart.draw_secondary_series(points.map(|p| Circle::new(p, width + 1, style.filled())))?,
                (_, false) => chart.draw_series(LineSeries::new(points, style))?,
                (_, true) => chart.draw_secondary_series(LineSeries::new(points, style))?,
            };
            if !named {
                named = true;
                series
                    .label(line.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{SeriesDef, Traces};

    #[test]
    fn csv_has_every_point_in_range_and_quotes_odd_names() {
        let defs = vec![SeriesDef { filter: "PV/data".into(), unit: "kW, peak".into(), ..SeriesDef::default() }];
        let mut traces = Traces::default();
        for s in 0..10 {
            traces.add(&defs, "PV/data", s.to_string().as_bytes(), 1_750_000_000.0 + f64::from(s));
        }
        let figure = Figure::new(&traces, &defs, (1_750_000_002.0, 1_750_000_005.0));
        let mut out = Vec::new();
        assert_eq!(write_csv(&mut out, &figure).unwrap(), 4);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "time,unix_ms,series,topic,unit,value");
        assert!(lines[1].ends_with(",1750000002000,\"PV/data (kW, peak)\",PV/data,\"kW, peak\",2"), "{}", lines[1]);
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn a_png_of_the_chosen_size_is_written_and_silly_sizes_are_refused() {
        let defs = vec![SeriesDef { filter: "PV/data".into(), unit: "kW".into(), ..SeriesDef::default() }];
        let mut traces = Traces::default();
        for s in 0..3_600 {
            traces.add(&defs, "PV/data", format!("{}", f64::from(s % 60) / 10.0).as_bytes(), f64::from(s));
        }
        let figure = Figure::new(&traces, &defs, (0.0, 3_600.0));
        let dir = std::env::temp_dir().join(format!("mqtt-lab-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plot.png");
        write_png(&path, &figure, "PV/data", (640, 360)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // The IHDR chunk holds width and height, big-endian.
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 640);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 360);
        assert!(write_png(&path, &figure, "x", (10, 10)).unwrap_err().contains("choose 200 to 10000"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Columns of the PNG at `path` holding a pixel of the colour `rgb`.
    fn columns_with(path: &Path, rgb: [u8; 3]) -> Vec<u32> {
        let image = image::open(path).unwrap().to_rgb8();
        (0..image.width()).filter(|x| (0..image.height()).any(|y| image.get_pixel(*x, y).0 == rgb)).collect()
    }

    #[test]
    fn a_gap_in_the_data_is_a_gap_in_the_png() {
        let color = [200, 30, 30];
        let defs = vec![SeriesDef { filter: "PV/data".into(), unit: "kW".into(), color, ..SeriesDef::default() }];
        let mut traces = Traces::default();
        // Every 10 s for an hour, nothing from 00:20 to 00:40 (a disconnection), flat at 2 kW.
        for s in (0..3_600).step_by(10).filter(|s| !(1_200..2_400).contains(s)) {
            traces.add(&defs, "PV/data", b"2", f64::from(s));
        }
        let figure = Figure::new(&traces, &defs, (0.0, 3_600.0));
        let dir = std::env::temp_dir().join(format!("mqtt-lab-png-gap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gap.png");
        write_png(&path, &figure, "gap", (800, 400)).unwrap();
        let columns = columns_with(&path, color);
        std::fs::remove_dir_all(dir).unwrap();
        // The legend's sample is drawn in the colour too: look right of it, in the plot's middle.
        let inked = |from: u32, to: u32| columns.iter().filter(|x| (from..to).contains(*x)).count();
        // The plot spans about x = 78 to 722 (margins and axis labels): 00:20-00:40 is about
        // 293-507; well inside it nothing is drawn, while either side of it the line is.
        assert_eq!(inked(320, 480), 0, "{columns:?}");
        assert!(inked(520, 700) > 150 && inked(150, 280) > 100, "{columns:?}");
    }
}
