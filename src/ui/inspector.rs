//! The packet inspector tab: every control packet sent and received, filterable by kind, with the
//! packets of one exchange (QoS 1/2 handshakes, SUBSCRIBE/SUBACK, pings) linked; the selected
//! packet's hex dump and field tree side by side in the same colours, hovering one lighting up the
//! other.

use mqtt_lab_broker::codec::PacketType;

use super::hexview::Layout;
use super::{Intent, ReportIntent};
use crate::connection::Direction;
use crate::model::{CapturedPacket, PacketLog};

/// Kinds of packet the list can hide, by exchange.
pub const GROUPS: [(&str, &[PacketType]); 4] = [
    ("Connect", &[PacketType::Connect, PacketType::ConnAck, PacketType::Disconnect]),
    (
        "Publish",
        &[PacketType::Publish, PacketType::PubAck, PacketType::PubRec, PacketType::PubRel, PacketType::PubComp],
    ),
    ("Subscribe", &[PacketType::Subscribe, PacketType::SubAck, PacketType::Unsubscribe, PacketType::UnsubAck]),
    ("Ping", &[PacketType::PingReq, PacketType::PingResp]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectorView {
    /// Which groups of `GROUPS` are listed.
    pub shown: [bool; 4],
    pub selected: Option<u64>,
    pub reveal_password: bool,
    /// What the pointer was over last frame: a field of the tree, or a byte of the dump.
    hovered_field: Option<usize>,
    hovered_byte: Option<usize>,
}

impl Default for InspectorView {
    fn default() -> Self {
        Self { shown: [true; 4], selected: None, reveal_password: false, hovered_field: None, hovered_byte: None }
    }
}

fn listed(view: &InspectorView, p: &CapturedPacket) -> bool {
    p.kind.is_none_or(|k| GROUPS.iter().zip(view.shown).any(|((_, kinds), shown)| shown && kinds.contains(&k)))
}

fn colour([r, g, b]: [u8; 3], strong: bool) -> egui::Color32 {
    let alpha = if strong { 200 } else { 70 };
    egui::Color32::from_rgba_unmultiplied(r, g, b, alpha)
}

/// One packet as a line of the list.
pub fn row_text(p: &CapturedPacket) -> String {
    let time = chrono::DateTime::<chrono::Local>::from(p.at).format("%H:%M:%S%.3f");
    let direction = match p.direction {
        Direction::Sent => "sent    ",
        Direction::Received => "received",
    };
    let kind = p.kind.map_or("reserved", |k| k.name());
    let flow = p.flow.map_or_else(String::new, |f| format!("  [exchange {f}]"));
    format!("{time}  {direction}  {kind:<11} {:>5} B  {}{flow}", p.bytes.len(), p.summary)
}

pub fn inspector_panel(ui: &mut egui::Ui, view: &mut InspectorView, log: &PacketLog) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        ui.label("Show:");
        for (i, (name, _)) in GROUPS.iter().enumerate() {
            ui.checkbox(&mut view.shown[i], *name);
        }
        ui.label(format!("{} packet(s) captured", log.packets.len()));
        let save = ui.add_enabled(!log.packets.is_empty(), egui::Button::new("Save for Wireshark (.pcapng)"));
        if save
            .on_hover_text(
                "Every captured packet, both directions, with its time, in a file Wireshark and tshark open \
                 (synthesized TCP/IP; MQTT inside TLS is shown in clear)",
            )
            .clicked()
        {
            intents.push(Intent::Report(ReportIntent::SavePcapng));
        }
    });
    let rows: Vec<&CapturedPacket> = log.packets.iter().filter(|p| listed(view, p)).collect();
    let selected = view.selected.and_then(|seq| log.by_seq(seq));
    if let Some(packet) = selected {
        // More than half the height for the dump and its fields (a CONNECT has about 20); the
        // list keeps the rest, and the divider moves.
        let height = ui.available_height();
        egui::Panel::bottom("packet-detail")
            .resizable(true)
            .default_size(height * 0.6)
            .size_range(120.0..=height - 80.0)
            .show(ui, |ui| intents.extend(packet_detail(ui, view, packet)));
    }
    let flow = selected.and_then(|p| p.flow);
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show_rows(
        ui,
        row_height,
        rows.len(),
        |ui, range| {
            // One line per packet: show_rows needs rows of equal height.
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            for p in &rows[range] {
                let mut text = egui::RichText::new(row_text(p)).monospace();
                if p.error.is_some() {
                    text = text.color(ui.visuals().error_fg_color);
                }
                if flow.is_some() && p.flow == flow && view.selected != Some(p.seq) {
                    // The other packets of the selected exchange.
                    text = text.background_color(ui.visuals().selection.bg_fill.gamma_multiply(0.4));
                }
                if ui.selectable_label(view.selected == Some(p.seq), text).clicked() {
                    view.selected = Some(p.seq);
                }
            }
        },
    );
    intents
}

