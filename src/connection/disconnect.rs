//! Watches the bytes an MQTT 5 broker sends for its DISCONNECT, so that the reason reaches the
//! user even when rumqttc cannot read the packet: rumqttc 0.25.1 waits for a Property Length
//! that a DISCONNECT of remaining length 1 leaves out (allowed by [MQTT-3.14.2.2.1]), then
//! reports only "connection closed by peer abruptly". Only fixed headers are read; packets are
//! skipped, a DISCONNECT (a few bytes) is kept.

use mqtt_lab_broker::codec::v5::{Property, PropertyId};
use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, decode};

/// Packet boundaries across chunks, and the last DISCONNECT seen.
#[derive(Debug, Default)]
pub struct DisconnectWatch {
    /// The start of the current packet's fixed header (at most 5 bytes), while incomplete.
    header: Vec<u8>,
    /// Bytes of the current packet still to skip.
    skip: usize,
    /// The DISCONNECT being read, and when complete, the last one.
    disconnect: Option<Vec<u8>>,
    pending: usize,
    last: Option<Vec<u8>>,
}

impl DisconnectWatch {
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.pending > 0 {
                let n = self.pending.min(bytes.len());
                if let Some(d) = &mut self.disconnect {
                    d.extend_from_slice(&bytes[..n]);
                }
                self.pending -= n;
                bytes = &bytes[n..];
                if self.pending == 0 {
                    self.last = self.disconnect.take();
                }
                continue;
            }
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            self.header.push(bytes[0]);
            bytes = &bytes[1..];
            let Some(length) = remaining_length(&self.header[1..]) else {
                if self.header.len() >= 5 {
                    // Not MQTT: stop looking (the worker reports the bytes otherwise).
                    self.header.clear();
                    self.skip = usize::MAX;
                }
                continue;
            };
            let header = std::mem::take(&mut self.header);
            if header[0] == 0xE0 && length <= 1024 {
                self.disconnect = Some(header);
                self.pending = length;
                if length == 0 {
                    self.last = self.disconnect.take();
                }
            } else {
                self.skip = length;
            }
        }
    }

    /// The reason code and Reason String of a DISCONNECT the broker sent, once.
    pub fn take_reason(&mut self) -> Option<(u8, Option<String>)> {
        let bytes = self.last.take()?;
        match decode(&bytes, usize::MAX, Protocol::V5) {
            Ok(Decoded::Packet(Packet::Disconnect(d), _)) => {
                let reason = match d.properties.get(PropertyId::ReasonString) {
                    Some(Property::ReasonString(s)) => Some(s.clone()),
                    _ => None,
                };
                Some((d.reason as u8, reason))
            }
            _ => None,
        }
    }
}

/// The remaining length encoded in `bytes` (after the first byte), once all of it is there.
fn remaining_length(bytes: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for (i, b) in bytes.iter().enumerate().take(4) {
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disconnect_after_other_packets_is_found_across_chunks() {
        let mut w = DisconnectWatch::default();
        // A PUBLISH of 200 bytes (two-byte length), then DISCONNECT 0x8E without properties.
        let mut wire = vec![0x30, 0xC8, 0x01, 0x00, 0x01, b'a', 0x00];
        wire.extend(std::iter::repeat_n(0xE0, 196));
        wire.extend([0xE0, 0x01, 0x8E]);
        for chunk in wire.chunks(7) {
            w.feed(chunk);
        }
        assert_eq!(w.take_reason(), Some((0x8E, None)));
        assert_eq!(w.take_reason(), None);
        let mut quiet = DisconnectWatch::default();
        quiet.feed(&wire[..wire.len() - 3]);
        assert_eq!(quiet.take_reason(), None, "payload bytes that look like a DISCONNECT are skipped");
    }
}
