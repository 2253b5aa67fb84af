//! QoS flows, delivery QoS, overlapping subscriptions, retained messages, the in-flight window.

mod support;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{Packet, QoS, QosPid, SubAckCode, TopicFilter, UnsubAck, Unsubscribe, decode_header};
use support::{RawClient, TestBroker, connect_packet, pid, publish};
use tokio::io::ReadBuf;

#[tokio::test]
async fn qos_1_and_2_flows_are_acknowledged_to_the_publisher() {
    let broker = TestBroker::start().await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("a", b"1", QosPid::AtLeastOnce(pid(10)), false)).await;
    assert_eq!(p.recv().await, Packet::PubAck(pid(10).into()));
    p.send(publish("a", b"2", QosPid::ExactlyOnce(pid(11)), false)).await;
    assert_eq!(p.recv().await, Packet::PubRec(pid(11).into()));
    p.send(Packet::PubRel(pid(11).into())).await;
    assert_eq!(p.recv().await, Packet::PubComp(pid(11).into()));
    broker.stop().await;
}

#[tokio::test]
async fn delivery_is_at_the_lower_of_publish_and_subscription_qos() {
    let broker = TestBroker::start().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    assert_eq!(s.subscribe(&[("q1", QoS::AtLeastOnce)]).await, [SubAckCode::Granted(QoS::AtLeastOnce)]);
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("q1", b"hi", QosPid::ExactlyOnce(pid(1)), false)).await;
    assert_eq!(p.recv().await, Packet::PubRec(pid(1).into()));
    p.send(publish("q1", b"lo", QosPid::AtMostOnce, false)).await;
    p.sync().await;
    let hi = s.recv_publish().await;
    assert_eq!(hi.qos(), QoS::AtLeastOnce);
    s.send(Packet::PubAck(hi.qos_pid.pid().unwrap().into())).await;
    assert_eq!(s.recv_publish().await.qos(), QoS::AtMostOnce);
    broker.stop().await;
}

#[tokio::test]
async fn overlapping_subscriptions_deliver_one_copy_at_the_maximum_qos() {
    let broker = TestBroker::start().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("PV/#", QoS::AtMostOnce), ("PV/data", QoS::ExactlyOnce), ("+/data", QoS::AtLeastOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("PV/data", b"4.2", QosPid::ExactlyOnce(pid(1)), false)).await;
    assert_eq!(p.recv().await, Packet::PubRec(pid(1).into()));
    let got = s.recv_publish().await;
    assert_eq!(got.qos(), QoS::ExactlyOnce, "[MQTT-3.3.5-1] the maximum QoS of the matches");
    s.send(Packet::PubRec(got.qos_pid.pid().unwrap().into())).await;
    assert_eq!(s.recv().await, Packet::PubRel(got.qos_pid.pid().unwrap().into()));
    assert!(s.sync().await.is_empty(), "exactly one copy");
    broker.stop().await;
}

#[tokio::test]
async fn retained_messages_are_stored_replaced_and_cleared() {
    let broker = TestBroker::start().await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("PV/sunshine", b"no", QosPid::AtLeastOnce(pid(1)), true)).await;
    p.recv().await;
    p.send(publish("PV/sunshine", b"yes", QosPid::AtLeastOnce(pid(2)), true)).await;
    p.recv().await;

    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("PV/+", QoS::AtLeastOnce)]).await;
    let retained = s.recv_publish().await;
    assert_eq!((&retained.payload[..], retained.retain), (&b"yes"[..], true), "the newest, with RETAIN=1");
    s.send(Packet::PubAck(retained.qos_pid.pid().unwrap().into())).await;

    p.send(publish("PV/sunshine", b"no", QosPid::AtLeastOnce(pid(3)), true)).await;
    p.recv().await;
    let live = s.recv_publish().await;
    assert!(!live.retain, "[MQTT-3.3.1-9] live subscribers get RETAIN=0");
    s.send(Packet::PubAck(live.qos_pid.pid().unwrap().into())).await;

    p.send(publish("PV/sunshine", b"", QosPid::AtLeastOnce(pid(4)), true)).await;
    p.recv().await;
    let mut late = RawClient::connect(broker.addr, "late").await;
    late.subscribe(&[("PV/#", QoS::AtMostOnce)]).await;
    assert!(late.sync().await.is_empty(), "[MQTT-3.3.1-10] an empty retained message clears the topic");
    broker.stop().await;
}

