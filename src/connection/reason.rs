//! MQTT 5 reason codes in words: the specification's name, and for the codes students meet
//! most a sentence on what to do about it.

use mqtt_lab_broker::codec::v5::{ReasonCode, ReasonPacket};

/// What to do about a reason code, when there is something to say.
fn advice(code: u8, packet: ReasonPacket) -> Option<&'static str> {
    Some(match code {
        0x10 => "the broker took the message, but no subscription matched its topic.",
        0x80 if packet == ReasonPacket::SubAck => {
            "the broker refused the subscription without saying why (often the ACL does not allow reading it)."
        }
        0x80 => "the broker did not say why.",
        0x81 | 0x82 => "the broker found a packet that breaks the protocol; the packet inspector shows what was sent.",
        0x84 => "the broker does not speak this MQTT version: try MQTT 3.1.1 in the profile.",
        0x85 => "the broker refuses this client id: change it in the profile (some brokers require a prefix).",
        0x86 => "check the user name and password in the profile.",
        0x87 => match packet {
            ReasonPacket::SubAck => {
                "the broker's ACL does not allow this user to read the filter: check the ACL (acl_file)."
            }
            ReasonPacket::PubAck | ReasonPacket::PubRec => {
                "the broker's ACL does not allow this user to write to the topic: check the ACL (acl_file)."
            }
            _ => "the user may not do this: check the user name, the password and the broker's ACL (acl_file).",
        },
        0x88 => "the MQTT service on the broker is unavailable; try again later.",
        0x89 => "the broker is busy; try again later.",
        0x8A => "this client is banned by the broker.",
        0x8B => "the broker is shutting down.",
        0x8D => {
            "the broker heard nothing within 1.5 times the keepalive: the network stalled or the keepalive is too short."
        }
        0x8E => "another connection with the same client id took the session over: give each client its own id.",
        0x8F => "the broker does not accept this topic filter.",
        0x90 => "the broker does not accept this topic name (a reserved or forbidden topic?).",
        0x91 => "the packet identifier is already in use: a client bug.",
        0x93 => "more QoS 1/2 messages were in flight than Receive Maximum allows.",
        0x94 => "a topic alias was outside the agreed Topic Alias Maximum.",
        0x95 => "the packet is larger than the broker's Maximum Packet Size: send less.",
        0x96 => "messages came too fast for the broker: publish less often.",
        0x97 => "a limit set by the broker's administrator was reached (quota): publish or subscribe less.",
        0x98 => "the broker's administrator closed the connection.",
        0x99 => "the payload does not match its Payload Format Indicator (marked UTF-8 but is not?).",
        0x9A => "the broker does not support retained messages: clear the retain flag.",
        0x9B => "the broker does not support this QoS: use a lower QoS.",
        0x9C => "the broker asks the client to use another server (see the server reference).",
        0x9D => "the broker has moved: use the other server named in the server reference.",
        0x9E => "the broker does not support shared subscriptions ($share/...).",
        0x9F => "too many connections in a short time: wait before connecting again.",
        0xA0 => "the broker limits how long a connection may last.",
        0xA1 => "the broker does not support subscription identifiers: subscribe without one.",
        0xA2 => "the broker does not support wildcard subscriptions: subscribe to whole topic names.",
        _ => return None,
    })
}

/// A reason code in words, e.g. "0x87 Not authorized: the broker's ACL does not allow ...".
/// `reason` is the packet's Reason String, which the broker may add.
pub fn explain(code: u8, packet: ReasonPacket, reason: Option<&str>) -> String {
    let name =
        ReasonCode::from_u8(code).map_or("a reason code the specification does not define", |r| r.name_in(packet));
    let mut text = format!("0x{code:02X} {name}");
    if let Some(advice) = advice(code, packet) {
        text.push_str(": ");
        text.push_str(advice);
    } else {
        text.push('.');
    }
    if let Some(reason) = reason.filter(|r| !r.is_empty()) {
        text.push_str(" The broker says: \"");
        text.push_str(reason);
        text.push_str("\".");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_with_advice_and_the_reason_string() {
        let acl = explain(0x87, ReasonPacket::SubAck, None);
        assert_eq!(
            acl,
            "0x87 Not authorized: the broker's ACL does not allow this user to read the filter: check the ACL (acl_file)."
        );
        assert!(explain(0x87, ReasonPacket::PubAck, None).contains("write to the topic"));
        assert!(explain(0x97, ReasonPacket::PubAck, None).starts_with("0x97 Quota exceeded: "));
        assert!(explain(0x90, ReasonPacket::PubAck, None).contains("topic name"));
        assert!(explain(0x8E, ReasonPacket::Disconnect, None).contains("same client id"));
        assert!(explain(0x9C, ReasonPacket::ConnAck, None).contains("another server"));
        assert!(explain(0x9D, ReasonPacket::ConnAck, None).contains("other server"));
        assert_eq!(explain(0x00, ReasonPacket::SubAck, None), "0x00 Granted QoS 0.");
        let said = explain(0x83, ReasonPacket::PubAck, Some("disk full"));
        assert_eq!(said, "0x83 Implementation specific error. The broker says: \"disk full\".");
        assert!(explain(0x7F, ReasonPacket::PubAck, None).contains("does not define"));
    }
}
