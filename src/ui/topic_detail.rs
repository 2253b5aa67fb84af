//! The Topics tab's detail pane for the selected node: its full topic and figures, the built-in
//! broker's facts (live subscribers, who stored the retained message and when), a sparkline of
//! its recent numeric values, the actions, and its recent messages newest first, each with a
//! JSON-aware diff against the one before.

use std::time::SystemTime;

use super::sparkline::{ago, clock, number, rate, span, sparkline};
use super::topics_tab::{TopicsInput, TopicsView};
use super::{Intent, TreeIntent};
use crate::tree::{ChangeKind, NodeRef, TopicTree};
use topic_cache::{Compared, DetailCache};

// Declared here rather than in `ui/mod.rs` (not this pane's file): the pane is its only user.
#[path = "topic_cache.rs"]
pub(super) mod topic_cache;

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
    /// Retained messages the broker stores at the topic or below it (filter `topic/#`): what
    /// its delete clears, which the tree may not know (topics this connection never saw, or saw
    /// without RETAIN). `None` while unknown: the tree's count stands in.
    pub retained_under: Option<usize>,
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

/// The selected node's recent messages, when the ones loaded are for it.
fn recent_of<'a>(input: &TopicsInput<'a>, topic: &str) -> Option<&'a [crate::connection::ReceivedMessage]> {
    input.recent.filter(|(t, _)| *t == topic).map(|(_, m)| m)
}

/// Retained messages at and under a node: the built-in broker's count once read, else the tree's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RetainedCount {
    /// One is stored at the node's own topic.
    pub here: bool,
    /// At the topic and below it.
    pub under: usize,
    /// The broker's count (exact), not the tree's.
    pub broker: bool,
}

impl RetainedCount {
    /// For `node`; `input.facts` are about the selected node, which `node` must be.
    pub(super) fn of(node: NodeRef<'_>, input: &TopicsInput<'_>) -> Self {
        let broker =
            input.facts.filter(|_| input.builtin).and_then(|f| Some((f.retained.is_some(), f.retained_under?)));
        match broker {
            Some((here, under)) => Self { here, under, broker: true },
            None => Self::of_tree(node),
        }
    }

    /// What the tree knows (exact only for what this connection saw retained).
    pub(super) fn of_tree(node: NodeRef<'_>) -> Self {
        Self { here: node.retained(), under: node.retained_under() as usize, broker: false }
    }
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
    // Out of the view while drawing (the actions change the view); put back at the end.
    let mut cache = std::mem::take(&mut view.cache);
    match recent {
        Some(messages) => {
            if cache.refresh(topic, messages, &mut view.field) {
                ui.ctx().request_repaint();
            }
        }
        None => view.field = None,
    }
    let fields: &[String] = if recent.is_some() { &cache.fields } else { &[] };
    // The actions first: in the narrow layout the pane is short, and they must stay in view.
    actions(ui, tree, node, view, input, fields, &mut intents);
    ui.separator();
    figures(ui, node, input.now, recent.and(cache.last_value.as_deref()));
    if input.builtin {
        facts(ui, input.facts, topic);
    }
    let values = &cache.values;
    if recent.is_some() && values.len() >= 2 {
        ui.horizontal(|ui| {
            sparkline(ui, values, 220.0, 36.0);
            let (lo, hi) =
                values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            let last = values.last().copied().unwrap_or_default();
            let what = view.field.as_deref().unwrap_or("value");
            ui.weak(format!("{what}: last {}, min {}, max {}", number(last), number(lo), number(hi)));
        });
    }
    ui.separator();
    match recent {
        None if node.has_messages() => _ = ui.weak("Loading recent messages…"),
        None => {}
        Some([]) => _ = ui.weak("No messages of this topic in history."),
        Some(messages) => recent_list(ui, messages, &mut cache),
    }
    view.cache = cache;
    intents
}

/// `last_value`: the newest loaded payload as shown (the tree's short preview stands in).
fn figures(ui: &mut egui::Ui, node: NodeRef<'_>, now: SystemTime, last_value: Option<&str>) {
    egui::Grid::new("topic-figures").num_columns(2).striped(true).show(ui, |ui| {
        if node.has_messages() {
            ui.label("Last value");
            let value = last_value.unwrap_or_else(|| node.preview());
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

fn facts(ui: &mut egui::Ui, facts: Option<&BrokerFacts>, topic: &str) {
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
    if let Some(n) = facts.retained_under {
        let plural = if n == 1 { "" } else { "s" };
        ui.label(format!("It stores {n} retained message{plural} under {topic}/#."));
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
        let count = RetainedCount::of(node, input);
        let button = ui.add_enabled(input.connected && count.under > 0, egui::Button::new("Delete retained…"));
        let why = match (count.under, count.broker) {
            (0, true) => "The broker stores no retained message under this topic".to_owned(),
            (0, false) => "No retained message is known under this topic".to_owned(),
            (n, true) => format!("The broker stores {n} retained under this topic"),
            (n, false) => format!("{n} retained under this topic"),
        };
        let disabled_why = if input.connected { why.clone() } else { "Connect first".to_owned() };
        if button.on_hover_text(why).on_disabled_hover_text(disabled_why).clicked() {
            view.delete = Some(super::topics_tab::DeleteAsk { id: node.id(), subtree: !count.here || count.under > 1 });
        }
    });
    if let Some(done) = input.last_delete {
        ui.label(done);
    }
}

/// The messages with their comparisons; one whose height is known and that lies outside the
/// visible part of the pane only takes its room.
fn recent_list(ui: &mut egui::Ui, messages: &[crate::connection::ReceivedMessage], cache: &mut DetailCache) {
    ui.strong(format!("Recent messages ({}), newest first", messages.len()));
    let (width, clip) = (ui.available_width(), ui.clip_rect());
    let listed = cache.entries.len();
    for (m, entry) in messages.iter().zip(&mut cache.entries) {
        let top = ui.cursor().top();
        if let Some((w, height)) = entry.drawn
            && (w - width).abs() < 0.5
            && (top > clip.bottom() || top + height < clip.top())
        {
            ui.add_space(height);
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            ui.weak(clock(m.at));
            ui.weak(format!("QoS {}", m.qos.level()));
            if m.retain {
                ui.weak("retained");
            }
            ui.add(egui::Label::new(egui::RichText::new(&entry.preview).monospace()).wrap());
        });
        if let Some(compared) = &entry.compared {
            compared_view(ui, compared);
        }
        ui.add_space(4.0);
        entry.drawn = Some((width, ui.cursor().top() - top));
    }
    if messages.len() > listed {
        ui.weak(format!("and {} older ones", messages.len() - listed));
    }
}

fn compared_view(ui: &mut egui::Ui, compared: &Compared) {
    ui.indent("diff", |ui| match compared {
        Compared::Unchanged => _ = ui.weak("same value as before"),
        Compared::Was(before) => _ = ui.label(format!("was {before}")),
        Compared::TooLarge(bytes) => _ = ui.weak(format!("too large to compare, {bytes} bytes")),
        Compared::Pending => _ = ui.weak("comparing…"),
        Compared::Changes { lines, more } => {
            for (kind, line) in lines {
                let color = match kind {
                    ChangeKind::Changed => ORANGE,
                    ChangeKind::Added => GREEN,
                    ChangeKind::Removed => super::RED,
                };
                ui.colored_label(color, egui::RichText::new(line).monospace());
            }
            if *more > 0 {
                ui.weak(format!("and {more} more fields"));
            }
        }
    });
}
