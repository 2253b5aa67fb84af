//! What the broker's fuzz targets check, shared by the targets (`cargo fuzz run NAME`) and by
//! the normal tests, which replay the committed corpus (broker/tests/fuzz_corpus.rs). Each
//! function takes the fuzzer's bytes and panics on a finding: a panic in the code under test,
//! or a property that does not hold.
#![allow(dead_code, reason = "each fuzz target uses one of these")]

use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use mqtt_lab_broker::auth::{Acl, Client, PasswordFile, PasswordHash, PskFile, decode_hex_key};
use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{
    ConnAck, Connect, ConnectReturnCode, Decoded, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, SubAck,
    SubAckCode, SubOptions, Subscribe, TopicFilter, TopicName, UnsubAck, Unsubscribe, decode, decode_header, inspect,
};
use mqtt_lab_broker::config::Config;

#[path = "broker_v5.rs"]
mod v5;

/// The broker's default packet size limit is the protocol's; a small one exercises the check.
const LIMITS: [usize; 2] = [268_435_455, 64];

/// The connections a packet may arrive on: the same bytes mean different packets on each.
const PROTOCOLS: [Protocol; 2] = [Protocol::V311, Protocol::V5];

/// Raw bytes as a client may send them, on a 3.1.1 and on a 5.0 connection: decoding never
/// panics, a decoded packet encodes again (for the same connection) to bytes that decode to the
/// same packet, and the inspector's fields lie within the packet.
pub fn codec_bytes(data: &[u8]) {
    let _ = decode_header(data);
    for protocol in PROTOCOLS {
        for limit in LIMITS {
            if let Ok(Decoded::Packet(packet, len)) = decode(data, limit, protocol) {
                assert!(len <= data.len(), "consumed {len} of {} bytes", data.len());
                let bytes = packet.to_bytes(protocol).expect("a decoded packet encodes");
                let again = decode(&bytes, usize::MAX, protocol);
                assert_eq!(again, Ok(Decoded::Packet(packet, bytes.len())), "re-encoded for {protocol}");
            }
        }
        let inspection = inspect(data, protocol);
        for field in &inspection.fields {
            assert!(field.range.start <= field.range.end && field.range.end <= data.len(), "{field:?}");
        }
    }
}

/// A well-formed packet built from the fuzzer's bytes encodes to exactly `encoded_len` bytes and
/// decodes to itself, for a 3.1.1 and a 5.0 connection; then, from the rest of the bytes, the
/// same packet with what only MQTT 5.0 has (properties, reason codes, subscription options,
/// AUTH) does so for a 5.0 connection.
pub fn codec_round_trip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(packet) = packet(&mut u) else { return };
    for protocol in PROTOCOLS {
        round_trip(&packet, protocol);
    }
    if let Ok(packet) = v5::extend(&mut u, packet) {
        round_trip(&packet, Protocol::V5);
    }
}

fn round_trip(packet: &Packet, protocol: Protocol) {
    let Ok(bytes) = packet.to_bytes(protocol) else { return };
    assert_eq!(Ok(bytes.len()), packet.encoded_len(protocol), "{protocol}");
    assert_eq!(decode(&bytes, usize::MAX, protocol), Ok(Decoded::Packet(packet.clone(), bytes.len())), "{protocol}");
}

/// A mosquitto.conf never panics the parser.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Config::parse(&text, Path::new("fuzz.conf"));
}

/// Password, ACL and PSK files never panic their parsers, nor the ACL its checks; a problem
/// reported for a PSK line never shows the key.
pub fn auth_files(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = PasswordFile::parse(&text);
    for line in text.lines() {
        if let Some((_, hash)) = line.split_once(':') {
            let _ = PasswordHash::parse(hash);
        }
        let _ = decode_hex_key(line);
    }
    let (acl, _) = Acl::parse(&text);
    for topic in ["PV/data", "a/b/c", "$SYS/broker/uptime", "", "/"] {
        for client in [Client { id: "esp32", username: Some("btsiot") }, Client { id: "x", username: None }] {
            let _ = acl.can_read(client, topic);
            let _ = acl.can_write(client, topic);
        }
    }
    let (_, problems) = PskFile::parse(&text);
    let lines: Vec<&str> = text.lines().collect();
    for problem in &problems {
        // Key material of the problem's own line: a run of hex digits (the messages' own words
        // hold none of 8 or more). The identity may be shown, and may contain the same digits.
        let Some((identity, key)) = problem.line.checked_sub(1).and_then(|i| lines.get(i)?.split_once(':')) else {
            continue;
        };
        let key = key.trim();
        if key.len() >= 8 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            let shown = problem.to_string().replace(identity.trim(), "");
            assert!(!shown.contains(key), "a PSK problem shows the key: {problem}");
        }
    }
}

