#![no_main]

#[path = "../checks/broker_ws.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ws_frame(data));
