//! A server's TLS stream over OpenSSL's own socket BIO, for idle connections by the thousand.
//!
//! The openssl crate's `SslStream` (and tokio-openssl's over it) gives every stream a BIO
//! method of its own and a Rust state behind it, about 220 bytes per connection that Mosquitto,
//! on the same OpenSSL with one shared socket BIO, does not pay (docs/PERFORMANCE.md, measured
//! with massif on 1,000 idle TLS-PSK clients). Here `SSL_set_fd` gives the session OpenSSL's
//! socket BIO, which reads and writes the file descriptor itself; the socket's readiness comes
//! from tokio ([`Readiness`]), and an operation that would block clears it, so the task waits
//! for the next edge.
//!
//! The socket must keep its file descriptor for the stream's whole life (a socket that leaves
//! tokio's reactor while its connection is parked keeps it), and outlives the session: the
//! BIO does not close it.

use std::ffi::c_int;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use foreign_types::ForeignType;
use openssl::error::ErrorStack;
use openssl::ssl::{Ssl, SslRef};
use openssl_sys as ffi;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

#[allow(unsafe_code)]
unsafe extern "C" {
    /// `int SSL_set_fd(SSL *ssl, int fd);` from libssl: gives `ssl` a socket BIO over `fd`
    /// (without `BIO_CLOSE`: freeing the session leaves the socket open); 1 on success.
    fn SSL_set_fd(ssl: *mut ffi::SSL, fd: c_int) -> c_int;
    /// `void SSL_set_read_ahead(SSL *s, int yes);`: read whatever the socket has, not one
    /// record header and then its body, each a system call.
    fn SSL_set_read_ahead(ssl: *mut ffi::SSL, yes: c_int);
    /// `int SSL_has_pending(const SSL *s);`: 1 while bytes wait in the session, decrypted or
    /// read ahead and not yet decrypted.
    fn SSL_has_pending(ssl: *const ffi::SSL) -> c_int;
    /// `int SSL_is_init_finished(const SSL *s);`: 1 once the handshake is complete.
    fn SSL_is_init_finished(ssl: *const ffi::SSL) -> c_int;
    /// `int SSL_want(const SSL *s);`: what the last operation waited for; `SSL_WRITING` while
    /// a record it built is not yet all on the socket.
    fn SSL_want(ssl: *const ffi::SSL) -> c_int;
}

/// `SSL_WRITING` in ssl.h.
const SSL_WRITING: c_int = 2;

/// A socket whose readiness tokio tracks, as the stream under [`SocketTls`].
pub trait Readiness: AsyncWrite + Unpin {
    /// The socket's file descriptor, the same for the stream's whole life.
    fn fd(&self) -> c_int;
    /// Ready once the socket may be ready for `interest`; registers the task otherwise.
    ///
    /// # Errors
    /// The socket cannot be polled (closed, or not on a reactor).
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>>;
    /// Runs `op` if the socket is ready for `interest` (else `WouldBlock` without running it),
    /// and forgets the readiness when `op` returns `WouldBlock`.
    ///
    /// # Errors
    /// `op`'s, or `WouldBlock`.
    fn try_io<R>(&self, interest: Interest, op: impl FnOnce() -> io::Result<R>) -> io::Result<R>;
}

impl Readiness for tokio::net::TcpStream {
    fn fd(&self) -> c_int {
        socket_fd(self)
    }

    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>> {
        if interest.is_writable() { self.poll_write_ready(cx) } else { self.poll_read_ready(cx) }
    }

    fn try_io<R>(&self, interest: Interest, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        tokio::net::TcpStream::try_io(self, interest, op)
    }
}

/// A socket's descriptor as `SSL_set_fd` takes it: the file descriptor, or on Windows the
/// SOCKET handle cast to `int`, as OpenSSL's own socket BIO casts it back.
#[cfg(unix)]
pub fn socket_fd(socket: &impl std::os::fd::AsRawFd) -> c_int {
    socket.as_raw_fd()
}

/// A socket's descriptor as `SSL_set_fd` takes it: the file descriptor, or on Windows the
/// SOCKET handle cast to `int`, as OpenSSL's own socket BIO casts it back.
#[cfg(windows)]
pub fn socket_fd(socket: &impl std::os::windows::io::AsRawSocket) -> c_int {
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let fd = socket.as_raw_socket() as c_int;
    fd
}

