//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK on an MQTT 5.0 connection: the subscription
//! options byte, shared subscriptions, and reason codes per filter.

use std::num::NonZeroU32;

use super::*;
use crate::codec::v5::{PacketKind, Property, ReasonCode, ReasonCodeError, ReasonPacket};

/// A SUBSCRIBE of one `filter` with the options byte `options`, as a `protocol` client sends it.
fn subscribe_in(protocol: Protocol, filter: &str, options: u8) -> Vec<u8> {
    let mut body = vec![0, 1];
    if protocol.is_v5() {
        body.push(0); // no properties
    }
    body.extend_from_slice(&[0, filter.len() as u8]);
    body.extend_from_slice(filter.as_bytes());
    body.push(options);
    framed(0x82, &body)
}

fn subscribe_bytes(filter: &str, options: u8) -> Vec<u8> {
    subscribe_in(V5, filter, options)
}

#[test]
fn the_subscription_options_byte_decodes_and_encodes_every_option() {
    use RetainHandling::{Never, OnNewSubscription, OnSubscribe};
    let o = |qos, no_local, retain_as_published, retain_handling| SubOptions {
        qos,
        no_local,
        retain_as_published,
        retain_handling,
    };
    let cases = [
        (0x00, o(QoS::AtMostOnce, false, false, OnSubscribe)),
        (0x01, o(QoS::AtLeastOnce, false, false, OnSubscribe)),
        (0x02, o(QoS::ExactlyOnce, false, false, OnSubscribe)),
        (0x04, o(QoS::AtMostOnce, true, false, OnSubscribe)),
        (0x08, o(QoS::AtMostOnce, false, true, OnSubscribe)),
        (0x10, o(QoS::AtMostOnce, false, false, OnNewSubscription)),
        (0x20, o(QoS::AtMostOnce, false, false, Never)),
        (0x2E, o(QoS::ExactlyOnce, true, true, Never)),
        (0x1D, o(QoS::AtLeastOnce, true, true, OnNewSubscription)),
    ];
    for (byte, options) in cases {
        let bytes = subscribe_bytes("PV/#", byte);
        let expected = Packet::Subscribe(Subscribe {
            pid: pid(1),
            properties: Properties::default(),
            filters: vec![(filter("PV/#"), options)],
        });
        assert_eq!(decode(&bytes, usize::MAX, V5), Ok(Decoded::Packet(expected.clone(), bytes.len())), "{byte:#04x}");
        assert_eq!(round_trip_v5(&expected), bytes, "{byte:#04x}");
        assert_eq!(options.to_u8(), byte);
        // 3.1.1 has the maximum QoS alone.
        assert_eq!(*expected.to_bytes(V311).unwrap().last().unwrap(), byte & 3);
    }
}

#[test]
fn bad_subscription_options_are_refused_naming_their_rule() {
    let cases = [
        (0x30, DecodeError::RetainHandling3, "[MQTT-3.8.3.1]", ReasonCode::ProtocolError),
        (0x40, DecodeError::SubscriptionOptionsReserved(0x40), "[MQTT-3.8.3-5]", ReasonCode::MalformedPacket),
        (0x80, DecodeError::SubscriptionOptionsReserved(0x80), "[MQTT-3.8.3-5]", ReasonCode::MalformedPacket),
        (0x03, DecodeError::MaximumQos3, "[MQTT-3.8.3.1]", ReasonCode::ProtocolError),
    ];
    for (byte, expected, rule, reason) in cases {
        let err = refused_v5(&subscribe_bytes("a", byte));
        assert_eq!(err, expected, "{byte:#04x}");
        assert!(err.to_string().starts_with(rule), "{byte:#04x}: {err}");
        assert_eq!(err.reason_code(), reason, "{byte:#04x}");
    }
    // The bits MQTT 5.0 gave a meaning are still reserved in 3.1.1.
    let err = decode(&subscribe_in(V311, "a", 0x04), usize::MAX, V311).unwrap_err();
    assert_eq!(err, DecodeError::InvalidRequestedQos(0x04));
}

#[test]
fn no_local_is_refused_on_a_shared_subscription() {
    let err = refused_v5(&subscribe_bytes("$share/g/t", 0x04));
    assert_eq!(err, DecodeError::NoLocalOnSharedSubscription("$share/g/t".into()));
    assert!(err.to_string().starts_with("[MQTT-3.8.3-4]"), "{err}");
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    // The other options are fine there.
    let bytes = subscribe_bytes("$share/g/t", 0x2A);
    let Ok(Decoded::Packet(Packet::Subscribe(s), _)) = decode(&bytes, usize::MAX, V5) else { panic!() };
    assert_eq!(s.filters[0].0.share(), Some(("g", "t")));
    assert_eq!(s.filters[0].1.retain_handling, RetainHandling::Never);
}

