//! The app's side of the topic tree: each session's tree is fed by its messages as they are
//! drained and seeded from its profile's history (read off the UI thread, applied within the
//! frame's budget); the Topics tab's intents: a node's recent messages from history, the
//! built-in broker's facts about it, "Plot this", "Publish here", "Subscribe to this subtree"
//! and deleting retained messages (atomic in the built-in broker, an empty retained message per
//! topic elsewhere).

use std::time::{Duration, Instant, SystemTime};

use super::{App, Background};
use crate::connection::{Command, ReceivedMessage};
use crate::history::{self, TopicSummary};
use crate::mqtt::{Outgoing, Qos, SubOptions};
use crate::plot::{Extractor, SeriesDef};
use crate::tree::{Seen, Summary, TopicTree};
use crate::ui::{self, BrokerFacts, ConnIntent, Intent, Tab, TreeIntent};

/// Recent messages of a node shown in its detail pane.
const RECENT: usize = 50;
/// Longest a frame spends seeding trees from history.
const SEED_BUDGET: Duration = Duration::from_millis(3);
/// How often the built-in broker's facts about the selected node are read again while shown:
/// subscribers come and go, retained messages are replaced.
const FACTS_REFRESH: Duration = Duration::from_secs(2);

/// One session's topic tree and what its detail pane shows.
#[derive(Default)]
pub(super) struct SessionTopics {
    pub tree: TopicTree,
    /// Expanded nodes, selection, filter, sort, pins, the delete question.
    pub view: ui::TopicsView,
    /// The selected node's recent messages, newest first (history, then live ones in front).
    pub recent: Option<(String, Vec<ReceivedMessage>)>,
    /// The built-in broker's facts about the selected node, and the topic they are about.
    pub facts: Option<(String, BrokerFacts)>,
    /// When the facts were last asked for: they are read again every `FACTS_REFRESH`.
    facts_asked: Option<Instant>,
    /// What the last delete of retained messages did.
    pub last_delete: Option<String>,
    /// Topics from history not yet in the tree, taken a few thousand per frame.
    seeding: Vec<TopicSummary>,
    /// Which history read the tree waits for: an older one's answer (the profile switched
    /// meanwhile, or a connection began) would count its topics a second time.
    seed_generation: u64,
    /// History reads under way (for tests to know when seeding is over).
    seeds_in_flight: u32,
}

impl SessionTopics {
    /// No history read under way and nothing left to seed.
    pub fn settled(&self) -> bool {
        self.seeds_in_flight == 0 && self.seeding.is_empty()
    }

    /// A message received: into the tree, and in front of the detail's list when it is its topic.
    pub fn record(&mut self, m: &ReceivedMessage) {
        self.tree.record(Seen { topic: &m.topic, payload: &m.payload, qos: m.qos as u8, retain: m.retain, at: m.at });
        if let Some((topic, list)) = &mut self.recent
            && *topic == m.topic
        {
            list.insert(0, m.clone());
            list.truncate(RECENT);
        }
    }

    /// Seeds from `summaries` until `deadline`; returns whether some remain.
    fn seed_until(&mut self, deadline: Instant) -> bool {
        while let Some(s) = self.seeding.pop() {
            let last = &s.last;
            self.tree.seed(&Summary {
                topic: s.topic,
                count: s.count,
                last_payload: last.payload.to_vec(),
                last_at: last.at,
                // Whether history holds a retained message not deleted since (the last row is
                // usually a live one, RETAIN 0, after the retained copy).
                last_retain: s.retained,
                last_qos: last.qos as u8,
            });
            if Instant::now() >= deadline {
                break;
            }
        }
        !self.seeding.is_empty()
    }
}

/// What topic-tree work off the UI thread reports, for the session with `session` id.
pub(super) enum TopicsDone {
    /// History's topics (or why they could not be read).
    Seed {
        session: u64,
        generation: u64,
        summaries: Result<Vec<TopicSummary>, String>,
    },
    Recent {
        session: u64,
        topic: String,
        messages: Vec<ReceivedMessage>,
    },
    Facts {
        session: u64,
        topic: String,
        facts: BrokerFacts,
    },
    Deleted {
        session: u64,
        text: String,
        topics: Vec<String>,
    },
}

