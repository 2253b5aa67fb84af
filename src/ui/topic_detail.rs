//! The Topics tab's detail pane for the selected node: its full topic and figures, the built-in
//! broker's facts (live subscribers, who stored the retained message and when), a sparkline of
//! its recent numeric values, the actions, and its recent messages newest first, each with a
//! JSON-aware diff against the one before.

use std::time::SystemTime;

use super::sparkline::{ago, clock, number, rate, span, sparkline};
use super::topics_tab::{TopicsInput, TopicsView};
use super::{Intent, TreeIntent};
use crate::connection::ReceivedMessage;
use crate::tree::{Change, ChangeKind, Diff, NodeRef, TopicTree, diff, numeric_fields, sparkline_value};

/// Characters of the last value shown in full (wrapped); longer values end in "…".
const VALUE_CHARS: usize = 1000;
/// Characters of a recent message's payload shown.
const RECENT_CHARS: usize = 300;
/// Recent messages listed (the app may load more).
const RECENT_SHOWN: usize = 50;
/// Changed fields listed per message.
const CHANGES_SHOWN: usize = 12;

const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);
const ORANGE: egui::Color32 = egui::Color32::from_rgb(0xe0, 0x80, 0x10);

/// What the built-in broker knows about one topic and no client can: plain data, read off the
/// UI thread by the app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerFacts {
    /// Live subscriptions whose filter matches the topic.
    pub subscribers: Vec<Subscriber>,
    /// The retained message stored for the topic, if any.
    pub retained: Option<RetainedFact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub client_id: String,
    /// Granted QoS, 0..=2.
    pub qos: u8,
    /// The filter that matches the topic (`a/+/c`, `#`).
    pub filter: String,
    /// The group of a shared subscription (`$share/GROUP/...`), if it is one.
    pub share_group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedFact {
    /// The client that published it, when the broker knows (not for messages restored from an
    /// older store).
    pub publisher: Option<String>,
    pub stored_at: SystemTime,
    pub qos: u8,
    /// The stored payload's size (the node's last value shows what it holds).
    pub payload_len: usize,
}

/// Cuts `text` at `max` characters with "…".
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

fn payload_text(payload: &[u8], max: usize) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => bounded(text, max),
        Err(_) => bounded(&format!("0x{}", crate::mqtt::to_hex(payload)), max),
    }
}

/// The selected node's recent messages, when the ones loaded are for it.
fn recent_of<'a>(input: &TopicsInput<'a>, topic: &str) -> Option<&'a [ReceivedMessage]> {
    input.recent.filter(|(t, _)| *t == topic).map(|(_, m)| m)
}

/// Draws the pane for `node`; the delete confirmation is drawn by the tab (it outlives the pane).
pub fn detail_pane(
    ui: &mut egui::Ui,
    tree: &TopicTree,
    node: NodeRef<'_>,
    view: &mut TopicsView,
    input: &TopicsInput<'_>,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    let topic = node.topic();
    if node.is_dollar_branch() {
        ui.heading("$ topics");
        ui.label("The broker's own status topics ($SYS/…): they are not application data.");
        ui.label(format!("{} messages, {} retained", node.subtree_count(), node.retained_under()));
        return intents;
    }
    ui.add(egui::Label::new(egui::RichText::new(topic).heading()).wrap());
    let recent = recent_of(input, topic);
    let last_payload = recent.and_then(|m| m.first()).map(|m| &m.payload[..]);
    let fields = last_payload.map(numeric_fields).unwrap_or_default();
    if fields.is_empty() {
        view.field = None;
    } else if !view.field.as_ref().is_some_and(|f| fields.contains(f)) {
        view.field = fields.first().cloned();
    }
    // The actions first: in the narrow layout the pane is short, and they must stay in view.
    actions(ui, tree, node, view, input, &fields, &mut intents);
    ui.separator();
    figures(ui, node, input.now, last_payload);
    if input.builtin {
        facts(ui, input.facts);
    }
    if let Some(messages) = recent {
        let values: Vec<f64> =
            messages.iter().rev().filter_map(|m| sparkline_value(&m.payload, view.field.as_deref())).collect();
        if values.len() >= 2 {
            ui.horizontal(|ui| {
                sparkline(ui, &values, 220.0, 36.0);
                let (lo, hi) =
                    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
                let last = values.last().copied().unwrap_or_default();
                let what = view.field.as_deref().unwrap_or("value");
                ui.weak(format!("{what}: last {}, min {}, max {}", number(last), number(lo), number(hi)));
            });
        }
    }
    ui.separator();
    match recent {
        None if node.has_messages() => _ = ui.weak("Loading recent messages…"),
        None => {}
        Some([]) => _ = ui.weak("No messages of this topic in history."),
        Some(messages) => recent_list(ui, messages),
    }
    intents
}

