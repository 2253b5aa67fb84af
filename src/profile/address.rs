//! How a profile reaches its broker: MQTT straight over TCP or inside WebSocket frames, and
//! broker URLs as tutorials and cloud consoles print them (`ws://host:9001/mqtt`,
//! `wss://host/mqtt`, `mqtt://host`, `mqtts://host:8883`), which students paste into the host
//! field: the URL is split into host, port, transport, path and whether TLS is on.

use serde::{Deserialize, Serialize};

pub use crate::connection::websocket::DEFAULT_PATH;

/// What carries MQTT to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Transport {
    /// MQTT bytes straight over TCP (or TLS over TCP): mqtt://, mqtts://.
    #[default]
    #[serde(rename = "tcp")]
    Tcp,
    /// MQTT in binary WebSocket frames after an HTTP upgrade: ws://, or wss:// with TLS.
    #[serde(rename = "websocket")]
    WebSocket,
}

impl Transport {
    pub const ALL: [Self; 2] = [Self::Tcp, Self::WebSocket];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::WebSocket => "WebSocket",
        }
    }

    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub(super) fn is_tcp(&self) -> bool {
        *self == Self::Tcp
    }
}

pub(super) fn is_default_path(path: &str) -> bool {
    path == DEFAULT_PATH
}

pub(super) fn default_path() -> String {
    DEFAULT_PATH.to_owned()
}

/// What a broker URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub transport: Transport,
    /// wss:// and mqtts://: TLS (or TLS-PSK) is on.
    pub secure: bool,
    pub host: String,
    /// The URL's port, or its scheme's usual one (ws 80, wss 443, mqtt 1883, mqtts 8883).
    pub port: u16,
    /// The WebSocket request path with its query; `None` for mqtt:// and when the URL has none.
    pub path: Option<String>,
    /// `user[:password]@` before the host, as some consoles print it.
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Whether the host field holds a URL rather than a host name.
pub fn looks_like_url(text: &str) -> bool {
    text.trim().contains("://")
}

/// Reads a broker URL; the error says what is wrong with it, never quoting the user info
/// (shown as `***`). The user info is everything before the authority's last `@`, read
/// percent-decoded (`p%40ss` is `p@ss`).
pub fn parse_url(text: &str) -> Result<BrokerUrl, String> {
    let text = text.trim();
    let shown = super::secrets::redact_userinfo(text);
    let (scheme, rest) = text.split_once("://").ok_or_else(|| format!("{shown:?} is not a URL (scheme://host)"))?;
    let (transport, secure, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "ws" => (Transport::WebSocket, false, 80),
        "wss" => (Transport::WebSocket, true, 443),
        "mqtt" | "tcp" => (Transport::Tcp, false, 1883),
        "mqtts" | "ssl" | "tls" => (Transport::Tcp, true, 8883),
        other => {
            return Err(format!(
                "the scheme {other:?} is not a broker's: use ws:// or wss:// (WebSocket), mqtt:// or mqtts:// (TCP)"
            ));
        }
    };
    let (userinfo, hostport, path) = super::secrets::split_rest(rest);
    let (host, port) = split_host_port(hostport)?;
    if host.is_empty() {
        return Err(format!("the URL {shown:?} has no host name"));
    }
    // A fragment is never sent; a query is part of the request path.
    let path = path
        .map(|p| p.split_once('#').map_or(p, |(before, _)| before))
        .filter(|p| !p.is_empty() && transport == Transport::WebSocket)
        .map(|p| if p.starts_with('?') { format!("/{p}") } else { p.to_owned() });
    let decode = |part: &str, what: &str| {
        super::secrets::percent_decode(part)
            .ok_or_else(|| format!("the {what} in the URL {shown:?} is not valid UTF-8 once percent-decoded"))
    };
    let (username, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (Some(decode(u, "user name")?), Some(decode(p, "password")?)),
            None => (Some(decode(info, "user name")?), None),
        },
        None => (None, None),
    };
    Ok(BrokerUrl {
        transport,
        secure,
        host: host.to_owned(),
        port: port.unwrap_or(default_port),
        path,
        username: username.filter(|u| !u.is_empty()),
        password,
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| format!("{text:?}: the IPv6 address misses its \"]\""))?;
        (host, after.strip_prefix(':'))
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("the port {p:?} is not a number from 1 to 65535")),
        },
        None => None,
    };
    Ok((host, port))
}

/// Why a WebSocket request path cannot be sent, if it cannot.
pub fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("the WebSocket path must start with \"/\" (such as {DEFAULT_PATH}), not {path:?}"));
    }
    if let Some(c) = path.chars().find(|c| c.is_whitespace() || c.is_control() || !c.is_ascii()) {
        return Err(format!("the WebSocket path cannot hold {c:?}: write it URL-encoded (%20 for a space)"));
    }
    Ok(())
}