impl App {
    pub(super) fn apply_tree(&mut self, intent: TreeIntent) {
        match intent {
            TreeIntent::LoadRecent { topic } => self.load_recent(topic),
            TreeIntent::LoadBrokerFacts { topic } => self.load_facts(topic),
            TreeIntent::PlotThis { topic, field } => self.plot_this(&topic, field),
            TreeIntent::PublishHere { topic } => {
                let form = &mut self.sessions.shown_mut().publish_form;
                form.topic = topic;
                form.focus_payload = true;
                self.view.tab = Tab::Messages;
            }
            TreeIntent::SubscribeSubtree { filter } => {
                let qos = self.sessions.shown().subscribe_form.qos;
                self.apply_connection(ConnIntent::Subscribe { filter, qos, options: SubOptions::default() });
            }
            TreeIntent::DeleteRetained { filter, topics } => self.delete_retained(filter, topics),
        }
    }

    /// Seeds session `i`'s tree with its profile's history (the selected one's for a blank
    /// session), read off the UI thread. The tree starts again empty.
    pub(super) fn seed_topics(&mut self, i: usize) {
        let selected = self.profiles.current().name.clone();
        let s = self.sessions.at_mut(i);
        let generation = s.topics.seed_generation + 1;
        let in_flight = s.topics.seeds_in_flight;
        s.topics =
            SessionTopics { seed_generation: generation, seeds_in_flight: in_flight, ..SessionTopics::default() };
        let Some(path) = self.history.path.clone() else { return };
        s.topics.seeds_in_flight += 1;
        let (session, profile) = (s.id, s.profile_name().unwrap_or(&selected).to_owned());
        // A profile open twice: this connection's own rows, as its list shows.
        let client = self.sessions.history_client(i);
        // Only what was stored before now: what arrives from now on is recorded live.
        let before = history::millis(SystemTime::now());
        let flushed = self.history.flush();
        self.io.off_thread(move || {
            super::history::await_flush(flushed.as_ref());
            match history::open(&path).and_then(|db| {
                history::topics_before(&db, history::Whose { profile: &profile, client: client.as_deref() }, before)
            }) {
                Ok(mut summaries) => {
                    // Popped from the end: the first topics go in first.
                    summaries.reverse();
                    Background::Topics(TopicsDone::Seed { session, generation, summaries: Ok(summaries) })
                }
                Err(e) => {
                    let why = format!("The topics of {profile} could not be read from history: {e}");
                    Background::Topics(TopicsDone::Seed { session, generation, summaries: Err(why) })
                }
            }
        });
    }

    /// Each frame: history's topics into the trees, within a small budget.
    pub(super) fn topics_logic(&mut self) -> bool {
        let deadline = Instant::now() + SEED_BUDGET;
        let mut more = false;
        for i in 0..self.sessions.len() {
            more |= self.sessions.at_mut(i).topics.seed_until(deadline);
        }
        more
    }

    pub(super) fn topics_done(&mut self, done: TopicsDone) {
        let id = match &done {
            TopicsDone::Seed { session, .. }
            | TopicsDone::Recent { session, .. }
            | TopicsDone::Facts { session, .. }
            | TopicsDone::Deleted { session, .. } => *session,
        };
        // A session closed meanwhile: its answer goes nowhere.
        let Some(i) = self.sessions.index_of(id) else { return };
        let topics = &mut self.sessions.at_mut(i).topics;
        // Answers for a node the user has left are dropped: the pane shows the selected one's.
        let current = |topic: &str| topics.view.requested.as_deref() == Some(topic);
        match done {
            TopicsDone::Seed { generation, summaries, .. } => {
                topics.seeds_in_flight = topics.seeds_in_flight.saturating_sub(1);
                match summaries {
                    Ok(summaries) if generation == topics.seed_generation => topics.seeding = summaries,
                    Ok(_) => {}
                    Err(why) => self.sessions.at_mut(i).model.note(why),
                }
            }
            TopicsDone::Recent { topic, messages, .. } if current(&topic) => {
                topics.recent = Some((topic, messages));
                topics.view.recent_changed();
            }
            TopicsDone::Facts { topic, facts, .. } if current(&topic) => topics.facts = Some((topic, facts)),
            TopicsDone::Recent { .. } | TopicsDone::Facts { .. } => {}
            TopicsDone::Deleted { text, topics: cleared, .. } => {
                for topic in &cleared {
                    topics.tree.forget_retained(topic);
                }
                // What the broker now stores for the selected node: read again.
                let refresh = topics.facts.take().map(|(topic, _)| topic);
                self.sessions.at_mut(i).model.note(text.clone());
                self.sessions.at_mut(i).topics.last_delete = Some(text);
                if let Some(topic) = refresh
                    && i == self.sessions.shown_index()
                {
                    self.load_facts(topic);
                }
            }
        }
    }

