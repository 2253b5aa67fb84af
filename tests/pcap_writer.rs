//! The pcapng writer on its own, read back by tshark and capinfos: a PUBLISH larger than one
//! segment reassembled by Wireshark's MQTT dissector, a reconnect as a second TCP connection,
//! IPv6, the capture times to the nanosecond, and the file's comment naming the real port.

use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use mqtt_lab::connection::{Direction, Tap};
use mqtt_lab::model::PacketLog;
use mqtt_lab::pcap::{Capture, Endpoints, write_file};

fn run(program: &str, args: &[&str]) -> String {
    let out =
        Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e} (apt-get install tshark)"));
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A session: CONNECT, CONNACK, a 150,000-byte PUBLISH, then a reconnect's CONNECT and CONNACK.
fn session(start: std::time::SystemTime) -> PacketLog {
    let mut log = PacketLog::default();
    let connect = [0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'c'];
    let mut tap = |direction, ms: u64, bytes: Vec<u8>| {
        log.tap(&Tap { direction, at: start + Duration::from_micros(ms * 1000 + 123), bytes: Bytes::from(bytes) });
    };
    tap(Direction::Sent, 0, connect.to_vec());
    tap(Direction::Received, 1, vec![0x20, 2, 0, 0]);
    let payload = vec![b'z'; 150_000];
    let remaining = 2 + 3 + payload.len(); // topic length, "a/b", payload
    let mut publish = vec![0x30];
    let mut n = remaining;
    loop {
        let mut byte = u8::try_from(n % 128).unwrap();
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        publish.push(byte);
        if n == 0 {
            break;
        }
    }
    publish.extend_from_slice(&[0, 3, b'a', b'/', b'b']);
    publish.extend_from_slice(&payload);
    tap(Direction::Received, 2, publish);
    tap(Direction::Sent, 3_000, connect.to_vec());
    tap(Direction::Received, 3_001, vec![0x20, 2, 0, 0]);
    log
}

#[test]
fn a_large_publish_a_reconnect_and_the_times_read_back_in_tshark() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-pcap-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("session.pcapng");
    let start = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    let log = session(start);
    let capture = Capture::new(Endpoints::new("::1", 8883, None, None), Some("TLS-PSK".into()), false);
    let written = write_file(&file, &capture, &log.packets).unwrap();
    // 2 handshakes of 3 frames, 4 small packets, the PUBLISH in 3 segments.
    assert_eq!((written.packets, written.connections, written.frames), (5, 2, 6 + 4 + 3));
    let f = file.to_str().unwrap();

    let fields = ["-T", "fields", "-e", "frame.time_epoch", "-e", "tcp.stream", "-e", "mqtt.msgtype", "-e", "mqtt.len"];
    let listed = run("tshark", &[&["-r", f, "-Y", "mqtt"][..], &fields[..]].concat());
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        [
            "1796000000.000123000\t0\t1\t13",
            "1796000000.001123000\t0\t2\t2",
            "1796000000.002123000\t0\t3\t150005",
            "1796000003.000123000\t1\t1\t13",
            "1796000003.001123000\t1\t2\t2",
        ],
        "{listed}"
    );
    assert_eq!(run("tshark", &["-r", f, "-Y", "tcp.analysis.flags || _ws.malformed"]), "");
    let ipv6 = run("tshark", &["-r", f, "-Y", "mqtt", "-T", "fields", "-e", "ipv6.dst", "-e", "tcp.dstport"]);
    assert!(ipv6.lines().next().unwrap().starts_with("::1\t1883"), "{ipv6}");

    let info = run("capinfos", &[f]);
    assert!(info.contains("real port 8883"), "{info}");
    assert!(info.contains("MQTT packets inside the TLS-PSK in clear"), "{info}");
    std::fs::remove_dir_all(&dir).unwrap();
}
