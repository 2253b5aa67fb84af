//! Topic depth (issue 24): Mosquitto 2.0 takes at most 200 `/` separators (201 levels) in a
//! topic name or filter and closes the connection of a client that sends more. Ours does the
//! same: both brokers get the same bytes, MQTT 3.1.1 and 5.0, and answer alike.

mod support;

use support::brokers::{BrokerProcess, both};
use support::{PATIENCE, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An MQTT length-prefixed string.
fn string(s: &[u8]) -> Vec<u8> {
    let len = u16::try_from(s.len()).unwrap();
    [&len.to_be_bytes()[..], s].concat()
}

/// A packet: first byte, remaining length, body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut n = body.len();
    loop {
        let digit = u8::try_from(n % 128).unwrap();
        n /= 128;
        out.push(if n > 0 { digit | 0x80 } else { digit });
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A topic of `levels` levels.
fn deep(levels: usize, last: &str) -> Vec<u8> {
    format!("{}{last}", "a/".repeat(levels - 1)).into_bytes()
}

/// What a broker answered: one packet's bytes, or `None` when it closed the connection first.
async fn read_packet(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = vec![0u8];
    if stream.read_exact(&mut head).await.is_err() {
        return None;
    }
    let mut len = 0usize;
    for shift in [0, 7, 14, 21] {
        let mut b = [0u8];
        stream.read_exact(&mut b).await.ok()?;
        head.push(b[0]);
        len |= usize::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.ok()?;
    Some([head, body].concat())
}

/// Connects with protocol level `level`, sends `probe`, and answers what came back: the answer
/// packet's type and reason (SUBACK's return code, PUBACK's or DISCONNECT's reason code; 0
/// when a 5.0 packet leaves it out), and whether the connection was then closed.
async fn answer(broker: &BrokerProcess, level: u8, probe: &[u8]) -> (Option<(u8, u8)>, bool) {
    let mut stream = TcpStream::connect(broker.addr()).await.unwrap();
    let v5 = level == 5;
    let props: &[u8] = if v5 { &[0] } else { &[] };
    let connect = [&string(b"MQTT")[..], &[level, 0x02, 0, 60], props, &string(b"depth")].concat();
    stream.write_all(&packet(0x10, &connect)).await.unwrap();
    let connack = tokio::time::timeout(PATIENCE, read_packet(&mut stream)).await.unwrap().unwrap();
    assert_eq!(connack[0], 0x20, "{:?}: CONNACK expected", broker.kind);
    stream.write_all(probe).await.unwrap();
    let reply = tokio::time::timeout(PATIENCE, read_packet(&mut stream)).await.unwrap();
    let summary = reply.map(|p| {
        let body = &p[2..];
        let reason = match p[0] {
            0x40 => body.get(2).copied().unwrap_or(0),
            0x90 => *body.last().unwrap(),
            _ => body.first().copied().unwrap_or(0),
        };
        (p[0], reason)
    });
    // A PINGREQ: answered while the connection lives, EOF once the broker has closed it.
    let _ = stream.write_all(&[0xc0, 0]).await;
    let after = tokio::time::timeout(PATIENCE, read_packet(&mut stream)).await.unwrap();
    (summary, after.is_none())
}

fn publish_qos1(level: u8, topic: &[u8]) -> Vec<u8> {
    let props: &[u8] = if level == 5 { &[0] } else { &[] };
    packet(0x32, &[&string(topic)[..], &[0, 7], props, b"x"].concat())
}

fn subscribe(level: u8, filter: &[u8]) -> Vec<u8> {
    let props: &[u8] = if level == 5 { &[0] } else { &[] };
    packet(0x82, &[&[0, 1][..], props, &string(filter), &[0]].concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_past_201_levels_close_the_connection_on_both_brokers() {
    let dir = TempDir::new("limits-depth");
    let brokers = both(&dir, "listener PORT 127.0.0.1\nallow_anonymous true\n");
    let closed = (None, true);
    for level in [4u8, 5] {
        let v5 = level == 5;
        let cases = [
            (
                "PUBLISH 201 levels",
                publish_qos1(level, &deep(201, "a")),
                (Some((0x40, if v5 { 0x10 } else { 0 })), false),
            ),
            ("SUBSCRIBE 201 levels", subscribe(level, &deep(201, "#")), (Some((0x90, 0)), false)),
            // Mosquitto: DISCONNECT 0x82 Protocol Error for the name, 0x81 Malformed for the filter.
            (
                "PUBLISH 202 levels",
                publish_qos1(level, &deep(202, "a")),
                if v5 { (Some((0xe0, 0x82)), true) } else { closed },
            ),
            (
                "SUBSCRIBE 202 levels",
                subscribe(level, &deep(202, "+")),
                if v5 { (Some((0xe0, 0x81)), true) } else { closed },
            ),
        ];
        for (what, probe, expected) in cases {
            let [mosquitto, ours] =
                [answer(&brokers[0], level, &probe).await, answer(&brokers[1], level, &probe).await];
            assert_eq!(mosquitto, expected, "Mosquitto, level {level}, {what}");
            assert_eq!(ours, mosquitto, "ours as Mosquitto, level {level}, {what}");
        }
    }
    let from = brokers[1].log_len();
    let _ = answer(&brokers[1], 4, &publish_qos1(4, &deep(202, "a"))).await;
    brokers[1].wait_for_log("topic name of 202 levels, over the limit of 201", from);
}
