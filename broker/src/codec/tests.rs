//! Round trips and tables of bad input for the codec on MQTT 3.1 and 3.1.1 connections; the
//! MQTT 5.0 forms are in the submodules.

use bytes::Bytes;

use super::v5::Properties;
use super::*;

mod proptests;
mod v5_bad_input;
mod v5_inspect;
mod v5_publish;
mod v5_round_trip;
mod v5_subscribe;

/// The protocol of every test in this file.
const V311: Protocol = Protocol::V311;

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn name(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

fn filter(s: &str) -> TopicFilter {
    TopicFilter::new(s).unwrap()
}

pub(super) fn sample_packets() -> Vec<Packet> {
    vec![
        Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: Protocol::V311,
            clean_session: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: "btsiot-client1".into(),
            will: Some(LastWill {
                topic: name("PV/status"),
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::default(),
            }),
            username: Some("btsiot1".into()),
            password: Some(Bytes::from_static(b"btsiotpass1")),
        })),
        Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: Protocol::V31,
            clean_session: false,
            keep_alive: 0,
            properties: Properties::default(),
            client_id: String::new(),
            will: None,
            username: None,
            password: None,
        })),
        Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::Accepted)),
        Packet::ConnAck(ConnAck::new(false, ConnectReturnCode::NotAuthorized)),
        Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: true,
            topic: name("PV/sunshine"),
            payload: Bytes::from_static(b"yes"),
            properties: Properties::default(),
        }),
        Packet::Publish(Publish {
            dup: true,
            qos_pid: QosPid::ExactlyOnce(pid(65535)),
            retain: false,
            topic: name("PV/data"),
            payload: Bytes::from(vec![0xFF; 300]),
            properties: Properties::default(),
        }),
        Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtLeastOnce(pid(1)),
            retain: false,
            topic: name("a"),
            payload: Bytes::new(),
            properties: Properties::default(),
        }),
        Packet::PubAck(pid(7).into()),
        Packet::PubRec(pid(8).into()),
        Packet::PubRel(pid(9).into()),
        Packet::PubComp(pid(10).into()),
        Packet::Subscribe(Subscribe {
            pid: pid(2),
            properties: Properties::default(),
            filters: vec![
                (filter("PV/#"), SubOptions::from(QoS::ExactlyOnce)),
                (filter("+/sunshine"), SubOptions::from(QoS::AtMostOnce)),
            ],
        }),
        Packet::SubAck(SubAck {
            pid: pid(2),
            properties: Properties::default(),
            codes: vec![SubAckCode::Granted(QoS::ExactlyOnce), SubAckCode::FAILURE],
        }),
        Packet::Unsubscribe(Unsubscribe {
            pid: pid(3),
            properties: Properties::default(),
            filters: vec![filter("PV/#")],
        }),
        Packet::UnsubAck(UnsubAck::new(pid(3))),
        Packet::PingReq,
        Packet::PingResp,
        Packet::disconnect(),
    ]
}

#[test]
fn every_packet_round_trips_with_its_exact_length() {
    for packet in sample_packets() {
        let bytes = packet.to_bytes(V311).unwrap();
        assert_eq!(bytes.len(), packet.encoded_len(V311).unwrap(), "{packet:?}");
        let decoded = decode(&bytes, usize::MAX, V311).unwrap();
        assert_eq!(decoded, Decoded::Packet(packet.clone(), bytes.len()));
        let inspection = inspect(&bytes, V311);
        assert_eq!(inspection.packet, Ok(packet.clone()));
    }
}

#[test]
fn connect_encodes_to_the_bytes_of_the_specification() {
    let connect = Packet::Connect(Box::new(Connect {
        bridge: false,
        protocol: Protocol::V311,
        clean_session: true,
        keep_alive: 60,
        properties: Properties::default(),
        client_id: "ab".into(),
        will: None,
        username: None,
        password: None,
    }));
    let expected = [0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 2, b'a', b'b'];
    assert_eq!(&connect.to_bytes(V311).unwrap()[..], &expected);
    // The same bytes decode to the same packet on any connection: a CONNECT names its version.
    for protocol in [Protocol::V31, V311, Protocol::V5] {
        assert_eq!(decode(&expected, usize::MAX, protocol), Ok(Decoded::Packet(connect.clone(), expected.len())));
    }
}

