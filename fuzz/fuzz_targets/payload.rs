#![no_main]

#[path = "../checks/app.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::payload(data));
