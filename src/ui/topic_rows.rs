//! The Topics tab's tree rows: only the rows on screen are laid out (`ScrollArea::show_rows`
//! over the tree's cached rows), each with its indentation and expand arrow, level name, one-line
//! value, message counts (the node's own / its subtree's), rate, time since the value changed, a
//! retained mark, QoS, and a pin. Stale topics are greyed, and say so when hovered.

use std::time::SystemTime;

use crate::tree::{NodeId, NodeRef, Row, TopicTree, TreeView};

/// Indentation per level, in points.
const INDENT: f32 = 14.0;
/// Fixed columns on the right of a row: counts, rate, last change, flags, pin.
const COUNTS_W: f32 = 76.0;
const RATE_W: f32 = 52.0;
const AGO_W: f32 = 64.0;
const FLAGS_W: f32 = 40.0;
const PIN_W: f32 = 30.0;
/// Below this width the rate and last-change columns make room for the name and value (hover
/// and the detail pane show them): at 1280 wide with the sidebar and the detail pane the tree
/// has about 530 points, where they left a deep level 9 characters of its name.
const NARROW: f32 = 600.0;

/// The widths of a row's columns, the same for the header and every row.
#[derive(Clone, Copy)]
struct Columns {
    name: f32,
    value: f32,
    /// Rate and last change left out.
    narrow: bool,
}

impl Columns {
    /// `depth`: the deepest row drawn last frame. The name column keeps room for its indent and
    /// about 20 characters (up to 70% of what name and value share), so a deep level's name is
    /// not cut to "sta…"; shallow trees keep the width for the value.
    fn new(ui: &egui::Ui, depth: u16) -> Self {
        let width = ui.available_width();
        let narrow = width < NARROW;
        let right = COUNTS_W + FLAGS_W + PIN_W + if narrow { 0.0 } else { RATE_W + AGO_W };
        let spacing = ui.spacing().item_spacing.x * 8.0;
        let left = (width - right - spacing).max(120.0);
        // The arrow, the indent and room for about 20 characters of the level's name
        // (zigbee2mqtt's "sensor_temperature", a device's "0x00158d0001a2b3c4").
        let deep = (f32::from(depth) * INDENT + 190.0).min(left * 0.7);
        let name = (left * 0.45).clamp(90.0, 280.0).max(deep);
        Self { name, value: left - name, narrow }
    }
}

/// The column names above the rows.
fn header(ui: &mut egui::Ui, cols: Columns) {
    ui.horizontal(|ui| {
        let head = |ui: &mut egui::Ui, width: f32, text: &str, hover: &str| {
            cell(ui, width, |ui| {
                let label = ui.add(egui::Label::new(egui::RichText::new(text).small().weak()).truncate());
                if !hover.is_empty() {
                    label.on_hover_text(hover);
                }
            });
        };
        head(ui, cols.name, "Topic", "");
        head(ui, cols.value, "Last value", "");
        head(ui, COUNTS_W, "Messages", "Of the topic itself / of its whole subtree");
        if !cols.narrow {
            head(ui, RATE_W, "Rate", "Messages a second in the subtree");
            head(ui, AGO_W, "Changed", "Since the value last changed");
        }
        head(ui, FLAGS_W, "R, QoS", "R: a retained message is stored; r: some below; Q: QoS of the last message");
    });
}

/// What the user did to the rows this frame.
#[derive(Debug, Default)]
pub struct RowClicks {
    /// A row was clicked: its index in the rows.
    pub selected: Option<usize>,
    /// An expand arrow was clicked.
    pub toggled: Option<NodeId>,
    /// A pin was clicked: the topic and whether it is pinned now.
    pub pinned: Option<(String, bool)>,
}

