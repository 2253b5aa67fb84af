//! Variables in a saved publish's topic and payload, so one favourite can send a fresh
//! timestamp, id or reading on every click, and an auto-reply can echo the request it answers.
//!
//! Text is parsed once into a [`Template`] (literal text and variables); a mistake is reported
//! then, naming the variable and where it is, not at send time. The clock and the random source
//! come in through [`Env`] so tests can pin them.
//!
//! `{{` always opens a variable: JSON never needs two opening braces in a row.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, Local, SecondsFormat};

use crate::connection::ReceivedMessage;
use crate::mqtt::{correlation_text, to_hex};

/// The variables as the error messages list them.
const KNOWN: &str = "now, now_ms, uuid, counter, random A B, request.correlation, request.topic, request.payload";

/// At most this many decimals in `{{random A B}}`: the bounds stay exact in an i128.
const MAX_DECIMALS: u32 = 9;

/// Where a template gets the time and random numbers from.
pub trait Env {
    /// The current time, in the offset `{{now}}` prints.
    fn now(&self) -> DateTime<FixedOffset>;
    /// A uniformly random 64-bit number.
    fn random(&self) -> u64;
}

/// The local clock and the operating system's random numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset()
    }

    fn random(&self) -> u64 {
        // Without OS randomness (never seen on our targets) the clock's nanoseconds still differ per call.
        getrandom::u64().unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (nanos.as_nanos() as u64).rotate_left(29) ^ u64::from(std::process::id())
        })
    }
}

/// What a template is expanded with: the clock and random source, and for auto-replies the
/// message being answered (without one, the `request.*` variables expand to nothing).
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub env: &'a dyn Env,
    pub request: Option<&'a ReceivedMessage>,
}

impl Context<'static> {
    /// The real clock and randomness, no request: the publish form's context.
    pub fn live() -> Self {
        Self { env: &SystemEnv, request: None }
    }
}

impl<'a> Context<'a> {
    pub fn new(env: &'a dyn Env) -> Self {
        Self { env, request: None }
    }

    /// The same context answering `request`.
    #[must_use]
    pub fn with_request(self, request: &'a ReceivedMessage) -> Self {
        Self { request: Some(request), ..self }
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Now,
    NowMs,
    Uuid,
    Counter,
    /// Bounds scaled by 10^decimals, so `{{random 0.5 2.25}}` is 50..=225 with 2 decimals.
    Random {
        low: i128,
        high: i128,
        decimals: u32,
    },
    RequestCorrelation,
    RequestTopic,
    RequestPayload,
}

/// A topic or payload with variables, parsed. Each template counts its own sends for `{{counter}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    parts: Vec<Part>,
    /// Sends so far: the next `{{counter}}` is this plus one.
    sent: u64,
}

/// Whether `text` has variables at all: text without `{{` is sent exactly as typed, so the UI
/// can skip parsing and previews for it.
pub fn has_variables(text: &str) -> bool {
    text.contains("{{")
}

impl Template {
    /// Parses `text`, or says which variable is wrong and at which character (counted from 1).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        // Characters consumed so far, for positions in errors.
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let at = offset + rest[..open].chars().count() + 1;
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!("unclosed {{{{ at character {at}: a variable ends with }}}}; known: {KNOWN}"));
            };
            let inner = &after[..close];
            parts.push(variable(inner, at)?);
            let used = open + 2 + close + 2;
            offset += rest[..used].chars().count();
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts, sent: 0 })
    }

    /// Whether the template has any variable (otherwise it always expands to the same text).
    pub fn has_variables(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Text(_)))
    }

    /// Whether it uses `request.*` variables, which only an auto-reply can fill.
    pub fn uses_request(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::RequestCorrelation | Part::RequestTopic | Part::RequestPayload))
    }

    /// The text for one send; `{{counter}}` advances (1 on the first send).
    pub fn expand(&mut self, ctx: &Context) -> String {
        self.sent += 1;
        self.render(ctx, self.sent)
    }

    /// What the next send would look like, without advancing `{{counter}}` (the time and random
    /// values are of course fresh at the real send).
    pub fn preview(&self, ctx: &Context) -> String {
        self.render(ctx, self.sent + 1)
    }

    /// Starts `{{counter}}` again at 1.
    pub fn reset_counter(&mut self) {
        self.sent = 0;
    }

    fn render(&self, ctx: &Context, counter: u64) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Now => out.push_str(&ctx.env.now().to_rfc3339_opts(SecondsFormat::Millis, false)),
                Part::NowMs => {
                    let _ = write!(out, "{}", ctx.env.now().timestamp_millis());
                }
                Part::Uuid => out.push_str(&uuid_v4(ctx.env)),
                Part::Counter => {
                    let _ = write!(out, "{counter}");
                }
                Part::Random { low, high, decimals } => {
                    // The span is at most 2 * 10^27: it fits, and the modulo's bias is far below
                    // anything a test message could show.
                    let span = (high - low + 1).unsigned_abs();
                    let pick = low + i128::try_from(u128::from(ctx.env.random()) % span).unwrap_or_default();
                    out.push_str(&decimal_text(pick, *decimals));
                }
                Part::RequestCorrelation => {
                    if let Some(data) = ctx.request.and_then(|r| r.properties.correlation_data.as_ref()) {
                        out.push_str(&correlation_text(data));
                    }
                }
                Part::RequestTopic => out.push_str(ctx.request.map_or("", |r| r.topic.as_str())),
                Part::RequestPayload => {
                    if let Some(r) = ctx.request {
                        out.push_str(&String::from_utf8_lossy(&r.payload));
                    }
                }
            }
        }
        out
    }
}

