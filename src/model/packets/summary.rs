//! One line about a packet for the inspector's list: what a student looks for first. An MQTT
//! 5.0 packet says what a 3.1.1 one cannot: its reason codes in words with their byte ("0x87
//! Not authorized", as the field tree writes them), its reason string, a subscription's options
//! and identifier, how many properties it carries.

use std::fmt::Write as _;

use mqtt_lab_broker::codec::v5::{Properties, Property, PropertyId, ReasonCode, ReasonPacket};
use mqtt_lab_broker::codec::{Ack, Packet, Protocol, QosPid, RetainHandling, SubAckCode, SubOptions, UnsubAck};

pub(super) fn summary(packet: &Packet, protocol: Protocol) -> String {
    let v5 = protocol.is_v5();
    match packet {
        Packet::Connect(c) => {
            let v5 = c.protocol.is_v5();
            let will = c.will.as_ref().map_or_else(String::new, |w| {
                let with =
                    if w.properties.is_empty() { String::new() } else { format!(" with{}", count(&w.properties)) };
                format!(", will on {}{with}", w.topic.as_str())
            });
            format!(
                "{}client id {:?}{}{will}, keep alive {} s, {} {}{}",
                if v5 { "MQTT 5, " } else { "" },
                c.client_id,
                c.username.as_ref().map_or_else(String::new, |u| format!(", user {u:?}")),
                c.keep_alive,
                if v5 { "clean start" } else { "clean session" },
                u8::from(c.clean_session),
                listed(&c.properties),
            )
        }
        Packet::ConnAck(a) if v5 => format!(
            "{}, session present {}{}{}",
            reason(a.reason, ReasonPacket::ConnAck),
            u8::from(a.session_present),
            reason_string(&a.properties),
            listed(&a.properties)
        ),
        Packet::ConnAck(a) => format!("{:?}, session present {}", a.code(), u8::from(a.session_present)),
        Packet::Publish(p) => {
            let (qos, id) = match p.qos_pid {
                QosPid::AtMostOnce => (0, String::new()),
                QosPid::AtLeastOnce(id) => (1, format!(", id {}", id.get())),
                QosPid::ExactlyOnce(id) => (2, format!(", id {}", id.get())),
            };
            let topic = match p.properties.get(PropertyId::TopicAlias) {
                Some(Property::TopicAlias(alias)) if p.topic.as_str().is_empty() => format!("(topic alias {alias})"),
                _ => p.topic.as_str().to_owned(),
            };
            format!(
                "{topic} QoS {qos}{id}{}{}, {} byte(s){}",
                if p.retain { ", retain" } else { "" },
                if p.dup { ", dup" } else { "" },
                p.payload.len(),
                listed(&p.properties)
            )
        }
        Packet::PubAck(a) if v5 => ack(a, ReasonPacket::PubAck),
        Packet::PubRec(a) if v5 => ack(a, ReasonPacket::PubRec),
        Packet::PubRel(a) if v5 => ack(a, ReasonPacket::PubRel),
        Packet::PubComp(a) if v5 => ack(a, ReasonPacket::PubComp),
        Packet::UnsubAck(UnsubAck { pid, properties, reasons }) if v5 => {
            let codes: Vec<String> = reasons.iter().map(|r| reason(*r, ReasonPacket::UnsubAck)).collect();
            format!("id {}: {}{}", pid.get(), codes.join(", "), reason_string(properties))
        }
        Packet::PubAck(Ack { pid, .. })
        | Packet::PubRec(Ack { pid, .. })
        | Packet::PubRel(Ack { pid, .. })
        | Packet::PubComp(Ack { pid, .. })
        | Packet::UnsubAck(UnsubAck { pid, .. }) => format!("id {}", pid.get()),
        Packet::Subscribe(s) => {
            let filters: Vec<String> =
                s.filters.iter().map(|(f, o)| format!("{} ({})", f.as_str(), options(*o, v5))).collect();
            let id = match s.properties.get(PropertyId::SubscriptionIdentifier) {
                Some(Property::SubscriptionIdentifier(id)) => format!(", subscription identifier {id}"),
                _ => String::new(),
            };
            format!("id {}: {}{id}", s.pid.get(), filters.join(", "))
        }
        Packet::SubAck(s) => {
            let codes: Vec<String> = s
                .codes
                .iter()
                .map(|c| match c {
                    SubAckCode::Granted(q) if v5 => format!("0x{:02X} granted QoS {}", *q as u8, *q as u8),
                    SubAckCode::Granted(q) => format!("granted QoS {}", *q as u8),
                    SubAckCode::Failure(r) if v5 => reason(*r, ReasonPacket::SubAck),
                    SubAckCode::Failure(_) => format!("refused ({:#04x})", c.to_u8(protocol)),
                })
                .collect();
            format!("id {}: {}{}", s.pid.get(), codes.join(", "), reason_string(&s.properties))
        }
        Packet::Unsubscribe(u) => {
            let filters: Vec<&str> = u.filters.iter().map(mqtt_lab_broker::codec::TopicFilter::as_str).collect();
            format!("id {}: {}", u.pid.get(), filters.join(", "))
        }
        Packet::Disconnect(d) if v5 => {
            format!("{}{}", reason(d.reason, ReasonPacket::Disconnect), reason_string(&d.properties))
        }
        Packet::Auth(a) => {
            let method = match a.properties.get(PropertyId::AuthenticationMethod) {
                Some(Property::AuthenticationMethod(m)) => format!(", method {m:?}"),
                _ => String::new(),
            };
            format!("{}{method}{}", reason(a.reason, ReasonPacket::Auth), reason_string(&a.properties))
        }
        Packet::PingReq | Packet::PingResp | Packet::Disconnect(_) => String::new(),
    }
}

/// A reason code as the field tree writes it: "0x87 Not authorized".
fn reason(code: ReasonCode, packet: ReasonPacket) -> String {
    format!("0x{:02X} {}", code as u8, code.name_in(packet))
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP of MQTT 5.0: "id 5: 0x10 No matching subscribers".
fn ack(a: &Ack, packet: ReasonPacket) -> String {
    format!("id {}: {}{}", a.pid.get(), reason(a.reason, packet), reason_string(&a.properties))
}

/// `, "why"` for a Reason String, which says in words what the code does not.
fn reason_string(properties: &Properties) -> String {
    match properties.get(PropertyId::ReasonString) {
        Some(Property::ReasonString(s)) => format!(", {s:?}"),
        _ => String::new(),
    }
}

/// ", 3 properties", or nothing for none.
fn listed(properties: &Properties) -> String {
    if properties.is_empty() { String::new() } else { format!(",{}", count(properties)) }
}

fn count(properties: &Properties) -> String {
    match properties.len() {
        1 => " 1 property".to_owned(),
        n => format!(" {n} properties"),
    }
}

/// "QoS 1", and in MQTT 5.0 the options that are set: "QoS 1, No Local, Retain Handling 2".
fn options(o: SubOptions, v5: bool) -> String {
    let mut out = format!("QoS {}", o.qos as u8);
    if v5 {
        if o.no_local {
            out.push_str(", No Local");
        }
        if o.retain_as_published {
            out.push_str(", Retain As Published");
        }
        if o.retain_handling != RetainHandling::OnSubscribe {
            let _ = write!(out, ", Retain Handling {}", o.retain_handling as u8);
        }
    }
    out
}
