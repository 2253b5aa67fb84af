//! The course's messages as Rust types: built by the publish form and the simulators, read from
//! received payloads. They agree with the schema files on every golden fixture (see the tests),
//! and they print numbers as the firmware does (`50`, not `50.0`), so payloads match byte for byte.

use serde::{Deserialize, Serialize};

pub const TOPIC_PV_DATA: &str = "PV/data";
pub const TOPIC_SUNSHINE: &str = "PV/sunshine";
pub const TOPIC_LUMINOSITY: &str = "lamp/luminosity";
pub const TOPIC_LED_CMD: &str = "lamp/cmd";
pub const TOPIC_LED_STATE: &str = "lamp/state";

/// A number as the firmware prints it: rounded to `decimals`, with no trailing zeros.
pub fn number_text(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" { "0".into() } else { text.to_owned() }
}

fn percent(what: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{what} {v} is not within 0 to 100 %"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Control {
    #[serde(rename = "PWM")]
    Pwm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Percent {
    #[serde(rename = "%")]
    Percent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Ldr {
    #[serde(rename = "ldr")]
    Ldr,
}

/// `{"control":"PWM","value":50,"unit":"%"}` on lamp/cmd (and what the lamp applied, on lamp/state).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedCommand {
    control: Control,
    value: f64,
    unit: Percent,
}

impl LedCommand {
    pub fn pwm(value: f64) -> Result<Self, String> {
        Ok(Self { control: Control::Pwm, value: percent("a duty cycle of", value)?, unit: Percent::Percent })
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn to_payload(&self) -> String {
        format!(r#"{{"control":"PWM","value":{},"unit":"%"}}"#, number_text(self.value, 2))
    }

    pub fn from_payload(payload: &[u8]) -> Result<Self, String> {
        let c: Self = serde_json::from_slice(payload).map_err(|e| format!("not an LED command: {e}"))?;
        Self::pwm(c.value)
    }
}

/// `{"sensor":"ldr","value":63.5,"unit":"%","raw":2601}` on lamp/luminosity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Luminosity {
    sensor: Ldr,
    value: f64,
    unit: Percent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw: Option<u16>,
}

impl Luminosity {
    /// `value` in %, rounded to a tenth as the firmware sends it; `raw` the 12-bit ADC reading.
    pub fn new(value: f64, raw: Option<u16>) -> Result<Self, String> {
        let value = (percent("a luminosity of", value)? * 10.0).round() / 10.0;
        if let Some(r) = raw.filter(|r| *r > 4095) {
            return Err(format!("an ADC reading of {r} does not fit 12 bits (0 to 4095)"));
        }
        Ok(Self { sensor: Ldr::Ldr, value, unit: Percent::Percent, raw })
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn raw(&self) -> Option<u16> {
        self.raw
    }

    pub fn to_payload(&self) -> String {
        let raw = self.raw.map_or_else(String::new, |r| format!(r#","raw":{r}"#));
        format!(r#"{{"sensor":"ldr","value":{},"unit":"%"{raw}}}"#, number_text(self.value, 1))
    }

    pub fn from_payload(payload: &[u8]) -> Result<Self, String> {
        let l: Self = serde_json::from_slice(payload).map_err(|e| format!("not a luminosity reading: {e}"))?;
        Self::new(l.value, l.raw)
    }
}

/// The plant's power in kW on PV/data, as plain text: `4.25`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PvData(pub f64);

impl PvData {
    pub fn to_payload(&self) -> String {
        number_text(self.0, 2)
    }

    pub fn from_payload(payload: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(payload).map_err(|_| "PV/data is not text".to_owned())?;
        let kw: f64 = serde_json::from_str(text).map_err(|_| format!("PV/data {text:?} is not a number in kW"))?;
        if kw.is_finite() && (0.0..=1000.0).contains(&kw) {
            Ok(Self(kw))
        } else {
            Err(format!("PV/data {kw} kW is not within 0 to 1000 kW"))
        }
    }
}

/// yes or no on PV/sunshine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sunshine {
    Yes,
    No,
}

impl Sunshine {
    pub fn to_payload(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
        }
    }

    pub fn from_payload(payload: &[u8]) -> Result<Self, String> {
        match payload {
            b"yes" => Ok(Self::Yes),
            b"no" => Ok(Self::No),
            other => Err(format!("PV/sunshine {:?} is neither yes nor no", String::from_utf8_lossy(other))),
        }
    }
}
