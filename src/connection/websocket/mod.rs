//! MQTT over WebSocket, the client's side: the HTTP upgrade on a stream that `transport` has
//! already opened and secured (plain, TLS or TLS-PSK), then the framing (`frames`), which turns
//! the WebSocket back into a byte stream. So the relay pumps, taps and checks MQTT bytes as it
//! does over TCP, and the packet inspector never sees a frame.
//!
//! The upgrade asks for the `mqtt` subprotocol [MQTT-6.0.0-3] and refuses a 101 that does not
//! agree to it (a WebSocket server that is not an MQTT broker). Its failures are said in words:
//! a 404 is a wrong path, an answer that is not HTTP is usually the MQTT port.

mod frames;

use tokio_tungstenite::tungstenite::{
    self,
    client::ClientRequestBuilder,
    error::{ProtocolError, SubProtocolError},
    http::Uri,
    protocol::WebSocketConfig,
};

use super::transport::{Stream, Target};

pub use frames::{Frames, FramingError};

/// The request path a profile uses unless it says otherwise (HiveMQ, EMQX, Mosquitto's examples).
pub const DEFAULT_PATH: &str = "/mqtt";

/// The subprotocols offered, preferred first: MQTT 3.1.1 and 5 both register `mqtt`
/// [MQTT-6.0.0-3]; `mqttv3.1` is what brokers of the MQTT 3.1 era answer to (Mosquitto and ours
/// take either, for any protocol version).
const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// The largest WebSocket message or frame taken from the broker: the largest packet the app
/// accepts (the worker's `MAX_PACKET`, 16 MiB) plus its fixed header, so one frame may carry one
/// whole packet. Larger ones are refused while they arrive, not buffered up to tungstenite's
/// default of 64 MiB a message.
const MAX_MESSAGE: usize = super::worker::MAX_PACKET + 5;

/// What the broker answered to the upgrade: "101, subprotocol mqtt".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgraded {
    pub status: u16,
    pub subprotocol: String,
}

impl std::fmt::Display for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, subprotocol {}", self.status, self.subprotocol)
    }
}

/// The request's URI: `ws://host[:port]/path` (`wss` when secured; the scheme only shapes the
/// Host header here, since the stream is already secured). The port is left out when it is the
/// scheme's own, as browsers do, so virtual hosts behind a proxy recognise the name.
fn request_uri(target: &Target, path: &str) -> Result<Uri, String> {
    let secured = target.security != super::Security::Plain;
    let (scheme, default_port) = if secured { ("wss", 443) } else { ("ws", 80) };
    let host = if target.host.contains(':') && !target.host.starts_with('[') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let authority = if target.port == default_port { host } else { format!("{host}:{}", target.port) };
    let text = format!("{scheme}://{authority}{path}");
    text.parse::<Uri>().map_err(|e| {
        let shown = format!("{scheme}://{authority}{}", crate::profile::hide_query_values(path));
        format!("the WebSocket address {shown:?} is not valid ({e}): check the host and the path")
    })
}

/// The framing's limits: the app's own packet size, and every frame written out at once (the relay
/// pumps one chunk at a time; nothing waits in a buffer for a flush that may not come).
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Runs the HTTP upgrade to `path` on `stream` within the target's deadline. Returns the framed
/// stream (MQTT bytes in and out) and what the broker answered.
pub async fn upgrade(
    stream: Box<dyn Stream>,
    target: &Target,
    path: &str,
) -> Result<(Box<dyn Stream>, Upgraded), String> {
    let uri = request_uri(target, path)?;
    let request = SUBPROTOCOLS.iter().fold(ClientRequestBuilder::new(uri), |r, p| r.with_sub_protocol(*p));
    let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config()));
    let at = format!("{}:{}", target.host, target.port);
    match tokio::time::timeout(target.connect_timeout, handshake).await {
        Ok(Ok((socket, response))) => {
            let subprotocol = response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let upgraded = Upgraded { status: response.status().as_u16(), subprotocol };
            Ok((Box::new(Frames::new(socket)), upgraded))
        }
        // The path as shown: a token in its query stays out of the log.
        Ok(Err(e)) => Err(format!("{at}: {}", describe(&e, &crate::profile::hide_query_values(path)))),
        Err(_) => Err(format!(
            "{at}: no answer to the WebSocket upgrade within {} s: this port does not speak WebSocket (is it the MQTT port?)",
            target.connect_timeout.as_secs()
        )),
    }
}

