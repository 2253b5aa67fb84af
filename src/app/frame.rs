//! The frame's layout: which panel goes where, each filled by a `ui` module that returns intents.
//!
//! Laid out for laptop screens (1024x640 and up): the connection bar on top (errors wrap in
//! full); a sidebar (profile, subscriptions, tools) that can be resized or hidden and scrolls;
//! the tabs in the rest. The publish form sits with the Messages tab only and the log is a tab
//! of its own, so the Plot and Packets tabs get the whole height.

use std::time::Duration;

use super::{App, capture, plot};
use crate::ui::{self, Intent, Tab};

impl App {
    pub(super) fn top_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        let summary = self.embedded_summary();
        let names: Vec<String> = self.profiles.iter().map(|p| p.name.clone()).collect();
        let open = self.connection_title();
        let open_is_selected = self.connected_profile() == Some(self.profile().name.as_str());
        if self.confirm_switch
            && let Some(open) = self.connected_profile()
        {
            match ui::switch_question(ui.ctx(), open, &self.profile().name) {
                Some(true) => intents.push(Intent::SwitchConnection),
                Some(false) => self.confirm_switch = false,
                None => {}
            }
        }
        egui::Panel::top("connection").show(ui, |ui| {
            let state = ui::BarState {
                names: &names,
                selected: self.selected,
                open: open.as_deref(),
                open_is_selected,
                status: &self.model.status,
                embedded: &summary,
            };
            let profile = &mut self.profiles[self.selected];
            let shortcuts = &mut self.show_shortcuts;
            intents.extend(ui::connection_bar(ui, &state, profile, &mut self.port_text, |ui| {
                ui::theme_picker(ui);
                if ui.button("Shortcuts").on_hover_text("F1").clicked() {
                    *shortcuts = !*shortcuts;
                }
            }));
        });
    }

    pub(super) fn left_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        if !self.sidebar {
            return;
        }
        let connected = self.can_send();
        let widest = (ui.available_width() * 0.45).max(240.0);
        egui::Panel::left("sidebar").resizable(true).default_size(300.0).size_range(220.0..=widest).show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| self.sidebar_ui(ui, intents, connected));
        });
    }

    fn sidebar_ui(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>, connected: bool) {
        {
            // A test's steps show under the profile it tested, not whichever is selected now.
            let name = &self.profiles[self.selected].name;
            let self_test = self.self_test.as_ref().filter(|t| &t.profile == name);
            intents.extend(ui::profile_editor(ui, &mut self.profiles[self.selected], &mut self.transfer, self_test));
            ui.separator();
            intents.extend(ui::subscribe_panel(ui, &mut self.subscribe_form, &self.model.subscriptions, connected));
            ui.separator();
            egui::CollapsingHeader::new("Broker status").show(ui, |ui| {
                let watching = self
                    .model
                    .subscriptions
                    .list
                    .iter()
                    .any(|s| s.for_status || s.filter == crate::model::WATCH_FILTER);
                intents.extend(ui::sys_panel(ui, &self.model.sys, watching, connected));
            });
            egui::CollapsingHeader::new("Simulators").show(ui, |ui| {
                let running = ui::DEVICES.map(|d| self.simulator_running(d));
                intents.extend(ui::simulators_panel(ui, &mut self.sim_form, running, &self.sim_status));
            });
            egui::CollapsingHeader::new("Screenshots and exports").show(ui, |ui| {
                // The path on a row of its own, as wide as the sidebar: a long path must not
                // widen the sidebar and push the tabs' buttons out of the window.
                let label = ui.label("Reports folder");
                ui.horizontal(|ui| {
                    let width = (ui.available_width() - 80.0).max(80.0);
                    ui.add(egui::TextEdit::singleline(&mut self.screenshot_folder).desired_width(width))
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
                let (stats, name) = (self.history_stats.as_ref(), &self.profiles[self.selected].name);
                intents.extend(ui::history_panel(ui, &mut self.history_form, stats, name));
            });
        }
    }

    /// The publish form, with the Messages tab only: messages above, what to send below.
    pub(super) fn bottom_panel(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        if self.tab != Tab::Messages {
            return;
        }
        let connected = self.can_send();
        egui::Panel::bottom("publish").show(ui, |ui| {
            let profile = &self.profiles[self.view_index()];
            let (favourites, recent) = (&profile.favourites, &profile.topic_history);
            intents.extend(ui::publish_panel(ui, &mut self.publish_form, favourites, recent, connected));
        });
    }

    /// The Log tab: every line, newest at the bottom, wrapped in full.
    fn log_tab(&self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
            for line in self.model.log.iter().rev().take(500).rev() {
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
            self.show_shortcuts = !self.show_shortcuts;
        }
        ui::shortcuts_window(ui.ctx(), &mut self.show_shortcuts);
        // While a screenshot is under way: the caption line, and no notice in the picture.
        let capturing = self.capturing();
        let caption = (capturing && self.caption_on).then(|| self.caption());
        let central = egui::CentralPanel::default().show(ui, |ui| {
            if let Some(caption) = &caption {
                ui.strong(caption);
            } else if !capturing {
                self.notice_bar(ui);
            }
            ui.horizontal_wrapped(|ui| {
                let sidebar = if self.sidebar { "Hide sidebar" } else { "Show sidebar" };
                if ui.button(sidebar).on_hover_text("The profile, subscriptions and tools").clicked() {
                    self.sidebar = !self.sidebar;
                }
                ui.selectable_value(&mut self.tab, Tab::Messages, "Messages");
                ui.selectable_value(&mut self.tab, Tab::Plot, "Plot");
                ui.selectable_value(&mut self.tab, Tab::Packets, "Packets");
                ui.selectable_value(&mut self.tab, Tab::Log, "Log");
                ui.separator();
                if ui.button("Screenshot window").on_hover_text("F12").clicked() {
                    intents.push(Intent::Screenshot { tab: false });
                }
                if ui.button("Screenshot tab").on_hover_text("Shift+F12").clicked() {
                    intents.push(Intent::Screenshot { tab: true });
                }
                ui.checkbox(&mut self.caption_on, "Caption");
            });
            ui.separator();
            match self.tab {
                Tab::Messages => {
                    self.stored_logic();
                    let progress = self.export_progress();
                    let (view, model) = (&mut self.messages_view, &mut self.model);
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
                }
                Tab::Packets => intents.extend(ui::inspector_panel(ui, &mut self.inspector, &self.model.packets)),
                Tab::Log => self.log_tab(ui),
                Tab::Plot => {
                    let now = plot::now_secs();
                    self.plot_logic(now);
                    let defs = &self.profiles[self.selected].plot;
                    let input = self.plot.input(defs, self.history_path.is_some(), now);
                    intents.extend(ui::plot_tab(ui, &mut self.plot_view, &input));
                    if self.plot_view.range.follows() {
                        // A live plot moves with the clock: redraw a few times a second.
                        ui.ctx().request_repaint_after(Duration::from_millis(250));
                    }
                }
            }
        });
        self.tab_rect = central.response.rect;
    }
}
