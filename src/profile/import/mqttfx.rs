//! MQTT.fx 1.7's configuration file (`mqttfx-config.xml`): `<configuration>` holds
//! `<connectionProfiles>`, one `<connectionProfile>` each, with `profileName`, `brokerAddress`,
//! `brokerPort` and `<connectionOptions>` (client id, credentials, timeouts, MQTT version, TLS
//! files), its predefined messages (`preDefinedMessages`) and recent topics. The names are those
//! MQTTk's MQTT.fx importer reads (github.com/matesh/mqttk, `mqtt_fx_config_parser.py`); the TLS
//! switch (`enableSSL`), protocol and last will (`lastWillAndTestament`) follow the labels of
//! MQTT.fx's profile editor and were not checked against a file MQTT.fx wrote: a field under
//! any other name is not lost, it is listed in the report.

use crate::connection::TlsVersion;
use crate::mqtt::{MqttVersion, Outgoing, Qos};

use super::tree::{self, Node};
use super::{Import, ImportError, ImportedProfile, Source, Unmapped, flag, number, problems};
use crate::profile::{Favourite, LastWillSettings, Profile, TlsMode};

pub(super) fn parse(text: &str) -> Result<Import, ImportError> {
    let root = tree::from_xml(text)?;
    let Some(config) = root.get("configuration") else {
        return Err(ImportError::Unknown(
            "an XML file without MQTT.fx's <configuration> element: choose mqttfx-config.xml".into(),
        ));
    };
    let list: Vec<&Node> =
        config.get("connectionProfiles").map(|l| l.all("connectionProfile").collect()).unwrap_or_default();
    if list.is_empty() {
        return Err(ImportError::Unknown("the MQTT.fx configuration has no connection profiles".into()));
    }
    let profiles = list.iter().enumerate().map(|(i, node)| profile(node, i)).collect();
    let mut unmapped = Vec::new();
    root.leftovers("", &|_| "an MQTT.fx setting outside the connection profiles".into(), &mut unmapped);
    Ok(Import { source: Source::MqttFx, profiles, unmapped })
}

/// The text of the first of `paths` that has one; all of them are marked as used.
fn first<'a>(node: &'a Node, paths: &[&str]) -> Option<&'a str> {
    paths.iter().filter_map(|p| node.take(p)).collect::<Vec<_>>().first().copied()
}

fn profile(node: &Node, index: usize) -> ImportedProfile {
    let mut unmapped = Vec::new();
    let u = &mut unmapped;
    let mut p = Profile {
        name: node.take("profileName").map_or_else(|| format!("MQTT.fx profile {}", index + 1), str::to_owned),
        host: node.take("brokerAddress").unwrap_or_default().to_owned(),
        client_id: first(node, &["connectionOptions.clientId", "clientId"]).unwrap_or_default().to_owned(),
        ..Profile::default()
    };
    if let Some(kind) = node.take("profileType").filter(|t| *t != "MQTT_BROKER") {
        u.push(Unmapped::new("profileType", kind, "MQTT Lab connects to MQTT brokers only".into()));
    }
    if let Some(port) = number(node, "brokerPort", u) {
        p.port = port;
    }
    let o = |key: &str| format!("connectionOptions.{key}");
    p.username = node.take(&o("userName")).map(str::to_owned);
    p.password = node.take(&o("password")).map(str::to_owned);
    if let Some(clean) = flag(node, &o("cleanSession"), u) {
        p.clean_session = clean;
    }
    if let Some(secs) = number(node, &o("connectionTimeout"), u) {
        p.connect_timeout_secs = secs;
    }
    if let Some(secs) = number(node, &o("keepAliveInterval"), u) {
        p.keep_alive_secs = secs;
    }
    if let Some(on) = flag(node, &o("autoReconnect"), u) {
        p.auto_reconnect = on;
    }
    if let Some(text) = node.take(&o("mqttVersion")) {
        match version(text) {
            Some(v) => p.version = v,
            None => u.push(Unmapped::new(&o("mqttVersion"), text, "not an MQTT version MQTT Lab knows".into())),
        }
    }
    tls(node, &mut p, u);
    will(node, &mut p, u);
    messages(node, &mut p, u);
    for topic in node.get("recentPublishTopics").into_iter().flat_map(|t| t.all("topic")) {
        let name = topic.take("name").or_else(|| Some(topic.text.as_str()).filter(|t| !t.is_empty()));
        topic.mark();
        if let Some(name) = name.filter(|n| !p.topic_history.iter().any(|t| t == n)) {
            p.topic_history.push(name.to_owned());
        }
    }
    for (i, topic) in node.get("recentSubscriptionTopics").into_iter().flat_map(|t| t.all("topic")).enumerate() {
        let name = topic.take("name").unwrap_or(topic.text.as_str()).to_owned();
        topic.mark();
        u.push(Unmapped::new(
            &format!("recentSubscriptionTopics.topic[{i}]"),
            &name,
            "MQTT Lab profiles keep no subscriptions: subscribe to it in the Subscribe panel".into(),
        ));
    }
    node.leftovers("", &|_| "no such setting in MQTT Lab".into(), u);
    node.mark();
    let problems = problems(&p);
    ImportedProfile { profile: p, unmapped, problems }
}

