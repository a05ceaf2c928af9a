//! Turning file bytes into parser text.
//!
//! rnix parses `&str`, but Nix source files are bytes: string literals may
//! contain bytes that are not UTF-8, and a lone carriage return ends a
//! comment or a line. Invalid bytes are mapped one-to-one onto characters of
//! a private-use plane and mapped back when string literals are lowered;
//! lone CRs become LFs (same length, so offsets are unchanged).

/// First code point used for a raw byte (U+10FF00 + byte).
const RAW_BASE: u32 = 0x10_FF00;

/// Decodes file bytes into parser text.
pub fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or(""));
                let n = e.error_len().unwrap_or(bad.len()).max(1);
                for &b in &bad[..n] {
                    out.push(char::from_u32(RAW_BASE + b as u32).unwrap_or('\u{FFFD}'));
                }
                rest = &bad[n..];
            }
        }
    }
    out
}

/// Replaces each CR not followed by LF with LF.
pub fn normalize_lone_cr(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if c == b'\r' && b.get(i + 1) != Some(&b'\n') {
            out.push(b'\n');
        } else {
            out.push(c);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Maps private-use raw-byte characters in lowered literal bytes back to the
/// original bytes.
pub fn restore_raw_bytes(bytes: Vec<u8>) -> Vec<u8> {
    // U+10FF00..U+10FFFF encode as F4 8F BC..BF xx.
    if !bytes.windows(2).any(|w| w == [0xF4, 0x8F]) {
        return bytes;
    }
    let Ok(s) = String::from_utf8(bytes.clone()) else { return bytes };
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let cp = c as u32;
        if (RAW_BASE..RAW_BASE + 256).contains(&cp) {
            out.push((cp - RAW_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_roundtrip() {
        let text = decode(b"\"a\xff\xfeb\"");
        assert!(text.starts_with("\"a"));
        let inner = text.trim_matches('"').as_bytes().to_vec();
        assert_eq!(restore_raw_bytes(inner), b"a\xff\xfeb");
    }

    #[test]
    fn lone_cr() {
        assert_eq!(normalize_lone_cr("a\rb\r\nc".into()), "a\nb\r\nc");
    }
}
