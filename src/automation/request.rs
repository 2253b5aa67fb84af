//! MQTT 5 request/response (spec 4.10): a request carries a Response Topic and Correlation
//! Data; the responder publishes its answer to that topic with the same correlation data. This
//! keeps the requests still waiting, matches answers to them, times them out, and builds the
//! "Reply" to a received request.
//!
//! Times are `Instant`s passed in by the caller, so round trips are measured on the monotonic
//! clock and tests need no waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_lab_broker::codec::TopicName;

use crate::connection::ReceivedMessage;
use crate::mqtt::{Outgoing, Qos};

/// Requests kept waiting at most; beyond this the oldest is forgotten (see [`Requests::dropped`]).
pub const MAX_PENDING: usize = 1000;

/// A request sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// 1 for the first request of this [`Requests`].
    pub number: u64,
    pub topic: String,
    pub payload: Bytes,
    pub response_topic: String,
    pub correlation: Bytes,
    pub sent: Instant,
}

/// A request and the message that answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub request: Pending,
    pub response: ReceivedMessage,
    pub round_trip: Duration,
}

/// A request nobody answered in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    pub request: Pending,
    pub waited: Duration,
}

/// The requests sent from this connection that still wait for an answer, oldest first.
#[derive(Debug, Clone)]
pub struct Requests {
    pending: VecDeque<Pending>,
    timeout: Duration,
    sent: u64,
    /// Random per instance, so two app windows (or two runs) never reuse correlation data.
    salt: u32,
    dropped: u64,
}

impl Requests {
    /// Requests that time out after `timeout`, with correlation data salted at random.
    pub fn new(timeout: Duration) -> Self {
        let salt = getrandom::u32().unwrap_or_else(|_| std::process::id());
        Self::with_salt(timeout, salt)
    }

    /// Requests whose correlation data is `req-<n>-<salt as 8 hex digits>`: tests pin the salt.
    pub fn with_salt(timeout: Duration, salt: u32) -> Self {
        Self { pending: VecDeque::new(), timeout, sent: 0, salt, dropped: 0 }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the timeout; requests already waiting use the new one at the next [`Self::expire`].
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// A request to `topic`, answered on `response_topic` (QoS 0, not retained); see [`Self::send_message`].
    pub fn send(
        &mut self,
        topic: impl Into<String>,
        payload: impl Into<Bytes>,
        response_topic: impl Into<String>,
        now: Instant,
    ) -> Result<Outgoing, String> {
        self.send_message(Outgoing::new(topic, payload, Qos::AtMostOnce, false), response_topic, now)
    }

    /// Makes `message` a request: sets its Response Topic and a fresh Correlation Data and
    /// records it as waiting. The caller sends the returned message, after subscribing to the
    /// response topic. Fails, recording nothing, when the response topic is not a topic name.
    pub fn send_message(
        &mut self,
        mut message: Outgoing,
        response_topic: impl Into<String>,
        now: Instant,
    ) -> Result<Outgoing, String> {
        let response_topic = response_topic.into();
        TopicName::new(response_topic.as_str())
            .map_err(|e| format!("The response topic must be a topic name [MQTT-3.3.2-14]: {e}"))?;
        self.sent += 1;
        let correlation = Bytes::from(format!("req-{}-{:08x}", self.sent, self.salt));
        message.properties.response_topic = Some(response_topic.clone());
        message.properties.correlation_data = Some(correlation.clone());
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
            self.dropped += 1;
        }
        self.pending.push_back(Pending {
            number: self.sent,
            topic: message.topic.clone(),
            payload: message.payload.clone(),
            response_topic,
            correlation,
            sent: now,
        });
        Ok(message)
    }

    /// The request `message` answers, if any: same correlation data, arriving on the request's
    /// response topic. The request stops waiting; a second answer to it matches nothing.
    pub fn on_message(&mut self, message: &ReceivedMessage, now: Instant) -> Option<Answered> {
        let correlation = message.properties.correlation_data.as_ref()?;
        let index =
            self.pending.iter().position(|p| p.correlation == correlation && p.response_topic == message.topic)?;
        let request = self.pending.remove(index)?;
        let round_trip = now.saturating_duration_since(request.sent);
        Some(Answered { request, response: message.clone(), round_trip })
    }

    /// Removes and returns the requests that waited `timeout` or longer.
    pub fn expire(&mut self, now: Instant) -> Vec<TimedOut> {
        let timeout = self.timeout;
        let mut out = Vec::new();
        self.pending.retain(|p| {
            let waited = now.saturating_duration_since(p.sent);
            if waited < timeout {
                return true;
            }
            out.push(TimedOut { request: p.clone(), waited });
            false
        });
        out
    }

    /// The requests waiting, oldest first.
    pub fn pending(&self) -> impl ExactSizeIterator<Item = &Pending> {
        self.pending.iter()
    }

