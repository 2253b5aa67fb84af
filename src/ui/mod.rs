//! The panels. Each takes the model (and its own form state) and returns what the user asked
//! for as [`Intent`]s, grouped by feature; the app hands each group to that feature.

mod autoreply_panel;
mod connection_bar;
mod connections_list;
mod granted_panel;
mod help;
mod hexview;
mod history_panel;
mod inspector;
mod messages;
mod packet_png;
mod plot_tab;
mod profile_editor;
mod profile_v5;
mod properties_form;
mod properties_view;
mod publish;
mod publish_check;
mod replay_panel;
mod requests_panel;
mod schema_form;
mod series_editor;
mod simulators;
mod sparkline;
mod sub_options_form;
mod subscribe;
mod sys_panel;
mod topic_detail;
mod topic_rows;
mod topics_tab;
mod tree_intent;

pub use autoreply_panel::{AutoReplyForm, autoreply_panel};
pub use connection_bar::{BarState, connection_bar, state_word};
pub use connections_list::{ConnRow, connections_list};
pub use granted_panel::{GrantedRow, granted_panel, granted_rows};
pub use help::{SHORTCUTS, shortcuts_window, theme_picker};
pub use hexview::{Cell, Layout};
pub use history_panel::{HistoryForm, history_panel, size_text};
pub use inspector::{InspectorView, inspector_panel, packet_detail, row_text};
pub use messages::{MessagesOutput, MessagesView, messages_panel};
pub use packet_png::write_packet_png;
pub use plot_tab::{PlotInput, PlotView, plot_tab};
pub use profile_editor::{TransferForm, profile_editor};
pub use properties_form::{PropertiesForm, properties_form, user_property_rows};
pub use properties_view::properties_view;
pub use publish::{FORM_KEY, PublishForm, PublishInput, publish_panel};
pub use publish_check::Preview;
pub use replay_panel::{ReplayAsk, ReplayForm, ReplayShown, replay_panel};
pub use requests_panel::{RequestOutcome, RequestRow, requests_panel, timeout_secs};
use schema_form::{BROKEN, schema_form};
use series_editor::series_editor;
pub use simulators::{DEVICES, SimForm, simulators_panel};
pub use sub_options_form::{SubOptionsForm, sub_options_form};
pub use subscribe::{SubscribeForm, subscribe_panel};
pub use sys_panel::sys_panel;
pub use topic_detail::{BrokerFacts, RetainedFact, Subscriber};
pub use topics_tab::{DeleteAsk, TopicsInput, TopicsView, topics_tab};
pub use tree_intent::TreeIntent;

use crate::connection::Qos;

/// What the user asked for, grouped by the feature that applies it (`App::apply_*`).
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Profile(ProfileIntent),
    /// Acts on the connection on view.
    Connection(ConnIntent),
    Report(ReportIntent),
    Tool(ToolIntent),
    History(HistoryIntent),
    Plot(PlotIntent),
    /// Templates, requests and auto-replies (applied by `app::automation`).
    Automation(AutoIntent),
    /// On the topic tree of the connection on view.
    Tree(TreeIntent),
    /// Opens a file dialog to fill a file field (of any feature: see `FileTarget`).
    ChooseFile(FileTarget),
}

/// The profiles: choosing, editing and moving them between machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileIntent {
    Select(usize),
    New,
    Save,
    Duplicate,
    Delete,
    /// Saves the publish form as a named one-click favourite of the profile.
    AddFavourite,
    /// Writes the selected profile to the transfer form's file.
    Export,
    /// Reads a profile from the transfer form's file and adds it.
    Import,
}

/// One connection: opening and closing it, what it subscribes to and publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnIntent {
    /// Connects the selected profile: in the blank session on view, again in its own listed
    /// session, or in a new session beside the others.
    Connect,
    /// Opens the selected profile once more beside its open connection, with a distinct client
    /// id (a publisher and a subscriber side by side).
    OpenAgain,
    /// Disconnects the session on view; it stays listed with what it showed.
    Disconnect,
    /// Shows the session with this id.
    Show(u64),
    /// Disconnects and removes the session with this id from the list.
    Close(u64),
    Subscribe {
        filter: String,
        qos: Qos,
        /// MQTT 5 options (default for 3.1.1).
        options: crate::mqtt::SubOptions,
    },
    Unsubscribe {
        filter: String,
    },
    ToggleMute {
        filter: String,
    },
    /// The broker status panel's own `$SYS/#` subscription: it feeds the panel, not the list.
    WatchSys,
    Publish(crate::mqtt::Outgoing),
    /// Fills the publish form to answer a received MQTT 5 request: its Response Topic, its
    /// Correlation Data copied (the detail pane's "Reply").
    Reply(crate::connection::ReceivedMessage),
}

