//! Who may connect, publish and subscribe: `password_file`, `acl_file`, `clientid_prefixes`
//! and `allow_anonymous`, read at startup and again on reload (SIGHUP).

mod acl;
mod passwd;
mod passwd_edit;
mod psk;
mod scope;

use std::path::Path;
use std::sync::Arc;

pub use acl::{Access, Acl, Client};
pub use passwd::{Check, LineProblem, PasswordFile, PasswordHash, WRITE_ITERATIONS, WRITE_SALT_LEN};
pub use passwd_edit::{PASSWD_USAGE, PasswdArgs, edit_text, run_passwd};
pub use psk::{PskFile, decode_hex_key};
pub use scope::{AclScope, AclSet};

use crate::codec::ConnectReturnCode;
use crate::config::{Config, ConnackCodes};

/// A refused CONNECT: the code to answer and the reason to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ConnectReturnCode,
    pub reason: String,
}

/// A file that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} {path}: {error}")]
pub struct AuthError {
    pub what: &'static str,
    pub path: String,
    pub error: std::io::Error,
}

/// The security settings in force; replaced whole on reload.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    passwords: Option<PasswordFile>,
    /// Shared with the router, which checks read access at every delivery.
    acl: Option<Arc<Acl>>,
    psk: Option<PskFile>,
    prefix: Option<String>,
    anonymous: bool,
    codes: ConnackCodes,
}

/// What loading found wrong with single lines (the rest is in force).
pub type Warnings = Vec<String>;

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

impl Auth {
    /// Reads the password, ACL and PSK files that `config` names.
    pub fn load(config: &Config) -> Result<(Self, Warnings), AuthError> {
        let mut warnings = Vec::new();
        let auth = Self {
            passwords: load_file("password_file", config.password_file.as_deref(), PasswordFile::parse, &mut warnings)?,
            acl: load_file("acl_file", config.acl_file.as_deref(), Acl::parse, &mut warnings)?.map(Arc::new),
            psk: load_file("psk_file", config.psk_file.as_deref(), PskFile::parse, &mut warnings)?,
            prefix: config.clientid_prefixes.clone(),
            anonymous: config.anonymous_allowed(),
            codes: config.connack_codes,
        };
        Ok((auth, warnings))
    }

    /// The ACL a connection under `scope` is held to.
    pub fn acl(&self, scope: AclScope) -> Option<&Acl> {
        match scope {
            AclScope::Trusted => None,
            AclScope::Global | AclScope::Listener(_) => self.acl.as_deref(),
        }
    }

    /// The scope of a connection on the listener at `index` of the config (`None`: a
    /// listener the config does not list).
    pub fn scope(&self, index: Option<usize>) -> AclScope {
        let _ = index;
        AclScope::Global
    }

    /// The ACLs for the router to keep (see [`crate::broker::Router::set_acl`]).
    pub fn shared_acl(&self) -> AclSet {
        AclSet::from(self.acl.clone())
    }

    /// The pre-shared key of a TLS-PSK identity.
    pub fn psk(&self, identity: &str) -> Option<&[u8]> {
        self.psk.as_ref().and_then(|f| f.key(identity))
    }

    /// Decides a CONNECT whose client is already authenticated by its transport (a PSK identity
    /// or a certificate with `use_identity_as_username`): only the client id prefix applies.
    pub fn check_identified(&self, client_id: &str) -> Result<(), Refusal> {
        match &self.prefix {
            Some(prefix) if !client_id.starts_with(prefix.as_str()) => Err(self.refuse(
                ConnectReturnCode::NotAuthorized,
                ConnectReturnCode::IdentifierRejected,
                format!("client id does not start with the clientid_prefixes {prefix:?}"),
            )),
            _ => Ok(()),
        }
    }

    fn refuse(&self, mosquitto: ConnectReturnCode, precise: ConnectReturnCode, reason: String) -> Refusal {
        let code = match self.codes {
            ConnackCodes::Mosquitto => mosquitto,
            ConnackCodes::Precise => precise,
        };
        Refusal { code, reason }
    }

