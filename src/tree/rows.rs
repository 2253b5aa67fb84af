//! The visible rows of a tree under a view, flattened once and cached: the panel asks every
//! frame and draws only the rows on screen. The cache is rebuilt
//! - at once when the view changed (expansion, filter, sort, pins, "only retained");
//! - when nodes were created, or (under a rate or last-change sort, a filter or "only retained")
//!   when values moved, at most every [`REBUILD_EVERY_MS`] milliseconds.
//!
//! A rebuild walks only the visible rows (sorting each expanded node's children), except under a
//! filter, which tests every node once (O(nodes), a few milliseconds for 200,000 nodes).

use std::cmp::Ordering;
use std::time::SystemTime;

use super::node::{NONE, decay, millis};
use super::view::{SortBy, TreeView};
use super::{NodeId, TopicTree};

/// Rows are rebuilt for new data at most this often.
pub const REBUILD_EVERY_MS: i64 = 250;

/// One visible row: 12 bytes, read by the panel for the rows on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub id: NodeId,
    /// Indentation level: 0 for top-level rows and pins.
    pub depth: u16,
    pub has_children: bool,
    /// Whether its children follow (always, under a filter, for ancestors of matches).
    pub expanded: bool,
    /// A row of the pinned section above the tree (show the full topic there).
    pub pinned: bool,
}

/// Filter marks: the node matches / something below it matches.
const MATCH: u8 = 1;
const BELOW: u8 = 2;

#[derive(Debug, Default)]
pub(crate) struct RowCache {
    rows: Vec<Row>,
    /// `(view id, view revision)` the rows were built for.
    view: Option<(u64, u64)>,
    structure_gen: u64,
    data_gen: u64,
    built_at: i64,
    /// Per node: `MATCH | BELOW` under the filter the rows were built with.
    marks: Vec<u8>,
    /// DFS stack of node ids, kept between rebuilds.
    stack: Vec<u32>,
    children: Vec<u32>,
}

impl RowCache {
    pub fn memory_bytes(&self) -> usize {
        self.rows.capacity() * size_of::<Row>()
            + self.marks.capacity()
            + (self.stack.capacity() + self.children.capacity()) * 4
    }
}

/// `a` contains `needle_lower` (already lower case), ignoring case, without allocating for
/// ASCII text.
fn contains_folded(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if !haystack.is_ascii() || !needle_lower.is_ascii() {
        return haystack.to_lowercase().contains(needle_lower);
    }
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    h.len() >= n.len() && h.windows(n.len()).any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// Names with their digit runs compared as numbers: `dev2` < `dev10`, then plain order.
pub(crate) fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&p), Some(&q)) = (x.first(), y.first()) {
        if p.is_ascii_digit() && q.is_ascii_digit() {
            let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
            let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
            let (nx, ny) = (trim_zeros(&x[..dx]), trim_zeros(&y[..dy]));
            let order = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
            if order != Ordering::Equal {
                return order;
            }
            (x, y) = (&x[dx..], &y[dy..]);
        } else {
            if p != q {
                return p.cmp(&q);
            }
            (x, y) = (&x[1..], &y[1..]);
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|c| **c == b'0').count();
    &digits[zeros.min(digits.len().saturating_sub(1))..]
}

impl TopicTree {
    /// The visible rows under `view` as of `now` (pins first, then the tree; the `$` branch
    /// last among the top-level rows), from the cache unless it is out of date.
    pub fn rows(&mut self, view: &TreeView, now: SystemTime) -> &[Row] {
        let now = millis(now);
        let cache = &self.cache;
        let view_changed = cache.view != Some((view.id, view.revision));
        let data_matters = view.sort() != SortBy::Name || !view.filter().is_empty() || view.only_retained();
        let stale = cache.structure_gen != self.structure_gen || (data_matters && cache.data_gen != self.data_gen);
        let due = now >= cache.built_at + REBUILD_EVERY_MS || now < cache.built_at;
        if view_changed || (stale && due) {
            self.rebuild(view, now);
        }
        &self.cache.rows
    }

