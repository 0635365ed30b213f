//! A small base64 decoder (standard and URL-safe alphabets, padding optional), for recognising
//! JWTs and encoded payloads without a dependency.

/// Decodes `s`; `None` if it is not base64. Accepts both alphabets, with or without `=` padding.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        for (input, want) in [
            ("", Some(&b""[..])),
            ("aGk=", Some(&b"hi"[..])),
            ("aGk", Some(&b"hi"[..])),
            ("aGVsbG8gd29ybGQ", Some(&b"hello world"[..])),
            ("eyJhbGciOiJIUzI1NiJ9", Some(&br#"{"alg":"HS256"}"#[..])),
            ("-_8", Some(&[0xfb, 0xff][..])),
            ("+/8=", Some(&[0xfb, 0xff][..])),
            ("a", None),
            ("a*bc", None),
        ] {
            assert_eq!(decode(input).as_deref(), want, "{input}");
        }
    }
}
