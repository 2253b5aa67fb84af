//! Screenshots for lab reports: the window or the current tab, with an optional caption line
//! (date, broker, client id), saved as PNG into the reports folder under a name that says what it
//! shows (`2026-11-24_14-03-22_built-in-broker_packets-tab.png`, see `reports`). The pixels come
//! from the renderer through egui's screenshot command; cropping and writing run off the UI thread.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{App, Background, reports};
use crate::ui::Tab;

/// How long the renderer may take to hand over the pixels before the screenshot is given up.
const PIXELS_WITHIN: Duration = Duration::from_secs(5);

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
    /// A frame has been laid out with the caption since the click: the command can go out.
    pub drawn: bool,
    /// When the screenshot command went out.
    pub requested: Option<Instant>,
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
        Tab::Messages => "messages-tab",
        Tab::Topics => "topics-tab",
        Tab::Plot => "plot-tab",
        Tab::Packets => "packets-tab",
        Tab::Log => "log-tab",
    }
}

/// Crops (for a tab) and writes the image as PNG to `path`.
pub fn save_png(image: &egui::ColorImage, capture: &Capture, path: &Path) -> Result<String, String> {
    let image = match capture.region {
        Some(region) => image.region(&region, Some(capture.pixels_per_point)),
        None => image.clone(),
    };
    let [w, h] = image.size;
    let (w, h) = (u32::try_from(w).map_err(|e| e.to_string())?, u32::try_from(h).map_err(|e| e.to_string())?);
    image::save_buffer(path, image.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(String::new())
}

impl App {
    /// Notes the wish; the next frame draws the caption and asks for its pixels (`capture_frame`).
    pub(super) fn screenshot(&mut self, kind: CaptureKind) {
        if self.reports.capture.is_some() {
            return;
        }
        let what = if kind == CaptureKind::Window { "window" } else { tab_name(self.view.tab) };
        let name = reports::file_name(&chrono::Local::now(), &self.view_label(), what, "png");
        self.reports.capture =
            Some(Capture { kind, region: None, pixels_per_point: 1.0, name, drawn: false, requested: None });
        (self.io.repaint)();
    }

    /// At the end of a frame: once a frame with the caption is laid out, the pixels are asked for.
    pub(super) fn capture_frame(&mut self, ctx: &egui::Context) {
        let tab_rect = self.view.tab_rect;
        let Some(capture) = self.reports.capture.as_mut() else { return };
        if let Some(at) = capture.requested {
            // The pixels normally come within a frame or two; without a renderer they never do.
            if at.elapsed() > PIXELS_WITHIN {
                self.reports.capture = None;
                let why = "The screenshot could not be taken: the renderer gave no pixels.";
                self.sessions.shown_mut().model.note(why);
                let _ = self.notice_sender().send(reports::Notice::Failed(why.into()));
            } else {
                ctx.request_repaint_after(PIXELS_WITHIN);
            }
            return;
        }
        // A pass about to be thrown away is never painted: ask in the one that is.
        if !capture.drawn || ctx.will_discard() {
            return;
        }
        capture.requested = Some(Instant::now());
        capture.pixels_per_point = ctx.pixels_per_point();
        capture.region = (capture.kind == CaptureKind::Tab).then_some(tab_rect);
        let report = self.io.reporter();
        ctx.request_screenshot(move |image: Arc<egui::ColorImage>| report(Background::Screenshot(image)));
    }

    /// Whether a screenshot is under way: from the click until its pixels arrive, every frame
    /// shows the caption line (when ticked) and hides the notice. Not only the frame that asks:
    /// eframe reads the pixels when it paints the *next* frame, which must look the same.
    pub(super) fn capturing(&mut self) -> bool {
        let Some(capture) = self.reports.capture.as_mut() else { return false };
        capture.drawn = true;
        true
    }

    /// The pixels arrived: written off the UI thread.
    pub(super) fn screenshot_taken(&mut self, image: Arc<egui::ColorImage>) {
        let Some(capture) = self.reports.capture.take() else { return };
        let name = capture.name.clone();
        self.save_file("screenshot", self.reports_folder(), name, move |path| save_png(&image, &capture, path));
    }

    /// The caption line under a screenshot: date, broker, client id.
    pub(super) fn caption(&self) -> String {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let s = self.sessions.shown();
        if let Some(c) = &s.connection {
            // The connection's own name, address and id: "#2" and its "-2" id say which of two.
            let broker = if c.profile.builtin_broker { "built-in broker" } else { "broker" };
            let id = if c.client_id.is_empty() { "(assigned by the broker)" } else { &c.client_id };
            return format!("MQTT Lab, {now}, {}, {broker} {}, client id {id}", s.label(), c.address);
        }
        let p = self.view_profile();
        let broker = if p.builtin_broker {
            self.builtin
                .port()
                .map_or_else(|| "built-in broker".to_owned(), |port| format!("built-in broker 127.0.0.1:{port}"))
        } else {
            format!("broker {}:{}", p.host, p.port)
        };
        format!(
            "MQTT Lab, {now}, {broker}, client id {}",
            if p.client_id.is_empty() { "(generated)" } else { &p.client_id }
        )
    }

    /// What files saved from the view are named after: the connection ("Raspberry Pi #2"),
    /// otherwise the selected profile.
    pub(super) fn view_label(&self) -> String {
        let s = self.sessions.shown();
        if s.connection.is_some() { s.label() } else { self.profiles.current().name.clone() }
    }
}

impl App {
    /// Writes a captured packet as an annotated PNG or as text, password masked unless revealed
    /// (`..._packets-connect-3.png`: the packet's type and its number in the list).
    pub(super) fn export_packet(&mut self, seq: u64, png: bool) {
        let Some(packet) = self.sessions.shown().model.packets.by_seq(seq) else { return };
        let layout = crate::ui::Layout::of(&packet.bytes, packet.protocol, self.view.inspector.reveal_password);
        let title = crate::ui::row_text(packet);
        let kind = packet.kind.map_or("reserved", |k| k.name()).to_lowercase();
        let extension = if png { "png" } else { "txt" };
        let what = format!("packets-{kind}-{seq}");
        let name = reports::file_name(&chrono::Local::now(), &self.view_label(), &what, extension);
        self.save_file("packet", self.reports_folder(), name, move |path| {
            if png {
                crate::ui::write_packet_png(path, &layout, &title)?;
            } else {
                std::fs::write(path, layout.to_text(&title)).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(String::new())
        });
    }
}
