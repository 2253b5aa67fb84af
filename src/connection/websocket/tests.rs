//! The upgrade and the framing against small servers on loopback (port 0): a WebSocket server
//! that agrees to `mqtt` or not, an HTTP server that answers 404, a port that is not HTTP.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::super::transport::{self, Target};
use super::super::{Security, TlsVersion};
use super::request_uri;

fn target(port: u16) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port,
        connect_timeout: Duration::from_secs(5),
        security: Security::Plain,
        tls_version: TlsVersion::Any,
        websocket: Some("/mqtt".into()),
        key_log: None,
    }
}

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind on loopback");
    let port = l.local_addr().expect("local address").port();
    (l, port)
}

/// A WebSocket server for one connection; `agree`: it answers the `mqtt` subprotocol.
/// Returns what path was asked for and the subprotocols offered, then runs `then`.
async fn ws_server<F, Fut>(l: TcpListener, agree: bool, then: F) -> (String, String)
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (tcp, _) = l.accept().await.expect("accept");
    let mut seen = (String::new(), String::new());
    let callback = |req: &Request, mut resp: Response| {
        seen.0 = req.uri().to_string();
        seen.1 = req.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if agree {
            resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        }
        Ok(resp)
    };
    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
        then(ws).await;
    }
    seen
}

#[tokio::test]
async fn bytes_go_out_as_binary_frames_and_come_back_however_the_frames_split_them() {
    let (l, port) = listener().await;
    let server = tokio::spawn(ws_server(l, true, |mut ws| async move {
        let Some(Ok(Message::Binary(first))) = ws.next().await else { panic!("no binary frame") };
        assert_eq!(&first[..], b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
        // CONNACK split over two frames, a ping between, then a SUBACK and a PINGRESP in one.
        ws.send(Message::Binary(vec![0x20].into())).await.unwrap();
        ws.send(Message::Ping(vec![1].into())).await.unwrap();
        ws.send(Message::Binary(vec![0x02, 0x00, 0x00].into())).await.unwrap();
        ws.send(Message::Binary(vec![0x90, 0x03, 0x00, 0x01, 0x00, 0xD0, 0x00].into())).await.unwrap();
        ws.close(None).await.unwrap();
    }));
    let (mut stream, session) = transport::connect(&target(port)).await.expect("the upgrade works");
    assert!(session.is_none());
    stream.write_all(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00").await.unwrap();
    stream.flush().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await.expect("ends").unwrap();
    assert_eq!(got, [0x20, 0x02, 0x00, 0x00, 0x90, 0x03, 0x00, 0x01, 0x00, 0xD0, 0x00]);
    let (path, offered) = server.await.unwrap();
    assert_eq!(
        (path.as_str(), offered.as_str()),
        ("/mqtt", "mqtt, mqttv3.1"),
        "mqtt first, mqttv3.1 for brokers of the MQTT 3.1 era"
    );
}

#[tokio::test]
async fn a_server_that_does_not_agree_to_mqtt_is_refused_in_words() {
    let (l, port) = listener().await;
    let server = tokio::spawn(ws_server(l, false, |_| async {}));
    let Err(e) = transport::connect(&target(port)).await else { panic!("a 101 without mqtt was taken") };
    assert!(e.contains("did not agree to the \"mqtt\" subprotocol"), "{e}");
    assert!(e.starts_with(&format!("127.0.0.1:{port}: ")), "{e}");
    let _ = server.await;
}

#[tokio::test]
async fn a_text_frame_is_an_error_not_mqtt_bytes() {
    let (l, port) = listener().await;
    let server = tokio::spawn(ws_server(l, true, |mut ws| async move {
        ws.send(Message::Text("hello".into())).await.unwrap();
        let _ = ws.next().await;
    }));
    let (mut stream, _) = transport::connect(&target(port)).await.expect("the upgrade works");
    let mut buf = [0u8; 16];
    let e = stream.read(&mut buf).await.expect_err("a text frame");
    let framing = super::FramingError::of(&e).expect("a framing error, for the relay to report");
    assert!(framing.0.contains("binary frames only [MQTT-6.0.0-1]"), "{e}");
    drop(stream);
    let _ = server.await;
}

/// A server that reads the request, answers `answer` (if any), and closes.
async fn raw_server(l: TcpListener, answer: &'static [u8]) -> Vec<u8> {
    let (mut tcp, _) = l.accept().await.expect("accept");
    let mut request = vec![0u8; 4096];
    let n = tcp.read(&mut request).await.unwrap_or(0);
    request.truncate(n);
    let _ = tcp.write_all(answer).await;
    let _ = tcp.shutdown().await;
    request
}

#[tokio::test]
async fn http_answers_and_other_protocols_are_said_in_words() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            "the broker has no WebSocket endpoint at /mqtt (HTTP 404 Not Found)",
        ),
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "as a bad request (HTTP 400 Bad Request)"),
        (
            b"",
            "closed the connection without an HTTP answer: this port does not speak WebSocket (is it the MQTT port?)",
        ),
        (
            b"\x20\x02\x00\x05\x20\x02\x00\x05\r\n\r\n",
            "not HTTP: this port does not speak WebSocket (is it the MQTT port?)",
        ),
    ];
    for (answer, words) in cases {
        let (l, port) = listener().await;
        let server = tokio::spawn(raw_server(l, answer));
        let Err(e) = transport::connect(&target(port)).await else { panic!("{answer:?} was taken") };
        assert!(e.contains(words), "{answer:?}: {e}");
        let request = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(request.starts_with("GET /mqtt HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("Sec-WebSocket-Protocol: mqtt, mqttv3.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains(&format!("host: 127.0.0.1:{port}\r\n")), "{request}");
    }
}

