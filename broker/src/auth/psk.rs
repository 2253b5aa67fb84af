//! `psk_file`: one `identity:hexkey` line per client, as Mosquitto reads it.

use std::collections::HashMap;
use std::fmt;

use super::LineProblem;

/// Keys by identity.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PskFile {
    keys: HashMap<String, Vec<u8>>,
}

// Keys are secrets: Debug names the identities only.
impl fmt::Debug for PskFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskFile").field("identities", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

/// The longest key OpenSSL accepts (`PSK_MAX_PSK_LEN`): 512 bytes, 1024 hex digits.
const MAX_KEY_BYTES: usize = 512;

/// Decodes a hex key; an odd number of digits reads as if it had a leading 0, as Mosquitto's
/// conversion does.
pub fn decode_hex_key(hex: &str) -> Result<Vec<u8>, String> {
    if hex.is_empty() {
        return Err("the key is empty".into());
    }
    if let Some(bad) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("the key must be hexadecimal digits, found {bad:?}"));
    }
    let padded = if hex.len() % 2 == 1 { format!("0{hex}") } else { hex.to_owned() };
    let key: Vec<u8> =
        (0..padded.len()).step_by(2).map(|i| u8::from_str_radix(&padded[i..i + 2], 16).unwrap_or_default()).collect();
    if key.len() > MAX_KEY_BYTES {
        return Err(format!("the key has {} bytes; TLS allows at most {MAX_KEY_BYTES}", key.len()));
    }
    Ok(key)
}

impl PskFile {
    /// Reads the file's text; malformed lines are reported (without the key) and skipped.
    pub fn parse(text: &str) -> (Self, Vec<LineProblem>) {
        let mut file = Self::default();
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let problem = |message: String| LineProblem { line: i + 1, message };
            match line.split_once(':') {
                Some((identity, hex)) if !identity.is_empty() => match decode_hex_key(hex.trim()) {
                    Ok(key) => {
                        file.keys.insert(identity.to_owned(), key);
                    }
                    Err(e) => problems.push(problem(format!("identity {identity:?}: {e}"))),
                },
                _ => problems.push(problem("expected identity:hexkey".into())),
            }
        }
        (file, problems)
    }

    pub fn key(&self, identity: &str) -> Option<&[u8]> {
        self.keys.get(identity).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_course_psk_file() {
        let (file, problems) = PskFile::parse("btsiot1:0123456789abcdef0123\n# comment\nesp32:ABCDEF\n");
        assert!(problems.is_empty());
        assert_eq!(file.key("btsiot1"), Some(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23][..]));
        assert_eq!(file.key("esp32"), Some(&[0xab, 0xcd, 0xef][..]));
        assert_eq!(decode_hex_key("abc").unwrap(), [0x0a, 0xbc]);
    }

    #[test]
    fn bad_lines_are_reported_without_their_key() {
        let (file, problems) = PskFile::parse("nocolon\nbad:xyz123\n:00\nok:00ff\n");
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(!problems[1].message.contains("xyz123"), "{}", problems[1]);
        assert!(file.key("ok").is_some());
        assert!(!format!("{file:?}").contains("00ff"));
    }
}
