//! The `mqtt-lab-broker` binary: command line, config errors, and graceful shutdown on signals.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn broker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mqtt-lab-broker"))
}

/// Runs a command that should exit by itself; kills it and fails if it is still running after
/// `limit` (a broker that unexpectedly starts would otherwise hang the test run).
fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn an_unimplemented_option_stops_startup_naming_option_and_line() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("mymosqui.conf");
    std::fs::write(
        &conf,
        "# My personal config file for mosquitto\nlistener 0\nallow_anonymous false\nplugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\n",
    )
    .unwrap();
    let out = output_within(broker().arg("-c").arg(&conf), Duration::from_secs(20));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mymosqui.conf line 4"), "{err}");
    assert!(err.contains("\"plugin\""), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_command_line_options_are_refused_with_usage() {
    let out = broker().arg("--bogus").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: mqtt-lab-broker"));
}

#[cfg(unix)]
#[test]
fn the_broker_serves_mosquitto_clients_and_stops_on_sigterm() {
    // -p 0: the OS picks a free port; the log line says which.
    let mut child = broker().args(["-p", "0", "-v"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("the broker logs its listener").unwrap();
        if let Some(addr) = line.split("Opening listen socket on ").nth(1) {
            break addr.trim_end_matches('.').rsplit(':').next().unwrap().parse::<u16>().unwrap();
        }
    };
    let publish = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "PV/sunshine", "-m", "yes", "-q", "1"])
        .output()
        .expect("mosquitto_pub (Debian's mosquitto-clients) runs");
    assert!(publish.status.success(), "{}", String::from_utf8_lossy(&publish.stderr));
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("terminating")), "{rest:?}");
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_password_file() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-hup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pf = dir.join("passwd");
    let passwd = |user: &str, pass: &str, create: bool| {
        let mut cmd = broker();
        cmd.arg("passwd");
        if create {
            cmd.arg("-c");
        }
        assert!(cmd.arg("-b").arg(&pf).args([user, pass]).status().unwrap().success());
    };
    passwd("btsiot1", "btsiotpass1", true);
    let conf = dir.join("b.conf");
    std::fs::write(&conf, format!("listener 0 127.0.0.1\nallow_anonymous false\npassword_file {}\n", pf.display()))
        .unwrap();
    let mut child = broker().arg("-c").arg(&conf).arg("-v").stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let port = lines
        .by_ref()
        .find_map(|l| {
            l.split("Opening listen socket on ")
                .nth(1)
                .map(|a| a.trim_end_matches('.').rsplit(':').next().unwrap().to_owned())
        })
        .expect("the broker logs its listener");
    let publish_as = |user: &str, pass: &str| {
        Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port, "-t", "t", "-m", "x", "-u", user, "-P", pass])
            .output()
            .expect("mosquitto_pub (Debian's mosquitto-clients) runs")
            .status
            .success()
    };
    assert!(publish_as("btsiot1", "btsiotpass1"));
    assert!(!publish_as("btsiot2", "btsiotpass2"), "not in the file yet");
    passwd("btsiot2", "btsiotpass2", false);
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    assert!(lines.by_ref().any(|l| l.contains("Reloaded password, ACL and PSK files.")));
    assert!(publish_as("btsiot2", "btsiotpass2"), "known after SIGHUP");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
}
