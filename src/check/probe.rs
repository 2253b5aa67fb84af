//! The MQTT steps of the self-test: CONNECT, SUBSCRIBE to a topic of its own, PUBLISH at QoS 1
//! and wait for the message to come back. Packets are written and read with the broker crate's
//! codec, so a broker's answer is reported exactly (and malformed answers by the spec rule).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mqtt_lab_broker::codec::v5::PropertyId;
use mqtt_lab_broker::codec::{
    Ack, Connect, ConnectReturnCode, Decoded, PacketId, Protocol, Publish, QoS, QosPid, SubAckCode, Subscribe,
    TopicFilter, TopicName, decode,
    v5::{PacketKind, Properties, Property},
};
use mqtt_lab_broker::codec::{ConnAck, Packet, SubAck};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{CheckOptions, Step, check_client_id};
use crate::connection::ConnectSettings;
use crate::connection::explain_connack;
use crate::connection::transport::Stream;

/// Reads and writes whole packets; every wait is bounded by the profile's connect timeout.
struct Wire {
    stream: Box<dyn Stream>,
    buf: BytesMut,
    timeout: Duration,
    /// The protocol of the CONNECT sent: packets are encoded and decoded in it.
    protocol: Protocol,
}

impl Wire {
    async fn send(&mut self, packet: Packet) -> Result<(), String> {
        let bytes =
            packet.to_bytes(self.protocol).map_err(|e| format!("cannot encode {:?}: {e}", packet.packet_type()))?;
        self.stream.write_all(&bytes).await.map_err(|e| format!("the connection broke while sending: {e}"))?;
        self.stream.flush().await.map_err(|e| format!("the connection broke while sending: {e}"))
    }