/// The variable between `{{` and `}}`.
fn variable(inner: &str, at: usize) -> Result<Part, String> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    let part = match words.as_slice() {
        ["now"] => Part::Now,
        ["now_ms"] => Part::NowMs,
        ["uuid"] => Part::Uuid,
        ["counter"] => Part::Counter,
        ["request.correlation"] => Part::RequestCorrelation,
        ["request.topic"] => Part::RequestTopic,
        ["request.payload"] => Part::RequestPayload,
        ["random", a, b] => random(a, b, at)?,
        ["random", ..] => {
            return Err(format!(
                "{{{{{inner}}}}} at character {at}: random needs two bounds, e.g. {{{{random 1 6}}}} or {{{{random 20.0 25.5}}}}"
            ));
        }
        _ => return Err(format!("unknown variable {{{{{inner}}}}} at character {at}; known: {KNOWN}")),
    };
    Ok(part)
}

/// `{{random A B}}`: integers, or decimals with as many places as the longer bound has.
fn random(a: &str, b: &str, at: usize) -> Result<Part, String> {
    let bound = |text: &str| {
        decimal(text).ok_or_else(|| {
            format!(
                "{{{{random {a} {b}}}}} at character {at}: {text:?} is not a number (digits, an optional sign and point, at most {MAX_DECIMALS} decimals)"
            )
        })
    };
    let (low, low_places) = bound(a)?;
    let (high, high_places) = bound(b)?;
    let decimals = low_places.max(high_places);
    let low = low * 10_i128.pow(decimals - low_places);
    let high = high * 10_i128.pow(decimals - high_places);
    if low > high {
        return Err(format!(
            "{{{{random {a} {b}}}}} at character {at}: the lower bound {a} is above the upper bound {b}"
        ));
    }
    Ok(Part::Random { low, high, decimals })
}

/// A decimal number as an integer and its count of decimals ("-2.50" is (-250, 2)).
fn decimal(text: &str) -> Option<(i128, u32)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{whole}{fraction}");
    let places = u32::try_from(fraction.len()).ok()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || places > MAX_DECIMALS || whole.len() > 18 {
        return None;
    }
    let value: i128 = digits.parse().ok()?;
    Some((if negative { -value } else { value }, places))
}

/// `value` / 10^decimals with exactly `decimals` places.
fn decimal_text(value: i128, decimals: u32) -> String {
    if decimals == 0 {
        return value.to_string();
    }
    let scale = 10_u128.pow(decimals);
    let magnitude = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale, width = decimals as usize)
}