/// Publishing with variables, MQTT 5 requests and auto-reply rules, on the connection on view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoIntent {
    /// Publishes `message` after expanding the variables of its topic and payload; `key` names
    /// whose `{{counter}}` counts ("form", "favourite:NAME").
    /// `payload_template`: the payload is text with variables (hex bytes are sent as they are).
    Send { key: String, message: crate::mqtt::Outgoing, payload_template: bool },
    /// Sends `message` as a request answered on its Response Topic (subscribed first), with
    /// fresh Correlation Data, and follows it in the Requests list.
    Request { key: String, message: crate::mqtt::Outgoing, payload_template: bool },
    /// Saves these rules in the profile on view and runs them from now on.
    SaveRules(Vec<crate::automation::Rule>),
    /// Lets the rule the loop guard stopped answer again.
    ResumeRule(usize),
    /// Empties the Requests list (waiting requests are forgotten).
    ClearRequests,
}

/// Files for the lab report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportIntent {
    /// Saves a PNG of the window, or of the current tab, into the screenshot folder.
    Screenshot { tab: bool },
    /// Saves a packet of the inspector as an annotated PNG or as text into the reports folder.
    ExportPacket { seq: u64, png: bool },
    /// Saves the captured session as a pcapng file for Wireshark into the reports folder.
    SavePcapng,
}

/// The sidebar's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolIntent {
    /// Starts a simulated device against the selected profile's broker.
    StartSimulator(crate::simulate::Device),
    StopSimulator(crate::simulate::Device),
    /// Runs the connection self-test on the selected profile.
    TestConnection,
}

/// The history file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryIntent {
    /// Saves and applies the history's retention limits.
    SetRetention(crate::history::Retention),
    /// Deletes the selected profile's history (confirmed).
    Clear,
}

/// The plot tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlotIntent {
    /// Saves the plot's series in the profile and reloads the plot.
    ApplySeries(Vec<crate::plot::SeriesDef>),
    /// Writes the points in view as CSV.
    ExportCsv,
    /// Draws the plot in view into a PNG of the chosen size.
    ExportPng,
}

/// What the central panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Messages,
    /// Every topic seen on the connection, as a tree.
    Topics,
    Plot,
    Packets,
    Log,
}

/// Which file field a file dialog fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTarget {
    /// The profile editor's import/export file.
    Profile,
    /// The plot tab's export file.
    PlotExport,
    /// The folder for screenshots and exports.
    ReportsFolder,
}

/// Errors and refusals, readable on light and dark themes.
pub const RED: egui::Color32 = egui::Color32::from_rgb(0xd6, 0x27, 0x28);

/// A profile's problems with `field`, in red under the field.
pub(crate) fn error_for(ui: &mut egui::Ui, profile: &crate::profile::Profile, field: &str) {
    for e in profile.validate().iter().filter(|e| e.field == field) {
        ui.colored_label(RED, &e.message);
    }
}

/// A QoS picker, labelled for screen readers and tests.
pub(crate) fn qos_picker(ui: &mut egui::Ui, id: &str, qos: &mut Qos) {
    labelled_qos_picker(ui, id, "QoS", qos);
}

/// A QoS picker with its own visible label (where several share a panel).
pub(crate) fn labelled_qos_picker(ui: &mut egui::Ui, id: impl egui::AsIdSalt, label: &str, qos: &mut Qos) {
    let label = ui.label(label);
    egui::ComboBox::new(id, "")
        .selected_text(qos.level().to_string())
        .width(40.0)
        .show_ui(ui, |ui| {
            for (q, meaning) in Qos::ALL.into_iter().zip(["at most once", "at least once", "exactly once"]) {
                ui.selectable_value(qos, q, format!("{} ({meaning})", q.level()));
            }
        })
        .response
        .labelled_by(label.id);
}

/// A single-line text field with a visible label that also names it (accessibility, tests).
pub fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32) -> egui::Response {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).desired_width(width)).labelled_by(label.id)
}

/// A small square in a subscription's colour (painted: the default fonts have no block glyph).
pub(crate) fn color_swatch(ui: &mut egui::Ui, [r, g, b]: [u8; 3]) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, egui::Color32::from_rgb(r, g, b));
}
