//! Our inspector's field names next to Wireshark's display-filter names, so a student can match
//! the two tools: "Topic name" is `mqtt.topic`, "Keep alive" `mqtt.kalive`. The names are those
//! of Wireshark's MQTT dissector (`tshark -G fields`); a test checks each against tshark.

use mqtt_lab_broker::codec::PacketType;

/// Every name `wireshark_field` answers, for the test against `tshark -G fields`.
pub const WIRESHARK_FIELDS: &[&str] = &[
    "mqtt.msgtype",
    "mqtt.dupflag",
    "mqtt.qos",
    "mqtt.retain",
    "mqtt.hdr_reserved",
    "mqtt.len",
    "mqtt.proto_len",
    "mqtt.protoname",
    "mqtt.ver",
    "mqtt.conflags",
    "mqtt.conflag.uname",
    "mqtt.conflag.passwd",
    "mqtt.conflag.retain",
    "mqtt.conflag.qos",
    "mqtt.conflag.willflag",
    "mqtt.conflag.cleansess",
    "mqtt.conflag.reserved",
    "mqtt.kalive",
    "mqtt.clientid_len",
    "mqtt.clientid",
    "mqtt.willtopic_len",
    "mqtt.willtopic",
    "mqtt.willmsg_len",
    "mqtt.willmsg",
    "mqtt.username_len",
    "mqtt.username",
    "mqtt.passwd_len",
    "mqtt.passwd",
    "mqtt.conack.flags",
    "mqtt.conack.flags.sp",
    "mqtt.conack.flags.reserved",
    "mqtt.conack.val",
    "mqtt.msgid",
    "mqtt.topic_len",
    "mqtt.topic",
    "mqtt.msg",
    "mqtt.sub.qos",
    "mqtt.suback.qos",
    "mqtt.subscription_options",
    "mqtt.subscription_options_qos",
    "mqtt.subscription_options_nl",
    "mqtt.subscription_options_rap",
    "mqtt.subscription_options_retain",
    "mqtt.subscription_options_reserved",
    "mqtt.connack.reason_code",
    "mqtt.puback.reason_code",
    "mqtt.pubrec.reason_code",
    "mqtt.pubrel.reason_code",
    "mqtt.pubcomp.reason_code",
    "mqtt.suback.reason_code",
    "mqtt.unsuback.reason_code",
    "mqtt.disconnect.reason_code",
    "mqtt.auth.reason_code",
    "mqtt.property_len",
    "mqtt.property_id",
    "mqtt.prop_number",
    "mqtt.prop_string_len",
    "mqtt.prop_string",
    "mqtt.prop_key_len",
    "mqtt.prop_key",
    "mqtt.prop_value_len",
    "mqtt.prop_value",
    "mqtt.property.content_type",
    "mqtt.property.topic_alias",
    "mqtt.property.max_qos",
];

/// MQTT 5 properties whose value is a string (or string pair) in Wireshark's `mqtt.prop_string`.
const STRING_PROPERTIES: [&str; 8] = [
    "Response Topic",
    "Assigned Client Identifier",
    "Authentication Method",
    "Response Information",
    "Server Reference",
    "Reason String",
    "Correlation Data",
    "Authentication Data",
];