#[tokio::test]
async fn subscribing_again_replaces_the_subscription_and_resends_retained() {
    let broker = TestBroker::start().await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("t", b"r", QosPid::ExactlyOnce(pid(1)), true)).await;
    p.recv().await;
    p.send(Packet::PubRel(pid(1).into())).await;
    p.recv().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("t", QoS::AtMostOnce)]).await;
    assert_eq!(s.recv_publish().await.qos(), QoS::AtMostOnce);
    s.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    let again = s.recv_publish().await;
    assert!(again.retain);
    assert_eq!(again.qos(), QoS::AtLeastOnce, "the new subscription QoS applies");
    s.send(Packet::PubAck(again.qos_pid.pid().unwrap().into())).await;
    p.send(publish("t", b"live", QosPid::AtLeastOnce(pid(2)), false)).await;
    p.recv().await;
    let live = s.recv_publish().await;
    assert_eq!(live.qos(), QoS::AtLeastOnce);
    s.send(Packet::PubAck(live.qos_pid.pid().unwrap().into())).await;
    assert!(s.sync().await.is_empty(), "one subscription, one copy");
    broker.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_does_not_acknowledge_gets_at_most_max_inflight_messages() {
    let broker = TestBroker::with(|c| c.max_inflight_messages = 2).await;
    let mut s = RawClient::connect(broker.addr, "slow").await;
    s.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    for i in 1..=5 {
        p.send(publish("t", &[i], QosPid::AtLeastOnce(pid(u16::from(i))), false)).await;
        assert_eq!(p.recv().await, Packet::PubAck(pid(u16::from(i)).into()));
    }
    let first = s.sync().await;
    assert_eq!(first.len(), 2, "{first:?}");
    let Packet::Publish(one) = &first[0] else { panic!() };
    s.send(Packet::PubAck(one.qos_pid.pid().unwrap().into())).await;
    let next = s.recv_publish().await;
    assert_eq!(&next.payload[..], &[3], "order is kept");
    broker.stop().await;
}

#[tokio::test]
async fn a_repeated_qos2_publish_is_delivered_once() {
    let broker = TestBroker::start().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("t", QoS::AtMostOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("t", b"once", QosPid::ExactlyOnce(pid(5)), false)).await;
    assert_eq!(p.recv().await, Packet::PubRec(pid(5).into()));
    let mut dup = publish("t", b"once", QosPid::ExactlyOnce(pid(5)), false);
    if let Packet::Publish(d) = &mut dup {
        d.dup = true;
    }
    p.send(dup).await;
    assert_eq!(p.recv().await, Packet::PubRec(pid(5).into()));
    p.send(Packet::PubRel(pid(5).into())).await;
    assert_eq!(p.recv().await, Packet::PubComp(pid(5).into()));
    assert_eq!(&s.recv_publish().await.payload[..], b"once");
    assert!(s.sync().await.is_empty(), "the resend was not routed again");
    broker.stop().await;
}

#[tokio::test]
async fn dollar_topics_are_not_matched_by_a_leading_wildcard() {
    let broker = TestBroker::start().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("#", QoS::AtMostOnce), ("+/x", QoS::AtMostOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("$app/x", b"hidden", QosPid::AtLeastOnce(pid(1)), false)).await;
    p.recv().await;
    p.send(publish("app/x", b"seen", QosPid::AtLeastOnce(pid(2)), false)).await;
    p.recv().await;
    assert_eq!(&s.recv_publish().await.payload[..], b"seen");
    assert!(s.sync().await.is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn unsubscribe_stops_delivery() {
    let broker = TestBroker::start().await;
    let mut s = RawClient::connect(broker.addr, "sub").await;
    s.subscribe(&[("t", QoS::AtMostOnce)]).await;
    let filters = vec![TopicFilter::new("t").unwrap()];
    s.send(Packet::Unsubscribe(Unsubscribe { pid: pid(2), properties: Properties::default(), filters })).await;
    assert_eq!(s.recv().await, Packet::UnsubAck(UnsubAck::new(pid(2))));
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("t", b"x", QosPid::AtLeastOnce(pid(1)), false)).await;
    p.recv().await;
    assert!(s.sync().await.is_empty());
    broker.stop().await;
}

/// The broker's end of a pipe that notes, in a list shared by several connections, the type of
/// every packet the broker writes to it, in the order of the writes.
struct Recorder {
    inner: tokio::io::DuplexStream,
    name: &'static str,
    writes: Arc<Mutex<Vec<(&'static str, u8)>>>,
}

impl tokio::io::AsyncRead for Recorder {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Recorder {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            let mut at = 0;
            while let Ok(Some(h)) = decode_header(&buf[at..n]) {
                self.writes.lock().unwrap().push((self.name, buf[at] >> 4));
                at += h.header_len + h.remaining_length;
            }
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn subscribers_get_a_message_before_its_publisher_gets_the_acknowledgement() {
    // A publisher told "delivered" first is woken twice per message; on a busy core the second
    // wake-up is the one that waits, so the broker writes the delivery first.
    let broker = TestBroker::start().await;
    let writes = Arc::new(Mutex::new(Vec::new()));
    let client = |name| {
        let (client, server) = tokio::io::duplex(1 << 16);
        broker.serve(Recorder { inner: server, name, writes: writes.clone() });
        RawClient::over(client)
    };
    let (mut sub, mut publisher) = (client("sub"), client("pub"));
    sub.handshake(connect_packet("sub", true, 0)).await;
    sub.subscribe(&[("t", QoS::ExactlyOnce)]).await;
    publisher.handshake(connect_packet("pub", true, 0)).await;
    for (qos_pid, answer, ack) in [
        (QosPid::AtLeastOnce(pid(1)), Packet::PubAck(pid(1).into()), 4),
        (QosPid::ExactlyOnce(pid(2)), Packet::PubRec(pid(2).into()), 5),
    ] {
        writes.lock().unwrap().clear();
        publisher.send(publish("t", b"x", qos_pid, false)).await;
        assert_eq!(publisher.recv().await, answer);
        assert_eq!(sub.recv_publish().await.payload.as_ref(), b"x");
        assert_eq!(*writes.lock().unwrap(), [("sub", 3), ("pub", ack)], "{qos_pid:?}");
    }
    broker.stop().await;
}
