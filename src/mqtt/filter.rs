//! Topic filters as the subscribe form and the plot's series check them, and shared
//! subscriptions (`$share/{group}/{filter}`) explained.

use mqtt_lab_broker::codec::TopicFilter;

/// Why `filter` is not a valid topic filter (the codec's message names the spec rule).
pub fn validate_filter(filter: &str) -> Result<(), String> {
    TopicFilter::new(filter).map(drop).map_err(|e| e.to_string())
}

/// A `$share/{group}/{filter}` subscription split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFilter<'a> {
    pub group: &'a str,
    /// The filter messages are matched against.
    pub filter: &'a str,
}

impl SharedFilter<'_> {
    /// What a shared subscription does, in words.
    pub fn explain(&self) -> String {
        format!(
            "Shared subscription: the broker hands each message on {} to one member of group \"{}\" in turn, not to all of them.",
            self.filter, self.group
        )
    }
}

/// Whether a message on `topic` matches `filter`; a `$share/{group}/` filter matches as the
/// filter after its group (the codec's `matches` sees `$share` as a topic level).
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    let filter = shared_filter(filter).map_or(filter, |s| s.filter);
    mqtt_lab_broker::codec::matches(filter, topic)
}

/// The parts of a shared subscription, or `None` for an ordinary filter.
pub fn shared_filter(filter: &str) -> Option<SharedFilter<'_>> {
    let rest = filter.strip_prefix("$share/")?;
    let (group, filter) = rest.split_once('/')?;
    Some(SharedFilter { group, filter })
}

#[cfg(test)]
mod tests {
    use super::{shared_filter, validate_filter};

    #[test]
    fn shared_filters_are_recognised_and_checked() {
        let shared = shared_filter("$share/lab/PV/#").unwrap();
        assert_eq!((shared.group, shared.filter), ("lab", "PV/#"));
        assert!(shared.explain().contains("one member of group \"lab\""));
        assert!(shared_filter("PV/#").is_none());
        assert!(super::filter_matches("$share/lab/PV/#", "PV/data"));
        assert!(super::filter_matches("PV/+", "PV/data"));
        assert!(!super::filter_matches("$share/lab/PV/#", "lamp/cmd"));
        assert!(validate_filter("$share/lab/PV/#").is_ok());
        assert!(validate_filter("$share/l+b/PV").is_err());
        assert!(validate_filter("PV/#/x").unwrap_err().contains("4.7.1"));
    }
}