/// A random (version 4) UUID, RFC 9562 layout: 122 random bits, version and variant fixed.
fn uuid_v4(env: &dyn Env) -> String {
    let mut bytes = [0_u8; 16];
    bytes[..8].copy_from_slice(&env.random().to_be_bytes());
    bytes[8..].copy_from_slice(&env.random().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = to_hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::time::SystemTime;

    use bytes::Bytes;
    use chrono::TimeZone;

    use super::*;
    use crate::mqtt::{PublishProperties, Qos};

    /// A pinned clock and a counting "random" source: 0, 1, 2, … scaled by `step`.
    pub(crate) struct Fixed {
        pub next: Cell<u64>,
        pub step: u64,
    }

    impl Fixed {
        pub(crate) fn new(step: u64) -> Self {
            Self { next: Cell::new(0), step }
        }
    }

    impl Env for Fixed {
        fn now(&self) -> DateTime<FixedOffset> {
            let offset = FixedOffset::east_opt(3600).unwrap();
            offset.with_ymd_and_hms(2026, 3, 1, 14, 5, 9).unwrap() + chrono::Duration::milliseconds(250)
        }

        fn random(&self) -> u64 {
            let value = self.next.get();
            self.next.set(value + 1);
            value * self.step
        }
    }

    pub(crate) fn request(topic: &str, payload: &str, correlation: Option<&'static [u8]>) -> ReceivedMessage {
        ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtLeastOnce,
            retain: false,
            dup: false,
            at: SystemTime::UNIX_EPOCH,
            properties: PublishProperties {
                correlation_data: correlation.map(Bytes::from_static),
                ..PublishProperties::default()
            },
        }
    }

    #[test]
    fn time_counter_and_literal_text_expand_exactly() {
        let env = Fixed::new(1);
        let ctx = Context::new(&env);
        let mut t = Template::parse(r#"{"at":"{{now}}","ms":{{ now_ms }},"n":{{counter}}}"#).unwrap();
        assert!(t.has_variables());
        assert_eq!(t.preview(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":1}"#);
        assert_eq!(t.preview(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":1}"#);
        assert_eq!(t.expand(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":1}"#);
        assert_eq!(t.expand(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":2}"#);
        assert_eq!(t.preview(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":3}"#);
        t.reset_counter();
        assert_eq!(t.expand(&ctx), r#"{"at":"2026-03-01T14:05:09.250+01:00","ms":1772370309250,"n":1}"#);
        let mut plain = Template::parse("lamp/cmd").unwrap();
        assert!(!plain.has_variables());
        assert_eq!(plain.expand(&ctx), "lamp/cmd");
        assert!(!has_variables(r#"{"a":{"b":1}}"#));
        assert!(has_variables("x{{uuid}}"));
    }

    #[test]
    fn random_numbers_stay_in_their_bounds_with_the_bounds_decimals() {
        let env = Fixed::new(1);
        let ctx = Context::new(&env);
        let mut ints = Template::parse("{{random 1 6}}").unwrap();
        let rolls: Vec<String> = (0..7).map(|_| ints.expand(&ctx)).collect();
        assert_eq!(rolls, ["1", "2", "3", "4", "5", "6", "1"]);
        env.next.set(0);
        let mut temps = Template::parse("{{random -0.5 1.25}}").unwrap();
        let values: Vec<String> = (0..4).map(|_| temps.expand(&ctx)).collect();
        assert_eq!(values, ["-0.50", "-0.49", "-0.48", "-0.47"]);
        env.next.set(175);
        assert_eq!(temps.expand(&ctx), "1.25");
        assert_eq!(temps.expand(&ctx), "-0.50", "wraps to the lower bound");
        let mut same = Template::parse("{{random 7 7}}").unwrap();
        assert_eq!(same.expand(&ctx), "7");
    }

    #[test]
    fn uuids_are_version_4_with_the_rfc_variant() {
        let env = Fixed::new(u64::MAX / 3);
        let mut t = Template::parse("id-{{uuid}}").unwrap();
        assert_eq!(t.expand(&Context::new(&env)), "id-00000000-0000-4000-9555-555555555555");
        let live = Template::parse("{{uuid}}").unwrap().preview(&Context::live());
        assert_eq!(live.len(), 36);
        assert_eq!(&live[14..15], "4");
        assert!(matches!(&live[19..20], "8" | "9" | "a" | "b"), "{live}");
    }

    #[test]
    fn request_variables_echo_the_message_answered() {
        let env = Fixed::new(1);
        let req = request("lamp/get", "{\"q\":1}", Some(b"req-7"));
        let mut t =
            Template::parse(r#"{"for":"{{request.topic}}","id":"{{request.correlation}}","echo":{{request.payload}}}"#)
                .unwrap();
        assert!(t.uses_request());
        assert_eq!(
            t.expand(&Context::new(&env).with_request(&req)),
            r#"{"for":"lamp/get","id":"req-7","echo":{"q":1}}"#
        );
        assert_eq!(t.expand(&Context::new(&env)), r#"{"for":"","id":"","echo":}"#, "no request: empty");
        let binary = request("a", "x", Some(&[0, 0xff]));
        let mut c = Template::parse("{{request.correlation}}").unwrap();
        assert_eq!(c.expand(&Context::new(&env).with_request(&binary)), "0x00ff");
        assert!(!Template::parse("{{now}}").unwrap().uses_request());
    }

    #[test]
    fn errors_name_the_variable_and_its_position() {
        assert_eq!(
            Template::parse("abc {{nw}}").unwrap_err(),
            "unknown variable {{nw}} at character 5; known: now, now_ms, uuid, counter, random A B, request.correlation, request.topic, request.payload"
        );
        assert_eq!(
            Template::parse("é{{now}} {{counter").unwrap_err(),
            "unclosed {{ at character 10: a variable ends with }}; known: now, now_ms, uuid, counter, random A B, request.correlation, request.topic, request.payload"
        );
        assert_eq!(
            Template::parse("{{random 1}}").unwrap_err(),
            "{{random 1}} at character 1: random needs two bounds, e.g. {{random 1 6}} or {{random 20.0 25.5}}"
        );
        assert_eq!(
            Template::parse("x{{random 9 2}}").unwrap_err(),
            "{{random 9 2}} at character 2: the lower bound 9 is above the upper bound 2"
        );
        assert_eq!(
            Template::parse("{{random a 2}}").unwrap_err(),
            "{{random a 2}} at character 1: \"a\" is not a number (digits, an optional sign and point, at most 9 decimals)"
        );
        assert!(Template::parse("{{random 1. 2}}").is_ok(), "\"1.\" is 1 with no decimals");
    }
}
