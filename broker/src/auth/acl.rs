//! Mosquitto's ACL file: `topic [read|write|readwrite|deny] TOPIC` lines (for anonymous clients
//! before the first `user` line, for that user after it), and `pattern` lines for everyone with
//! `%c` (client id) and `%u` (user name). Deny rules win over grants; no rule means no access.

use std::collections::HashMap;

use super::LineProblem;
use crate::codec::{TopicFilter, matches};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
    Deny,
}

impl Access {
    fn grants_read(self) -> bool {
        matches!(self, Self::Read | Self::ReadWrite)
    }

    fn grants_write(self) -> bool {
        matches!(self, Self::Write | Self::ReadWrite)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    access: Access,
    topic: String,
}

/// The rules of an ACL file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    anonymous: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
    patterns: Vec<Rule>,
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub id: &'a str,
    pub username: Option<&'a str>,
}

fn parse_rule(rest: &str) -> Result<Rule, String> {
    let rest = rest.trim();
    let (access, topic) = match rest.split_once(char::is_whitespace) {
        Some((word @ ("read" | "write" | "readwrite" | "deny"), topic)) => (word, topic.trim()),
        _ => ("readwrite", rest),
    };
    let access = match access {
        "read" => Access::Read,
        "write" => Access::Write,
        "deny" => Access::Deny,
        _ => Access::ReadWrite,
    };
    // Check the filter syntax now, with %c / %u standing in as plain levels.
    TopicFilter::new(topic.replace("%c", "c").replace("%u", "u")).map_err(|e| e.to_string())?;
    Ok(Rule { access, topic: topic.to_owned() })
}

impl Acl {
    /// Reads the file's text; malformed lines are reported and skipped (they grant nothing).
    pub fn parse(text: &str) -> (Self, Vec<LineProblem>) {
        let mut acl = Self::default();
        let mut problems = Vec::new();
        let mut user: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let problem = |message: String| LineProblem { line: i + 1, message };
            match keyword {
                "user" if !rest.trim().is_empty() => user = Some(rest.trim().to_owned()),
                "topic" | "pattern" => match parse_rule(rest) {
                    Ok(rule) if keyword == "pattern" => acl.patterns.push(rule),
                    Ok(rule) => match &user {
                        Some(u) => acl.users.entry(u.clone()).or_default().push(rule),
                        None => acl.anonymous.push(rule),
                    },
                    Err(e) => problems.push(problem(format!("{keyword} {}: {e}", rest.trim()))),
                },
                _ => problems.push(problem(format!("{line:?} is not a topic, user or pattern line"))),
            }
        }
        (acl, problems)
    }

    /// The rules that apply to a client, with patterns expanded.
    fn rules<'a>(&'a self, client: Client<'_>) -> impl Iterator<Item = Rule> + 'a {
        let own = match client.username {
            Some(u) => self.users.get(u).map_or(&[][..], Vec::as_slice),
            None => self.anonymous.as_slice(),
        };
        let id = client.id.to_owned();
        let username = client.username.map(str::to_owned);
        let patterns = self.patterns.iter().filter_map(move |p| {
            // A pattern naming %u does not apply to a client without a user name.
            if p.topic.contains("%u") && username.is_none() {
                return None;
            }
            let topic = p.topic.replace("%c", &id).replace("%u", username.as_deref().unwrap_or(""));
            Some(Rule { access: p.access, topic })
        });
        own.iter().cloned().chain(patterns)
    }

    /// May `client` receive messages published to `topic`?
    pub fn can_read(&self, client: Client<'_>, topic: &str) -> bool {
        self.allowed(client, topic, Access::grants_read)
    }

    /// May `client` publish to `topic`?
    pub fn can_write(&self, client: Client<'_>, topic: &str) -> bool {
        self.allowed(client, topic, Access::grants_write)
    }

    fn allowed(&self, client: Client<'_>, topic: &str, grants: fn(Access) -> bool) -> bool {
        let rules: Vec<Rule> = self.rules(client).collect();
        if rules.iter().any(|r| r.access == Access::Deny && matches(&r.topic, topic)) {
            return false;
        }
        rules.iter().any(|r| grants(r.access) && matches(&r.topic, topic))
    }

    /// May `client` subscribe to `filter`? Refused when no read rule can ever let a matching
    /// message through, or a deny rule covers the whole filter. A filter that is only partly
    /// readable is granted, and each message is checked with [`Self::can_read`] on delivery.
    pub fn can_subscribe(&self, client: Client<'_>, filter: &str) -> bool {
        let rules: Vec<Rule> = self.rules(client).collect();
        if rules.iter().any(|r| r.access == Access::Deny && covers(&r.topic, filter)) {
            return false;
        }
        rules.iter().any(|r| r.access.grants_read() && intersects(&r.topic, filter))
    }
}

