//! The Topics tab: every topic seen on the connection as a tree (rows in `topic_rows`), a toolbar
//! (filter, "only retained", sort, collapse all, totals), and the selected node's detail
//! (`topic_detail`) beside the tree when the panel is wide enough and below it otherwise, so
//! nothing is cut off on a 1024x640 laptop screen. Keyboard (when the tree has focus): Up/Down
//! move, Right expands or enters, Left collapses or goes to the parent.
//!
//! The tab asks the app for what it cannot know by itself with [`TreeIntent`]s: the selected
//! node's recent messages (once per newly selected topic) and, on the built-in broker, its facts.

use std::time::SystemTime;

use super::topic_detail::topic_cache::DetailCache;
use super::topic_detail::{BrokerFacts, RetainedCount, detail_pane};
use super::topic_rows::rows_panel;
use super::{Intent, TreeIntent};
use crate::tree::{NodeId, SortBy, TopicTree, TreeView};

/// Below this width the detail goes under the tree instead of beside it.
const BESIDE_MIN_WIDTH: f32 = 860.0;
/// The tree's share of the width (beside) or of the height (below).
const TREE_SHARE: f32 = 0.55;
/// The detail pane's width beside the tree: room for the actions in two lines, no more than
/// what its text needs (the tree's columns want the rest).
const DETAIL_MIN_WIDTH: f32 = 380.0;
const DETAIL_MAX_WIDTH: f32 = 560.0;

/// What the app tells the tab each frame.
pub struct TopicsInput<'a> {
    pub now: SystemTime,
    /// The connection can send (actions that publish/subscribe are enabled only then).
    pub connected: bool,
    /// The connection is to the built-in broker: exact, atomic delete and the broker's facts.
    pub builtin: bool,
    /// The selected node's recent messages, newest first, and the topic they are for (None: not loaded).
    pub recent: Option<(&'a str, &'a [crate::connection::ReceivedMessage])>,
    /// The built-in broker's facts about the selected topic, once read.
    pub facts: Option<&'a BrokerFacts>,
    /// What the last delete of retained messages did, in words ("Deleted 12 retained messages under a/#").
    pub last_delete: Option<&'a str>,
}

/// The delete confirmation on view: for which node, and whether for its whole subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteAsk {
    pub id: NodeId,
    pub subtree: bool,
}

/// The tab's state for one connection's tree.
#[derive(Debug, Default)]
pub struct TopicsView {
    pub tree: TreeView,
    /// The topic whose recent messages were last asked for: a new selection asks once.
    pub requested: Option<String>,
    /// The JSON field picked for "Plot this" and the sparkline (reset when the payload has no
    /// such field).
    pub field: Option<String>,
    /// The delete confirmation, while it is open.
    pub delete: Option<DeleteAsk>,
    /// The filter box's text (applied to the tree view as typed).
    filter: String,
    /// The detail pane's previews, diffs, field list and sparkline values of the recent
    /// messages, worked out once per change of the list or of `field`, not every frame.
    pub(super) cache: DetailCache,
}

impl TopicsView {
    /// Tells the tab the recent messages were replaced. Optional: the tab notices a new topic, a
    /// message put in front and the oldest dropped by itself; this covers any other change.
    pub fn recent_changed(&mut self) {
        self.cache.clear();
    }

    /// Payload diffs, field lists and sparkline values the detail pane has worked out so far
    /// (each parses payloads): a hook for tests that drawing again does no work.
    pub fn detail_computations(&self) -> u64 {
        self.cache.computations
    }

    /// Frames whose detail pane found its work done.
    pub fn detail_cache_hits(&self) -> u64 {
        self.cache.hits
    }
}

