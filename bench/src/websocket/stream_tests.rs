use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

use super::*;

/// Reads client frames from `server` until `want` bytes of binary frames arrived; returns those
/// bytes and every frame (first byte, unmasked payload).
async fn read_client_frames(server: &mut DuplexStream, want: usize) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    frames_until(server, |payload, _| payload.len() >= want).await
}

/// Reads client frames from `server` until `done` (with the binary frames' bytes so far and
/// every frame) says so; returns both.
async fn frames_until(
    server: &mut DuplexStream,
    done: impl Fn(&[u8], &[(u8, Vec<u8>)]) -> bool,
) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let (mut wire, mut payload, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
    while !done(&payload, &kinds) {
        let n = server.read_buf(&mut wire).await.unwrap();
        assert!(n > 0, "the client closed early");
        // Take whole frames off the front.
        loop {
            if wire.len() < 2 {
                break;
            }
            let (len, at) = match wire[1] & 0x7f {
                126 if wire.len() >= 4 => (usize::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
                127 if wire.len() >= 10 => {
                    (usize::try_from(u64::from_be_bytes(wire[2..10].try_into().unwrap())).unwrap(), 10)
                }
                126 | 127 => break,
                n => (usize::from(n), 2),
            };
            if wire.len() < at + 4 + len {
                break;
            }
            let key: [u8; 4] = wire[at..at + 4].try_into().unwrap();
            let mut body = wire[at + 4..at + 4 + len].to_vec();
            frame::mask(&mut body, key);
            if wire[0] == 0x82 {
                payload.extend_from_slice(&body);
            }
            kinds.push((wire[0], body));
            wire.drain(..at + 4 + len);
        }
    }
    (payload, kinds)
}

#[tokio::test]
async fn a_large_write_through_a_small_pipe_arrives_once_in_masked_frames() {
    // 64 bytes of pipe: every frame's write is cut and waits, so the "same bytes again" path runs.
    let (client, mut server) = duplex(64);
    let (r, w) = tokio::io::split(client);
    let mut ws = WebSocket::new(Vec::new());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let reader = tokio::spawn(async move { read_client_frames(&mut server, 200_000).await });
    let (_reading, mut writing) = ws.split(r, w);
    writing.write_all(&data).await.unwrap();
    writing.flush().await.unwrap();
    let (payload, kinds) = reader.await.unwrap();
    assert!(payload == data, "{} bytes arrived of {}", payload.len(), data.len());
    // 200,000 bytes in frames of at most 64 KiB.
    assert_eq!(
        kinds.iter().map(|(k, b)| (*k, b.len())).collect::<Vec<_>>(),
        [(0x82, MAX_FRAME); 3].into_iter().chain([(0x82, 200_000 - 3 * MAX_FRAME)]).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn reads_unframe_answer_pings_and_end_at_close() {
    let (client, mut server) = duplex(1024);
    let (r, w) = tokio::io::split(client);
    // The server's first frame came with the 101, in the handshake's buffer.
    let mut ws = WebSocket::new(vec![0x82, 2, 0x20, 0x02]);
    let server_task = tokio::spawn(async move {
        let mut wire = vec![0x82, 2, 0, 0, 0x89, 3, b'a', b'b', b'c'];
        wire.extend([0x82, 3, 0xD0, 0, 0x30, 0x88, 2, 0x03, 0xE8, 0x82, 1, 0xFF]);
        for byte in wire {
            server.write_all(&[byte]).await.unwrap();
        }
        let (_, frames) = read_client_frames(&mut server, 1).await;
        (server, frames)
    });
    let (mut reading, mut writing) = ws.split(r, w);
    let mut got = Vec::new();
    while reading.read_buf(&mut got).await.unwrap() > 0 {}
    // Everything before the close frame, nothing after it.
    assert_eq!(got, [0x20, 0x02, 0, 0, 0xD0, 0, 0x30]);
    writing.write_all(b"x").await.unwrap();
    let (_server, frames) = server_task.await.unwrap();
    // The pong (echoing the ping) went out as the ping was read, before the client's data.
    assert_eq!(frames, [(0x8A, b"abc".to_vec()), (0x82, b"x".to_vec())]);
}

/// How long a test waits for what is due at once (bounds a failing test only).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// A WebSocket state that lives as long as the test, so that its halves go to separate tasks
/// (each with its own waker, as in a program whose halves run apart).
fn leaked() -> &'static mut WebSocket {
    Box::leak(Box::new(WebSocket::new(Vec::new())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_while_the_connection_takes_no_bytes_owe_only_the_latest_pong() {
    // 16 bytes of pipe towards the server, which reads nothing until it sent every ping.
    let (client, mut server) = duplex(16);
    let (r, w) = tokio::io::split(client);
    let (mut reading, _writing) = leaked().split(r, w);
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while reading.read_buf(&mut got).await.unwrap() > 0 {}
        got
    });
    let pings: Vec<[u8; 2]> = (0..100u8).map(|i| [b'p', i]).collect();
    for p in &pings {
        server.write_all(&[0x89, 2, p[0], p[1]]).await.unwrap();
    }
    let latest = pings[99].to_vec();
    let wait = frames_until(&mut server, |_, frames| frames.last().is_some_and(|f| f.1 == latest));
    let (_, frames) = tokio::time::timeout(PATIENCE, wait).await.expect("the latest ping is answered");
    // Two pongs (8 bytes each) fill the pipe, a third waits half sent, and a newer ping
    // replaces the one owed. When the server starts reading, at most 4 pings (16 bytes of
    // pipe) are unread: at most 8 pongs for 100 pings, where a queue would send 100.
    assert!(frames.len() <= 8 && frames.iter().all(|f| f.0 == 0x8A), "{frames:?}");
    assert!(frames.windows(2).all(|w| w[0].1[1] < w[1].1[1]), "{frames:?}");
    drop(server);
    assert!(reader.await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_read_while_the_writer_sends_is_answered_once_between_whole_frames() {
    for writer_first in [false, true] {
        let (client, mut server) = duplex(64);
        let (r, w) = tokio::io::split(client);
        let (mut reading, mut writing) = leaked().split(r, w);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        if writer_first {
            // A 64 KiB frame through 64 bytes of pipe: the writer is sending when the ping comes.
            let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut writing).poll_write(cx, &data))).await;
            assert!(first.is_pending());
        }
        server.write_all(&[0x89, 1, b'?']).await.unwrap();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while reading.read_buf(&mut got).await.unwrap() > 0 {}
            got
        });
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            writing.write_all(&sent).await.unwrap();
            writing.flush().await.unwrap();
        });
        let wait = frames_until(&mut server, |p, f| p.len() >= data.len() && f.iter().any(|f| f.0 == 0x8A));
        let (payload, frames) = tokio::time::timeout(PATIENCE, wait).await.expect("the data and the pong arrive");
        let pongs: Vec<_> = frames.iter().filter(|f| f.0 != 0x82).collect();
        assert_eq!(pongs, [&(0x8A, b"?".to_vec())], "writer first: {writer_first}");
        assert!(payload == data, "{} bytes arrived of {}", payload.len(), data.len());
        tokio::time::timeout(PATIENCE, writer).await.expect("the writer finishes").unwrap();
        drop(server);
        assert!(reader.await.unwrap().is_empty());
    }
}
