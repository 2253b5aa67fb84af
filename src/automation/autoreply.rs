//! Auto-reply rules: "when a message arrives on filter F, publish P to T", saved with the
//! profile, so the app can stand in for a device that answers requests (a lamp reporting its
//! state when asked) while the student writes the other side.
//!
//! Loops are the danger: a rule whose reply matches its own filter answers itself forever, and
//! two rules can answer each other. So a rule never publishes to a topic its own filter matches
//! (refused when the rule is checked, or skipped at run time for a topic made from variables),
//! and a rule that answers more than [`MAX_REPLIES_PER_SECOND`] messages within a second stops
//! until it is resumed: that catches the loops through other rules or other clients too.
//! Subscribing with No Local (MQTT 5) keeps the app's own replies from coming back at all.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mqtt_lab_broker::codec::TopicName;

use crate::mqtt::filter_matches as matches;
use serde::{Deserialize, Serialize};

use super::template::{Context, Env, Template};
use crate::connection::ReceivedMessage;
use crate::mqtt::{Outgoing, Qos, validate_filter};

/// A rule answering more messages than this within one second is taken for a loop and stopped.
pub const MAX_REPLIES_PER_SECOND: usize = 10;

/// One auto-reply rule as the profile keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
    pub name: String,
    pub enabled: bool,
    /// The topic filter whose messages the rule answers.
    pub filter: String,
    /// Where to publish (a template); empty: the request's Response Topic.
    pub topic: String,
    /// What to publish (a template; `{{request.payload}}` echoes the request).
    pub payload: String,
    pub qos: Qos,
    pub retain: bool,
    /// Copy the request's Correlation Data, so the requester can match the answer.
    pub copy_correlation: bool,
}

impl Default for Rule {
    fn default() -> Self {
        Self {
            name: String::new(),
            enabled: true,
            filter: String::new(),
            topic: String::new(),
            payload: String::new(),
            qos: Qos::AtMostOnce,
            retain: false,
            copy_correlation: true,
        }
    }
}

impl Rule {
    /// What is wrong with the rule, in words, or `Ok` when it can run.
    pub fn validate(&self) -> Result<(), String> {
        self.compile().map(drop)
    }

    fn compile(&self) -> Result<Compiled, String> {
        validate_filter(&self.filter).map_err(|e| format!("The filter is not valid: {e}"))?;
        let topic = if self.topic.is_empty() {
            None
        } else {
            let template = Template::parse(&self.topic).map_err(|e| format!("The reply topic has a mistake: {e}"))?;
            if !template.has_variables() {
                TopicName::new(self.topic.as_str()).map_err(|e| format!("The reply topic is not valid: {e}"))?;
                if matches(&self.filter, &self.topic) {
                    return Err(format!(
                        "The reply topic {} matches the rule's own filter {}: every reply would trigger the rule again.",
                        self.topic, self.filter
                    ));
                }
            }
            Some(template)
        };
        let payload = Template::parse(&self.payload).map_err(|e| format!("The reply payload has a mistake: {e}"))?;
        Ok(Compiled { topic, payload })
    }
}

/// A rule's parsed templates (their `{{counter}}`s count this rule's replies).
#[derive(Debug, Clone)]
struct Compiled {
    /// `None`: answer on the request's Response Topic.
    topic: Option<Template>,
    payload: Template,
}

/// A rule and what running it needs.
#[derive(Debug, Clone)]
struct Entry {
    rule: Rule,
    compiled: Result<Compiled, String>,
    /// When its recent replies went out, for the loop guard.
    recent: VecDeque<Instant>,
    stopped: bool,
}

/// The profile's rules, ready to answer messages.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    entries: Vec<Entry>,
    notes: Vec<String>,
}

impl Rules {
    /// Rules ready to run; an invalid rule stays listed but never answers (see [`Self::errors`]).
    pub fn new(rules: Vec<Rule>) -> Self {
        let entries = rules
            .into_iter()
            .map(|rule| Entry { compiled: rule.compile(), rule, recent: VecDeque::new(), stopped: false })
            .collect();
        Self { entries, notes: Vec::new() }
    }

    /// The rules, in order (for saving with the profile).
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> {
        self.entries.iter().map(|e| &e.rule)
    }

    /// The rules that cannot run: their index and why.
    pub fn errors(&self) -> Vec<(usize, String)> {
        self.entries.iter().enumerate().filter_map(|(i, e)| e.compiled.as_ref().err().map(|m| (i, m.clone()))).collect()
    }

    /// The indexes of rules the loop guard stopped.
    pub fn stopped(&self) -> Vec<usize> {
        self.entries.iter().enumerate().filter(|(_, e)| e.stopped).map(|(i, _)| i).collect()
    }

