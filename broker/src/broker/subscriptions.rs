//! Subscriptions as a tree of topic levels, so that routing a PUBLISH walks its levels
//! instead of testing every filter.

use std::sync::Arc;

use super::FastMap as HashMap;

use crate::codec::QoS;

/// The subscribers of each filter.
#[derive(Debug, Default)]
pub struct SubscriptionTree {
    root: Node,
    count: usize,
}

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    /// Subscribers whose filter ends at this level.
    here: HashMap<Arc<str>, QoS>,
    /// Subscribers whose filter ends with `#` after this level.
    multi: HashMap<Arc<str>, QoS>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.here.is_empty() && self.multi.is_empty()
    }
}

impl SubscriptionTree {
    /// Adds or replaces a subscription; true if it replaced one.
    pub fn insert(&mut self, filter: &str, client: &Arc<str>, qos: QoS) -> bool {
        let mut node = &mut self.root;
        let mut levels = filter.split('/').peekable();
        let mut set = None;
        while let Some(level) = levels.next() {
            if level == "#" && levels.peek().is_none() {
                set = Some(&mut node.multi);
                break;
            }
            node = node.children.entry(level.into()).or_default();
        }
        let set = set.unwrap_or(&mut node.here);
        let replaced = set.insert(client.clone(), qos).is_some();
        if !replaced {
            self.count += 1;
        }
        replaced
    }

    /// Removes a subscription; true if there was one.
    pub fn remove(&mut self, filter: &str, client: &str) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        let removed = remove_in(&mut self.root, &levels, client);
        if removed {
            self.count -= 1;
        }
        removed
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Every client with a filter matching `topic`, at the highest QoS among its matching
    /// filters [MQTT-3.3.5-1].
    pub fn matches(&self, topic: &str, out: &mut HashMap<Arc<str>, QoS>) {
        // Wildcards at the first level do not match `$` topics [MQTT-4.7.2-1].
        let system = topic.starts_with('$');
        collect(&self.root, Some(topic), !system, out);
    }
}

fn merge(out: &mut HashMap<Arc<str>, QoS>, from: &HashMap<Arc<str>, QoS>) {
    for (client, qos) in from {
        let e = out.entry(client.clone()).or_insert(*qos);
        *e = (*e).max(*qos);
    }
}

/// `rest`: the topic levels not yet matched, `None` past the last one (no allocation per
/// PUBLISH for a list of levels).
fn collect(node: &Node, rest: Option<&str>, wildcards: bool, out: &mut HashMap<Arc<str>, QoS>) {
    if wildcards {
        // `a/#` matches `a` itself and everything below it.
        merge(out, &node.multi);
    }
    let Some(rest) = rest else {
        merge(out, &node.here);
        return;
    };
    let (first, after) = match rest.split_once('/') {
        Some((first, after)) => (first, Some(after)),
        None => (rest, None),
    };
    if let Some(child) = node.children.get(first) {
        collect(child, after, true, out);
    }
    if wildcards && let Some(child) = node.children.get("+") {
        collect(child, after, true, out);
    }
}

fn remove_in(node: &mut Node, levels: &[&str], client: &str) -> bool {
    match levels {
        ["#"] => node.multi.remove(client).is_some(),
        [] => node.here.remove(client).is_some(),
        [first, rest @ ..] => {
            let Some(child) = node.children.get_mut(*first) else { return false };
            let removed = remove_in(child, rest, client);
            if child.is_empty() {
                node.children.remove(*first);
            }
            removed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::matches as filter_matches;

    fn ids(tree: &SubscriptionTree, topic: &str) -> Vec<(String, QoS)> {
        let mut out = HashMap::default();
        tree.matches(topic, &mut out);
        let mut v: Vec<_> = out.into_iter().map(|(c, q)| (c.to_string(), q)).collect();
        v.sort();
        v
    }

    #[test]
    fn overlapping_filters_give_one_entry_at_the_highest_qos() {
        let mut t = SubscriptionTree::default();
        let a: Arc<str> = "a".into();
        t.insert("PV/#", &a, QoS::AtMostOnce);
        t.insert("PV/data", &a, QoS::ExactlyOnce);
        t.insert("+/data", &a, QoS::AtLeastOnce);
        assert_eq!(ids(&t, "PV/data"), [("a".into(), QoS::ExactlyOnce)]);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn removal_prunes_and_counts() {
        let mut t = SubscriptionTree::default();
        let a: Arc<str> = "a".into();
        assert!(!t.insert("x/y/z", &a, QoS::AtMostOnce));
        assert!(t.insert("x/y/z", &a, QoS::AtLeastOnce), "same filter replaces");
        assert!(t.remove("x/y/z", "a"));
        assert!(!t.remove("x/y/z", "a"));
        assert_eq!(t.len(), 0);
        assert!(t.root.is_empty(), "empty branches are pruned");
    }

    #[test]
    fn the_tree_agrees_with_the_filter_matching_rule() {
        let filters =
            ["#", "+", "+/+", "a/#", "a/+", "a/b", "a/+/c", "+/b/#", "$SYS/#", "$SYS/+", "/+", "a//c", "+/+/+"];
        let topics = ["a", "a/b", "a/b/c", "a//c", "/a", "b/b/x", "$SYS/x", "$SYS", "a/b/c/d"];
        let mut t = SubscriptionTree::default();
        for f in filters {
            t.insert(f, &Arc::from(f), QoS::AtMostOnce);
        }
        for topic in topics {
            let mut expected: Vec<String> =
                filters.iter().filter(|f| filter_matches(f, topic)).map(|f| (*f).to_owned()).collect();
            expected.sort();
            let got: Vec<String> = ids(&t, topic).into_iter().map(|(c, _)| c).collect();
            assert_eq!(got, expected, "topic {topic}");
        }
    }
}
