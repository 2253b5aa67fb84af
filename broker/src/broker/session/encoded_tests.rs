//! A QoS 0 PUBLISH encoded once for several subscribers (encoded.rs): every subscriber writes
//! exactly the bytes it wrote when each encoded its own packet, whatever its protocol, mount
//! point, topic aliases, Maximum Packet Size or Subscription Identifiers.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::BytesMut;

use super::*;
use crate::codec::v5::PacketKind;

/// The kinds of connection a routed message meets, each built afresh for each run.
const KINDS: &[&str] = &["v311", "v31", "v5", "v5-alias", "v5-small", "v311-mounted", "v5-ids", "v311-journal"];

fn session(kind: &str, n: usize) -> Session {
    let mut s = Session::new(format!("{kind}-{n}").into(), true, Limits::NONE);
    let (protocol, connect) = match kind {
        "v31" => (Protocol::V31, vec![]),
        "v5" | "v5-ids" => (Protocol::V5, vec![]),
        "v5-alias" => (Protocol::V5, vec![Property::TopicAliasMaximum(4)]),
        // Takes the short message only.
        "v5-small" => (Protocol::V5, vec![Property::MaximumPacketSize(NonZeroU32::new(40).unwrap())]),
        _ => (Protocol::V311, vec![]),
    };
    s.set_client(protocol, &Properties::new(PacketKind::Connect, connect).unwrap());
    if kind == "v311-mounted" {
        s.mount = MountPoint::of(Some("lab1/"));
    }
    s.attach(Link { id: 1, wake: Arc::new(Wake::default()) });
    s
}

fn ids(kind: &str) -> Vec<NonZeroU32> {
    if kind == "v5-ids" { vec![NonZeroU32::new(7).unwrap()] } else { vec![] }
}

fn messages() -> Vec<Message> {
    let topic = |t: &str| TopicName::new(t).unwrap();
    let with = |properties: Vec<Property>| Properties::new(PacketKind::PublishToServer, properties).unwrap();
    let mut expiring = Message::new(topic("PV/data"), Bytes::from_static(b"1.5"), QoS::AtMostOnce, false);
    expiring.properties = with(vec![Property::MessageExpiryInterval(60)]);
    let expiring = expiring.arrived();
    vec![
        Message::new(topic("PV/data"), Bytes::from_static(b"2.4"), QoS::AtMostOnce, false),
        Message::new(topic("lab1/PV/sunshine"), Bytes::from_static(b"yes"), QoS::AtMostOnce, true),
        Message {
            properties: with(vec![
                Property::ContentType("application/json".into()),
                Property::UserProperty("unit".into(), "%".into()),
            ]),
            ..Message::new(topic("lamp/cmd"), Bytes::from(vec![b'x'; 300]), QoS::AtMostOnce, false)
        },
        expiring,
        // Larger than what is shared: each subscriber encodes its own.
        Message::new(topic("big"), Bytes::from(vec![0; 20_000]), QoS::AtMostOnce, false),
    ]
}

/// How the shared encodings are sealed: after each message (a message routed outside a batch)
/// or once after all of them (a batch under one lock).
#[derive(Clone, Copy, PartialEq)]
enum Seal {
    EachMessage,
    Batch,
}

fn seal(once: &mut EncodedOnce, sessions: &mut [Session]) {
    once.seal(|client, from, bytes| {
        if let Some(s) = sessions.iter_mut().find(|s| &*s.client_id == client) {
            s.seal_pending(from, bytes);
        }
    });
}

/// What each of `kinds` writes for `messages`, each message routed to the kinds in order,
/// through one [`EncodedOnce`] (`shared`) or through [`Session::deliver`]; with how many
/// shared entries its outbox held.
fn written(kinds: &[&str], messages: &[Message], shared: Option<Seal>) -> Vec<(String, Vec<u8>, usize)> {
    let mut sessions: Vec<Session> = kinds.iter().enumerate().map(|(n, k)| session(k, n)).collect();
    // A persistent session's packets wait in the journal, which must keep them.
    let mut journals = Vec::new();
    for (kind, s) in kinds.iter().zip(&mut sessions) {
        if kind.ends_with("journal") {
            let (journal, entries) = Journal::channel();
            s.set_journal(Some(journal));
            journals.push(entries);
        }
    }
    let mut once = EncodedOnce::default();
    for message in messages {
        once.clear();
        for (kind, s) in kinds.iter().zip(&mut sessions) {
            // Live subscribers get RETAIN=0 unless they asked for Retain As Published: here
            // the retained message goes out with RETAIN=1, a key of its own.
            if shared.is_some() {
                s.deliver_routed(message, QoS::AtMostOnce, message.retain, &ids(kind), &mut once);
            } else {
                s.deliver(message, QoS::AtMostOnce, message.retain, &ids(kind));
            }
        }
        if shared == Some(Seal::EachMessage) {
            seal(&mut once, &mut sessions);
        }
    }
    seal(&mut once, &mut sessions);
    kinds
        .iter()
        .zip(&mut sessions)
        .map(|(kind, s)| {
            assert!(!s.outbox.iter().any(|o| matches!(o, Outbound::Pending(_))), "{kind}: a range left unsealed");
            let shared = s.outbox.iter().filter(|o| matches!(o, Outbound::Encoded(_))).count();
            let mut buf = BytesMut::new();
            s.write_outbox(&mut buf);
            ((*kind).to_owned(), buf.to_vec(), shared)
        })
        .collect()
}

