//! Client ids made up for profiles that leave theirs empty.

/// A client id like `mqtt-lab-1f64f575`, different on every call in practice.
pub fn generated_client_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mqtt-lab-{:08x}", nanos ^ std::process::id().rotate_left(16))
}
