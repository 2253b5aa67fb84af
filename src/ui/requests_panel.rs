//! The Requests list: each MQTT 5 request sent from the publish form, its correlation data,
//! and the answer with its round trip, or that none came in time.

use super::{AutoIntent, Intent};

/// How a request ended, or that it still waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    Waiting,
    Answered { payload: String, millis: u128 },
    TimedOut { secs: u64 },
}

/// One request as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    /// 1 for the session's first request.
    pub number: u64,
    pub topic: String,
    pub response_topic: String,
    /// As text when printable, else `0x…`.
    pub correlation: String,
    pub outcome: RequestOutcome,
}

impl RequestRow {
    /// The outcome in one line, as the list and the publish form show it.
    pub fn outcome_text(&self) -> String {
        match &self.outcome {
            RequestOutcome::Waiting => {
                format!("request {} waiting for an answer on {}", self.number, self.response_topic)
            }
            RequestOutcome::Answered { payload, millis } => {
                format!("request {} answered in {millis} ms: {payload}", self.number)
            }
            RequestOutcome::TimedOut { secs } => format!("request {}: no answer after {secs} s", self.number),
        }
    }
}

/// The seconds typed in `text`, when they are a sensible timeout (1 s to an hour).
pub fn timeout_secs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(secs @ 1..=3600) => Ok(secs),
        _ => Err(format!("The timeout must be a whole number of seconds from 1 to 3600, not {text:?}.")),
    }
}

/// The timeout field, the rows (newest first) and a Clear button.
pub fn requests_panel(ui: &mut egui::Ui, rows: &[RequestRow], timeout: &mut String) -> Vec<Intent> {
    let mut intents = Vec::new();
    super::labelled_field(ui, "Request timeout (s)", timeout, 50.0)
        .on_hover_text("A request not answered within this time is marked as such");
    if let Err(e) = timeout_secs(timeout) {
        ui.colored_label(super::RED, e);
    }
    if rows.is_empty() {
        ui.weak(
            "No requests yet. On an MQTT 5 connection, type a response topic in the publish form's properties \
             and press Send request.",
        );
        return intents;
    }
    for row in rows {
        ui.add(egui::Label::new(format!("{}. {}, correlation {}", row.number, row.topic, row.correlation)).wrap());
        let text = row.outcome_text();
        match row.outcome {
            RequestOutcome::TimedOut { .. } => {
                ui.colored_label(super::RED, text);
            }
            _ => {
                ui.add(egui::Label::new(text).wrap());
            }
        }
        ui.separator();
    }
    if ui.button("Clear requests").clicked() {
        intents.push(Intent::Automation(AutoIntent::ClearRequests));
    }
    intents
}