/// The selected packet: buttons, hex dump and field tree.
pub fn packet_detail(ui: &mut egui::Ui, view: &mut InspectorView, packet: &CapturedPacket) -> Vec<Intent> {
    let mut intents = Vec::new();
    let layout = Layout::of(&packet.bytes, packet.protocol, view.reveal_password);
    let title = row_text(packet);
    ui.horizontal(|ui| {
        if ui.button("Save PNG").on_hover_text("The dump and its legend, into the reports folder").clicked() {
            intents.push(Intent::Report(ReportIntent::ExportPacket { seq: packet.seq, png: true }));
        }
        if ui.button("Save text").clicked() {
            intents.push(Intent::Report(ReportIntent::ExportPacket { seq: packet.seq, png: false }));
        }
        ui.strong(packet.kind.map_or("Reserved packet type", |k| k.name()));
        if layout.fields.iter().any(|f| f.name == "Password") {
            ui.checkbox(&mut view.reveal_password, "Reveal password");
        }
        if ui.button("Copy as text").clicked() {
            ui.ctx().copy_text(layout.to_text(&title));
        }
        if ui.small_button("Close").clicked() {
            view.selected = None;
        }
    });
    if let Some(e) = &layout.error {
        ui.colored_label(ui.visuals().error_fg_color, format!("Malformed: {e}"));
    }
    // This frame's hover, used next frame (the dump and the tree are drawn one after the other).
    let (mut hovered_field, mut hovered_byte) = (None, None);
    let lit_bytes: Vec<usize> =
        view.hovered_field.map(|f| layout.fields[f].range.clone().collect()).unwrap_or_default();
    let lit_fields: Vec<usize> = view.hovered_byte.map(|b| layout.fields_at(b).collect()).unwrap_or_default();
    ui.columns(2, |columns| {
        egui::ScrollArea::vertical().id_salt("hex").show(&mut columns[0], |ui| {
            for (row, chunk) in layout.cells.chunks(16).enumerate() {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 4.0;
                    ui.monospace(format!("{:04x}", row * 16));
                    for (k, cell) in chunk.iter().enumerate() {
                        let at = row * 16 + k;
                        let lit = lit_bytes.contains(&at);
                        let mut text = egui::RichText::new(&cell.text).monospace();
                        if let Some(f) = cell.field {
                            text = text.background_color(colour(layout.colour(f), lit));
                        }
                        if ui.label(text).hovered() {
                            hovered_byte = Some(at);
                        }
                    }
                });
            }
        });
        egui::ScrollArea::vertical().id_salt("fields").show(&mut columns[1], |ui| {
            let mut part = None;
            for (i, f) in layout.fields.iter().enumerate() {
                if part != Some(f.part) {
                    part = Some(f.part);
                    ui.strong(Layout::part_name(f.part));
                }
                let lit = lit_fields.contains(&i);
                let text = egui::RichText::new(Layout::describe(f)).background_color(colour(layout.colour(i), lit));
                // A property's length and value sit under its identifier, an options byte's
                // bits under the byte.
                // Wireshark's name beside ours, so the two tools can be matched field by field.
                let wireshark = crate::pcap::wireshark_field(&f.name, packet.kind);
                let hovered = if layout.nested(i) {
                    ui.indent(i, |ui| field_row(ui, text, wireshark)).inner
                } else {
                    field_row(ui, text, wireshark)
                };
                if hovered {
                    hovered_field = Some(i);
                }
            }
        });
    });
    if (hovered_field, hovered_byte) != (view.hovered_field, view.hovered_byte) {
        view.hovered_field = hovered_field;
        view.hovered_byte = hovered_byte;
        ui.ctx().request_repaint();
    }
    intents
}

/// A field of the tree: our description, then Wireshark's display-filter name in grey; whether
/// the pointer is over it.
fn field_row(ui: &mut egui::Ui, text: egui::RichText, wireshark: Option<&str>) -> bool {
    ui.horizontal_wrapped(|ui| {
        let ours = ui.label(text);
        let theirs = wireshark.map(|w| {
            ui.label(egui::RichText::new(w).monospace().weak()).on_hover_text("Wireshark's name for this field")
        });
        ours.hovered() || theirs.is_some_and(|t| t.hovered())
    })
    .inner
}
