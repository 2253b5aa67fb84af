//! The inspector's colours, pixel by pixel: a CONNECT with will, user name and password, selected,
//! rendered on mesa's software Vulkan and compared with tests/snapshots/inspector_connect.png
//! (`UPDATE_SNAPSHOTS=1 cargo test --test inspector_snapshot` writes it again after a deliberate
//! change of the look).

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