fn qos(u: &mut Unstructured<'_>) -> arbitrary::Result<QoS> {
    Ok(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])?)
}

fn pid(u: &mut Unstructured<'_>) -> arbitrary::Result<PacketId> {
    PacketId::new(u.int_in_range(1..=u16::MAX)?).ok_or(arbitrary::Error::IncorrectFormat)
}

fn topic(u: &mut Unstructured<'_>) -> arbitrary::Result<TopicName> {
    TopicName::new(String::arbitrary(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn filter(u: &mut Unstructured<'_>) -> arbitrary::Result<TopicFilter> {
    TopicFilter::new(String::arbitrary(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn bytes(u: &mut Unstructured<'_>) -> arbitrary::Result<Bytes> {
    Ok(Bytes::from(Vec::<u8>::arbitrary(u)?))
}

fn non_empty<T>(
    u: &mut Unstructured<'_>,
    f: fn(&mut Unstructured<'_>) -> arbitrary::Result<T>,
) -> arbitrary::Result<Vec<T>> {
    let mut items = vec![f(u)?];
    while items.len() < 8 && u.arbitrary()? {
        items.push(f(u)?);
    }
    Ok(items)
}

/// Any packet the specification allows, with its fields' rules kept (a password only with a user
/// name, DUP only above QoS 0, no session present on a refusal, at least one filter).
fn packet(u: &mut Unstructured<'_>) -> arbitrary::Result<Packet> {
    Ok(match u.int_in_range(0..=13u8)? {
        0 => {
            let username = Option::<String>::arbitrary(u)?;
            let password = if username.is_some() { Option::<Vec<u8>>::arbitrary(u)?.map(Bytes::from) } else { None };
            let will = if u.arbitrary()? {
                Some(LastWill {
                    topic: topic(u)?,
                    payload: bytes(u)?,
                    qos: qos(u)?,
                    retain: u.arbitrary()?,
                    properties: Properties::default(),
                })
            } else {
                None
            };
            Packet::Connect(Box::new(Connect {
                bridge: false,
                protocol: *u.choose(&[Protocol::V31, Protocol::V311])?,
                clean_session: u.arbitrary()?,
                keep_alive: u.arbitrary()?,
                properties: Properties::default(),
                client_id: String::arbitrary(u)?,
                will,
                username,
                password,
            }))
        }
        1 => {
            let code = ConnectReturnCode::from_u8(u.int_in_range(0..=5)?).ok_or(arbitrary::Error::IncorrectFormat)?;
            let session_present = code == ConnectReturnCode::Accepted && u.arbitrary()?;
            Packet::ConnAck(ConnAck::new(session_present, code))
        }
        2 => {
            let qos_pid = QosPid::with(qos(u)?, pid(u)?);
            let dup = qos_pid != QosPid::AtMostOnce && u.arbitrary()?;
            Packet::Publish(Publish {
                dup,
                qos_pid,
                retain: u.arbitrary()?,
                topic: topic(u)?,
                payload: bytes(u)?,
                properties: Properties::default(),
            })
        }
        3 => Packet::PubAck(pid(u)?.into()),
        4 => Packet::PubRec(pid(u)?.into()),
        5 => Packet::PubRel(pid(u)?.into()),
        6 => Packet::PubComp(pid(u)?.into()),
        7 => Packet::Subscribe(Subscribe {
            pid: pid(u)?,
            properties: Properties::default(),
            filters: non_empty(u, |u| Ok((filter(u)?, SubOptions::from(qos(u)?))))?,
        }),
        8 => Packet::SubAck(SubAck {
            pid: pid(u)?,
            properties: Properties::default(),
            codes: non_empty(u, |u| {
                Ok(if u.arbitrary()? { SubAckCode::FAILURE } else { SubAckCode::Granted(qos(u)?) })
            })?,
        }),
        9 => Packet::Unsubscribe(Unsubscribe {
            pid: pid(u)?,
            properties: Properties::default(),
            filters: non_empty(u, filter)?,
        }),
        10 => Packet::UnsubAck(UnsubAck::new(pid(u)?)),
        11 => Packet::PingReq,
        12 => Packet::PingResp,
        _ => Packet::disconnect(),
    })
}
