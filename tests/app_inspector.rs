//! The packet inspector driven as a student would: connect with a user name, password and last
//! will, subscribe, publish at QoS 2, then read the packets in the Packets tab: the QoS 2 handshake
//! is one exchange, the CONNECT's fields are listed with their bytes, the password stays masked
//! until revealed.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab_broker::codec::PacketType;
use support::*;

#[test]
fn the_connect_fields_and_a_qos_2_exchange_are_shown_byte_for_byte() {
    let runtime = runtime();
    let dir = ProfileDir::new("inspector");
    let mut harness = app_harness(&runtime, &dir);
    set_credentials_and_will(&mut harness, "btsiot/status");
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model().packets.packets.iter().any(|p| p.kind == Some(PacketType::SubAck))
    });
    // QoS 2 from the publish form.
    // The publish form's QoS picker is the second one (the subscribe form's comes first).
    harness.query_all_by_role_and_label(Role::ComboBox, "QoS").last().expect("the publish QoS").click();
    settle(&mut harness);
    harness.get_by_label_contains("2 (exactly once)").click();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    // The subscription is QoS 0, so the message comes back at QoS 0: one handshake, ours.
    step_until(&mut harness, "the QoS 2 handshake", |app| {
        app.model().packets.packets.iter().any(|p| p.kind == Some(PacketType::PubComp))
    });

    harness.get_by_role_and_label(Role::Button, "Packets").click();
    settle(&mut harness);
    // Sent: PUBLISH, PUBREL; received: PUBREC, PUBCOMP; one exchange number for all four.
    let packets = &harness.state().model().packets.packets;
    let sent_publish = packets
        .iter()
        .find(|p| p.kind == Some(PacketType::Publish) && p.direction == mqtt_lab::connection::Direction::Sent)
        .expect("the PUBLISH sent");
    let exchange = sent_publish.flow.expect("a QoS 2 PUBLISH starts an exchange");
    let kinds: Vec<PacketType> = packets.iter().filter(|p| p.flow == Some(exchange)).filter_map(|p| p.kind).collect();
    assert_eq!(kinds, [PacketType::Publish, PacketType::PubRec, PacketType::PubRel, PacketType::PubComp]);
    let tag = format!("[exchange {exchange}]");
    assert_eq!(harness.query_all_by_label_contains(&tag).count(), 4, "the four rows carry the exchange");
    assert_eq!(harness.query_all_by_label_contains("PUBLISH").count(), 2, "sent and received back");

    // The CONNECT, field by field.
    harness.get_by_label_contains("sent      CONNECT").click();
    settle(&mut harness);
    for field in [
        "Protocol name: \"MQTT\" (bytes 4-7)",
        "Protocol level: 4 (byte 8)",
        "User name flag: 1 (byte 9, bits 10000000)",
        "Will flag: 1 (byte 9, bits 00000100)",
        "User name: \"btsiot1\"",
        "Will topic: \"btsiot/status\"",
        "Password: <11 bytes>",
    ] {
        assert!(harness.query_by_label_contains(field).is_some(), "no field {field:?}");
    }
    assert_eq!(harness.query_all_by_label("••").count(), 11, "the password's bytes are masked");

    // The packet for the report: an annotated PNG and a text file, the password still masked.
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("report").display().to_string());
    harness.get_by_label("Save PNG").click();
    settle(&mut harness);
    harness.get_by_label("Save text").click();
    step_until(&mut harness, "both saved", |app| {
        app.model().log.iter().filter(|l| l.text.starts_with("Packet saved to ")).count() == 2
    });
    let saved: Vec<String> = harness
        .state()
        .model()
        .log
        .iter()
        .filter_map(|l| l.text.strip_prefix("Packet saved to "))
        .map(|p| p.trim_end_matches('.').to_owned())
        .collect();
    let png =
        image::open(saved.iter().find(|p| std::path::Path::new(p).extension().is_some_and(|e| e == "png")).unwrap())
            .expect("a PNG that decodes");
    assert!(png.width() >= 800 && png.height() > 400, "{}x{}", png.width(), png.height());
    let text = std::fs::read_to_string(
        saved.iter().find(|p| std::path::Path::new(p).extension().is_some_and(|e| e == "txt")).unwrap(),
    )
    .unwrap();
    assert!(text.contains("  Protocol name: \"MQTT\" (bytes 4-7)\n"), "{text}");
    assert!(text.contains("Password: <11 bytes>") && text.contains("•• ••"), "{text}");
    harness.get_by_label("Reveal password").click();
    settle(&mut harness);
    assert_eq!(harness.query_all_by_label("••").count(), 0, "revealed on request");
    assert!(harness.state().model().log.iter().all(|l| !l.text.contains("btsiotpass1")));
}
