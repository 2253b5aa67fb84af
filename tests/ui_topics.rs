//! The Topics tab's panel alone (issue 22), driven by egui_kittest: a tree fed by a scripted burst
//! (PV/data numbers, PV/sunshine yes/no, lamp/status JSON, 200 sensor topics, a `$SYS` topic,
//! retained ones) shows its counts and last values; the filter, "Only retained" and the keyboard
//! move over it; selecting asks for the recent messages once; the detail shows a changed JSON
//! field; "Plot this" takes the picked JSON field; deleting a retained subtree asks with the count
//! and says how; every button lies inside the window at 1024x640, 1280x720 and 1920x1080 (beside
//! a 320-point sidebar, as in the app). At 1280x720 the tab is compared with
//! tests/snapshots/topics_*.png (`UPDATE_SNAPSHOTS=1 cargo test --test ui_topics` writes them).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::connection::{Qos, ReceivedMessage};
use mqtt_lab::tree::{Seen, TopicTree};
use mqtt_lab::ui::{BrokerFacts, Intent, RetainedFact, Subscriber, TopicsInput, TopicsView, TreeIntent, topics_tab};

/// 2026-12-06 12:00:00 UTC: the burst's start.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_hours(499_044)
}

/// Topics, messages and retained topics the burst makes (counted from its script below).
const TOPICS: usize = 204;
const MESSAGES: u64 = 10 + 5 + 3 + 200 + 1;
const RETAINED: u32 = 1 + 1 + 4;

fn seen(tree: &mut TopicTree, topic: &str, payload: &[u8], retain: bool, secs: u64) {
    tree.record(Seen { topic, payload, qos: 1, retain, at: t0() + Duration::from_secs(secs) });
}

