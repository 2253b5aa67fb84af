//! The tree's two ways of matching a topic: the one set of subscribers routing uses when one
//! filter matches, and the merge it falls back to when several do.

use super::*;

fn tree(subs: &[(&str, &str)]) -> SubscriptionTree {
    let mut t = SubscriptionTree::default();
    for (client, filter) in subs {
        t.insert(filter, &Arc::from(*client), QoS::AtLeastOnce);
    }
    t
}

fn clients(set: &Subscribers) -> Vec<&str> {
    let mut v: Vec<&str> = set.keys().map(|c| &**c).collect();
    v.sort_unstable();
    v
}

#[test]
fn one_filter_gives_its_set_and_several_say_so() {
    let t = tree(&[("a", "PV/data"), ("b", "PV/data"), ("c", "PV/+"), ("d", "lamp/#")]);
    let one = t.only_set("PV/data").map(|s| s.map(clients));
    assert_eq!(one, Err(Several), "PV/data and PV/+ both match");
    assert_eq!(t.only_set("PV/sunshine").map(|s| s.map(clients)), Ok(Some(vec!["c"])));
    assert_eq!(t.only_set("lamp").map(|s| s.map(clients)), Ok(Some(vec!["d"])), "`lamp/#` matches `lamp`");
    assert_eq!(t.only_set("lamp/pwm/set").map(|s| s.map(clients)), Ok(Some(vec!["d"])));
    assert_eq!(t.only_set("other").map(|s| s.map(clients)), Ok(None));
}

#[test]
fn wildcards_at_the_first_level_do_not_reach_dollar_topics() {
    let t = tree(&[("a", "#"), ("b", "+/uptime")]);
    assert_eq!(t.only_set("$SYS/uptime").map(|s| s.map(clients)), Ok(None), "[MQTT-4.7.2-1]");
    let t = tree(&[("a", "#"), ("s", "$SYS/#")]);
    assert_eq!(t.only_set("$SYS/uptime").map(|s| s.map(clients)), Ok(Some(vec!["s"])));
}

#[test]
fn a_filter_whose_clients_all_left_does_not_count() {
    let mut t = tree(&[("a", "PV/data"), ("b", "PV/+")]);
    assert_eq!(t.only_set("PV/data").map(|s| s.map(clients)), Err(Several));
    t.remove("PV/+", "b");
    assert_eq!(t.only_set("PV/data").map(|s| s.map(clients)), Ok(Some(vec!["a"])));
    t.remove("PV/data", "a");
    assert_eq!(t.only_set("PV/data").map(|s| s.map(clients)), Ok(None));
}

/// Wherever one filter matches, its set holds exactly the clients the merge finds.
#[test]
fn the_one_set_agrees_with_the_merge() {
    let filters = ["#", "a", "a/b", "a/+", "+/b", "a/#", "+/+", "a/b/c", "+", "$SYS/#", "a/+/c"];
    let topics = ["a", "b", "a/b", "a/c", "b/b", "a/b/c", "a/x/c", "$SYS/a", "x/y/z"];
    // Every pair of filters, each with its own client, and every filter alone.
    for (i, f) in filters.iter().enumerate() {
        for g in &filters[i..] {
            let t = tree(&[("one", f), ("two", g)]);
            for topic in topics {
                let mut merged = HashMap::default();
                t.matches(topic, None, &mut merged);
                let mut from_merge: Vec<&str> = merged.keys().map(|c| &**c).collect();
                from_merge.sort_unstable();
                match t.only_set(topic) {
                    Ok(Some(set)) => assert_eq!(clients(set), from_merge, "{f} {g} {topic}"),
                    Ok(None) => assert!(from_merge.is_empty(), "{f} {g} {topic}"),
                    Err(Several) => assert!(!from_merge.is_empty(), "{f} {g} {topic}"),
                }
            }
        }
    }
}

/// `+` levels sit apart from the named ones: they match any one level, at any depth, and a
/// tree whose `+` filters are all removed is empty again.
#[test]
fn plus_levels_match_one_level_anywhere_and_leave_no_trace() {
    let mut t = tree(&[("a", "+/sunshine"), ("b", "PV/+/kW"), ("c", "+/+"), ("d", "PV/sunshine")]);
    let mut matched = HashMap::default();
    t.matches("PV/sunshine", None, &mut matched);
    let mut got: Vec<&str> = matched.keys().map(|c| &**c).collect();
    got.sort_unstable();
    assert_eq!(got, ["a", "c", "d"]);
    assert_eq!(t.only_set("PV/data/kW").map(|s| s.map(clients)), Ok(Some(vec!["b"])));
    assert_eq!(t.only_set("PV/data/W").map(|s| s.map(clients)), Ok(None));
    for (client, filter) in [("a", "+/sunshine"), ("b", "PV/+/kW"), ("c", "+/+"), ("d", "PV/sunshine")] {
        assert!(t.remove(filter, client), "{filter}");
    }
    assert!(!t.remove("+/+", "c"), "removed once");
    assert!(t.root.is_empty(), "{:?}", t.root);
    assert_eq!(t.len(), 0);
}
