//! `SocketTls` (OpenSSL's socket BIO under tokio's readiness) against the openssl crate's own
//! stream as the client, over loopback: the handshake in both TLS versions, a wrong key, large
//! transfers that fill the socket both ways, and both kinds of end.

use std::time::Duration;

use mqtt_lab_psk_hint::{PskClient, PskError, PskVersions, SocketTls};
use openssl::ssl::{Ssl, SslContext, SslMethod, SslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &[u8] = &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];

fn server_context() -> SslContext {
    let mut b = SslContext::builder(SslMethod::tls_server()).unwrap();
    b.set_mode(SslMode::RELEASE_BUFFERS);
    b.set_cipher_list(mqtt_lab_psk_hint::PSK_CIPHERS).unwrap();
    mqtt_lab_psk_hint::set_psk_identity_hint(&mut b, "hint").unwrap();
    b.set_psk_server_callback(|_, identity, out| {
        if identity != Some(b"btsiot1".as_slice()) {
            return Ok(0);
        }
        out[..KEY.len()].copy_from_slice(KEY);
        Ok(KEY.len())
    });
    b.build()
}

/// A server task that accepts one client and runs `serve` on it; the client's stream.
async fn pair<F, Fut>(
    versions: PskVersions,
    key: &[u8],
    serve: F,
) -> (Result<tokio_openssl::SslStream<TcpStream>, PskError>, tokio::task::JoinHandle<std::io::Result<()>>)
where
    F: FnOnce(SocketTls<TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = server_context();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = SocketTls::new(Ssl::new(&ctx).unwrap(), tcp).unwrap();
        tls.accept().await?;
        serve(tls).await
    });
    let client = PskClient::new("btsiot1", key, versions).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    (client.connect(tcp, "127.0.0.1").await, server)
}

async fn echo(mut tls: SocketTls<TcpStream>) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        tls.write_all(&buf[..n]).await?;
    }
}

#[tokio::test]
async fn both_tls_versions_handshake_and_echo() {
    for versions in [PskVersions::Tls12, PskVersions::Tls13] {
        let (client, server) = pair(versions, KEY, echo).await;
        let mut client = client.unwrap();
        client.write_all(b"PV/sunshine yes").await.unwrap();
        let mut back = [0u8; 15];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"PV/sunshine yes", "{versions:?}");
        client.shutdown().await.unwrap();
        // close_notify from the client ends the server's reads cleanly.
        tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_wrong_key_fails_the_handshake_on_both_sides() {
    let (client, server) = pair(PskVersions::Tls13, b"wrong key", echo).await;
    assert!(matches!(client, Err(PskError::WrongKey(_))), "{client:?}");
    let err = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap_err();
    assert!(err.to_string().contains("binder does not verify"), "{err}");
}

/// 8 MiB each way (more than loopback's socket buffers hold) while the other side does not read yet: both sockets fill up, so every
/// write waits for writability and every read resumes a record cut short.
#[tokio::test]
async fn megabytes_each_way_through_full_sockets() {
    const LEN: usize = 8 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| u8::try_from(i % 251).unwrap()).collect();
    let expected = data.clone();
    let (client, server) = pair(PskVersions::Any, KEY, move |mut tls| async move {
        tls.write_all(&data).await?;
        let mut got = vec![0u8; LEN];
        tls.read_exact(&mut got).await?;
        assert!(got == data, "the server read what the client wrote");
        tls.shutdown().await
    })
    .await;
    let mut client = client.unwrap();
    // Writes its own 8 MiB before reading the server's: neither side reads while writing.
    let (mut reader, mut writer) = tokio::io::split(&mut client);
    let write = async {
        writer.write_all(&expected).await.unwrap();
    };
    let read = async {
        let mut got = vec![0u8; LEN];
        reader.read_exact(&mut got).await.unwrap();
        got
    };
    let ((), got) = tokio::time::timeout(Duration::from_mins(1), async { tokio::join!(write, read) }).await.unwrap();
    assert!(got == expected, "the client read what the server wrote");
    tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}

/// As tokio-openssl reads it over OpenSSL 3: an error that says so, not a clean end (which
/// only `close_notify` gives, above).
#[tokio::test]
async fn a_peer_that_drops_the_socket_without_close_notify_is_an_unexpected_end() {
    let (client, server) = pair(PskVersions::Any, KEY, echo).await;
    drop(client.unwrap());
    let err = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap_err();
    assert!(err.to_string().contains("unexpected eof"), "{err}");
}