/// MQTT.fx writes Paho's names (`MQTT_3_1_1`); plain numbers are read too. Paho's default tries
/// 3.1.1 first.
fn version(text: &str) -> Option<MqttVersion> {
    match text.trim().to_ascii_uppercase().replace(['.', ' '], "_").trim_start_matches("MQTT_") {
        "3_1_1" | "4" | "V3_1_1" | "DEFAULT" | "USE_DEFAULT" | "0" => Some(MqttVersion::V311),
        "3_1" | "3" | "V3_1" => Some(MqttVersion::V31),
        "5" | "5_0" | "V5" => Some(MqttVersion::V5),
        _ => None,
    }
}

fn tls(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    let o = |key: &str| format!("connectionOptions.{key}");
    let on = [o("enableSSL"), o("sslEnabled")].iter().filter_map(|path| flag(node, path, u)).any(|on| on);
    let ca = node.get(&o("caFile")).map(|n| n.text.clone()).unwrap_or_default();
    let cert = node.get(&o("clientCertificateFile")).map(|n| n.text.clone()).unwrap_or_default();
    let key = node.get(&o("clientKeyFile")).map(|n| n.text.clone()).unwrap_or_default();
    // PEM is what MQTT Lab reads: "true" says so, "false" is listed.
    if let Some(pem) = flag(node, &o("pemFormatted"), u).filter(|pem| !pem) {
        u.push(Unmapped::new(&o("pemFormatted"), &pem.to_string(), "MQTT Lab reads PEM files only".into()));
    }
    let files = [o("caFile"), o("clientCertificateFile"), o("clientKeyFile")];
    if !on {
        // TLS off: the files are listed, so that none is lost.
        for (path, text) in files.iter().zip([&ca, &cert, &key]).filter(|(_, t)| !t.is_empty()) {
            u.push(Unmapped::new(path, text, "TLS is off in this MQTT.fx profile".into()));
        }
        node.mark_all(&files.each_ref().map(String::as_str));
        return;
    }
    node.mark_all(&files.each_ref().map(String::as_str));
    if let Some(secret) = node.take(&o("clientKeyPassword")) {
        u.push(Unmapped::new(
            &o("clientKeyPassword"),
            secret,
            "MQTT Lab reads unencrypted keys: write one with `openssl pkey -in KEY -out PLAIN.key`".into(),
        ));
    }
    p.tls = match (ca.is_empty(), cert.is_empty() || key.is_empty()) {
        (_, false) => TlsMode::ClientCertificate { ca_file: ca, cert_file: cert, key_file: key },
        (false, true) => TlsMode::SelfSignedCa { ca_file: ca },
        (true, true) => TlsMode::CaSigned,
    };
    if let Some(protocol) = node.take(&o("sslProtocol")) {
        match protocol.to_ascii_uppercase().as_str() {
            "TLSV1.2" => p.tls_version = TlsVersion::V1_2,
            "TLSV1.3" => p.tls_version = TlsVersion::V1_3,
            "TLS" => {}
            _ => u.push(Unmapped::new(&o("sslProtocol"), protocol, "MQTT Lab speaks TLS 1.2 and 1.3 only".into())),
        }
    }
}

