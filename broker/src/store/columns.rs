//! The MQTT 5.0 parts of stored messages and subscriptions as SQLite columns (issue 20):
//! a message's properties as their encoded block, its Message Expiry as a wall-clock deadline,
//! a subscription's options byte and Subscription Identifier.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::time::Instant;

use crate::codec::v5::{PacketKind, Properties};
use crate::codec::{QoS, RetainHandling, SubOptions};

pub fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// One reading of both clocks, to turn a deadline of one into the other. A
/// `tokio::time::Instant` means nothing after a restart; the wall clock keeps counting through
/// the broker's downtime, so a message's time left shrinks by it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub instant: Instant,
    pub wall: SystemTime,
}

impl Clock {
    /// Now, on the runtime's clock where there is one (restore, at startup); the store thread
    /// has none and reads the system's monotonic clock, which is the runtime's own unless a
    /// test paused it. Either way a deadline converts the same whenever it is converted: both
    /// clocks advance together.
    pub fn now() -> Self {
        Self { instant: Instant::now(), wall: SystemTime::now() }
    }

    /// The wall-clock time of `at`, in ms since the Unix epoch.
    pub fn wall_ms(&self, at: Instant) -> i64 {
        let wall = if at >= self.instant {
            self.wall + (at - self.instant)
        } else {
            self.wall.checked_sub(self.instant - at).unwrap_or(UNIX_EPOCH)
        };
        to_ms(wall)
    }

    /// The instant of a saved deadline; `None` once it has passed.
    pub fn instant_of(&self, deadline_ms: i64) -> Option<Instant> {
        let left = from_ms(deadline_ms).duration_since(self.wall).ok().filter(|d| !d.is_zero())?;
        Some(self.instant + left)
    }
}

/// The encoded property block (Property Length, then the properties, as in the PUBLISH);
/// `None` for none, which every 3.1.1 message has.
pub fn properties_blob(properties: &Properties) -> Option<Vec<u8>> {
    if properties.is_empty() {
        return None;
    }
    let mut buf = BytesMut::new();
    // A block decoded from a PUBLISH encodes again: it fitted in a packet.
    properties.encode(&mut buf).ok()?;
    Some(buf.to_vec())
}

/// Reads back [`properties_blob`]; `None` when the bytes are not one valid block of a PUBLISH
/// (a file edited by hand), so that the row is skipped rather than delivered changed.
pub fn properties_of(blob: Option<&[u8]>) -> Option<Properties> {
    let Some(bytes) = blob else { return Some(Properties::default()) };
    match Properties::decode(bytes, 0, PacketKind::PublishToClient) {
        Ok((properties, end)) if end == bytes.len() => Some(properties),
        _ => None,
    }
}

/// Parses a subscription options byte (MQTT 5.0 3.8.3.1: QoS in bits 0-1, No Local bit 2,
/// Retain As Published bit 3, Retain Handling bits 4-5). A row written before the column
/// existed (`None`) or a byte no SUBSCRIBE could carry falls back to the saved QoS alone.
pub fn options_of(byte: Option<i64>, qos: QoS) -> SubOptions {
    let Some(byte) = byte.and_then(|b| u8::try_from(b).ok()) else { return SubOptions::from(qos) };
    let retain_handling = match (byte >> 4) & 3 {
        0 => RetainHandling::OnSubscribe,
        1 => RetainHandling::OnNewSubscription,
        2 => RetainHandling::Never,
        _ => return SubOptions::from(qos),
    };
    match QoS::from_u8(byte & 3) {
        Some(qos) if byte & 0xC0 == 0 => {
            SubOptions { qos, no_local: byte & 0x04 != 0, retain_as_published: byte & 0x08 != 0, retain_handling }
        }
        _ => SubOptions::from(qos),
    }
}

/// A saved Subscription Identifier (1 to 268,435,455); NULL or out of range: none.
pub fn sub_id(id: Option<i64>) -> Option<NonZeroU32> {
    id.and_then(|n| u32::try_from(n).ok()).filter(|n| *n <= 268_435_455).and_then(NonZeroU32::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::v5::Property;

    #[test]
    fn every_options_byte_a_subscribe_can_carry_comes_back() {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for retain_handling in
                [RetainHandling::OnSubscribe, RetainHandling::OnNewSubscription, RetainHandling::Never]
            {
                for (no_local, retain_as_published) in [(false, false), (true, false), (false, true), (true, true)] {
                    let o = SubOptions { qos, no_local, retain_as_published, retain_handling };
                    assert_eq!(options_of(Some(i64::from(o.to_u8())), QoS::AtMostOnce), o);
                }
            }
        }
        // Old rows, and bytes no SUBSCRIBE carries: the QoS column alone.
        let qos1 = SubOptions::from(QoS::AtLeastOnce);
        for byte in [None, Some(0x30), Some(0x03), Some(0x40), Some(-1), Some(256)] {
            assert_eq!(options_of(byte, QoS::AtLeastOnce), qos1, "{byte:?}");
        }
        assert_eq!(sub_id(Some(9)), NonZeroU32::new(9));
        for id in [None, Some(0), Some(-9), Some(268_435_456)] {
            assert_eq!(sub_id(id), None, "{id:?}");
        }
    }

    #[test]
    fn properties_round_trip_in_order_and_bad_blobs_are_refused() {
        let properties = Properties::new(
            PacketKind::PublishToClient,
            vec![
                Property::UserProperty("site".into(), "roof".into()),
                Property::ContentType("text/plain".into()),
                Property::MessageExpiryInterval(600),
                Property::UserProperty("site".into(), "barn".into()),
                Property::SubscriptionIdentifier(NonZeroU32::new(9).unwrap()),
            ],
        )
        .unwrap();
        let blob = properties_blob(&properties).unwrap();
        assert_eq!(properties_of(Some(&blob)), Some(properties));
        assert_eq!(properties_blob(&Properties::default()), None);
        assert_eq!(properties_of(None), Some(Properties::default()));
        assert_eq!(properties_of(Some(&blob[..blob.len() - 1])), None, "cut short");
        assert_eq!(properties_of(Some(&[blob.as_slice(), &[0]].concat())), None, "trailing byte");
        // 0x11 Session Expiry Interval is no PUBLISH property.
        assert_eq!(properties_of(Some(&[5, 0x11, 0, 0, 0, 1])), None);
    }

    #[test]
    fn deadlines_convert_between_the_clocks() {
        let clock = Clock::now();
        let at = clock.instant + Duration::from_mins(10);
        let ms = clock.wall_ms(at);
        assert_eq!(ms, to_ms(clock.wall + Duration::from_mins(10)));
        // 100 s later (a restart): 500 s are left.
        let later = Clock { instant: clock.instant, wall: clock.wall + Duration::from_secs(100) };
        let left = later.instant_of(ms).unwrap() - later.instant;
        assert!(left <= Duration::from_secs(500) && left > Duration::from_secs(499), "{left:?}");
        let past = Clock { instant: clock.instant, wall: clock.wall + Duration::from_mins(10) };
        assert_eq!(past.instant_of(ms), None, "due exactly now: expired");
        assert!(clock.wall_ms(clock.instant.checked_sub(Duration::from_secs(1)).unwrap()) < to_ms(clock.wall));
    }
}
