//! The tree's behaviour as a panel sees it: counts, values, retained flags, the `$` branch and
//! odd topics (this file); rows, filters, sorts, pins, staleness and the keyboard (`tests_view`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::node::preview;
use super::{DOLLAR_BRANCH, NodeId, Seen, Summary, TopicTree};

/// A time `ms` milliseconds into the test's day.
pub(super) fn t(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
}

pub(super) fn seen<'a>(topic: &'a str, payload: &'a [u8], at: SystemTime) -> Seen<'a> {
    Seen { topic, payload, qos: 0, retain: false, at }
}

pub(super) fn retained<'a>(topic: &'a str, payload: &'a [u8], at: SystemTime) -> Seen<'a> {
    Seen { topic, payload, qos: 1, retain: true, at }
}

pub(super) fn id(tree: &TopicTree, topic: &str) -> NodeId {
    tree.find(topic).unwrap_or_else(|| panic!("{topic} is in the tree"))
}

#[test]
fn a_scripted_burst_gives_counts_and_last_values() {
    let mut tree = TopicTree::new();
    for i in 0..30u64 {
        let value = format!("{}", 20 + i % 3);
        tree.record(Seen { qos: (i % 3) as u8, ..seen("home/hall/temp", value.as_bytes(), t(i * 100)) });
        if i % 2 == 0 {
            tree.record(seen("home/hall/lamp", b"on", t(i * 100 + 1)));
        }
        if i % 5 == 0 {
            tree.record(seen("home/kitchen/temp", format!("{i}").as_bytes(), t(i * 100 + 2)));
        }
    }
    let temp = tree.node(id(&tree, "home/hall/temp")).unwrap();
    assert_eq!((temp.count(), temp.subtree_count(), temp.preview(), temp.qos()), (30, 30, "22", Some(2)));
    assert_eq!(temp.last_received(), Some(t(2900)));
    assert_eq!(temp.last_change(), Some(t(2900)), "22 follows 21: a change");
    let lamp = tree.node(id(&tree, "home/hall/lamp")).unwrap();
    assert_eq!((lamp.count(), lamp.preview()), (15, "on"));
    assert_eq!(lamp.last_change(), Some(t(1)), "the same payload again is no change");
    assert_eq!(lamp.last_received(), Some(t(2801)));
    let hall = tree.node(id(&tree, "home/hall")).unwrap();
    assert_eq!((hall.count(), hall.subtree_count(), hall.has_messages()), (0, 45, false));
    assert_eq!(tree.node(id(&tree, "home")).unwrap().subtree_count(), 51);
    assert_eq!(tree.node(id(&tree, "home/kitchen/temp")).unwrap().preview(), "25");
    assert_eq!((tree.len(), tree.node_count(), tree.message_count()), (3, 6, 51));
    assert_eq!(tree.topic_of(id(&tree, "home/kitchen/temp")), "home/kitchen/temp");
    assert_eq!(tree.subtree_filter(id(&tree, "home/hall")).as_deref(), Some("home/hall/#"));
    assert_eq!(tree.node(id(&tree, "home/hall")).unwrap().name(), "hall");
    let children: Vec<_> = hall.children().map(|c| tree.topic_of(c)).collect();
    assert_eq!(children, ["home/hall/temp", "home/hall/lamp"]);
    assert!(tree.find("home/garage").is_none());
}

#[test]
fn retained_messages_are_stored_and_deleted_as_the_broker_does() {
    let mut tree = TopicTree::new();
    tree.record(retained("plant/a/config", b"{\"on\":1}", t(0)));
    tree.record(retained("plant/b/config", b"x", t(1)));
    tree.record(retained("plant/b/state", b"up", t(2)));
    tree.record(seen("plant/c/state", b"up", t(3)));
    let plant = id(&tree, "plant");
    assert_eq!((tree.node(plant).unwrap().retained_under(), tree.retained_count()), (3, 3));
    assert_eq!(tree.retained_topics_under(plant), ["plant/a/config", "plant/b/config", "plant/b/state"]);
    tree.record(seen("plant/b/config", b"live", t(4)));
    assert!(tree.node(id(&tree, "plant/b/config")).unwrap().retained(), "a live message keeps the stored one");
    tree.record(retained("plant/b/config", b"", t(5)));
    let config = tree.node(id(&tree, "plant/b/config")).unwrap();
    assert!(!config.retained(), "an empty retained message deletes it");
    assert_eq!(config.count(), 3, "the deletion is a message too");
    assert_eq!(tree.retained_topics_under(id(&tree, "plant/b")), ["plant/b/state"]);
    assert_eq!(tree.node(plant).unwrap().retained_under(), 2);
    tree.record(retained("plant/b/config", b"again", t(6)));
    assert_eq!(tree.retained_count(), 3);
    assert!(!tree.node(id(&tree, "plant/c/state")).unwrap().retained());
}

