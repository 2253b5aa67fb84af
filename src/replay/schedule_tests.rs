//! The schedule on paused tokio time: each send is stamped with the clock, so the offsets are
//! exact and the tests take no real time.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use tokio::time::Instant;

use super::*;
use crate::mqtt::{PublishProperties, UserProperty};

fn recorded(gaps_ms: &[u64]) -> Vec<ReceivedMessage> {
    let mut at = 1_764_000_000_000;
    let mut out = Vec::new();
    for (i, gap) in std::iter::once(&0).chain(gaps_ms).enumerate() {
        at += gap;
        out.push(ReceivedMessage {
            topic: format!("site-a/m{i}"),
            payload: Bytes::from(i.to_string()),
            qos: Qos::AtLeastOnce,
            retain: i == 0,
            dup: false,
            at: UNIX_EPOCH + Duration::from_millis(at),
            properties: PublishProperties::default(),
        });
    }
    out
}

/// Plays and returns (ms since start, topic) of each send, and how it ended.
async fn run(messages: &[ReceivedMessage], options: &ReplayOptions) -> (Vec<(u128, String)>, Played) {
    let start = Instant::now();
    let mut sent = Vec::new();
    let played = play(
        messages,
        options,
        &mut |o: Outgoing| sent.push((start.elapsed().as_millis(), o.topic)),
        |_| {},
        std::future::pending(),
    )
    .await;
    (sent, played)
}

fn times(sent: &[(u128, String)]) -> Vec<u128> {
    sent.iter().map(|(t, _)| *t).collect()
}

