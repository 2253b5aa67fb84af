//! Who may connect, publish and subscribe: `password_file`, `acl_file`, `clientid_prefixes`
//! and `allow_anonymous`, read at startup and again on reload (SIGHUP).

mod acl;
mod passwd;
mod passwd_edit;
mod psk;
mod scope;
mod security;

pub use acl::{Access, Acl, Client};
pub use passwd::{Check, LineProblem, PasswordFile, PasswordHash, WRITE_ITERATIONS, WRITE_SALT_LEN};
pub use passwd_edit::{PASSWD_USAGE, PasswdArgs, edit_text, run_passwd};
pub use psk::{PskFile, decode_hex_key};
pub use scope::{AclScope, AclSet};

use crate::codec::ConnectReturnCode;
use crate::config::{Config, ConnackCodes};
use security::Security;

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
    /// The broker's: every connection's unless its listener has its own.
    global: Security,
    /// `per_listener_settings true`: each listener's own, by its index in the config (`None`:
    /// the global settings). Empty otherwise.
    listeners: Vec<Option<Security>>,
    /// `clientid_prefixes`: global in Mosquitto, whatever `per_listener_settings` says.
    prefix: Option<String>,
    codes: ConnackCodes,
}

/// What loading found wrong with single lines (the rest is in force).
pub type Warnings = Vec<String>;

impl Auth {
    /// Reads the password, ACL and PSK files that `config` names, globally and for each
    /// listener with settings of its own.
    pub fn load(config: &Config) -> Result<(Self, Warnings), AuthError> {
        let mut warnings = Vec::new();
        let global = Security::global(config, &mut warnings)?;
        let listeners = config
            .listeners
            .iter()
            .map(|l| l.security.as_deref().map(|s| Security::listener(s, &mut warnings)).transpose())
            .collect::<Result<_, _>>()?;
        let auth = Self { global, listeners, prefix: config.clientid_prefixes.clone(), codes: config.connack_codes };
        Ok((auth, warnings))
    }

    /// The scope of a connection on the listener at `index` of the config (`None`: a
    /// listener the config does not list): the listener's own settings if it has them.
    pub fn scope(&self, index: Option<usize>) -> AclScope {
        match index {
            Some(i) if matches!(self.listeners.get(i), Some(Some(_))) => AclScope::Listener(i),
            _ => AclScope::Global,
        }
    }

    fn security(&self, scope: AclScope) -> &Security {
        match scope {
            AclScope::Listener(i) => self.listeners.get(i).and_then(Option::as_ref).unwrap_or(&self.global),
            AclScope::Global | AclScope::Trusted => &self.global,
        }
    }

    /// The ACL a connection under `scope` is held to (none for a bridge).
    pub fn acl(&self, scope: AclScope) -> Option<&Acl> {
        match scope {
            AclScope::Trusted => None,
            scope => self.security(scope).acl.as_deref(),
        }
    }

    /// The ACLs for the router to keep (see [`crate::broker::Router::set_acl`]).
    pub fn shared_acl(&self) -> AclSet {
        AclSet {
            global: self.global.acl.clone(),
            listeners: self
                .listeners
                .iter()
                .map(|s| s.as_ref().map_or_else(|| self.global.acl.clone(), |s| s.acl.clone()))
                .collect(),
        }
    }

    /// The pre-shared key of a TLS-PSK identity, in the `psk_file` of `scope`.
    pub fn psk(&self, scope: AclScope, identity: &str) -> Option<&[u8]> {
        self.security(scope).psk.as_ref().and_then(|f| f.key(identity))
    }

    /// `auto_id_prefix` under `scope`.
    pub fn auto_id_prefix(&self, scope: AclScope) -> &str {
        &self.security(scope).auto_id_prefix
    }

