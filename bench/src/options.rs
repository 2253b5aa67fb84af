//! Command-line options of `mqtt-lab-bench`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mqtt_lab_broker::codec::Protocol;

use crate::transport::{Framing, Security, parse_hex_key};

mod sources;
pub use sources::parse_sources;

pub const USAGE: &str = "\
mqtt-lab-bench: load generator for MQTT 3.1.1 and MQTT 5 brokers

Usage:
  mqtt-lab-bench SCENARIO [options]
  mqtt-lab-bench summarize FILE.jsonl... [--ours LABEL]
  mqtt-lab-bench relay [--host HOST] [--port PORT]

Scenarios:
  conn      N idle connections (--count, default 1000); with --pid, the broker's RSS per connection
  pub       P publishers, no subscriber: messages/s the broker accepts
  sub       P publishers (default 1) to one subscriber
  fanin     P publishers (default 4) to one subscriber
  fanout    one publisher to S subscribers (default 50): deliveries/s
  latency   one publisher at --rate msg/s to one subscriber: p50/p90/p99/max publish-to-deliver
  retained  N retained messages, then the time a new subscriber to --filter needs to get them
  soak      N connections (default 5000) for --duration (default 600 s) with keepalive pings and
            a mixed load: P publishers (default 50) at --rate msg/s in all (default 500), QoS
            0/1/2 in turn, to S subscribers (default 50); samples every --sample s (default 10)

relay: a forwarder that does the least a broker can (every PUBLISH copied to every subscriber,
no topics, queues or retained messages), to measure the machine's latency floor; --port 0 picks
a free port, and the address is printed.

Options:
  --host HOST          broker host (default 127.0.0.1)
  --port PORT          broker port (default 1883; 8883 with TLS or TLS-PSK; 9001 with --ws)
  --label NAME         the broker's name in the results (default: host:port)
  --qos 0|1|2          QoS of publishes and subscriptions (default 0)
  --mqtt-version V     3.1.1 (also 4 or 311, the default) or 5: every packet in that version
  --publishers P       publishers (soak: 0 for idle connections only)
  --subscribers S      subscribers (fanout; soak: 0 for idle connections only)
  --count N            messages per publisher (conn: connections; retained: messages)
  --duration SECS      upper bound on the run's time (default 60)
  --payload BYTES      payload size, at least 20 (default 64)
  --rate R             latency: messages per second (default 1000)
  --inflight W         unacknowledged QoS 1/2 messages per publisher (default 100)
  --filter F           retained: the new subscriber's filter (default #)
  --stuck N            sub, fanin, fanout: N more subscribers that never read after subscribing
  --pid PID            conn, soak: the broker's process id, to read its memory (Linux)
  --keepalive SECS     soak: the clients' keepalive (default 30); they ping every half of it
  --sample SECS        soak: seconds between samples (default 10)
  --at-once N          soak: connections opening at the same time in the connect storm (default 1000)
  --source ADDRS       soak: the clients' source addresses, taken in turn: one (127.0.0.2), a range
                       (127.0.0.2-127.0.0.9) or a comma-separated list of either; one address
                       has only ip_local_port_range's ports (about 28,000) towards one broker
  --username U, --password P, --client-prefix X   credentials and client id prefix
  --psk-identity ID --psk HEX   TLS-PSK with this identity and key (hex, as in psk_file)
  --cafile FILE        TLS, the broker's certificate checked against this CA (PEM)
  --insecure           TLS without checking the broker's certificate
  --ws                 MQTT over WebSocket (subprotocol mqtt): ws://, or wss:// with --cafile or
                       --insecure, or WebSocket over TLS-PSK with --psk-identity and --psk
  --path P             --ws: the upgrade's request path (default /mqtt)
  --quiet              the JSON line only, no table

Each run prints one JSON line on stdout and a readable table on stderr.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Conn,
    Pub,
    Sub,
    FanIn,
    FanOut,
    Latency,
    Retained,
    Soak,
}