    /// Requests forgotten unanswered because more than [`MAX_PENDING`] were waiting.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Forgets every waiting request (a new session: their answers cannot arrive).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

/// The "Reply" action: `payload` to the Response Topic of `message`, with its Correlation Data
/// copied [MQTT-4.10] and its QoS, not retained. Fails, in words, when `message` asked for no reply.
pub fn reply_to(message: &ReceivedMessage, payload: impl Into<Bytes>) -> Result<Outgoing, String> {
    let Some(topic) = &message.properties.response_topic else {
        return Err(format!(
            "The message on {} has no Response Topic, so it asks for no reply (only MQTT 5 messages can carry one).",
            message.topic
        ));
    };
    TopicName::new(topic.as_str())
        .map_err(|e| format!("The message's Response Topic is not a topic name [MQTT-3.3.2-14]: {e}"))?;
    let mut reply = Outgoing::new(topic.as_str(), payload, message.qos, false);
    reply.properties.correlation_data.clone_from(&message.properties.correlation_data);
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::template::tests::request;

    fn answer(topic: &str, correlation: &'static [u8]) -> ReceivedMessage {
        request(topic, "{\"ok\":true}", Some(correlation))
    }

    #[test]
    fn a_request_carries_its_response_topic_and_fresh_correlation_data() {
        let t0 = Instant::now();
        let mut requests = Requests::with_salt(Duration::from_secs(5), 0xab);
        let first = requests.send("lamp/get", "{}", "lab/replies/1", t0).unwrap();
        let second = requests.send("lamp/get", "{}", "lab/replies/1", t0).unwrap();
        assert_eq!(first.topic, "lamp/get");
        assert_eq!(first.properties.response_topic.as_deref(), Some("lab/replies/1"));
        assert_eq!(first.properties.correlation_data.as_deref(), Some(&b"req-1-000000ab"[..]));
        assert_eq!(second.properties.correlation_data.as_deref(), Some(&b"req-2-000000ab"[..]));
        assert_eq!(requests.pending().len(), 2);
        assert_eq!(
            requests.send("a", "x", "replies/+", t0).unwrap_err(),
            "The response topic must be a topic name [MQTT-3.3.2-14]: [MQTT-3.3.2-2] PUBLISH topic \"replies/+\" contains a wildcard (+ or #)"
        );
        assert_eq!(requests.pending().len(), 2, "a refused request is not recorded");
    }

    #[test]
    fn answers_match_by_correlation_and_topic_and_measure_the_round_trip() {
        let t0 = Instant::now();
        let mut requests = Requests::with_salt(Duration::from_secs(5), 1);
        requests.send("lamp/get", "1", "replies", t0).unwrap();
        requests.send("lamp/get", "2", "replies", t0 + Duration::from_millis(10)).unwrap();
        let later = t0 + Duration::from_millis(45);
        assert!(requests.on_message(&answer("elsewhere", b"req-2-00000001"), later).is_none(), "wrong topic");
        assert!(requests.on_message(&answer("replies", b"req-9-00000001"), later).is_none(), "unknown id");
        assert!(requests.on_message(&request("replies", "x", None), later).is_none(), "no correlation data");
        let answered = requests.on_message(&answer("replies", b"req-2-00000001"), later).unwrap();
        assert_eq!(answered.request.payload, "2");
        assert_eq!(answered.request.number, 2);
        assert_eq!(answered.round_trip, Duration::from_millis(35));
        assert_eq!(&answered.response.payload[..], b"{\"ok\":true}");
        assert!(requests.on_message(&answer("replies", b"req-2-00000001"), later).is_none(), "answered once");
        assert_eq!(requests.pending().map(|p| p.number).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn unanswered_requests_time_out_and_the_oldest_go_beyond_the_bound() {
        let t0 = Instant::now();
        let mut requests = Requests::with_salt(Duration::from_secs(2), 0);
        requests.send("a", "", "r", t0).unwrap();
        requests.send("b", "", "r", t0 + Duration::from_secs(1)).unwrap();
        assert!(requests.expire(t0 + Duration::from_millis(1999)).is_empty());
        let gone = requests.expire(t0 + Duration::from_millis(2500));
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].request.topic.as_str(), gone[0].waited), ("a", Duration::from_millis(2500)));
        assert_eq!(requests.pending().len(), 1);

        let mut many = Requests::with_salt(Duration::from_secs(2), 0);
        for _ in 0..MAX_PENDING + 3 {
            many.send("a", "", "r", t0).unwrap();
        }
        assert_eq!(many.pending().len(), MAX_PENDING);
        assert_eq!(many.dropped(), 3);
        assert_eq!(many.pending().next().unwrap().number, 4, "the oldest three were dropped");
    }

    #[test]
    fn reply_goes_to_the_response_topic_with_the_correlation_data() {
        let mut req = request("lamp/get", "?", Some(b"abc"));
        assert_eq!(
            reply_to(&req, "on").unwrap_err(),
            "The message on lamp/get has no Response Topic, so it asks for no reply (only MQTT 5 messages can carry one)."
        );
        req.properties.response_topic = Some("lab/replies".into());
        let reply = reply_to(&req, "on").unwrap();
        assert_eq!(
            (reply.topic.as_str(), &reply.payload[..], reply.qos, reply.retain),
            ("lab/replies", &b"on"[..], Qos::AtLeastOnce, false)
        );
        assert_eq!(reply.properties.correlation_data.as_deref(), Some(&b"abc"[..]));
        assert_eq!(reply.properties.response_topic, None);
    }
}
