//! The pcapng file: a section header whose comment says what the file is (synthesized framing,
//! the broker's real port, MQTT of an encrypted connection shown in clear), one Ethernet
//! interface with nanosecond times, then one enhanced packet block per frame with its capture
//! time and direction (`epb_flags` inbound/outbound). Each Sent CONNECT after the first starts a
//! new TCP connection on the next client port, as a reconnect does.

use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use mqtt_lab_broker::codec::PacketType;
use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};

use super::endpoints::{Endpoints, MQTT_PORT};
use super::tcp::{Ends, TcpConnection};
use crate::connection::Direction;
use crate::model::CapturedPacket;

/// Frames up to this long are kept whole (Wireshark's own default snapshot length).
const SNAPLEN: u32 = 262_144;
/// `if_tsresol` 9: times in nanoseconds, which is how `pcap-file` writes them.
const NANOSECONDS: u8 = 9;
/// `epb_flags` direction bits (pcapng: 01 inbound, 10 outbound), seen from the client.
const INBOUND: u32 = 0b01;
const OUTBOUND: u32 = 0b10;

/// What the file says about the session besides its packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub endpoints: Endpoints,
    /// "TLS" or "TLS-PSK" when MQTT went inside TLS: the file says it shows that in clear.
    pub secured: Option<String>,
    /// MQTT went inside WebSocket frames, which the relay takes off.
    pub websocket: bool,
    /// "MQTT Lab 0.1.0", for the section header's application.
    pub application: String,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// MQTT packets written.
    pub packets: usize,
    /// Ethernet frames, handshakes and segments included.
    pub frames: usize,
    /// TCP connections (one per CONNECT, as after a reconnect).
    pub connections: usize,
}

impl Capture {
    /// A capture of a connection to `endpoints`, written by this build of the app.
    pub fn new(endpoints: Endpoints, secured: Option<String>, websocket: bool) -> Self {
        Self { endpoints, secured, websocket, application: format!("MQTT Lab {}", env!("CARGO_PKG_VERSION")) }
    }

    /// The section header's comment: what is real in the file and what was made up.
    pub fn comment(&self) -> String {
        let e = &self.endpoints;
        let mut lines = vec![format!(
            "Written by {} from the MQTT bytes its relay sent and received; the Ethernet, IP and TCP \
             headers are synthesized around them (times and bytes are the captured ones).",
            self.application
        )];
        if let Some(kind) = self.clear_text_note() {
            lines.push(kind);
        }
        if self.websocket {
            lines.push(
                "The connection carried MQTT inside WebSocket frames; the file shows the MQTT bytes only.".into(),
            );
        }
        let port = if e.broker_port == MQTT_PORT {
            String::new()
        } else {
            format!(
                " The frames give the broker port {MQTT_PORT}, where Wireshark decodes MQTT, instead of its real port {}.",
                e.broker_port
            )
        };
        lines.push(format!("Broker: {}:{} ({}).{port}", e.broker_host, e.broker_port, e.broker));
        if !e.guessed.is_empty() {
            lines.push(format!("Not known, made up: {}.", e.guessed.join("; ")));
        }
        lines.join("\n")
    }

    /// For an encrypted connection: that the file shows its MQTT in clear.
    pub fn clear_text_note(&self) -> Option<String> {
        self.secured.as_ref().map(|kind| {
            format!(
                "The connection was encrypted ({kind}): this file shows the MQTT packets inside the {kind} in clear, \
                 as the app saw them; a capture on the network shows only encrypted TLS records."
            )
        })
    }
}

/// Writes `packets` into the file at `path` (created or replaced), through a buffer.
pub fn write_file<'a>(
    path: &std::path::Path,
    capture: &Capture,
    packets: impl IntoIterator<Item = &'a CapturedPacket>,
) -> Result<Written, String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write_pcapng(&mut out, capture, packets).map_err(|e| format!("{}: {e}", path.display()))?;
    out.flush().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(written)
}

/// Writes `packets` (in the order given: the Packets tab's) as a pcapng file to `out`.
pub fn write_pcapng<'a, W: Write>(
    out: W,
    capture: &Capture,
    packets: impl IntoIterator<Item = &'a CapturedPacket>,
) -> Result<Written, String> {
    let failed = |e: pcap_file::PcapError| format!("the pcapng file could not be written: {e}");
    let section = SectionHeaderBlock {
        options: vec![
            SectionHeaderOption::Comment(Cow::Owned(capture.comment())),
            SectionHeaderOption::UserApplication(Cow::Owned(capture.application.clone())),
        ],
        ..SectionHeaderBlock::default()
    };
    let mut writer = PcapNgWriter::with_section_header(out, section).map_err(failed)?;
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: SNAPLEN,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("mqtt-lab-relay")),
            InterfaceDescriptionOption::IfDescription(Cow::Borrowed(
                "MQTT Lab's relay: MQTT bytes as seen by the app, in synthesized TCP/IP frames",
            )),
            InterfaceDescriptionOption::IfTsResol(NANOSECONDS),
        ],
    };
    writer.write_pcapng_block(interface).map_err(failed)?;
    let mut written = Written::default();
    let mut connection: Option<TcpConnection> = None;
    let mut emit = |at: Duration, direction: Direction, frame: Vec<u8>, comment: Option<String>| {
        let flags = if direction == Direction::Sent { OUTBOUND } else { INBOUND };
        let mut options = vec![EnhancedPacketOption::Flags(flags)];
        options.extend(comment.map(|c| EnhancedPacketOption::Comment(Cow::Owned(c))));
        let original_len = u32::try_from(frame.len()).map_err(|_| "a frame over 4 GiB".to_owned())?;
        let block =
            EnhancedPacketBlock { interface_id: 0, timestamp: at, original_len, data: Cow::Owned(frame), options };
        writer.write_pcapng_block(block).map_err(failed)?;
        Ok::<(), String>(())
    };
    for p in packets {
        let at = p.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let reconnect = p.direction == Direction::Sent && p.kind == Some(PacketType::Connect);
        let open = match connection.as_mut() {
            // A connection opens on its first packet: a later CONNECT is a new one.
            Some(c) if !reconnect => c,
            _ => {
                let n = written.connections;
                let e = &capture.endpoints;
                let ends = Ends { client: (e.client, e.client_port_of(n)), broker: (e.broker, MQTT_PORT) };
                // A fresh initial sequence number per connection, as a real stack picks.
                let isn = 0x3a00_0000_u32.wrapping_add(u32::try_from(n).unwrap_or(0).wrapping_mul(0x0101_0000));
                let (c, handshake) = TcpConnection::open(ends, isn)?;
                let mut comment = format!(
                    "Synthesized TCP handshake of connection {} to {}:{} (the app saw no TCP, only MQTT bytes).",
                    n + 1,
                    e.broker_host,
                    e.broker_port
                );
                if let Some(note) = capture.clear_text_note() {
                    comment = format!("{comment} {note}");
                }
                let directions = [Direction::Sent, Direction::Received, Direction::Sent];
                for (i, (frame, d)) in handshake.into_iter().zip(directions).enumerate() {
                    emit(at, d, frame, (i == 0).then(|| comment.clone()))?;
                    written.frames += 1;
                }
                written.connections += 1;
                connection.insert(c)
            }
        };
        for frame in open.send(p.direction, &p.bytes)? {
            emit(at, p.direction, frame, None)?;
            written.frames += 1;
        }
        written.packets += 1;
    }
    Ok(written)
}
