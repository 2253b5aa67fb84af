//! Rows under a view: expansion, the `$` branch, filter with ancestors, "only retained", pins,
//! sorts, the rebuild throttle, staleness and keyboard navigation.

use super::tests::{id, retained, seen, t};
use super::{Row, SortBy, TopicTree, TreeView};

/// The rows as `depth:name` (pins as `pin:topic`), the way a panel would draw them.
fn shown(tree: &mut TopicTree, view: &TreeView, at: u64) -> Vec<String> {
    let rows: Vec<Row> = tree.rows(view, t(at)).to_vec();
    rows.iter()
        .map(|r| {
            let node = tree.node(r.id).unwrap();
            if r.pinned { format!("pin:{}", node.topic()) } else { format!("{}:{}", r.depth, node.name()) }
        })
        .collect()
}

fn sample() -> TopicTree {
    let mut tree = TopicTree::new();
    tree.record(seen("$SYS/broker/uptime", b"12", t(0)));
    tree.record(seen("site/dev10/temp", b"21.5", t(1)));
    tree.record(retained("site/dev2/temp", b"19.0", t(2)));
    tree.record(seen("site/dev2/state", b"Online", t(3)));
    tree.record(seen("lab/lamp", b"off", t(4)));
    tree
}

#[test]
fn rows_follow_expansion_with_the_dollar_branch_last_and_collapsed() {
    let mut tree = sample();
    let mut view = TreeView::new();
    assert_eq!(shown(&mut tree, &view, 0), ["0:lab", "0:site", "0:$ topics"]);
    view.set_expanded(id(&tree, "site"), true);
    assert_eq!(
        shown(&mut tree, &view, 0),
        ["0:lab", "0:site", "1:dev2", "1:dev10", "0:$ topics"],
        "names sort naturally"
    );
    view.set_expanded(id(&tree, "site/dev2"), true);
    let rows = tree.rows(&view, t(0)).to_vec();
    assert_eq!((rows[2].has_children, rows[2].expanded, rows[3].has_children), (true, true, false));
    assert_eq!(shown(&mut tree, &view, 0)[3..5], ["2:state", "2:temp"]);
    view.reveal(&tree, id(&tree, "$SYS/broker/uptime"));
    assert_eq!(shown(&mut tree, &view, 0)[6..], ["0:$ topics", "1:$SYS", "2:broker", "3:uptime"]);
}

#[test]
fn the_filter_shows_matches_by_topic_or_value_with_their_ancestors() {
    let mut tree = sample();
    let mut view = TreeView::new();
    view.set_filter("TEMP");
    assert_eq!(shown(&mut tree, &view, 0), ["0:site", "1:dev2", "2:temp", "1:dev10", "2:temp"]);
    view.set_filter("online");
    assert_eq!(shown(&mut tree, &view, 0), ["0:site", "1:dev2", "2:state"], "the value matches, any case");
    view.set_filter("uptime");
    assert_eq!(shown(&mut tree, &view, 0), ["0:$ topics", "1:$SYS", "2:broker", "3:uptime"]);
    view.set_filter("nothing");
    assert!(shown(&mut tree, &view, 0).is_empty());
    view.set_filter("");
    assert_eq!(shown(&mut tree, &view, 0).len(), 3);
}

#[test]
fn only_retained_keeps_retained_topics_and_their_ancestors() {
    let mut tree = sample();
    let mut view = TreeView::new();
    view.set_only_retained(true);
    view.set_expanded(id(&tree, "site"), true);
    view.set_expanded(id(&tree, "site/dev2"), true);
    assert_eq!(shown(&mut tree, &view, 0), ["0:site", "1:dev2", "2:temp"]);
    tree.record(retained("site/dev2/temp", b"", t(300)));
    assert_eq!(shown(&mut tree, &view, 300), Vec::<String>::new(), "deleted: the branch goes after the throttle");
}

#[test]
fn pins_come_first_and_sorts_order_siblings() {
    let mut tree = TopicTree::new();
    for i in 0..100u64 {
        tree.record(seen("busy", b"1", t(i * 10)));
    }
    tree.record(seen("quiet", b"1", t(1000)));
    tree.record(seen("changed", b"1", t(1001)));
    tree.record(seen("busy", b"1", t(1002)));
    let mut view = TreeView::new();
    assert_eq!(shown(&mut tree, &view, 1002), ["0:busy", "0:changed", "0:quiet"]);
    view.set_sort(SortBy::Rate);
    assert_eq!(shown(&mut tree, &view, 1002)[0], "0:busy");
    view.set_sort(SortBy::LastChange);
    assert_eq!(shown(&mut tree, &view, 1002), ["0:changed", "0:quiet", "0:busy"], "busy repeats its value");
    view.pin("quiet");
    view.pin("missing/topic");
    assert_eq!(shown(&mut tree, &view, 1002), ["pin:quiet", "0:changed", "0:quiet", "0:busy"]);
    assert!(tree.rows(&view, t(1002))[0].pinned);
    view.unpin("quiet");
    assert_eq!(shown(&mut tree, &view, 1002).len(), 3);
}

