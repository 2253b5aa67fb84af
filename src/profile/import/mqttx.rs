//! MQTTX's connection export (the JSON its "Export" writes: one connection, or an array of all
//! of them): its `ConnectionModel`, as in MQTTX's source (`src/database/models/ConnectionEntity.ts`,
//! `WillEntity.ts`, `SubscriptionEntity.ts`, and `ConnectionService.entityToModel`, which writes
//! the MQTT 5 properties twice: flat and in `properties`, and the will's in `will.properties`).
//! `protocol` is mqtt, mqtts, ws or wss; `certType` '' or 'server' (CA-signed) or 'self' (the
//! `ca`, `cert` and `key` files); `mqttVersion` "3.1", "3.1.1" or "5.0".

use crate::mqtt::{MqttVersion, PayloadFormat, Qos, UserProperty};
use crate::profile::{LastWillSettings, Profile, TlsMode, Transport};

use super::tree::{self, Node};
use super::{Import, ImportError, ImportedProfile, Source, Unmapped, flag, number, problems};

/// MQTTX's own record keeping, listed with this reason rather than as settings.
const BOOKKEEPING: [&str; 9] =
    ["id", "createAt", "updateAt", "orderId", "parentId", "isCollection", "unreadMessageCount", "client", "will.id"];

pub(super) fn parse(text: &str) -> Result<Import, ImportError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ImportError::Json(e.to_string()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    let mut profiles = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // MQTTX refuses connections without a clientId; our own profiles say client_id.
        if !item.is_object() || item.get("clientId").is_none() {
            return Err(ImportError::Unknown(format!(
                "item {i} of the file is not an MQTTX connection (no \"clientId\"): choose the .json MQTTX's Export wrote"
            )));
        }
        profiles.push(profile(&tree::from_json("", item), i));
    }
    if profiles.is_empty() {
        return Err(ImportError::Unknown("the MQTTX export holds no connections".into()));
    }
    Ok(Import { source: Source::Mqttx, profiles, unmapped: Vec::new() })
}

fn profile(node: &Node, index: usize) -> ImportedProfile {
    let mut unmapped = Vec::new();
    let u = &mut unmapped;
    let mut p = Profile {
        name: node.take("name").map_or_else(|| format!("MQTTX connection {}", index + 1), str::to_owned),
        host: node.take("host").unwrap_or_default().to_owned(),
        client_id: node.take("clientId").unwrap_or_default().to_owned(),
        username: node.take("username").map(str::to_owned),
        password: node.take("password").map(str::to_owned),
        ..Profile::default()
    };
    if let Some(port) = number(node, "port", u) {
        p.port = port;
    }
    if let Some(clean) = flag(node, "clean", u) {
        p.clean_session = clean;
    }
    if let Some(secs) = number(node, "keepalive", u) {
        p.keep_alive_secs = secs;
    }
    if let Some(secs) = number(node, "connectTimeout", u) {
        p.connect_timeout_secs = secs;
    }
    if let Some(on) = flag(node, "reconnect", u) {
        p.auto_reconnect = on;
    }
    if flag(node, "clientIdWithTime", u) == Some(true) {
        u.push(Unmapped::new("clientIdWithTime", "true", "MQTT Lab sends the client id as written".into()));
    }
    if let Some(text) = node.take("mqttVersion") {
        match text {
            "3.1" => p.version = MqttVersion::V31,
            "3.1.1" => p.version = MqttVersion::V311,
            "5.0" | "5" => p.version = MqttVersion::V5,
            _ => u.push(Unmapped::new("mqttVersion", text, "not an MQTT version MQTT Lab knows".into())),
        }
    }
    transport(node, &mut p, u);
    will(node, &mut p, u);
    connect_v5(node, &mut p, u);
    for (i, sub) in node.get("subscriptions").into_iter().flat_map(|s| s.children.iter()).enumerate() {
        let topic = sub.get("topic").map_or("", |t| t.text.as_str());
        let qos = sub.get("qos").map_or("0", |t| t.text.as_str());
        sub.mark();
        u.push(Unmapped::new(
            &format!("subscriptions.{i}"),
            &format!("{topic} (QoS {qos})"),
            "MQTT Lab profiles keep no subscriptions: subscribe to it in the Subscribe panel".into(),
        ));
    }
    if let Some(messages) = node.get("messages") {
        messages.mark();
        if !messages.children.is_empty() {
            let n = messages.children.len();
            u.push(Unmapped::new("messages", &format!("{n} messages"), "message history is not imported".into()));
        }
    }
    let reason = |field: &str| {
        if BOOKKEEPING.contains(&field) || matches!(field.rsplit('.').next(), Some("id" | "createAt")) {
            "MQTTX's own record keeping".to_owned()
        } else if field.contains("authentication") {
            "MQTT 5 enhanced authentication (AUTH): not in MQTT Lab's profiles".to_owned()
        } else if field.starts_with("pushProps") {
            "MQTTX's publish defaults: no such setting of a profile in MQTT Lab".to_owned()
        } else {
            "no such setting in MQTT Lab".to_owned()
        }
    };
    node.leftovers("", &reason, u);
    let problems = problems(&p);
    ImportedProfile { profile: p, unmapped, problems }
}

