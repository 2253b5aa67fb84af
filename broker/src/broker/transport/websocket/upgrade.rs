//! The opening handshake on the wire: the request read within `websockets_headers_size`, then
//! 101, an HTTP error, or a file from `http_dir` for a plain GET.

use std::net::SocketAddr;
use std::path::Path;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{WsSettings, refused};
use crate::broker::Shared;
use crate::log::LogType;
use crate::websocket::{
    HandshakeError, content_type, error_response, parse_upgrade, reason_phrase, static_path, switching_protocols,
};

/// Reads and answers the upgrade request. `Some(bytes)`: upgraded, and the bytes the client
/// sent after its request (WebSocket frames already); `None`: answered otherwise, and logged.
pub(super) async fn run<S>(settings: &WsSettings, stream: &mut S, shared: &Shared, peer: SocketAddr) -> Option<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let max = settings.headers_size;
    let mut buf = Vec::with_capacity(max.min(1024));
    let refusal = loop {
        // One byte over the limit at most: enough to tell a request that is too large.
        let room = (max + 1).saturating_sub(buf.len());
        buf.reserve(room.min(1024));
        match (&mut *stream).take(room as u64).read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => {
                refused(shared, peer, "closed before sending an upgrade request");
                return None;
            }
            Ok(0) => {
                refused(
                    shared,
                    peer,
                    format_args!("closed in the middle of its upgrade request ({} bytes)", buf.len()),
                );
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                refused(shared, peer, format_args!("reading the upgrade request: {e}"));
                return None;
            }
        }
        match parse_upgrade(&buf, max) {
            Ok(None) => {}
            Ok(Some(upgrade)) => {
                if let Err(e) = stream.write_all(switching_protocols(&upgrade).as_bytes()).await {
                    refused(shared, peer, format_args!("writing the 101 answer: {e}"));
                    return None;
                }
                let _ = stream.flush().await;
                shared.log.log(
                    LogType::Websockets,
                    format_args!("WebSocket upgrade from {peer}: {} ({}).", upgrade.path, upgrade.subprotocol.as_str()),
                );
                buf.drain(..upgrade.len);
                return Some(if buf.is_empty() { Vec::new() } else { buf });
            }
            // A plain GET (no Upgrade: websocket) is a page; a GET that asks for the upgrade but
            // leaves out what it needs (a proxy that drops Connection, a bad key) is answered 400
            // with what is missing, not 404.
            Err(HandshakeError::NotUpgrade { method, path, missing, .. })
                if settings.http_dir.is_some() && method == "GET" && missing == "Upgrade: websocket" =>
            {
                let dir = settings.http_dir.as_deref().unwrap_or(Path::new("."));
                serve_file(dir, &path, stream, shared, peer).await;
                return None;
            }
            Err(e) => break e,
        }
    };
    let _ = stream.write_all(error_response(refusal.status(), &refusal.to_string()).as_bytes()).await;
    let _ = stream.shutdown().await;
    refused(shared, peer, &refusal);
    None
}

/// Answers a plain GET from `http_dir` and closes; refusals are logged. The file is looked up
/// off the runtime's threads and streamed (8 KB at a time through `tokio::io::copy`), so many
/// clients fetching a large file cost no more than their socket buffers; like the upgrade, the
/// whole answer has the handshake's 10 s (a dashboard's page, not a download server).
async fn serve_file<S>(dir: &Path, path: &str, stream: &mut S, shared: &Shared, peer: SocketAddr)
where
    S: AsyncWrite + Unpin,
{
    let (dir_owned, path_owned) = (dir.to_owned(), path.to_owned());
    let opened = tokio::task::spawn_blocking(move || {
        let file = find(&dir_owned, &path_owned)?;
        let opened = std::fs::File::open(&file).map_err(|_| (404, "cannot be read"))?;
        let len = opened.metadata().map_err(|_| (404, "cannot be read"))?.len();
        Ok::<_, (u16, &'static str)>((file, opened, len))
    })
    .await
    .unwrap_or(Err((404, "cannot be read")));
    let (status, why) = match opened {
        Ok((file, opened, len)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
                content_type(&file),
            );
            let mut body = tokio::fs::File::from_std(opened).take(len);
            let sent = match stream.write_all(head.as_bytes()).await {
                Ok(()) => tokio::io::copy(&mut body, stream).await.ok(),
                Err(_) => None,
            };
            let _ = stream.shutdown().await;
            if sent == Some(len) {
                shared.log.log(LogType::Websockets, format_args!("http_dir: GET {path} from {peer}: 200."));
            } else {
                refused(shared, peer, format_args!("http_dir: GET {path}: 200 cut short ({len} bytes promised)"));
            }
            return;
        }
        Err(refusal) => refusal,
    };
    let text = format!("http_dir: GET {path}: {status} {} ({why})", reason_phrase(status));
    let _ = stream.write_all(error_response(status, &text).as_bytes()).await;
    let _ = stream.shutdown().await;
    refused(shared, peer, text);
}

/// The file a GET names under `dir` (resolved), or the status that refuses it.
fn find(dir: &Path, path: &str) -> Result<std::path::PathBuf, (u16, &'static str)> {
    let relative = static_path(path).ok_or((403, "a path outside http_dir"))?;
    let file = dir.join(relative).canonicalize().map_err(|_| (404, "no such file"))?;
    // A symbolic link may point out of the directory.
    if !file.starts_with(dir) {
        return Err((403, "a path outside http_dir"));
    }
    if !file.is_file() {
        return Err((404, "no such file"));
    }
    Ok(file)
}
