//! The app's side of automation (see `crate::automation` for the pure logic): variables
//! expanded at each send with a `{{counter}}` per favourite and per form, MQTT 5 requests
//! followed to their answer or timeout, the "Reply" action, and the profile's auto-reply rules
//! answering received messages. Each session has its own; the forms act on the session on view, events on the session
//! that received them.
//!
//! Choices: "Send request" always generates the correlation data (`req-N-<salt>`), ignoring a
//! typed one, so every answer matches exactly one request in the list; a plain Publish sends
//! the typed one. A rule's subscription is a plain one (not No Local), so a request this app
//! sends can be answered by its own rule in a one-window demo; the rules' loop guard stops a
//! rule that answers itself or another rule in a loop.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_lab_broker::codec::matches;

use super::App;
use crate::automation::{Context, Requests, Rule, Rules, SystemEnv, Template, has_variables, reply_to};
use crate::connection::{Command, ConnectionStatus, Event, ReceivedMessage};
use crate::mqtt::{Outgoing, Qos, SubOptions, correlation_text};
use crate::ui::{AutoIntent, AutoReplyForm, ConnIntent, PropertiesForm, RequestOutcome, RequestRow, Tab};

/// How long a request waits for its answer.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows the Requests list keeps (the oldest go first).
const MAX_ROWS: usize = 50;

/// One session's automation state.
pub(super) struct SessionAutomation {
    pub counters: Counters,
    pub requests: Requests,
    /// The Requests list, newest first.
    pub rows: Vec<RequestRow>,
    /// The connection's rules, running (rebuilt at each connect and save).
    pub rules: Rules,
    /// The rules being edited in the sidebar.
    pub rules_form: AutoReplyForm,
    /// The Requests list's timeout field, as typed (applied while it reads).
    pub timeout_text: String,
}

impl Default for SessionAutomation {
    fn default() -> Self {
        Self {
            counters: Counters::default(),
            requests: Requests::new(REQUEST_TIMEOUT),
            rows: Vec::new(),
            rules: Rules::default(),
            rules_form: AutoReplyForm::default(),
            timeout_text: REQUEST_TIMEOUT.as_secs().to_string(),
        }
    }
}

/// A key's parsed topic and payload, and the text they were parsed from.
struct Counted {
    topic_src: String,
    payload_src: String,
    topic: Template,
    payload: Template,
}

/// The templates of each key ("form", "favourite:NAME"), so `{{counter}}` counts that key's
/// sends. Editing the text starts its counter again at 1.
#[derive(Default)]
pub(super) struct Counters {
    by_key: HashMap<String, Counted>,
}

fn parse(topic: &str, payload: &str) -> Result<(Template, Template), String> {
    let topic_t = Template::parse(topic).map_err(|e| format!("in the topic, {e}"))?;
    let payload_t = Template::parse(payload).map_err(|e| format!("in the payload, {e}"))?;
    Ok((topic_t, payload_t))
}

impl Counters {
    /// `(topic, payload)` as the next send of `key` would expand them (fresh time and random).
    pub fn preview(&self, key: &str, topic: &str, payload: &str) -> Result<(String, String), String> {
        let ctx = Context::live();
        if let Some(c) = self.by_key.get(key).filter(|c| c.topic_src == topic && c.payload_src == payload) {
            return Ok((c.topic.preview(&ctx), c.payload.preview(&ctx)));
        }
        let (t, p) = parse(topic, payload)?;
        Ok((t.preview(&ctx), p.preview(&ctx)))
    }

