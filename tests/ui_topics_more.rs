//! More of the Topics tab's panel (issue 22), driven by egui_kittest: the detail pane works out its
//! diffs, field list and sparkline values once per change of the recent messages (not every
//! frame: 50 large JSON payloads re-parsed each frame took 773 ms a frame), does not compare
//! payloads above 64 KB and cuts long previews; on the built-in broker, "Delete retained…" and its
//! confirmation count what the broker stores under the topic, not what the tree saw.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::connection::{Qos, ReceivedMessage};
use mqtt_lab::tree::{Seen, TopicTree};
use mqtt_lab::ui::{BrokerFacts, Intent, TopicsInput, TopicsView, TreeIntent, topics_tab};

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_hours(499_044)
}

fn message(topic: &str, payload: Vec<u8>, secs: u64) -> ReceivedMessage {
    ReceivedMessage {
        topic: topic.into(),
        payload: payload.into(),
        qos: Qos::AtLeastOnce,
        retain: false,
        dup: false,
        at: t0() + Duration::from_secs(secs),
        properties: mqtt_lab::mqtt::PublishProperties::default(),
    }
}

/// A JSON object of about `bytes` bytes whose `n` and `t` fields change with `i`.
fn json(i: u64, bytes: usize) -> Vec<u8> {
    let pad = "x".repeat(bytes.saturating_sub(60));
    format!(r#"{{"n":{i},"t":{},"pad":"{pad}"}}"#, 20 + i % 7).into_bytes()
}

/// The panel and what the app would give it.
#[derive(Default)]
struct Tab {
    tree: TopicTree,
    view: TopicsView,
    builtin: bool,
    recent: Option<(String, Vec<ReceivedMessage>)>,
    facts: Option<BrokerFacts>,
    intents: Vec<Intent>,
}

impl Tab {
    fn draw(&mut self, ui: &mut egui::Ui) {
        let input = TopicsInput {
            now: t0() + Duration::from_secs(100),
            connected: true,
            builtin: self.builtin,
            recent: self.recent.as_ref().map(|(t, m)| (t.as_str(), m.as_slice())),
            facts: self.facts.as_ref(),
            last_delete: None,
        };
        let intents = topics_tab(ui, &mut self.tree, &mut self.view, &input);
        self.intents.extend(intents);
    }
}

/// The tab with `messages` (oldest first) recorded and loaded as `topic`'s recent ones, selected.
fn with_recent(topic: &str, messages: Vec<ReceivedMessage>) -> Harness<'static, Tab> {
    let mut tab = Tab::default();
    for m in &messages {
        tab.tree.record(Seen { topic, payload: &m.payload, qos: 1, retain: false, at: m.at });
    }
    tab.recent = Some((topic.to_owned(), messages.into_iter().rev().collect()));
    let mut harness = open(tab);
    harness.get_by_role_and_label(Role::Button, topic).click();
    harness.run();
    harness
}

fn open(tab: Tab) -> Harness<'static, Tab> {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .with_max_steps(1000)
        .build_ui_state(|ui, tab: &mut Tab| tab.draw(ui), tab);
    harness.run();
    harness
}

fn shows(harness: &Harness<'_, Tab>, text: &str) -> bool {
    harness.query_by_label(text).is_some()
}

#[test]
fn the_detail_works_once_per_change_of_the_recent_messages() {
    let messages = (0..50).map(|i| message("meter", json(i, 4000), i)).collect();
    let mut harness = with_recent("meter", messages);
    assert!(shows(&harness, "~ $.n: 48 → 49"), "the newest against the one before");
    assert!(harness.query_by_label("Sparkline").is_some());
    let done = harness.state().view.detail_computations();
    // 49 diffs, the newest's fields, 50 sparkline values.
    assert!((100..=110).contains(&done), "{done} computations for 50 messages");
    let hits = harness.state().view.detail_cache_hits();
    for _ in 0..5 {
        harness.step();
    }
    assert_eq!(harness.state().view.detail_computations(), done, "drawing again parses nothing");
    assert!(harness.state().view.detail_cache_hits() >= hits + 5);

    // A live message, as the app records it: in front, the oldest dropped past 50.
    let list = &mut harness.state_mut().recent.as_mut().unwrap().1;
    list.insert(0, message("meter", json(50, 4000), 50));
    list.truncate(50);
    harness.run();
    let after_live = harness.state().view.detail_computations();
    assert!(after_live > done && after_live - done <= 3, "one diff, one field list, one value: {}", after_live - done);
    assert!(shows(&harness, "~ $.n: 49 → 50"));

    // Another field: its 50 values once, then nothing.
    harness.get_by_role_and_label(Role::ComboBox, "JSON field").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "$.t").click();
    harness.run();
    let after_field = harness.state().view.detail_computations();
    assert_eq!(after_field - after_live, 50, "a value per message for the new field");
    assert_eq!(harness.state().view.field.as_deref(), Some("$.t"));
    harness.step();
    assert_eq!(harness.state().view.detail_computations(), after_field);

    // The app tells the tab it replaced the list: the work is done again.
    harness.state_mut().view.recent_changed();
    harness.run();
    assert!(harness.state().view.detail_computations() >= after_field + 99);
}