/// The last will, in `<lastWillAndTestament>` (in the options or beside them) or as flat fields.
fn will(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    let base = ["connectionOptions.lastWillAndTestament", "lastWillAndTestament"]
        .into_iter()
        .find(|b| node.get(b).is_some())
        .unwrap_or("connectionOptions.lastWillAndTestament");
    let at = |key: &str| format!("{base}.{key}");
    let Some(topic) = first(node, &[&at("topic"), &at("lwtTopic"), "connectionOptions.lastWillTopic"]) else {
        return;
    };
    let message = first(node, &[&at("message"), &at("payload"), "connectionOptions.lastWillMessage"]).unwrap_or("");
    let mut w =
        LastWillSettings { topic: topic.to_owned(), message: message.to_owned(), ..LastWillSettings::default() };
    for path in [at("qos"), "connectionOptions.lastWillQos".to_owned()] {
        if let Some(level) = number::<u8>(node, &path, u) {
            match Qos::from_level(level) {
                Some(q) => w.qos = q,
                None => u.push(Unmapped::new(&path, &level.to_string(), "QoS is 0, 1 or 2".into())),
            }
        }
    }
    for path in [at("retained"), at("retain"), "connectionOptions.lastWillRetained".to_owned()] {
        if let Some(retain) = flag(node, &path, u) {
            w.retain = retain;
        }
    }
    p.last_will = Some(w);
}

/// Predefined messages (the clipboard) become favourites.
fn messages(node: &Node, p: &mut Profile, u: &mut Vec<Unmapped>) {
    for (i, m) in node.get("preDefinedMessages").into_iter().flat_map(|l| l.all("message")).enumerate() {
        let topic = m.take("topic.name").or_else(|| m.take("topic")).unwrap_or_default().to_owned();
        let name = m.take("name").map_or_else(|| topic.clone(), str::to_owned);
        let payload = m.take("payload").unwrap_or_default().to_owned();
        let mut where_ = Vec::new();
        let qos = number::<u8>(m, "qos", &mut where_).and_then(Qos::from_level).unwrap_or_default();
        let retain = flag(m, "retained", &mut where_).unwrap_or(false);
        let prefix = format!("preDefinedMessages.message[{i}]");
        for mut w in where_ {
            w.field = format!("{prefix}.{}", w.field);
            u.push(w);
        }
        m.leftovers(&prefix, &|_| "no such setting of a favourite in MQTT Lab".into(), u);
        m.mark();
        if topic.is_empty() {
            u.push(Unmapped::new(&prefix, &name, "a predefined message without a topic".into()));
            continue;
        }
        p.favourites.push(Favourite { name, message: Outgoing::new(topic, payload, qos, retain) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_paho_names_and_numbers() {
        assert_eq!(version("MQTT_3_1_1"), Some(MqttVersion::V311));
        assert_eq!(version("MQTT_3_1"), Some(MqttVersion::V31));
        assert_eq!(version("3.1"), Some(MqttVersion::V31));
        assert_eq!(version("5.0"), Some(MqttVersion::V5));
        assert_eq!(version("MQTT_9"), None);
    }

    #[test]
    fn an_xml_file_that_is_not_mqtt_fx_is_refused() {
        let e = parse("<settings/>").unwrap_err().to_string();
        assert!(e.contains("<configuration>"), "{e}");
        let e = parse("<configuration><connectionProfiles/></configuration>").unwrap_err().to_string();
        assert!(e.contains("no connection profiles"), "{e}");
    }
}
