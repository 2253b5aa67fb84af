//! What the Topics tab's detail pane shows of the selected node's recent messages, worked out
//! once per change of the list (or of the chosen JSON field) instead of every frame: a bounded
//! preview of each payload, its diff against the one before, the numeric fields of the newest
//! payload and the sparkline's values. Re-parsing 50 large JSON payloads per frame made the tab
//! unusable (773 ms a frame in a debug build for 50 messages of 79 KB).
//!
//! The list changes under the cache in two ways: the app replaces it (a newly selected topic,
//! loaded from history), or puts a live message in front and drops the oldest past 50. The cache
//! notices both from a key read each frame without parsing (topic, length, and a stamp of the
//! newest and oldest messages), and on a change keeps the work already done for the pairs of
//! messages that are still there, so a live message costs one diff, not fifty. The diffs and
//! values are worked out newest first within a few milliseconds a frame (a newly selected topic
//! of large payloads would otherwise freeze the window for a moment), and each entry keeps the
//! height it was drawn at so the pane can skip laying out the ones off screen.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant, SystemTime};

use crate::connection::ReceivedMessage;
use crate::tree::{Change, ChangeKind, Diff, diff, numeric_fields, sparkline_value};

/// Payloads above this size are not compared: a JSON diff parses both sides.
pub const DIFF_MAX_BYTES: usize = 64 * 1024;
/// Longest a frame spends comparing payloads and extracting values (at least one is done).
const WORK_BUDGET: Duration = Duration::from_millis(8);
/// Messages the pane lists and draws the sparkline of (the app may load more).
pub const RECENT_SHOWN: usize = 50;
/// Characters of a recent message's payload shown.
const PREVIEW_CHARS: usize = 300;
/// Characters of the last value shown in full (wrapped).
const VALUE_CHARS: usize = 1000;
/// Changed fields listed per message.
const CHANGES_SHOWN: usize = 12;
/// Characters of a changed field's value, and of a plain value's previous one.
const CHANGE_CHARS: usize = 60;
const WAS_CHARS: usize = 80;
/// Bytes at each end of a payload read for its stamp: enough to tell messages of the same
/// time and size apart in practice, cheap enough to read every frame.
const STAMP_BYTES: usize = 128;

/// Cuts `text` at `max` characters with "…".
pub fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// At most `max` characters of a payload (hex for one that is not UTF-8), with its size when cut;
/// only the bytes shown are converted.
pub fn preview(payload: &[u8], max: usize) -> String {
    let shown = if let Ok(text) = std::str::from_utf8(payload) {
        bounded(text, max)
    } else {
        let bytes = &payload[..payload.len().min(max / 2)];
        let cut = if bytes.len() < payload.len() { "…" } else { "" };
        format!("0x{}{cut}", crate::mqtt::to_hex(bytes))
    };
    if shown.ends_with('…') { format!("{shown} ({} bytes)", payload.len()) } else { shown }
}

/// One message as told apart without parsing it: its time, size, and a hash of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    at: SystemTime,
    len: usize,
    ends: u64,
}

impl Stamp {
    fn of(m: &ReceivedMessage) -> Self {
        let p = &m.payload[..];
        let mut h = DefaultHasher::new();
        p[..p.len().min(STAMP_BYTES)].hash(&mut h);
        p[p.len().saturating_sub(STAMP_BYTES)..].hash(&mut h);
        Self { at: m.at, len: p.len(), ends: h.finish() }
    }
}

/// A message against the one before it, as the pane words it (values already cut).
#[derive(Debug, Clone, PartialEq)]
pub enum Compared {
    /// The same bytes, or the same JSON value written differently.
    Unchanged,
    /// A plain value: what it was.
    Was(String),
    /// The first changed JSON fields as lines, and how many more there are.
    Changes { lines: Vec<(ChangeKind, String)>, more: usize },
    /// One of the two payloads is above [`DIFF_MAX_BYTES`]: the larger size.
    TooLarge(usize),
    /// Not worked out yet (it will be within a few frames).
    Pending,
}

/// What the pane shows of one recent message.
#[derive(Debug, Clone)]
pub struct Entry {
    stamp: Stamp,
    /// The next older message's stamp: the pair the comparison is for.
    before: Option<Stamp>,
    pub preview: String,
    /// Against the next older message (none for the oldest one listed).
    pub compared: Option<Compared>,
    /// The sparkline's value for the cache's field, once `read`.
    value: Option<f64>,
    /// `value` was extracted (a payload without one is not read again).
    read: bool,
    /// The width it was drawn at and the height it took: off screen at that width, the pane
    /// leaves the room without laying it out (50 messages with their diffs are many widgets).
    pub drawn: Option<(f32, f32)>,
}

/// What the list looked like when the cache was filled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    topic: String,
    len: usize,
    newest: Option<Stamp>,
    oldest: Option<Stamp>,
}

impl Key {
    fn of(topic: &str, messages: &[ReceivedMessage]) -> Self {
        Self {
            topic: topic.to_owned(),
            len: messages.len(),
            newest: messages.first().map(Stamp::of),
            oldest: messages.last().map(Stamp::of),
        }
    }
}

/// The pane's work on the recent messages, kept in [`super::TopicsView`].
#[derive(Debug, Default)]
pub struct DetailCache {
    /// The list the entries are for (none: fill on the next frame).
    key: Option<Key>,
    /// The JSON field the values are for.
    field: Option<String>,
    /// One per listed message, newest first.
    pub entries: Vec<Entry>,
    /// The newest payload's numeric fields (the field picker).
    pub fields: Vec<String>,
    /// The newest payload as the "Last value" line shows it.
    pub last_value: Option<String>,
    /// The sparkline's values, oldest first.
    pub values: Vec<f64>,
    /// Diffs computed, field lists read and sparkline values extracted: each parses payloads.
    /// A test hook: drawing the same list again must not add to it.
    pub computations: u64,
    /// Frames that found the work done.
    pub hits: u64,
}

