//! MQTT 5.0 CONNECT, CONNACK, the four QoS acks, DISCONNECT and AUTH: round trips with exact
//! lengths, the short forms, a CONNECT written out by hand from the layout of section 3.1, and
//! Debug never showing a password or authentication data.

use std::num::NonZeroU16;

use super::*;
use crate::codec::v5::{PacketKind, Property, ReasonCode, Secret};

fn full_connect() -> Connect {
    Connect {
        bridge: false,
        protocol: V5,
        clean_session: true,
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
        will: Some(LastWill {
            properties: props(PacketKind::Will, vec![Property::WillDelayInterval(5), user("k", "v")]),
            topic: name("a/b"),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::ExactlyOnce,
            retain: true,
        }),
        username: Some("user".into()),
        password: Some(Bytes::from_static(b"hunter2")),
    }
}

fn minimal_connect() -> Connect {
    Connect {
        bridge: false,
        protocol: V5,
        clean_session: false,
        keep_alive: 0,
        properties: Properties::default(),
        client_id: String::new(),
        will: None,
        username: None,
        password: None,
    }
}

#[test]
fn connect_round_trips_with_exact_length() {
    let minimal = minimal_connect();
    // MQTT 5.0 allows a password without a user name (3.1.2.9).
    let password_only = Connect { password: Some(Bytes::from_static(b"\x00\xFF")), ..minimal.clone() };
    let will_qos0 = Connect {
        will: Some(LastWill {
            properties: Properties::default(),
            topic: name("t"),
            payload: Bytes::new(),
            qos: QoS::AtMostOnce,
            retain: false,
        }),
        ..minimal.clone()
    };
    for c in [minimal, password_only, will_qos0, full_connect()] {
        let packet = Packet::Connect(Box::new(c));
        let bytes = round_trip_v5(&packet);
        assert_eq!(bytes[0], 0x10);
        // A CONNECT says its own protocol: the connection's does not matter.
        assert_eq!(packet.to_bytes(V311).unwrap().to_vec(), bytes);
        assert_eq!(decode(&bytes, usize::MAX, V311), Ok(Decoded::Packet(packet, bytes.len())));
    }
}

#[test]
fn a_password_without_user_name_is_refused_only_before_mqtt_5() {
    let bytes = framed(0x10, &[0, 4, b'M', b'Q', b'T', b'T', 4, 0x42, 0, 60, 0, 0, 0, 1, b'p']);
    assert_eq!(decode(&bytes, usize::MAX, V311), Err(DecodeError::PasswordWithoutUsername));
    let bytes = framed(0x10, &[0, 4, b'M', b'Q', b'T', b'T', 5, 0x42, 0, 60, 0, 0, 0, 0, 1, b'p']);
    let Ok(Decoded::Packet(Packet::Connect(c), _)) = decode(&bytes, usize::MAX, V311) else { panic!() };
    assert_eq!((c.username, c.password), (None, Some(Bytes::from_static(b"p"))));
}

#[test]
fn minimal_connect_is_the_bytes_of_section_3_1() {
    let bytes = [0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 0, 0, 0];
    let Ok(Decoded::Packet(Packet::Connect(c), 15)) = decode(&bytes, usize::MAX, V5) else { panic!() };
    assert!(c.clean_session && c.will.is_none() && c.username.is_none() && c.password.is_none());
    assert_eq!((c.protocol, c.keep_alive, c.client_id.as_str(), c.properties.len()), (V5, 60, "", 0));
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
        bridge: false,
        protocol: V5,
        clean_session: true,
        keep_alive: 10,
        properties: props(PacketKind::Connect, vec![Property::SessionExpiryInterval(10), user("a", "b")]),
        client_id: "lab1".into(),
        will: Some(LastWill {
            properties: props(
                PacketKind::Will,
                vec![Property::WillDelayInterval(5), Property::PayloadFormatIndicator(true), user("k", "v")],
            ),
            topic: name("a/b"),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::AtLeastOnce,
            retain: false,
        }),
        username: Some("user".into()),
        password: Some(Bytes::from_static(&[1, 2, 3])),
    };
    let packet = Packet::Connect(Box::new(expected));
    assert_eq!(decode(&bytes, usize::MAX, V5), Ok(Decoded::Packet(packet.clone(), bytes.len())));
    assert_eq!(round_trip_v5(&packet), bytes);
}