fn burst() -> TopicTree {
    let mut tree = TopicTree::new();
    for i in 0..10u64 {
        seen(&mut tree, "PV/data", format!("4.{i}").as_bytes(), false, i);
    }
    for i in 0..5u64 {
        seen(&mut tree, "PV/sunshine", if i % 2 == 0 { b"yes" } else { b"no" }, true, i * 2);
    }
    for i in 0..3u64 {
        seen(&mut tree, "lamp/status", format!(r#"{{"state":"on","value":{i}}}"#).as_bytes(), true, 5 + i);
    }
    for i in 0..200u64 {
        seen(&mut tree, &format!("sensors/room{i}/temp"), format!("{}.5", 18 + i % 7).as_bytes(), i % 50 == 0, 9);
    }
    seen(&mut tree, "$SYS/broker/uptime", b"1234 seconds", false, 9);
    tree
}

fn message(topic: &str, payload: &str, secs: u64) -> ReceivedMessage {
    ReceivedMessage {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec().into(),
        qos: Qos::AtLeastOnce,
        retain: false,
        dup: false,
        at: t0() + Duration::from_secs(secs),
        properties: mqtt_lab::mqtt::PublishProperties::default(),
    }
}

/// The panel and what the app would give it.
#[derive(Default)]
struct Tab {
    tree: TopicTree,
    view: TopicsView,
    connected: bool,
    builtin: bool,
    recent: Option<(String, Vec<ReceivedMessage>)>,
    facts: Option<BrokerFacts>,
    last_delete: Option<String>,
    intents: Vec<Intent>,
    /// Draw a 320-point sidebar first, as the app does.
    sidebar: bool,
}

impl Tab {
    fn new() -> Self {
        Self { tree: burst(), connected: true, ..Self::default() }
    }

    fn draw(&mut self, ui: &mut egui::Ui) {
        let input = TopicsInput {
            now: t0() + Duration::from_secs(20),
            connected: self.connected,
            builtin: self.builtin,
            recent: self.recent.as_ref().map(|(t, m)| (t.as_str(), m.as_slice())),
            facts: self.facts.as_ref(),
            last_delete: self.last_delete.as_deref(),
        };
        let intents = topics_tab(ui, &mut self.tree, &mut self.view, &input);
        self.intents.extend(intents);
    }

    fn selected_topic(&self) -> String {
        self.view.tree.selected().map(|id| self.tree.topic_of(id)).unwrap_or_default()
    }

    fn tree_intents(&self) -> Vec<TreeIntent> {
        self.intents.iter().filter_map(|i| if let Intent::Tree(t) = i { Some(t.clone()) } else { None }).collect()
    }
}

fn harness(tab: Tab, size: egui::Vec2) -> Harness<'static, Tab> {
    let mut harness = Harness::builder().with_size(size).build_ui_state(
        |ui, tab: &mut Tab| {
            if tab.sidebar {
                egui::Panel::left("sidebar").exact_size(320.0).resizable(false).show(ui, |ui| {
                    ui.label("Profiles");
                });
                egui::CentralPanel::default().show(ui, |ui| tab.draw(ui));
            } else {
                tab.draw(ui);
            }
        },
        tab,
    );
    harness.run();
    harness
}

fn shows(harness: &Harness<'_, Tab>, text: &str) -> bool {
    harness.query_by_label(text).is_some()
}
fn click_row(harness: &mut Harness<'_, Tab>, name: &str) {
    harness.get_by_role_and_label(Role::Button, name).click();
    harness.run();
}

fn expand(harness: &mut Harness<'_, Tab>, topic: &str) {
    harness.get_by_label(&format!("Expand {topic}")).click();
    harness.run();
}

#[test]
fn counts_and_last_values_show_after_a_burst() {
    let mut harness = harness(Tab::new(), egui::vec2(1280.0, 720.0));
    assert!(shows(&harness, &format!("{TOPICS} topics, {MESSAGES} messages, {RETAINED} retained")));
    assert!(shows(&harness, "0 / 15"), "PV: no message of its own, 15 below");
    assert!(shows(&harness, "$ topics"), "the $ branch has its own row");
    assert!(!shows(&harness, "PV/data"), "collapsed at first");
    expand(&mut harness, "PV");
    assert!(shows(&harness, "PV/data") && shows(&harness, "4.9"), "PV/data's count and last value");
    assert!(shows(&harness, "10"));
    assert!(shows(&harness, "PV/sunshine") && shows(&harness, "yes"));
    expand(&mut harness, "sensors");
    assert!(shows(&harness, "sensors/room0") && shows(&harness, "sensors/room2"), "sensor rows, sorted naturally");
    assert!(harness.query_by_label("Collapse PV").is_some());
    harness.get_by_label("Collapse all").click();
    harness.run();
    assert!(!shows(&harness, "PV/data"));
    let top = |h: &Harness<'_, Tab>, topic: &str| h.get_by_role_and_label(Role::Button, topic).rect().top();
    assert!(top(&harness, "PV") < top(&harness, "sensors"), "by name first");
    harness.get_by_role_and_label(Role::ComboBox, "Sort").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "rate").click();
    harness.run();
    assert_eq!(harness.state().view.tree.sort(), mqtt_lab::tree::SortBy::Rate);
    assert!(top(&harness, "sensors") < top(&harness, "PV"), "200 topics at once make the busiest subtree");
}

#[test]
fn the_filter_and_only_retained_narrow_the_rows() {
    let mut harness = harness(Tab::new(), egui::vec2(1280.0, 720.0));
    harness.get_by_label("Filter topics").focus();
    harness.run();
    harness.get_by_label("Filter topics").type_text("room17");
    harness.run();
    assert_eq!(harness.state().view.tree.filter(), "room17");
    assert!(
        shows(&harness, "sensors/room17") && shows(&harness, "sensors/room170"),
        "matches show with their ancestors open"
    );
    assert!(!shows(&harness, "sensors/room18") && !shows(&harness, "PV"));
    harness.state_mut().view.tree.set_filter("");
    harness.run();
    harness.get_by_label("Only retained").click();
    harness.run();
    expand(&mut harness, "PV");
    expand(&mut harness, "sensors");
    assert!(shows(&harness, "PV/sunshine") && !shows(&harness, "PV/data"), "PV/data holds nothing retained");
    assert!(shows(&harness, "sensors/room50") && !shows(&harness, "sensors/room51"));
    assert!(!shows(&harness, "$ topics"));
}

