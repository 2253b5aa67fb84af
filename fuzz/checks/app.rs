//! What the app's fuzz targets check, shared by the targets (`cargo fuzz run NAME`) and by the
//! normal tests, which replay the committed corpus (tests/fuzz_corpus.rs). Each function takes
//! the fuzzer's bytes (a payload as a broker delivers it) and panics on a finding.
#![allow(dead_code, reason = "each fuzz target uses one of these")]

use mqtt_lab::model::payload::{self, Decoder, PayloadMode};
use mqtt_lab::plot::{Extractor, to_pointer};
use mqtt_lab::schema::{Catalogue, LedCommand, Luminosity, PvData, Sunshine};

/// Every way the app shows a received payload (detail pane decoders, schema check, the course's
/// payload types), and the publish editor's modes on the same text: none panics, and what the
/// course types accept they write back as a payload they accept again with the same value.
pub fn payload(data: &[u8]) {
    for decoder in Decoder::ALL {
        let _ = payload::decode(decoder, data);
    }
    let _ = payload::escaped_text(data);
    let _ = payload::hex_dump(data);
    let text = String::from_utf8_lossy(data);
    for mode in [PayloadMode::Text, PayloadMode::Json, PayloadMode::Hex] {
        let _ = payload::encode(mode, &text);
    }
    let _ = payload::pretty_json(&text);
    let catalogue = Catalogue::get();
    for topic in ["PV/data", "PV/sunshine", "lamp/cmd", "lamp/state", "lamp/luminosity", "other"] {
        let _ = catalogue.check(topic, data);
    }
    if let Ok(c) = LedCommand::from_payload(data) {
        let again = LedCommand::from_payload(c.to_payload().as_bytes()).expect("a command it wrote reads back");
        assert!((again.value() - c.value()).abs() < 0.01, "{} != {}", again.value(), c.value());
    }
    if let Ok(l) = Luminosity::from_payload(data) {
        let again = Luminosity::from_payload(l.to_payload().as_bytes()).expect("a reading it wrote reads back");
        assert!((again.value() - l.value()).abs() < 0.06, "{} != {}", again.value(), l.value());
    }
    if let Ok(p) = PvData::from_payload(data) {
        let again = PvData::from_payload(p.to_payload().as_bytes()).expect("PV/data it wrote reads back");
        assert!((again.0 - p.0).abs() < 0.006, "{} != {}", again.0, p.0);
    }
    if let Ok(s) = Sunshine::from_payload(data) {
        assert_eq!(Sunshine::from_payload(s.to_payload().as_bytes()), Ok(s));
    }
}

/// The plot's value extractors: the first line is a JSON path or pointer, the rest the payload.
/// None panics, and a value they give is finite (a series never gets NaN or infinity).
pub fn extract(data: &[u8]) {
    let (path, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    let _ = to_pointer(&path);
    for extractor in [Extractor::Number, Extractor::Switch, Extractor::Json { path }] {
        for payload in [body, data] {
            if let Some(v) = extractor.extract(payload) {
                assert!(v.is_finite(), "{extractor:?} gave {v} for {payload:?}");
            }
        }
    }
}