    /// Lets a rule the loop guard stopped answer again.
    pub fn resume(&mut self, index: usize) {
        if let Some(e) = self.entries.get_mut(index) {
            e.stopped = false;
            e.recent.clear();
        }
    }

    /// What happened that the user should know (a rule skipped a message, the loop guard
    /// stopped a rule), oldest first; taking them empties the list.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// The replies to `message` from every enabled rule whose filter matches it, in rule order.
    /// `now` drives the loop guard; `env` fills the templates' time and random values.
    pub fn on_message(&mut self, message: &ReceivedMessage, env: &dyn Env, now: Instant) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for entry in &mut self.entries {
            let rule = &entry.rule;
            let Ok(compiled) = &mut entry.compiled else { continue };
            if !rule.enabled || entry.stopped || !matches(&rule.filter, &message.topic) {
                continue;
            }
            while entry.recent.front().is_some_and(|&t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
                entry.recent.pop_front();
            }
            if entry.recent.len() >= MAX_REPLIES_PER_SECOND {
                entry.stopped = true;
                self.notes.push(format!(
                    "Auto-reply \"{}\" stopped: it would answer more than {MAX_REPLIES_PER_SECOND} messages within a second, likely a loop (its replies trigger it again). Resume it when the cause is gone.",
                    rule.name
                ));
                continue;
            }
            let ctx = Context::new(env).with_request(message);
            let target = if let Some(template) = &mut compiled.topic {
                template.expand(&ctx)
            } else if let Some(topic) = &message.properties.response_topic {
                topic.clone()
            } else {
                self.notes.push(format!(
                    "Auto-reply \"{}\" skipped a message on {}: it has no Response Topic and the rule names no topic.",
                    rule.name, message.topic
                ));
                continue;
            };
            if let Err(e) = TopicName::new(target.as_str()) {
                self.notes.push(format!("Auto-reply \"{}\" cannot publish to {target:?}: {e}", rule.name));
                continue;
            }
            if compiled.topic.is_some() && matches(&rule.filter, &target) {
                self.notes.push(format!(
                    "Auto-reply \"{}\" skipped a reply to {target}: its own filter {} matches that topic, so it would answer itself.",
                    rule.name, rule.filter
                ));
                continue;
            }
            let mut reply = Outgoing::new(target, compiled.payload.expand(&ctx), rule.qos, rule.retain);
            if rule.copy_correlation {
                reply.properties.correlation_data.clone_from(&message.properties.correlation_data);
            }
            entry.recent.push_back(now);
            out.push(reply);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::template::tests::{Fixed, request};

    fn rule(filter: &str, topic: &str, payload: &str) -> Rule {
        Rule {
            name: "lamp".into(),
            filter: filter.into(),
            topic: topic.into(),
            payload: payload.into(),
            ..Rule::default()
        }
    }

    #[test]
    fn a_matching_request_is_answered_on_its_response_topic_with_its_correlation() {
        let env = Fixed::new(1);
        let mut rules = Rules::new(vec![
            rule("lamp/+/get", "", r#"{"state":"on","asked":"{{request.topic}}","n":{{counter}}}"#),
            Rule { enabled: false, ..rule("#", "x", "disabled") },
            rule("PV/#", "", "not this one"),
        ]);
        let mut req = request("lamp/1/get", "?", Some(b"req-3"));
        req.properties.response_topic = Some("lab/replies".into());
        let now = Instant::now();
        let replies = rules.on_message(&req, &env, now);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].topic, "lab/replies");
        assert_eq!(&replies[0].payload[..], br#"{"state":"on","asked":"lamp/1/get","n":1}"#);
        assert_eq!(replies[0].properties.correlation_data.as_deref(), Some(&b"req-3"[..]));
        assert_eq!(&rules.on_message(&req, &env, now)[0].payload[..], br#"{"state":"on","asked":"lamp/1/get","n":2}"#);
        assert!(rules.take_notes().is_empty());

        let plain = request("lamp/1/get", "?", None);
        assert!(rules.on_message(&plain, &env, now).is_empty());
        assert_eq!(
            rules.take_notes(),
            [
                "Auto-reply \"lamp\" skipped a message on lamp/1/get: it has no Response Topic and the rule names no topic."
            ]
        );
    }

    #[test]
    fn a_fixed_topic_and_correlation_copying_follow_the_rule() {
        let env = Fixed::new(1);
        let mut rules = Rules::new(vec![Rule {
            copy_correlation: false,
            qos: Qos::ExactlyOnce,
            retain: true,
            ..rule("lamp/cmd", "lamp/state/{{request.payload}}", "{{request.correlation}}")
        }]);
        let replies = rules.on_message(&request("lamp/cmd", "on", Some(b"c1")), &env, Instant::now());
        assert_eq!(replies.len(), 1);
        let r = &replies[0];
        assert_eq!(
            (r.topic.as_str(), &r.payload[..], r.qos, r.retain),
            ("lamp/state/on", &b"c1"[..], Qos::ExactlyOnce, true)
        );
        assert_eq!(r.properties.correlation_data, None);

        let bad = rules.on_message(&request("lamp/cmd", "#", None), &env, Instant::now());
        assert!(bad.is_empty());
        assert_eq!(
            rules.take_notes(),
            [
                "Auto-reply \"lamp\" cannot publish to \"lamp/state/#\": [MQTT-3.3.2-2] PUBLISH topic \"lamp/state/#\" contains a wildcard (+ or #)"
            ]
        );
    }

    #[test]
    fn a_rule_never_publishes_where_its_own_filter_listens() {
        assert_eq!(
            rule("lamp/#", "lamp/reply", "x").validate().unwrap_err(),
            "The reply topic lamp/reply matches the rule's own filter lamp/#: every reply would trigger the rule again."
        );
        let env = Fixed::new(1);
        let mut rules = Rules::new(vec![rule("lamp/#", "lamp/{{request.payload}}", "x")]);
        assert!(rules.on_message(&request("lamp/a", "echo", None), &env, Instant::now()).is_empty());
        assert_eq!(
            rules.take_notes(),
            [
                "Auto-reply \"lamp\" skipped a reply to lamp/echo: its own filter lamp/# matches that topic, so it would answer itself."
            ]
        );
    }

    #[test]
    fn the_loop_guard_stops_a_rule_answering_too_fast_until_resumed() {
        let env = Fixed::new(1);
        let mut rules = Rules::new(vec![rule("ping", "pong", "1")]);
        let ping = request("ping", "", None);
        let t0 = Instant::now();
        for i in 0..MAX_REPLIES_PER_SECOND as u64 {
            assert_eq!(rules.on_message(&ping, &env, t0 + Duration::from_millis(i * 50)).len(), 1, "reply {i}");
        }
        // A second after the first reply, its slot is free again.
        assert_eq!(rules.on_message(&ping, &env, t0 + Duration::from_secs(1)).len(), 1);
        assert!(rules.on_message(&ping, &env, t0 + Duration::from_millis(1001)).is_empty());
        assert_eq!(rules.stopped(), [0]);
        assert_eq!(
            rules.take_notes(),
            [
                "Auto-reply \"lamp\" stopped: it would answer more than 10 messages within a second, likely a loop (its replies trigger it again). Resume it when the cause is gone."
            ]
        );
        assert!(rules.on_message(&ping, &env, t0 + Duration::from_secs(30)).is_empty(), "stays stopped");
        rules.resume(0);
        assert!(rules.stopped().is_empty());
        assert_eq!(rules.on_message(&ping, &env, t0 + Duration::from_secs(31)).len(), 1);
    }

    #[test]
    fn invalid_rules_are_explained_and_never_answer() {
        assert_eq!(
            rule("PV/#/x", "", "").validate().unwrap_err(),
            "The filter is not valid: [MQTT-4.7.1-2] '#' in filter \"PV/#/x\" must be the last character and stand alone in its level"
        );
        assert_eq!(
            rule("a", "b", "{{nope}}").validate().unwrap_err(),
            "The reply payload has a mistake: unknown variable {{nope}} at character 1; known: now, now_ms, uuid, counter, random A B, request.correlation, request.topic, request.payload"
        );
        assert!(
            rule("a", "b/+", "").validate().unwrap_err().starts_with("The reply topic is not valid: [MQTT-3.3.2-2]")
        );
        let rules = Rules::new(vec![rule("a", "b", ""), rule("a", "{{now", "")]);
        let errors = rules.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 1);
        assert!(
            errors[0].1.starts_with("The reply topic has a mistake: unclosed {{ at character 1"),
            "{}",
            errors[0].1
        );
    }

    #[test]
    fn rules_round_trip_through_the_profile_with_defaults_for_missing_fields() {
        let text = r#"{"name":"echo","filter":"lab/req","payload":"{{request.payload}}"}"#;
        let r: Rule = serde_json::from_str(text).unwrap();
        assert!(r.enabled && r.copy_correlation && r.topic.is_empty());
        let back: Rule = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(Rules::new(vec![r.clone()]).rules().next(), Some(&r));
    }
}
