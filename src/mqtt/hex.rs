//! Bytes as hexadecimal text, both ways (payloads and correlation data typed as hex).

use std::fmt::Write as _;

/// Bytes from hex digits (whitespace ignored), or what is wrong with the text.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("not hexadecimal: {c:?}"));
    }
    if digits.len() % 2 == 1 {
        return Err("an odd number of hex digits: two make one byte".into());
    }
    Ok((0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap_or_default()).collect())
}

/// Lower-case hex digits, no spaces.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{parse_hex, to_hex};

    #[test]
    fn round_trips_and_names_bad_digits() {
        assert_eq!(parse_hex("de ad BE ef").unwrap(), vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(to_hex(&[0, 0x7f, 0xff]), "007fff");
        assert!(parse_hex("abc").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("'z'"));
    }
}