/// What one OpenSSL call came to.
#[derive(Debug)]
enum Step {
    Done(usize),
    /// It needs the socket readable (or writable) first.
    Want(Interest),
    /// The peer closed the TLS session (`close_notify`), or the socket without one.
    Closed,
    Failed(io::Error),
}

/// A server-side TLS session over OpenSSL's socket BIO on `S`'s file descriptor.
pub struct SocketTls<S> {
    /// Dropped first: the session and its BIO are freed before the socket closes.
    ssl: Ssl,
    socket: S,
}

impl<S: Readiness> SocketTls<S> {
    /// Puts `ssl` (a server session, not yet handshaken) over `socket`.
    ///
    /// # Errors
    /// OpenSSL could not make the socket BIO.
    pub fn new(ssl: Ssl, socket: S) -> Result<Self, ErrorStack> {
        // SAFETY: `ssl.as_ptr()` is a valid SSL owned by `ssl`; the BIO that SSL_set_fd makes
        // is owned by the SSL and freed with it, and it does not close the descriptor, which
        // `socket` keeps open for longer than `ssl` lives (field order).
        #[allow(unsafe_code)]
        let ok = unsafe { SSL_set_fd(ssl.as_ptr(), socket.fd()) };
        if ok != 1 {
            return Err(ErrorStack::get());
        }
        // Reading ahead takes several records per system call where there are: tokio-openssl's
        // reads went through tokio, which spares the call that finds a socket drained, and
        // without it the socket BIO made 40 % more reads than tokio-openssl in the fan-in.
        // SAFETY: a valid SSL, owned by `ssl`.
        #[allow(unsafe_code)]
        unsafe {
            SSL_set_read_ahead(ssl.as_ptr(), 1);
        }
        Ok(Self { ssl, socket })
    }

    /// Bytes wait in the session (decrypted, or read ahead): a read needs no readable socket,
    /// and the connection must not wait on the socket alone.
    pub fn has_pending(&self) -> bool {
        // SAFETY: a valid SSL, owned by `self`.
        #[allow(unsafe_code)]
        let pending = unsafe { SSL_has_pending(self.ssl.as_ptr()) };
        pending == 1
    }

    /// The session has a record to send that is not all on the socket yet: the last
    /// operation waited for room (`SSL_WRITING`): a write's, or a handshake message OpenSSL
    /// wrote while reading. The connection must keep waiting for writability: a parked
    /// one waits only for input. A TLS 1.3 key update a peer asks for is not one: OpenSSL 3
    /// sends the answer with the next write (`ssl3_write_bytes`), parked or not.
    pub fn write_pending(&self) -> bool {
        // SAFETY: a valid SSL, owned by `self`.
        #[allow(unsafe_code)]
        let want = unsafe { SSL_want(self.ssl.as_ptr()) };
        want == SSL_WRITING
    }

    pub fn ssl(&self) -> &SslRef {
        &self.ssl
    }

    pub fn get_ref(&self) -> &S {
        &self.socket
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.socket
    }

    /// The server side of the handshake.
    ///
    /// # Errors
    /// The handshake failed: OpenSSL's error stack, as text (a wrong key reads "binder does
    /// not verify" in TLS 1.3, "decrypt" or "bad record mac" in TLS 1.2).
    pub async fn accept(&mut self) -> io::Result<()> {
        // The client speaks first.
        // SAFETY: a valid SSL, owned by `self`, with its BIO set by `new`.
        #[allow(unsafe_code)]
        let accept = |ssl| (unsafe { ffi::SSL_accept(ssl) }, 0);
        std::future::poll_fn(|cx| self.poll_step(cx, Interest::READABLE, accept)).await?;
        // SAFETY: a valid SSL, owned by `self`.
        #[allow(unsafe_code)]
        let finished = unsafe { SSL_is_init_finished(self.ssl.as_ptr()) } == 1;
        // A client that ends the session (close_notify) or the socket mid-handshake.
        if finished {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed the connection during the TLS handshake",
            ))
        }
    }

    /// Runs `call` (OpenSSL's result, > 0 when done, and the bytes it moved) until it completes
    /// or must wait for the socket, trying first when the socket is ready for `interest`.
    ///
    /// Every call that reaches the socket runs inside [`Readiness::try_io`] for the direction
    /// it may block on, so that readiness is forgotten only if it was seen before the call: a
    /// call that turns out to need the other direction is tried again under that one.
    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        mut interest: Interest,
        mut call: impl FnMut(*mut ffi::SSL) -> (c_int, usize),
    ) -> Poll<io::Result<usize>> {
        let ssl = self.ssl.as_ptr();
        loop {
            let outcome = self.socket.try_io(interest, || match step(ssl, &mut call) {
                // The readiness it waited on is spent: tokio forgets it, and the next poll waits.
                Step::Want(i) if i == interest => Err(io::ErrorKind::WouldBlock.into()),
                other => Ok(other),
            });
            match outcome {
                Ok(Step::Done(n)) => return Poll::Ready(Ok(n)),
                Ok(Step::Closed) => return Poll::Ready(Ok(0)),
                Ok(Step::Want(other)) => {
                    interest = other;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Ok(Step::Failed(e)) | Err(e) => return Poll::Ready(Err(e)),
            }
            ready!(self.socket.poll_ready(cx, interest))?;
        }
    }
}

