//! One set of authentication settings: the broker's, or with `per_listener_settings true` a
//! listener's own. Each is loaded from its files and replaced whole on reload.

use std::path::Path;
use std::sync::Arc;

use super::{Acl, AuthError, LineProblem, PasswordFile, PskFile, Warnings};
use crate::config::{Config, ListenerSecurity};

/// Who may connect and what they may do, under one scope.
#[derive(Debug, Clone)]
pub(super) struct Security {
    pub passwords: Option<PasswordFile>,
    /// Shared with the router, which checks read access at every delivery.
    pub acl: Option<Arc<Acl>>,
    pub psk: Option<PskFile>,
    /// Clients without a user name may connect.
    pub anonymous: bool,
    /// Put in front of the ids the broker gives clients that sent an empty one.
    pub auto_id_prefix: String,
    /// Clients may send an empty client id (MQTT 3.1.1 and 5.0).
    pub allow_empty_id: bool,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            passwords: None,
            acl: None,
            psk: None,
            anonymous: false,
            auto_id_prefix: "auto-".into(),
            allow_empty_id: true,
        }
    }
}

/// Reads and parses one of the files, if `path` names one; its bad lines become warnings.
fn load_file<T>(
    what: &'static str,
    path: Option<&Path>,
    parse: fn(&str) -> (T, Vec<LineProblem>),
    warnings: &mut Warnings,
) -> Result<Option<T>, AuthError> {
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).map_err(|error| AuthError { what, path: path.display().to_string(), error })?;
    let (parsed, problems) = parse(&text);
    warnings.extend(problems.iter().map(|p| format!("{what} {} {p}", path.display())));
    Ok(Some(parsed))
}

/// The files and switches of one scope, as the config names them.
struct Sources<'a> {
    password_file: Option<&'a Path>,
    acl_file: Option<&'a Path>,
    psk_file: Option<&'a Path>,
    anonymous: bool,
    auto_id_prefix: &'a str,
    allow_empty_id: bool,
}

impl Security {
    /// The broker's own settings (every listener's unless `per_listener_settings true`).
    pub fn global(config: &Config, warnings: &mut Warnings) -> Result<Self, AuthError> {
        Self::load(
            &Sources {
                password_file: config.password_file.as_deref(),
                acl_file: config.acl_file.as_deref(),
                psk_file: config.psk_file.as_deref(),
                anonymous: config.anonymous_allowed(),
                auto_id_prefix: &config.auto_id_prefix,
                allow_empty_id: config.allow_zero_length_clientid,
            },
            warnings,
        )
    }

    /// A listener's own settings. `allow_anonymous` not set is false: the listener is
    /// configured (Mosquitto 2.0's rule; see config's `per_listener_settings` notes).
    pub fn listener(s: &ListenerSecurity, warnings: &mut Warnings) -> Result<Self, AuthError> {
        Self::load(
            &Sources {
                password_file: s.password_file.as_deref(),
                acl_file: s.acl_file.as_deref(),
                psk_file: s.psk_file.as_deref(),
                anonymous: s.allow_anonymous.unwrap_or(false),
                auto_id_prefix: &s.auto_id_prefix,
                allow_empty_id: s.allow_zero_length_clientid,
            },
            warnings,
        )
    }

    fn load(s: &Sources<'_>, warnings: &mut Warnings) -> Result<Self, AuthError> {
        Ok(Self {
            passwords: load_file("password_file", s.password_file, PasswordFile::parse, warnings)?,
            acl: load_file("acl_file", s.acl_file, Acl::parse, warnings)?.map(Arc::new),
            psk: load_file("psk_file", s.psk_file, PskFile::parse, warnings)?,
            anonymous: s.anonymous,
            auto_id_prefix: s.auto_id_prefix.to_owned(),
            allow_empty_id: s.allow_empty_id,
        })
    }
}
