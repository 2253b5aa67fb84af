//! A packet as an annotated PNG for a lab report: the hex dump with each field's bytes in its
//! colour, and under it the legend (colour, field, value, bytes), as the inspector shows them.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::hexview::Layout;

const CELL_W: i32 = 34;
const CELL_H: i32 = 26;
const LEFT: i32 = 70;
const TOP: i32 = 50;
const LINE: i32 = 22;

/// Draws `layout` under `title` into a PNG at `path`.
pub fn write_packet_png(path: &Path, layout: &Layout, title: &str) -> Result<(), String> {
    crate::plot::register_font();
    let rows = i32::try_from(layout.cells.len().div_ceil(16)).unwrap_or(i32::MAX / 2);
    let legend = i32::try_from(layout.fields.len()).unwrap_or(0) + i32::from(layout.error.is_some());
    let width = 880u32;
    let height = u32::try_from(TOP + rows * CELL_H + 30 + legend * LINE + 20).unwrap_or(2000);
    draw(path, layout, title, (width, height)).map_err(|e| format!("{}: {e}", path.display()))
}

fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

fn draw(path: &Path, layout: &Layout, title: &str, size: (u32, u32)) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let font = |px: u32| ("sans-serif", px).into_font().color(&BLACK);
    root.draw(&Text::new(title.to_owned(), (LEFT - 50, 14), font(18)))?;
    let centred = font(15).pos(Pos::new(HPos::Center, VPos::Center));
    for (i, cell) in layout.cells.iter().enumerate() {
        let (row, col) = (i32::try_from(i / 16)?, i32::try_from(i % 16)?);
        let (x, y) = (LEFT + col * CELL_W, TOP + row * CELL_H);
        if col == 0 {
            root.draw(&Text::new(
                format!("{:04x}", row * 16),
                (LEFT - 50, y + 6),
                font(14).color(&RGBColor(110, 110, 110)),
            ))?;
        }
        if let Some(f) = cell.field {
            let fill = rgb(Layout::colour(f)).mix(0.35).filled();
            root.draw(&Rectangle::new([(x + 1, y + 1), (x + CELL_W - 2, y + CELL_H - 2)], fill))?;
        }
        root.draw(&Text::new(cell.text.clone(), (x + CELL_W / 2, y + CELL_H / 2), centred.clone()))?;
    }
    let mut y = TOP + i32::try_from(layout.cells.len().div_ceil(16))? * CELL_H + 30;
    for (i, f) in layout.fields.iter().enumerate() {
        root.draw(&Rectangle::new(
            [(LEFT - 50, y + 3), (LEFT - 36, y + 17)],
            rgb(Layout::colour(i)).mix(0.6).filled(),
        ))?;
        let part = Layout::part_name(f.part);
        root.draw(&Text::new(format!("{part}: {}", Layout::describe(f)), (LEFT - 28, y + 3), font(15)))?;
        y += LINE;
    }
    if let Some(e) = &layout.error {
        root.draw(&Text::new(format!("Malformed: {e}"), (LEFT - 50, y + 3), font(15).color(&RED)))?;
    }
    root.present()?;
    Ok(())
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
        let layout = Layout::of(&bytes, false);
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
}
