//! A listener's socket, bound as Mosquitto binds it: with no address, on every interface of both
//! IP families (one dual-stack socket; IPv4 alone where the host has no IPv6); `socket_domain`
//! keeps one family; `bind_interface` (Linux `SO_BINDTODEVICE`) takes only connections that
//! arrive on that network interface.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use crate::config::{ListenerConfig, SocketDomain};

/// Pending connections the kernel queues for a listener (Mosquitto passes 100; more costs
/// nothing until used and helps a burst of reconnecting clients).
const BACKLOG: i32 = 1024;

/// Binds `l`'s socket. Must be called within a tokio runtime.
///
/// # Errors
/// The address does not resolve (in the family `socket_domain` asks for), the port is taken, or
/// the interface does not exist; the error names which.
pub(crate) fn bind(l: &ListenerConfig) -> io::Result<TcpListener> {
    let named = |e: io::Error, what: &str| io::Error::new(e.kind(), format!("{what}: {e}"));
    let addrs = addresses(l)?;
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to bind");
    for (addr, only_v6) in addrs {
        match bind_one(addr, only_v6, l.bind_interface.as_deref()) {
            Ok(listener) => return Ok(listener),
            Err(e) if l.bind_interface.is_some() && e.kind() == io::ErrorKind::NotFound => {
                return Err(named(e, &format!("bind_interface {}", l.bind_interface.as_deref().unwrap_or(""))));
            }
            Err(e) => last = named(e, &addr.to_string()),
        }
    }
    Err(last)
}

/// The addresses to try in order, each with whether the socket takes IPv6 only.
fn addresses(l: &ListenerConfig) -> io::Result<Vec<(SocketAddr, bool)>> {
    let port = l.port;
    let v4 = (SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), false);
    let v6 = |only| (SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)), only);
    let Some(host) = l.bind_address.as_deref() else {
        return Ok(match l.socket_domain {
            Some(SocketDomain::Ipv4) => vec![v4],
            Some(SocketDomain::Ipv6) => vec![v6(true)],
            // Both families on one socket; where IPv6 is off, IPv4 alone.
            None => vec![v6(false), v4],
        });
    };
    let resolved: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("bind_address {host}: {e}")))?
        .filter(|a| match l.socket_domain {
            Some(SocketDomain::Ipv4) => a.is_ipv4(),
            Some(SocketDomain::Ipv6) => a.is_ipv6(),
            None => true,
        })
        .collect();
    if resolved.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("bind_address {host} has no address of the socket_domain family"),
        ));
    }
    Ok(resolved.into_iter().map(|a| (a, a.is_ipv6())).collect())
}

fn bind_one(addr: SocketAddr, only_v6: bool, interface: Option<&str>) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    // As tokio's TcpListener::bind (and Mosquitto): a restarted broker rebinds at once.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if let Some(interface) = interface {
        bind_device(&socket, interface)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// `bind_interface` on a listener bound elsewhere (by an embedding app, or by a plain
/// `TcpListener::bind`): the kernel matches a listening socket's device at each incoming
/// connection, so it takes effect after `listen` too.
pub(crate) fn restrict_to_interface(listener: &TcpListener, l: &ListenerConfig) -> io::Result<()> {
    match &l.bind_interface {
        Some(interface) => bind_device(&socket2::SockRef::from(listener), interface),
        None => Ok(()),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn bind_device(socket: &Socket, interface: &str) -> io::Result<()> {
    socket.bind_device(Some(interface.as_bytes())).map_err(|e| match e.raw_os_error() {
        // ENODEV
        Some(19) => io::Error::new(io::ErrorKind::NotFound, format!("no network interface {interface:?}")),
        _ => e,
    })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn bind_device(_: &Socket, interface: &str) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("bind_interface {interface}: binding to a network interface needs Linux (SO_BINDTODEVICE)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(address: Option<&str>, domain: Option<SocketDomain>) -> ListenerConfig {
        ListenerConfig { socket_domain: domain, ..ListenerConfig::on_port(0, address) }
    }

    #[tokio::test]
    async fn socket_domain_binds_one_family() {
        let v4 = bind(&listener(None, Some(SocketDomain::Ipv4))).unwrap();
        assert!(v4.local_addr().unwrap().is_ipv4());
        // IPv6 may be off where the tests run; then there is nothing to check.
        if let Ok(v6) = bind(&listener(None, Some(SocketDomain::Ipv6))) {
            let port = v6.local_addr().unwrap().port();
            assert!(v6.local_addr().unwrap().is_ipv6());
            assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "IPv6 only");
            assert!(tokio::net::TcpStream::connect(("::1", port)).await.is_ok());
        }
        let e = bind(&listener(Some("127.0.0.1"), Some(SocketDomain::Ipv6))).unwrap_err();
        assert!(e.to_string().contains("socket_domain"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn bind_interface_names_a_missing_interface() {
        let l = ListenerConfig { bind_interface: Some("nosuchif0".into()), ..listener(None, None) };
        let e = bind(&l).unwrap_err();
        assert!(e.to_string().contains("nosuchif0"), "{e}");
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let e = restrict_to_interface(&plain, &l).unwrap_err();
        assert!(e.to_string().contains("nosuchif0"), "{e}");
        let lo = ListenerConfig { bind_interface: Some("lo".into()), ..listener(None, None) };
        restrict_to_interface(&plain, &lo).unwrap();
        let port = plain.local_addr().unwrap().port();
        let (_client, accepted) = tokio::join!(tokio::net::TcpStream::connect(("127.0.0.1", port)), plain.accept());
        assert!(accepted.is_ok(), "lo still takes loopback clients");
    }
}
