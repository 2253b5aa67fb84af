//! One packet laid out for the inspector, free of drawing: each byte with the field it belongs to
//! and its colour, and each field with its bytes, so the hex dump and the field tree share colours
//! and hovering one highlights the other. The password's bytes stay masked until revealed.

mod v5;

use std::fmt::Write as _;

use mqtt_lab_broker::codec::{Field, Inspection, Part, Protocol, inspect};
pub use v5::Look;

/// Field colours, readable on light and dark themes (the plot's palette).
const COLOURS: [[u8; 3]; 8] = crate::palette::PALETTE;

/// One byte of the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// "10", or "••" for a masked password byte.
    pub text: String,
    /// The field whose colour the byte takes (for the first byte, the packet type's).
    pub field: Option<usize>,
}

/// A packet's dump and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub cells: Vec<Cell>,
    pub fields: Vec<Field>,
    /// How each field is drawn: its colour, and whether it sits under the one before.
    pub looks: Vec<Look>,
    /// Why the packet is malformed, if it is (fields decoded before the error are listed).
    pub error: Option<String>,
}

impl Layout {
    /// `protocol`: that of the packet's connection (its properties and reason codes are
    /// fields only in MQTT 5.0).
    pub fn of(bytes: &[u8], protocol: Protocol, reveal_password: bool) -> Self {
        let Inspection { packet, fields } = inspect(bytes, protocol);
        let (fields, looks) = v5::explain(bytes, fields, protocol.is_v5());
        let mut cells: Vec<Cell> = bytes.iter().map(|b| Cell { text: format!("{b:02x}"), field: None }).collect();
        // The first field that covers a byte colours it: the packet type before the flag bits.
        for (i, f) in fields.iter().enumerate() {
            for cell in cells.get_mut(f.range.clone()).into_iter().flatten() {
                cell.field.get_or_insert(i);
            }
            if f.name == "Password" && !reveal_password {
                for cell in cells.get_mut(f.range.clone()).into_iter().flatten() {
                    "••".clone_into(&mut cell.text);
                }
            }
        }
        Self { cells, fields, looks, error: packet.err().map(|e| e.to_string()) }
    }

    /// The colour of field `field` (and of the bytes it colours).
    pub fn colour(&self, field: usize) -> [u8; 3] {
        self.colour_of_slot(self.looks.get(field).map_or(field, |l| l.slot))
    }

    /// The colour of slot `slot` of [`Look`].
    pub const fn colour_of_slot(&self, slot: usize) -> [u8; 3] {
        COLOURS[slot % COLOURS.len()]
    }

    /// Whether field `field` is drawn under the one before it (part of a property, a bit of a
    /// subscription options byte).
    pub fn nested(&self, field: usize) -> bool {
        self.looks.get(field).is_some_and(|l| l.nested)
    }

    /// The fields that cover byte `at` (several for the flag bits of byte 0 and CONNECT's flags).
    pub fn fields_at(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        self.fields.iter().enumerate().filter(move |(_, f)| f.range.contains(&at)).map(|(i, _)| i)
    }

    /// A field's line in the tree: name, where it sits, value.
    pub fn describe(f: &Field) -> String {
        let place = match (f.mask, f.range.len()) {
            (Some(mask), _) => format!("byte {}, bits {mask:08b}", f.range.start),
            (None, 1) => format!("byte {}", f.range.start),
            (None, _) => format!("bytes {}-{}", f.range.start, f.range.end.saturating_sub(1)),
        };
        format!("{}: {} ({place})", f.name, f.value)
    }