impl Scenario {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Conn => "conn",
            Self::Pub => "pub",
            Self::Sub => "sub",
            Self::FanIn => "fanin",
            Self::FanOut => "fanout",
            Self::Latency => "latency",
            Self::Retained => "retained",
            Self::Soak => "soak",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Conn, Self::Pub, Self::Sub, Self::FanIn, Self::FanOut, Self::Latency, Self::Retained, Self::Soak]
            .into_iter()
            .find(|x| x.name() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Scenario,
    pub addr: SocketAddr,
    pub label: String,
    pub qos: u8,
    /// The MQTT version of every client: [`Protocol::V311`] or [`Protocol::V5`].
    pub protocol: Protocol,
    pub publishers: u32,
    pub subscribers: u32,
    pub count: u64,
    pub duration: Duration,
    pub payload: usize,
    pub rate: f64,
    pub inflight: usize,
    pub filter: String,
    /// Subscribers that stop reading after their SUBACK (slow consumers).
    pub stuck: u32,
    pub pid: Option<u32>,
    /// Soak: the clients' keepalive in seconds.
    pub keepalive: u16,
    /// Soak: time between samples.
    pub sample: Duration,
    /// Soak: connection attempts in flight at once. Wide, so that the start is a connect storm
    /// (the broker's accept loop and listen backlog under pressure), not a polite queue.
    pub at_once: usize,
    /// Soak: source addresses the clients bind to, in turn; empty: the kernel's choice. One
    /// address reaches one broker from at most ip_local_port_range's ports (about 28,000).
    pub sources: Vec<IpAddr>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_prefix: String,
    /// The broker's host name as given (TLS checks the certificate against it).
    pub host: String,
    /// TCP, TLS or TLS-PSK.
    pub security: Security,
    /// MQTT straight on the connection, or in WebSocket frames (`--ws`).
    pub framing: Framing,
    pub quiet: bool,
}

impl Options {
    /// Defaults for a scenario against `addr`.
    pub fn new(scenario: Scenario, addr: SocketAddr) -> Self {
        let (publishers, subscribers, count) = match scenario {
            Scenario::Conn => (0, 0, 1000),
            Scenario::Pub => (4, 0, 200_000),
            Scenario::Sub => (1, 1, 200_000),
            Scenario::FanIn => (4, 1, 200_000),
            Scenario::FanOut => (1, 50, 20_000),
            Scenario::Latency => (1, 1, 5000),
            Scenario::Retained => (1, 1, 10_000),
            Scenario::Soak => (50, 50, 5000),
        };
        let soak = scenario == Scenario::Soak;
        Self {
            scenario,
            addr,
            label: addr.to_string(),
            qos: 0,
            protocol: Protocol::V311,
            publishers,
            subscribers,
            count,
            duration: if soak { Duration::from_mins(10) } else { Duration::from_mins(1) },
            payload: 64,
            rate: if soak { 500.0 } else { 1000.0 },
            inflight: 100,
            filter: "#".into(),
            stuck: 0,
            pid: None,
            keepalive: 30,
            sample: Duration::from_secs(10),
            at_once: 1000,
            sources: Vec::new(),
            username: None,
            password: None,
            client_prefix: String::new(),
            host: addr.ip().to_string(),
            security: Security::Plain,
            framing: Framing::Raw,
            quiet: false,
        }
    }

