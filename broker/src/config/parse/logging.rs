//! The logging options: `log_dest`, `log_type`, `log_timestamp`, `log_timestamp_format`,
//! `log_facility`, `connection_messages`.

use super::{Parser, boolean, leading_number, note_once};
use crate::log::{LogDest, LogType, TimestampFormat};

/// Logged once when `log_facility` is read: this broker has no syslog destination, and
/// Mosquitto too ignores the facility when it does not log to syslog.
pub(super) const FACILITY_NOTE: &str =
    "log_facility has no effect: this broker does not log to syslog (log_dest syslog), so there is no facility to set.";

impl Parser<'_> {
    /// `Ok(false)`: not a logging option.
    pub(super) fn log_option(&mut self, option: &str, value: &str) -> Result<bool, String> {
        let c = &mut *self.config;
        match option {
            "connection_messages" => c.log.connection_messages = boolean(option, value)?,
            "log_timestamp" => c.log.timestamp = boolean(option, value)?,
            "log_timestamp_format" => c.log.timestamp_format = Some(TimestampFormat::parse(value)?),
            // Mosquitto reads the number with atoi and takes 0 to 7 (LOG_LOCAL0 to LOG_LOCAL7).
            "log_facility" => {
                if value.is_empty() {
                    return Err("log_facility needs a number from 0 to 7 (local0 to local7)".into());
                }
                let n = leading_number(value);
                if !(0..=7).contains(&n) {
                    return Err(format!("log_facility must be 0 to 7 (local0 to local7), got {n}"));
                }
                note_once(&mut c.startup_notes, FACILITY_NOTE);
            }
            "log_type" => {
                let t = LogType::parse(value).ok_or_else(|| {
                    format!("log_type {value:?} is not one of error, warning, notice, information, subscribe, unsubscribe, websockets, debug, all, none")
                })?;
                c.log.add_type(t);
            }
            "log_dest" => c.log.add_dest(LogDest::parse(value)?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
