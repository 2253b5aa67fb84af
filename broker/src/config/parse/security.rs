//! `per_listener_settings true`: the authentication options (`allow_anonymous`,
//! `allow_zero_length_clientid`, `auto_id_prefix`, `password_file`, `acl_file`, `psk_file`)
//! belong to the listener they follow, as Mosquitto 2.0.11 reads them:
//!
//! - `per_listener_settings true` after any of them is an error (Mosquitto: "per_listener_settings
//!   must be set before any other security settings"); `false` is accepted anywhere.
//! - Before the first `listener` line they are the default listener's (the one `port` sets).
//!   A default listener is made for `password_file`, `psk_file` or `allow_zero_length_clientid
//!   false` there, as Mosquitto makes one on port 1883; for `allow_anonymous`, `acl_file` or
//!   `auto_id_prefix` alone it is not, and those settings apply to no listener.
//! - A listener without such options has the defaults: no anonymous clients (a listener is
//!   configured), no password file, no ACL.
//!
//! One difference on purpose: Mosquitto 2.0.11 lets anonymous clients onto the default listener
//! when `allow_anonymous` is not set for it (the "not set" value passes its anonymous check);
//! here that listener refuses them, as every other listener does.

use std::path::PathBuf;

use super::{Parser, boolean, path};
use crate::config::{ListenerConfig, ListenerSecurity};

/// The options that `per_listener_settings true` makes a listener's own.
const SECURITY_OPTIONS: &[&str] =
    &["allow_anonymous", "allow_zero_length_clientid", "auto_id_prefix", "password_file", "acl_file", "psk_file"];

/// What the parser keeps to place the authentication options.
#[derive(Debug, Default)]
pub(super) struct SecurityState {
    /// `per_listener_settings true` has been read.
    per_listener: bool,
    /// The first authentication option read, for the error when `per_listener_settings true`
    /// comes after it.
    first_seen: Option<String>,
    /// With `per_listener_settings true`: the default listener's options (those before the
    /// first `listener` line).
    default: ListenerSecurity,
    /// The default listener exists (`port`, `bind_address` or a listener option before the
    /// first `listener` line made it): `config.listeners[0]`.
    pub default_listener: bool,
}

impl Parser<'_> {
    /// `per_listener_settings` and, while it is on, the authentication options. `Ok(false)`:
    /// not one of them, or a global one for the caller to read.
    pub(super) fn security_option(&mut self, option: &str, value: &str) -> Result<bool, String> {
        let state = &mut self.security;
        if option == "per_listener_settings" {
            let on = boolean(option, value)?;
            if let (true, Some(first)) = (on, &state.first_seen) {
                return Err(format!(
                    "per_listener_settings true must come before every other security option, and {first} came first (as in Mosquitto 2.0)"
                ));
            }
            state.per_listener = on;
            return Ok(true);
        }
        if !SECURITY_OPTIONS.contains(&option) {
            return Ok(false);
        }
        if state.first_seen.is_none() {
            state.first_seen = Some(option.to_owned());
        }
        if !state.per_listener {
            return Ok(false);
        }
        if self.in_default_listener {
            apply(&mut self.security.default, option, value)?;
        } else {
            let listener = self.listener();
            apply(listener.security.get_or_insert_default(), option, value)?;
        }
        Ok(true)
    }

    /// With `per_listener_settings true`: gives the default listener its options (making it
    /// where Mosquitto would) and every other listener the defaults it did not override.
    pub(super) fn finish_security(&mut self) {
        let state = &mut self.security;
        if !state.per_listener {
            return;
        }
        let default = std::mem::take(&mut state.default);
        let makes_listener =
            default.password_file.is_some() || default.psk_file.is_some() || !default.allow_zero_length_clientid;
        let listeners = &mut self.config.listeners;
        if state.default_listener {
            listeners[0].security = Some(Box::new(default));
        } else if makes_listener {
            let made = ListenerConfig { security: Some(Box::new(default)), ..ListenerConfig::on_port(1883, None) };
            listeners.insert(0, made);
            state.default_listener = true;
        }
        for listener in listeners {
            listener.security.get_or_insert_default();
        }
    }
}

fn apply(s: &mut ListenerSecurity, option: &str, value: &str) -> Result<(), String> {
    match option {
        "allow_anonymous" => s.allow_anonymous = Some(boolean(option, value)?),
        "allow_zero_length_clientid" => s.allow_zero_length_clientid = boolean(option, value)?,
        "auto_id_prefix" => value.clone_into(&mut s.auto_id_prefix),
        "password_file" => s.password_file = Some(PathBuf::from(path(option, value)?)),
        "acl_file" => s.acl_file = Some(PathBuf::from(path(option, value)?)),
        "psk_file" => s.psk_file = Some(PathBuf::from(path(option, value)?)),
        _ => unreachable!("{option} is in SECURITY_OPTIONS"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ListenerSecurity};

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("test.conf")).map_err(|e| e.to_string())
    }

    fn security(c: &Config, i: usize) -> ListenerSecurity {
        *c.listeners[i].security.clone().expect("per-listener settings")
    }

    #[test]
    fn each_listener_gets_the_options_that_follow_it() {
        let c = parse("per_listener_settings true\nlistener 1\nallow_anonymous true\nlistener 2\npassword_file p\n")
            .unwrap();
        assert_eq!(c.listeners.len(), 2);
        assert_eq!(security(&c, 0).allow_anonymous, Some(true));
        assert_eq!(security(&c, 0).password_file, None);
        assert_eq!(security(&c, 1).allow_anonymous, None);
        assert_eq!(security(&c, 1).password_file.as_deref(), Some(Path::new("p")));
        assert_eq!(c.allow_anonymous, None, "nothing global");
        assert_eq!(c.password_file, None);
    }

    #[test]
    fn per_listener_settings_true_after_a_security_option_is_an_error() {
        let e = parse("allow_anonymous true\nper_listener_settings true\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("allow_anonymous came first"), "{e}");
        let e = parse("listener 1\nacl_file a\nper_listener_settings true\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(parse("listener 1\nper_listener_settings true\n").is_ok(), "a listener line is no security option");
        assert!(parse("allow_anonymous true\nper_listener_settings false\n").is_ok());
    }

    #[test]
    fn options_before_the_first_listener_are_the_default_listener_s() {
        let c = parse("per_listener_settings true\nport 1884\nlistener 1\nallow_anonymous true\n").unwrap();
        assert_eq!((c.listeners[0].port, c.listeners[1].port), (1884, 1));
        let c = parse("per_listener_settings true\nallow_anonymous true\nport 1884\nlistener 1\n").unwrap();
        assert_eq!(security(&c, 0).allow_anonymous, Some(true));
        assert_eq!(security(&c, 1).allow_anonymous, None);
        // Made for a password file, not for allow_anonymous alone (as Mosquitto 2.0.11).
        let c = parse("per_listener_settings true\npassword_file p\nlistener 1\n").unwrap();
        assert_eq!((c.listeners.len(), c.listeners[0].port, c.listeners[0].bind_address.clone()), (2, 1883, None));
        let c = parse("per_listener_settings true\nallow_anonymous true\nacl_file a\nlistener 1\n").unwrap();
        assert_eq!(c.listeners.len(), 1);
        assert_eq!(security(&c, 0).allow_anonymous, None);
    }
}
