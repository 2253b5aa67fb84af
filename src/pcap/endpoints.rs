//! Which addresses and ports the synthesized frames carry: the broker's real address where the
//! host is an address or resolves to one, the address this machine reaches it from, and a port
//! Wireshark decodes as MQTT.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};

/// The port Wireshark's MQTT dissector listens on: it registers `tcp.port` 1883 only and hands
/// 8883 to its TLS dissector, so MQTT shown in clear on any other port would be listed as bare
/// TCP. The frames put the broker here and the file's comment names the real port, so that
/// `tshark -r FILE -Y mqtt` works with no option.
pub const MQTT_PORT: u16 = 1883;

/// The client's port in the first TCP connection: the start of the dynamic range. The relay's
/// real local port is its own socket's, which nobody would recognise; later connections of the
/// session take the next ports, so Wireshark keeps them apart.
const FIRST_CLIENT_PORT: u16 = 49152;

/// The two ends of the synthesized TCP connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// This machine's address towards the broker (or a loopback one, see `guessed`).
    pub client: IpAddr,
    pub client_port: u16,
    pub broker: IpAddr,
    /// The port connected to; the frames carry `MQTT_PORT` (see there).
    pub broker_port: u16,
    /// The host as the profile names it ("test.mosquitto.org", "127.0.0.1").
    pub broker_host: String,
    /// What the frames show that was not known, in words, for the file's comment.
    pub guessed: Vec<String>,
}

impl Endpoints {
    /// The ends for a connection to `host:port`, from what is known: the broker's address
    /// (`None`: `host` itself if it is an address, else a loopback one) and this machine's
    /// address towards it (`None`: the broker's if it is loopback, else a loopback one).
    pub fn new(host: &str, port: u16, broker: Option<IpAddr>, client: Option<IpAddr>) -> Self {
        let mut guessed = Vec::new();
        let broker = broker.or_else(|| literal(host)).unwrap_or_else(|| {
            guessed.push(format!("the broker's address ({host} was not resolved; 127.0.0.1 stands in)"));
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        });
        let client = match client {
            Some(c) if c.is_ipv4() == broker.is_ipv4() => c,
            _ if broker.is_loopback() => broker,
            _ => {
                let stand_in =
                    if broker.is_ipv4() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { IpAddr::V6(Ipv6Addr::LOCALHOST) };
                guessed.push(format!("this machine's address ({stand_in} stands in)"));
                stand_in
            }
        };
        Self {
            client,
            client_port: FIRST_CLIENT_PORT,
            broker,
            broker_port: port,
            broker_host: host.to_owned(),
            guessed,
        }
    }

    /// `new` with the addresses looked up: the host resolved (DNS, hosts file) and the local
    /// address the OS would send from towards it (a UDP socket is "connected", which sends
    /// nothing). Blocking: call it off the UI thread.
    pub fn look_up(host: &str, port: u16) -> Self {
        let broker = literal(host)
            .or_else(|| (host, port).to_socket_addrs().ok().and_then(|mut addrs| addrs.next()).map(|a| a.ip()));
        let client = broker.and_then(local_towards);
        Self::new(host, port, broker, client)
    }

    /// The client's port for the `n`th TCP connection of the session (from 0).
    pub fn client_port_of(&self, n: usize) -> u16 {
        let offset = u16::try_from(n % usize::from(u16::MAX - FIRST_CLIENT_PORT)).unwrap_or(0);
        self.client_port.wrapping_add(offset).max(FIRST_CLIENT_PORT)
    }
}

/// The host and port of a connection as the app names it: "127.0.0.1:1883", "[::1]:8883",
/// "ws://broker:9001/mqtt".
pub fn host_port(address: &str) -> Option<(String, u16)> {
    let rest = address.split_once("://").map_or(address, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port.parse().ok()?))
}

/// `host` as an address: an IP literal (brackets allowed for IPv6), or "localhost".
fn literal(host: &str) -> Option<IpAddr> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    host.parse().ok()
}

/// The address this machine sends from towards `to`.
fn local_towards(to: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = if to.is_ipv4() { Ipv4Addr::UNSPECIFIED.into() } else { Ipv6Addr::UNSPECIFIED.into() };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    socket.connect(SocketAddr::new(to, MQTT_PORT)).ok()?;
    socket.local_addr().ok().map(|a| a.ip()).filter(|ip| !ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_used_as_is_and_a_loopback_broker_has_a_loopback_client() {
        let e = Endpoints::new("127.0.0.1", 8883, None, None);
        assert_eq!((e.broker, e.client, e.broker_port), (Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into(), 8883));
        assert!(e.guessed.is_empty(), "{:?}", e.guessed);
        let v6 = Endpoints::new("[::1]", 1883, None, None);
        assert_eq!((v6.broker, v6.client), (Ipv6Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()));
    }

    #[test]
    fn what_is_not_known_is_said() {
        let e = Endpoints::new("broker.example", 1883, None, None);
        assert_eq!(e.broker, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(e.guessed[0].contains("broker.example was not resolved"), "{:?}", e.guessed);
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let e = Endpoints::new("broker.example", 1883, Some(remote), None);
        assert_eq!((e.broker, e.client), (remote, IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(e.guessed[0].contains("this machine's address"), "{:?}", e.guessed);
        // A client address of the other family cannot be in the same IP header.
        let e = Endpoints::new("::1", 1883, None, Some(Ipv4Addr::LOCALHOST.into()));
        assert_eq!(e.client, IpAddr::V6(Ipv6Addr::LOCALHOST));
    }

    #[test]
    fn host_and_port_are_read_from_the_app_s_address_text() {
        assert_eq!(host_port("127.0.0.1:1883"), Some(("127.0.0.1".into(), 1883)));
        assert_eq!(host_port("[::1]:8883"), Some(("::1".into(), 8883)));
        assert_eq!(host_port("wss://broker.example:443/mqtt"), Some(("broker.example".into(), 443)));
        assert_eq!(host_port("broker.example"), None);
    }

    #[test]
    fn looking_up_a_loopback_host_finds_the_loopback_route() {
        let e = Endpoints::look_up("localhost", 1883);
        assert_eq!((e.broker, e.client), (Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()));
        assert_eq!((e.client_port_of(0), e.client_port_of(2)), (49152, 49154));
    }
}
