//! The app's side of the topic tree: each session's tree fed from its messages, the Topics tab's
//! intents applied (placeholder until the tab lands).

use super::App;
use crate::ui::TreeIntent;

impl App {
    pub(super) fn apply_tree(&mut self, intent: TreeIntent) {
        let _ = intent;
    }
}

impl App {
    /// The Topics tab (drawn by `ui::topics_tab` once it lands).
    pub(super) fn topics_tab(&mut self, ui: &mut egui::Ui, intents: &mut Vec<crate::ui::Intent>) {
        let _ = intents;
        ui.label("Topics");
    }
}
