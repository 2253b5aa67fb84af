//! A packet as an annotated PNG for a lab report: the hex dump with each field's bytes in its
//! colour, and under it the legend (colour, field, value, bytes), as the inspector shows them.
//!
//! Text is laid out by egui's own text layout and its glyphs copied from egui's font atlas, so
//! words are spaced exactly as on screen (plotters' text drawing ignored each glyph's side
//! bearings, which ran words together: "Fixedheader", "bits11110000").

use std::path::Path;
use std::sync::Arc;

use egui::epaint::text::{FontDefinitions, Fonts, TextOptions};
use egui::{FontId, Galley};
use image::{Rgb, RgbImage};

use super::hexview::Layout;

const CELL_W: i32 = 34;
const CELL_H: i32 = 26;
const LEFT: i32 = 70;
const TOP: i32 = 50;
const LINE: i32 = 22;
const MIN_WIDTH: i32 = 880;
const BLACK: [u8; 3] = [0, 0, 0];
const GREY: [u8; 3] = [110, 110, 110];
const RED: [u8; 3] = [200, 0, 0];

/// Draws `layout` under `title` into a PNG at `path`.
pub fn write_packet_png(path: &Path, layout: &Layout, title: &str) -> Result<(), String> {
    draw(layout, title).save(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A white image and egui's fonts to write on it.
pub struct Canvas {
    pub image: RgbImage,
    fonts: Fonts,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            image: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
            fonts: Fonts::new(TextOptions::default(), FontDefinitions::default()),
        }
    }

    /// `text` on one line, as egui lays it out at one pixel per point.
    pub fn layout(&mut self, text: &str, font: FontId) -> Arc<Galley> {
        self.fonts.with_pixels_per_point(1.0).layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE)
    }

    /// Writes `galley` with its top left corner at `(x, y)`: each glyph's coverage from the
    /// font atlas, at the pixel egui's tessellator would put it, blended in `colour`.
    pub fn text(&mut self, galley: &Galley, (x, y): (i32, i32), colour: [u8; 3]) {
        let atlas = self.fonts.texture_atlas().image();
        for row in &galley.rows {
            for glyph in &row.glyphs {
                let uv = glyph.uv_rect;
                if uv.is_nothing() {
                    continue;
                }
                let left_top = row.pos + glyph.pos.to_vec2() + uv.offset;
                // Rounded as egui rounds glyphs to pixels; positions are a few thousand at most.
                #[allow(clippy::cast_possible_truncation)]
                let (gx, gy) = (x + left_top.x.round() as i32, y + left_top.y.round() as i32);
                for ty in uv.min[1]..uv.max[1] {
                    for tx in uv.min[0]..uv.max[0] {
                        let coverage = atlas[(usize::from(tx), usize::from(ty))].a();
                        let at = (gx + i32::from(tx - uv.min[0]), gy + i32::from(ty - uv.min[1]));
                        blend(&mut self.image, at, colour, f32::from(coverage) / 255.0);
                    }
                }
            }
        }
    }

    /// A rectangle filled with `colour` at `opacity` over what is there.
    fn fill(&mut self, (x0, y0): (i32, i32), (x1, y1): (i32, i32), colour: [u8; 3], opacity: f32) {
        for y in y0..y1 {
            for x in x0..x1 {
                blend(&mut self.image, (x, y), colour, opacity);
            }
        }
    }
}

/// `colour` over the pixel at `(x, y)` with `alpha`; outside the image nothing happens.
fn blend(image: &mut RgbImage, (x, y): (i32, i32), colour: [u8; 3], alpha: f32) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else { return };
    let Some(pixel) = image.get_pixel_mut_checked(x, y) else { return };
    for (old, new) in pixel.0.iter_mut().zip(colour) {
        // Between two bytes: stays in 0..=255.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let mixed = (f32::from(*old) * (1.0 - alpha) + f32::from(new) * alpha).round() as u8;
        *old = mixed;
    }
}

fn as_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / 4)
}