/// Draws the rows in `height` points; `scroll_to`: a row index that must come into view (the
/// keyboard moved the selection there).
pub fn rows_panel(
    ui: &mut egui::Ui,
    tree: &mut TopicTree,
    view: &TreeView,
    now: SystemTime,
    height: f32,
    scroll_to: Option<usize>,
) -> RowClicks {
    let mut clicks = RowClicks::default();
    let depth_id = ui.make_persistent_id("topic-rows-depth");
    let cols = Columns::new(ui, ui.data(|d| d.get_temp::<u16>(depth_id)).unwrap_or(0));
    header(ui, cols);
    let height = height - ui.spacing().interact_size.y - ui.spacing().item_spacing.y;
    let row_height = ui.spacing().interact_size.y;
    let total = tree.rows(view, now).len();
    let mut area = egui::ScrollArea::vertical().id_salt("topic-rows").auto_shrink([false, false]).max_height(height);
    if let Some(index) = scroll_to {
        let id = ui.make_persistent_id("topic-rows");
        let pitch = row_height + ui.spacing().item_spacing.y;
        // Row positions: exact enough in f32 for any number of rows a screen can scroll.
        #[allow(clippy::cast_precision_loss)]
        let top = index as f32 * pitch;
        let offset = egui::scroll_area::State::load(ui.ctx(), id).map_or(0.0, |s| s.clamped_offset().y);
        let view_height = (height - pitch).max(pitch);
        if top < offset {
            area = area.vertical_scroll_offset(top);
        } else if top > offset + view_height - pitch {
            area = area.vertical_scroll_offset(top - view_height + pitch);
        }
    }
    area.show_rows(ui, row_height, total, |ui, range| {
        let shown: Vec<Row> = tree.rows(view, now).get(range.clone()).map(<[Row]>::to_vec).unwrap_or_default();
        let selected = view.selected_index(tree.rows(view, now));
        let deepest = shown.iter().map(|r| r.depth).max().unwrap_or(0);
        ui.data_mut(|d| d.insert_temp(depth_id, deepest));
        for (index, row) in range.zip(shown) {
            let Some(node) = tree.node(row.id) else { continue };
            ui.horizontal(|ui| {
                ui.set_height(row_height);
                draw_row(ui, node, row, index, selected == Some(index), view, now, cols, &mut clicks);
            });
        }
    });
    clicks
}

/// A cell of a fixed width, its content left-aligned and cut to fit.
fn cell(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(egui::vec2(width, height), egui::Layout::left_to_right(egui::Align::Center), |ui| {
        ui.set_min_width(width);
        ui.set_max_width(width);
        add(ui);
    });
}