#[test]
fn new_topics_show_at_most_every_250_ms_and_view_changes_at_once() {
    let mut tree = sample();
    let mut view = TreeView::new();
    assert_eq!(shown(&mut tree, &view, 1000).len(), 3);
    tree.record(seen("new", b"1", t(1100)));
    assert_eq!(shown(&mut tree, &view, 1100).len(), 3, "within 250 ms of the last build");
    assert_eq!(shown(&mut tree, &view, 1250).len(), 4);
    tree.record(seen("newer", b"1", t(1300)));
    view.set_expanded(id(&tree, "lab"), true);
    assert_eq!(
        shown(&mut tree, &view, 1300),
        ["0:lab", "1:lamp", "0:new", "0:newer", "0:site", "0:$ topics"],
        "a view change rebuilds at once, new names merged in order"
    );
    tree.record(seen("lab/lamp", b"on", t(1400)));
    let before = tree.rows(&view, t(1700)).as_ptr();
    assert_eq!(before, tree.rows(&view, t(2000)).as_ptr(), "values under a name sort keep the rows");
}

#[test]
fn a_topic_goes_stale_after_three_usual_intervals() {
    let mut tree = TopicTree::new();
    for i in 0..5 {
        tree.record(seen("beat", b"1", t(i * 2000)));
    }
    tree.record(seen("once", b"1", t(0)));
    let beat = tree.node(id(&tree, "beat")).unwrap();
    assert!(!beat.is_stale(t(8000 + 6900)), "3 x 2 s + 1 s not passed yet");
    assert!(beat.is_stale(t(8000 + 7100)));
    assert!(!tree.node(id(&tree, "once")).unwrap().is_stale(t(1_000_000)), "no usual interval yet");
    let mut young = TopicTree::new();
    for i in 0..3 {
        young.record(seen("beat", b"1", t(i * 2000)));
    }
    assert!(!young.node(id(&young, "beat")).unwrap().is_stale(t(100_000)), "two intervals are not a habit");
}

#[test]
fn the_keyboard_walks_the_visible_rows() {
    let mut tree = sample();
    let mut view = TreeView::new();
    let rows = tree.rows(&view, t(0)).to_vec();
    view.select_next(&rows);
    assert_eq!(view.selected(), Some(id(&tree, "lab")));
    view.select_next(&rows);
    view.expand_selected(&rows);
    assert!(view.is_expanded(id(&tree, "site")), "right expands");
    let rows = tree.rows(&view, t(0)).to_vec();
    view.expand_selected(&rows);
    assert_eq!(view.selected(), Some(id(&tree, "site/dev2")), "right again enters the first child");
    view.select_next(&rows);
    assert_eq!(view.selected(), Some(id(&tree, "site/dev10")));
    view.collapse_selected(&tree, &rows);
    assert_eq!(view.selected(), Some(id(&tree, "site")), "left on a collapsed row goes to the parent");
    view.collapse_selected(&tree, &rows);
    assert!(!view.is_expanded(id(&tree, "site")), "left collapses");
    let rows = tree.rows(&view, t(0)).to_vec();
    view.select_next(&rows);
    view.select_next(&rows);
    assert_eq!(view.selected(), Some(tree.node(id(&tree, "$SYS")).unwrap().parent().unwrap()), "stops at the last row");
    view.select_previous(&rows);
    view.select_previous(&rows);
    view.select_previous(&rows);
    assert_eq!(view.selected(), Some(id(&tree, "lab")), "stops at the first row");
    view.pin("lab/lamp");
    view.set_expanded(id(&tree, "lab"), true);
    let rows = tree.rows(&view, t(0)).to_vec();
    view.select_row(&rows, 2);
    assert_eq!(view.selected(), Some(id(&tree, "lab/lamp")));
    view.select_next(&rows);
    assert_eq!(view.selected_index(&rows), Some(3), "the tree row of a pinned topic moves on, not back to the pin");
}