    /// Parses the arguments after the program name.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let name = args.first().ok_or("no scenario given")?;
        let scenario = Scenario::parse(name).ok_or_else(|| format!("unknown scenario {name:?}"))?;
        let mut host = "127.0.0.1".to_owned();
        let mut port = None;
        let (mut cafile, mut insecure, mut identity, mut key) = (None, false, None, None);
        let mut label = None;
        let (mut ws, mut path) = (false, None);
        let mut o = Self::new(scenario, SocketAddr::from(([127, 0, 0, 1], 1883)));
        let (least, least_text) = if scenario == Scenario::Soak { (0, "a number") } else { (1, "at least 1") };
        let mut it = args[1..].iter();
        while let Some(flag) = it.next() {
            // Flags without a value.
            match flag.as_str() {
                "--quiet" => o.quiet = true,
                "--insecure" => insecure = true,
                "--ws" => ws = true,
                _ => {}
            }
            if matches!(flag.as_str(), "--quiet" | "--insecure" | "--ws") {
                continue;
            }
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let bad = |what: &str| format!("{flag} {value:?}: {what}");
            match flag.as_str() {
                "--host" => host.clone_from(value),
                "--port" => port = Some(value.parse().map_err(|_| bad("not a port number"))?),
                "--label" => label = Some(value.clone()),
                "--qos" => o.qos = value.parse().ok().filter(|q| *q <= 2).ok_or_else(|| bad("QoS is 0, 1 or 2"))?,
                "--mqtt-version" => o.protocol = parse_version(value).ok_or_else(|| bad("3.1.1 (4, 311) or 5"))?,
                // A soak's extra load-generator processes carry idle connections only.
                "--publishers" | "--subscribers" => {
                    let n = value.parse().ok().filter(|n| *n >= least).ok_or_else(|| bad(least_text))?;
                    *(if flag == "--publishers" { &mut o.publishers } else { &mut o.subscribers }) = n;
                }
                "--count" => o.count = value.parse().ok().filter(|c| *c > 0).ok_or_else(|| bad("at least 1"))?,
                "--duration" => {
                    let secs: f64 = value.parse().ok().filter(|s: &f64| *s > 0.0).ok_or_else(|| bad("seconds > 0"))?;
                    o.duration = Duration::from_secs_f64(secs);
                }
                "--payload" => {
                    o.payload = value.parse().ok().filter(|p| *p >= crate::payload::STAMP_LEN).ok_or_else(|| {
                        bad(&format!("at least {} bytes (the sequence stamp)", crate::payload::STAMP_LEN))
                    })?;
                }
                "--rate" => {
                    o.rate = value.parse().ok().filter(|r: &f64| *r > 0.0).ok_or_else(|| bad("messages/s > 0"))?;
                }
                "--inflight" => o.inflight = value.parse().ok().filter(|w| *w > 0).ok_or_else(|| bad("at least 1"))?,
                "--filter" => o.filter.clone_from(value),
                "--stuck" => o.stuck = value.parse().map_err(|_| bad("a number of subscribers"))?,
                "--pid" => o.pid = Some(value.parse().map_err(|_| bad("not a process id"))?),
                "--keepalive" => {
                    o.keepalive = value.parse().ok().filter(|k| *k >= 2).ok_or_else(|| bad("seconds, at least 2"))?;
                }
                "--at-once" => o.at_once = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("at least 1"))?,
                "--source" | "--sources" => o.sources = parse_sources(value).map_err(|e| bad(&e))?,
                "--sample" => {
                    let secs: f64 = value.parse().ok().filter(|s: &f64| *s > 0.0).ok_or_else(|| bad("seconds > 0"))?;
                    o.sample = Duration::from_secs_f64(secs);
                }
                "--username" => o.username = Some(value.clone()),
                "--password" => o.password = Some(value.clone()),
                "--client-prefix" => o.client_prefix.clone_from(value),
                "--cafile" => cafile = Some(value.into()),
                "--path" if value.starts_with('/') => path = Some(value.clone()),
                "--path" => return Err(bad("a path starting with /")),
                "--psk-identity" => identity = Some(value.clone()),
                // Not `bad`: the message would show the key.
                "--psk" => key = Some(parse_hex_key(value).map_err(|e| format!("--psk: {e}"))?),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        o.security = match (identity, key) {
            (Some(_), Some(_)) if cafile.is_some() || insecure => {
                return Err("--psk and --cafile/--insecure exclude each other: TLS-PSK has no certificate".into());
            }
            (Some(identity), Some(key)) => Security::Psk { identity, key },
            (Some(_), None) => return Err("--psk-identity needs --psk (the key in hex)".into()),
            (None, Some(_)) => return Err("--psk needs --psk-identity".into()),
            (None, None) if cafile.is_some() || insecure => Security::Tls { cafile, insecure },
            (None, None) => Security::Plain,
        };
        o.framing = match (ws, path) {
            (true, path) => Framing::WebSocket { path: path.unwrap_or_else(|| "/mqtt".into()) },
            (false, Some(_)) => return Err("--path needs --ws (the path of the WebSocket upgrade)".into()),
            (false, None) => Framing::Raw,
        };
        let port = port.unwrap_or(match (&o.framing, &o.security) {
            (Framing::WebSocket { .. }, _) => 9001,
            (Framing::Raw, Security::Plain) => 1883,
            (Framing::Raw, _) => 8883,
        });
        o.addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host} has no address"))?;
        sources::check_family(&o.sources, o.addr)?;
        o.label = label.unwrap_or_else(|| format!("{host}:{port}"));
        o.host = host;
        Ok(o)
    }
}

/// The version names people use: the spec's (3.1.1, 5), the protocol level (4, 5), and
/// mosquitto_pub's `-V` values (311, 5).
fn parse_version(s: &str) -> Option<Protocol> {
    match s {
        "3.1.1" | "4" | "311" | "mqttv311" => Some(Protocol::V311),
        "5" | "5.0" | "mqttv5" => Some(Protocol::V5),
        _ => None,
    }
}