#[test]
fn arrow_keys_move_over_the_tree() {
    let mut harness = harness(Tab::new(), egui::vec2(1280.0, 720.0));
    click_row(&mut harness, "PV");
    assert_eq!(harness.state().selected_topic(), "PV");
    let mut press = |key, expected: &str| {
        harness.key_press(key);
        harness.run();
        assert_eq!(harness.state().selected_topic(), expected, "after {key:?}");
    };
    press(egui::Key::ArrowDown, "lamp");
    press(egui::Key::ArrowUp, "PV");
    press(egui::Key::ArrowRight, "PV");
    press(egui::Key::ArrowRight, "PV/data");
    press(egui::Key::ArrowDown, "PV/sunshine");
    press(egui::Key::ArrowLeft, "PV");
    press(egui::Key::ArrowLeft, "PV");
    press(egui::Key::ArrowDown, "lamp");
    assert!(!harness.state().view.tree.is_expanded(harness.state().tree.find("PV").unwrap()));
}

#[test]
fn selecting_asks_for_recent_messages_once() {
    let mut tab = Tab::new();
    tab.builtin = true;
    let mut harness = harness(tab, egui::vec2(1280.0, 720.0));
    expand(&mut harness, "lamp");
    click_row(&mut harness, "lamp/status");
    harness.run();
    click_row(&mut harness, "lamp/status");
    let asked = harness.state().tree_intents();
    let load = TreeIntent::LoadRecent { topic: "lamp/status".into() };
    let facts = TreeIntent::LoadBrokerFacts { topic: "lamp/status".into() };
    assert_eq!(asked.iter().filter(|i| **i == load).count(), 1, "{asked:?}");
    assert_eq!(asked.iter().filter(|i| **i == facts).count(), 1, "{asked:?}");
    click_row(&mut harness, "lamp");
    assert!(harness.state().tree_intents().contains(&TreeIntent::LoadRecent { topic: "lamp".into() }));
}