#[test]
fn a_payload_above_64_kb_is_not_compared_and_previews_are_cut() {
    let messages = vec![message("blob", json(1, 200_000), 1), message("blob", json(2, 200_000), 2)];
    let size = messages[1].payload.len();
    let harness = with_recent("blob", messages);
    assert!(shows(&harness, &format!("too large to compare, {size} bytes")));
    assert!(harness.query(by().label_contains("~ $.n")).is_none(), "no JSON diff");
    let cut = format!("… ({size} bytes)");
    let previews: Vec<usize> = harness
        .query_all(by().label_contains(&cut))
        .map(|n| n.accesskit_node().label().unwrap_or_default().chars().count())
        .collect();
    assert!(previews.len() >= 2, "the last value and the messages say their size: {previews:?}");
    assert!(previews.iter().all(|n| *n < 1100), "bounded previews: {previews:?}");
}

/// sensors/a and sensors/b retained, plain not: the tree's counts.
fn retained_tab(builtin: bool, facts: Option<BrokerFacts>) -> Tab {
    let mut tab = Tab { builtin, facts, ..Tab::default() };
    for (topic, retain) in [("sensors/a", true), ("sensors/b", true), ("plain", false)] {
        tab.tree.record(Seen { topic, payload: b"1", qos: 1, retain, at: t0() });
    }
    tab
}

fn facts(under: usize) -> BrokerFacts {
    BrokerFacts { retained_under: Some(under), ..BrokerFacts::default() }
}

/// Selects `topic`, asks to delete, and returns whether the button was enabled.
fn ask_delete(harness: &mut Harness<'_, Tab>, topic: &str) -> bool {
    harness.get_by_role_and_label(Role::Button, topic).click();
    harness.run();
    let enabled = !harness.get_by_label("Delete retained…").accesskit_node().is_disabled();
    harness.get_by_label("Delete retained…").click();
    harness.run();
    enabled
}

#[test]
fn the_built_in_broker_counts_what_it_stores_under_the_topic() {
    // It stores 5 under sensors/# where this connection saw 2.
    let mut harness = open(retained_tab(true, Some(facts(5))));
    assert!(ask_delete(&mut harness, "sensors"));
    assert!(shows(&harness, "The broker stores 5 retained messages under sensors/#: it clears them at once."));
    harness.get_by_label("Confirm delete").click();
    harness.run();
    let topics = vec!["sensors/a".to_owned(), "sensors/b".to_owned()];
    let expected = Intent::Tree(TreeIntent::DeleteRetained { filter: "sensors/#".into(), topics });
    assert!(harness.state().intents.contains(&expected));

    // A topic the tree saw without RETAIN: the broker's count enables the delete.
    let mut harness = open(retained_tab(true, Some(facts(1))));
    assert!(ask_delete(&mut harness, "plain"));
    assert!(shows(&harness, "The broker stores 1 retained message under plain/#: it clears it at once."));

    // The broker stores none: nothing to delete, whatever the tree saw.
    let mut harness = open(retained_tab(true, Some(facts(0))));
    assert!(!ask_delete(&mut harness, "sensors"));
    assert!(harness.state().view.delete.is_none());
}

#[test]
fn the_trees_count_stands_in_while_loading_and_elsewhere() {
    let tree_count = "2 retained messages under sensors/# will be deleted.";
    // Built-in, facts not read yet (or read without the count).
    for facts in [None, Some(BrokerFacts::default())] {
        let mut harness = open(retained_tab(true, facts));
        assert!(ask_delete(&mut harness, "sensors"));
        assert!(shows(&harness, tree_count) && shows(&harness, "The broker clears its store under sensors/# at once."));
        let mut harness = open(retained_tab(true, None));
        assert!(!ask_delete(&mut harness, "plain"), "the tree knows none retained under plain");
    }
    // Another broker: facts are not its own.
    let mut harness = open(retained_tab(false, Some(facts(5))));
    assert!(ask_delete(&mut harness, "sensors"));
    assert!(shows(&harness, tree_count));
    assert!(harness.query(by().label_contains("The broker stores")).is_none());
}