    /// `allow_zero_length_clientid` under `scope`.
    pub fn allows_empty_client_id(&self, scope: AclScope) -> bool {
        self.security(scope).allow_empty_id
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

    /// A refusal with Mosquitto's code, or with `connack_codes precise` MQTT 3.1.1's.
    pub fn refuse(&self, mosquitto: ConnectReturnCode, precise: ConnectReturnCode, reason: String) -> Refusal {
        let code = match self.codes {
            ConnackCodes::Mosquitto => mosquitto,
            ConnackCodes::Precise => precise,
        };
        Refusal { code, reason }
    }

    /// Decides a CONNECT under `scope`'s settings. Mosquitto answers 5 to every refusal here;
    /// with `connack_codes precise` the 3.1.1 codes 2 (identifier) and 4 (user name or
    /// password).
    pub fn check_connect(
        &self,
        scope: AclScope,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<(), Refusal> {
        use ConnectReturnCode::{BadUsernameOrPassword as Bad, NotAuthorized};
        self.check_identified(client_id)?;
        let security = self.security(scope);
        let Some(user) = username else {
            if security.anonymous {
                return Ok(());
            }
            return Err(self.refuse(
                NotAuthorized,
                NotAuthorized,
                "anonymous access is off (allow_anonymous false)".into(),
            ));
        };
        let Some(passwords) = &security.passwords else {
            // As Mosquitto 2.0: with no password file there is no user to check a name against.
            if security.anonymous {
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
        Self {
            global: Security { acl: acl.map(std::sync::Arc::new), anonymous, ..Security::default() },
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: AclScope = AclScope::Global;

    fn auth(edit: impl FnOnce(&mut Auth)) -> Auth {
        let mut file = PasswordFile::default();
        file.set("btsiot1", PasswordHash::new_pbkdf2("btsiotpass1").unwrap());
        let global = Security { passwords: Some(file), ..Security::default() };
        let mut a = Auth { global, prefix: Some("btsiot-".into()), ..Auth::default() };
        edit(&mut a);
        a
    }

    #[test]
    fn the_course_setup_admits_the_right_user_with_the_prefix() {
        let a = auth(|_| {});
        assert_eq!(a.check_connect(G, "btsiot-client1", Some("btsiot1"), Some(b"btsiotpass1")), Ok(()));
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
            let r = a.check_connect(G, id, user, pw).unwrap_err();
            assert_eq!(r.code, ConnectReturnCode::NotAuthorized, "{why}");
            assert!(r.reason.contains(why), "{} / {why}", r.reason);
            assert!(!r.reason.contains("nope"), "the password never reaches the reason");
        }
    }

    #[test]
    fn the_hash_of_the_empty_password_never_logs_in() {
        let a = auth(|a| {
            if let Some(file) = &mut a.global.passwords {
                file.set("empty", PasswordHash::new_pbkdf2("").unwrap());
            }
        });
        for password in [None, Some(&b""[..])] {
            let r = a.check_connect(G, "btsiot-c", Some("empty"), password).unwrap_err();
            assert_eq!(r.code, ConnectReturnCode::NotAuthorized, "{password:?}");
        }
    }

    #[test]
    fn precise_codes_follow_mqtt_3_1_1() {
        let a = auth(|a| a.codes = ConnackCodes::Precise);
        assert_eq!(
            a.check_connect(G, "x", Some("btsiot1"), Some(b"btsiotpass1")).unwrap_err().code,
            ConnectReturnCode::IdentifierRejected
        );
        assert_eq!(
            a.check_connect(G, "btsiot-x", Some("btsiot1"), Some(b"bad")).unwrap_err().code,
            ConnectReturnCode::BadUsernameOrPassword
        );
        assert_eq!(a.check_connect(G, "btsiot-x", None, None).unwrap_err().code, ConnectReturnCode::NotAuthorized);
    }

    #[test]
    fn anonymous_access_admits_clients_without_a_user_name_only() {
        let a = auth(|a| a.global.anonymous = true);
        assert_eq!(a.check_connect(G, "btsiot-x", None, None), Ok(()));
        assert!(
            a.check_connect(G, "btsiot-x", Some("btsiot1"), Some(b"bad")).is_err(),
            "a wrong password is still wrong"
        );
    }
}
