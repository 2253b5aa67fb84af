//! Topic aliases from an MQTT 5.0 client (3.3.2.3.4): a PUBLISH with a topic and an alias sets
//! the alias, one with an alias and an empty topic uses it. Aliases belong to the connection
//! and are never forwarded: the property is taken out before the message is routed.

use crate::codec::Publish;
use crate::codec::TopicName;
use crate::codec::v5::{Properties, Property, PropertyId, ReasonCode};

/// The aliases a client has set; allocated on its first alias.
#[derive(Debug, Default)]
pub(super) struct Aliases(Vec<Option<TopicName>>);

impl Aliases {
    /// Resolves `p`'s topic and strips its Topic Alias; `max` is the Topic Alias Maximum the
    /// CONNACK gave. Errors carry the rule and the DISCONNECT reason code.
    pub(super) fn resolve(
        aliases: &mut Option<Box<Self>>,
        p: &mut Publish,
        max: u16,
    ) -> Result<(), (String, ReasonCode)> {
        let Some(Property::TopicAlias(alias)) = p.properties.get(PropertyId::TopicAlias) else {
            return Ok(());
        };
        let alias = alias.get();
        if alias > max {
            return Err((
                format!("[MQTT-3.3.2-9] Topic Alias {alias} is greater than the Topic Alias Maximum {max}"),
                ReasonCode::TopicAliasInvalid,
            ));
        }
        let table = aliases.get_or_insert_with(Box::default);
        let slot = usize::from(alias - 1);
        if table.0.len() <= slot {
            table.0.resize(slot + 1, None);
        }
        if p.topic.is_alias_only() {
            let Some(topic) = table.0[slot].clone() else {
                return Err((
                    format!("[MQTT-3.3.2-7] Topic Alias {alias} was not set on this connection"),
                    ReasonCode::ProtocolError,
                ));
            };
            p.topic = topic;
        } else {
            table.0[slot] = Some(p.topic.clone());
        }
        let kept: Vec<Property> = p.properties.iter().filter(|q| q.id() != PropertyId::TopicAlias).cloned().collect();
        p.properties = Properties::from_vec(kept);
        Ok(())
    }
}
