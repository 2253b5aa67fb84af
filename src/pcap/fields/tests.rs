//! Every field our inspector names, in every packet type of MQTT 3.1.1 and 5, has Wireshark's
//! name beside it, and every name given is one tshark knows.

use std::collections::BTreeSet;

use mqtt_lab_broker::codec::{PacketType, Protocol, inspect};

use super::*;

/// One packet of each kind, with every optional part (will, user name, properties).
const V311: &[&[u8]] = &[
    &[
        0x10, 27, 0, 4, b'M', b'Q', b'T', b'T', 4, 0xEE, 0, 60, 0, 2, b'c', b'1', 0, 1, b'w', 0, 2, b'w', b'm', 0, 1,
        b'u', 0, 1, b'p',
    ],
    &[0x20, 2, 1, 0],
    &[0x32, 9, 0, 3, b'a', b'/', b'b', 0, 7, b'h', b'i'],
    &[0x40, 2, 0, 7],
    &[0x50, 2, 0, 7],
    &[0x62, 2, 0, 7],
    &[0x70, 2, 0, 7],
    &[0x82, 12, 0, 8, 0, 3, b'a', b'/', b'#', 1, 0, 1, b'b', 0],
    &[0x90, 4, 0, 8, 1, 0x80],
    &[0xA2, 7, 0, 9, 0, 3, b'a', b'/', b'#'],
    &[0xB0, 2, 0, 9],
    &[0xC0, 0],
    &[0xD0, 0],
    &[0xE0, 0],
];

const V5: &[&[u8]] = &[
    &[0x10, 20, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 5, 0x11, 0, 0, 0, 10, 0, 2, b'c', b'5'],
    &[0x20, 16, 0, 0, 13, 0x22, 0, 10, 0x12, 0, 2, b'i', b'd', 0x1F, 0, 2, b'o', b'k'],
    &[
        0x30, 27, 0, 1, b't', 22, 0x03, 0, 4, b't', b'e', b'x', b't', 0x26, 0, 1, b'k', 0, 1, b'v', 0x23, 0, 1, 0x02,
        0, 0, 0, 60, b'x',
    ],
    &[0x82, 7, 0, 1, 0, 0, 1, b't', 0x15],
    &[0x90, 4, 0, 1, 0, 1],
    &[0x40, 3, 0, 7, 0x10],
    &[0xE0, 1, 0],
];

fn fields_of(bytes: &[u8], protocol: Protocol) -> (Option<PacketType>, Vec<String>) {
    let inspection = inspect(bytes, protocol);
    assert!(inspection.packet.is_ok(), "{bytes:02X?}: {:?}", inspection.packet);
    let kind = PacketType::from_nibble(bytes[0] >> 4).ok();
    (kind, inspection.fields.into_iter().map(|f| f.name).collect())
}

#[test]
fn every_field_of_every_packet_has_a_wireshark_name_from_the_list() {
    let mut unmapped = BTreeSet::new();
    let mut used = BTreeSet::new();
    for (packets, protocol) in [(V311, Protocol::V311), (V5, Protocol::V5)] {
        for bytes in packets {
            let (kind, names) = fields_of(bytes, protocol);
            for name in names {
                match wireshark_field(&name, kind) {
                    Some(w) => {
                        assert!(WIRESHARK_FIELDS.contains(&w), "{name} -> {w} is not in WIRESHARK_FIELDS");
                        used.insert(w);
                    }
                    None => {
                        unmapped.insert(format!("{kind:?} {name}"));
                    }
                }
            }
        }
    }
    assert!(unmapped.is_empty(), "no Wireshark name for: {unmapped:#?}");
    // The ones a student looks for first.
    for w in
        ["mqtt.clientid", "mqtt.topic", "mqtt.msg", "mqtt.qos", "mqtt.msgid", "mqtt.conflag.cleansess", "mqtt.kalive"]
    {
        assert!(used.contains(w), "{w} never used: {used:?}");
    }
}

#[test]
fn names_depend_on_the_packet_where_wireshark_s_do() {
    use PacketType as T;
    assert_eq!(wireshark_field("Return code", Some(T::ConnAck)), Some("mqtt.conack.val"));
    assert_eq!(wireshark_field("Return code 2", Some(T::SubAck)), Some("mqtt.suback.qos"));
    assert_eq!(wireshark_field("Reason code", Some(T::PubAck)), Some("mqtt.puback.reason_code"));
    assert_eq!(wireshark_field("Reason code 1", Some(T::SubAck)), Some("mqtt.suback.reason_code"));
    assert_eq!(wireshark_field("Topic filter 2", Some(T::Subscribe)), Some("mqtt.topic"));
    assert_eq!(wireshark_field("Reserved", Some(T::Connect)), Some("mqtt.conflag.reserved"));
    assert_eq!(wireshark_field("Something new", Some(T::Connect)), None);
}

/// The names as tshark lists them: `tshark -G fields` prints "F\tName\tfilter.name\t...".
#[test]
fn tshark_knows_every_name() {
    let output = std::process::Command::new("tshark")
        .args(["-G", "fields"])
        .output()
        .expect("tshark must be installed for this test (apt-get install tshark)");
    let text = String::from_utf8_lossy(&output.stdout);
    let known: BTreeSet<&str> = text.lines().filter_map(|l| l.split('\t').nth(2)).collect();
    assert!(known.contains("mqtt.topic"), "tshark lists no MQTT fields: {}", &text[..text.len().min(200)]);
    let unknown: Vec<&&str> = WIRESHARK_FIELDS.iter().filter(|w| !known.contains(**w)).collect();
    assert!(unknown.is_empty(), "tshark does not know {unknown:?}");
}