impl DetailCache {
    /// Forgets the work: the next frame does it again (the app may call this when it replaces
    /// the list in a way the key cannot see).
    pub fn clear(&mut self) {
        self.key = None;
        self.entries.clear();
    }

    /// Brings the cache up to date with `messages` (newest first) of `topic`, and `field` (the
    /// JSON field picked) with it: reset to the newest payload's first numeric field when the
    /// one picked is not among them, to `None` when there is none.
    ///
    /// The comparisons and values are worked out within a few milliseconds a frame, newest
    /// first: returns whether some remain (the pane asks for another frame).
    pub fn refresh(&mut self, topic: &str, messages: &[ReceivedMessage], field: &mut Option<String>) -> bool {
        let at_start = self.computations;
        let key = Key::of(topic, messages);
        let listed_changed = self.key.as_ref() != Some(&key);
        if listed_changed {
            let same_topic = self.key.as_ref().is_some_and(|k| k.topic == topic);
            self.fill(same_topic, messages);
            self.key = Some(key);
        }
        if self.fields.is_empty() {
            *field = None;
        } else if !field.as_ref().is_some_and(|f| self.fields.contains(f)) {
            *field = self.fields.first().cloned();
        }
        if self.field != *field {
            self.field.clone_from(field);
            for entry in &mut self.entries {
                entry.read = false;
            }
        }
        let pending = |e: &Entry| !e.read || e.compared == Some(Compared::Pending);
        if !self.entries.iter().any(pending) {
            if !listed_changed {
                self.hits += 1;
            }
            return false;
        }
        // Newest first (on screen first); at least one a frame, then until the budget is spent.
        let deadline = Instant::now() + WORK_BUDGET;
        for (i, m) in messages.iter().take(self.entries.len()).enumerate() {
            if Instant::now() >= deadline && self.computations > at_start {
                break;
            }
            let entry = &mut self.entries[i];
            if entry.compared == Some(Compared::Pending)
                && let Some(before) = messages.get(i + 1)
            {
                entry.compared = Some(compare(&before.payload, &m.payload));
                entry.drawn = None;
                self.computations += 1;
            }
            if !entry.read {
                (entry.value, entry.read) = (sparkline_value(&m.payload, self.field.as_deref()), true);
                self.computations += 1;
            }
        }
        self.values = self.entries.iter().rev().filter_map(|e| e.value).collect();
        self.entries.iter().any(pending)
    }

    /// New entries for `messages`, keeping those of pairs still listed when the topic is the same.
    fn fill(&mut self, same_topic: bool, messages: &[ReceivedMessage]) {
        let old = if same_topic { std::mem::take(&mut self.entries) } else { Vec::new() };
        self.entries.clear();
        let stamps: Vec<Stamp> = messages.iter().take(RECENT_SHOWN + 1).map(Stamp::of).collect();
        for (i, m) in messages.iter().take(RECENT_SHOWN).enumerate() {
            let (stamp, before) = (stamps[i], stamps.get(i + 1).copied());
            // The same message: its preview and value stay; its comparison too if the one
            // before it is the same (the oldest listed loses its one before when the list is cut).
            let kept = old.iter().find(|e| e.stamp == stamp);
            let compared = match kept {
                Some(e) if e.before == before => e.compared.clone(),
                // Compared in `refresh`, within the frame's budget.
                _ => messages.get(i + 1).map(|_| Compared::Pending),
            };
            let entry = match kept {
                Some(e) => {
                    let drawn = if e.before == before { e.drawn } else { None };
                    Entry { before, compared, drawn, ..e.clone() }
                }
                // The value is extracted in `refresh`, for the field picked.
                None => Entry {
                    stamp,
                    before,
                    preview: preview(&m.payload, PREVIEW_CHARS),
                    compared,
                    value: None,
                    read: false,
                    drawn: None,
                },
            };
            self.entries.push(entry);
        }
        let newest = messages.first().map(|m| &m.payload[..]);
        let newest_kept = same_topic && old.first().map(|e| e.stamp) == stamps.first().copied();
        if !newest_kept {
            self.fields = newest.map(numeric_fields).unwrap_or_default();
            self.last_value = newest.map(|p| preview(p, VALUE_CHARS));
            self.computations += 1;
        }
    }
}

/// `after` against `before`, worded, unless one is too large to parse every time it changes.
fn compare(before: &[u8], after: &[u8]) -> Compared {
    let largest = before.len().max(after.len());
    if before != after && largest > DIFF_MAX_BYTES {
        return Compared::TooLarge(largest);
    }
    match diff(before, after) {
        Diff::Unchanged => Compared::Unchanged,
        Diff::Text { before, .. } => Compared::Was(bounded(&before, WAS_CHARS)),
        Diff::Json(changes) => Compared::Changes {
            lines: changes.iter().take(CHANGES_SHOWN).map(|c| (c.kind, change_line(c))).collect(),
            more: changes.len().saturating_sub(CHANGES_SHOWN),
        },
    }
}

fn change_line(c: &Change) -> String {
    let show = |v: &Option<String>| bounded(v.as_deref().unwrap_or(""), CHANGE_CHARS);
    match c.kind {
        ChangeKind::Changed => format!("~ {}: {} → {}", c.path, show(&c.before), show(&c.after)),
        ChangeKind::Added => format!("+ {}: {}", c.path, show(&c.after)),
        ChangeKind::Removed => format!("- {}: {}", c.path, show(&c.before)),
    }
}
