//! How a WebSocket connection's end reads in the worker's words, against small servers on
//! loopback (port 0): a TCP close without a close frame is a lost connection, not a protocol
//! error; the broker's close code and reason are passed on; a refused CONNACK outranks the
//! close that follows it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::super::{Connection, ConnectionStatus, Event};
use crate::profile::Profile;

/// A WebSocket server agreeing to `mqtt` for one connection: reads the CONNECT, writes
/// `answer` (if any) as a binary frame, then sends `close` (if any) and drops the TCP socket.
async fn server(l: TcpListener, answer: &'static [u8], close: Option<CloseFrame>) {
    let (tcp, _) = l.accept().await.expect("accept");
    let agree = |_: &Request, mut resp: Response| {
        resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, agree).await else { return };
    let _connect = ws.next().await;
    if !answer.is_empty() {
        let _ = ws.send(Message::Binary(answer.to_vec().into())).await;
    }
    if let Some(frame) = close {
        let _ = ws.send(Message::Close(Some(frame))).await;
    }
    // Dropped with no close handshake (or none after the close frame): the TCP socket closes.
}

/// Connects the app's worker to `server` over ws:// and returns the reason it failed with.
async fn failure(answer: &'static [u8], close: Option<CloseFrame>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind on loopback");
    let port = l.local_addr().expect("local address").port();
    let served = tokio::spawn(server(l, answer, close));
    let mut profile =
        Profile { host: format!("ws://127.0.0.1:{port}/mqtt"), auto_reconnect: false, ..Profile::default() };
    profile.client_id = "ws-lost".into();
    let settings = profile.connect_settings(None).expect("a valid profile");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let repaint: super::super::Repaint = Arc::new(move || {
        let _ = tx.send(());
    });
    let connection = Connection::open(&tokio::runtime::Handle::current(), settings, repaint);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(event) = connection.try_event() {
            if let Event::Status(ConnectionStatus::Failed(reason)) = event {
                let _ = served.await;
                return reason;
            }
        }
        tokio::time::timeout_at(deadline, rx.recv()).await.expect("the worker reports within 20 s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_close_without_a_close_frame_is_a_lost_connection() {
    let reason = failure(b"", None).await;
    assert!(!reason.contains("broke the protocol") && !reason.contains("WebSocket"), "{reason}");
    assert!(reason.starts_with("The connection ended"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brokers_close_code_and_reason_are_the_failure() {
    let close = CloseFrame { code: CloseCode::Size, reason: "packet over 1 KiB".into() };
    let reason = failure(b"", Some(close)).await;
    assert!(
        reason.contains("the broker closed the WebSocket: 1009 (message too big), saying \"packet over 1 KiB\""),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connack_outranks_the_close_after_it() {
    // CONNACK 3.1.1, return code 5 (not authorised), then a policy close as Mosquitto may send.
    let close = CloseFrame { code: CloseCode::Policy, reason: "bye".into() };
    let reason = failure(b"\x20\x02\x00\x05", Some(close)).await;
    assert!(reason.starts_with("Refused (5): not authorised"), "{reason}");
    let reason = failure(b"\x20\x02\x00\x05", None).await;
    assert!(reason.starts_with("Refused (5): not authorised"), "{reason}");
}