/// The version as the results name it.
pub const fn version_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V31 => "3.1",
        Protocol::V311 => "3.1.1",
        Protocol::V5 => "5",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_and_defaults() {
        let o = Options::parse(&args("fanin --port 1999 --qos 2 --label ours")).unwrap();
        assert_eq!((o.scenario, o.addr.port(), o.qos, o.publishers, o.subscribers), (Scenario::FanIn, 1999, 2, 4, 1));
        assert_eq!(o.label, "ours");
        let o = Options::parse(&args("fanout --count 5")).unwrap();
        assert_eq!((o.subscribers, o.count, o.label.as_str()), (50, 5, "127.0.0.1:1883"));
        let o = Options::parse(&args("soak --sample 5")).unwrap();
        assert_eq!((o.count, o.publishers, o.subscribers, o.keepalive), (5000, 50, 50, 30));
        assert_eq!((o.duration.as_secs(), o.sample.as_secs(), o.rate), (600, 5, 500.0));
    }

    #[test]
    fn mqtt_version_takes_every_common_name() {
        assert_eq!(Options::parse(&args("fanin")).unwrap().protocol, Protocol::V311);
        for v in ["3.1.1", "4", "311"] {
            assert_eq!(Options::parse(&args(&format!("fanin --mqtt-version {v}"))).unwrap().protocol, Protocol::V311);
        }
        assert_eq!(Options::parse(&args("conn --mqtt-version 5")).unwrap().protocol, Protocol::V5);
        assert_eq!(
            Options::parse(&args("conn --mqtt-version 3")).unwrap_err(),
            "--mqtt-version \"3\": 3.1.1 (4, 311) or 5"
        );
    }

    #[test]
    fn sources_take_addresses_ranges_and_lists() {
        let o = Options::parse(&args("soak --source 127.0.0.2-127.0.0.4,127.0.1.1 --at-once 50")).unwrap();
        let expected: Vec<IpAddr> =
            ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.1.1"].map(|a| a.parse().unwrap()).into();
        assert_eq!((o.sources, o.at_once), (expected, 50));
        assert!(Options::parse(&args("soak --source ::1")).unwrap_err().contains("different IP versions"));
        assert_eq!(
            Options::parse(&args("soak --source 127.0.0.9-127.0.0.2")).unwrap_err(),
            "--source \"127.0.0.9-127.0.0.2\": the range \"127.0.0.9-127.0.0.2\" ends before it starts"
        );
    }

    #[test]
    fn only_a_soak_takes_zero_publishers() {
        let o = Options::parse(&args("soak --publishers 0 --subscribers 0")).unwrap();
        assert_eq!((o.publishers, o.subscribers), (0, 0));
        assert_eq!(Options::parse(&args("fanin --publishers 0")).unwrap_err(), "--publishers \"0\": at least 1");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(Options::parse(&args("flood")).unwrap_err(), "unknown scenario \"flood\"");
        assert_eq!(Options::parse(&args("pub --qos 3")).unwrap_err(), "--qos \"3\": QoS is 0, 1 or 2");
        assert!(Options::parse(&args("pub --payload 8")).unwrap_err().contains("at least 20 bytes"));
        assert_eq!(Options::parse(&args("pub --count")).unwrap_err(), "--count needs a value");
        assert_eq!(Options::parse(&args("soak --keepalive 1")).unwrap_err(), "--keepalive \"1\": seconds, at least 2");
        assert_eq!(
            Options::parse(&args("pub --psk-identity a")).unwrap_err(),
            "--psk-identity needs --psk (the key in hex)"
        );
        let e = Options::parse(&args("pub --psk-identity a --psk 12345g")).unwrap_err();
        assert!(e.starts_with("--psk: the key must be") && !e.contains("12345g"), "{e}");
        assert!(Options::parse(&args("pub --psk-identity a --psk 00 --insecure")).unwrap_err().contains("exclude"));
    }

    #[test]
    fn tls_and_psk_default_to_port_8883() {
        let o = Options::parse(&args("latency --host localhost --psk-identity btsiot1 --psk 0a0b")).unwrap();
        assert_eq!((o.addr.port(), o.host.as_str(), o.security.name()), (8883, "localhost", "tls-psk"));
        assert_eq!(o.security, Security::Psk { identity: "btsiot1".into(), key: vec![10, 11] });
        let o = Options::parse(&args("pub --cafile ca.pem --port 9000")).unwrap();
        assert_eq!((o.addr.port(), o.security.name()), (9000, "tls"));
        assert_eq!(Options::parse(&args("pub --insecure")).unwrap().security.name(), "tls");
        assert_eq!(Options::parse(&args("pub")).unwrap().addr.port(), 1883);
    }

    #[test]
    fn ws_frames_any_security_on_any_path() {
        let o = Options::parse(&args("fanin --ws")).unwrap();
        assert_eq!((o.addr.port(), &o.framing), (9001, &Framing::WebSocket { path: "/mqtt".into() }));
        assert_eq!(o.security, Security::Plain);
        let o = Options::parse(&args("conn --ws --path /ws/mqtt --insecure --port 8443")).unwrap();
        assert_eq!((o.addr.port(), &o.framing), (8443, &Framing::WebSocket { path: "/ws/mqtt".into() }));
        assert_eq!(o.security.name(), "tls");
        let o = Options::parse(&args("pub --psk-identity a --psk 00 --ws")).unwrap();
        assert_eq!(crate::transport::transport_name(&o.security, &o.framing), "ws-psk");
        assert_eq!(Options::parse(&args("pub")).unwrap().framing, Framing::Raw);
        assert_eq!(
            Options::parse(&args("pub --path /mqtt")).unwrap_err(),
            "--path needs --ws (the path of the WebSocket upgrade)"
        );
        assert_eq!(
            Options::parse(&args("pub --ws --path mqtt")).unwrap_err(),
            "--path \"mqtt\": a path starting with /"
        );
    }
}