#[test]
fn a_packet_split_anywhere_is_incomplete_until_its_last_byte() {
    for packet in sample_packets() {
        let bytes = packet.to_bytes(V311).unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], usize::MAX, V311), Ok(Decoded::Incomplete), "{packet:?} cut at {cut}");
        }
    }
}

#[test]
fn two_packets_in_one_buffer_decode_one_at_a_time() {
    let mut buf = Packet::PingReq.to_bytes(V311).unwrap();
    buf.extend_from_slice(&Packet::disconnect().to_bytes(V311).unwrap());
    assert_eq!(decode(&buf, usize::MAX, V311), Ok(Decoded::Packet(Packet::PingReq, 2)));
    assert_eq!(decode(&buf[2..], usize::MAX, V311), Ok(Decoded::Packet(Packet::disconnect(), 2)));
}

#[test]
fn remaining_length_of_every_size_class_round_trips() {
    for size in [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
        let p = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: name("t"),
            payload: Bytes::from(vec![b'x'; size]),
            properties: Properties::default(),
        });
        let bytes = p.to_bytes(V311).unwrap();
        assert_eq!(bytes.len(), p.encoded_len(V311).unwrap());
        assert_eq!(decode(&bytes, usize::MAX, V311), Ok(Decoded::Packet(p, bytes.len())));
    }
}

/// Bad input and the rule each must name.
#[test]
fn malformed_packets_are_errors_naming_their_rule() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("reserved type 0", &[0x00, 0], "[MQTT-2.2.1]"),
        ("reserved type 15", &[0xF0, 0], "[MQTT-2.2.1]"),
        ("PUBREL flags 0000", &[0x60, 2, 0, 1], "[MQTT-2.2.2-2]"),
        ("SUBSCRIBE flags 0000", &[0x80, 6, 0, 1, 0, 1, b'a', 0], "[MQTT-2.2.2-2]"),
        ("PINGREQ flag set", &[0xC1, 0], "[MQTT-2.2.2-2]"),
        ("remaining length over 4 bytes", &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "[MQTT-2.2.3]"),
        ("string longer than packet", &[0x30, 4, 0, 9, b'a', b'b'], "[MQTT-1.5.3]"),
        ("invalid UTF-8 topic", &[0x30, 4, 0, 2, 0xC3, 0x28], "[MQTT-1.5.3-1]"),
        ("UTF-16 surrogate in topic", &[0x30, 5, 0, 3, 0xED, 0xA0, 0x80], "[MQTT-1.5.3-1]"),
        ("U+0000 in client id", &[0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, 0], "[MQTT-1.5.3-2]"),
        ("wildcard in PUBLISH topic", &[0x30, 5, 0, 3, b'a', b'/', b'+'], "[MQTT-3.3.2-2]"),
        ("empty PUBLISH topic", &[0x30, 2, 0, 0], "[MQTT-4.7.3-1]"),
        ("QoS 3 PUBLISH", &[0x36, 5, 0, 1, b'a', 0, 1], "[MQTT-3.3.1-4]"),
        ("DUP on QoS 0", &[0x38, 3, 0, 1, b'a'], "[MQTT-3.3.1-2]"),
        ("packet id 0 on QoS 1 PUBLISH", &[0x32, 5, 0, 1, b'a', 0, 0], "[MQTT-2.3.1-1]"),
        ("packet id 0 on PUBACK", &[0x40, 2, 0, 0], "[MQTT-2.3.1-1]"),
        ("packet id 0 on SUBSCRIBE", &[0x82, 6, 0, 0, 0, 1, b'a', 0], "[MQTT-2.3.1-1]"),
        ("SUBSCRIBE with no filters", &[0x82, 2, 0, 1], "[MQTT-3.8.3-3]"),
        ("UNSUBSCRIBE with no filters", &[0xA2, 2, 0, 1], "[MQTT-3.10.3-2]"),
        ("SUBSCRIBE QoS 3", &[0x82, 6, 0, 1, 0, 1, b'a', 3], "[MQTT-3.8.3-4]"),
        ("SUBSCRIBE reserved QoS bits", &[0x82, 6, 0, 1, 0, 1, b'a', 0x41], "[MQTT-3.8.3-4]"),
        ("# not last in filter", &[0x82, 8, 0, 1, 0, 3, b'#', b'/', b'a', 0], "[MQTT-4.7.1-2]"),
        ("+ inside a level", &[0x82, 7, 0, 1, 0, 2, b'a', b'+', 0], "[MQTT-4.7.1-3]"),
        ("unknown protocol name", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'X', 4, 2, 0, 60, 0, 0], "[MQTT-3.1.2-1]"),
        ("protocol level 6", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 60, 0, 0], "[MQTT-3.1.2-2]"),
        ("MQIsdp level 4", &[0x10, 14, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 4, 2, 0, 60, 0, 0], "[MQTT-3.1.2-2]"),
        ("CONNECT reserved flag", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 3, 0, 60, 0, 0], "[MQTT-3.1.2-3]"),
        ("will QoS without will", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x0A, 0, 60, 0, 0], "[MQTT-3.1.2-13]"),
        ("will QoS 3", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x1E, 0, 60, 0, 0], "[MQTT-3.3.1-4]"),
        (
            "will retain without will",
            &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x22, 0, 60, 0, 0],
            "[MQTT-3.1.2-15]",
        ),
        (
            "password without user name",
            &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x42, 0, 60, 0, 0],
            "[MQTT-3.1.2-22]",
        ),
        ("PINGREQ with a body", &[0xC0, 1, 0], "[MQTT-2.2.3]"),
        ("PUBACK too long", &[0x40, 3, 0, 1, 0], "[MQTT-2.2.3]"),
        ("CONNACK reserved code", &[0x20, 2, 0, 6], "[MQTT-3.2.2-3]"),
        ("CONNACK reserved flags", &[0x20, 2, 2, 0], "[MQTT-3.2.2-1]"),
        ("SUBACK reserved code", &[0x90, 3, 0, 1, 3], "[MQTT-3.9.3-2]"),
    ];
    for (what, bytes, rule) in cases {
        let err = decode(bytes, usize::MAX, V311).expect_err(what);
        assert!(err.to_string().starts_with(rule), "{what}: expected {rule}, got {err}");
        // The inspector names the same rule.
        let inspected = inspect(bytes, V311).packet.expect_err(what);
        assert_eq!(inspected, err, "{what}");
    }
}