/// lamp/status selected with two JSON messages loaded.
fn lamp_selected(builtin: bool, size: egui::Vec2, sidebar: bool) -> Harness<'static, Tab> {
    let mut tab = Tab::new();
    tab.sidebar = sidebar;
    tab.builtin = builtin;
    tab.recent = Some((
        "lamp/status".into(),
        vec![
            message("lamp/status", r#"{"state":"on","value":2}"#, 7),
            message("lamp/status", r#"{"state":"on","value":1}"#, 6),
            message("lamp/status", r#"{"state":"off","value":0,"fault":"none"}"#, 5),
        ],
    ));
    if builtin {
        tab.facts = Some(BrokerFacts {
            subscribers: vec![
                Subscriber { client_id: "esp32-lamp".into(), qos: 1, filter: "lamp/#".into(), share_group: None },
                Subscriber {
                    client_id: "dashboard".into(),
                    qos: 0,
                    filter: "+/status".into(),
                    share_group: Some("ui".into()),
                },
            ],
            retained: Some(RetainedFact {
                publisher: Some("esp32-lamp".into()),
                stored_at: t0() + Duration::from_secs(7),
                qos: 1,
                payload_len: br#"{"state":"on","value":2}"#.len(),
            }),
            ..BrokerFacts::default()
        });
    }
    let mut harness = harness(tab, size);
    expand(&mut harness, "lamp");
    click_row(&mut harness, "lamp/status");
    harness
}

#[test]
fn the_detail_shows_the_changed_json_field_and_plot_this_takes_the_picked_one() {
    let mut harness = lamp_selected(false, egui::vec2(1280.0, 720.0), false);
    assert!(shows(&harness, "~ $.value: 1 → 2"), "newest against the one before");
    assert!(shows(&harness, "~ $.state: \"off\" → \"on\""));
    assert!(shows(&harness, "- $.fault: \"none\""), "a removed field");
    assert!(harness.query_by_label("Sparkline").is_some());
    harness.get_by_role_and_label(Role::ComboBox, "JSON field").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "$.value").click();
    harness.run();
    harness.get_by_label("Plot this").click();
    harness.run();
    let plot = TreeIntent::PlotThis { topic: "lamp/status".into(), field: Some("$.value".into()) };
    assert!(harness.state().tree_intents().contains(&plot), "{:?}", harness.state().tree_intents());
}

#[test]
fn deleting_a_retained_subtree_asks_with_the_count() {
    for builtin in [false, true] {
        let mut tab = Tab::new();
        (tab.builtin, tab.sidebar) = (builtin, true);
        let mut harness = harness(tab, egui::vec2(1280.0, 720.0));
        click_row(&mut harness, "sensors");
        harness.get_by_label("Delete retained…").click();
        harness.run();
        assert!(shows(&harness, "4 retained messages under sensors/# will be deleted."));
        let how = if builtin {
            "The broker clears its store under sensors/# at once."
        } else {
            "An empty retained message is published to each of the 4 topics this tree knows to be retained (topics \
             this connection never saw keep theirs)."
        };
        assert!(shows(&harness, how));
        if !builtin {
            snapshot(&mut harness, "topics_delete_confirm");
        }
        harness.get_by_label("Confirm delete").click();
        harness.run();
        assert!(harness.state().view.delete.is_none(), "the confirmation closes");
        let topics: Vec<String> = [0, 50, 100, 150].iter().map(|i| format!("sensors/room{i}/temp")).collect();
        let expected = TreeIntent::DeleteRetained { filter: "sensors/#".into(), topics };
        assert!(harness.state().tree_intents().contains(&expected), "{:?}", harness.state().tree_intents());
    }
    let mut tab = Tab::new();
    tab.connected = false;
    let mut harness = harness(tab, egui::vec2(1280.0, 720.0));
    click_row(&mut harness, "sensors");
    harness.get_by_label("Delete retained…").click();
    harness.run();
    assert!(harness.state().view.delete.is_none(), "disabled while not connected");
    assert!(harness.get_by_label("Delete retained…").accesskit_node().is_disabled());
}

/// The tab's own controls (toolbar and actions) lie wholly inside the window.
fn inside(harness: &Harness<'_, Tab>, size: egui::Vec2) {
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size).expand(0.5);
    let controls = "Filter topics|Only retained|Sort|Collapse all|JSON field|Plot this|Publish here|Copy topic|\
                    Subscribe to this subtree|Pin|Delete retained…";
    for name in controls.split('|') {
        let node = harness.query_all_by_label(name).find(|n| n.accesskit_node().role() != Role::Label);
        let rect = node.unwrap_or_else(|| panic!("{name} at {size:?}")).rect();
        assert!(window.contains_rect(rect), "{name} at {rect:?} outside {size:?}");
    }
}

#[test]
fn the_tab_fits_laptop_screens() {
    for size in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)] {
        for sidebar in [true, false] {
            let mut harness = lamp_selected(true, size, sidebar);
            assert!(harness.query_by_role_and_label(Role::ComboBox, "JSON field").is_some(), "{size:?}");
            inside(&harness, size);
            if sidebar && size.x < 1100.0 {
                snapshot(&mut harness, "topics_narrow_1024");
            }
        }
    }
}

/// Compares the tab with tests/snapshots/`name`.png when the clock shows UTC (the times drawn
/// are local), else only writes it under the target directory for a look.
fn snapshot(harness: &mut Harness<'_, Tab>, name: &str) {
    let secs = t0().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    if mqtt_lab::localtime::local_offset(secs) == 0.0 {
        harness.snapshot(name);
    } else {
        let image = harness.render().expect("the software renderer draws the tab");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("topics");
        std::fs::create_dir_all(&dir).unwrap();
        image.save(dir.join(format!("{name}.png"))).unwrap();
        eprintln!("{name}: not compared (the local time zone is not UTC)");
    }
}

