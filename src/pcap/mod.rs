//! "Save for Wireshark": a captured session as a pcapng file that Wireshark and tshark open and
//! decode with their own MQTT dissector, so a student can check our Packets tab against the tool
//! the course uses.
//!
//! The relay sees MQTT bytes, not TCP segments (and, for TLS and TLS-PSK, the bytes *inside*
//! the encryption), so the framing is synthesized: Ethernet, IPv4 or IPv6 and TCP headers with
//! real checksums around each MQTT packet, a SYN / SYN-ACK / ACK handshake first and sequence
//! and acknowledgement numbers that follow the bytes of each direction, so Wireshark's TCP
//! analysis reports nothing and its MQTT dissector reassembles a packet split into segments.
//!
//! - `endpoints`: which addresses and ports the frames carry (the real ones where known).
//! - `tcp`: one TCP connection's frames: handshake, segments, sequence numbers.
//! - `writer`: the pcapng blocks (section, interface, one enhanced packet block per frame)
//!   with the comments that say what was synthesized and that TLS was taken off.
//! - `fields`: our inspector's field names -> Wireshark's display-filter names (`mqtt.topic`).
//!
//! Crates: `pcap-file` writes the pcapng blocks and their options, `etherparse` the headers and
//! their checksums; both are small, maintained and used widely, and formats written by hand are
//! where off-by-one padding and checksum bugs hide.

mod endpoints;
mod fields;
mod tcp;
mod writer;

pub use endpoints::{Endpoints, MQTT_PORT, host_port};
pub use fields::{WIRESHARK_FIELDS, wireshark_field};
pub use writer::{Capture, Written, write_file, write_pcapng};