#[test]
fn an_oversized_packet_is_refused_from_its_header_alone() {
    // A client announces 256 MB and sends nothing more: refuse before buffering anything.
    let header = [0x30, 0x80, 0x80, 0x80, 0x7F];
    let err = decode(&header, 1024 * 1024, V311).unwrap_err();
    // 0x7F in the fourth length byte says 0x7F * 128^3 bytes.
    assert_eq!(err, DecodeError::PacketTooLarge { size: (0x7F << 21) + 5, limit: 1024 * 1024 });
}

#[test]
fn inspect_reports_the_byte_range_of_every_connect_field() {
    let bytes = sample_packets()[0].to_bytes(V311).unwrap();
    let fields = inspect(&bytes, V311).fields;
    let find = |n: &str| fields.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("no field {n}"));
    assert_eq!(find("Packet type").range, 0..1);
    assert_eq!(find("Packet type").value, "1 (CONNECT)");
    assert_eq!(find("Remaining length").range, 1..2);
    assert_eq!(find("Protocol name length").range, 2..4);
    assert_eq!(find("Protocol name").range, 4..8);
    assert_eq!(find("Protocol name").value, "\"MQTT\"");
    assert_eq!(find("Protocol level").range, 8..9);
    assert_eq!(find("Will QoS").mask, Some(0x18));
    assert_eq!(find("Will QoS").value, "1");
    assert_eq!(find("Clean session").value, "1");
    assert_eq!(find("Keep alive").range, 10..12);
    assert_eq!(find("Client identifier").value, "\"btsiot-client1\"");
    assert_eq!(&bytes[find("User name").range.clone()], b"btsiot1");
    let password = find("Password");
    assert_eq!(&bytes[password.range.clone()], b"btsiotpass1");
    assert_eq!(password.value, "<11 bytes>", "the password value is never spelled out");
    assert_eq!(fields.last().unwrap().range.end, bytes.len(), "fields cover the whole packet");
}