/// One OpenSSL call and what it came to.
fn step(ssl: *mut ffi::SSL, call: &mut impl FnMut(*mut ffi::SSL) -> (c_int, usize)) -> Step {
    // SAFETY: the error queue is this thread's; SSL_get_error reads it, so stale entries from
    // an earlier call must go first.
    #[allow(unsafe_code)]
    unsafe {
        ffi::ERR_clear_error();
    }
    let (ret, moved) = call(ssl);
    if ret > 0 {
        return Step::Done(moved);
    }
    // SAFETY: `ssl` is valid (the caller's), and `ret` is the result of the call just made.
    #[allow(unsafe_code)]
    let code = unsafe { ffi::SSL_get_error(ssl, ret) };
    match code {
        ffi::SSL_ERROR_WANT_READ => Step::Want(Interest::READABLE),
        ffi::SSL_ERROR_WANT_WRITE => Step::Want(Interest::WRITABLE),
        ffi::SSL_ERROR_ZERO_RETURN => Step::Closed,
        ffi::SSL_ERROR_SYSCALL => {
            let os = io::Error::last_os_error();
            let stack = ErrorStack::get();
            if !stack.errors().is_empty() {
                Step::Failed(io::Error::other(stack))
            } else if os.raw_os_error().is_some_and(|n| n != 0) {
                Step::Failed(os)
            } else {
                // The socket ended without close_notify: an end of stream, as the openssl
                // crate reads it.
                Step::Closed
            }
        }
        _ => Step::Failed(io::Error::other(ErrorStack::get())),
    }
}

impl<S: Readiness> AsyncRead for SocketTls<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let unfilled = buf.initialize_unfilled();
        if unfilled.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let (ptr, len) = (unfilled.as_mut_ptr(), unfilled.len());
        // SAFETY: `ptr..ptr+len` is `buf`'s unfilled part, initialized above and borrowed for
        // this call.
        #[allow(unsafe_code)]
        let read = |ssl| {
            let mut n = 0;
            (unsafe { ffi::SSL_read_ex(ssl, ptr.cast(), len, &raw mut n) }, n)
        };
        // Bytes OpenSSL already holds are there whatever the socket's readiness says.
        let n = if this.has_pending() {
            match step(this.ssl.as_ptr(), &mut { read }) {
                Step::Done(n) => n,
                Step::Closed => 0,
                Step::Failed(e) => return Poll::Ready(Err(e)),
                Step::Want(interest) => ready!(this.poll_step(cx, interest, read))?,
            }
        } else {
            ready!(this.poll_step(cx, Interest::READABLE, read))?
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: Readiness> AsyncWrite for SocketTls<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // SAFETY: `data` is borrowed for this call.
        #[allow(unsafe_code)]
        let write = |ssl| {
            let mut n = 0;
            (unsafe { ffi::SSL_write_ex(ssl, data.as_ptr().cast(), data.len(), &raw mut n) }, n)
        };
        self.get_mut().poll_step(cx, Interest::WRITABLE, write)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The socket BIO writes through: nothing is held back.
        Poll::Ready(Ok(()))
    }

    /// Sends `close_notify`, then shuts the socket's sending side.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: a valid SSL owned by `this`. 0 (sent; the peer's not seen yet) is done too:
        // the connection is ending and does not wait for it.
        #[allow(unsafe_code)]
        let shutdown = |ssl| {
            let ret = unsafe { ffi::SSL_shutdown(ssl) };
            (if ret >= 0 { 1 } else { ret }, 0)
        };
        ready!(this.poll_step(cx, Interest::WRITABLE, shutdown))?;
        Pin::new(&mut this.socket).poll_shutdown(cx)
    }
}
