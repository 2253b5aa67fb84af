//! How many replayed messages may wait inside the connection's worker. The worker hands each
//! publish to rumqttc without blocking and drops it when rumqttc's queue (1000 requests) is full,
//! so a replay faster than the link (as fast as possible, or a dense recording at 100x) must wait
//! for room. Room is measured where it is certain: the PUBLISH packets the relay saw leave for
//! the broker (its taps of our direction), counted by cutting that byte stream at each fixed
//! header, whatever the MQTT version or transport.

/// Handed to the worker but not yet seen leaving: at most this many.
pub const WINDOW: u64 = 500;

/// Counts the PUBLISH packets in a byte stream cut into arbitrary chunks.
#[derive(Debug, Default)]
pub struct PublishCounter {
    state: Cut,
    /// PUBLISH packets whose first byte has been seen.
    pub publishes: u64,
}

#[derive(Debug, Default, Clone, Copy)]
enum Cut {
    /// The next byte is a packet's first (type and flags).
    #[default]
    Start,
    /// Reading the remaining length: its value so far and the next digit's multiplier.
    Length { value: u64, shift: u32 },
    /// Skipping this many bytes of the packet's body.
    Body(u64),
}

impl PublishCounter {
    /// Takes the next chunk of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while let Some((&b, rest)) = bytes.split_first() {
            match self.state {
                Cut::Start => {
                    if b >> 4 == 3 {
                        self.publishes += 1;
                    }
                    self.state = Cut::Length { value: 0, shift: 0 };
                    bytes = rest;
                }
                Cut::Length { value, shift } => {
                    let value = value | (u64::from(b & 0x7f) << shift);
                    self.state = if b & 0x80 != 0 && shift < 21 {
                        Cut::Length { value, shift: shift + 7 }
                    } else if value == 0 {
                        Cut::Start
                    } else {
                        Cut::Body(value)
                    };
                    bytes = rest;
                }
                Cut::Body(left) => {
                    let n = left.min(bytes.len() as u64);
                    bytes = &bytes[usize::try_from(n).unwrap_or(bytes.len())..];
                    self.state = if n == left { Cut::Start } else { Cut::Body(left - n) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_are_counted_across_any_cut_of_the_stream() {
        // CONNECT (body 12), PUBLISH QoS 0 "a" "1", PINGREQ, PUBLISH QoS 1 with a 200-byte
        // payload (remaining length 207: two bytes), PUBACK.
        let mut stream = vec![0x10, 12];
        stream.extend([0u8; 12]);
        stream.extend([0x30, 4, 0, 1, b'a', b'1']);
        stream.extend([0xc0, 0]);
        stream.extend([0x32, 0xcf, 0x01, 0, 3, b'a', b'/', b'b', 0, 7]);
        stream.extend([b'x'; 200]);
        stream.extend([0x40, 2, 0, 7]);
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let mut counter = PublishCounter::default();
            for part in stream.chunks(chunk) {
                counter.feed(part);
            }
            assert_eq!(counter.publishes, 2, "in chunks of {chunk}");
        }
    }
}
