//! A TCP socket that can leave tokio's reactor while its connection is parked, under a layer
//! that stays in place (OpenSSL's TLS-PSK session): the layer keeps the same stream value, whose
//! socket is live, or parked as a plain std socket (doze.rs).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(crate) enum Socket {
    Live(TcpStream),
    Parked(std::net::TcpStream),
    /// Gone while being moved between the two (a failed move closes it).
    Closed,
}

impl Socket {
    /// Takes the socket off tokio's reactor.
    pub(super) fn detach(&mut self) -> io::Result<()> {
        if let Self::Live(tcp) = std::mem::replace(self, Self::Closed) {
            *self = Self::Parked(tcp.into_std()?);
        }
        Ok(())
    }

    /// Puts the socket back on the reactor of the runtime entered.
    pub(super) fn attach(&mut self) -> io::Result<()> {
        if let Self::Parked(std) = std::mem::replace(self, Self::Closed) {
            *self = Self::Live(TcpStream::from_std(std)?);
        }
        Ok(())
    }

    #[cfg(unix)]
    pub(super) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Self::Live(tcp) => tcp.as_raw_fd(),
            Self::Parked(std) => std.as_raw_fd(),
            Self::Closed => -1,
        }
    }

    /// A parked socket has bytes (or the peer's close) waiting: see doze.rs.
    pub(super) fn input_waiting(&self) -> bool {
        match self {
            Self::Parked(std) => std.peek(&mut [0u8; 1]).is_ok(),
            Self::Live(_) | Self::Closed => false,
        }
    }

    fn live(self: Pin<&mut Self>) -> io::Result<Pin<&mut TcpStream>> {
        match self.get_mut() {
            Self::Live(tcp) => Ok(Pin::new(tcp)),
            // Only a parked connection holds a parked socket, and nothing polls it.
            Self::Parked(_) | Self::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

/// OpenSSL's socket BIO reads and writes the descriptor itself (`SocketTls`); tokio says when.
impl mqtt_lab_psk_hint::Readiness for Socket {
    fn fd(&self) -> std::os::raw::c_int {
        match self {
            Self::Live(tcp) => mqtt_lab_psk_hint::socket_fd(tcp),
            Self::Parked(std) => mqtt_lab_psk_hint::socket_fd(std),
            Self::Closed => -1,
        }
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: tokio::io::Interest) -> Poll<io::Result<()>> {
        match self {
            Self::Live(tcp) => mqtt_lab_psk_hint::Readiness::poll_ready(tcp, cx, interest),
            Self::Parked(_) | Self::Closed => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn try_io<R>(&self, interest: tokio::io::Interest, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        match self {
            Self::Live(tcp) => tcp.try_io(interest, op),
            Self::Parked(_) | Self::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.live() {
            Ok(tcp) => tcp.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.live() {
            Ok(tcp) => tcp.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.live() {
            Ok(tcp) => tcp.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.live() {
            Ok(tcp) => tcp.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