/// mqtt / mqtts / ws / wss, the `ssl` switch, the certificate files and the WebSocket path.
fn transport(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    let protocol = node.take("protocol").unwrap_or("mqtt").to_ascii_lowercase();
    let ssl = flag(node, "ssl", u).unwrap_or(false);
    let websocket = matches!(protocol.as_str(), "ws" | "wss");
    if !matches!(protocol.as_str(), "mqtt" | "mqtts" | "ws" | "wss") {
        u.push(Unmapped::new("protocol", &protocol, "MQTT Lab speaks mqtt, mqtts, ws and wss".into()));
    }
    let path = node.take("path").unwrap_or("");
    if websocket {
        p.transport = Transport::WebSocket;
        p.websocket_path = if path.is_empty() { "/mqtt".to_owned() } else { path.to_owned() };
    } else if !path.is_empty() && path != "/mqtt" {
        // "/mqtt" is MQTTX's default, kept for a switch to WebSocket.
        u.push(Unmapped::new("path", path, "a WebSocket path, and this connection is not WebSocket".into()));
    }
    let file = |key: &str| node.get(key).map(|n| n.text.clone()).unwrap_or_default();
    let (ca, cert, key) = (file("ca"), file("cert"), file("key"));
    node.mark_all(&["ca", "cert", "key"]);
    let cert_type = node.take("certType").unwrap_or("");
    let tls = ssl || matches!(protocol.as_str(), "mqtts" | "wss");
    if !tls {
        for (field, text) in [("ca", &ca), ("cert", &cert), ("key", &key)].into_iter().filter(|(_, t)| !t.is_empty()) {
            u.push(Unmapped::new(field, text, "TLS is off in this MQTTX connection".into()));
        }
        if flag(node, "rejectUnauthorized", u) == Some(false) {
            u.push(Unmapped::new("rejectUnauthorized", "false", "TLS is off in this MQTTX connection".into()));
        }
        return;
    }
    p.tls = match cert_type {
        "self" if !cert.is_empty() && !key.is_empty() => {
            TlsMode::ClientCertificate { ca_file: ca, cert_file: cert, key_file: key }
        }
        "self" => TlsMode::SelfSignedCa { ca_file: ca },
        "" | "server" => TlsMode::CaSigned,
        other => {
            u.push(Unmapped::new("certType", other, "not a certificate type MQTTX writes".into()));
            TlsMode::CaSigned
        }
    };
    if flag(node, "rejectUnauthorized", u) == Some(false) {
        p.tls_skip_verify = true;
    }
}