    /// Decides a CONNECT. Mosquitto answers 5 to every refusal here; with
    /// `connack_codes precise` the 3.1.1 codes 2 (identifier) and 4 (user name or password).
    pub fn check_connect(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<(), Refusal> {
        use ConnectReturnCode::{BadUsernameOrPassword as Bad, NotAuthorized};
        self.check_identified(client_id)?;
        let Some(user) = username else {
            if self.anonymous {
                return Ok(());
            }
            return Err(self.refuse(
                NotAuthorized,
                NotAuthorized,
                "anonymous access is off (allow_anonymous false)".into(),
            ));
        };
        let Some(passwords) = &self.passwords else {
            // As Mosquitto 2.0: with no password file there is no user to check a name against.
            if self.anonymous {
                return Ok(());
            }
            return Err(self.refuse(
                NotAuthorized,
                NotAuthorized,
                "anonymous access is off (allow_anonymous false) and no password_file is configured".into(),
            ));
        };
        match passwords.check(user, password.unwrap_or_default()) {
            // An empty password never logs in, even where the file holds the hash of "" (as
            // Mosquitto 2.0, which answers 5 with or without the password field).
            Check::Valid if password.is_some_and(|p| !p.is_empty()) => Ok(()),
            Check::Valid | Check::WrongPassword => {
                Err(self.refuse(NotAuthorized, Bad, format!("wrong password for user {user:?}")))
            }
            Check::UnknownUser => Err(self.refuse(NotAuthorized, Bad, format!("unknown user {user:?}"))),
        }
    }
}

#[cfg(test)]
impl Auth {
    /// Settings with an ACL and no password file, for tests elsewhere in the crate.
    pub(crate) fn for_tests(acl: Option<Acl>, anonymous: bool) -> Self {
        Self { acl: acl.map(Arc::new), anonymous, ..Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(edit: impl FnOnce(&mut Auth)) -> Auth {
        let mut file = PasswordFile::default();
        file.set("btsiot1", PasswordHash::new_pbkdf2("btsiotpass1").unwrap());
        let mut a = Auth { passwords: Some(file), prefix: Some("btsiot-".into()), ..Auth::default() };
        edit(&mut a);
        a
    }

    #[test]
    fn the_course_setup_admits_the_right_user_with_the_prefix() {
        let a = auth(|_| {});
        assert_eq!(a.check_connect("btsiot-client1", Some("btsiot1"), Some(b"btsiotpass1")), Ok(()));
    }

    #[test]
    fn mosquitto_answers_5_to_every_refusal() {
        let a = auth(|_| {});
        for (id, user, pw, why) in [
            ("client1", Some("btsiot1"), Some(&b"btsiotpass1"[..]), "clientid_prefixes"),
            ("btsiot-c", Some("btsiot1"), Some(&b"nope"[..]), "wrong password"),
            ("btsiot-c", Some("btsiot1"), None, "wrong password"),
            ("btsiot-c", Some("nobody"), Some(&b"x"[..]), "unknown user"),
            ("btsiot-c", None, None, "anonymous access is off"),
        ] {
            let r = a.check_connect(id, user, pw).unwrap_err();
            assert_eq!(r.code, ConnectReturnCode::NotAuthorized, "{why}");
            assert!(r.reason.contains(why), "{} / {why}", r.reason);
            assert!(!r.reason.contains("nope"), "the password never reaches the reason");
        }
    }

    #[test]
    fn the_hash_of_the_empty_password_never_logs_in() {
        let a = auth(|a| {
            if let Some(file) = &mut a.passwords {
                file.set("empty", PasswordHash::new_pbkdf2("").unwrap());
            }
        });
        for password in [None, Some(&b""[..])] {
            let r = a.check_connect("btsiot-c", Some("empty"), password).unwrap_err();
            assert_eq!(r.code, ConnectReturnCode::NotAuthorized, "{password:?}");
        }
    }

    #[test]
    fn precise_codes_follow_mqtt_3_1_1() {
        let a = auth(|a| a.codes = ConnackCodes::Precise);
        assert_eq!(
            a.check_connect("x", Some("btsiot1"), Some(b"btsiotpass1")).unwrap_err().code,
            ConnectReturnCode::IdentifierRejected
        );
        assert_eq!(
            a.check_connect("btsiot-x", Some("btsiot1"), Some(b"bad")).unwrap_err().code,
            ConnectReturnCode::BadUsernameOrPassword
        );
        assert_eq!(a.check_connect("btsiot-x", None, None).unwrap_err().code, ConnectReturnCode::NotAuthorized);
    }

    #[test]
    fn anonymous_access_admits_clients_without_a_user_name_only() {
        let a = auth(|a| a.anonymous = true);
        assert_eq!(a.check_connect("btsiot-x", None, None), Ok(()));
        assert!(a.check_connect("btsiot-x", Some("btsiot1"), Some(b"bad")).is_err(), "a wrong password is still wrong");
    }
}