/// Draws the tab and returns what the user asked for.
pub fn topics_tab(
    ui: &mut egui::Ui,
    tree: &mut TopicTree,
    view: &mut TopicsView,
    input: &TopicsInput<'_>,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    toolbar(ui, tree, view);
    if tree.node_count() == 0 {
        ui.add_space(12.0);
        ui.label("No topics yet.");
        ui.weak("Subscribe to # to see every topic of the broker (and to $SYS/# for its status topics).");
        return intents;
    }
    let focus_id = ui.make_persistent_id("topic-tree-focus");
    let scroll_to = keyboard(ui, tree, view, input.now, focus_id);
    let rect = ui.available_rect_before_wrap();
    let beside = rect.width() >= BESIDE_MIN_WIDTH;
    let (tree_rect, detail_rect) = if beside {
        let split = rect.right() - (rect.width() * (1.0 - TREE_SHARE)).clamp(DETAIL_MIN_WIDTH, DETAIL_MAX_WIDTH);
        (
            egui::Rect::from_min_max(rect.min, egui::pos2(split - 4.0, rect.bottom())),
            egui::Rect::from_min_max(egui::pos2(split + 4.0, rect.top()), rect.max),
        )
    } else {
        let split = rect.top() + (rect.height() * TREE_SHARE).max(120.0);
        (
            egui::Rect::from_min_max(rect.min, egui::pos2(rect.right(), split - 4.0)),
            egui::Rect::from_min_max(egui::pos2(rect.left(), split + 4.0), rect.max),
        )
    };
    // Takes keyboard focus for the tree (named for screen readers): a click on a row gives it.
    let focus = ui.interact(tree_rect, focus_id, egui::Sense::FOCUSABLE);
    focus.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Tree, true, "Topic tree"));
    let clicks = ui
        .scope_builder(egui::UiBuilder::new().max_rect(tree_rect), |ui| {
            rows_panel(ui, tree, &view.tree, input.now, tree_rect.height(), scroll_to)
        })
        .inner;
    if let Some(index) = clicks.selected {
        view.tree.select_row(tree.rows(&view.tree, input.now), index);
        ui.memory_mut(|m| m.request_focus(focus_id));
    }
    if let Some(id) = clicks.toggled {
        view.tree.toggle(id);
        ui.memory_mut(|m| m.request_focus(focus_id));
    }
    if let Some((topic, pin)) = clicks.pinned {
        if pin {
            view.tree.pin(&topic);
        } else {
            view.tree.unpin(&topic);
        }
    }
    let stroke = ui.visuals().widgets.noninteractive.bg_stroke;
    if beside {
        ui.painter().vline(tree_rect.right() + 4.0, rect.y_range(), stroke);
    } else {
        ui.painter().hline(rect.x_range(), tree_rect.bottom() + 4.0, stroke);
    }
    ui.scope_builder(egui::UiBuilder::new().max_rect(detail_rect), |ui| {
        egui::ScrollArea::vertical().id_salt("topic-detail").auto_shrink([false, false]).show(ui, |ui| {
            match view.tree.selected().and_then(|id| tree.node(id)) {
                Some(node) => intents.extend(detail_pane(ui, tree, node, view, input)),
                None => _ = ui.weak("Select a topic to see its recent messages and actions."),
            }
        });
    });
    ui.advance_cursor_after_rect(rect);
    request_for_selection(tree, view, input, &mut intents);
    delete_modal(ui, tree, view, input, &mut intents);
    intents
}

fn toolbar(ui: &mut egui::Ui, tree: &TopicTree, view: &mut TopicsView) {
    // Wrapped: on a narrow panel the summary goes to a second line, never out of view.
    ui.horizontal_wrapped(|ui| {
        // The tree view's filter may be set from elsewhere (the app, a test): follow it.
        if view.filter.trim() != view.tree.filter() {
            view.tree.filter().clone_into(&mut view.filter);
        }
        let filter = super::labelled_field(ui, "Filter topics", &mut view.filter, 160.0);
        if filter.changed() {
            view.tree.set_filter(view.filter.trim());
        }
        filter.on_hover_text("Shows the topics whose name or last value contains this text");
        let mut only = view.tree.only_retained();
        if ui.checkbox(&mut only, "Only retained").changed() {
            view.tree.set_only_retained(only);
        }
        let label = ui.label("Sort");
        let mut sort = view.tree.sort();
        let words = |s: SortBy| match s {
            SortBy::Name => "name",
            SortBy::Rate => "rate",
            SortBy::LastChange => "last change",
        };
        egui::ComboBox::new("topic-sort", "")
            .selected_text(words(sort))
            .width(90.0)
            .show_ui(ui, |ui| {
                for s in [SortBy::Name, SortBy::Rate, SortBy::LastChange] {
                    ui.selectable_value(&mut sort, s, words(s));
                }
            })
            .response
            .labelled_by(label.id);
        view.tree.set_sort(sort);
        if ui.button("Collapse all").clicked() {
            view.tree.collapse_all();
        }
        let (topics, messages) = (tree.len(), tree.message_count());
        let s = |n: u64| if n == 1 { "" } else { "s" };
        ui.weak(format!(
            "{topics} topic{}, {messages} message{}, {} retained",
            s(topics as u64),
            s(messages),
            tree.retained_count()
        ));
    });
    ui.separator();
}