#[test]
fn debug_never_shows_the_password_or_authentication_data() {
    let shown = format!("{:?} {:#?}", full_connect(), full_connect());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("proof-of-me"), "{shown}");
    assert!(shown.contains("<REDACTED>") && shown.contains("<11 bytes>"), "{shown}");
    let auth = Packet::Auth(Auth {
        reason: ReasonCode::ContinueAuthentication,
        properties: props(
            PacketKind::Auth,
            vec![
                Property::AuthenticationMethod("SCRAM".into()),
                Property::AuthenticationData(Secret(Bytes::from_static(b"proof-of-me"))),
            ],
        ),
    });
    assert!(!format!("{auth:?}").contains("proof-of-me"));
    let fields = inspect(&round_trip_v5(&auth), V5).fields;
    let data = fields.iter().find(|f| f.name == "Authentication Data").expect("a data field");
    assert_eq!(data.value, "<11 bytes>", "the inspector hides it too");
}

#[test]
fn connack_round_trips_with_exact_length() {
    let cases = [
        ConnAck::new(false, ConnectReturnCode::Accepted),
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
        // A code 3.1.1 has no word for: a 3.1.1 client hears "server unavailable".
        ConnAck { session_present: false, reason: ReasonCode::ServerBusy, properties: Properties::default() },
    ];
    for a in cases {
        let packet = Packet::ConnAck(a.clone());
        let bytes = round_trip_v5(&packet);
        assert_eq!(bytes[0], 0x20);
        assert_eq!(body(&bytes).len(), 2 + a.properties.encoded_len().unwrap());
        assert_eq!(body(&bytes)[1], a.reason as u8);
        let old = packet.to_bytes(V311).unwrap();
        assert_eq!(&old[..], &[0x20, 2, u8::from(a.session_present), a.code() as u8]);
    }
    assert_eq!(ConnectReturnCode::from_reason(ReasonCode::ServerBusy), ConnectReturnCode::ServerUnavailable);
    assert_eq!(ConnectReturnCode::from_reason(ReasonCode::Banned), ConnectReturnCode::NotAuthorized);
    for code in (0..=5).filter_map(ConnectReturnCode::from_u8) {
        assert_eq!(ConnectReturnCode::from_reason(code.reason()), code, "{code:?}");
    }
}

/// An ack's constructor, first byte, property block, and a reason code it may carry.
type AckCase = (fn(Ack) -> Packet, u8, PacketKind, ReasonCode);

/// The four acks with their first byte, their property block and a reason only they may carry.
fn acks() -> [AckCase; 4] {
    [
        (Packet::PubAck, 0x40, PacketKind::PubAck, ReasonCode::NoMatchingSubscribers),
        (Packet::PubRec, 0x50, PacketKind::PubRec, ReasonCode::NoMatchingSubscribers),
        (Packet::PubRel, 0x62, PacketKind::PubRel, ReasonCode::PacketIdentifierNotFound),
        (Packet::PubComp, 0x70, PacketKind::PubComp, ReasonCode::PacketIdentifierNotFound),
    ]
}

#[test]
fn acks_round_trip_in_their_shortest_form() {
    for (make, first, kind, reason) in acks() {
        let reasoned = props(kind, vec![Property::ReasonString("why".into())]);
        let cases = [
            (ReasonCode::Success, Properties::default(), 2),
            (reason, Properties::default(), 3),
            (ReasonCode::Success, reasoned.clone(), 3 + 7),
            (reason, reasoned, 3 + 7),
        ];
        for (reason, properties, body_len) in cases {
            let packet = make(Ack { pid: pid(0x1234), reason, properties });
            let bytes = round_trip_v5(&packet);
            assert_eq!(bytes[0], first);
            assert_eq!(body(&bytes).len(), body_len, "{packet:?}");
            assert_eq!(&body(&bytes)[..2], &[0x12, 0x34]);
            // 3.1.1 has only the packet identifier.
            assert_eq!(&packet.to_bytes(V311).unwrap()[..], &[first, 2, 0x12, 0x34]);
        }
    }
}

