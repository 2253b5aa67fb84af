//! Topic aliases the broker assigns toward an MQTT 5.0 client that allows them (its CONNECT's
//! Topic Alias Maximum, 3.1.2.11.5): the first PUBLISH on a topic carries the topic and an
//! alias, later ones an empty topic and the alias (3.3.2.3.4), which saves the topic's bytes on
//! every message. Aliases live as long as the connection [MQTT-3.3.2-7]; once the client's
//! maximum is reached, further topics go out in full.

use std::num::NonZeroU16;

use crate::broker::FastMap as HashMap;
use crate::codec::v5::{Properties, Property};
use crate::codec::{Publish, TopicName};

#[derive(Debug)]
pub(super) struct OutAliases {
    assigned: HashMap<TopicName, NonZeroU16>,
    /// The client's Topic Alias Maximum.
    max: u16,
}

impl OutAliases {
    pub(super) fn new(max: u16) -> Self {
        Self { assigned: HashMap::default(), max }
    }

    /// Gives `p` the alias of its topic, assigning one if there is room.
    pub(super) fn apply(&mut self, p: &mut Publish) {
        let alias = if let Some(alias) = self.assigned.get(&p.topic) {
            p.topic = TopicName::alias_only();
            *alias
        } else {
            let next = u16::try_from(self.assigned.len() + 1).ok().filter(|n| *n <= self.max);
            let Some(alias) = next.and_then(NonZeroU16::new) else { return };
            self.assigned.insert(p.topic.clone(), alias);
            alias
        };
        let mut properties = p.properties.as_slice().to_vec();
        properties.push(Property::TopicAlias(alias));
        p.properties = Properties::from_vec(properties);
    }
}