#[test]
fn pins_go_on_top_and_stale_topics_say_so() {
    let mut harness = harness(Tab::new(), egui::vec2(1280.0, 720.0));
    expand(&mut harness, "PV");
    harness.get_by_label("Pin PV/data").click();
    harness.run();
    assert_eq!(harness.state().view.tree.pinned(), ["PV/data"]);
    let rows: Vec<egui::Rect> = harness.query_all(by().role(Role::Button).label("PV/data")).map(|n| n.rect()).collect();
    assert_eq!(rows.len(), 2, "the pinned row and the tree row");
    let pinned_row = rows[0];
    let tree_row = harness.get_by_role_and_label(Role::Button, "PV").rect();
    assert!(pinned_row.top() < tree_row.top(), "the pinned row comes first");
    // PV/data came every second until 11 s before now: stale; lamp/status has too few intervals.
    harness.query_all(by().role(Role::Button).label("PV/data")).last().unwrap().click();
    harness.run();
    assert!(harness.query(by().label_contains(", stale")).is_some(), "the detail says stale");
    let unpins = harness.query_all_by_label("Unpin PV/data").count();
    assert_eq!(unpins, 2, "the pinned row and the tree row");
    harness.query_all_by_label("Unpin PV/data").next().unwrap().click();
    harness.run();
    assert!(harness.state().view.tree.pinned().is_empty());
    expand(&mut harness, "lamp");
    click_row(&mut harness, "lamp/status");
    assert!(harness.query(by().label_contains(", stale")).is_none());
}

#[test]
fn an_empty_tree_says_how_to_fill_it() {
    let mut tab = Tab::new();
    tab.tree = TopicTree::new();
    let harness = harness(tab, egui::vec2(1024.0, 640.0));
    assert!(shows(&harness, "No topics yet."));
    assert!(harness.query(by().label_contains("Subscribe to # to see every topic")).is_some());
    assert!(shows(&harness, "0 topics, 0 messages, 0 retained"));
}

#[test]
fn the_keyboard_scrolls_the_selection_into_view() {
    let mut harness = harness(Tab::new(), egui::vec2(1024.0, 640.0));
    expand(&mut harness, "sensors");
    click_row(&mut harness, "sensors");
    for _ in 0..60 {
        harness.key_press(egui::Key::ArrowDown);
        harness.run();
    }
    assert_eq!(harness.state().selected_topic(), "sensors/room59");
    let row = harness.get_by_role_and_label(Role::Button, "sensors/room59").rect();
    assert!(row.bottom() <= 640.0, "the selected row is on screen: {row:?}");
}

#[test]
fn the_actions_ask_the_app_and_copy_the_topic() {
    let mut harness = lamp_selected(false, egui::vec2(1280.0, 720.0), false);
    harness.get_by_label("Publish here").click();
    harness.run();
    harness.get_by_label("Subscribe to this subtree").click();
    harness.run();
    let asked = harness.state().tree_intents();
    assert!(asked.contains(&TreeIntent::PublishHere { topic: "lamp/status".into() }), "{asked:?}");
    assert!(asked.contains(&TreeIntent::SubscribeSubtree { filter: "lamp/status/#".into() }), "{asked:?}");
    harness.get_by_label("Copy topic").click();
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if t == "lamp/status"));
    assert!(copied, "{:?}", harness.output().platform_output.commands);
    harness.state_mut().last_delete = Some("Deleted 4 retained messages under sensors/#".into());
    harness.state_mut().connected = false;
    harness.run();
    assert!(shows(&harness, "Deleted 4 retained messages under sensors/#"));
    assert!(harness.get_by_label("Subscribe to this subtree").accesskit_node().is_disabled());
}

#[test]
fn the_built_in_brokers_facts_show() {
    let mut harness = lamp_selected(true, egui::vec2(1280.0, 720.0), false);
    assert!(harness.query(by().label_contains("Retained by esp32-lamp at ")).is_some());
    assert!(harness.query(by().label_contains("QoS 1, 24 bytes")).is_some());
    assert!(shows(&harness, "2 live subscribers") && shows(&harness, "dashboard") && shows(&harness, "+/status"));
    expand(&mut harness, "PV");
    expand(&mut harness, "sensors");
    harness.get_by_label("Pin PV/data").click();
    harness.run();
    snapshot(&mut harness, "topics_builtin_detail");
    let harness = lamp_selected(false, egui::vec2(1280.0, 720.0), false);
    assert!(harness.query(by().label_contains("Retained by")).is_none(), "only the built-in broker knows");
}
