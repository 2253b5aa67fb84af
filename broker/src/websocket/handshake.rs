//! The opening handshake (RFC 6455 4.2): the client's HTTP upgrade request, checked, and the
//! server's answers, 101 or an HTTP error.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

/// Request headers read at most, whatever `websockets_headers_size` allows (on the stack).
const MAX_HEADERS: usize = 64;

/// The MQTT subprotocol a client asked for [MQTT-6.0.0-3]; `mqtt` is preferred when both are
/// offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subprotocol {
    /// MQTT 3.1.1 and 5.
    Mqtt,
    /// The name MQTT 3.1 clients used (paho's older JavaScript client).
    MqttV31,
}

impl Subprotocol {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mqtt => "mqtt",
            Self::MqttV31 => "mqttv3.1",
        }
    }
}

/// A valid WebSocket upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// Any path is served (clients use `/mqtt`, `/ws`, `/`).
    pub path: String,
    /// Sec-WebSocket-Key as sent.
    pub key: String,
    pub subprotocol: Subprotocol,
    /// The subprotocol as the client spelled it: the 101 repeats it exactly, since a client
    /// accepts only a value it offered (RFC 6455 4.2.2; browsers and Node's `ws` check).
    pub offered: String,
    /// The request's length: bytes after it are already WebSocket frames.
    pub len: usize,
}

/// Why an upgrade request is refused, with the HTTP status that answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("request headers over websockets_headers_size ({max} bytes)")]
    TooLarge { max: usize },
    #[error("not a WebSocket upgrade: more than {MAX_HEADERS} request headers")]
    TooManyHeaders,
    #[error("not a WebSocket upgrade: malformed HTTP request ({0})")]
    Malformed(String),
    /// A well-formed request without the upgrade: a plain GET may be served from `http_dir`.
    #[error("not a WebSocket upgrade ({method} {path}{})", if missing.is_empty() { String::new() } else { format!(" without {missing}") })]
    NotUpgrade { method: String, path: String, missing: &'static str, len: usize },
    #[error("unsupported Sec-WebSocket-Version {0:?} (13 only)")]
    Version(String),
    #[error("no MQTT subprotocol (offered: {0:?}; mqtt or mqttv3.1 expected)")]
    NoSubprotocol(String),
}

impl HandshakeError {
    /// The HTTP status of the answer.
    pub const fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::TooManyHeaders => 431,
            Self::Version(_) => 426,
            Self::Malformed(_) | Self::NotUpgrade { .. } | Self::NoSubprotocol(_) => 400,
        }
    }
}

/// Parses the client's request from the bytes read so far: `Ok(None)` while it is incomplete
/// and within `max_headers` bytes.
///
/// Requires GET, `Upgrade: websocket`, `Connection: upgrade` (both token lists, any case),
/// `Sec-WebSocket-Version: 13`, a `Sec-WebSocket-Key` of 16 bytes in base64 and an MQTT
/// subprotocol; any path.
///
/// # Errors
/// The request is refused ([`HandshakeError`], with the HTTP status to answer).
pub fn parse_upgrade(request: &[u8], max_headers: usize) -> Result<Option<Upgrade>, HandshakeError> {
    let too_large = HandshakeError::TooLarge { max: max_headers };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(request) {
        Ok(httparse::Status::Complete(len)) if len <= max_headers => len,
        Ok(httparse::Status::Partial) if request.len() < max_headers => return Ok(None),
        Ok(httparse::Status::Complete(_) | httparse::Status::Partial) => return Err(too_large),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(e) => return Err(HandshakeError::Malformed(e.to_string())),
    };
    let method = req.method.unwrap_or_default();
    let path = req.path.unwrap_or_default();
    let not_upgrade =
        |missing| HandshakeError::NotUpgrade { method: method.to_owned(), path: path.to_owned(), missing, len };
    let values = |name: &'static str| {
        req.headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value))
    };
    let has_token =
        |name, token: &str| values(name).any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)));
    if method != "GET" {
        return Err(not_upgrade(""));
    }
    if !has_token("upgrade", "websocket") {
        return Err(not_upgrade("Upgrade: websocket"));
    }
    if !has_token("connection", "upgrade") {
        return Err(not_upgrade("Connection: upgrade"));
    }
    // RFC 6455 4.1: the opening handshake is an HTTP/1.1 GET with a Host header.
    if req.version != Some(1) {
        return Err(HandshakeError::Malformed("a WebSocket upgrade needs HTTP/1.1, RFC 6455 4.1".into()));
    }
    if values("host").next().is_none() {
        return Err(not_upgrade("a Host header"));
    }
    let version: Vec<_> = values("sec-websocket-version").collect();
    if version.len() != 1 || version[0].trim() != "13" {
        return Err(HandshakeError::Version(version.join(", ")));
    }
    let key = values("sec-websocket-key").next().map(|k| k.trim().to_owned()).unwrap_or_default();
    if BASE64.decode(&key).map_or(true, |k| k.len() != 16) {
        return Err(not_upgrade("a Sec-WebSocket-Key of 16 bytes in base64"));
    }
    let offered: Vec<String> = values("sec-websocket-protocol")
        .flat_map(|v| v.split(',').map(|t| t.trim().to_owned()).collect::<Vec<_>>())
        .collect();
    let (subprotocol, spelled) = [Subprotocol::Mqtt, Subprotocol::MqttV31]
        .into_iter()
        .find_map(|p| offered.iter().find(|o| o.eq_ignore_ascii_case(p.as_str())).map(|o| (p, o.clone())))
        .ok_or_else(|| HandshakeError::NoSubprotocol(offered.join(", ")))?;
    Ok(Some(Upgrade { path: path.to_owned(), key, subprotocol, offered: spelled, len }))
}

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2): the base64 of the SHA-1 of
/// the key and the protocol's GUID.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    BASE64.encode(sha.finalize())
}