#[tokio::test(start_paused = true)]
async fn recorded_pace_keeps_the_gaps_and_ten_times_faster_divides_them() {
    let messages = recorded(&[50, 200, 120]);
    let (sent, played) = run(&messages, &ReplayOptions::default()).await;
    assert_eq!(times(&sent), [0, 50, 250, 370]);
    assert_eq!(played, Played::Done(4));
    let fast = ReplayOptions { pace: Pace::Speed(10.0), ..ReplayOptions::default() };
    assert_eq!(times(&run(&messages, &fast).await.0), [0, 5, 25, 37]);
    let afap = ReplayOptions { pace: Pace::AsFastAsPossible, ..ReplayOptions::default() };
    assert_eq!(times(&run(&messages, &afap).await.0), [0, 0, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn loops_keep_the_rhythm_across_the_seam() {
    // Span 300 ms over 2 gaps: a round lasts 300 + 150 ms.
    let messages = recorded(&[100, 200]);
    let options = ReplayOptions { repeat: Repeat::Times(3), ..ReplayOptions::default() };
    let (sent, played) = run(&messages, &options).await;
    assert_eq!(times(&sent), [0, 100, 300, 450, 550, 750, 900, 1000, 1200]);
    assert_eq!(played, Played::Done(9));
    let fast = ReplayOptions { pace: Pace::Speed(2.0), ..options };
    assert_eq!(times(&run(&messages, &fast).await.0), [0, 50, 150, 225, 275, 375, 450, 500, 600]);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_a_loop_without_end_and_progress_counts_rounds() {
    let messages = recorded(&[100, 100]);
    let options = ReplayOptions { repeat: Repeat::Forever, ..ReplayOptions::default() };
    let mut last = None;
    let mut n = 0;
    let played = play(
        &messages,
        &options,
        &mut |_: Outgoing| n += 1,
        |p| last = Some(p),
        tokio::time::sleep(Duration::from_secs(1)),
    )
    .await;
    // Rounds of 300 ms: sends at 0, 100, 200, 300, ..., 900; stopped before the one at 1000.
    assert_eq!(played, Played::Stopped(10));
    assert_eq!(n, 10);
    assert_eq!(last, Some(Progress { sent: 10, total: None, round: 4 }));
}

#[tokio::test(start_paused = true)]
async fn as_fast_as_possible_pauses_between_bursts_and_stops_at_once() {
    let messages = recorded(&[1; 249]);
    let afap = ReplayOptions { pace: Pace::AsFastAsPossible, ..ReplayOptions::default() };
    let (sent, played) = run(&messages, &afap).await;
    assert_eq!(played, Played::Done(250));
    assert_eq!(sent[99].0, 0);
    assert_eq!((sent[100].0, sent[200].0), (1, 2), "a millisecond's pause after each 100");
    let stopped = play(&messages, &afap, &mut |_: Outgoing| {}, |_| {}, std::future::ready(())).await;
    assert_eq!(stopped, Played::Stopped(0));
}

#[test]
fn rewrite_and_overrides_change_only_what_they_name() {
    let mut m = recorded(&[])[0].clone();
    m.properties.user_properties.push(UserProperty::new("k", "v"));
    m.properties.topic_alias = Some(3);
    m.properties.subscription_ids.push(7);
    let rewrite = Rewrite { remove: "site-a/".into(), add: "lab/".into() };
    let options = ReplayOptions { rewrite, ..ReplayOptions::default() };
    let out = options.outgoing(&m);
    assert_eq!((out.topic.as_str(), out.qos, out.retain), ("lab/m0", Qos::AtLeastOnce, true));
    assert_eq!(out.properties.user_properties, m.properties.user_properties);
    assert_eq!(
        (out.properties.topic_alias, out.properties.subscription_ids.len()),
        (None, 0),
        "the broker's, not ours"
    );
    let other = Rewrite { remove: "elsewhere/".into(), add: String::new() };
    assert_eq!(other.apply("site-a/x"), "site-a/x", "a prefix that is not there is left alone");
    let overridden = ReplayOptions {
        qos: Some(Qos::AtMostOnce),
        retain: Some(false),
        properties: false,
        ..ReplayOptions::default()
    };
    let out = overridden.outgoing(&m);
    assert_eq!((out.topic.as_str(), out.qos, out.retain), ("site-a/m0", Qos::AtMostOnce, false));
    assert!(out.properties.is_empty(), "a 3.1.1 target gets none");
}

#[test]
fn offsets_never_go_back_and_a_single_message_loops_each_second() {
    let mut messages = recorded(&[100, 100]);
    messages.swap(1, 2);
    let (offsets, round) = offsets(&messages);
    assert_eq!(offsets, [Duration::ZERO, Duration::from_millis(200), Duration::from_millis(200)]);
    assert_eq!(round, Duration::from_millis(300));
    assert_eq!(super::offsets(&messages[..1]).1, Duration::from_secs(1));
    assert_eq!(Pace::from_factor(0.0), Ok(Pace::AsFastAsPossible));
    assert!(Pace::from_factor(-1.0).unwrap_err().contains("above 0"));
    assert!(Pace::from_factor(f64::NAN).is_err());
}

/// A link that takes one message each 10 ms.
struct Slow(Vec<u128>, Instant);

impl Outlet for Slow {
    fn send(&mut self, _: Outgoing) {
        self.0.push(self.1.elapsed().as_millis());
    }

    fn room(&mut self) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(Duration::from_millis(10))
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_outlet_holds_the_schedule_which_catches_up_and_stop_still_works() {
    let messages = recorded(&[5, 5, 100]);
    let mut slow = Slow(Vec::new(), Instant::now());
    let played = play(&messages, &ReplayOptions::default(), &mut slow, |_| {}, std::future::pending()).await;
    assert_eq!(played, Played::Done(4));
    // Due at 0, 5, 10, 110: each waits 10 ms for room after its time comes.
    assert_eq!(slow.0, [10, 20, 30, 120]);
    let mut slow = Slow(Vec::new(), Instant::now());
    let stop = tokio::time::sleep(Duration::from_millis(25));
    assert_eq!(play(&messages, &ReplayOptions::default(), &mut slow, |_| {}, stop).await, Played::Stopped(2));
}
