//! The inspector's colours, pixel by pixel: a CONNECT with will, user name and password, selected,
//! rendered on mesa's software Vulkan and compared with tests/snapshots/inspector_connect.png
//! (`UPDATE_SNAPSHOTS=1 cargo test --test inspector_snapshot` writes it again after a deliberate
//! change of the look); likewise a QoS 2 PUBLISH, a SUBSCRIBE, and MQTT 5.0's CONNECT and PUBLISH
//! with their properties (each property one colour, its length and value under its identifier).

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use mqtt_lab::connection::{Direction, Tap};
use mqtt_lab::model::PacketLog;
use mqtt_lab::ui::{InspectorView, packet_detail};
use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{Connect, LastWill, Packet, Protocol, QoS, TopicName};

#[test]
fn a_connect_is_coloured_field_by_field() {
    let connect = Packet::Connect(Box::new(Connect {
        bridge: false,
        protocol: Protocol::V311,
        clean_session: true,
        keep_alive: 60,
        properties: Properties::default(),
        client_id: "btsiot-client1".into(),
        will: Some(LastWill {
            topic: TopicName::new("btsiot/status".to_owned()).unwrap(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::default(),
        }),
        username: Some("btsiot1".into()),
        password: Some(Bytes::from_static(b"btsiotpass1")),
    }))
    .to_bytes(Protocol::V311)
    .unwrap()
    .freeze();
    let mut log = PacketLog::default();
    // The detail pane shows no time, so the snapshot does not depend on the time zone.
    log.tap(&Tap { direction: Direction::Sent, at: UNIX_EPOCH + Duration::from_hours(490_000), bytes: connect });
    let mut view = InspectorView::default();
    let mut harness = egui_kittest::Harness::builder().with_size(egui::vec2(1000.0, 560.0)).build_ui(move |ui| {
        let _ = packet_detail(ui, &mut view, &log.packets[0]);
    });
    harness.run();
    harness.snapshot("inspector_connect");
}

fn snapshot_of(bytes: bytes::BytesMut, name: &str) {
    let mut log = PacketLog::default();
    log.tap(&Tap { direction: Direction::Sent, at: UNIX_EPOCH, bytes: bytes.freeze() });
    let mut view = InspectorView::default();
    let mut harness = egui_kittest::Harness::builder().with_size(egui::vec2(1000.0, 330.0)).build_ui(move |ui| {
        let _ = packet_detail(ui, &mut view, &log.packets[0]);
    });
    harness.run();
    harness.snapshot(name);
}

#[test]
fn a_qos_2_publish_is_coloured_field_by_field() {
    use mqtt_lab_broker::codec::{PacketId, Publish, QosPid};
    let publish = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::ExactlyOnce(PacketId::new(7).unwrap()),
        retain: true,
        topic: TopicName::new("PV/data".to_owned()).unwrap(),
        payload: Bytes::from_static(b"4.25"),
        properties: Properties::default(),
    });
    snapshot_of(publish.to_bytes(Protocol::V311).unwrap(), "inspector_publish_qos2");
}

#[test]
fn a_subscribe_with_two_filters_is_coloured_field_by_field() {
    use mqtt_lab_broker::codec::{PacketId, Subscribe, TopicFilter};
    let subscribe = Packet::Subscribe(Subscribe {
        pid: PacketId::new(1).unwrap(),
        properties: Properties::default(),
        filters: vec![
            (TopicFilter::new("PV/#").unwrap(), QoS::AtLeastOnce.into()),
            (TopicFilter::new("lamp/+").unwrap(), QoS::AtMostOnce.into()),
        ],
    });
    snapshot_of(subscribe.to_bytes(Protocol::V311).unwrap(), "inspector_subscribe");
}

/// The detail pane of `packet`, sent on an MQTT 5.0 connection (after its CONNECT, unless it is
/// the CONNECT), in a window `height` points high: tall enough that no field is scrolled away.
fn snapshot_v5(packet: &Packet, name: &str, height: f32) {
    use mqtt_lab_broker::codec::PacketType;
    let mut log = PacketLog::default();
    if !matches!(packet, Packet::Connect(_)) {
        let connect = Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: Protocol::V5,
            clean_session: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: "pv-meter".into(),
            will: None,
            username: None,
            password: None,
        }));
        log.tap(&Tap {
            direction: Direction::Sent,
            at: UNIX_EPOCH,
            bytes: connect.to_bytes(Protocol::V5).unwrap().freeze(),
        });
    }
    log.tap(&Tap {
        direction: Direction::Sent,
        at: UNIX_EPOCH,
        bytes: packet.to_bytes(Protocol::V5).unwrap().freeze(),
    });
    let shown = log.packets.back().unwrap().clone();
    assert_eq!((shown.protocol, shown.error.as_deref()), (Protocol::V5, None));
    assert_ne!(shown.kind, Some(PacketType::Connect).filter(|_| !matches!(packet, Packet::Connect(_))));
    let mut view = InspectorView::default();
    let mut harness = egui_kittest::Harness::builder().with_size(egui::vec2(1000.0, height)).build_ui(move |ui| {
        let _ = packet_detail(ui, &mut view, &shown);
    });
    harness.run();
    harness.snapshot(name);
}

fn user(name: &str, value: &str) -> mqtt_lab_broker::codec::v5::Property {
    mqtt_lab_broker::codec::v5::Property::UserProperty(name.into(), value.into())
}

#[test]
fn an_mqtt_5_connect_shows_its_properties_and_will_properties() {
    use mqtt_lab_broker::codec::v5::{PacketKind, Property};
    let connect = Packet::Connect(Box::new(Connect {
        bridge: false,
        protocol: Protocol::V5,
        clean_session: true,
        keep_alive: 60,
        properties: Properties::new(
            PacketKind::Connect,
            vec![
                Property::SessionExpiryInterval(3600),
                Property::ReceiveMaximum(std::num::NonZeroU16::new(20).unwrap()),
                user("site", "lab-3"),
            ],
        )
        .unwrap(),
        client_id: "pv-meter".into(),
        will: Some(LastWill {
            topic: TopicName::new("pv/status".to_owned()).unwrap(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::new(
                PacketKind::Will,
                vec![Property::WillDelayInterval(10), Property::ContentType("text/plain".into())],
            )
            .unwrap(),
        }),
        username: Some("btsiot1".into()),
        password: Some(Bytes::from_static(b"btsiotpass1")),
    }));
    snapshot_v5(&connect, "inspector_v5_connect", 840.0);
}

#[test]
fn an_mqtt_5_publish_shows_its_properties() {
    use mqtt_lab_broker::codec::v5::{PacketKind, Property};
    use mqtt_lab_broker::codec::{PacketId, Publish, QosPid};
    let publish = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtLeastOnce(PacketId::new(5).unwrap()),
        retain: false,
        topic: TopicName::new("pv/energy".to_owned()).unwrap(),
        payload: Bytes::from_static(b"{\"kWh\":4.25}"),
        properties: Properties::new(
            PacketKind::PublishToServer,
            vec![
                Property::PayloadFormatIndicator(true),
                Property::MessageExpiryInterval(60),
                Property::ContentType("application/json".into()),
                Property::ResponseTopic("pv/energy/reply".into()),
                Property::CorrelationData(Bytes::from_static(b"req-42")),
                user("unit", "kWh"),
                user("site", "lab-3"),
            ],
        )
        .unwrap(),
    });
    snapshot_v5(&publish, "inspector_v5_publish", 720.0);
}
