//! Who a topic's messages reach, for the embedding app's topic tree (issue 22): every
//! subscription whose filter matches the topic, with its client, options and whether that
//! client is connected. The ACL is not applied: the broker's owner asks, not a client.

use std::sync::Arc;

use super::Router;
use super::{HashMap, Matched};
use crate::broker::subscriptions::Sub;
use crate::codec::{TopicFilter, matches};

/// One subscription a PUBLISH to the topic would match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub client: Arc<str>,
    /// As subscribed: a shared subscription's whole `$share/{group}/{filter}`.
    pub filter: TopicFilter,
    pub sub: Sub,
    /// Connected now; a persistent session's subscriptions stay while it is away.
    pub online: bool,
}

impl Router {
    /// The subscriptions matching `topic`, ordered by client and filter. The subscription
    /// tree names the clients (one walk of the topic's levels); only their own subscriptions
    /// are then tested, so the cost grows with the matching clients, not with all of them.
    pub fn readers_of(&self, topic: &str) -> Vec<Reader> {
        let mut matched: HashMap<Arc<str>, Matched> = HashMap::default();
        self.subscriptions.matches(topic, None, &mut matched);
        let mut clients: Vec<Arc<str>> = matched.into_keys().collect();
        for turn in self.subscriptions.shared.turns(topic) {
            clients.extend(turn.candidates().map(|(_, (client, _))| client.clone()));
        }
        clients.sort_unstable();
        clients.dedup();
        let mut readers = Vec::new();
        for client in clients {
            let Some(session) = self.sessions.get(&client) else { continue };
            let online = session.is_online();
            for (filter, sub) in &session.subscriptions {
                if matches(filter.matching_part(), topic) {
                    readers.push(Reader { client: client.clone(), filter: filter.clone(), sub: *sub, online });
                }
            }
        }
        readers.sort_unstable_by(|a, b| (&a.client, &a.filter).cmp(&(&b.client, &b.filter)));
        readers
    }
}
