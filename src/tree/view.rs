//! [`TreeView`]: what the panel remembers about one tree (expanded nodes, selection, filter,
//! "only retained", sort, pins), and the keyboard's moves over the visible rows.
//!
//! Fields are private: every setter that changes which rows are visible bumps a revision, and
//! the tree rebuilds its cached rows when it sees a new one. Selection is not part of it (it
//! moves over the rows without changing them).

use std::sync::atomic::{AtomicU64, Ordering};

use super::rows::Row;
use super::{NodeId, TopicTree};

/// Sibling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// By level name, digits compared as numbers (`dev2` before `dev10`).
    #[default]
    Name,
    /// Busiest first (a branch by its whole subtree's rate).
    Rate,
    /// Most recently changed value first (a branch by its newest change below).
    LastChange,
}

static NEXT_VIEW: AtomicU64 = AtomicU64::new(1);

/// The panel's state for one tree. All nodes start collapsed (the `$` branch too).
#[derive(Debug)]
pub struct TreeView {
    /// Tells two views apart in the tree's row cache (a clone gets its own).
    pub(crate) id: u64,
    /// Bumped by every change of the visible rows.
    pub(crate) revision: u64,
    /// A bit per node id: the flattening asks for every visible row, a hash lookup each was
    /// a third of its time.
    expanded: Vec<u64>,
    selected: Option<NodeId>,
    /// The row the selection was made on: a pinned topic has two rows (pin and tree).
    selected_row: Option<usize>,
    filter: String,
    only_retained: bool,
    sort: SortBy,
    pinned: Vec<String>,
}

impl Default for TreeView {
    fn default() -> Self {
        Self {
            id: NEXT_VIEW.fetch_add(1, Ordering::Relaxed),
            revision: 0,
            expanded: Vec::new(),
            selected: None,
            selected_row: None,
            filter: String::new(),
            only_retained: false,
            sort: SortBy::Name,
            pinned: Vec::new(),
        }
    }
}

impl Clone for TreeView {
    fn clone(&self) -> Self {
        Self {
            id: NEXT_VIEW.fetch_add(1, Ordering::Relaxed),
            expanded: self.expanded.clone(),
            filter: self.filter.clone(),
            pinned: self.pinned.clone(),
            ..*self
        }
    }
}

impl TreeView {
    pub fn new() -> Self {
        Self::default()
    }

    fn changed(&mut self) {
        self.revision += 1;
    }

    pub fn is_expanded(&self, id: NodeId) -> bool {
        self.expanded.get(id.0 as usize / 64).is_some_and(|word| word & (1 << (id.0 % 64)) != 0)
    }

    pub fn set_expanded(&mut self, id: NodeId, expanded: bool) {
        if self.is_expanded(id) == expanded {
            return;
        }
        let word = id.0 as usize / 64;
        if word >= self.expanded.len() {
            self.expanded.resize(word + 1, 0);
        }
        self.expanded[word] ^= 1 << (id.0 % 64);
        self.changed();
    }

    pub fn toggle(&mut self, id: NodeId) {
        let expanded = self.is_expanded(id);
        self.set_expanded(id, !expanded);
    }

    /// Expands every ancestor of `id` so its row shows (after "find topic" or a pin click).
    pub fn reveal(&mut self, tree: &TopicTree, id: NodeId) {
        let mut up = tree.node(id).and_then(|n| n.parent());
        while let Some(parent) = up {
            self.set_expanded(parent, true);
            up = tree.node(parent).and_then(|n| n.parent());
        }
    }

    pub fn collapse_all(&mut self) {
        if self.expanded.iter().any(|w| *w != 0) {
            self.expanded.clear();
            self.changed();
        }
    }

    pub fn selected(&self) -> Option<NodeId> {
        self.selected
    }

    pub fn select(&mut self, id: Option<NodeId>) {
        self.selected = id;
        self.selected_row = None;
    }