/// A failed upgrade in words a student can act on.
pub fn describe(error: &tungstenite::Error, path: &str) -> String {
    use tungstenite::Error;
    const NOT_WEBSOCKET: &str = "this port does not speak WebSocket (is it the MQTT port?)";
    match error {
        Error::Http(response) => {
            describe_status(response.status().as_u16(), response.status().canonical_reason(), path)
        }
        Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(problem)) => match problem {
            SubProtocolError::NoSubProtocol => format!(
                "the server accepted the WebSocket upgrade to {path} (101) but did not agree to the \"mqtt\" subprotocol: it is a WebSocket server, but not an MQTT broker at this path"
            ),
            SubProtocolError::InvalidSubProtocol | SubProtocolError::ServerSentSubProtocolNoneRequested => format!(
                "the server accepted the WebSocket upgrade to {path} (101) with another subprotocol than \"mqtt\": it is a WebSocket server, but not an MQTT broker at this path"
            ),
        },
        Error::Protocol(ProtocolError::HandshakeIncomplete | ProtocolError::ResetWithoutClosingHandshake)
        | Error::ConnectionClosed
        | Error::AlreadyClosed => format!("the broker closed the connection without an HTTP answer: {NOT_WEBSOCKET}"),
        Error::Io(e) => match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => {
                format!("the broker closed the connection without an HTTP answer: {NOT_WEBSOCKET}")
            }
            _ => format!("the connection broke during the WebSocket upgrade ({e})"),
        },
        Error::Protocol(
            ProtocolError::SecWebSocketAcceptKeyMismatch
            | ProtocolError::MissingConnectionUpgradeHeader
            | ProtocolError::MissingUpgradeWebSocketHeader,
        ) => format!(
            "the answer to the WebSocket upgrade is not a valid 101 ({error}): a proxy in between may not pass WebSocket on"
        ),
        Error::Protocol(ProtocolError::HttparseError(_) | ProtocolError::WrongHttpVersion)
        | Error::HttpFormat(_)
        | Error::Utf8(_) => format!("the answer is not HTTP: {NOT_WEBSOCKET}"),
        other => format!("the WebSocket upgrade failed: {other}"),
    }
}

/// An HTTP answer other than 101.
fn describe_status(code: u16, reason: Option<&str>, path: &str) -> String {
    let status = format!("HTTP {code}{}", reason.map(|r| format!(" {r}")).unwrap_or_default());
    match code {
        404 => format!(
            "the broker has no WebSocket endpoint at {path} ({status}): check the path (often /mqtt; Mosquitto accepts any)"
        ),
        400 => format!(
            "the broker refused the WebSocket upgrade to {path} as a bad request ({status}): check the path (often /mqtt) and that this port is the broker's WebSocket listener"
        ),
        401 | 403 => format!(
            "the web server refused the WebSocket upgrade to {path} ({status}): it wants a login or blocks this client before MQTT starts"
        ),
        301 | 302 | 307 | 308 => format!(
            "the web server redirects {path} elsewhere ({status}): use wss:// (TLS) or the address it points to"
        ),
        _ => format!(
            "the broker answered the WebSocket upgrade to {path} with {status} instead of 101 Switching Protocols"
        ),
    }
}

#[cfg(test)]
mod lost_tests;
#[cfg(test)]
mod tests;
