//! The packets a bridge opens its two sessions with, from its config: the CONNECTs (Mosquitto's
//! client ids, the bridge bit, the notification will) and the SUBSCRIBEs of its `topic` lines.

use bytes::Bytes;

use super::relay::Relay;
use crate::codec::v5::{Properties, Property};
use crate::codec::{
    Connect, LastWill, Packet, Protocol, QoS, RetainHandling, SubOptions, Subscribe, TopicFilter, TopicName,
    Unsubscribe,
};
use crate::config::bridge::BridgeConfig;

/// A session that outlives every connection (MQTT 5's largest Session Expiry Interval).
const FOREVER: u32 = u32::MAX;

/// The CONNECT to the remote broker. `private`: set the bridge bit (try_private, not refused
/// yet; MQTT 3.1 and 3.1.1 only).
pub fn remote_connect(b: &BridgeConfig, private: bool) -> Connect {
    let v5 = b.protocol.is_v5();
    let mut properties = Vec::new();
    if v5 && !b.clean_session {
        properties.push(Property::SessionExpiryInterval(FOREVER));
    }
    let will = (b.notifications && !b.notifications_local_only)
        .then(|| TopicName::new(b.state_topic()).ok())
        .flatten()
        .map(|topic| LastWill {
            topic,
            payload: Bytes::from_static(b"0"),
            qos: QoS::AtLeastOnce,
            retain: b.outgoing_retain,
            properties: Properties::default(),
        });
    Connect {
        protocol: b.protocol,
        bridge: private && !v5,
        clean_session: b.clean_session,
        keep_alive: b.keepalive,
        properties: Properties::from_vec(properties),
        client_id: b.remote_client_id(),
        will,
        username: b.remote_username.clone(),
        password: b.remote_password.as_ref().map(|p| Bytes::copy_from_slice(p.expose().as_bytes())),
    }
}

/// The CONNECT of the bridge's own session on this broker: MQTT 5 (for No Local), no
/// keepalive (in process), a session kept while the remote is away unless
/// `local_cleansession true`.
pub fn local_connect(b: &BridgeConfig, clean: bool, window: u16) -> Connect {
    let expiry = if b.local_clean() { 0 } else { FOREVER };
    let mut properties = vec![Property::SessionExpiryInterval(expiry)];
    if let Some(window) = std::num::NonZeroU16::new(window) {
        properties.push(Property::ReceiveMaximum(window));
    }
    Connect {
        protocol: Protocol::V5,
        bridge: false,
        clean_session: clean,
        keep_alive: 0,
        properties: Properties::from_vec(properties),
        client_id: b.local_client_id(),
        will: None,
        username: b.local_username.clone(),
        password: b.local_password.as_ref().map(|p| Bytes::copy_from_slice(p.expose().as_bytes())),
    }
}

/// The local SUBSCRIBE of the `out` and `both` lines: No Local, so that what came in on a
/// `both` line does not go back out; Retain As Published, so a retained message stays
/// retained on the remote. `retained`: whether the broker sends its retained messages now.
pub fn local_subscribe(b: &BridgeConfig, relay: &mut Relay, retained: bool) -> Option<Packet> {
    let handling = if retained { RetainHandling::OnSubscribe } else { RetainHandling::Never };
    let filters = filters(
        b,
        |t| t.direction.goes_out().then(|| t.local_filter()),
        |qos| SubOptions { qos, no_local: true, retain_as_published: true, retain_handling: handling },
    );
    (!filters.is_empty())
        .then(|| Packet::Subscribe(Subscribe { pid: relay.own_pid(), properties: Properties::default(), filters }))
}

/// The remote SUBSCRIBEs of the `in` and `both` lines, one per line as Mosquitto sends them
/// (MQTT 5: No Local and Retain As Published, as Mosquitto's MQTT 5 bridges ask).
pub fn remote_subscribes(b: &BridgeConfig, relay: &mut Relay) -> Vec<Packet> {
    let v5 = b.protocol.is_v5();
    let options =
        |qos| SubOptions { qos, no_local: v5, retain_as_published: v5, retain_handling: RetainHandling::OnSubscribe };
    filters(b, |t| t.direction.comes_in().then(|| t.remote_filter()), options)
        .into_iter()
        .map(|f| {
            Packet::Subscribe(Subscribe { pid: relay.own_pid(), properties: Properties::default(), filters: vec![f] })
        })
        .collect()
}

/// `bridge_attempt_unsubscribe`: a remote UNSUBSCRIBE per `out`-only line, in case an older
/// config subscribed it in the remote session.
pub fn remote_unsubscribes(b: &BridgeConfig, relay: &mut Relay) -> Vec<Packet> {
    if !b.attempt_unsubscribe {
        return Vec::new();
    }
    b.topics
        .iter()
        .filter(|t| !t.direction.comes_in())
        .filter_map(|t| TopicFilter::new(t.remote_filter()).ok())
        .map(|f| {
            Packet::Unsubscribe(Unsubscribe {
                pid: relay.own_pid(),
                properties: Properties::default(),
                filters: vec![f],
            })
        })
        .collect()
}

fn filters(
    b: &BridgeConfig,
    pick: impl Fn(&crate::config::bridge::BridgeTopic) -> Option<String>,
    options: impl Fn(QoS) -> SubOptions,
) -> Vec<(TopicFilter, SubOptions)> {
    b.topics.iter().filter_map(|t| Some((TopicFilter::new(pick(t)?).ok()?, options(t.qos)))).collect()
}