fn figures(ui: &mut egui::Ui, node: NodeRef<'_>, now: SystemTime, last_payload: Option<&[u8]>) {
    egui::Grid::new("topic-figures").num_columns(2).striped(true).show(ui, |ui| {
        if node.has_messages() {
            ui.label("Last value");
            let value = last_payload.map_or_else(|| node.preview().to_owned(), |p| payload_text(p, VALUE_CHARS));
            ui.add(egui::Label::new(egui::RichText::new(value).monospace()).wrap());
            ui.end_row();
        }
        ui.label("Messages");
        ui.label(format!("{} on this topic, {} in its subtree", node.count(), node.subtree_count()));
        ui.end_row();
        ui.label("Rate");
        ui.label(format!("{} here, {} in the subtree", rate(node.rate(now)), rate(node.subtree_rate(now))));
        ui.end_row();
        if let Some(t) = node.last_change() {
            ui.label("Last change");
            ui.label(format!("{} ({})", ago(now, t), clock(t)));
            ui.end_row();
        }
        if let Some(t) = node.last_received() {
            ui.label("Last received");
            let stale = if node.is_stale(now) { ", stale" } else { "" };
            ui.label(format!("{} ({}){stale}", ago(now, t), clock(t)));
            ui.end_row();
        }
        if let Some(d) = node.usual_interval() {
            ui.label("Usual interval");
            ui.label(span(d));
            ui.end_row();
        }
        ui.label("Retained");
        let here = if node.retained() { "yes" } else { "no" };
        ui.label(format!("{here}; {} retained in the subtree", node.retained_under()));
        ui.end_row();
        if let Some(qos) = node.qos() {
            ui.label("QoS");
            ui.label(qos.to_string());
            ui.end_row();
        }
    });
}

fn facts(ui: &mut egui::Ui, facts: Option<&BrokerFacts>) {
    let Some(facts) = facts else {
        ui.weak("Reading the broker's facts…");
        return;
    };
    match &facts.retained {
        Some(r) => {
            let by = r.publisher.as_deref().unwrap_or("an unknown client");
            let size = r.payload_len;
            ui.label(format!("Retained by {by} at {} (QoS {}, {size} bytes)", clock(r.stored_at), r.qos));
        }
        None => _ = ui.label("The broker stores no retained message for this topic."),
    }
    if facts.subscribers.is_empty() {
        ui.label("No client is subscribed to this topic right now.");
        return;
    }
    ui.label(format!("{} live subscribers", facts.subscribers.len()));
    egui::Grid::new("topic-subscribers").num_columns(4).striped(true).show(ui, |ui| {
        for head in ["Client id", "QoS", "Filter", "Shared group"] {
            ui.strong(head);
        }
        ui.end_row();
        for s in &facts.subscribers {
            ui.label(&s.client_id);
            ui.label(s.qos.to_string());
            ui.label(&s.filter);
            ui.label(s.share_group.as_deref().unwrap_or("–"));
            ui.end_row();
        }
    });
}

