//! A listener's `mount_point`, as Mosquitto applies it: every topic a client of that listener
//! names (PUBLISH, SUBSCRIBE, UNSUBSCRIBE, its will) gets the mount point in front, joined as a
//! raw string (`lab1/` and `t` make `lab1/t`; no `/` is added), and every message delivered to
//! it loses that prefix again. Clients of one listener thus share a tree of their own, which
//! clients of a listener without a mount point see in full. ACLs see the mounted topics.

use std::sync::Arc;

use crate::codec::{Publish, TopicError, TopicFilter, TopicName};

/// The text put in front of a listener's clients' topics. A thin pointer: every connection
/// holds one, and most hold none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountPoint(Arc<String>);

impl MountPoint {
    /// `None` for a listener without one.
    pub(crate) fn of(mount_point: Option<&str>) -> Option<Self> {
        mount_point.filter(|m| !m.is_empty()).map(|m| Self(Arc::new(m.to_owned())))
    }

    /// The topic everyone else sees for a client's `topic`.
    pub(crate) fn name(&self, topic: &TopicName) -> Result<TopicName, TopicError> {
        TopicName::new(format!("{}{topic}", self.0))
    }

    /// The filter a client's `filter` subscribes to.
    pub(crate) fn filter(&self, filter: &TopicFilter) -> Result<TopicFilter, TopicError> {
        TopicFilter::new(format!("{}{filter}", self.0))
    }

    /// Takes the mount point off the topic of a PUBLISH going to the client. A topic outside
    /// the mount point (none reaches a mounted client's filters) goes out as it is.
    pub(crate) fn unmount(&self, p: &mut Publish) {
        let rest = p.topic.as_str().strip_prefix(self.0.as_str()).filter(|rest| !rest.is_empty());
        if let Some(topic) = rest.and_then(|rest| TopicName::parse(rest).ok()) {
            p.topic = topic;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::QosPid;
    use crate::codec::v5::Properties;

    fn publish(topic: &str) -> Publish {
        Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new(topic).unwrap(),
            payload: Bytes::new(),
            properties: Properties::default(),
        }
    }

    #[test]
    fn joins_as_a_raw_string_and_strips_on_delivery() {
        let m = MountPoint::of(Some("lab1")).unwrap();
        assert_eq!(m.name(&TopicName::new("t").unwrap()).unwrap().as_str(), "lab1t");
        let m = MountPoint::of(Some("lab1/")).unwrap();
        assert_eq!(m.filter(&TopicFilter::new("t/#").unwrap()).unwrap().as_str(), "lab1/t/#");
        let mut p = publish("lab1/t/x");
        m.unmount(&mut p);
        assert_eq!(p.topic.as_str(), "t/x");
        let mut outside = publish("other/t");
        m.unmount(&mut outside);
        assert_eq!(outside.topic.as_str(), "other/t");
    }

    #[test]
    fn an_empty_mount_point_is_none() {
        assert_eq!(MountPoint::of(Some("")), None);
        assert_eq!(MountPoint::of(None), None);
    }
}