#[test]
fn every_subscriber_writes_the_bytes_it_would_encode_itself() {
    let messages = messages();
    // Each kind first, last and in between, and twice in a row.
    for first in 0..KINDS.len() {
        let mut kinds: Vec<&str> = KINDS[first..].iter().chain(&KINDS[..first]).copied().collect();
        kinds.push(kinds[0]);
        let own = written(&kinds, &messages, None);
        for how in [Seal::EachMessage, Seal::Batch] {
            let shared = written(&kinds, &messages, Some(how));
            for ((kind, expected, _), (_, got, _)) in own.iter().zip(&shared) {
                assert!(!expected.is_empty() || kind == "v311-journal", "{kind} wrote nothing");
                assert_eq!(got, expected, "{kind}, starting with {}", kinds[0]);
            }
        }
    }
}

#[test]
fn only_subscribers_that_receive_the_same_bytes_share_them() {
    let messages = messages();
    let kinds = ["v311", "v31", "v311", "v5", "v5", "v5-alias", "v5-small", "v311-mounted", "v5-ids", "v311-journal"];
    let shared: Vec<(String, usize)> = written(&kinds, &messages, Some(Seal::EachMessage))
        .into_iter()
        .map(|(kind, _, shared)| (kind, shared))
        .collect();
    // Three messages can be shared (not the one with an expiry, nor the large one). The first
    // subscriber of each protocol family encodes its own; 3.1 and 3.1.1 send the same bytes.
    // The small client takes two of them: the third is larger than its Maximum Packet Size.
    let expected = [
        ("v311", 0),
        ("v31", 3),
        ("v311", 3),
        ("v5", 0),
        ("v5", 3),
        ("v5-alias", 0),
        ("v5-small", 2),
        ("v311-mounted", 0),
        ("v5-ids", 0),
        ("v311-journal", 0),
    ];
    let expected: Vec<(String, usize)> = expected.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    assert_eq!(shared, expected);
}

#[test]
fn a_topic_alias_is_still_given_to_a_client_that_takes_them() {
    let messages = messages();
    let shared = written(&["v311", "v5-alias", "v5-alias"], &messages[..1], Some(Seal::Batch));
    let alias = Property::TopicAlias(NonZeroU16::new(1).unwrap());
    for (kind, bytes, _) in &shared[1..] {
        let Ok(crate::codec::Decoded::Packet(Packet::Publish(p), _)) =
            crate::codec::decode(bytes, usize::MAX, Protocol::V5)
        else {
            panic!("{kind}: no PUBLISH in {bytes:?}")
        };
        assert!(p.properties.as_slice().contains(&alias), "{kind}: {p:?}");
    }
}

#[test]
fn a_batch_of_messages_goes_to_each_subscriber_as_one_shared_range() {
    let topic = TopicName::new("PV/data").unwrap();
    let messages: Vec<Message> = (0..10u8)
        .map(|n| Message::new(topic.clone(), Bytes::from(vec![b'0' + n; 3]), QoS::AtMostOnce, false))
        .collect();
    let kinds = ["v311", "v311", "v31"];
    let own = written(&kinds, &messages, None);
    let batch = written(&kinds, &messages, Some(Seal::Batch));
    let each = written(&kinds, &messages, Some(Seal::EachMessage));
    for ((own, batch), each) in own.iter().zip(&batch).zip(&each) {
        assert_eq!(batch.1, own.1, "{}", own.0);
        assert_eq!(each.1, own.1, "{}", own.0);
    }
    // The first subscriber gets packets of its own; the others one range for all ten, or one
    // per message when each is sealed on its own.
    let entries = |w: &[(String, Vec<u8>, usize)]| w.iter().map(|(_, _, n)| *n).collect::<Vec<_>>();
    assert_eq!(entries(&batch), [0, 1, 1]);
    assert_eq!(entries(&each), [0, 10, 10]);
}

#[test]
fn a_subscriber_of_a_few_of_a_batchs_messages_holds_a_copy_of_its_own() {
    let message = |topic: &str, n: u8| {
        Message::new(TopicName::new(topic).unwrap(), Bytes::from(vec![n; 50]), QoS::AtMostOnce, false)
    };
    // Nine PV/data messages to the first two subscribers, one lamp/state among them to the
    // first and the third (the first of each gets a packet of its own).
    let mut sessions: Vec<Session> = (0..3).map(|n| session("v311", n)).collect();
    let mut once = EncodedOnce::default();
    for n in 0..10u8 {
        let (topic, to) = if n == 4 { ("lamp/state", [0, 2]) } else { ("PV/data", [0, 1]) };
        let m = message(topic, n);
        once.clear();
        for at in to {
            sessions[at].deliver_routed(&m, QoS::AtMostOnce, false, &[], &mut once);
        }
    }
    seal(&mut once, &mut sessions);
    let held: Vec<Vec<(u32, usize, usize)>> = sessions
        .iter()
        .map(|s| {
            s.outbox
                .iter()
                .filter_map(|o| match o {
                    Outbound::Encoded(e) => Some((e.publishes(), e.bytes().len(), e.held_len())),
                    _ => None,
                })
                .collect()
        })
        .collect();
    // PV/data's packets take 61 bytes, lamp/state's 64: the sealed buffer holds 613. The
    // second subscriber's two ranges (before and after lamp/state) share it; the third's
    // one message is a copy of its own.
    assert_eq!(held, [vec![], vec![(4, 4 * 61, 613), (5, 5 * 61, 613)], vec![(1, 64, 64)]]);
}