    /// The selected node's newest messages: from history when it is on, else from the list.
    fn load_recent(&mut self, topic: String) {
        let s = self.sessions.shown();
        let session = s.id;
        let Some(path) = self.history.path.clone() else {
            let messages = s.model.messages.newest_of(&topic, RECENT);
            self.sessions.shown_mut().topics.recent = Some((topic, messages));
            return;
        };
        let profile = self.view_profile().name.clone();
        let client = self.sessions.history_client(self.sessions.shown_index());
        let flushed = self.history.flush();
        self.io.off_thread(move || {
            super::history::await_flush(flushed.as_ref());
            let whose = history::Whose { profile: &profile, client: client.as_deref() };
            match history::open(&path).and_then(|db| history::recent(&db, whose, &topic, RECENT)) {
                Ok(messages) => Background::Topics(TopicsDone::Recent { session, topic, messages }),
                Err(e) => Background::Note(format!("The messages of {topic} could not be read from history: {e}")),
            }
        });
    }

    /// While the Topics tab shows a node's facts from the built-in broker, they are read again
    /// every `FACTS_REFRESH`; the time until the next read, for the repaint that makes it.
    pub(super) fn refresh_facts(&mut self) -> Option<Duration> {
        let topics = &self.sessions.shown().topics;
        let (Tab::Topics, Some((topic, _))) = (self.view.tab, &topics.facts) else { return None };
        if topics.view.requested.as_ref() != Some(topic) {
            return None;
        }
        let since = topics.facts_asked.map_or(FACTS_REFRESH, |asked| asked.elapsed());
        if since < FACTS_REFRESH {
            return Some(FACTS_REFRESH.saturating_sub(since));
        }
        let topic = topic.clone();
        self.load_facts(topic);
        Some(FACTS_REFRESH)
    }

    /// What the built-in broker knows of `topic`, read off the UI thread.
    fn load_facts(&mut self, topic: String) {
        let (Some(inspector), true) = (self.builtin.inspector(), self.view_profile().builtin_broker) else { return };
        self.sessions.shown_mut().topics.facts_asked = Some(Instant::now());
        let session = self.sessions.shown().id;
        self.io.off_thread(move || {
            let info = inspector.topic_info(&topic);
            // What the broker stores at and below the node (`a/#` covers `a`): the delete's count.
            let retained_under = inspector.retained_under(&format!("{topic}/#")).ok().map(|found| found.len());
            let facts = BrokerFacts {
                // Live ones: a persistent session away holds its subscriptions but reads nothing now.
                subscribers: (info.subscribers.into_iter())
                    .filter(|s| s.online)
                    .map(|s| ui::Subscriber {
                        client_id: s.client_id,
                        qos: s.qos as u8,
                        filter: s.filter,
                        share_group: s.share_group,
                    })
                    .collect(),
                retained: info.retained.map(|r| ui::RetainedFact {
                    publisher: r.publisher,
                    stored_at: r.stored_at,
                    qos: r.qos as u8,
                    payload_len: r.payload_len,
                }),
                retained_under,
            };
            Background::Topics(TopicsDone::Facts { session, topic, facts })
        });
    }

    /// A series for `topic` on the plot of the profile on view, then the Plot tab.
    fn plot_this(&mut self, topic: &str, field: Option<String>) {
        let i = self.view_index();
        let defs = &mut self.profiles.list[i].plot;
        let extractor = match field {
            Some(path) => Extractor::Json { path },
            None => (self.sessions.shown().topics.recent.as_ref())
                .filter(|(t, _)| t == topic)
                .and_then(|(_, list)| list.first())
                .and_then(|m| crate::tree::default_extractor(&m.payload))
                .unwrap_or(Extractor::Number),
        };
        if defs.iter().any(|d| d.filter == topic && d.extractor == extractor) {
            self.sessions.shown_mut().model.note(format!("{topic} is already on the plot."));
        } else {
            let color = crate::palette::PALETTE[defs.len() % crate::palette::PALETTE.len()];
            defs.push(SeriesDef { filter: topic.to_owned(), extractor, color, split: false, ..SeriesDef::default() });
            self.save_profile_at(i);
            self.sessions.shown_mut().model.note(format!("{topic} added to the plot."));
        }
        self.reset_plot();
        self.view.tab = Tab::Plot;
    }