#[allow(clippy::too_many_arguments)]
fn draw_row(
    ui: &mut egui::Ui,
    node: NodeRef<'_>,
    row: Row,
    index: usize,
    selected: bool,
    view: &TreeView,
    now: SystemTime,
    cols: Columns,
    clicks: &mut RowClicks,
) {
    let stale = node.is_stale(now);
    let weak = ui.visuals().weak_text_color();
    let topic = node.topic();
    cell(ui, cols.name, |ui| {
        ui.add_space(f32::from(row.depth) * INDENT);
        if row.has_children {
            if arrow(ui, row.expanded, topic_or_branch(node)).clicked() {
                clicks.toggled = Some(row.id);
            }
        } else {
            ui.add_space(ui.spacing().icon_width);
        }
        let name = if row.pinned { topic_or_branch(node) } else { node.name() };
        let mut text = egui::RichText::new(if name.is_empty() { "(empty)" } else { name });
        if stale {
            text = text.color(weak);
        }
        let response = ui.add(egui::Button::selectable(selected, text).truncate());
        // Named by the full topic: level names repeat across the tree (`a/status`, `b/status`).
        let full = topic_or_branch(node);
        response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, full));
        if response.clicked() {
            clicks.selected = Some(index);
        }
        response.on_hover_ui(|ui| hover(ui, node, now, stale));
    });
    let mut value = egui::RichText::new(node.preview()).monospace();
    value = if stale { value.color(weak) } else { value.weak() };
    cell(ui, cols.value, |ui| {
        ui.add(egui::Label::new(value).truncate());
    });
    cell(ui, COUNTS_W, |ui| {
        let counts = if row.has_children {
            format!("{} / {}", node.count(), node.subtree_count())
        } else {
            node.count().to_string()
        };
        ui.label(counts).on_hover_text("Messages of this topic / of its whole subtree");
    });
    if !cols.narrow {
        cell(ui, RATE_W, |ui| {
            ui.label(super::sparkline::rate(node.subtree_rate(now)));
        });
        cell(ui, AGO_W, |ui| {
            let ago = node.last_change().map_or_else(String::new, |t| super::sparkline::ago(now, t));
            ui.label(ago).on_hover_text("Since the value last changed");
        });
    }
    cell(ui, FLAGS_W, |ui| {
        if node.retained() {
            ui.label(egui::RichText::new("R").strong()).on_hover_text("A retained message is stored for this topic");
        } else if node.retained_under() > 0 {
            ui.weak("r").on_hover_text(format!("{} retained below", node.retained_under()));
        }
        if let Some(qos) = node.qos() {
            ui.weak(format!("Q{qos}")).on_hover_text("QoS of the last message");
        }
    });
    if !node.is_dollar_branch() && node.has_messages() {
        let pinned = view.is_pinned(topic);
        let (word, label) = if pinned { ("unpin", "Unpin") } else { ("pin", "Pin") };
        let response = ui.add(egui::Button::new(egui::RichText::new(word).small()).small().frame(pinned));
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("{label} {topic}")));
        if response.on_hover_text(if pinned { "Unpin" } else { "Pin to the top" }).clicked() {
            clicks.pinned = Some((topic.to_owned(), !pinned));
        }
    }
}

fn topic_or_branch(node: NodeRef<'_>) -> &str {
    if node.is_dollar_branch() { node.name() } else { node.topic() }
}

/// A painted expand arrow (no glyph needed), named "Expand a/b" or "Collapse a/b".
fn arrow(ui: &mut egui::Ui, expanded: bool, topic: &str) -> egui::Response {
    let size = egui::vec2(ui.spacing().icon_width, ui.spacing().interact_size.y);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    let word = if expanded { "Collapse" } else { "Expand" };
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("{word} {topic}")));
    let color = ui.style().interact(&response).fg_stroke.color;
    let c = rect.center();
    let r = 4.0;
    let points = if expanded {
        vec![egui::pos2(c.x - r, c.y - r * 0.6), egui::pos2(c.x + r, c.y - r * 0.6), egui::pos2(c.x, c.y + r * 0.7)]
    } else {
        vec![egui::pos2(c.x - r * 0.6, c.y - r), egui::pos2(c.x + r * 0.7, c.y), egui::pos2(c.x - r * 0.6, c.y + r)]
    };
    ui.painter().add(egui::Shape::convex_polygon(points, color, egui::Stroke::NONE));
    response
}

fn hover(ui: &mut egui::Ui, node: NodeRef<'_>, now: SystemTime, stale: bool) {
    use super::sparkline::{ago, rate, span};
    ui.label(egui::RichText::new(topic_or_branch(node)).strong());
    if stale {
        let silent = node.last_received().map_or_else(String::new, |t| ago(now, t));
        let usual = node.usual_interval().map_or_else(String::new, |d| format!(", usually every {}", span(d)));
        ui.colored_label(super::RED, format!("stale: last message {silent}{usual}"));
    }
    ui.label(format!(
        "{} messages here, {} in the subtree; {} here, {} in the subtree",
        node.count(),
        node.subtree_count(),
        rate(node.rate(now)),
        rate(node.subtree_rate(now))
    ));
    if let Some(t) = node.last_change() {
        ui.label(format!("value changed {}", ago(now, t)));
    }
}