    /// `message` with its variables expanded for one send of `key`; its payload only when it is
    /// a template (text, not hex bytes). A message without variables is returned as it is.
    pub fn expand(&mut self, key: &str, mut message: Outgoing, payload_template: bool) -> Result<Outgoing, String> {
        let payload_src = payload_template
            .then(|| std::str::from_utf8(&message.payload).ok().filter(|t| has_variables(t)).map(str::to_owned))
            .flatten();
        if !has_variables(&message.topic) && payload_src.is_none() {
            return Ok(message);
        }
        let payload_text = payload_src.clone().unwrap_or_default();
        let counted = match self.by_key.entry(key.to_owned()) {
            Entry::Occupied(e) if e.get().topic_src == message.topic && e.get().payload_src == payload_text => {
                e.into_mut()
            }
            other => {
                let (topic, payload) = parse(&message.topic, &payload_text)?;
                let fresh = Counted { topic_src: message.topic.clone(), payload_src: payload_text, topic, payload };
                match other {
                    Entry::Occupied(mut e) => {
                        e.insert(fresh);
                        e.into_mut()
                    }
                    Entry::Vacant(e) => e.insert(fresh),
                }
            }
        };
        let ctx = Context::live();
        message.topic = counted.topic.expand(&ctx);
        let payload = counted.payload.expand(&ctx);
        if payload_src.is_some() {
            message.payload = Bytes::from(payload);
        }
        Ok(message)
    }
}

impl App {
    pub(super) fn apply_automation(&mut self, intent: AutoIntent) {
        match intent {
            AutoIntent::Send { key, message, payload_template } => {
                if let Some(message) = self.expanded(&key, message, payload_template) {
                    self.apply_connection(ConnIntent::Publish(message));
                }
            }
            AutoIntent::Request { key, message, payload_template } => self.request(&key, message, payload_template),
            AutoIntent::SaveRules(rules) => self.save_rules(rules),
            AutoIntent::ResumeRule(i) => {
                self.sessions.shown_mut().automation.rules.resume(i);
                self.sessions.shown_mut().model.note(format!("Auto-reply rule {} resumed.", i + 1));
            }
            AutoIntent::ClearRequests => {
                let a = &mut self.sessions.shown_mut().automation;
                a.rows.clear();
                a.requests.clear();
            }
        }
    }

    /// `message` expanded and checked for the connection's version, or `None` with the reason logged.
    fn expanded(&mut self, key: &str, message: Outgoing, payload_template: bool) -> Option<Outgoing> {
        let version = self.view_profile().version;
        let out = self.sessions.shown_mut().automation.counters.expand(key, message, payload_template).and_then(|m| {
            m.check(version)?;
            Ok(m)
        });
        match out {
            Ok(m) => Some(m),
            Err(e) => {
                self.sessions.shown_mut().model.note(format!("Not sent: {e}"));
                None
            }
        }
    }

    fn request(&mut self, key: &str, message: Outgoing, payload_template: bool) {
        let Some(message) = self.expanded(key, message, payload_template) else { return };
        let Some(response_topic) = message.properties.response_topic.clone() else {
            self.sessions.shown_mut().model.note("Not sent: a request needs a response topic.");
            return;
        };
        let a = &mut self.sessions.shown_mut().automation;
        match a.requests.send_message(message, response_topic.as_str(), Instant::now()) {
            Ok(request) => {
                let number = a.requests.pending().last().map_or(0, |p| p.number);
                a.rows.insert(
                    0,
                    RequestRow {
                        number,
                        topic: request.topic.clone(),
                        response_topic: response_topic.clone(),
                        correlation: request
                            .properties
                            .correlation_data
                            .as_deref()
                            .map(correlation_text)
                            .unwrap_or_default(),
                        outcome: RequestOutcome::Waiting,
                    },
                );
                a.rows.truncate(MAX_ROWS);
                // The subscription goes first: the worker sends commands in order.
                self.sessions.shown_mut().subscribe_for(&response_topic, "the answers to requests");
                self.apply_connection(ConnIntent::Publish(request));
            }
            Err(e) => self.sessions.shown_mut().model.note(format!("Not sent: {e}")),
        }
    }

    /// "Reply" on a received request: the publish form answers it (its Response Topic, its
    /// Correlation Data copied), with the cursor in the payload.
    pub(super) fn reply(&mut self, message: &ReceivedMessage) {
        match reply_to(message, Bytes::new()) {
            Ok(reply) => {
                let form = &mut self.sessions.shown_mut().publish_form;
                form.topic.clone_from(&reply.topic);
                form.qos = reply.qos;
                form.retain = false;
                form.properties = PropertiesForm::of(&reply.properties);
                form.focus_payload = true;
                self.view.tab = Tab::Messages;
                self.sessions.shown_mut().model.note(format!(
                    "The publish form now answers the message on {}: topic {}, its correlation data copied.",
                    message.topic, reply.topic
                ));
            }
            Err(e) => self.sessions.shown_mut().model.note(e),
        }
    }

