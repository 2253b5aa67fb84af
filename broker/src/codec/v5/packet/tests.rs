//! Round trips with exact lengths, the short forms, a CONNECT written out by hand from the
//! layout of section 3.1, and Debug never showing a password or authentication data.

use std::num::NonZeroU16;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::codec::v5::{Property, Secret};

mod bad_input;

/// Splits an encoded packet into its first byte and body, checking the remaining length.
fn split(bytes: &[u8]) -> (u8, &[u8]) {
    let mut len = 0usize;
    let mut i = 1;
    loop {
        let byte = bytes[i];
        len |= usize::from(byte & 0x7F) << (7 * (i - 1));
        i += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    assert_eq!(bytes.len() - i, len, "remaining length");
    (bytes[0], &bytes[i..])
}

fn props(kind: PacketKind, list: Vec<Property>) -> Properties {
    Properties::new(kind, list).unwrap()
}

fn user(name: &str, value: &str) -> Property {
    Property::UserProperty(name.to_owned(), value.to_owned())
}

fn pid(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

/// Encodes, checks the first byte and the exact length, and answers the body.
fn encoded(encode: impl Fn(&mut BytesMut) -> Result<(), PacketError>, len: usize, first: u8) -> Vec<u8> {
    let mut buf = BytesMut::from(&b"prefix"[..]);
    encode(&mut buf).unwrap();
    assert_eq!(&buf[..6], b"prefix", "encode appends");
    let bytes = &buf[6..];
    assert_eq!(bytes.len(), len, "encoded_len");
    let (got, body) = split(bytes);
    assert_eq!(got, first);
    body.to_vec()
}

fn full_connect() -> Connect {
    Connect {
        clean_start: true,
        keep_alive: 10,
        properties: props(
            PacketKind::Connect,
            vec![
                Property::SessionExpiryInterval(10),
                user("a", "b"),
                Property::AuthenticationMethod("SCRAM".into()),
                Property::AuthenticationData(Secret(Bytes::from_static(b"proof-of-me"))),
            ],
        ),
        client_id: "lab1".into(),
        will: Some(Will {
            properties: props(PacketKind::Will, vec![Property::WillDelayInterval(5), user("k", "v")]),
            topic: TopicName::new("a/b").unwrap(),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::ExactlyOnce,
            retain: true,
        }),
        username: Some("user".into()),
        password: Some(Bytes::from_static(b"hunter2")),
    }
}

#[test]
fn connect_round_trips_with_exact_length() {
    let minimal = Connect {
        clean_start: false,
        keep_alive: 0,
        properties: Properties::default(),
        client_id: String::new(),
        will: None,
        username: None,
        password: None,
    };
    // MQTT 5.0 allows a password without a user name (3.1.2.9).
    let password_only = Connect { password: Some(Bytes::from_static(b"\x00\xFF")), ..minimal.clone() };
    let will_qos0 = Connect {
        will: Some(Will {
            properties: Properties::default(),
            topic: TopicName::new("t").unwrap(),
            payload: Bytes::new(),
            qos: QoS::AtMostOnce,
            retain: false,
        }),
        ..minimal.clone()
    };
    for c in [minimal, password_only, will_qos0, full_connect()] {
        let body = encoded(|b| c.encode(b), c.encoded_len().unwrap(), 0x10);
        assert_eq!(Connect::decode(&body).unwrap(), c);
    }
}

#[test]
fn minimal_connect_is_the_bytes_of_section_3_1() {
    let c = Connect::decode(&[0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 0, 0, 0]).unwrap();
    assert!(c.clean_start && c.will.is_none() && c.username.is_none() && c.password.is_none());
    assert_eq!((c.keep_alive, c.client_id.as_str(), c.properties.len()), (60, "", 0));
}

#[test]
fn connect_with_will_and_user_properties_decodes_from_bytes_written_by_hand() {
    #[rustfmt::skip]
    let bytes: Vec<u8> = vec![
        0x10, 64,                                   // CONNECT, remaining length 64
        0x00, 0x04, b'M', b'Q', b'T', b'T',         // protocol name
        0x05,                                       // protocol version 5
        0xCE,                                       // user name, password, will QoS 1, will, clean start
        0x00, 0x0A,                                 // keep alive 10
        0x0C,                                       // property length 12
        0x11, 0x00, 0x00, 0x00, 0x0A,               //   Session Expiry Interval 10
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b',   //   User Property a = b
        0x00, 0x04, b'l', b'a', b'b', b'1',         // client identifier "lab1"
        0x0E,                                       // will property length 14
        0x18, 0x00, 0x00, 0x00, 0x05,               //   Will Delay Interval 5
        0x01, 0x01,                                 //   Payload Format Indicator: UTF-8
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',   //   User Property k = v
        0x00, 0x03, b'a', b'/', b'b',               // will topic "a/b"
        0x00, 0x02, b'h', b'i',                     // will payload "hi"
        0x00, 0x04, b'u', b's', b'e', b'r',         // user name "user"
        0x00, 0x03, 0x01, 0x02, 0x03,               // password
    ];
    let expected = Connect {
        clean_start: true,
        keep_alive: 10,
        properties: props(PacketKind::Connect, vec![Property::SessionExpiryInterval(10), user("a", "b")]),
        client_id: "lab1".into(),
        will: Some(Will {
            properties: props(
                PacketKind::Will,
                vec![Property::WillDelayInterval(5), Property::PayloadFormatIndicator(true), user("k", "v")],
            ),
            topic: TopicName::new("a/b").unwrap(),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::AtLeastOnce,
            retain: false,
        }),
        username: Some("user".into()),
        password: Some(Bytes::from_static(&[1, 2, 3])),
    };
    let (_, body) = split(&bytes);
    let c = Connect::decode(body).unwrap();
    assert_eq!(c, expected);
    assert_eq!(c.properties.user_properties().collect::<Vec<_>>(), [("a", "b")]);
    let mut buf = BytesMut::new();
    c.encode(&mut buf).unwrap();
    assert_eq!(&buf[..], &bytes[..]);
    assert_eq!(c.encoded_len().unwrap(), bytes.len());
}

#[test]
fn debug_never_shows_the_password_or_authentication_data() {
    let shown = format!("{:?} {:#?}", full_connect(), full_connect());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("proof-of-me"), "{shown}");
    assert!(shown.contains("<REDACTED>") && shown.contains("<11 bytes>"), "{shown}");
    let auth = Auth {
        reason: ReasonCode::ContinueAuthentication,
        properties: props(
            PacketKind::Auth,
            vec![
                Property::AuthenticationMethod("SCRAM".into()),
                Property::AuthenticationData(Secret(Bytes::from_static(b"proof-of-me"))),
            ],
        ),
    };
    assert!(!format!("{auth:?}").contains("proof-of-me"));
}

#[test]
fn connack_round_trips_with_exact_length() {
    let cases = [
        ConnAck { session_present: false, reason: ReasonCode::Success, properties: Properties::default() },
        ConnAck {
            session_present: true,
            reason: ReasonCode::Success,
            properties: props(
                PacketKind::ConnAck,
                vec![Property::ReceiveMaximum(NonZeroU16::new(20).unwrap()), user("x", "y")],
            ),
        },
        ConnAck {
            session_present: false,
            reason: ReasonCode::BadUserNameOrPassword,
            properties: props(PacketKind::ConnAck, vec![Property::ReasonString("no".into())]),
        },
    ];
    for a in cases {
        let body = encoded(|b| a.encode(b), a.encoded_len().unwrap(), 0x20);
        assert_eq!(body.len(), 2 + a.properties.encoded_len().unwrap());
        assert_eq!(ConnAck::decode(&body).unwrap(), a);
    }
}

#[test]
fn acks_round_trip_in_their_shortest_form() {
    for kind in AckKind::ALL {
        let reason = if kind == AckKind::PubRel || kind == AckKind::PubComp {
            ReasonCode::PacketIdentifierNotFound
        } else {
            ReasonCode::NoMatchingSubscribers
        };
        let reasoned = props(kind.property_kind(), vec![Property::ReasonString("why".into())]);
        let cases = [
            (ReasonCode::Success, Properties::default(), 2),
            (reason, Properties::default(), 3),
            (ReasonCode::Success, reasoned.clone(), 3 + 7),
            (reason, reasoned, 3 + 7),
        ];
        for (reason, properties, body_len) in cases {
            let a = Ack { kind, pid: pid(0x1234), reason, properties };
            let body = encoded(|b| a.encode(b), a.encoded_len().unwrap(), kind.first_byte());
            assert_eq!(body.len(), body_len, "{a:?}");
            assert_eq!(&body[..2], &[0x12, 0x34]);
            assert_eq!(Ack::decode(kind, &body).unwrap(), a);
        }
    }
}

#[test]
fn short_forms_mean_success_without_properties() {
    for kind in AckKind::ALL {
        let a = Ack::decode(kind, &[0, 7]).unwrap();
        assert_eq!((a.pid, a.reason, a.properties.is_empty()), (pid(7), ReasonCode::Success, true));
        // A reason code without a property length: no properties (3.4.2.2.1).
        let a = Ack::decode(kind, &[0, 7, 0]).unwrap();
        assert_eq!((a.reason, a.properties.is_empty()), (ReasonCode::Success, true));
        // The long form of Success decodes to the same value, and encodes short.
        assert_eq!(Ack::decode(kind, &[0, 7, 0, 0]).unwrap().encoded_len().unwrap(), 4);
    }
    let d = Disconnect::decode(&[]).unwrap();
    assert_eq!((d.reason, d.properties.is_empty()), (ReasonCode::Success, true));
    assert_eq!(Disconnect::decode(&[0x04]).unwrap().reason, ReasonCode::DisconnectWithWillMessage);
    assert_eq!(Disconnect::decode(&[0x00, 0x00]).unwrap(), d);
    assert_eq!(d.encoded_len().unwrap(), 2);
    let a = Auth::decode(&[]).unwrap();
    assert_eq!((a.reason, a.properties.is_empty()), (ReasonCode::Success, true));
    assert_eq!(a.encoded_len().unwrap(), 2);
}

#[test]
fn disconnect_and_auth_round_trip_with_exact_length() {
    let disconnects = [
        (ReasonCode::Success, Properties::default(), 0),
        (ReasonCode::ServerShuttingDown, Properties::default(), 1),
        (
            ReasonCode::Success,
            props(PacketKind::Disconnect, vec![Property::SessionExpiryInterval(0), user("a", "")]),
            2 + 5 + 6,
        ),
    ];
    for (reason, properties, body_len) in disconnects {
        let d = Disconnect { reason, properties };
        let body = encoded(|b| d.encode(b), d.encoded_len().unwrap(), 0xE0);
        assert_eq!(body.len(), body_len);
        assert_eq!(Disconnect::decode(&body).unwrap(), d);
    }
    let method = Property::AuthenticationMethod("SCRAM".into());
    let auths = [
        (ReasonCode::Success, Properties::default(), 0),
        // AUTH has no reason-code-only form: the property length is written.
        (ReasonCode::ReAuthenticate, Properties::default(), 2),
        (ReasonCode::ContinueAuthentication, props(PacketKind::Auth, vec![method]), 2 + 8),
    ];
    for (reason, properties, body_len) in auths {
        let a = Auth { reason, properties };
        let body = encoded(|b| a.encode(b), a.encoded_len().unwrap(), 0xF0);
        assert_eq!(body.len(), body_len);
        assert_eq!(Auth::decode(&body).unwrap(), a);
    }
}

#[test]
fn long_packets_take_a_longer_remaining_length() {
    let mut c = full_connect();
    c.will.as_mut().unwrap().payload = Bytes::from(vec![7; 20_000]);
    let len = c.encoded_len().unwrap();
    let body = encoded(|b| c.encode(b), len, 0x10);
    assert_eq!(len - body.len(), 1 + 3);
    assert_eq!(Connect::decode(&body).unwrap(), c);
}