fn actions(
    ui: &mut egui::Ui,
    tree: &TopicTree,
    node: NodeRef<'_>,
    view: &mut TopicsView,
    input: &TopicsInput<'_>,
    fields: &[String],
    intents: &mut Vec<Intent>,
) {
    let topic = node.topic();
    let mut push = |i: TreeIntent| intents.push(Intent::Tree(i));
    ui.horizontal_wrapped(|ui| {
        if !fields.is_empty() {
            let label = ui.label("JSON field");
            let picked = view.field.clone().unwrap_or_default();
            egui::ComboBox::new("topic-json-field", "")
                .selected_text(&picked)
                .show_ui(ui, |ui| {
                    for field in fields {
                        ui.selectable_value(&mut view.field, Some(field.clone()), field);
                    }
                })
                .response
                .labelled_by(label.id);
        }
        let plottable = node.has_messages();
        if ui
            .add_enabled(plottable, egui::Button::new("Plot this"))
            .on_hover_text("Adds a plot series for this topic (the JSON field picked, for a JSON payload)")
            .clicked()
        {
            let field = if fields.is_empty() { None } else { view.field.clone() };
            push(TreeIntent::PlotThis { topic: topic.to_owned(), field });
        }
        if ui.button("Publish here").on_hover_text("Fills the publish form with this topic").clicked() {
            push(TreeIntent::PublishHere { topic: topic.to_owned() });
        }
        if ui.button("Copy topic").clicked() {
            ui.ctx().copy_text(topic.to_owned());
        }
        if let Some(filter) = tree.subtree_filter(node.id()) {
            let button = ui.add_enabled(input.connected, egui::Button::new("Subscribe to this subtree"));
            if button.on_hover_text(format!("Subscribes to {filter}")).clicked() {
                push(TreeIntent::SubscribeSubtree { filter });
            }
        }
        let pinned = view.tree.is_pinned(topic);
        if node.has_messages() && ui.button(if pinned { "Unpin" } else { "Pin" }).clicked() {
            if pinned {
                view.tree.unpin(topic);
            } else {
                view.tree.pin(topic);
            }
        }
        let retained = node.retained_under();
        let button = ui.add_enabled(input.connected && retained > 0, egui::Button::new("Delete retained…"));
        let why = if retained == 0 {
            "No retained message is known under this topic".to_owned()
        } else {
            format!("{retained} retained under this topic")
        };
        if button.on_hover_text(why).on_disabled_hover_text("Connect first").clicked() {
            view.delete =
                Some(super::topics_tab::DeleteAsk { id: node.id(), subtree: !node.retained() || retained > 1 });
        }
    });
    if let Some(done) = input.last_delete {
        ui.label(done);
    }
}

fn recent_list(ui: &mut egui::Ui, messages: &[ReceivedMessage]) {
    ui.strong(format!("Recent messages ({}), newest first", messages.len()));
    for (i, m) in messages.iter().take(RECENT_SHOWN).enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.weak(clock(m.at));
            ui.weak(format!("QoS {}", m.qos.level()));
            if m.retain {
                ui.weak("retained");
            }
            ui.add(egui::Label::new(egui::RichText::new(payload_text(&m.payload, RECENT_CHARS)).monospace()).wrap());
        });
        if let Some(before) = messages.get(i + 1) {
            diff_view(ui, &diff(&before.payload, &m.payload));
        }
        ui.add_space(4.0);
    }
}

fn diff_view(ui: &mut egui::Ui, d: &Diff) {
    ui.indent("diff", |ui| match d {
        Diff::Unchanged => _ = ui.weak("same value as before"),
        Diff::Text { before, .. } => {
            ui.label(format!("was {}", bounded(before, 80)));
        }
        Diff::Json(changes) => {
            for change in changes.iter().take(CHANGES_SHOWN) {
                change_line(ui, change);
            }
            if changes.len() > CHANGES_SHOWN {
                ui.weak(format!("and {} more fields", changes.len() - CHANGES_SHOWN));
            }
        }
    });
}

fn change_line(ui: &mut egui::Ui, c: &Change) {
    let show = |v: &Option<String>| bounded(v.as_deref().unwrap_or(""), 60);
    let (color, text) = match c.kind {
        ChangeKind::Changed => (ORANGE, format!("~ {}: {} → {}", c.path, show(&c.before), show(&c.after))),
        ChangeKind::Added => (GREEN, format!("+ {}: {}", c.path, show(&c.after))),
        ChangeKind::Removed => (super::RED, format!("- {}: {}", c.path, show(&c.before))),
    };
    ui.colored_label(color, egui::RichText::new(text).monospace());
}