    pub const fn part_name(part: Part) -> &'static str {
        match part {
            Part::FixedHeader => "Fixed header",
            Part::VariableHeader => "Variable header",
            Part::Payload => "Payload",
        }
    }

    /// The packet as text: the dump, then the fields (for a lab report).
    pub fn to_text(&self, title: &str) -> String {
        let mut out = format!("{title}\n\n");
        for (row, chunk) in self.cells.chunks(16).enumerate() {
            let hex: Vec<&str> = chunk.iter().map(|c| c.text.as_str()).collect();
            let _ = writeln!(out, "{:04x}  {}", row * 16, hex.join(" "));
        }
        let mut part = None;
        for (i, f) in self.fields.iter().enumerate() {
            if part != Some(f.part) {
                part = Some(f.part);
                let _ = write!(out, "\n{}\n", Self::part_name(f.part));
            }
            let indent = if self.nested(i) { "    " } else { "  " };
            let _ = writeln!(out, "{indent}{}", Self::describe(f));
        }
        if let Some(e) = &self.error {
            let _ = write!(out, "\nMalformed: {e}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use mqtt_lab_broker::codec::v5::Properties;
    use mqtt_lab_broker::codec::{
        Connect, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, Subscribe, TopicFilter, TopicName,
    };

    use super::*;

    fn connect_with_will_user_password() -> Vec<u8> {
        Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: Protocol::V311,
            clean_session: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: "btsiot-client1".into(),
            will: Some(LastWill {
                topic: TopicName::new("btsiot/status".to_owned()).unwrap(),
                payload: bytes::Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::default(),
            }),
            username: Some("btsiot1".into()),
            password: Some(bytes::Bytes::from_static(b"btsiotpass1")),
        }))
        .to_bytes(Protocol::V311)
        .unwrap()
        .to_vec()
    }

    fn field<'a>(layout: &'a Layout, name: &str) -> (usize, &'a Field) {
        layout.fields.iter().enumerate().find(|(_, f)| f.name == name).unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn a_connect_with_will_user_and_password_colours_every_byte_by_its_field() {
        let bytes = connect_with_will_user_password();
        let layout = Layout::of(&bytes, Protocol::V311, false);
        assert!(layout.cells.iter().all(|c| c.field.is_some()), "every byte belongs to a field");
        for name in ["Protocol name", "Client identifier", "Will topic", "Will message", "User name"] {
            let (i, f) = field(&layout, name);
            assert!(layout.cells[f.range.clone()].iter().all(|c| c.field == Some(i)), "{name}");
        }
        let (_, user) = field(&layout, "User name");
        assert_eq!(&bytes[user.range.clone()], b"btsiot1");
        let (_, password) = field(&layout, "Password");
        assert!(layout.cells[password.range.clone()].iter().all(|c| c.text == "••"), "masked");
        assert_eq!(password.range.len(), 11);
        let revealed = Layout::of(&bytes, Protocol::V311, true);
        let text: String = revealed.cells[password.range.clone()].iter().map(|c| c.text.clone()).collect();
        assert_eq!(text, "627473696f747061737331", "btsiotpass1 in hex, once revealed");
        // The connect flags byte holds seven bit fields; each names its bits.
        let flags: Vec<&Field> = layout.fields.iter().filter(|f| f.mask.is_some() && f.range.start == 9).collect();
        assert!(flags.len() >= 6, "{flags:?}");
        assert_eq!(Layout::describe(field(&layout, "Will QoS").1), "Will QoS: 1 (byte 9, bits 00011000)");
        assert!(layout.fields_at(0).count() >= 2, "type and flags share byte 0");
        let text = layout.to_text("CONNECT");
        assert!(text.contains("\nPayload\n  Client identifier length: 14 (bytes 12-13)\n"), "{text}");
        assert!(text.contains("  Client identifier: \"btsiot-client1\" (bytes 14-27)\n"), "{text}");
        assert!(!text.contains("62 74 73 69 6f 74 70 61"), "the password is not in the text export");
    }

    #[test]
    fn a_qos_2_publish_and_a_subscribe_with_two_filters_lay_out_exactly() {
        let publish = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::ExactlyOnce(PacketId::new(7).unwrap()),
            retain: false,
            topic: TopicName::new("PV/data".to_owned()).unwrap(),
            payload: bytes::Bytes::from_static(b"4.25"),
            properties: Properties::default(),
        })
        .to_bytes(Protocol::V311)
        .unwrap();
        let layout = Layout::of(&publish, Protocol::V311, false);
        assert_eq!(layout.cells[0].text, "34", "PUBLISH, QoS 2");
        assert_eq!(Layout::describe(field(&layout, "QoS level").1), "QoS level: 2 (byte 0, bits 00000110)");
        assert_eq!(field(&layout, "Topic name").1.range, 4..11);
        assert_eq!(field(&layout, "Packet identifier").1.range, 11..13);
        assert_eq!(field(&layout, "Packet identifier").1.value, "7");
        assert_eq!(field(&layout, "Payload").1.range, 13..17);

        let subscribe = Packet::Subscribe(Subscribe {
            pid: PacketId::new(1).unwrap(),
            properties: Properties::default(),
            filters: vec![
                (TopicFilter::new("PV/#").unwrap(), QoS::AtLeastOnce.into()),
                (TopicFilter::new("lamp/+").unwrap(), QoS::AtMostOnce.into()),
            ],
        })
        .to_bytes(Protocol::V311)
        .unwrap();
        let layout = Layout::of(&subscribe, Protocol::V311, false);
        let names: Vec<&str> =
            layout.fields.iter().filter(|f| f.part == Part::Payload).map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 6, "length, filter and QoS for each of two filters: {names:?}");
        assert_eq!(layout.fields.last().unwrap().range.end, subscribe.len());
        assert!(layout.error.is_none());
    }

    #[test]
    fn malformed_packets_show_what_decoded_and_the_rule() {
        let layout = Layout::of(&[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'], Protocol::V311, false);
        assert!(layout.error.as_deref().unwrap().contains("[MQTT-3.3.2-2]"));
        assert!(layout.fields.iter().any(|f| f.name == "Topic name"));
    }
}
