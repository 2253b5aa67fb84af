//! Generated packets round trip on both 3.1.1 and 5.0 connections, and arbitrary bytes never
//! make the decoder or the inspector panic.

use std::num::NonZeroU16;

use proptest::prelude::*;

use super::*;
use crate::codec::v5::{PacketKind, Property};

fn topic_level() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.$é-]{0,8}"
}

fn topic() -> impl Strategy<Value = TopicName> {
    prop::collection::vec(topic_level(), 1..5)
        .prop_filter_map("non-empty", |levels| TopicName::new(levels.join("/")).ok())
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce), Just(QoS::ExactlyOnce)]
}

fn publish() -> impl Strategy<Value = Packet> {
    (topic(), qos(), 1..=u16::MAX, any::<bool>(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(
        |(topic, qos, id, dup, retain, payload)| {
            let qos_pid = QosPid::with(qos, PacketId::new(id).unwrap());
            Packet::Publish(Publish {
                dup: dup && qos != QoS::AtMostOnce,
                qos_pid,
                retain,
                topic,
                payload: payload.into(),
                properties: Properties::default(),
            })
        },
    )
}

/// A PUBLISH of MQTT 5.0: some properties, user properties repeated, in any order.
fn publish_v5() -> impl Strategy<Value = Packet> {
    let property = prop_oneof![
        (1..=u16::MAX).prop_map(|a| Property::TopicAlias(NonZeroU16::new(a).unwrap())),
        any::<u32>().prop_map(Property::MessageExpiryInterval),
        any::<bool>().prop_map(Property::PayloadFormatIndicator),
        topic().prop_map(|t| Property::ResponseTopic(t.as_str().to_owned())),
        ("[a-z]{0,4}", "[a-z]{0,4}").prop_map(|(n, v)| Property::UserProperty(n, v)),
    ];
    (publish(), prop::collection::vec(property, 0..6)).prop_map(|(packet, list)| {
        let Packet::Publish(mut p) = packet else { unreachable!() };
        // Only user properties may repeat: keep the first of any other identifier.
        let mut kept: Vec<Property> = Vec::new();
        for prop in list {
            if matches!(prop, Property::UserProperty(..)) || kept.iter().all(|k| k.id() != prop.id()) {
                kept.push(prop);
            }
        }
        p.properties = Properties::new(PacketKind::PublishToClient, kept).unwrap();
        Packet::Publish(p)
    })
}

fn subscribe(v5: bool) -> impl Strategy<Value = Packet> {
    let options = (qos(), any::<bool>(), any::<bool>(), 0..3u8).prop_map(move |(qos, no_local, rap, rh)| {
        if !v5 {
            return SubOptions::from(qos);
        }
        let retain_handling = match rh {
            0 => RetainHandling::OnSubscribe,
            1 => RetainHandling::OnNewSubscription,
            _ => RetainHandling::Never,
        };
        SubOptions { qos, no_local, retain_as_published: rap, retain_handling }
    });
    (1..=u16::MAX, prop::collection::vec((topic(), options, 0..3u8), 1..5)).prop_map(|(id, entries)| {
        let filters = entries
            .into_iter()
            .map(|(t, options, wild)| {
                let f = match wild {
                    0 => t.as_str().to_owned(),
                    1 => format!("{t}/#"),
                    _ => format!("+/{t}"),
                };
                (TopicFilter::new(f).unwrap(), options)
            })
            .collect();
        Packet::Subscribe(Subscribe { pid: PacketId::new(id).unwrap(), properties: Properties::default(), filters })
    })
}

fn round_trip(packet: Packet, protocol: Protocol) -> Result<(), TestCaseError> {
    let bytes = packet.to_bytes(protocol).unwrap();
    prop_assert_eq!(bytes.len(), packet.encoded_len(protocol).unwrap());
    prop_assert_eq!(decode(&bytes, usize::MAX, protocol), Ok(Decoded::Packet(packet, bytes.len())));
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_packets_round_trip(packet in prop_oneof![publish(), subscribe(false)]) {
        round_trip(packet, V311)?;
    }

    #[test]
    fn arbitrary_v5_packets_round_trip(packet in prop_oneof![publish(), publish_v5(), subscribe(true)]) {
        round_trip(packet, Protocol::V5)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for protocol in [V311, Protocol::V5] {
            let _ = decode(&bytes, 1024, protocol);
            let _ = inspect(&bytes, protocol);
        }
    }
}
