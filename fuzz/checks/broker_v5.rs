//! What MQTT 5.0 adds to a packet, built from the fuzzer's bytes for the `codec_round_trip`
//! check: properties valid for the packet, reason codes the packet may carry, subscription
//! options, and AUTH. Only what the decoder accepts is built, so that a failed round trip is a
//! finding, not a packet the specification forbids.

use std::num::{NonZeroU16, NonZeroU32};

use arbitrary::{Arbitrary, Unstructured};
use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property, PropertyId, ReasonCode, ReasonPacket, Secret};
use mqtt_lab_broker::codec::{Auth, Packet, Protocol, QoS, RetainHandling, SubAckCode, SubOptions};

use super::{bytes, topic};

/// `packet` with MQTT 5.0 parts taken from `u`; a CONNECT becomes one of protocol level 5.
pub fn extend(u: &mut Unstructured<'_>, packet: Packet) -> arbitrary::Result<Packet> {
    Ok(match packet {
        Packet::Connect(mut c) => {
            c.protocol = Protocol::V5;
            c.properties = properties(u, PacketKind::Connect)?;
            if let Some(will) = &mut c.will {
                will.properties = properties(u, PacketKind::Will)?;
            }
            Packet::Connect(c)
        }
        Packet::ConnAck(mut a) => {
            a.reason = reason(u, ReasonPacket::ConnAck)?;
            a.session_present &= !a.reason.is_error();
            a.properties = properties(u, PacketKind::ConnAck)?;
            Packet::ConnAck(a)
        }
        Packet::Publish(mut p) => {
            p.properties = properties(u, PacketKind::PublishToClient)?;
            // A Topic Alias may stand for the topic [MQTT-3.3.2-8].
            if p.properties.get(PropertyId::TopicAlias).is_some() && u.arbitrary()? {
                p.topic = mqtt_lab_broker::codec::TopicName::alias_only();
            }
            Packet::Publish(p)
        }
        Packet::PubAck(mut a) => {
            (a.reason, a.properties) = (reason(u, ReasonPacket::PubAck)?, properties(u, PacketKind::PubAck)?);
            Packet::PubAck(a)
        }
        Packet::PubRec(mut a) => {
            (a.reason, a.properties) = (reason(u, ReasonPacket::PubRec)?, properties(u, PacketKind::PubRec)?);
            Packet::PubRec(a)
        }
        Packet::PubRel(mut a) => {
            (a.reason, a.properties) = (reason(u, ReasonPacket::PubRel)?, properties(u, PacketKind::PubRel)?);
            Packet::PubRel(a)
        }
        Packet::PubComp(mut a) => {
            (a.reason, a.properties) = (reason(u, ReasonPacket::PubComp)?, properties(u, PacketKind::PubComp)?);
            Packet::PubComp(a)
        }
        Packet::Subscribe(mut s) => {
            s.properties = properties(u, PacketKind::Subscribe)?;
            for (filter, options) in &mut s.filters {
                *options = sub_options(u, options.qos, filter.share().is_some())?;
            }
            Packet::Subscribe(s)
        }
        Packet::SubAck(mut s) => {
            s.properties = properties(u, PacketKind::SubAck)?;
            for code in &mut s.codes {
                if code.is_failure() {
                    let failures: Vec<ReasonCode> =
                        ReasonPacket::SubAck.codes().iter().copied().filter(|r| r.is_error()).collect();
                    *code = SubAckCode::Failure(*u.choose(&failures)?);
                }
            }
            Packet::SubAck(s)
        }
        Packet::Unsubscribe(mut s) => {
            s.properties = properties(u, PacketKind::Unsubscribe)?;
            Packet::Unsubscribe(s)
        }
        Packet::UnsubAck(mut a) => {
            a.properties = properties(u, PacketKind::UnsubAck)?;
            while a.reasons.len() < 8 && u.arbitrary()? {
                a.reasons.push(reason(u, ReasonPacket::UnsubAck)?);
            }
            Packet::UnsubAck(a)
        }
        Packet::Disconnect(mut d) => {
            d.reason = reason(u, ReasonPacket::Disconnect)?;
            d.properties = properties(u, PacketKind::Disconnect)?;
            Packet::Disconnect(d)
        }
        // PINGREQ and PINGRESP have nothing to add; their turn goes to AUTH, which always
        // carries an Authentication Method (3.15.2.2.2).
        Packet::PingReq | Packet::PingResp | Packet::Auth(_) => {
            let mut list = vec![Property::AuthenticationMethod(text(u)?)];
            let more = properties(u, PacketKind::Auth)?.into_vec();
            list.extend(more.into_iter().filter(|p| p.id() != PropertyId::AuthenticationMethod));
            let properties = Properties::new(PacketKind::Auth, list).map_err(|_| arbitrary::Error::IncorrectFormat)?;
            Packet::Auth(Auth { reason: reason(u, ReasonPacket::Auth)?, properties })
        }
    })
}