/// Whether every topic matching `inner` also matches `outer`.
fn covers(outer: &str, inner: &str) -> bool {
    let mut o = outer.split('/');
    let mut i = inner.split('/');
    loop {
        match (o.next(), i.next()) {
            (Some("#"), _) | (None, None) => return true,
            (Some("+"), Some(level)) if level != "#" => {}
            (Some(a), Some(b)) if a == b && a != "+" && a != "#" => {}
            _ => return false,
        }
    }
}

/// Whether some topic matches both filters.
fn intersects(first: &str, second: &str) -> bool {
    let mut first = first.split('/');
    let mut second = second.split('/');
    loop {
        match (first.next(), second.next()) {
            (Some("#"), _) | (_, Some("#")) | (None, None) => return true,
            (Some(p), Some(q)) if p == "+" || q == "+" || p == q => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# anonymous clients may read the sunshine
topic read PV/sunshine

user btsiot1
topic readwrite PV/#
topic deny PV/secret

user btsiot2
topic read PV/data

pattern readwrite devices/%c/#
pattern write users/%u/out
";

    fn anon(id: &str) -> Client<'_> {
        Client { id, username: None }
    }

    fn user<'a>(id: &'a str, name: &'a str) -> Client<'a> {
        Client { id, username: Some(name) }
    }

    #[test]
    fn rules_apply_to_their_user_and_anonymous_rules_to_anonymous_clients() {
        let (acl, problems) = Acl::parse(FILE);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(acl.can_read(anon("a"), "PV/sunshine"));
        assert!(!acl.can_write(anon("a"), "PV/sunshine"));
        assert!(!acl.can_read(anon("a"), "PV/data"));
        assert!(acl.can_write(user("c", "btsiot1"), "PV/data"));
        assert!(!acl.can_read(user("c", "btsiot1"), "PV/secret"), "deny wins over readwrite PV/#");
        assert!(acl.can_read(user("c", "btsiot2"), "PV/data"));
        assert!(!acl.can_write(user("c", "btsiot2"), "PV/data"));
        assert!(!acl.can_read(user("c", "stranger"), "PV/sunshine"), "no rule, no access");
    }

    #[test]
    fn patterns_substitute_client_id_and_user_name() {
        let (acl, _) = Acl::parse(FILE);
        assert!(acl.can_write(anon("esp32-lamp"), "devices/esp32-lamp/lum"));
        assert!(!acl.can_write(anon("esp32-lamp"), "devices/other/lum"));
        assert!(acl.can_write(user("x", "btsiot2"), "users/btsiot2/out"));
        assert!(!acl.can_write(anon("x"), "users//out"), "%u patterns skip anonymous clients");
    }

    #[test]
    fn subscriptions_are_refused_only_when_nothing_could_be_read() {
        let (acl, _) = Acl::parse(FILE);
        let u = user("c", "btsiot1");
        assert!(acl.can_subscribe(u, "PV/#"), "partly readable: granted, filtered per message");
        assert!(acl.can_subscribe(u, "+/data"));
        assert!(!acl.can_subscribe(u, "PV/secret"), "covered by deny");
        assert!(!acl.can_subscribe(u, "other/#"));
        assert!(!acl.can_subscribe(anon("a"), "PV/data"));
        assert!(acl.can_subscribe(anon("a"), "#"), "anonymous may read PV/sunshine through #");
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let (acl, problems) = Acl::parse("topic read a/#/b\nfoo bar\nuser u\ntopic read ok\n");
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [1, 2]);
        assert!(problems[0].message.contains("[MQTT-4.7.1-2]"), "{}", problems[0]);
        assert!(acl.can_read(user("c", "u"), "ok"));
    }

    #[test]
    fn filter_relations() {
        assert!(covers("a/#", "a/b/+"));
        assert!(covers("a/+", "a/b"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/+"));
        assert!(intersects("a/+/c", "a/b/#"));
        assert!(!intersects("a/b", "a/c"));
        assert!(!intersects("a/b", "a/b/c"));
    }
}
