//! Screenshots for lab reports: the window or the current tab, with an optional caption line
//! (date, broker, client id), saved as PNG into a chosen folder under a name that says what it
//! shows (`mqtt-lab_Built-in-broker_Packets_2026-11-24_14-03-22.png`). The pixels come from the
//! renderer through egui's screenshot command; cropping and writing run off the UI thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{App, Background};
use crate::profile::file_stem;
use crate::ui::Tab;

/// What to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    Window,
    Tab,
}

/// A screenshot asked for and not yet saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    pub kind: CaptureKind,
    /// The region of the tab, in points (for `CaptureKind::Tab`).
    pub region: Option<egui::Rect>,
    pub pixels_per_point: f32,
    pub name: String,
    /// A frame has been laid out with the caption since the click: that one is captured.
    pub drawn: bool,
    /// The screenshot command has gone out.
    pub requested: bool,
}

/// The default folder: the OS pictures folder's "MQTT Lab", or the home folder's.
pub fn default_folder() -> String {
    directories::UserDirs::new()
        .and_then(|d| d.picture_dir().map(|p| p.join("MQTT Lab")))
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join("MQTT Lab screenshots")))
        .map_or_else(String::new, |p| p.display().to_string())
}

const fn tab_name(tab: Tab) -> &'static str {
    match tab {
        Tab::Messages => "Messages",
        Tab::Plot => "Plot",
        Tab::Packets => "Packets",
    }
}

/// Crops (for a tab) and writes the image as PNG; the path written.
pub fn save_png(image: &egui::ColorImage, capture: &Capture, folder: &Path) -> Result<PathBuf, String> {
    let image = match capture.region {
        Some(region) => image.region(&region, Some(capture.pixels_per_point)),
        None => image.clone(),
    };
    std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let path = folder.join(&capture.name);
    let [w, h] = image.size;
    let (w, h) = (u32::try_from(w).map_err(|e| e.to_string())?, u32::try_from(h).map_err(|e| e.to_string())?);
    image::save_buffer(&path, image.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

impl App {
    /// Notes the wish; the next frame draws the caption and asks for its pixels (`capture_frame`).
    pub(super) fn screenshot(&mut self, kind: CaptureKind) {
        if self.capture.is_some() {
            return;
        }
        let time = chrono::Local::now().format("%Y-%m-%d_%H-%M-%S");
        let what = if kind == CaptureKind::Window { "window" } else { tab_name(self.tab) };
        let name = format!("mqtt-lab_{}_{what}_{time}.png", file_stem(&self.view_profile().name));
        self.capture =
            Some(Capture { kind, region: None, pixels_per_point: 1.0, name, drawn: false, requested: false });
        (self.repaint)();
    }

    /// At the end of a frame: if a screenshot waits, this frame (caption included) is the one.
    pub(super) fn capture_frame(&mut self, ctx: &egui::Context) {
        let tab_rect = self.tab_rect;
        let Some(capture) = self.capture.as_mut().filter(|c| c.drawn && !c.requested) else { return };
        capture.requested = true;
        capture.pixels_per_point = ctx.pixels_per_point();
        capture.region = (capture.kind == CaptureKind::Tab).then_some(tab_rect);
        let (tx, repaint) = (self.background_tx.clone(), self.repaint.clone());
        ctx.request_screenshot(move |image: Arc<egui::ColorImage>| {
            let _ = tx.send(Background::Screenshot(image));
            repaint();
        });
    }

    /// Whether this frame shows the caption line (and is the one to capture).
    pub(super) fn captioning(&mut self) -> bool {
        let Some(capture) = self.capture.as_mut().filter(|c| !c.requested) else { return false };
        capture.drawn = true;
        self.caption_on
    }

    /// The pixels arrived: written off the UI thread.
    pub(super) fn screenshot_taken(&mut self, image: Arc<egui::ColorImage>) {
        let Some(capture) = self.capture.take() else { return };
        let folder = PathBuf::from(self.screenshot_folder.trim());
        self.off_thread(move || match save_png(&image, &capture, &folder) {
            Ok(path) => Background::Note(format!("Screenshot saved to {}.", path.display())),
            Err(e) => Background::Note(format!("The screenshot could not be saved: {e}")),
        });
    }

    /// The caption line under a screenshot: date, broker, client id.
    pub(super) fn caption(&self) -> String {
        let p = self.view_profile();
        let broker = if p.builtin_broker {
            self.builtin_port()
                .map_or_else(|| "built-in broker".to_owned(), |port| format!("built-in broker 127.0.0.1:{port}"))
        } else {
            format!("broker {}:{}", p.host, p.port)
        };
        format!(
            "MQTT Lab, {}, {broker}, client id {}",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
            if p.client_id.is_empty() { "(generated)" } else { &p.client_id }
        )
    }
}

impl App {
    /// Writes a captured packet as an annotated PNG or as text, password masked unless revealed.
    pub(super) fn export_packet(&mut self, seq: u64, png: bool) {
        let Some(packet) = self.model.packets.by_seq(seq) else { return };
        let layout = crate::ui::Layout::of(&packet.bytes, self.inspector.reveal_password);
        let title = crate::ui::row_text(packet);
        let kind = packet.kind.map_or("reserved", |k| k.name());
        let time = chrono::Local::now().format("%Y-%m-%d_%H-%M-%S");
        let name = format!(
            "mqtt-lab_{}_{kind}_{seq}_{time}.{}",
            file_stem(&self.view_profile().name),
            if png { "png" } else { "txt" }
        );
        let folder = PathBuf::from(self.screenshot_folder.trim());
        self.off_thread(move || {
            let path = folder.join(name);
            let result =
                std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display())).and_then(|()| {
                    if png {
                        crate::ui::write_packet_png(&path, &layout, &title)
                    } else {
                        std::fs::write(&path, layout.to_text(&title)).map_err(|e| format!("{}: {e}", path.display()))
                    }
                });
            Background::Note(match result {
                Ok(()) => format!("Packet saved to {}.", path.display()),
                Err(e) => format!("The packet could not be saved: {e}"),
            })
        });
    }
}