#[test]
fn dollar_topics_live_in_their_own_branch_and_odd_levels_are_kept() {
    let mut tree = TopicTree::new();
    tree.record(seen("$SYS/broker/uptime", b"12 seconds", t(0)));
    tree.record(seen("$SYS/broker/clients/connected", b"3", t(1)));
    tree.record(seen("a//b", b"1", t(2)));
    tree.record(seen("/x", b"2", t(3)));
    tree.record(seen("a/", b"3", t(4)));
    let sys = tree.node(id(&tree, "$SYS")).unwrap();
    let branch = tree.node(sys.parent().expect("under the $ branch")).unwrap();
    assert!(branch.is_dollar_branch());
    assert_eq!((branch.name(), branch.topic(), branch.parent()), (DOLLAR_BRANCH, "", None));
    assert_eq!(branch.subtree_count(), 2);
    assert_eq!(tree.subtree_filter(branch.id()), None, "no single filter covers every $ topic");
    assert_eq!(tree.subtree_filter(sys.id()).as_deref(), Some("$SYS/#"));
    let empty = tree.node(id(&tree, "a/")).unwrap();
    assert_eq!((empty.name(), empty.preview(), empty.subtree_count()), ("", "3", 2), "a/ holds a//b below it");
    assert_eq!(tree.node(id(&tree, "a//b")).unwrap().parent(), Some(empty.id()));
    let root_level = tree.node(id(&tree, "")).unwrap();
    assert_eq!((root_level.name(), root_level.parent()), ("", None), "/x starts with an empty level");
    assert_eq!(tree.topic_of(id(&tree, "/x")), "/x");
    assert_eq!(tree.len(), 5);
}

#[test]
fn history_seeds_counts_without_hiding_newer_live_values() {
    let mut tree = TopicTree::new();
    tree.record(seen("pv/power", b"4.2", t(10_000)));
    let summary = |topic: &str, payload: &[u8], at, retain| Summary {
        topic: topic.into(),
        count: 500,
        last_payload: payload.to_vec(),
        last_at: at,
        last_retain: retain,
        last_qos: 1,
    };
    tree.seed(&summary("pv/power", b"3.9", t(5_000), true));
    tree.seed(&summary("pv/mode", b"auto", t(6_000), true));
    tree.seed(&summary("pv/old", b"", t(7_000), true));
    let power = tree.node(id(&tree, "pv/power")).unwrap();
    assert_eq!(
        (power.count(), power.preview(), power.qos()),
        (501, "4.2", Some(0)),
        "older history keeps the live value"
    );
    assert!(!power.retained(), "the older retained row does not override the live state");
    let mode = tree.node(id(&tree, "pv/mode")).unwrap();
    assert_eq!(
        (mode.preview(), mode.last_received(), mode.retained(), mode.qos()),
        ("auto", Some(t(6_000)), true, Some(1))
    );
    assert!(!tree.node(id(&tree, "pv/old")).unwrap().retained(), "an empty retained payload stores nothing");
    assert_eq!(tree.node(id(&tree, "pv")).unwrap().subtree_count(), 1501);
    assert!(mode.rate(t(6_000)).abs() < f32::EPSILON, "history adds no rate");
    tree.record(seen("pv/mode", b"auto", t(3_600_000)));
    assert_eq!(tree.node(id(&tree, "pv/mode")).unwrap().usual_interval(), None, "the gap since history is no interval");
}

#[test]
fn rates_follow_the_traffic_and_decay() {
    let mut tree = TopicTree::new();
    for i in 0..600u64 {
        tree.record(seen("fast", b"1", t(i * 100)));
        if i % 10 == 0 {
            tree.record(seen("slow", b"1", t(i * 100)));
        }
    }
    let (fast, slow) = (tree.node(id(&tree, "fast")).unwrap(), tree.node(id(&tree, "slow")).unwrap());
    let now = t(59_900);
    assert!((fast.rate(now) - 10.0).abs() < 0.6, "10 msg/s: {}", fast.rate(now));
    assert!((slow.rate(now) - 1.0).abs() < 0.2, "1 msg/s: {}", slow.rate(now));
    assert!(fast.rate(t(119_900)) < 0.03, "a quiet minute later: {}", fast.rate(t(119_900)));
    let usual = fast.usual_interval().expect("600 intervals seen");
    assert!(usual.abs_diff(Duration::from_millis(100)) < Duration::from_micros(10), "{usual:?}");
}

#[test]
fn previews_are_one_short_line() {
    assert_eq!(&*preview(b"  21.5\n"), "21.5");
    assert_eq!(&*preview(b"a\nb\tc"), "a b c");
    let long = "é".repeat(100);
    let cut = preview(long.as_bytes());
    assert_eq!(cut.chars().count(), super::PREVIEW_CHARS + 1);
    assert!(cut.ends_with('…'));
    assert_eq!(&*preview(&[0xff, 0x00, 0x10]), "0xff0010");
    assert!(preview(&[0xffu8; 100]).ends_with('…'));
}

#[test]
fn memory_grows_with_topics() {
    let mut tree = TopicTree::new();
    let empty = tree.memory_bytes();
    for i in 0..1000 {
        tree.record(seen(&format!("site/dev{i}/temp"), b"21.5", t(i)));
    }
    let full = tree.memory_bytes();
    assert!(full > empty + 1000 * 100, "{empty} -> {full}");
    assert!(full < 1000 * 1000, "{full} bytes for 1000 topics");
}

#[test]
fn a_forgotten_retained_message_leaves_the_counts_and_the_value() {
    let mut tree = TopicTree::new();
    let at = std::time::SystemTime::now();
    for (topic, retain) in [("a/x", true), ("a/y", true), ("a/z", false)] {
        tree.record(Seen { topic, payload: b"1", qos: 1, retain, at });
    }
    let a = tree.find("a").unwrap();
    assert_eq!(tree.node(a).unwrap().retained_under(), 2);
    tree.forget_retained("a/x");
    tree.forget_retained("a/x");
    tree.forget_retained("a/z");
    tree.forget_retained("nowhere");
    let x = tree.node(tree.find("a/x").unwrap()).unwrap();
    assert_eq!((x.retained(), x.count(), x.preview()), (false, 1, "1"));
    assert_eq!((tree.node(a).unwrap().retained_under(), tree.retained_count()), (1, 1));
}
