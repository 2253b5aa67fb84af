//! What the window shows, apart from any connection: the tab, the sidebar, the windows and
//! questions on top, and each tab's own view state (search and scroll, selected packet, plot
//! range and series being edited).

use crate::ui::{InspectorView, MessagesView, PlotView, Tab};

/// The view state of the window.
pub(super) struct View {
    /// Messages, Plot, Packets or Log, in the central panel.
    pub tab: Tab,
    /// The sidebar (profile, subscriptions, tools) is shown; hidden, the tabs get the width.
    pub sidebar: bool,
    /// The keyboard shortcuts window is open.
    pub show_shortcuts: bool,
    /// The central panel's area last frame: what "Screenshot tab" captures.
    pub tab_rect: egui::Rect,
    /// The message list's search, selection and scroll.
    pub messages: MessagesView,
    /// The packet inspector's selection and its "reveal password" choice.
    pub inspector: InspectorView,
    /// The plot's range, time axis, series being edited and export fields.
    pub plot: PlotView,
}

impl Default for View {
    fn default() -> Self {
        Self {
            tab: Tab::Messages,
            sidebar: true,
            show_shortcuts: false,
            tab_rect: egui::Rect::NOTHING,
            messages: MessagesView::default(),
            inspector: InspectorView::default(),
            plot: PlotView::default(),
        }
    }
}