    /// Saves `rules` in the profile on view and, when it is the connection's, runs them.
    fn save_rules(&mut self, rules: Vec<Rule>) {
        let i = self.view_index();
        self.profiles.list[i].auto_replies.clone_from(&rules);
        self.save_profile_at(i);
        let name = self.profiles.list[i].name.clone();
        let s = self.sessions.shown_mut();
        s.automation.rules_form = AutoReplyForm { profile: name.clone(), rules: rules.clone() };
        if let Some(c) = s.connection.as_mut().filter(|c| c.profile.name == name) {
            c.profile.auto_replies.clone_from(&rules);
            s.automation.rules = Rules::new(rules);
            if matches!(s.model.status, ConnectionStatus::Connected { .. }) {
                s.subscribe_rules();
            }
        }
    }

    /// Each frame: requests that waited too long are marked (in every connection); while some
    /// wait, frames keep coming.
    pub(super) fn automation_tick(&mut self, ctx: &egui::Context) {
        // Every connection's requests time out, shown or not.
        for i in 0..self.sessions.len() {
            let a = &mut self.sessions.at_mut(i).automation;
            if let Ok(secs) = crate::ui::timeout_secs(&a.timeout_text) {
                a.requests.set_timeout(Duration::from_secs(secs));
            }
            for gone in a.requests.expire(Instant::now()) {
                if let Some(row) = a.rows.iter_mut().find(|r| r.number == gone.request.number) {
                    row.outcome = RequestOutcome::TimedOut { secs: gone.waited.as_secs() };
                }
            }
            if a.requests.pending().len() > 0 {
                ctx.request_repaint_after(Duration::from_millis(250));
            }
        }
    }

    /// The rules draft shows the profile on view's rules (reloaded when that profile changes).
    pub(super) fn rules_form_follow(&mut self) {
        let profile = &self.profiles.list[self.view_index()];
        let form = &mut self.sessions.shown_mut().automation.rules_form;
        if form.profile != profile.name {
            *form = AutoReplyForm { profile: profile.name.clone(), rules: profile.auto_replies.clone() };
        }
    }
}

/// What belongs to one session, whichever is on view: its events answered by its rules.
impl super::session::Session {
    /// Subscribes to `filter` unless a subscription already covers it; says why in the log.
    pub(super) fn subscribe_for(&mut self, filter: &str, why: &str) {
        let model = &mut self.model;
        let literal = !filter.contains(['+', '#']);
        if model.subscriptions.list.iter().any(|s| s.filter == filter || (literal && matches(&s.filter, filter))) {
            return;
        }
        model.subscriptions.add(filter, Qos::AtLeastOnce);
        model.note(format!("Subscribed to {filter} for {why}."));
        self.send(Command::Subscribe {
            filter: filter.to_owned(),
            qos: Qos::AtLeastOnce,
            options: SubOptions::default(),
        });
    }

    /// Subscribes to the filter of every enabled rule that can run, unless already covered.
    pub(super) fn subscribe_rules(&mut self) {
        let errors: Vec<usize> = self.automation.rules.errors().into_iter().map(|(i, _)| i).collect();
        let wanted: Vec<(String, String)> = (self.automation.rules.rules().enumerate())
            .filter(|(i, r)| r.enabled && !errors.contains(i))
            .map(|(_, r)| (r.name.clone(), r.filter.clone()))
            .collect();
        for (name, filter) in wanted {
            self.subscribe_for(&filter, &format!("auto-reply \"{name}\""));
        }
    }

    /// What a connection event means for automation; called before the model applies it.
    pub(super) fn automation_event(&mut self, event: &Event) {
        match event {
            Event::Status(ConnectionStatus::Connected { .. }) => {
                let rules = self.connection.as_ref().map(|c| c.profile.auto_replies.clone()).unwrap_or_default();
                // A reconnect keeps the rules' counters and the loop guard's stops: rebuilt only
                // when the rules are not the ones running.
                if !self.automation.rules.rules().eq(rules.iter()) {
                    self.automation.rules = Rules::new(rules);
                }
                self.subscribe_rules();
            }
            Event::Message(m) => self.automation_message(m),
            _ => {}
        }
    }