/// The most rows of the dump drawn (2 KiB of packet); the rest is in the text export.
const MAX_ROWS: usize = 128;
/// The most legend lines drawn: a PUBLISH may carry thousands of user properties, each five
/// fields, and the image would grow to gigabytes (200 lines are already 4,400 pixels).
const MAX_LINES: usize = 200;
/// The most characters of one legend line (a property's value may be 65,535 bytes long): the
/// image stays a few thousand pixels wide.
const MAX_CHARS: usize = 200;
/// How far a property's length and value sit right of its identifier.
const NESTED: i32 = 24;

/// `text`, cut to `MAX_CHARS` characters.
fn clipped(text: &str) -> String {
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A line of the legend: its text, colour, the field whose colour it shows, and its indent.
struct Line {
    text: String,
    colour: [u8; 3],
    field: Option<usize>,
    indent: i32,
}

fn legend(layout: &Layout) -> Vec<Line> {
    let mut lines: Vec<Line> = layout
        .fields
        .iter()
        .enumerate()
        .take(MAX_LINES)
        .map(|(i, f)| {
            let (text, indent) = if layout.nested(i) {
                (Layout::describe(f), NESTED)
            } else {
                (format!("{}: {}", Layout::part_name(f.part), Layout::describe(f)), 0)
            };
            Line { text: clipped(&text), colour: BLACK, field: Some(i), indent }
        })
        .collect();
    let rows = layout.cells.len().div_ceil(16);
    let mut notes = Vec::new();
    if layout.fields.len() > MAX_LINES {
        notes.push(format!("… and {} more fields", layout.fields.len() - MAX_LINES));
    }
    if rows > MAX_ROWS {
        notes.push(format!("… and {} more bytes", layout.cells.len() - MAX_ROWS * 16));
    }
    if !notes.is_empty() {
        notes.push("(the text export has them all)".to_owned());
    }
    lines.extend(notes.into_iter().map(|text| Line { text, colour: GREY, field: None, indent: 0 }));
    if let Some(e) = &layout.error {
        lines.push(Line { text: clipped(&format!("Malformed: {e}")), colour: RED, field: None, indent: 0 });
    }
    lines
}

fn draw(layout: &Layout, title: &str) -> RgbImage {
    let cells = &layout.cells[..layout.cells.len().min(MAX_ROWS * 16)];
    let rows = as_i32(cells.len().div_ceil(16));
    let legend_top = TOP + rows * CELL_H + 30;
    let lines = legend(layout);
    let height = legend_top + as_i32(lines.len()) * LINE + 20;
    // Lay out first: the image is as wide as the longest line needs.
    let mut canvas = Canvas::new(1, 1);
    let title = canvas.layout(&clipped(title), FontId::proportional(18.0));
    let galleys: Vec<_> = lines.iter().map(|l| canvas.layout(&l.text, FontId::proportional(15.0))).collect();
    // Text widths are a few thousand pixels at most.
    #[allow(clippy::cast_possible_truncation)]
    let widest = galleys
        .iter()
        .zip(&lines)
        .map(|(g, l)| g.size().x.ceil() as i32 + LEFT + l.indent)
        .chain([title.size().x.ceil() as i32 + LEFT])
        .max()
        .unwrap_or(0);
    let width = widest.max(MIN_WIDTH);
    canvas.image = RgbImage::from_pixel(width.unsigned_abs(), height.unsigned_abs(), Rgb([255, 255, 255]));

    canvas.text(&title, (LEFT - 50, 14), BLACK);
    for (i, cell) in cells.iter().enumerate() {
        let (row, col) = (as_i32(i / 16), as_i32(i % 16));
        let (x, y) = (LEFT + col * CELL_W, TOP + row * CELL_H);
        if col == 0 {
            let offset = canvas.layout(&format!("{:04x}", row * 16), FontId::monospace(13.0));
            canvas.text(&offset, (LEFT - 50, y + 6), GREY);
        }
        if let Some(f) = cell.field {
            canvas.fill((x + 1, y + 1), (x + CELL_W - 2, y + CELL_H - 2), layout.colour(f), 0.35);
        }
        let byte = canvas.layout(&cell.text, FontId::monospace(14.0));
        let size = byte.size();
        #[allow(clippy::cast_possible_truncation)]
        let centred = (x + (CELL_W - size.x.round() as i32) / 2, y + (CELL_H - size.y.round() as i32) / 2);
        canvas.text(&byte, centred, BLACK);
    }
    let mut y = legend_top;
    for (line, galley) in lines.iter().zip(&galleys) {
        let x = LEFT - 50 + line.indent;
        if let Some(i) = line.field {
            canvas.fill((x, y + 3), (x + 14, y + 17), layout.colour(i), 0.6);
            canvas.text(galley, (x + 22, y + 2), line.colour);
        } else {
            canvas.text(galley, (x, y + 2), line.colour);
        }
        y += LINE;
    }
    canvas.image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscribe_becomes_a_png_with_a_line_per_field() {
        // SUBSCRIBE id 1: "PV/#" QoS 1, "lamp/+" QoS 0.
        let bytes = [
            0x82, 0x12, 0x00, 0x01, 0x00, 0x04, b'P', b'V', b'/', b'#', 0x01, 0x00, 0x06, b'l', b'a', b'm', b'p', b'/',
            b'+', 0x00,
        ];
        let layout = Layout::of(&bytes, mqtt_lab_broker::codec::Protocol::V311, false);
        assert!(layout.error.is_none(), "{:?}", layout.error);
        let dir = std::env::temp_dir().join(format!("mqtt-lab-packet-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("subscribe.png");
        write_packet_png(&path, &layout, "SUBSCRIBE").unwrap();
        let png = image::open(&path).unwrap();
        let expected = TOP + 2 * CELL_H + 30 + i32::try_from(layout.fields.len()).unwrap() * LINE + 20;
        assert_eq!((png.width(), i32::try_from(png.height()).unwrap()), (880, expected));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The runs of blank columns between the first and the last inked column of `text`.
    fn gaps(text: &str) -> Vec<u32> {
        let mut canvas = Canvas::new(400, 40);
        let galley = canvas.layout(text, FontId::proportional(15.0));
        canvas.text(&galley, (10, 10), BLACK);
        let inked: Vec<bool> =
            (0..canvas.image.width()).map(|x| (0..40).any(|y| canvas.image.get_pixel(x, y).0[0] < 160)).collect();
        let (first, last) = (inked.iter().position(|i| *i).unwrap(), inked.iter().rposition(|i| *i).unwrap());
        let mut runs = Vec::new();
        let mut run = 0;
        for ink in &inked[first..=last] {
            if *ink {
                if run > 0 {
                    runs.push(run);
                }
                run = 0;
            } else {
                run += 1;
            }
        }
        runs
    }

    /// How many gaps between letters a space widened by at least 3 pixels (a 15 px space is
    /// about 4): with the text written without its spaces for comparison.
    fn widened(text: &str) -> usize {
        let (spaced, packed) = (gaps(text), gaps(&text.replace(' ', "")));
        assert_eq!(spaced.len(), packed.len(), "{text:?}: {spaced:?} {packed:?}");
        spaced.iter().zip(&packed).filter(|(s, p)| **s >= **p + 3).count()
    }

    #[test]
    fn words_keep_their_spaces() {
        for text in ["Fixed header", "bits 1111 0000", "Protocol name", "Will QoS"] {
            assert_eq!(widened(text), text.matches(' ').count(), "{text:?}");
        }
    }

    #[test]
    fn a_long_legend_line_widens_the_image() {
        // PUBLISH QoS 0 to a 90-character topic: its legend line is longer than 880 pixels.
        let topic = "a".repeat(90);
        let mut bytes = vec![0x30, 2 + 90 + 2, 0x00, 90];
        bytes.extend(topic.as_bytes());
        bytes.extend(b"on");
        let image = draw(&Layout::of(&bytes, mqtt_lab_broker::codec::Protocol::V311, false), "PUBLISH");
        assert!(image.width() > 880, "{}", image.width());
        // The last column is still white: nothing is cut off.
        let right = image.width() - 1;
        assert!((0..image.height()).all(|y| image.get_pixel(right, y).0 == [255, 255, 255]));
    }

    /// An MQTT 5.0 PUBLISH to `topic` with `properties`, laid out as after an MQTT 5.0 CONNECT.
    fn v5_publish(properties: Vec<mqtt_lab_broker::codec::v5::Property>) -> Layout {
        use mqtt_lab_broker::codec::v5::{PacketKind, Properties};
        use mqtt_lab_broker::codec::{Packet, Protocol, Publish, QosPid, TopicName};
        let publish = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new("pv/energy".to_owned()).unwrap(),
            payload: bytes::Bytes::from_static(b"4.25"),
            properties: Properties::new(PacketKind::PublishToServer, properties).unwrap(),
        });
        let layout = Layout::of(&publish.to_bytes(Protocol::V5).unwrap(), Protocol::V5, false);
        assert!(layout.error.is_none(), "{:?}", layout.error);
        layout
    }

    fn written(layout: &Layout, name: &str) -> image::DynamicImage {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-packet-png-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        write_packet_png(&path, layout, "PUBLISH").unwrap();
        let png = image::open(&path).expect("a PNG that decodes");
        std::fs::remove_dir_all(dir).unwrap();
        png
    }

    #[test]
    fn a_v5_publish_with_many_properties_has_a_line_for_each_and_nothing_cut_off() {
        use mqtt_lab_broker::codec::v5::Property;
        let mut properties = vec![
            Property::PayloadFormatIndicator(true),
            Property::MessageExpiryInterval(60),
            Property::ContentType("application/json".into()),
            Property::ResponseTopic("pv/energy/reply".into()),
            Property::CorrelationData(bytes::Bytes::from_static(b"req-42")),
        ];
        properties.extend((0..8).map(|i| Property::UserProperty(format!("key-{i}"), "v".repeat(i * 20))));
        let layout = v5_publish(properties);
        // Type, 3 flags, length; topic (2), property length, 2 + 2 + 3 + 3 + 3, 8 user properties
        // of 5, the payload.
        assert_eq!(layout.fields.len(), 5 + 2 + 1 + 13 + 40 + 1);
        let png = written(&layout, "v5-publish");
        let rows = i32::try_from(layout.cells.len().div_ceil(16)).unwrap();
        let expected = TOP + rows * CELL_H + 30 + i32::try_from(layout.fields.len()).unwrap() * LINE + 20;
        assert_eq!(i32::try_from(png.height()).unwrap(), expected);
        // The longest value (140 characters) widens the image; its last column is still white.
        let png = png.to_rgb8();
        assert!(png.width() > 880, "{}", png.width());
        let right = png.width() - 1;
        assert!((0..png.height()).all(|y| png.get_pixel(right, y).0 == [255, 255, 255]));
    }

    #[test]
    fn thousands_of_user_properties_stay_a_picture_of_bounded_size() {
        use mqtt_lab_broker::codec::v5::Property;
        let long = "x".repeat(5000);
        let properties: Vec<Property> = (0..2000)
            .map(|i| Property::UserProperty(format!("key-{i}"), if i == 7 { long.clone() } else { "v".into() }))
            .collect();
        let layout = v5_publish(properties);
        assert!(layout.fields.len() > 10_000 && layout.cells.len() > MAX_ROWS * 16);
        let lines = legend(&layout);
        assert_eq!(lines.len(), MAX_LINES + 3, "the fields drawn, two notes and where the rest is");
        assert!(lines[MAX_LINES].text.starts_with("… and "), "{}", lines[MAX_LINES].text);
        // Drawn, not saved: encoding a picture this size takes seconds in a debug build.
        let png = draw(&layout, "PUBLISH");
        let expected =
            TOP + i32::try_from(MAX_ROWS).unwrap() * CELL_H + 30 + i32::try_from(lines.len()).unwrap() * LINE + 20;
        assert_eq!(i32::try_from(png.height()).unwrap(), expected);
        assert!(png.width() < 2200, "a 5000-character value is cut: {}", png.width());
    }
}
