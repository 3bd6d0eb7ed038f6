//! One line of an imported list, `SHA1HEX:count`, and a five-hex-digit prefix.

use std::fmt;

/// A five-hex-digit SHA-1 prefix, `0..2^20`. Parsed from the path of `GET /range/{prefix}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix(u32);

impl Prefix {
    /// Exactly five hex digits, either case.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 5 {
            return None;
        }
        let mut value = 0u32;
        for &b in bytes {
            value = (value << 4) | u32::from(hex_value(b)?);
        }
        Some(Self(value))
    }

    pub fn from_index(index: u32) -> Option<Self> {
        (index < crate::PREFIXES as u32).then_some(Self(index))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Prefix {
    /// Upper-case, as the range API writes hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05X}", self.0)
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Reads `SHA1HEX:count` (40 hex digits, either case; a count of at least 1). Surrounding
/// spaces and a trailing `\r` are allowed. The error says what is wrong, for a person to fix.
pub fn parse_line(line: &[u8]) -> Result<([u8; 20], u64), String> {
    let line = line.trim_ascii();
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(
            "expected SHA1:count (40 hex digits, a colon, a count); there is no colon".into(),
        );
    };
    let (hex, count) = (&line[..colon], &line[colon + 1..]);
    if hex.len() != 40 {
        return Err(format!(
            "the hash must be 40 hex digits; it is {} characters long",
            hex.len()
        ));
    }
    let mut hash = [0u8; 20];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => hash[i] = (hi << 4) | lo,
            _ => {
                let at = if hex_value(pair[0]).is_none() {
                    2 * i
                } else {
                    2 * i + 1
                };
                return Err(format!(
                    "the hash has a character that is not a hex digit at position {}",
                    at + 1
                ));
            }
        }
    }
    if count.is_empty() || count.len() > 19 || !count.iter().all(u8::is_ascii_digit) {
        return Err("the count after the colon must be a whole number".into());
    }
    let count = count
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    if count == 0 {
        return Err("the count must be at least 1 (a hash seen 0 times is not breached)".into());
    }
    Ok((hash, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_in_either_case_and_bad_ones_say_why() {
        let (hash, count) =
            parse_line(b"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8:3861493\r").unwrap();
        assert_eq!(hash[0], 0x5b);
        assert_eq!(hash[19], 0xd8);
        assert_eq!(count, 3_861_493);
        assert!(parse_line(b"  5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:1 ").is_ok());
        let why = |line: &[u8]| parse_line(line).unwrap_err();
        assert!(why(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8").contains("no colon"));
        assert!(why(b"5BAA61E4C9:12").contains("40 hex digits"));
        assert!(why(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FDZ:1").contains("position 40"));
        assert!(why(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:").contains("whole number"));
        assert!(why(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:-4").contains("whole number"));
        assert!(why(b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:0").contains("at least 1"));
    }

    #[test]
    fn prefixes_are_exactly_five_hex_digits() {
        assert_eq!(Prefix::parse("5baa6").unwrap().to_string(), "5BAA6");
        assert_eq!(Prefix::parse("FFFFF").unwrap().index(), (1 << 20) - 1);
        for bad in ["", "5BAA", "5BAA61", "5BAG6", "5BA 6", "ÿÿ"] {
            assert!(Prefix::parse(bad).is_none(), "{bad:?}");
        }
    }
}