/// The Wireshark field for our field `name` in a packet of `kind`; `None` where Wireshark has no
/// field of its own for it.
pub fn wireshark_field(name: &str, kind: Option<PacketType>) -> Option<&'static str> {
    use PacketType as T;
    let name = numbered(name);
    let exact = match name {
        "Packet type" => "mqtt.msgtype",
        "DUP flag" => "mqtt.dupflag",
        "QoS level" => "mqtt.qos",
        "RETAIN flag" => "mqtt.retain",
        "Reserved flags" => "mqtt.hdr_reserved",
        "Remaining length" => "mqtt.len",
        "Protocol name length" => "mqtt.proto_len",
        "Protocol name" => "mqtt.protoname",
        "Protocol level" => "mqtt.ver",
        "Connect flags" => "mqtt.conflags",
        "User name flag" => "mqtt.conflag.uname",
        "Password flag" => "mqtt.conflag.passwd",
        "Will retain" => "mqtt.conflag.retain",
        "Will QoS" => "mqtt.conflag.qos",
        "Will flag" => "mqtt.conflag.willflag",
        "Clean session" | "Clean start" => "mqtt.conflag.cleansess",
        "Reserved" if kind == Some(T::Connect) => "mqtt.conflag.reserved",
        "Reserved" if kind == Some(T::ConnAck) => "mqtt.conack.flags.reserved",
        "Keep alive" => "mqtt.kalive",
        "Client identifier length" => "mqtt.clientid_len",
        "Client identifier" => "mqtt.clientid",
        "Will topic length" => "mqtt.willtopic_len",
        "Will topic" => "mqtt.willtopic",
        "Will message length" => "mqtt.willmsg_len",
        "Will message" => "mqtt.willmsg",
        "User name length" => "mqtt.username_len",
        "User name" => "mqtt.username",
        "Password length" => "mqtt.passwd_len",
        "Password" => "mqtt.passwd",
        "Acknowledge flags" => "mqtt.conack.flags",
        "Session present" => "mqtt.conack.flags.sp",
        "Return code" if kind == Some(T::ConnAck) => "mqtt.conack.val",
        "Return code" | "SUBACK return code" => "mqtt.suback.qos",
        "Reason code" => return reason_code(kind),
        "Packet identifier" => "mqtt.msgid",
        "Topic name length" | "Topic filter length" => "mqtt.topic_len",
        "Topic name" | "Topic filter" => "mqtt.topic",
        "Payload" => "mqtt.msg",
        "Requested QoS" => "mqtt.sub.qos",
        "Subscription options" => "mqtt.subscription_options",
        "Maximum QoS" => "mqtt.property.max_qos",
        "Topic Alias" => "mqtt.property.topic_alias",
        "Content Type" | "Content Type length" => "mqtt.property.content_type",
        "User Property name length" => "mqtt.prop_key_len",
        "User Property name" => "mqtt.prop_key",
        "User Property value length" => "mqtt.prop_value_len",
        "User Property value" => "mqtt.prop_value",
        "Property length" | "Will properties length" => "mqtt.property_len",
        _ => return property(name),
    };
    Some(exact)
}

/// "Topic filter 2" -> "Topic filter", "Return code 1" -> "Return code".
fn numbered(name: &str) -> &str {
    match name.rsplit_once(' ') {
        Some((stem, n)) if n.bytes().all(|b| b.is_ascii_digit()) => stem,
        Some((stem, "length")) => match stem.rsplit_once(' ') {
            Some((inner, n)) if n.bytes().all(|b| b.is_ascii_digit()) && inner == "Topic filter" => {
                "Topic filter length"
            }
            _ => name,
        },
        _ => name,
    }
}

fn reason_code(kind: Option<PacketType>) -> Option<&'static str> {
    use PacketType as T;
    Some(match kind? {
        T::ConnAck => "mqtt.connack.reason_code",
        T::PubAck => "mqtt.puback.reason_code",
        T::PubRec => "mqtt.pubrec.reason_code",
        T::PubRel => "mqtt.pubrel.reason_code",
        T::PubComp => "mqtt.pubcomp.reason_code",
        T::SubAck => "mqtt.suback.reason_code",
        T::UnsubAck => "mqtt.unsuback.reason_code",
        T::Disconnect => "mqtt.disconnect.reason_code",
        T::Auth => "mqtt.auth.reason_code",
        _ => return None,
    })
}

/// An MQTT 5 property's identifier, length or value.
fn property(name: &str) -> Option<&'static str> {
    if name.ends_with(" identifier") {
        return Some("mqtt.property_id");
    }
    let (stem, length) = name.strip_suffix(" length").map_or((name, false), |s| (s, true));
    if STRING_PROPERTIES.contains(&stem) {
        return Some(if length { "mqtt.prop_string_len" } else { "mqtt.prop_string" });
    }
    let numeric = ["Interval", "Maximum", "Indicator", "Available", "Information", "Keep Alive", "Size"];
    let is_number = stem.starts_with("Subscription Identifier") || numeric.iter().any(|w| stem.ends_with(w));
    (is_number && !length).then_some("mqtt.prop_number")
}

#[cfg(test)]
mod tests;