/// Applies the arrow keys when the tree has focus; returns the row to scroll into view.
fn keyboard(
    ui: &mut egui::Ui,
    tree: &mut TopicTree,
    view: &mut TopicsView,
    now: SystemTime,
    focus_id: egui::Id,
) -> Option<usize> {
    if !ui.memory(|m| m.has_focus(focus_id)) {
        return None;
    }
    let arrows = egui::EventFilter { horizontal_arrows: true, vertical_arrows: true, ..Default::default() };
    ui.memory_mut(|m| m.set_focus_lock_filter(focus_id, arrows));
    let none = egui::Modifiers::NONE;
    let (down, up, right, left) = ui.input_mut(|i| {
        (
            i.consume_key(none, egui::Key::ArrowDown),
            i.consume_key(none, egui::Key::ArrowUp),
            i.consume_key(none, egui::Key::ArrowRight),
            i.consume_key(none, egui::Key::ArrowLeft),
        )
    });
    if !(down || up || right || left) {
        return None;
    }
    let rows = tree.rows(&view.tree, now).to_vec();
    if down {
        view.tree.select_next(&rows);
    }
    if up {
        view.tree.select_previous(&rows);
    }
    if right {
        view.tree.expand_selected(&rows);
    }
    if left {
        view.tree.collapse_selected(tree, &rows);
    }
    view.tree.selected_index(tree.rows(&view.tree, now))
}

/// Asks for the recent messages (and the broker's facts) of a newly selected topic, once.
fn request_for_selection(tree: &TopicTree, view: &mut TopicsView, input: &TopicsInput<'_>, intents: &mut Vec<Intent>) {
    let topic = view.tree.selected().and_then(|id| tree.node(id)).filter(|n| !n.is_dollar_branch()).map(|n| n.topic());
    let Some(topic) = topic else { return };
    if view.requested.as_deref() == Some(topic) {
        return;
    }
    view.requested = Some(topic.to_owned());
    intents.push(Intent::Tree(TreeIntent::LoadRecent { topic: topic.to_owned() }));
    if input.builtin {
        intents.push(Intent::Tree(TreeIntent::LoadBrokerFacts { topic: topic.to_owned() }));
    }
}

/// The confirmation of "Delete retained…": how many, and how the connection's broker does it.
fn delete_modal(
    ui: &mut egui::Ui,
    tree: &TopicTree,
    view: &mut TopicsView,
    input: &TopicsInput<'_>,
    intents: &mut Vec<Intent>,
) {
    let Some(ask) = view.delete else { return };
    let Some(node) = tree.node(ask.id) else {
        view.delete = None;
        return;
    };
    let topic = node.topic().to_owned();
    // The facts are about the selected node: the broker's count only for it.
    let count = if view.tree.selected() == Some(ask.id) {
        RetainedCount::of(node, input)
    } else {
        RetainedCount::of_tree(node)
    };
    let mut ask = ask;
    let mut close = false;
    let modal = egui::Modal::new(ui.make_persistent_id("topic-delete-retained")).show(ui.ctx(), |ui| {
        ui.set_max_width(460.0);
        ui.heading("Delete retained messages");
        if count.here && node.has_children() && count.under > 1 {
            ui.radio_value(&mut ask.subtree, false, format!("Only {topic}"));
            ui.radio_value(&mut ask.subtree, true, format!("The whole subtree {topic}/#"));
        }
        let subtree = ask.subtree || !count.here;
        let (filter, count_n) =
            if subtree { (format!("{topic}/#"), count.under) } else { (topic.clone(), usize::from(count.here)) };
        let plural = if count_n == 1 { "" } else { "s" };
        let how = if count.broker {
            let (at, it) = match (subtree, count_n) {
                (false, _) => ("at", "it"),
                (true, 1) => ("under", "it"),
                (true, _) => ("under", "them"),
            };
            format!("The broker stores {count_n} retained message{plural} {at} {filter}: it clears {it} at once.")
        } else {
            ui.label(format!("{count_n} retained message{plural} under {filter} will be deleted."));
            if input.builtin {
                format!("The broker clears its store under {filter} at once.")
            } else {
                format!(
                    "An empty retained message is published to each of the {count_n} topic{plural} this tree knows \
                     to be retained (topics this connection never saw keep theirs)."
                )
            }
        };
        ui.add(egui::Label::new(how).wrap());
        ui.horizontal(|ui| {
            if ui.button("Confirm delete").clicked() {
                let topics = if subtree { tree.retained_topics_under(node.id()) } else { vec![topic.clone()] };
                intents.push(Intent::Tree(TreeIntent::DeleteRetained { filter, topics }));
                close = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    view.delete = if close || modal.should_close() { None } else { Some(ask) };
}