    /// Deletes retained messages: in the built-in broker, its store under `filter` at once
    /// (exact: what the broker holds, not what the tree saw; atomic: a message published after
    /// it is kept); elsewhere an empty retained message to each topic the tree knows retained.
    fn delete_retained(&mut self, filter: String, topics: Vec<String>) {
        let s = self.sessions.shown();
        let session = s.id;
        if !s.can_send() {
            self.sessions.shown_mut().model.note("Not connected: connect first.");
            return;
        }
        if self.view_profile().builtin_broker
            && let Some(inspector) = self.builtin.inspector()
        {
            self.io.off_thread(move || {
                let text = match inspector.clear_retained(&filter) {
                    Ok(n) => format!("The built-in broker deleted {n} retained message(s) under {filter}."),
                    Err(e) => format!("Retained messages under {filter} were not deleted: {e}"),
                };
                Background::Topics(TopicsDone::Deleted { session, text, topics })
            });
            return;
        }
        let n = topics.len();
        for topic in &topics {
            let message = Outgoing::new(topic, "", Qos::AtLeastOnce, true);
            self.sessions.shown_mut().send(Command::Publish(message));
        }
        let text = format!("Published an empty retained message (QoS 1) to each of {n} topic(s) under {filter}.");
        self.topics_done(TopicsDone::Deleted { session, text, topics });
    }

    /// The Topics tab of the connection on view.
    pub(super) fn topics_tab(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        let builtin = self.view_profile().builtin_broker && self.builtin.inspector().is_some();
        let s = self.sessions.shown_mut();
        let connected = s.can_send();
        let t = &mut s.topics;
        let input = ui::TopicsInput {
            now: SystemTime::now(),
            connected,
            builtin,
            recent: t.recent.as_ref().map(|(topic, list)| (topic.as_str(), list.as_slice())),
            facts: t.facts.as_ref().filter(|(topic, _)| Some(topic) == t.view.requested.as_ref()).map(|(_, f)| f),
            last_delete: t.last_delete.as_deref(),
        };
        // Each connection's tab keeps its own scroll positions and focus.
        ui.push_id(("topics", s.id), |ui| intents.extend(ui::topics_tab(ui, &mut t.tree, &mut t.view, &input)));
        // Rates and "last changed" move with the clock.
        ui.ctx().request_repaint_after(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Qos;

    fn summary(topic: &str, count: u64) -> TopicSummary {
        let last = ReceivedMessage {
            topic: topic.into(),
            payload: "1".into(),
            qos: Qos::AtMostOnce,
            retain: false,
            dup: false,
            at: SystemTime::now(),
            properties: crate::mqtt::PublishProperties::default(),
        };
        TopicSummary { topic: topic.into(), count, last, retained: false }
    }

    /// Two reads of history's topics under way (the profile changed, or a connection began):
    /// the earlier one's answer, landing last, is dropped instead of counted again.
    #[test]
    fn an_earlier_seed_answering_late_is_not_counted() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = std::env::temp_dir().join(format!("mqtt-lab-seed-{}", std::process::id()));
        let options = super::super::AppOptions {
            embedded_port: None,
            profile_dir: Some(dir.clone()),
            history_file: Some(dir.join("history.sqlite3")),
        };
        let mut app = App::new(&egui::Context::default(), runtime.handle().clone(), &options);
        app.seed_topics(0);
        let (first, id) = (app.sessions.shown().topics.seed_generation, app.sessions.shown().id);
        app.seed_topics(0);
        let second = app.sessions.shown().topics.seed_generation;
        assert_ne!(first, second);
        let answer =
            |generation| TopicsDone::Seed { session: id, generation, summaries: Ok(vec![summary("PV/data", 7)]) };
        app.topics_done(answer(second));
        app.topics_done(answer(first));
        while app.topics_logic() {}
        let tree = &app.sessions.shown().topics.tree;
        assert_eq!(tree.node(tree.find("PV/data").unwrap()).unwrap().count(), 7);
        let _ = std::fs::remove_dir_all(dir);
    }
}