    fn rebuild(&mut self, view: &TreeView, now: i64) {
        let mut cache = std::mem::take(&mut self.cache);
        cache.rows.clear();
        let filtering = !view.filter().is_empty();
        if filtering {
            self.mark(&view.filter().to_lowercase(), &mut cache.marks);
        }
        for topic in view.pinned() {
            if let Some(id) = self.find(topic) {
                cache.rows.push(Row { id, depth: 0, has_children: false, expanded: false, pinned: true });
            }
        }
        let visible = |tree: &Self, marks: &[u8], n: u32| {
            (!filtering || marks[n as usize] != 0)
                && (!view.only_retained() || tree.nodes[n as usize].retained_under > 0)
        };
        // Top-level rows, the `$` branch kept for last (pushed first: the stack pops it last).
        cache.stack.clear();
        if self.dollar != NONE && visible(self, &cache.marks, self.dollar) {
            cache.stack.push(self.dollar);
        }
        self.push_children(0, view, now, &mut cache, visible);
        while let Some(n) = cache.stack.pop() {
            let node = &self.nodes[n as usize];
            let has_children = node.first_child != NONE;
            let expanded = has_children
                && if filtering { cache.marks[n as usize] & BELOW != 0 } else { view.is_expanded(NodeId(n)) };
            cache.rows.push(Row { id: NodeId(n), depth: node.depth, has_children, expanded, pinned: false });
            if expanded {
                self.push_children(n, view, now, &mut cache, visible);
            }
        }
        cache.view = Some((view.id, view.revision));
        cache.structure_gen = self.structure_gen;
        cache.data_gen = self.data_gen;
        cache.built_at = now;
        self.cache = cache;
    }

    /// Pushes the visible children of `n` (the `$` branch excluded) in reverse order of `view`'s
    /// sort, so the stack pops them in order.
    fn push_children(
        &self,
        n: u32,
        view: &TreeView,
        now: i64,
        cache: &mut RowCache,
        visible: impl Fn(&Self, &[u8], u32) -> bool,
    ) {
        cache.children.clear();
        let mut child = self.nodes[n as usize].first_child;
        while child != NONE {
            if child != self.dollar && visible(self, &cache.marks, child) {
                cache.children.push(child);
            }
            child = self.nodes[child as usize].next_sibling;
        }
        let nodes = &self.nodes;
        let by_name = |a: &u32, b: &u32| natural(nodes[*a as usize].name(), nodes[*b as usize].name());
        match view.sort() {
            SortBy::Name => cache.children.sort_unstable_by(by_name),
            SortBy::Rate => {
                let rate = |n: &u32| decay(nodes[*n as usize].sub_rate, nodes[*n as usize].sub_last_received, now);
                cache.children.sort_by(|a, b| rate(b).total_cmp(&rate(a)).then_with(|| by_name(a, b)));
            }
            SortBy::LastChange => cache.children.sort_by(|a, b| {
                let (x, y) = (&nodes[*a as usize], &nodes[*b as usize]);
                y.sub_last_change.cmp(&x.sub_last_change).then_with(|| by_name(a, b))
            }),
        }
        cache.stack.extend(cache.children.iter().rev());
    }

    /// Marks every node whose topic or value preview contains `needle` (lower case) and every
    /// ancestor of one, in one pass from the last node up (a child's id is above its parent's).
    fn mark(&self, needle: &str, marks: &mut Vec<u8>) {
        marks.clear();
        marks.resize(self.nodes.len(), 0);
        for n in (1..self.nodes.len()).rev() {
            let node = &self.nodes[n];
            let preview = self.stats.get(node.stats as usize).map_or("", |s| &s.preview);
            if n as u32 != self.dollar && (contains_folded(&node.topic, needle) || contains_folded(preview, needle)) {
                marks[n] |= MATCH;
            }
            if marks[n] != 0 && node.parent != NONE {
                marks[node.parent as usize] |= BELOW;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{contains_folded, natural};
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn names_sort_naturally_and_filters_ignore_case() {
        assert_eq!(natural("dev2", "dev10"), Less);
        assert_eq!(natural("dev10", "dev9"), Greater);
        assert_eq!(natural("b007", "b7"), Less, "equal numbers fall back to plain order");
        assert_eq!(natural("a", "a"), Equal);
        assert_eq!(natural("", "a"), Less);
        assert_eq!(natural("floor", "Floor"), Greater);
        assert!(contains_folded("Site/Hall/TEMP", "hall/t"));
        assert!(!contains_folded("site/hall", "kitchen"));
        assert!(contains_folded("Küche/Licht", "küche"));
        assert!(contains_folded("anything", ""));
    }
}