#[test]
fn short_forms_mean_success_without_properties() {
    for (make, first, ..) in acks() {
        let plain = make(pid(7).into());
        for long in [&[0, 7][..], &[0, 7, 0], &[0, 7, 0, 0]] {
            // No reason code: Success; a reason code without a property length: no properties
            // (3.4.2.2.1); the long form of Success decodes to the same value, and encodes short.
            let bytes = framed(first, long);
            assert_eq!(decode(&bytes, usize::MAX, V5), Ok(Decoded::Packet(plain.clone(), bytes.len())), "{long:?}");
        }
        assert_eq!(plain.encoded_len(V5).unwrap(), 4);
    }
    let plain = Packet::disconnect();
    assert_eq!(decode(&[0xE0, 0], usize::MAX, V5), Ok(Decoded::Packet(plain.clone(), 2)));
    assert_eq!(decode(&[0xE0, 2, 0, 0], usize::MAX, V5), Ok(Decoded::Packet(plain.clone(), 4)));
    let with_will = Packet::Disconnect(Disconnect::with_reason(ReasonCode::DisconnectWithWillMessage));
    assert_eq!(decode(&[0xE0, 1, 0x04], usize::MAX, V5), Ok(Decoded::Packet(with_will, 3)));
    assert_eq!(plain.encoded_len(V5).unwrap(), 2);
    // AUTH may leave out its reason code and properties on the wire (3.15.2.1), but without
    // properties there is no Authentication Method, which every AUTH needs: the encoder does
    // not write it and the decoder refuses it.
    let auth = Packet::Auth(Auth::default());
    assert_eq!(auth.to_bytes(V5), Err(EncodeError::AuthWithoutMethod));
    let err = refused_v5(&[0xF0, 0]);
    assert_eq!(err, DecodeError::AuthWithoutMethod);
    assert!(err.to_string().starts_with("[MQTT-3.15.2.2.2]"), "{err}");
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
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
        let packet = Packet::Disconnect(Disconnect { reason, properties });
        let bytes = round_trip_v5(&packet);
        assert_eq!(bytes[0], 0xE0);
        assert_eq!(body(&bytes).len(), body_len);
        // 3.1.1 has one DISCONNECT, with nothing in it.
        assert_eq!(&packet.to_bytes(V311).unwrap()[..], &[0xE0, 0]);
    }
    let method = || Property::AuthenticationMethod("SCRAM".into());
    let auths = [
        (ReasonCode::Success, props(PacketKind::Auth, vec![method()]), 2 + 8),
        (ReasonCode::ReAuthenticate, props(PacketKind::Auth, vec![method(), user("n", "v")]), 2 + 8 + 7),
        (
            ReasonCode::ContinueAuthentication,
            props(PacketKind::Auth, vec![method(), Property::AuthenticationData(Secret(Bytes::from_static(b"x")))]),
            2 + 8 + 4,
        ),
    ];
    for (reason, properties, body_len) in auths {
        let bytes = round_trip_v5(&Packet::Auth(Auth { reason, properties }));
        assert_eq!(bytes[0], 0xF0);
        assert_eq!(body(&bytes).len(), body_len);
    }
}

#[test]
fn long_packets_take_a_longer_remaining_length() {
    let mut c = full_connect();
    c.will.as_mut().unwrap().payload = Bytes::from(vec![7; 20_000]);
    let packet = Packet::Connect(Box::new(c));
    let bytes = round_trip_v5(&packet);
    assert_eq!(bytes.len() - body(&bytes).len(), 1 + 3);
}
