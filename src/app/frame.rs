//! The frame's layout: which panel goes where, each filled by a `ui` module that returns intents.
//!
//! Laid out for laptop screens (1024x640 and up): the connection bar on top (errors wrap in
//! full); a sidebar (profile, subscriptions, tools) that can be resized or hidden and scrolls;
//! the tabs in the rest. The publish form sits with the Messages tab only and the log is a tab
//! of its own, so the Plot and Packets tabs get the whole height.

use std::time::Duration;

use super::{App, capture, plot};
use crate::ui::{self, ConnIntent, Intent, ReportIntent, Tab};

impl App {
    pub(super) fn top_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        let summary = self.builtin.summary();
        let names: Vec<String> = self.profiles.list.iter().map(|p| p.name.clone()).collect();
        let open = self.connection_title();
        let selected_name = self.profiles.current().name.as_str();
        let shown = self.sessions.shown();
        let open_is_selected = shown.profile_name() == Some(selected_name);
        // "Show" another session of the selected profile only when the one on view is not the
        // selected profile's (a down one on view is reconnected in place by Connect).
        let selected_elsewhere = if open_is_selected {
            None
        } else {
            self.sessions.of_profile(selected_name).find(|(_, s)| s.is_active()).map(|(_, s)| s.id)
        };
        egui::Panel::top("connection").show(ui, |ui| {
            let state = ui::BarState {
                names: &names,
                selected: self.profiles.selected,
                open: open.as_deref(),
                websocket: self.sessions.shown().connection.as_ref().is_some_and(|c| c.websocket),
                open_is_selected,
                selected_elsewhere,
                status: &self.sessions.shown().model.status,
                embedded: &summary,
            };
            let profiles = &mut self.profiles;
            let shortcuts = &mut self.view.show_shortcuts;
            let profile = &mut profiles.list[profiles.selected];
            intents.extend(ui::connection_bar(ui, &state, profile, &mut profiles.port_text, |ui| {
                ui::theme_picker(ui);
                if ui.button("Shortcuts").on_hover_text("F1").clicked() {
                    *shortcuts = !*shortcuts;
                }
            }));
        });
    }

    /// The listed connections (none before the first is opened).
    fn connections_ui(&self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        let shown = self.sessions.shown_index();
        let rows: Vec<ui::ConnRow> = (self.sessions.list().iter().enumerate())
            .filter_map(|(i, s)| {
                let c = s.connection.as_ref()?;
                let (status, status_colour) = ui::state_word(&s.model.status);
                Some(ui::ConnRow {
                    id: s.id,
                    label: s.label(),
                    address: c.address.clone(),
                    status,
                    status_colour,
                    colour: s.colour(),
                    messages: s.model.messages.total(),
                    shown: i == shown,
                })
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        egui::CollapsingHeader::new(format!("Connections ({})", rows.len()))
            .id_salt("connections")
            .default_open(true)
            .show(ui, |ui| intents.extend(ui::connections_list(ui, &rows)));
        ui.separator();
    }

    pub(super) fn left_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        if !self.view.sidebar {
            return;
        }
        let connected = self.sessions.shown().can_send();
        let widest = (ui.available_width() * 0.45).max(240.0);
        egui::Panel::left("sidebar").resizable(true).default_size(300.0).size_range(220.0..=widest).show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| self.sidebar_ui(ui, intents, connected));
        });
    }

    fn sidebar_ui(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>, connected: bool) {
        {
            self.connections_ui(ui, intents);
            // A test's steps show under the profile it tested, not whichever is selected now.
            let profiles = &mut self.profiles;
            let profile = &mut profiles.list[profiles.selected];
            let self_test = self.tools.self_test.as_ref().filter(|t| t.profile == profile.name);
            intents.extend(ui::profile_editor(ui, profile, &mut profiles.transfer, self_test));
            ui.separator();
            // The open connection's version, not the edited profile's: editing does not change it.
            let v5 = self.view_profile().version.is_v5();
            let session = self.sessions.shown_mut();
            intents.extend(ui::subscribe_panel(
                ui,
                &mut session.subscribe_form,
                &session.model.subscriptions,
                connected,
                v5,
            ));
            if let crate::connection::ConnectionStatus::Connected { granted: Some(granted), .. } =
                &self.sessions.shown().model.status
            {
                egui::CollapsingHeader::new("Server granted (CONNACK)").id_salt("granted").show(ui, |ui| {
                    ui::granted_panel(ui, granted);
                });
            }
            ui.separator();
            egui::CollapsingHeader::new("Broker status").show(ui, |ui| {
                let model = &self.sessions.shown().model;
                let watching =
                    model.subscriptions.list.iter().any(|s| s.for_status || s.filter == crate::model::WATCH_FILTER);
                intents.extend(ui::sys_panel(ui, &model.sys, watching, connected, &self.builtin.bridges));
                // Read again while shown, as the topic tree's broker facts are.
                if let Some(next) = self.builtin.refresh_bridges() {
                    ui.ctx().request_repaint_after(next);
                }
            });
            egui::CollapsingHeader::new("Simulators").show(ui, |ui| {
                let running = ui::DEVICES.map(|d| self.simulator_running(d));
                let targets: Vec<(u64, String)> = (self.sessions.list().iter())
                    .filter(|s| s.connection.is_some())
                    .map(|s| (s.id, s.label()))
                    .collect();
                intents.extend(ui::simulators_panel(ui, &mut self.tools.form, running, &self.tools.status, &targets));
            });
            self.replay_section(ui);
            self.automation_tools(ui, intents);
            egui::CollapsingHeader::new("Screenshots and exports").show(ui, |ui| {
                // The path on a row of its own, as wide as the sidebar: a long path must not
                // widen the sidebar and push the tabs' buttons out of the window.
                let label = ui.label("Reports folder");
                ui.horizontal(|ui| {
                    let width = (ui.available_width() - 80.0).max(80.0);
                    ui.add(egui::TextEdit::singleline(&mut self.reports.folder).desired_width(width))
                        .labelled_by(label.id);
                    if ui.button("Choose…").clicked() {
                        intents.push(Intent::ChooseFile(ui::FileTarget::ReportsFolder));
                    }
                });
                ui.weak(
                    "Screenshots (F12: the window; Shift+F12: the current tab; the caption line adds date, broker \
                     and client id), packet, plot and message exports go here, each under a new descriptive name.",
                );
            });
            egui::CollapsingHeader::new("History").show(ui, |ui| {
                let (stats, name) = (self.history.stats.as_ref(), &self.profiles.current().name);
                intents.extend(ui::history_panel(ui, &mut self.history.form, stats, name));
            });
        }
    }

    /// The publish form, with the Messages tab only: messages above, what to send below.
    pub(super) fn bottom_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        if self.view.tab != Tab::Messages {
            return;
        }
        let connected = self.sessions.shown().can_send();
        egui::Panel::bottom("publish").show(ui, |ui| {
            let profile = &self.profiles.list[self.view_index()];
            let version = self.sessions.shown().connection.as_ref().map_or(profile.version, |c| c.profile.version);
            let session = self.sessions.shown_mut();
            let counters = &session.automation.counters;
            let preview = |topic: &str, payload: &str| counters.preview(ui::FORM_KEY, topic, payload);
            let input = ui::PublishInput {
                favourites: &profile.favourites,
                recent_topics: &profile.topic_history,
                connected,
                version,
                preview: &preview,
                last_request: session.automation.rows.first().map(ui::RequestRow::outcome_text),
            };
            intents.extend(ui::publish_panel(ui, &mut session.publish_form, &input));
            if let Some(refusal) = &session.model.publish_refusal {
                ui.colored_label(ui::RED, refusal);
            }
        });
    }

    /// The Log tab: every line, newest at the bottom, wrapped in full.
    fn log_tab(&self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
            for line in self.sessions.shown().model.log.iter().rev().take(500).rev() {
                let time = chrono::DateTime::<chrono::Local>::from(line.at).format("%H:%M:%S");
                ui.add(egui::Label::new(format!("{time}  {}", line.text)).wrap());
            }
        });
    }

    /// The tabs, the screenshot buttons (and the caption line while one is taken), the tab.
    pub(super) fn central_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        match ui.input(|i| i.key_pressed(egui::Key::F12).then_some(i.modifiers.shift)) {
            Some(true) => self.screenshot(capture::CaptureKind::Tab),
            Some(false) => self.screenshot(capture::CaptureKind::Window),
            None => {}
        }
        if ui.input(|i| i.key_pressed(egui::Key::F1)) {
            self.view.show_shortcuts = !self.view.show_shortcuts;
        }
        ui::shortcuts_window(ui.ctx(), &mut self.view.show_shortcuts);
        // While a screenshot is under way: the caption line, and no notice in the picture.
        let capturing = self.capturing();
        let caption = (capturing && self.reports.caption_on).then(|| self.caption());
        let central = egui::CentralPanel::default().show(ui, |ui| {
            if let Some(caption) = &caption {
                ui.strong(caption);
            } else if !capturing {
                self.notice_bar(ui);
            }
            ui.horizontal_wrapped(|ui| {
                let view = &mut self.view;
                let sidebar = if view.sidebar { "Hide sidebar" } else { "Show sidebar" };
                if ui.button(sidebar).on_hover_text("The profile, subscriptions and tools").clicked() {
                    view.sidebar = !view.sidebar;
                }
                ui.selectable_value(&mut view.tab, Tab::Messages, "Messages");
                ui.selectable_value(&mut view.tab, Tab::Topics, "Topics");
                ui.selectable_value(&mut view.tab, Tab::Plot, "Plot");
                ui.selectable_value(&mut view.tab, Tab::Packets, "Packets");
                ui.selectable_value(&mut view.tab, Tab::Log, "Log");
                ui.separator();
                if ui.button("Screenshot window").on_hover_text("F12").clicked() {
                    intents.push(Intent::Report(ReportIntent::Screenshot { tab: false }));
                }
                if ui.button("Screenshot tab").on_hover_text("Shift+F12").clicked() {
                    intents.push(Intent::Report(ReportIntent::Screenshot { tab: true }));
                }
                ui.checkbox(&mut self.reports.caption_on, "Caption");
            });
            ui.separator();
            match self.view.tab {
                Tab::Messages => {
                    self.stored_logic();
                    let progress = self.export_progress();
                    let (view, model) = (&mut self.view.messages, &mut self.sessions.shown_mut().model);
                    let out = ui::messages_panel(
                        ui,
                        view,
                        &mut model.messages,
                        &model.stored,
                        &model.subscriptions,
                        progress,
                    );
                    self.read_pages(out.missing);
                    if let Some(format) = out.export {
                        self.export_messages(format);
                    }
                    if let Some(request) = out.reply {
                        intents.push(Intent::Connection(ConnIntent::Reply(request)));
                    }
                }
                Tab::Packets => {
                    intents.extend(ui::inspector_panel(
                        ui,
                        &mut self.view.inspector,
                        &self.sessions.shown().model.packets,
                    ));
                }
                Tab::Log => self.log_tab(ui),
                Tab::Topics => self.topics_tab(ui, intents),
                Tab::Plot => {
                    let now = plot::now_secs();
                    self.plot_logic(now);
                    let defs = &self.profiles.list[self.view_index()].plot;
                    let input = self.plot.input(defs, self.history.path.is_some(), now);
                    intents.extend(ui::plot_tab(ui, &mut self.view.plot, &input));
                    if self.view.plot.range.follows() {
                        // A live plot moves with the clock: redraw a few times a second.
                        ui.ctx().request_repaint_after(Duration::from_millis(250));
                    }
                }
            }
        });
        self.view.tab_rect = central.response.rect;
    }
}
