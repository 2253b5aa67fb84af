//! Small drawings and words shared by the Topics tab's rows and detail pane: a sparkline of a
//! topic's recent numeric values (a painter-drawn line: a plot widget would be far too heavy for
//! a 60-point strip), and times and rates as short words ("3 s ago", "1.2/s").

use std::time::{Duration, SystemTime};

/// How long ago `at` was, as of `now`, in one short word group ("just now", "3 s ago",
/// "4 min ago", "2 h ago", "5 d ago"); a time after `now` (another clock) reads "just now".
pub fn ago(now: SystemTime, at: SystemTime) -> String {
    let secs = now.duration_since(at).unwrap_or(Duration::ZERO).as_secs();
    match secs {
        0 => "just now".to_owned(),
        1..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// A duration as one short word group ("0.5 s", "12 s", "3 min", "2 h").
pub fn span(d: Duration) -> String {
    let secs = d.as_secs_f32();
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.0} h", secs / 3600.0)
    }
}

/// A message rate: "–" for none, two decimals below 1/s, one decimal above.
pub fn rate(per_sec: f32) -> String {
    if per_sec < 0.005 {
        "–".to_owned()
    } else if per_sec < 1.0 {
        format!("{per_sec:.2}/s")
    } else {
        format!("{per_sec:.1}/s")
    }
}

/// Local clock time of `at` (`HH:MM:SS`), with the date when it is not today.
pub fn clock(at: SystemTime) -> String {
    let at = chrono::DateTime::<chrono::Local>::from(at);
    let format = if at.date_naive() == chrono::Local::now().date_naive() { "%H:%M:%S" } else { "%d %b %H:%M:%S" };
    at.format(format).to_string()
}

/// A number as short as it reads well (no trailing zeros).
pub fn number(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

/// Draws `values` (oldest first) as a line in a strip `width` × `height` points, scaled to its
/// own minimum and maximum, with the last value marked; named "Sparkline" for screen readers.
/// Fewer than two values draw an empty strip.
pub fn sparkline(ui: &mut egui::Ui, values: &[f64], width: f32, height: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, "Sparkline"));
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 2.0, visuals.extreme_bg_color);
    if values.len() < 2 {
        return response;
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let inner = rect.shrink(3.0);
    // Screen coordinates: f32 is what the painter takes; values are scaled to 0..=1 first.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let point = |i: usize, v: f64| {
        let x = inner.left() + inner.width() * (i as f32 / (values.len() - 1) as f32);
        let t = if hi > lo { ((v - lo) / (hi - lo)) as f32 } else { 0.5 };
        egui::pos2(x, inner.bottom() - inner.height() * t)
    };
    let points: Vec<egui::Pos2> = values.iter().enumerate().map(|(i, v)| point(i, *v)).collect();
    let color = visuals.hyperlink_color;
    painter.add(egui::Shape::line(points.clone(), egui::Stroke::new(1.5, color)));
    if let Some(last) = points.last() {
        painter.circle_filled(*last, 2.5, color);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_times_rates_and_numbers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100_000);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - Duration::from_secs(3)), "3 s ago");
        assert_eq!(ago(now, now - Duration::from_mins(5)), "5 min ago");
        assert_eq!(ago(now, now - Duration::from_secs(7300)), "2 h ago");
        assert_eq!(ago(now, now + Duration::from_secs(5)), "just now");
        assert_eq!(rate(0.0), "–");
        assert_eq!(rate(0.5), "0.50/s");
        assert_eq!(rate(12.34), "12.3/s");
        assert_eq!(span(Duration::from_millis(500)), "0.5 s");
        assert_eq!(span(Duration::from_mins(5)), "5 min");
        assert_eq!((number(4.25), number(3.0), number(-0.0001)), ("4.25".into(), "3".into(), "0".into()));
    }
}
