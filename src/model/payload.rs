//! Payloads as the user types them (text, JSON, hex) and as the detail pane shows them.

use std::fmt::Write as _;

use base64::Engine as _;

/// How the publish editor reads what is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadMode {
    #[default]
    Text,
    Json,
    Hex,
}

/// The bytes to publish, or why the text is not valid in its mode.
pub fn encode(mode: PayloadMode, text: &str) -> Result<Vec<u8>, String> {
    match mode {
        PayloadMode::Text => Ok(text.as_bytes().to_vec()),
        PayloadMode::Json => {
            serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("not valid JSON: {e}"))?;
            Ok(text.as_bytes().to_vec())
        }
        PayloadMode::Hex => {
            let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
                return Err(format!("not hexadecimal: {c:?}"));
            }
            if digits.len() % 2 == 1 {
                return Err("an odd number of hex digits: two make one byte".into());
            }
            Ok((0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap_or_default())
                .collect())
        }
    }
}

/// Reformats JSON with indentation; the error says where it is not valid.
pub fn pretty_json(text: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

/// The ways the detail pane can show a received payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoder {
    #[default]
    Text,
    Json,
    HexDump,
    Base64,
}

impl Decoder {
    pub const ALL: [Self; 4] = [Self::Text, Self::Json, Self::HexDump, Self::Base64];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Json => "JSON",
            Self::HexDump => "Hex dump",
            Self::Base64 => "Base64",
        }
    }
}

/// One line for the message list: the payload as text (hex when it is not UTF-8), line breaks
/// shown as ⏎, cut at `max_chars` with … so that a large payload costs a row nothing.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
    let mut out = String::new();
    if let Ok(text) = std::str::from_utf8(payload) {
        for (i, c) in text.chars().enumerate() {
            if i == max_chars {
                out.push('…');
                break;
            }
            out.push(match c {
                '\n' => '⏎',
                c if c.is_control() => '·',
                c => c,
            });
        }
        return out;
    }
    let shown = max_chars / 3;
    for b in payload.iter().take(shown) {
        let _ = write!(out, "{b:02x} ");
    }
    out.pop();
    if payload.len() > shown {
        out.push_str(" …");
    }
    out
}

/// The detail pane shows at most this much of a payload: laying out megabytes every frame would
/// stall the window. Export gives the whole message.
pub const DETAIL_LIMIT: usize = 64 * 1024;

/// Shows a payload with a decoder; any bytes are fine, nothing panics.
pub fn decode(decoder: Decoder, payload: &[u8]) -> String {
    match decoder {
        Decoder::Text => match std::str::from_utf8(payload) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                format!("{}\n\n(not valid UTF-8: invalid bytes shown as \\xNN; try Hex dump)", escaped_text(payload))
            }
        },
        Decoder::Json => match serde_json::from_slice::<serde_json::Value>(payload) {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
            Err(e) => format!("not valid JSON: {e}"),
        },
        Decoder::HexDump => hex_dump(payload),
        Decoder::Base64 => base64::engine::general_purpose::STANDARD.encode(payload),
    }
}

/// UTF-8 text with each invalid byte written as `\xNN` (the fonts have no replacement glyph).
pub fn escaped_text(payload: &[u8]) -> String {
    let mut out = String::with_capacity(payload.len());
    for chunk in payload.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Offset, 16 bytes in hex, and the printable ASCII of each line.
pub fn hex_dump(payload: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in payload.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String =
            chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
        let _ = writeln!(out, "{:08x}  {:<47}  {ascii}", i * 16, hex.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_one_bounded_line() {
        assert_eq!(preview(b"4.25", 10), "4.25");
        assert_eq!(preview(b"line one\nline two", 100), "line one⏎line two");
        assert_eq!(preview("ééééé".as_bytes(), 3), "ééé…", "cut at characters, not bytes");
        assert_eq!(preview(&[0xff, 0x00, 0x10], 30), "ff 00 10");
        assert_eq!(preview(&[0xff; 100], 9), "ff ff ff …");
        assert_eq!(preview(&vec![b'x'; 1 << 20], 120).chars().count(), 121);
    }

    #[test]
    fn each_mode_encodes_or_names_the_problem() {
        assert_eq!(encode(PayloadMode::Text, "yes").unwrap(), b"yes");
        assert!(encode(PayloadMode::Json, r#"{"control":"PWM","value":50,"unit":"%"}"#).is_ok());
        assert!(encode(PayloadMode::Json, r#"{"control":"PWM","value":}"#).unwrap_err().contains("line 1 column"));
        assert_eq!(encode(PayloadMode::Hex, "de ad\nbe ef").unwrap(), [0xde, 0xad, 0xbe, 0xef]);
        assert!(encode(PayloadMode::Hex, "abc").unwrap_err().contains("odd"));
        assert!(encode(PayloadMode::Hex, "zz").unwrap_err().contains("hexadecimal"));
    }

    #[test]
    fn decoders_show_any_bytes() {
        let binary = [0xff, 0x00, b'A', 0xc3];
        for d in Decoder::ALL {
            let _ = decode(d, &binary);
        }
        assert!(decode(Decoder::Text, &binary).contains("not valid UTF-8"));
        assert!(decode(Decoder::Text, &binary).starts_with("\\xff\0A\\xc3"), "{}", decode(Decoder::Text, &binary));
        assert_eq!(decode(Decoder::Base64, b"yes"), "eWVz");
        assert!(decode(Decoder::HexDump, b"PV/data 3.5").starts_with("00000000  50 56 2f"));
        assert!(decode(Decoder::Json, br#"{"value":50}"#).contains("\n  \"value\": 50\n"));
        assert_eq!(pretty_json("[1,2]").unwrap(), "[\n  1,\n  2\n]");
    }
}