#[tokio::test]
async fn a_port_that_never_answers_is_named_after_the_deadline() {
    let (l, port) = listener().await;
    // Accepts and reads, never answers; held until the client gives up.
    let server = tokio::spawn(async move {
        let (mut tcp, _) = l.accept().await.expect("accept");
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink).await;
    });
    let mut t = target(port);
    t.connect_timeout = Duration::from_millis(300);
    let Err(e) = transport::connect(&t).await else { panic!("no answer was taken") };
    assert!(e.contains("no answer to the WebSocket upgrade") && e.contains("is it the MQTT port?"), "{e}");
    server.abort();
}

#[test]
fn the_request_names_the_host_as_browsers_do() {
    let mut t = target(9001);
    assert_eq!(request_uri(&t, "/mqtt").unwrap().to_string(), "ws://127.0.0.1:9001/mqtt");
    t.port = 80;
    assert_eq!(request_uri(&t, "/mqtt?token=a").unwrap().to_string(), "ws://127.0.0.1/mqtt?token=a");
    t.security = Security::Tls(super::super::Tls::default());
    t.port = 443;
    t.host = "::1".into();
    assert_eq!(request_uri(&t, "/").unwrap().to_string(), "wss://[::1]/");
}

#[tokio::test]
async fn a_message_over_the_apps_packet_size_is_refused_in_words() {
    let (l, port) = listener().await;
    let server = tokio::spawn(ws_server(l, true, |mut ws| async move {
        let big = vec![0u8; super::MAX_MESSAGE + 1];
        let _ = ws.send(Message::Binary(big.into())).await;
        let _ = ws.next().await;
    }));
    let (mut stream, _) = transport::connect(&target(port)).await.expect("the upgrade works");
    let mut buf = [0u8; 16];
    let e = stream.read(&mut buf).await.expect_err("a message over the limit");
    let framing = super::FramingError::of(&e).expect("a framing error, for the relay to report");
    assert!(framing.0.contains(&format!("more than the {} bytes the app accepts", super::MAX_MESSAGE)), "{e}");
    assert_eq!(super::MAX_MESSAGE, super::super::worker::MAX_PACKET + 5);
    drop(stream);
    let _ = server.await;
}

#[tokio::test]
async fn a_token_in_the_path_stays_out_of_the_failure() {
    let (l, port) = listener().await;
    let server = tokio::spawn(raw_server(l, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    let t = Target { websocket: Some("/mqtt?token=abc123".into()), ..target(port) };
    let Err(e) = transport::connect(&t).await else { panic!("a 404 was taken") };
    assert!(e.contains("no WebSocket endpoint at /mqtt?token=***") && !e.contains("abc123"), "{e}");
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.starts_with("GET /mqtt?token=abc123 HTTP/1.1\r\n"), "the token is sent: {request}");
}