/// A peer that starts a TLS 1.2 handshake, reads the server's answer, and ends the session
/// with a plaintext `close_notify` alert instead of going on: the handshake failed, whatever
/// OpenSSL calls the end (a clean one, `SSL_ERROR_ZERO_RETURN`).
#[tokio::test]
async fn a_session_closed_during_the_handshake_is_a_failed_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        // ClientHello: TLS 1.2, a 32-byte random, no session id, one suite
        // (TLS_PSK_WITH_AES_128_CBC_SHA, 0x008C), null compression, no extensions.
        let mut hello = vec![0x16, 0x03, 0x01, 0x00, 0x2D, 0x01, 0x00, 0x00, 0x29, 0x03, 0x03];
        hello.extend_from_slice(&[7u8; 32]);
        hello.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x8C, 0x01, 0x00]);
        tcp.write_all(&hello).await.unwrap();
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer[0], 0x16, "the server answers with a handshake record");
        // Alert record: warning (1), close_notify (0).
        tcp.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00]).await.unwrap();
        // Kept open until the server has decided.
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest).await;
    });
    let (tcp, _) = listener.accept().await.unwrap();
    let mut tls = SocketTls::new(Ssl::new(&server_context()).unwrap(), tcp).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), tls.accept()).await.unwrap();
    let err = outcome.expect_err("no handshake was completed");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    drop(tls);
    client.await.unwrap();
}

/// Writes to `tls` until a write waits for room (the client is not reading).
async fn fill(tls: &mut SocketTls<TcpStream>, chunk: &[u8]) -> std::io::Result<usize> {
    use std::pin::Pin;
    use std::task::Poll;
    use tokio::io::AsyncWrite;
    let mut sent = 0;
    loop {
        let step = std::future::poll_fn(|cx| match Pin::new(&mut *tls).poll_write(cx, chunk) {
            Poll::Pending => Poll::Ready(None),
            Poll::Ready(r) => Poll::Ready(Some(r)),
        })
        .await;
        match step {
            Some(Ok(n)) => sent += n,
            Some(Err(e)) => return Err(e),
            None => return Ok(sent),
        }
    }
}

/// A record that waits for room on a full socket is a pending write (the broker does not
/// park such a connection: a parked one waits only for input), and is not once it went out.
#[tokio::test]
async fn a_record_waiting_for_room_is_a_pending_write() {
    let (go, drained) = tokio::sync::oneshot::channel::<()>();
    let (client, server) = pair(PskVersions::Any, KEY, move |mut tls| async move {
        assert!(!tls.write_pending(), "nothing written yet");
        let chunk = vec![7u8; 16 << 10];
        let sent = fill(&mut tls, &chunk).await?;
        assert!(tls.write_pending(), "a record waits for room after {sent} bytes");
        go.send(()).unwrap();
        // The write that waited is completed with the same bytes, as OpenSSL asks.
        tls.write_all(&chunk).await?;
        assert!(!tls.write_pending(), "everything went out");
        tls.shutdown().await
    })
    .await;
    let mut client = client.unwrap();
    tokio::time::timeout(Duration::from_secs(30), drained).await.unwrap().unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), client.read_to_end(&mut all)).await.unwrap().unwrap();
    assert!(all.len() > 16 << 10 && all.iter().all(|b| *b == 7), "{} bytes", all.len());
    tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}

#[allow(unsafe_code)]
unsafe extern "C" {
    /// `int SSL_key_update(SSL *s, int updatetype);` from libssl.
    fn SSL_key_update(ssl: *mut openssl_sys::SSL, updatetype: std::ffi::c_int) -> std::ffi::c_int;
}

/// A TLS 1.3 key update waits for the next write without being a pending write (a connection
/// may park with it: OpenSSL sends it before the next record, whenever that is); the client
/// follows it to the new keys (it reads what comes after), and its own key update, which the
/// server asked for, reaches the server through a read.
#[tokio::test]
async fn a_key_update_goes_out_with_the_next_write_and_both_sides_change_keys() {
    use foreign_types::ForeignTypeRef;
    let (client, server) = pair(PskVersions::Tls13, KEY, move |mut tls| async move {
        // SAFETY: a valid SSL, owned by `tls`; 1 is SSL_KEY_UPDATE_REQUESTED.
        #[allow(unsafe_code)]
        let asked = unsafe { SSL_key_update(tls.ssl().as_ptr(), 1) };
        assert_eq!(asked, 1, "{}", openssl::error::ErrorStack::get());
        assert!(!tls.write_pending(), "nothing is on its way to the socket yet");
        tls.write_all(b"after the update").await?;
        assert!(!tls.write_pending(), "the key update went out with the write");
        let mut ping = [0u8; 4];
        tls.read_exact(&mut ping).await?;
        assert_eq!(&ping, b"ping");
        tls.write_all(b"pong").await?;
        tls.shutdown().await
    })
    .await;
    let mut client = client.unwrap();
    let mut got = [0u8; 16];
    tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(&got, b"after the update");
    client.write_all(b"ping").await.unwrap();
    let mut pong = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut pong)).await.unwrap().unwrap();
    assert_eq!(&pong, b"pong");
    tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}
