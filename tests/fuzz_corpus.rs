//! The app's fuzz checks (fuzz/checks/app.rs) over the committed inputs: seeds, the minimized
//! corpus the fuzzer grew, and past findings. See broker/tests/fuzz_corpus.rs.

#[path = "../fuzz/checks/app.rs"]
mod checks;
#[path = "../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn payload() {
    corpus::replay("payload", checks::payload);
}

#[test]
fn extract() {
    corpus::replay("extract", checks::extract);
}