/// The 101 answer: the accept key and the subprotocol chosen (rumqttc and MQTT.js refuse a
/// server that leaves it out [MQTT-6.0.0-4]).
pub fn switching_protocols(upgrade: &Upgrade) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
        accept_key(&upgrade.key),
        upgrade.offered
    )
}

/// The reason phrase of the statuses the broker answers.
pub const fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// An HTTP error answer with a one-line text body; the connection closes after it.
pub fn error_response(status: u16, body: &str) -> String {
    let version = if status == 426 { "Sec-WebSocket-Version: 13\r\n" } else { "" };
    format!(
        "HTTP/1.1 {status} {}\r\n{version}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}\n",
        reason_phrase(status),
        body.len() + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &str) -> String {
        format!(
            "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    }

    #[test]
    fn the_rfc_example_key_gives_the_rfc_accept_value() {
        assert_eq!(accept_key(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn an_upgrade_offering_mqtt_is_accepted_whole_and_only_whole() {
        let text = request("Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n") + "\u{82}";
        let bytes = text.as_bytes();
        let len = bytes.len() - 2;
        for cut in 0..len {
            assert_eq!(parse_upgrade(&bytes[..cut], 1024), Ok(None), "{cut} bytes");
        }
        let up = parse_upgrade(bytes, 1024).unwrap().unwrap();
        assert_eq!((up.path.as_str(), up.subprotocol, up.len), ("/mqtt", Subprotocol::Mqtt, len));
        let answer = switching_protocols(&up);
        assert!(answer.contains("Sec-WebSocket-Protocol: mqtt\r\n"), "{answer}");
        assert!(answer.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{answer}");
        let old = parse_upgrade(request("Sec-WebSocket-Protocol: mqttv3.1\r\n").as_bytes(), 1024).unwrap().unwrap();
        assert_eq!(old.subprotocol, Subprotocol::MqttV31);
    }

    #[test]
    fn an_upgrade_needs_http_1_1_and_a_host() {
        let refuse = |text: &str| parse_upgrade(text.as_bytes(), 1024).unwrap_err();
        let old = refuse(&request("Sec-WebSocket-Protocol: mqtt\r\n").replace("HTTP/1.1", "HTTP/1.0"));
        assert_eq!((old.status(), old.to_string().contains("HTTP/1.1")), (400, true), "{old}");
        let hostless = request("Sec-WebSocket-Protocol: mqtt\r\n").replace("Host: x\r\n", "");
        assert!(!hostless.contains("Host:"), "{hostless}");
        let e = refuse(&hostless);
        assert!(matches!(e, HandshakeError::NotUpgrade { missing: "a Host header", .. }), "{e}");
    }

    #[test]
    fn token_lists_in_any_case_are_understood() {
        let text = "GET / HTTP/1.1\r\nhost: x\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: MQTT\r\n\r\n";
        let upgrade = parse_upgrade(text.as_bytes(), 1024).unwrap().unwrap();
        assert_eq!((upgrade.subprotocol, upgrade.offered.as_str()), (Subprotocol::Mqtt, "MQTT"));
        assert!(
            switching_protocols(&upgrade).contains("\r\nSec-WebSocket-Protocol: MQTT\r\n"),
            "the client's own spelling comes back"
        );
    }

    #[test]
    fn refusals_name_what_is_wrong_with_their_status() {
        let refuse = |text: &str| parse_upgrade(text.as_bytes(), 1024).unwrap_err();
        let plain = refuse("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(&plain, HandshakeError::NotUpgrade { path, .. } if path == "/index.html"));
        assert_eq!(plain.status(), 400);
        assert!(plain.to_string().starts_with("not a WebSocket upgrade"), "{plain}");
        let none = refuse(&request(""));
        assert_eq!((none.status(), none.to_string().starts_with("no MQTT subprotocol")), (400, true));
        let wrong = refuse(&request("Sec-WebSocket-Protocol: wamp\r\n"));
        assert!(wrong.to_string().contains("wamp"), "{wrong}");
        assert_eq!(refuse(&request("").replace(": 13", ": 8")).status(), 426);
        assert!(matches!(refuse(&request("").replace(KEY, "short")), HandshakeError::NotUpgrade { .. }));
        assert!(matches!(refuse("POST / HTTP/1.1\r\n\r\n"), HandshakeError::NotUpgrade { .. }));
        assert!(matches!(refuse("\x16\x03\x01 TLS\r\n\r\n"), HandshakeError::Malformed(_)));
        let big = request(&format!("Cookie: {}\r\n", "c".repeat(1000)));
        let e = parse_upgrade(&big.as_bytes()[..1100], 1024).unwrap_err();
        assert_eq!(
            (e.status(), e.to_string().starts_with("request headers over websockets_headers_size")),
            (431, true)
        );
        assert!(parse_upgrade(big.as_bytes(), 4096).is_err_and(|e| e.status() == 400), "no subprotocol, within 4096");
        let many = "X-Filler: y\r\n".repeat(70);
        assert_eq!(parse_upgrade(request(&many).as_bytes(), 8192).unwrap_err(), HandshakeError::TooManyHeaders);
    }

    #[test]
    fn error_answers_are_complete_http_responses() {
        let r = error_response(431, "too big");
        assert!(r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{r}");
        assert!(r.ends_with("Content-Length: 8\r\nConnection: close\r\n\r\ntoo big\n"), "{r}");
        assert!(error_response(426, "v").contains("Sec-WebSocket-Version: 13\r\n"));
    }
}
