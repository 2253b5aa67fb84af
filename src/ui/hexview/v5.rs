//! The MQTT 5.0 parts of a packet explained over the fields the codec records: a property's
//! identifier, lengths and value share one colour and sit under its identifier (to a student a
//! property is one thing, and a dozen properties should not look like fifty unrelated fields),
//! reason codes read "0x87 Not authorized" as the packet list writes them, and a subscription
//! options byte is broken into its bits, masks and all, as CONNECT's flags are.

use mqtt_lab_broker::codec::v5::{PropertyId, ReasonCode, ReasonPacket};
use mqtt_lab_broker::codec::{Field, PacketType, Part};

/// How a field is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Its colour, by position in the palette: the fields of one property share one.
    pub slot: usize,
    /// Drawn under the field before it: a property's length and value under its identifier,
    /// the bits of a subscription options byte under the byte.
    pub nested: bool,
}

/// The fields to show and how, from the codec's `fields` for `bytes`. Packets of MQTT 3.1.1
/// have no properties, reason codes or options bits: each field keeps its own colour.
pub fn explain(bytes: &[u8], fields: Vec<Field>, v5: bool) -> (Vec<Field>, Vec<Look>) {
    let kind = bytes.first().and_then(|b| PacketType::from_nibble(b >> 4).ok());
    let reasons = kind.and_then(reason_packet);
    let mut out = Vec::with_capacity(fields.len());
    let mut looks = Vec::with_capacity(fields.len());
    let mut slots = 0..;
    let mut next = || slots.next().unwrap_or_default();
    // The property being read (its name, colour) and where its block ends.
    let mut property: Option<(&'static str, usize)> = None;
    let mut block_end = 0;
    for mut f in fields {
        if f.name == "Property length" {
            block_end = f.range.end + f.value.parse::<usize>().unwrap_or(0);
            if kind == Some(PacketType::Connect) && f.part == Part::Payload {
                "Will property length".clone_into(&mut f.name);
            }
        }
        let look = if let Some(name) = property_identifier(bytes, &f) {
            let slot = next();
            property = Some((name, slot));
            Look { slot, nested: false }
        } else if let Some((_, slot)) =
            property.filter(|(name, _)| f.name.starts_with(name) && f.range.end <= block_end)
        {
            Look { slot, nested: true }
        } else {
            property = None;
            Look { slot: next(), nested: false }
        };
        if !v5 {
            out.push(f);
            looks.push(look);
            continue;
        }
        if let (Some(packet), Some(&byte)) = (reasons, bytes.get(f.range.start))
            && is_reason_code(&f)
        {
            f.name = f.name.replacen("Return code", "Reason code", 1);
            f.value = reason_text(byte, packet);
        }
        let options = (f.name.starts_with("Subscription options ") && f.range.len() == 1)
            .then(|| (f.range.start, bytes.get(f.range.start).copied()));
        out.push(f);
        looks.push(look);
        if let Some((at, Some(byte))) = options {
            for bits in option_bits(at, byte) {
                out.push(bits);
                looks.push(Look { slot: next(), nested: true });
            }
        }
    }
    (out, looks)
}

/// A reason code byte in words, as the packet list writes it: "0x87 Not authorized".
fn reason_text(byte: u8, packet: ReasonPacket) -> String {
    match ReasonCode::decode(packet, byte) {
        Ok(code) => format!("0x{byte:02X} {}", code.name_in(packet)),
        Err(_) => format!("0x{byte:02X} (not a {} reason code)", packet.name()),
    }
}

const fn reason_packet(kind: PacketType) -> Option<ReasonPacket> {
    Some(match kind {
        PacketType::ConnAck => ReasonPacket::ConnAck,
        PacketType::PubAck => ReasonPacket::PubAck,
        PacketType::PubRec => ReasonPacket::PubRec,
        PacketType::PubRel => ReasonPacket::PubRel,
        PacketType::PubComp => ReasonPacket::PubComp,
        PacketType::SubAck => ReasonPacket::SubAck,
        PacketType::UnsubAck => ReasonPacket::UnsubAck,
        PacketType::Disconnect => ReasonPacket::Disconnect,
        PacketType::Auth => ReasonPacket::Auth,
        _ => return None,
    })
}

/// "Reason code", "Reason code 2", or a SUBACK's "Return code 2" (3.1.1's name for it).
fn is_reason_code(f: &Field) -> bool {
    let numbered = |prefix: &str| f.name.strip_prefix(prefix).is_some_and(|n| n.parse::<usize>().is_ok());
    f.mask.is_none()
        && f.range.len() == 1
        && f.part != Part::FixedHeader
        && (f.name == "Reason code" || numbered("Reason code ") || numbered("Return code "))
}

/// The property whose identifier `f` is ("Message Expiry Interval identifier").
fn property_identifier(bytes: &[u8], f: &Field) -> Option<&'static str> {
    let name = f.name.strip_suffix(" identifier")?;
    if f.range.len() != 1 || f.mask.is_some() {
        return None;
    }
    let id = PropertyId::from_u32(u32::from(*bytes.get(f.range.start)?))?;
    (id.name() == name).then_some(id.name())
}