impl super::Profile {
    /// Reads a URL in the host field into the host, port, transport, path, security and user
    /// name. wss:// and mqtts:// keep the TLS mode chosen (a CA file, a client certificate,
    /// TLS-PSK) or turn on TLS with the system's roots; ws:// and mqtt:// turn TLS off. On an
    /// error nothing changes.
    pub fn apply_url(&mut self) -> Result<(), String> {
        let url = parse_url(&self.host)?;
        self.host = url.host;
        self.port = url.port;
        self.transport = url.transport;
        if let Some(path) = url.path {
            self.websocket_path = path;
        }
        if !url.secure {
            self.tls = super::TlsMode::None;
        } else if self.tls == super::TlsMode::None {
            self.tls = super::TlsMode::CaSigned;
        }
        if url.username.is_some() {
            self.username = url.username;
        }
        if url.password.is_some() {
            self.password = url.password;
        }
        Ok(())
    }

    /// The broker's address as a URL ("wss://host:8884/mqtt"), for the editor to show.
    pub fn url(&self) -> String {
        let secure = self.tls != super::TlsMode::None;
        let scheme = match (self.transport, secure) {
            (Transport::Tcp, false) => "mqtt",
            (Transport::Tcp, true) => "mqtts",
            (Transport::WebSocket, false) => "ws",
            (Transport::WebSocket, true) => "wss",
        };
        let host = self.host.trim();
        let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
        let path = if self.transport == Transport::WebSocket { self.websocket_path.trim() } else { "" };
        format!("{scheme}://{host}:{}{path}", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> BrokerUrl {
        parse_url(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn websocket_urls_give_transport_port_and_path() {
        let ws = url("ws://broker.emqx.io:8083/mqtt");
        assert_eq!(
            (ws.transport, ws.secure, ws.host.as_str(), ws.port),
            (Transport::WebSocket, false, "broker.emqx.io", 8083)
        );
        assert_eq!(ws.path.as_deref(), Some("/mqtt"));
        let wss = url(" wss://abc.s1.eu.hivemq.cloud/mqtt?x=1 ");
        assert_eq!((wss.secure, wss.port, wss.path.as_deref()), (true, 443, Some("/mqtt?x=1")));
        assert_eq!(url("WS://pi.local").port, 80);
        assert_eq!(url("ws://pi.local").path, None);
        assert_eq!(url("ws://pi.local:9001?token=a").path.as_deref(), Some("/?token=a"));
    }

    #[test]
    fn mqtt_urls_give_tcp_and_the_usual_ports() {
        let plain = url("mqtt://test.mosquitto.org");
        assert_eq!((plain.transport, plain.secure, plain.port, plain.path), (Transport::Tcp, false, 1883, None));
        let tls = url("mqtts://user:secret@[::1]:8884/ignored");
        assert_eq!((tls.transport, tls.secure, tls.host.as_str(), tls.port), (Transport::Tcp, true, "::1", 8884));
        assert_eq!((tls.username.as_deref(), tls.password.as_deref()), (Some("user"), Some("secret")));
        assert_eq!(url("ssl://h").port, 8883);
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(parse_url("http://h/mqtt").unwrap_err().contains("ws:// or wss://"));
        assert!(parse_url("ws://h:99999/mqtt").unwrap_err().contains("1 to 65535"));
        assert!(parse_url("ws://:9001/mqtt").unwrap_err().contains("no host"));
        assert!(parse_url("ws://[::1:9001").unwrap_err().contains(']'));
        assert!(!looks_like_url("pi.local") && looks_like_url("ws://pi.local"));
    }

    #[test]
    fn errors_never_quote_the_user_info() {
        for bad in ["ws://u:secret@:9001", "ws://u:secret@h:99999/mqtt", "ws://u:secret@[::1:9001", "u:secret@h"] {
            let e = parse_url(bad).unwrap_err();
            assert!(!e.contains("secret") && !e.contains("u:"), "{bad}: {e}");
        }
        assert!(parse_url("ws://u:secret@:9001").unwrap_err().contains("ws://***@:9001"));
        let e = parse_url("ws://u:p%FFsecret@h").unwrap_err();
        assert!(e.contains("password") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn a_password_holding_slashes_or_at_signs_is_taken_whole() {
        let u = url("wss://user:pa/ss?w#rd@broker.io:8884/mqtt?token=a");
        assert_eq!((u.username.as_deref(), u.password.as_deref()), (Some("user"), Some("pa/ss?w#rd")));
        assert_eq!((u.host.as_str(), u.port, u.path.as_deref()), ("broker.io", 8884, Some("/mqtt?token=a")));
        let u = url("ws://me%40home:p%40ss%2F1%3A2@h/mqtt#top");
        assert_eq!((u.username.as_deref(), u.password.as_deref()), (Some("me@home"), Some("p@ss/1:2")));
        assert_eq!(u.path.as_deref(), Some("/mqtt"));
    }

    #[test]
    fn paths_start_with_a_slash_and_hold_no_spaces() {
        assert!(check_path("/mqtt").is_ok() && check_path("/ws?token=abc%20d").is_ok());
        assert!(check_path("mqtt").unwrap_err().contains("must start with"));
        assert!(check_path("/my path").unwrap_err().contains("URL-encoded"));
    }
}
