//! Validated topic names and topic filters, and the matching rule between them.
//!
//! Both are cheap to clone (`Arc<str>`): the broker hands one topic to many subscribers.

use std::fmt;
use std::sync::Arc;

use super::TopicError;

/// A topic name of a PUBLISH: non-empty, at most 65535 bytes, no U+0000, no wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(Arc<str>);

/// A topic filter of a SUBSCRIBE: like a name, but `+` and `#` may stand as whole levels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(Arc<str>);

/// What starts a shared subscription's filter (4.8.2).
pub const SHARE_PREFIX: &str = "$share/";

/// The most `/` separators Mosquitto 2.0 takes in a topic name or filter (its
/// `TOPIC_HIERARCHY_LIMIT`): 200, so 201 levels. Past it Mosquitto closes the connection (MQTT
/// 5.0: DISCONNECT 0x82 for a PUBLISH, 0x81 for a SUBSCRIBE); a bound on levels also bounds the
/// work of matching one topic against the subscription tree, which matters on a Raspberry Pi.
pub const MAX_TOPIC_SEPARATORS: usize = 200;

/// How many levels `s` has when that is more than Mosquitto takes, counted as it counts them
/// (the `/` separators, whatever the levels hold, `$share/group/` included).
fn too_deep(s: &str) -> Option<usize> {
    let separators = s.bytes().filter(|&b| b == b'/').count();
    (separators > MAX_TOPIC_SEPARATORS).then_some(separators + 1)
}

fn check_common(s: &str, kind: &'static str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty { kind });
    }
    if s.len() > usize::from(u16::MAX) {
        return Err(TopicError::TooLong { kind, len: s.len() });
    }
    if s.contains('\0') {
        return Err(TopicError::NullCharacter { kind });
    }
    Ok(())
}

impl TopicName {
    pub fn new(s: impl Into<String>) -> Result<Self, TopicError> {
        Self::parse(&s.into())
    }