    /// The next packet, or `None` when `deadline` passes first; `waiting_for` names it in errors.
    async fn next_before(&mut self, deadline: Instant, waiting_for: &str) -> Result<Option<Packet>, String> {
        loop {
            match decode(&self.buf, usize::MAX, self.protocol) {
                Ok(Decoded::Packet(packet, len)) => {
                    let _ = self.buf.split_to(len);
                    return Ok(Some(packet));
                }
                Ok(Decoded::Incomplete) => {}
                Err(e) => return Err(format!("the broker sent a malformed packet instead of {waiting_for}: {e}")),
            }
            match tokio::time::timeout_at(deadline.into(), self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => return Err(format!("the broker closed the connection instead of sending {waiting_for}")),
                Ok(Err(e)) => return Err(format!("the connection broke while waiting for {waiting_for}: {e}")),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next packet within the timeout; its absence is an error naming what was awaited.
    async fn next(&mut self, waiting_for: &str) -> Result<Packet, String> {
        let timeout = self.timeout;
        self.next_before(Instant::now() + timeout, waiting_for)
            .await?
            .ok_or_else(|| format!("no {waiting_for} within {} s: the broker does not answer", timeout.as_secs()))
    }
}

const fn protocol(settings: &ConnectSettings) -> Protocol {
    settings.version.protocol()
}

/// The profile's MQTT 5 CONNECT properties, so that a broker refusing one of them fails this
/// step as the app's connection would. Two are left out on purpose: Session Expiry (the test's
/// session must end with it, not linger on the broker) and Topic Alias Maximum (the round trip
/// matches the message by its topic name, which an alias would replace).
fn connect_properties(settings: &ConnectSettings) -> Result<Properties, String> {
    if !settings.version.is_v5() {
        return Ok(Properties::default());
    }
    let v5 = &settings.v5;
    let mut list = Vec::new();
    if let Some(n) = v5.receive_maximum {
        let n = std::num::NonZeroU16::new(n)
            .ok_or("Receive Maximum 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.3]")?;
        list.push(Property::ReceiveMaximum(n));
    }
    if let Some(n) = v5.maximum_packet_size {
        let n = std::num::NonZeroU32::new(n)
            .ok_or("Maximum Packet Size 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.4]")?;
        list.push(Property::MaximumPacketSize(n));
    }
    if v5.request_response_information {
        list.push(Property::RequestResponseInformation(true));
    }
    if !v5.request_problem_information {
        list.push(Property::RequestProblemInformation(false));
    }
    list.extend(v5.user_properties.iter().map(|u| Property::UserProperty(u.name.clone(), u.value.clone())));
    Properties::new(PacketKind::Connect, list).map_err(|e| format!("the profile's CONNECT properties: {e}"))
}

fn connect_packet(settings: &ConnectSettings, client_id: String) -> Result<Packet, String> {
    Ok(Packet::Connect(Box::new(Connect {
        bridge: false,
        protocol: protocol(settings),
        clean_session: true,
        keep_alive: u16::try_from(settings.keep_alive.as_secs()).unwrap_or(u16::MAX),
        properties: connect_properties(settings)?,
        client_id,
        // The self-test ends without DISCONNECT only if something breaks; no will is sent then.
        will: None,
        username: settings.username.clone(),
        password: settings.password.as_ref().map(|p| Bytes::copy_from_slice(p.as_bytes())),
    })))
}

/// What a CONNACK says, in words: the 3.1.1 explanation, and for MQTT 5 the reason code by
/// its name, the broker's reason string and the client id it assigned.
fn connack_outcome(ack: &ConnAck, client_id: &str, v5: bool) -> Result<String, String> {
    let string = |id| {
        ack.properties.get(id).and_then(|p| match p {
            Property::ReasonString(s) | Property::AssignedClientIdentifier(s) => Some(s.clone()),
            _ => None,
        })
    };
    if ack.code() == ConnectReturnCode::Accepted {
        let id = string(PropertyId::AssignedClientIdentifier).unwrap_or_else(|| client_id.to_owned());
        return Ok(if v5 {
            format!("accepted (CONNACK {}) as client id {id}, MQTT 5", ack.reason)
        } else {
            format!("accepted (CONNACK 0) as client id {id}")
        });
    }
    let explained = explain_connack(ack.code() as u8, client_id.contains('-'));
    if !v5 {
        return Err(explained);
    }
    let hint = explained.split_once("): ").map_or(explained.as_str(), |(_, rest)| rest);
    let said = string(PropertyId::ReasonString).map(|s| format!(" The broker says: {s}.")).unwrap_or_default();
    Err(format!("Refused: CONNACK reason {}.{said} {hint}", ack.reason))
}

const fn pid(n: u16) -> PacketId {
    match PacketId::new(n) {
        Some(p) => p,
        None => panic!("packet ids are not 0"),
    }
}

/// CONNECT, SUBSCRIBE, and the round trip; `step` records each and stops at the first failure.
pub(super) async fn mqtt_steps(
    stream: Box<dyn Stream>,
    settings: &ConnectSettings,
    options: &CheckOptions,
    step: &mut impl FnMut(Step, Instant, Result<String, String>) -> Result<(), Step>,
) -> Result<(), Step> {
    let mut wire = Wire {
        stream,
        buf: BytesMut::with_capacity(4096),
        timeout: settings.connect_timeout,
        protocol: protocol(settings),
    };
    let client_id = check_client_id(settings);

    let started = Instant::now();
    let connack = async {
        wire.send(connect_packet(settings, client_id.clone())?).await?;
        match wire.next("CONNACK").await? {
            Packet::ConnAck(a) => connack_outcome(&a, &client_id, settings.version.is_v5()),
            other => Err(format!("[MQTT-3.2.0-1] the broker answered CONNECT with {:?}", other.packet_type())),
        }
    };
    step(Step::Connect, started, connack.await)?;

    let topic = options.topic.clone().unwrap_or_else(|| format!("mqtt-lab/check/{client_id}"));
    let started = Instant::now();
    let subscribed = subscribe(&mut wire, &topic).await;
    step(Step::Subscribe, started, subscribed)?;

    let started = Instant::now();
    let round_trip = round_trip(&mut wire, &topic).await;
    let ok = round_trip.is_ok();
    let result = step(Step::RoundTrip, started, round_trip);
    if ok {
        let _ = wire.send(Packet::disconnect()).await;
    }
    result
}

async fn subscribe(wire: &mut Wire, topic: &str) -> Result<String, String> {
    let name = TopicName::new(topic).map_err(|e| format!("the test topic {topic:?}: {e}"))?;
    let filter = TopicFilter::new(name.as_str()).map_err(|e| format!("the test topic {topic:?}: {e}"))?;
    let filters = vec![(filter, QoS::AtLeastOnce.into())];
    wire.send(Packet::Subscribe(Subscribe { pid: pid(1), properties: Properties::default(), filters })).await?;
    // A retained message or a ping answer may come before the SUBACK; they are skipped.
    loop {
        if let Packet::SubAck(SubAck { codes, .. }) = wire.next("SUBACK").await? {
            return match codes.first() {
                Some(SubAckCode::Granted(q)) => Ok(format!("{topic} granted QoS {}", *q as u8)),
                _ => Err(format!(
                    "the broker refused the subscription to {topic} (SUBACK 0x80): its ACL does not let this user read it; test with a topic you may use"
                )),
            };
        }
    }
}

async fn round_trip(wire: &mut Wire, topic: &str) -> Result<String, String> {
    let name = TopicName::new(topic).map_err(|e| format!("the test topic {topic:?}: {e}"))?;
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let payload = Bytes::from(format!("mqtt-lab check {nonce}"));
    let sent = Instant::now();
    wire.send(Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtLeastOnce(pid(2)),
        retain: false,
        topic: name,
        payload: payload.clone(),
        properties: Properties::default(),
    }))
    .await?;
    let deadline = sent + wire.timeout;
    let (mut acked, mut received) = (false, None);
    while !acked || received.is_none() {
        let Some(packet) = wire.next_before(deadline, "the message back").await? else {
            let waited = wire.timeout.as_secs();
            return Err(if acked {
                format!(
                    "the broker acknowledged the message (PUBACK) but did not deliver it back within {waited} s: its ACL may forbid publishing or reading {topic}; test with a topic you may use"
                )
            } else {
                format!("no PUBACK within {waited} s: the broker does not answer")
            });
        };
        match packet {
            Packet::PubAck(Ack { pid: p, .. }) if p == pid(2) => acked = true,
            Packet::Publish(p) => {
                if let Some(id) = p.qos_pid.pid() {
                    wire.send(Packet::PubAck(id.into())).await?;
                }
                if p.topic.as_str() == topic && p.payload == payload {
                    received = Some((sent.elapsed(), p.qos()));
                }
            }
            _ => {}
        }
    }
    let (latency, qos) = received.unwrap_or_default();
    Ok(format!(
        "a QoS 1 message to {topic} came back in {:.1} ms (at QoS {})",
        latency.as_secs_f64() * 1000.0,
        qos as u8
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::{MqttVersion, UserProperty};
    use crate::profile::{ConnectV5, Profile};

    fn connect_of(profile: &Profile) -> Connect {
        let settings = profile.connect_settings(None).unwrap();
        let bytes = connect_packet(&settings, "c".into()).unwrap().to_bytes(settings.version.protocol()).unwrap();
        match decode(&bytes, usize::MAX, settings.version.protocol()) {
            Ok(Decoded::Packet(Packet::Connect(c), _)) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_mqtt5_connect_carries_the_profiles_properties_but_no_session_or_aliases() {
        let profile = Profile {
            version: MqttVersion::V5,
            mqtt5: ConnectV5 {
                session_expiry: 600,
                receive_maximum: Some(7),
                maximum_packet_size: Some(4096),
                topic_alias_maximum: 9,
                request_response_information: true,
                request_problem_information: false,
                user_properties: vec![UserProperty::new("room", "B12")],
            },
            ..Profile::default()
        };
        let connect = connect_of(&profile);
        let p = &connect.properties;
        assert_eq!(p.get(PropertyId::ReceiveMaximum), Some(&Property::ReceiveMaximum(7.try_into().unwrap())));
        assert_eq!(p.get(PropertyId::MaximumPacketSize), Some(&Property::MaximumPacketSize(4096.try_into().unwrap())));
        assert_eq!(p.get(PropertyId::RequestResponseInformation), Some(&Property::RequestResponseInformation(true)));
        assert_eq!(p.get(PropertyId::RequestProblemInformation), Some(&Property::RequestProblemInformation(false)));
        assert_eq!(p.user_properties().collect::<Vec<_>>(), [("room", "B12")]);
        assert!(p.get(PropertyId::SessionExpiryInterval).is_none(), "the test's session ends with it");
        assert!(p.get(PropertyId::TopicAliasMaximum).is_none());
        let v311 = connect_of(&Profile { version: MqttVersion::V311, ..profile });
        assert!(v311.properties.is_empty());
    }
}
