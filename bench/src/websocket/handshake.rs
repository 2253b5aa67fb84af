//! The client's opening handshake (RFC 6455 section 4.1): a GET that asks to upgrade to a
//! WebSocket offering the `mqtt` subprotocol [MQTT-6.0.0-3], and the checks on the server's
//! answer: status 101, `Upgrade: websocket`, the `Sec-WebSocket-Accept` the key calls for, and
//! `mqtt` chosen. A server that fails any of them is named with the line it sent.

use std::time::Duration;

use openssl::base64::encode_block;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The subprotocol offered and required.
pub const SUBPROTOCOL: &str = "mqtt";

/// RFC 6455's GUID, appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The most a server's answer may take: a 101 is a few hundred bytes.
const MAX_RESPONSE: usize = 16 * 1024;

/// How long the server may take to answer (a loaded broker accepting thousands).
const PATIENCE: Duration = Duration::from_secs(30);

/// The `Sec-WebSocket-Accept` a server must answer `key` with.
pub fn accept_for(key: &str) -> String {
    encode_block(&openssl::sha::sha1(format!("{key}{GUID}").as_bytes()))
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
fn new_key() -> Result<String, String> {
    let mut nonce = [0u8; 16];
    openssl::rand::rand_bytes(&mut nonce).map_err(|e| format!("no random bytes for the WebSocket key: {e}"))?;
    Ok(encode_block(&nonce))
}

/// The upgrade request for `path` on `host` (the `Host` header: name and port).
pub fn request(host: &str, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n"
    )
}

/// Upgrades `stream` (already connected, TLS done) to a WebSocket on `path`. Returns the bytes
/// the server sent after its answer (frames, usually none).
pub async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
) -> Result<Vec<u8>, String> {
    let key = new_key()?;
    let exchange = async {
        stream
            .write_all(request(host, path, &key).as_bytes())
            .await
            .map_err(|e| format!("cannot send the WebSocket upgrade request: {e}"))?;
        let mut answer = Vec::with_capacity(512);
        loop {
            if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&answer[..end]).into_owned();
                check_response(&head, &key, path)?;
                return Ok(answer.split_off(end + 4));
            }
            if answer.len() >= MAX_RESPONSE {
                return Err(format!("the server's answer to the WebSocket upgrade exceeds {MAX_RESPONSE} bytes"));
            }
            let n = stream.read_buf(&mut answer).await.map_err(|e| format!("WebSocket upgrade: {e}"))?;
            if n == 0 {
                return Err(format!(
                    "the server closed the connection before answering the WebSocket upgrade of {path}"
                ));
            }
        }
    };
    tokio::time::timeout(PATIENCE, exchange)
        .await
        .map_err(|_| format!("no answer to the WebSocket upgrade within {PATIENCE:?}"))?
}

/// Checks the server's answer (status line and headers, without the blank line).
pub fn check_response(head: &str, key: &str, path: &str) -> Result<(), String> {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1);
    if !status.starts_with("HTTP/1.1 ") || code != Some("101") {
        return Err(format!("the server answered the WebSocket upgrade of {path} with {status:?}, not 101"));
    }
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim(), v.trim()));
    let find = |name: &str| headers.clone().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    if !find("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
        return Err("the server's 101 has no \"Upgrade: websocket\"".into());
    }
    if !find("connection").is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade"))) {
        return Err("the server's 101 has no \"Connection: Upgrade\"".into());
    }
    let expected = accept_for(key);
    match find("sec-websocket-accept") {
        Some(a) if a == expected => {}
        Some(a) => return Err(format!("the server's Sec-WebSocket-Accept is {a:?}, not {expected:?}")),
        None => return Err("the server's 101 has no Sec-WebSocket-Accept".into()),
    }
    match find("sec-websocket-protocol") {
        Some(p) if p == SUBPROTOCOL => {}
        Some(p) => return Err(format!("the server chose the subprotocol {p:?}, not {SUBPROTOCOL:?}")),
        None => return Err(format!("the server's 101 names no subprotocol ({SUBPROTOCOL:?} was offered)")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn answer(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}"
        )
    }

    #[test]
    fn the_rfc_example_key_gives_the_rfc_accept() {
        assert_eq!(accept_for(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let r = request("broker:9001", "/mqtt", KEY);
        assert!(r.starts_with("GET /mqtt HTTP/1.1\r\nHost: broker:9001\r\n") && r.ends_with("mqtt\r\n\r\n"), "{r}");
        assert_eq!(new_key().unwrap().len(), 24);
    }

    #[test]
    fn a_good_answer_passes_and_each_fault_is_named() {
        assert_eq!(check_response(&answer("Sec-WebSocket-Protocol: mqtt"), KEY, "/mqtt"), Ok(()));
        let e = check_response("HTTP/1.1 404 Not Found\r\nContent-Length: 0", KEY, "/x").unwrap_err();
        assert!(e.contains("/x") && e.contains("404 Not Found"), "{e}");
        let e = check_response(&answer(""), KEY, "/mqtt").unwrap_err();
        assert!(e.contains("names no subprotocol"), "{e}");
        let e = check_response(&answer("Sec-WebSocket-Protocol: mqttv3.1"), KEY, "/mqtt").unwrap_err();
        assert!(e.contains("\"mqttv3.1\""), "{e}");
        let e = check_response(&answer("Sec-WebSocket-Protocol: mqtt"), "AAAAAAAAAAAAAAAAAAAAAA==", "/").unwrap_err();
        assert!(e.contains("Sec-WebSocket-Accept is"), "{e}");
        let e = check_response(&answer("").replace("WebSocket", "h2c"), KEY, "/").unwrap_err();
        assert!(e.contains("Upgrade: websocket"), "{e}");
    }
}
