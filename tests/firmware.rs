//! The ESP32 firmware's logic, compiled with the host's g++ and tested here: its own unit tests
//! and the golden fixtures, then its payloads compared byte for byte with the app's and checked
//! against the JSON Schema. Without a C++ compiler this fails (CI installs g++), it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mqtt_lab::schema::{Catalogue, Check, LedCommand, Luminosity, TOPIC_LED_STATE, TOPIC_LUMINOSITY};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the host test binary once per test process, to a file of its own renamed into place:
/// nextest runs each test in its own process, and writing over the binary while another one
/// runs it fails (ETXTBSY).
fn lamp_tests() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lamp_tests");
        let building = out.with_extension(format!("{}.part", std::process::id()));
        let compiler = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
        let firmware = root().join("firmware");
        let status = Command::new(&compiler)
            .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-I"])
            .arg(firmware.join("mqtt_lab_lamp"))
            .arg(firmware.join("mqtt_lab_lamp/lamp_logic.cpp"))
            .arg(firmware.join("test/test_main.cpp"))
            .arg("-o")
            .arg(&building)
            .status()
            .unwrap_or_else(|e| panic!("no C++ compiler ({compiler}: {e}): install g++ (Debian: apt-get install g++)"));
        assert!(status.success(), "the firmware logic does not compile with {compiler}");
        std::fs::rename(&building, &out).expect("the built tests move into place");
        out
    })
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(lamp_tests()).args(args).output().expect("the host test binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_firmware_logic_passes_its_host_tests_and_the_golden_fixtures() {
    let fixtures = root().join("assets/schema/fixtures");
    let (ok, output) = run(&["test", fixtures.to_str().unwrap()]);
    assert!(ok, "{output}");
    assert!(output.ends_with(" checks, 0 failed"), "{output}");
}

#[test]
fn the_firmware_reads_every_led_command_fixture_as_the_app_does() {
    for validity in ["valid", "invalid"] {
        for entry in std::fs::read_dir(root().join("assets/schema/fixtures/led-command").join(validity)).unwrap() {
            let path = entry.unwrap().path();
            let (ok, output) = run(&["parse-command", path.to_str().unwrap()]);
            let app = LedCommand::from_payload(&std::fs::read(&path).unwrap());
            match app {
                Ok(cmd) => {
                    assert!(ok, "{}: the app accepts it, the firmware says {output}", path.display());
                    assert_eq!(output.parse::<f64>().unwrap().to_bits(), cmd.value().to_bits(), "{}", path.display());
                }
                Err(e) => assert!(
                    !ok && output.starts_with("error: "),
                    "{}: the app says {e}, the firmware {output}",
                    path.display()
                ),
            }
        }
    }
}

#[test]
fn the_firmware_builds_the_same_bytes_as_the_app_and_they_pass_the_schema() {
    let catalogue = Catalogue::get();
    for raw in [0, 300, 301, 1234, 2050, 2601, 3799, 3800, 4095] {
        let (ok, payload) = run(&["luminosity", &raw.to_string(), "300", "3800"]);
        assert!(ok, "{payload}");
        assert!(matches!(catalogue.check(TOPIC_LUMINOSITY, payload.as_bytes()), Check::Valid(_)), "{payload}");
        let app = Luminosity::from_payload(payload.as_bytes()).unwrap();
        assert_eq!(app.to_payload(), payload, "the same bytes from the app");
        assert_eq!(app.raw(), Some(raw));
        let expected = mqtt_lab::simulate::luminosity_percent(raw, 300, 3800);
        assert!(
            (app.value() - expected).abs() <= 0.05,
            "raw {raw}: firmware {} vs simulated lamp {expected}",
            app.value()
        );
    }
    for value in ["0", "12.5", "50", "99.99", "100"] {
        let (ok, payload) = run(&["state", value]);
        assert!(ok);
        assert!(matches!(catalogue.check(TOPIC_LED_STATE, payload.as_bytes()), Check::Valid(_)), "{payload}");
        let app = LedCommand::pwm(value.parse().unwrap()).unwrap().to_payload();
        assert_eq!(payload, app);
    }
    let (_, topics) = run(&["topics"]);
    for topic in topics.lines() {
        assert!(catalogue.topic(topic).is_some(), "{topic} is not in topics.json");
    }
}

/// The sketch itself cannot be built for the ESP32 here; it is at least compiled (syntax and
/// types) against declarations of the Arduino-ESP32 and PubSubClient 2.8 calls it makes
/// (firmware/test/stubs), for both ledc APIs (core 2.x and 3.x), with and without TLS-PSK.
#[test]
fn the_sketch_compiles_against_the_arduino_api_it_uses() {
    let firmware = root().join("firmware");
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    for core in ["2", "3"] {
        for psk in ["0", "1"] {
            let out = Command::new(&compiler)
                .args([
                    "-std=gnu++17",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-fsyntax-only",
                    "-x",
                    "c++",
                    "-include",
                    "Arduino.h",
                ])
                .arg(format!("-DESP_ARDUINO_VERSION_MAJOR={core}"))
                .arg(format!("-DMQTT_USE_PSK={psk}"))
                .arg("-I")
                .arg(firmware.join("test/stubs"))
                .arg("-I")
                .arg(firmware.join("mqtt_lab_lamp"))
                .arg(firmware.join("mqtt_lab_lamp/mqtt_lab_lamp.ino"))
                .output()
                .unwrap_or_else(|e| panic!("no C++ compiler ({compiler}: {e}): install g++"));
            assert!(out.status.success(), "core {core}, PSK {psk}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
