//! The broker's fuzz checks (fuzz/checks/broker.rs) over the committed inputs: the hand-written
//! seeds, the corpus the fuzzer grew from them (minimized), and every input that once found a
//! bug (fuzz/regressions). `cargo fuzz run` explores; this keeps what it found fixed in the
//! normal test run, in well under a second.

#[path = "../../fuzz/checks/broker.rs"]
mod checks;
#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/broker_ws.rs"]
mod ws_checks;

#[test]
fn codec_bytes() {
    corpus::replay("codec_bytes", checks::codec_bytes);
}

#[test]
fn codec_round_trip() {
    corpus::replay("codec_round_trip", checks::codec_round_trip);
}

#[test]
fn config() {
    corpus::replay("config", checks::config);
}

#[test]
fn auth_files() {
    corpus::replay("auth_files", checks::auth_files);
}

#[test]
fn ws_frame() {
    corpus::replay("ws_frame", ws_checks::ws_frame);
}