#[test]
fn shared_subscription_filters_are_validated() {
    let cases = [
        ("$share/g", TopicError::SharedWithoutFilter("$share/g".into()), "[MQTT-4.8.2-1]"),
        ("$share//t", TopicError::SharedWithoutFilter("$share//t".into()), "[MQTT-4.8.2-1]"),
        ("$share/g/", TopicError::SharedWithoutFilter("$share/g/".into()), "[MQTT-4.8.2-1]"),
        ("$share/", TopicError::SharedWithoutFilter("$share/".into()), "[MQTT-4.8.2-1]"),
        ("$share/+/t", TopicError::WildcardInShareName("$share/+/t".into()), "[MQTT-4.8.2-2]"),
        ("$share/#/t", TopicError::MisplacedMultiLevel("$share/#/t".into()), "[MQTT-4.7.1-2]"),
    ];
    for (text, expected, rule) in cases {
        assert_eq!(TopicFilter::new(text), Err(expected.clone()), "{text}");
        assert!(expected.to_string().starts_with(rule), "{text}: {expected}");
        // In a SUBSCRIBE of either protocol (Mosquitto shares subscriptions with 3.1.1 clients too).
        let err = refused_v5(&subscribe_bytes(text, 0));
        assert_eq!(err, DecodeError::Topic(expected.clone()), "{text}");
        assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
        let old = decode(&subscribe_in(V311, text, 0), usize::MAX, V311);
        assert_eq!(old, Err(DecodeError::Topic(expected)), "{text}");
    }
    for (text, group, rest) in [("$share/g/t", "g", "t"), ("$share/g/PV/#", "g", "PV/#"), ("$share/g/+/x", "g", "+/x")]
    {
        let f = filter(text);
        assert_eq!(f.share(), Some((group, rest)));
        assert_eq!(f.matching_part(), rest);
    }
    // Not a shared subscription: "$share" alone or without the slash is an ordinary filter.
    assert_eq!(filter("$shared/t").share(), None);
    assert_eq!(filter("$share").share(), None);
}

#[test]
fn subscribe_and_unsubscribe_carry_their_properties() {
    let id = Property::SubscriptionIdentifier(NonZeroU32::new(200).unwrap());
    let s = Packet::Subscribe(Subscribe {
        pid: pid(4),
        properties: props(PacketKind::Subscribe, vec![id, user("a", "b")]),
        filters: vec![
            (filter("a/+"), SubOptions::from(QoS::AtLeastOnce)),
            (filter("$share/g/b"), SubOptions::default()),
        ],
    });
    round_trip_v5(&s);
    let u = Packet::Unsubscribe(Unsubscribe {
        pid: pid(5),
        properties: props(PacketKind::Unsubscribe, vec![user("a", "b"), user("a", "c")]),
        filters: vec![filter("a/+"), filter("$share/g/b")],
    });
    let bytes = round_trip_v5(&u);
    assert_eq!(bytes[0], 0xA2);
}

#[test]
fn suback_carries_a_reason_code_per_filter() {
    let codes = vec![
        SubAckCode::Granted(QoS::AtMostOnce),
        SubAckCode::Granted(QoS::AtLeastOnce),
        SubAckCode::Granted(QoS::ExactlyOnce),
        SubAckCode::Failure(ReasonCode::NotAuthorized),
        SubAckCode::Failure(ReasonCode::SharedSubscriptionsNotSupported),
        SubAckCode::FAILURE,
    ];
    let suback = Packet::SubAck(SubAck {
        pid: pid(2),
        properties: props(PacketKind::SubAck, vec![Property::ReasonString("no".into())]),
        codes: codes.clone(),
    });
    let bytes = round_trip_v5(&suback);
    assert_eq!(&bytes[bytes.len() - 6..], &[0x00, 0x01, 0x02, 0x87, 0x9E, 0x80]);
    assert_eq!(codes.iter().map(|c| c.is_failure()).filter(|f| *f).count(), 3);
    // A 3.1.1 client hears 0x80 for every failure, and no properties.
    let old = suback.to_bytes(V311).unwrap();
    assert_eq!(&old[..], &[0x90, 8, 0, 2, 0x00, 0x01, 0x02, 0x80, 0x80, 0x80]);
    for code in &codes {
        assert_eq!(code.to_u8(V311), if code.is_failure() { 0x80 } else { code.to_u8(V5) });
    }
    let err = refused_v5(&framed(0x90, &[0, 2, 0, 0x04]));
    assert_eq!(err, DecodeError::ReasonCode(ReasonCodeError { packet: ReasonPacket::SubAck, code: 0x04 }));
    assert!(err.to_string().starts_with("[MQTT-3.9.3]"), "{err}");
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
}

#[test]
fn unsuback_carries_a_reason_code_per_filter_only_in_mqtt_5() {
    let unsuback = Packet::UnsubAck(UnsubAck {
        pid: pid(3),
        properties: props(PacketKind::UnsubAck, vec![user("k", "v")]),
        reasons: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted, ReasonCode::NotAuthorized],
    });
    let bytes = round_trip_v5(&unsuback);
    assert_eq!(&bytes[bytes.len() - 3..], &[0x00, 0x11, 0x87]);
    assert_eq!(&unsuback.to_bytes(V311).unwrap()[..], &[0xB0, 2, 0, 3]);
    let plain = Packet::UnsubAck(UnsubAck::new(pid(3)));
    assert_eq!(&round_trip_v5(&plain)[..], &[0xB0, 3, 0, 3, 0]);
    let err = refused_v5(&framed(0xB0, &[0, 3, 0, 0x02]));
    assert_eq!(err, DecodeError::ReasonCode(ReasonCodeError { packet: ReasonPacket::UnsubAck, code: 0x02 }));
    assert!(err.to_string().starts_with("[MQTT-3.11.3]"), "{err}");
}