    /// Selects the row at `index` (a click), remembering which of a pinned topic's two rows.
    pub fn select_row(&mut self, rows: &[Row], index: usize) {
        if let Some(row) = rows.get(index) {
            self.selected = Some(row.id);
            self.selected_row = Some(index);
        }
    }

    /// The selected row's index in `rows`.
    pub fn selected_index(&self, rows: &[Row]) -> Option<usize> {
        let id = self.selected?;
        match self.selected_row {
            Some(i) if rows.get(i).is_some_and(|r| r.id == id) => Some(i),
            _ => rows.iter().position(|r| r.id == id),
        }
    }

    /// Down arrow: the next row (the first when none is selected).
    pub fn select_next(&mut self, rows: &[Row]) {
        let next = self.selected_index(rows).map_or(0, |i| (i + 1).min(rows.len().saturating_sub(1)));
        self.select_row(rows, next);
    }

    /// Up arrow: the previous row (the last when none is selected).
    pub fn select_previous(&mut self, rows: &[Row]) {
        let previous = self.selected_index(rows).map_or(rows.len().saturating_sub(1), |i| i.saturating_sub(1));
        self.select_row(rows, previous);
    }

    /// Right arrow: expands the selection, or when already expanded moves to its first child.
    pub fn expand_selected(&mut self, rows: &[Row]) {
        let Some(i) = self.selected_index(rows) else { return };
        let row = rows[i];
        if !row.has_children {
            return;
        }
        if row.expanded {
            if rows.get(i + 1).is_some_and(|r| r.depth > row.depth && !r.pinned) {
                self.select_row(rows, i + 1);
            }
        } else {
            self.set_expanded(row.id, true);
        }
    }

    /// Left arrow: collapses the selection, or when collapsed moves to its parent.
    pub fn collapse_selected(&mut self, tree: &TopicTree, rows: &[Row]) {
        let Some(i) = self.selected_index(rows) else { return };
        if rows[i].expanded && self.is_expanded(rows[i].id) {
            self.set_expanded(rows[i].id, false);
        } else {
            self.select_parent(tree, rows);
        }
    }

    /// Moves the selection to its parent's row (in the tree part, not among the pins).
    pub fn select_parent(&mut self, tree: &TopicTree, rows: &[Row]) {
        let Some(parent) = self.selected.and_then(|id| tree.node(id)).and_then(|n| n.parent()) else { return };
        if let Some(i) = rows.iter().position(|r| r.id == parent && !r.pinned) {
            self.select_row(rows, i);
        }
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Shows the nodes whose topic or value preview contains `text` (any case), with their
    /// ancestors expanded; "" shows all.
    pub fn set_filter(&mut self, text: &str) {
        if self.filter != text {
            text.clone_into(&mut self.filter);
            self.changed();
        }
    }

    pub fn only_retained(&self) -> bool {
        self.only_retained
    }

    /// Shows only topics holding a retained message, with their ancestors.
    pub fn set_only_retained(&mut self, on: bool) {
        if self.only_retained != on {
            self.only_retained = on;
            self.changed();
        }
    }

    pub fn sort(&self) -> SortBy {
        self.sort
    }

    pub fn set_sort(&mut self, sort: SortBy) {
        if self.sort != sort {
            self.sort = sort;
            self.changed();
        }
    }

    /// Pinned topics, shown in this order above the tree (kept as topics: they outlive a tree).
    pub fn pinned(&self) -> &[String] {
        &self.pinned
    }

    pub fn is_pinned(&self, topic: &str) -> bool {
        self.pinned.iter().any(|p| p == topic)
    }

    pub fn pin(&mut self, topic: &str) {
        if !self.is_pinned(topic) {
            self.pinned.push(topic.to_owned());
            self.changed();
        }
    }

    pub fn unpin(&mut self, topic: &str) {
        let before = self.pinned.len();
        self.pinned.retain(|p| p != topic);
        if self.pinned.len() != before {
            self.changed();
        }
    }
}