    /// [`Self::new`] from a borrowed string, with one allocation.
    ///
    /// Every PUBLISH's topic passes here: one SIMD search for the three bytes a name must not
    /// hold, and the separators counted only in a name long enough to have too many (a search
    /// per check, one of them char by char, and a count every time were a sixth of the
    /// broker's instructions in the fan-in; docs/PERFORMANCE.md, "Every core: the seventh
    /// session"). The bytes looked for are ASCII, which UTF-8 never uses inside a longer
    /// character. The errors keep their order: empty, too long, U+0000, wildcard, too deep.
    pub fn parse(s: &str) -> Result<Self, TopicError> {
        if memchr::memchr3(0, b'+', b'#', s.as_bytes()).is_some() || s.is_empty() {
            check_common(s, "name")?;
            return Err(TopicError::WildcardInName(s.to_owned()));
        }
        if s.len() > usize::from(u16::MAX) {
            return Err(TopicError::TooLong { kind: "name", len: s.len() });
        }
        if s.len() > MAX_TOPIC_SEPARATORS
            && let Some(levels) = too_deep(s)
        {
            return Err(TopicError::NameTooDeep { levels });
        }
        Ok(Self(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The empty name of an MQTT 5.0 PUBLISH that names its topic by a Topic Alias only
    /// (3.3.2.3.4). Never routed: the receiver replaces it with the alias's topic.
    pub fn alias_only() -> Self {
        Self(Arc::from(""))
    }

    /// True for [`Self::alias_only`].
    pub fn is_alias_only(&self) -> bool {
        self.0.is_empty()
    }

    /// Topics beginning with `$` are the broker's own (`$SYS`) [MQTT-4.7.2-1].
    pub fn is_system(&self) -> bool {
        self.0.starts_with('$')
    }
}

impl TopicFilter {
    pub fn new(s: impl Into<String>) -> Result<Self, TopicError> {
        let s = s.into();
        check_common(&s, "filter")?;
        if let Some(levels) = too_deep(&s) {
            return Err(TopicError::FilterTooDeep { levels });
        }
        let mut levels = s.split('/').peekable();
        while let Some(level) = levels.next() {
            if level.contains('#') && (level != "#" || levels.peek().is_some()) {
                return Err(TopicError::MisplacedMultiLevel(s));
            }
            if level.contains('+') && level != "+" {
                return Err(TopicError::MisplacedSingleLevel(s));
            }
        }
        if let Some(rest) = s.strip_prefix(SHARE_PREFIX) {
            match rest.split_once('/') {
                Some((name, _)) if name.contains(['+', '#']) => return Err(TopicError::WildcardInShareName(s)),
                Some((name, filter)) if !name.is_empty() && !filter.is_empty() => {}
                _ => return Err(TopicError::SharedWithoutFilter(s)),
            }
        }
        Ok(Self(s.into()))
    }

    /// For a shared subscription `$share/{group}/{filter}` (MQTT 5.0 section 4.8.2, which
    /// Mosquitto also grants 3.1.1 clients): the group and the filter that matches topics.
    pub fn share(&self) -> Option<(&str, &str)> {
        self.0.strip_prefix(SHARE_PREFIX).and_then(|rest| rest.split_once('/'))
    }

    /// The part that matches topics: the filter itself, or a shared subscription's filter.
    pub fn matching_part(&self) -> &str {
        self.share().map_or(&self.0, |(_, filter)| filter)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn has_wildcards(&self) -> bool {
        self.0.contains(['+', '#'])
    }

    /// Whether a PUBLISH to `topic` reaches a subscription to this filter.
    ///
    /// A filter starting with a wildcard does not match a topic starting with `$` [MQTT-4.7.2-1].
    pub fn matches(&self, topic: &TopicName) -> bool {
        matches(self.as_str(), topic.as_str())
    }
}

/// Matches a filter against a topic name, level by level.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) | (None, None) => return true,
            (Some(fl), Some(tl)) if fl == "+" || fl == tl => {}
            _ => return false,
        }
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for TopicName {
    type Error = TopicError;
    fn try_from(s: &str) -> Result<Self, TopicError> {
        Self::new(s)
    }
}

/// Looks a retained message up, or ranges over them, by a plain string: the derived order
/// and equality are those of the string itself.
impl std::borrow::Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for TopicFilter {
    type Error = TopicError;
    fn try_from(s: &str) -> Result<Self, TopicError> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(filter: &str, topic: &str) -> bool {
        TopicFilter::new(filter).unwrap().matches(&TopicName::new(topic).unwrap())
    }

    #[test]
    fn wildcards_match_levels() {
        assert!(m("PV/#", "PV/data"));
        assert!(m("PV/#", "PV"), "# also matches the parent level");
        assert!(m("PV/+", "PV/sunshine"));
        assert!(!m("PV/+", "PV/a/b"));
        assert!(m("+/+", "/finance"));
        assert!(m("#", "a/b/c"));
        assert!(!m("PV/data", "PV/Data"));
        assert!(m("a/+/c", "a//c"));
    }

    #[test]
    fn dollar_topics_are_not_matched_by_leading_wildcards() {
        assert!(!m("#", "$SYS/broker/uptime"));
        assert!(!m("+/broker/uptime", "$SYS/broker/uptime"));
        assert!(m("$SYS/#", "$SYS/broker/uptime"));
        assert!(m("$SYS/broker/+", "$SYS/broker/uptime"));
    }

    #[test]
    fn misplaced_wildcards_are_rejected_with_their_rule() {
        for (bad, rule) in [
            ("a/#/b", "[MQTT-4.7.1-2]"),
            ("a#", "[MQTT-4.7.1-2]"),
            ("a/b+", "[MQTT-4.7.1-3]"),
            ("+a", "[MQTT-4.7.1-3]"),
            ("", "[MQTT-4.7.3-1]"),
            ("a\0b", "[MQTT-4.7.3-2]"),
        ] {
            let err = TopicFilter::new(bad).unwrap_err().to_string();
            assert!(err.starts_with(rule), "{bad:?}: {err}");
        }
    }

    /// Mosquitto counts separators: 201 levels (200 `/`) pass, 202 do not, whatever the levels.
    #[test]
    fn topics_deeper_than_mosquitto_takes_are_refused_naming_the_limit() {
        let deep = |levels: usize, last: &str| format!("{}{last}", "a/".repeat(levels - 1));
        assert!(TopicName::new(deep(201, "a")).is_ok());
        assert!(TopicFilter::new(deep(201, "#")).is_ok());
        assert!(TopicName::new("/".repeat(200)).is_ok(), "201 empty levels");
        let err = TopicName::new(deep(202, "a")).unwrap_err();
        assert_eq!(err, TopicError::NameTooDeep { levels: 202 });
        assert!(err.to_string().contains("topic name of 202 levels, over the limit of 201"), "{err}");
        let err = TopicFilter::new(deep(202, "+")).unwrap_err();
        assert!(err.to_string().contains("topic filter of 202 levels, over the limit of 201"), "{err}");
        assert!(TopicName::new("/".repeat(201)).is_err(), "202 empty levels");
    }

    #[test]
    fn topic_names_refuse_wildcards() {
        let err = TopicName::new("PV/+").unwrap_err().to_string();
        assert!(err.starts_with("[MQTT-3.3.2-2]"), "{err}");
        assert!(TopicName::new("PV/data").is_ok());
    }

    /// One pass finds each problem wherever it is, and reports the first of the rules in
    /// their order (U+0000, then a wildcard, then depth) when a name breaks several.
    #[test]
    fn a_name_breaking_several_rules_is_refused_for_the_first() {
        for (name, rule) in [
            ("#", "[MQTT-3.3.2-2]"),
            ("PV/data+", "[MQTT-3.3.2-2]"),
            ("\0PV/#", "[MQTT-4.7.3-2]"),
            ("PV/#/\0", "[MQTT-4.7.3-2]"),
            ("", "[MQTT-4.7.3-1]"),
        ] {
            let err = TopicName::new(name).unwrap_err().to_string();
            assert!(err.starts_with(rule), "{name:?}: {err}");
        }
        let deep_and_wild = format!("{}+", "a/".repeat(201));
        assert!(matches!(TopicName::new(deep_and_wild), Err(TopicError::WildcardInName(_))));
        // Non-ASCII levels pass: their bytes are never those looked for.
        assert!(TopicName::new("Wohnzimmer/Lüfter/température/日本").is_ok());
    }
}