    fn automation_message(&mut self, m: &ReceivedMessage) {
        let now = Instant::now();
        let a = &mut self.automation;
        if let Some(answered) = a.requests.on_message(m, now)
            && let Some(row) = a.rows.iter_mut().find(|r| r.number == answered.request.number)
        {
            row.outcome = RequestOutcome::Answered {
                // A preview: an answer of megabytes must not be laid out every frame.
                payload: String::from_utf8_lossy(&answered.response.payload).chars().take(200).collect(),
                millis: answered.round_trip.as_millis(),
            };
        }
        let replies = a.rules.on_message(m, &SystemEnv, now);
        let notes = a.rules.take_notes();
        let version = self.connection.as_ref().map(|c| c.profile.version);
        for note in notes {
            self.model.note(note);
        }
        for reply in replies {
            if let Some(Err(e)) = version.map(|v| reply.check(v)) {
                self.model.note(format!("Auto-reply to {} not sent: {e}", m.topic));
                continue;
            }
            self.model.note(format!("Auto-reply to {}: published on {}.", m.topic, reply.topic));
            self.send(Command::Publish(reply));
        }
    }
}

impl App {
    /// The sidebar's Requests and Auto-replies sections (collapsed at first).
    pub(super) fn automation_tools(&mut self, ui: &mut egui::Ui, intents: &mut Vec<crate::ui::Intent>) {
        egui::CollapsingHeader::new("Requests").show(ui, |ui| {
            let a = &mut self.sessions.shown_mut().automation;
            intents.extend(crate::ui::requests_panel(ui, &a.rows, &mut a.timeout_text));
        });
        self.rules_form_follow();
        egui::CollapsingHeader::new("Auto-replies").show(ui, |ui| {
            let saved = &self.profiles.list[self.view_index()].auto_replies;
            let a = &mut self.sessions.shown_mut().automation;
            let stopped = a.rules.stopped();
            intents.extend(crate::ui::autoreply_panel(ui, &mut a.rules_form, saved, &stopped));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Outgoing) -> (&str, &str) {
        (m.topic.as_str(), std::str::from_utf8(&m.payload).unwrap())
    }

    #[test]
    fn each_key_counts_its_own_sends_and_a_new_text_starts_again() {
        let mut counters = Counters::default();
        let fav = Outgoing::new("lab/{{counter}}", "n={{counter}}", Qos::AtMostOnce, false);
        assert_eq!(counters.preview("favourite:a", &fav.topic, "n={{counter}}").unwrap().1, "n=1");
        assert_eq!(text(&counters.expand("favourite:a", fav.clone(), true).unwrap()), ("lab/1", "n=1"));
        assert_eq!(text(&counters.expand("favourite:a", fav.clone(), true).unwrap()), ("lab/2", "n=2"));
        assert_eq!(counters.preview("favourite:a", &fav.topic, "n={{counter}}").unwrap().1, "n=3");
        assert_eq!(text(&counters.expand("form", fav.clone(), true).unwrap()), ("lab/1", "n=1"), "another key");
        let edited = Outgoing::new("lab/x", "m={{counter}}", Qos::AtMostOnce, false);
        assert_eq!(text(&counters.expand("favourite:a", edited, true).unwrap()), ("lab/x", "m=1"));
    }

    #[test]
    fn bytes_and_text_without_variables_go_as_they_are() {
        let mut counters = Counters::default();
        let hex = Outgoing::new("lab/hex", "{{counter}}", Qos::AtMostOnce, false);
        assert_eq!(text(&counters.expand("form", hex, false).unwrap()), ("lab/hex", "{{counter}}"));
        let plain = Outgoing::new("lab/plain", "yes", Qos::AtMostOnce, false);
        assert_eq!(counters.expand("form", plain.clone(), true).unwrap(), plain);
        let bad = Outgoing::new("lab/bad", "{{nope}}", Qos::AtMostOnce, false);
        assert!(
            counters.expand("form", bad, true).unwrap_err().starts_with("in the payload, unknown variable {{nope}}")
        );
    }
}