fn will(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    let Some(w) = node.get("will") else { return };
    // The will's MQTT 5 properties, in `will.properties` and again flat in `will`.
    let prop = |key: &str| duplicated(w, key);
    let topic = w.take("lastWillTopic").unwrap_or("");
    let payload = w.take("lastWillPayload").unwrap_or("");
    if topic.is_empty() && payload.is_empty() {
        // MQTTX's "no will": every field at its default.
        w.mark();
        return;
    }
    let mut will = LastWillSettings { topic: topic.to_owned(), message: payload.to_owned(), ..Default::default() };
    let mut local = Vec::new();
    if let Some(level) = number::<u8>(w, "lastWillQos", &mut local) {
        match Qos::from_level(level) {
            Some(q) => will.qos = q,
            None => local.push(Unmapped::new("lastWillQos", &level.to_string(), "QoS is 0, 1 or 2".into())),
        }
    }
    will.retain = flag(w, "lastWillRetain", &mut local).unwrap_or(false);
    if let Some(secs) = number(w, &prop("willDelayInterval"), &mut local) {
        will.delay_secs = secs;
    }
    let props = &mut will.properties;
    if flag(w, &prop("payloadFormatIndicator"), &mut local) == Some(true) {
        props.payload_format = Some(PayloadFormat::Utf8);
    }
    props.message_expiry = number(w, &prop("messageExpiryInterval"), &mut local);
    props.content_type = w.take(&prop("contentType")).map(str::to_owned);
    props.response_topic = w.take(&prop("responseTopic")).map(str::to_owned);
    props.correlation_data = w.take(&prop("correlationData")).map(|t| bytes::Bytes::copy_from_slice(t.as_bytes()));
    props.user_properties = user_properties(w, &prop("userProperties"));
    for mut l in local {
        l.field = format!("will.{}", l.field);
        u.push(l);
    }
    p.last_will = Some(will);
}

fn connect_v5(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    let at = |key: &str| duplicated(node, key);
    let v5 = &mut p.mqtt5;
    if let Some(secs) = number(node, &at("sessionExpiryInterval"), u) {
        v5.session_expiry = secs;
    }
    v5.receive_maximum = number(node, &at("receiveMaximum"), u);
    v5.maximum_packet_size = number(node, &at("maximumPacketSize"), u);
    if let Some(n) = number(node, &at("topicAliasMaximum"), u) {
        v5.topic_alias_maximum = n;
    }
    if let Some(on) = flag(node, &at("requestResponseInformation"), u) {
        v5.request_response_information = on;
    }
    if let Some(on) = flag(node, &at("requestProblemInformation"), u) {
        v5.request_problem_information = on;
    }
    v5.user_properties = user_properties(node, &at("userProperties"));
    // Enhanced authentication is left to the report (once, under `properties`).
    for key in ["authenticationMethod", "authenticationData"] {
        at(key);
    }
}

/// Where `key` is read: `properties.key` when the file has it (its flat copy is then marked
/// as the same value), else the flat `key` of older exports.
fn duplicated(node: &Node, key: &str) -> String {
    let nested = format!("properties.{key}");
    if node.get(&nested).is_some() {
        node.mark_all(&[key]);
        nested
    } else {
        key.to_owned()
    }
}

/// `{"name": "value"}` or `{"name": ["a", "b"]}` as MQTT user properties, in file order.
fn user_properties(node: &Node, path: &str) -> Vec<UserProperty> {
    let Some(map) = node.get(path) else { return Vec::new() };
    map.mark();
    let mut out = Vec::new();
    for entry in &map.children {
        let values: Vec<&str> = if entry.children.is_empty() {
            vec![entry.text.as_str()]
        } else {
            entry.children.iter().map(|v| v.text.as_str()).collect()
        };
        out.extend(values.into_iter().map(|v| UserProperty { name: entry.name.clone(), value: v.to_owned() }));
    }
    out
}