fn reason(u: &mut Unstructured<'_>, packet: ReasonPacket) -> arbitrary::Result<ReasonCode> {
    Ok(*u.choose(packet.codes())?)
}

fn sub_options(u: &mut Unstructured<'_>, qos: QoS, shared: bool) -> arbitrary::Result<SubOptions> {
    let retain_handling =
        *u.choose(&[RetainHandling::OnSubscribe, RetainHandling::OnNewSubscription, RetainHandling::Never])?;
    // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
    let no_local = !shared && u.arbitrary()?;
    Ok(SubOptions { qos, no_local, retain_as_published: u.arbitrary()?, retain_handling })
}

/// A string a property may hold: no U+0000 [MQTT-1.5.4-2].
fn text(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(String::arbitrary(u)?.replace('\0', ""))
}

/// Up to 6 properties a `kind` block may carry, each once but User Property (and Subscription
/// Identifier toward a client), or none when the choice breaks a rule of the block as a whole.
fn properties(u: &mut Unstructured<'_>, kind: PacketKind) -> arbitrary::Result<Properties> {
    let mut list: Vec<Property> = Vec::new();
    while list.len() < 6 && u.arbitrary()? {
        let (id, _) = *u.choose(kind.properties())?;
        if !kind.may_repeat(id) && list.iter().any(|p| p.id() == id) {
            continue;
        }
        list.push(property(u, id)?);
    }
    Properties::new(kind, list).map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn property(u: &mut Unstructured<'_>, id: PropertyId) -> arbitrary::Result<Property> {
    use Property as V;
    use PropertyId as P;
    let nonzero16 = |u: &mut Unstructured<'_>| -> arbitrary::Result<NonZeroU16> {
        NonZeroU16::new(u.int_in_range(1..=u16::MAX)?).ok_or(arbitrary::Error::IncorrectFormat)
    };
    let nonzero32 = |u: &mut Unstructured<'_>, max: u32| -> arbitrary::Result<NonZeroU32> {
        NonZeroU32::new(u.int_in_range(1..=max)?).ok_or(arbitrary::Error::IncorrectFormat)
    };
    Ok(match id {
        P::PayloadFormatIndicator => V::PayloadFormatIndicator(u.arbitrary()?),
        P::MessageExpiryInterval => V::MessageExpiryInterval(u.arbitrary()?),
        P::ContentType => V::ContentType(text(u)?),
        // A Response Topic is a topic name [MQTT-3.3.2-14].
        P::ResponseTopic => V::ResponseTopic(topic(u)?.as_str().to_owned()),
        P::CorrelationData => V::CorrelationData(bytes(u)?),
        P::SubscriptionIdentifier => V::SubscriptionIdentifier(nonzero32(u, 268_435_455)?),
        P::SessionExpiryInterval => V::SessionExpiryInterval(u.arbitrary()?),
        P::AssignedClientIdentifier => V::AssignedClientIdentifier(text(u)?),
        P::ServerKeepAlive => V::ServerKeepAlive(u.arbitrary()?),
        P::AuthenticationMethod => V::AuthenticationMethod(text(u)?),
        P::AuthenticationData => V::AuthenticationData(Secret(bytes(u)?)),
        P::RequestProblemInformation => V::RequestProblemInformation(u.arbitrary()?),
        P::WillDelayInterval => V::WillDelayInterval(u.arbitrary()?),
        P::RequestResponseInformation => V::RequestResponseInformation(u.arbitrary()?),
        P::ResponseInformation => V::ResponseInformation(text(u)?),
        P::ServerReference => V::ServerReference(text(u)?),
        P::ReasonString => V::ReasonString(text(u)?),
        P::ReceiveMaximum => V::ReceiveMaximum(nonzero16(u)?),
        P::TopicAliasMaximum => V::TopicAliasMaximum(u.arbitrary()?),
        P::TopicAlias => V::TopicAlias(nonzero16(u)?),
        P::MaximumQos => V::MaximumQos(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce])?),
        P::RetainAvailable => V::RetainAvailable(u.arbitrary()?),
        P::UserProperty => V::UserProperty(text(u)?, text(u)?),
        P::MaximumPacketSize => V::MaximumPacketSize(nonzero32(u, u32::MAX)?),
        P::WildcardSubscriptionAvailable => V::WildcardSubscriptionAvailable(u.arbitrary()?),
        P::SubscriptionIdentifiersAvailable => V::SubscriptionIdentifiersAvailable(u.arbitrary()?),
        P::SharedSubscriptionAvailable => V::SharedSubscriptionAvailable(u.arbitrary()?),
    })
}