#[test]
fn inspect_keeps_the_fields_decoded_before_an_error() {
    let bytes = [0x30, 5, 0, 3, b'a', b'/', b'+'];
    let inspection = inspect(&bytes, V311);
    assert!(inspection.packet.is_err());
    assert!(inspection.fields.iter().any(|f| f.name == "Topic name"));
    assert!(inspection.fields.iter().any(|f| f.name == "QoS level"));
}

#[test]
fn a_null_character_in_a_connect_string_is_refused_when_encoding_as_when_decoding() {
    // Found by the codec_round_trip fuzz target: the encoder wrote what the decoder refuses.
    let Packet::Connect(mut c) = sample_packets()[0].clone() else { unreachable!() };
    c.username = Some("bts\0iot".into());
    let err = Packet::Connect(c.clone()).to_bytes(V311).unwrap_err();
    assert_eq!(err, EncodeError::NullCharacter { what: "user name" });
    assert!(err.to_string().starts_with("[MQTT-1.5.3-2]"), "{err}");
    c.username = None;
    c.password = None;
    c.client_id = "\0".into();
    assert_eq!(
        Packet::Connect(c).to_bytes(V311).unwrap_err(),
        EncodeError::NullCharacter { what: "client identifier" }
    );
}

#[test]
fn connect_debug_never_shows_the_password() {
    let Packet::Connect(c) = &sample_packets()[0] else { unreachable!() };
    let debug = format!("{c:?}");
    assert!(!debug.contains("btsiotpass1"), "{debug}");
    assert!(debug.contains("REDACTED"));
}

// Shared by the MQTT 5.0 tests of the submodules.

const V5: Protocol = Protocol::V5;

fn props(kind: v5::PacketKind, list: Vec<v5::Property>) -> Properties {
    Properties::new(kind, list).unwrap()
}

fn user(name: &str, value: &str) -> v5::Property {
    v5::Property::UserProperty(name.to_owned(), value.to_owned())
}

/// A packet with first byte `first` and `body`, the remaining length between them.
fn framed(first: u8, body: &[u8]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::from(&[first][..]);
    put_remaining_length(&mut buf, body.len());
    buf.extend_from_slice(body);
    buf.to_vec()
}

/// The bytes after the fixed header.
fn body(bytes: &[u8]) -> &[u8] {
    let header = decode_header(bytes).unwrap().unwrap();
    assert_eq!(header.packet_len(), bytes.len(), "remaining length");
    &bytes[header.header_len..]
}

/// Encodes `packet` for an MQTT 5.0 connection after what a buffer already holds, checks that
/// `encoded_len` is the exact length, and that the bytes decode, and inspect, to the same
/// packet; answers the bytes.
fn round_trip_v5(packet: &Packet) -> Vec<u8> {
    let mut buf = bytes::BytesMut::from(&b"kept"[..]);
    packet.encode(V5, &mut buf).unwrap();
    assert_eq!(&buf[..4], b"kept", "encode appends");
    let bytes = buf.split_off(4).to_vec();
    assert_eq!(packet.encoded_len(V5).unwrap(), bytes.len(), "{packet:?}");
    assert_eq!(decode(&bytes, usize::MAX, V5), Ok(Decoded::Packet(packet.clone(), bytes.len())), "{bytes:02x?}");
    assert_eq!(inspect(&bytes, V5).packet, Ok(packet.clone()));
    bytes
}

/// Decodes `bytes` on an MQTT 5.0 connection expecting an error, checks that the inspector
/// finds the same one, and answers it.
fn refused_v5(bytes: &[u8]) -> DecodeError {
    let err = decode(bytes, usize::MAX, V5).expect_err(&format!("{bytes:02x?} decodes"));
    assert_eq!(inspect(bytes, V5).packet, Err(err.clone()), "the inspector agrees");
    err
}

/// Every packet but CONNECT is moved through the broker's queues by value: the MQTT 5.0 fields
/// (properties behind one pointer) must not make it larger than a 3.1.1 PUBLISH needs.
#[test]
fn a_packet_stays_small() {
    let size = std::mem::size_of::<Packet>();
    println!("size_of::<Packet>() = {size}");
    assert!(size <= 64, "size_of::<Packet>() = {size}");
}