/// The bit fields of a subscription options byte (3.8.3.1).
fn option_bits(at: usize, byte: u8) -> Vec<Field> {
    let retain_handling = match (byte >> 4) & 3 {
        0 => "0 (send retained messages at subscribe)",
        1 => "1 (send retained messages only for a new subscription)",
        2 => "2 (do not send retained messages)",
        _ => "3 (reserved: malformed)",
    };
    [
        ("QoS", 0x03, (byte & 3).to_string()),
        ("No Local", 0x04, ((byte >> 2) & 1).to_string()),
        ("Retain As Published", 0x08, ((byte >> 3) & 1).to_string()),
        ("Retain Handling", 0x30, retain_handling.to_owned()),
        ("Reserved", 0xC0, format!("{:02b}", byte >> 6)),
    ]
    .into_iter()
    .map(|(name, mask, value)| Field {
        name: name.to_owned(),
        part: Part::Payload,
        range: at..at + 1,
        mask: Some(mask),
        value,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU16, NonZeroU32};

    use bytes::Bytes;
    use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property};
    use mqtt_lab_broker::codec::{
        Ack, Connect, Disconnect, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, RetainHandling, SubAck,
        SubAckCode, SubOptions, Subscribe, TopicFilter, TopicName,
    };

    use super::*;
    use crate::ui::hexview::Layout;

    fn layout(packet: &Packet) -> (Vec<u8>, Layout) {
        let bytes = packet.to_bytes(Protocol::V5).unwrap().to_vec();
        let layout = Layout::of(&bytes, Protocol::V5, false);
        assert_eq!(layout.error, None);
        (bytes, layout)
    }

    fn lines(layout: &Layout) -> Vec<String> {
        layout.fields.iter().map(Layout::describe).collect()
    }

    #[test]
    fn a_property_is_one_colour_under_its_identifier() {
        let properties = vec![
            Property::MessageExpiryInterval(60),
            Property::CorrelationData(Bytes::from_static(b"req-42")),
            Property::UserProperty("unit".into(), "kWh".into()),
            Property::UserProperty("site".into(), "lab".into()),
        ];
        let (bytes, layout) = layout(&Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new("pv".to_owned()).unwrap(),
            payload: Bytes::from_static(b"1"),
            properties: Properties::new(PacketKind::PublishToServer, properties).unwrap(),
        }));
        // Topic "pv" takes bytes 2-5; the block is 5 + 9 + 2 * 12 = 38 bytes from byte 7.
        let block = 7..45;
        assert_eq!(bytes[6], 38, "the property length");
        let slots: Vec<usize> = block.clone().map(|at| layout.looks[layout.cells[at].field.unwrap()].slot).collect();
        let mut runs = slots.clone();
        runs.dedup();
        assert_eq!(runs.len(), 4, "one colour per property: {slots:?}");
        assert_eq!(slots.iter().filter(|s| **s == runs[3]).count(), 12, "the second user property, all 12 bytes");
        assert!(runs.windows(2).all(|w| layout.colour_of_slot(w[0]) != layout.colour_of_slot(w[1])));
        let nested: Vec<(&str, bool)> = layout
            .fields
            .iter()
            .zip(&layout.looks)
            .filter(|(f, _)| block.contains(&f.range.start))
            .map(|(f, l)| (f.name.as_str(), l.nested))
            .collect();
        assert_eq!(
            nested[..3],
            [
                ("Message Expiry Interval identifier", false),
                ("Message Expiry Interval", true),
                ("Correlation Data identifier", false)
            ]
        );
        assert_eq!(nested.len(), 2 + 3 + 2 * 5, "identifier, lengths and values");
        assert!(lines(&layout).contains(&"User Property value: \"lab\" (bytes 42-44)".to_owned()));
        // The payload after the block is a field of its own again.
        let payload = layout.fields.iter().position(|f| f.name == "Payload").unwrap();
        assert!(!layout.nested(payload));
    }

    #[test]
    fn subscription_options_are_split_into_their_bits() {
        let (bytes, layout) = layout(&Packet::Subscribe(Subscribe {
            pid: PacketId::new(3).unwrap(),
            properties: Properties::new(
                PacketKind::Subscribe,
                vec![Property::SubscriptionIdentifier(NonZeroU32::new(7).unwrap())],
            )
            .unwrap(),
            filters: vec![(
                TopicFilter::new("pv/#").unwrap(),
                SubOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: false,
                    retain_handling: RetainHandling::Never,
                },
            )],
        }));
        assert_eq!(bytes[13], 0x25);
        let text = lines(&layout);
        let bits = text.iter().position(|l| l.starts_with("Subscription options 1: 0x25")).unwrap();
        assert_eq!(
            text[bits + 1..],
            [
                "QoS: 1 (byte 13, bits 00000011)",
                "No Local: 1 (byte 13, bits 00000100)",
                "Retain As Published: 0 (byte 13, bits 00001000)",
                "Retain Handling: 2 (do not send retained messages) (byte 13, bits 00110000)",
                "Reserved: 00 (byte 13, bits 11000000)",
            ]
        );
        let masks = layout.fields[bits + 1..].iter().fold(0, |all, f| all | f.mask.unwrap());
        assert_eq!(masks, 0xFF, "the five fields name every bit");
        assert!((bits + 1..layout.fields.len()).all(|i| layout.nested(i)));
        assert!(text.contains(&"Subscription Identifier: 7 (byte 6)".to_owned()), "{text:#?}");
    }

    #[test]
    fn reason_codes_read_in_words_with_their_byte() {
        let pid = PacketId::new(3).unwrap();
        let (_, suback) = layout(&Packet::SubAck(SubAck {
            pid,
            properties: Properties::default(),
            codes: vec![SubAckCode::Granted(QoS::AtMostOnce), SubAckCode::Failure(ReasonCode::NotAuthorized)],
        }));
        let text = lines(&suback);
        assert_eq!(
            text[text.len() - 2..],
            ["Reason code 1: 0x00 Granted QoS 0 (byte 5)", "Reason code 2: 0x87 Not authorized (byte 6)"]
        );
        let (_, puback) = layout(&Packet::PubAck(Ack {
            pid,
            reason: ReasonCode::NoMatchingSubscribers,
            properties: Properties::new(PacketKind::PubAck, vec![Property::ReasonString("nobody".into())]).unwrap(),
        }));
        let text = lines(&puback);
        assert!(text.contains(&"Reason code: 0x10 No matching subscribers (byte 4)".to_owned()), "{text:#?}");
        assert!(text.contains(&"Reason String: \"nobody\" (bytes 9-14)".to_owned()), "{text:#?}");
        let (_, disconnect) = layout(&Packet::Disconnect(Disconnect::with_reason(ReasonCode::SessionTakenOver)));
        assert_eq!(lines(&disconnect).last().unwrap(), "Reason code: 0x8E Session taken over (byte 2)");
    }

    #[test]
    fn a_connect_names_both_property_lengths_and_3_1_1_keeps_a_colour_per_field() {
        let connect = |protocol| {
            Packet::Connect(Box::new(Connect {
                bridge: false,
                protocol,
                clean_session: true,
                keep_alive: 60,
                properties: if protocol.is_v5() {
                    Properties::new(PacketKind::Connect, vec![Property::ReceiveMaximum(NonZeroU16::MIN)]).unwrap()
                } else {
                    Properties::default()
                },
                client_id: "c".into(),
                will: Some(LastWill {
                    topic: TopicName::new("w".to_owned()).unwrap(),
                    payload: Bytes::from_static(b"bye"),
                    qos: QoS::AtMostOnce,
                    retain: false,
                    properties: if protocol.is_v5() {
                        Properties::new(PacketKind::Will, vec![Property::WillDelayInterval(5)]).unwrap()
                    } else {
                        Properties::default()
                    },
                }),
                username: None,
                password: None,
            }))
        };
        let (_, v5) = layout(&connect(Protocol::V5));
        let lengths: Vec<(&str, Part)> = v5
            .fields
            .iter()
            .filter(|f| f.name.ends_with("property length"))
            .map(|f| (f.name.as_str(), f.part))
            .collect();
        assert_eq!(lengths, [("Will property length", Part::Payload)]);
        assert_eq!(v5.fields.iter().filter(|f| f.name == "Property length").count(), 1);
        let bytes = connect(Protocol::V311).to_bytes(Protocol::V311).unwrap();
        let v311 = Layout::of(&bytes, Protocol::V311, false);
        assert!(v311.looks.iter().enumerate().all(|(i, l)| *l == Look { slot: i, nested: false }));
    }
}
