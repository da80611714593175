//! A strict, allocation-light JSON scanner for the hot path of callback verification.
//!
//! Callbacks are small flat objects that must be read (and, for Qvickly, sliced byte-exactly)
//! a million times a second; serde builds more than they need. These functions read a
//! document in place and return `None` for anything they do not take — invalid JSON, a key
//! with an escape, an integer beyond `i64`, nesting deeper than [`MAX_DEPTH`] — so that the
//! caller falls back to `serde_json`, which gives the precise error. They never accept what
//! `serde_json` refuses (property-tested), and never panic or index out of bounds.

use std::borrow::Cow;

/// Nesting accepted by [`skip_value`]; deeper documents go to serde (which has its own limit).
pub const MAX_DEPTH: usize = 32;

/// A scalar value, as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A string (borrowed unless it had escapes).
    Str(Cow<'a, str>),
    /// An integer that fits `i64`.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// The index of the first non-whitespace byte at or after `i`.
#[must_use]
#[inline]
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The offset of the first quote, backslash or control byte in `b`, eight bytes at a time
/// ([`crate::bytes::first_of`]). Callback bodies are a few hundred bytes of short strings:
/// this is most of their scanning time.
#[must_use]
#[inline]
pub fn string_run_len(b: &[u8]) -> Option<usize> {
    crate::bytes::first_of(b, [b'"', b'\\'], true)
}

/// An object key starting at its opening quote, as raw text, and the index after it.
/// Keys are plain names; a key with an escape is left to serde (`None`).
#[must_use]
#[inline]
pub fn scan_key(text: &str, start: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let end = start + 1 + string_run_len(b.get(start + 1..)?)?;
    (b.get(end) == Some(&b'"')).then_some(())?;
    Some((text.get(start + 1..end)?, end + 1))
}

/// A string starting at its opening quote: the value (unescaped) and the index after it.
#[must_use]
#[inline]
pub fn scan_string(text: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        i += string_run_len(b.get(i..)?)?;
        match *b.get(i)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => return None,
        }
    }
    let value = if escaped {
        Cow::Owned(unescape(text.get(start + 1..i)?)?)
    } else {
        Cow::Borrowed(text.get(start + 1..i)?)
    };
    Some((value, i + 1))
}

/// A scalar starting at `i` (no leading whitespace) and the index after it; `None` for an
/// array, an object or anything invalid.
#[must_use]
#[inline]
pub fn scan_scalar(text: &str, i: usize) -> Option<(Scalar<'_>, usize)> {
    let literal = |word: &str, v: Scalar<'static>| {
        text.get(i..i + word.len())
            .filter(|w| *w == word)
            .map(|_| (v, i + word.len()))
    };
    match text.as_bytes().get(i)? {
        b'"' => scan_string(text, i).map(|(s, n)| (Scalar::Str(s), n)),
        b'n' => literal("null", Scalar::Null),
        b't' => literal("true", Scalar::Bool(true)),
        b'f' => literal("false", Scalar::Bool(false)),
        b'-' | b'0'..=b'9' => scan_number(text, i),
        _ => None,
    }
}

/// A number starting at `start`. Integers are checked and converted in the same pass; a
/// fraction or an exponent switches to the float grammar. Integers beyond `i64` are `None`.
#[inline]
fn scan_number(text: &str, start: usize) -> Option<(Scalar<'_>, usize)> {
    let b = text.as_bytes();
    let negative = b.get(start) == Some(&b'-');
    let first = start + usize::from(negative);
    // Accumulate negatively so that i64::MIN fits.
    let mut n: i64 = 0;
    let mut i = first;
    while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
        i += 1;
    }
    if i == first || (i > first + 1 && b.get(first) == Some(&b'0')) {
        return None;
    }
    if matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
        let len = b
            .get(start..)?
            .iter()
            .take_while(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
            .count();
        let token = text.get(start..start + len)?;
        if !is_json_number(token) {
            return None;
        }
        return Some((Scalar::Float(token.parse().ok()?), start + len));
    }
    let n = if negative { n } else { n.checked_neg()? };
    Some((Scalar::Int(n), i))
}

/// Any value starting at `i` (no leading whitespace), validated and skipped: the index after
/// it. Nested arrays and objects up to [`MAX_DEPTH`].
#[must_use]
pub fn skip_value(text: &str, i: usize) -> Option<usize> {
    skip_nested(text, i, 0)
}

fn skip_nested(text: &str, i: usize, depth: usize) -> Option<usize> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'{' if depth < MAX_DEPTH => scan_object(text, i, |_, at| skip_nested(text, at, depth + 1)),
        b'[' if depth < MAX_DEPTH => {
            let mut j = skip_ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return Some(j + 1);
            }
            loop {
                j = skip_ws(b, skip_nested(text, j, depth + 1)?);
                match b.get(j)? {
                    b',' => j = skip_ws(b, j + 1),
                    b']' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b'"' => {
            // Validated (escapes included) without building the string.
            scan_string(text, i).map(|(_, end)| end)
        }
        _ => scan_scalar(text, i).map(|(_, end)| end),
    }
}

/// Walk the object starting at `start` (its `{`): `member(key, value_start)` reads each value
/// and returns the index after it. Returns the index after the closing `}`.
pub fn scan_object<'t>(
    text: &'t str,
    start: usize,
    mut member: impl FnMut(&'t str, usize) -> Option<usize>,
) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        let (key, next) = scan_key(text, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, member(key, skip_ws(b, i + 1))?);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The object at `start` read as the scalar fields `names`, in that order (absent: `None`),
/// and the index after it. Other fields are skipped whatever they hold; a named field that
/// is not a scalar, or that appears twice, is `None` for the whole object (serde's call).
#[must_use]
pub fn scan_fields<'t, const N: usize>(
    text: &'t str,
    start: usize,
    names: [&str; N],
) -> Option<([Option<Scalar<'t>>; N], usize)> {
    let mut values = [const { None }; N];
    let end = scan_fields_into(
        text,
        start,
        |key| names.iter().position(|n| *n == key),
        |i, v| {
            if let Some(slot) = values.get_mut(i) {
                *slot = Some(v);
            }
        },
    )?;
    Some((values, end))
}

/// The object at `start` read field by field into the caller's own slots: `index` names the
/// slot of a field (fewer than 64; a `match` on the name is fastest), `set` stores its scalar. The rules of [`scan_fields`]
/// apply (a slot filled twice or a non-scalar value: `None`). No intermediate array.
pub fn scan_fields_into<'t>(
    text: &'t str,
    start: usize,
    index: impl Fn(&str) -> Option<usize>,
    mut set: impl FnMut(usize, Scalar<'t>),
) -> Option<usize> {
    let mut seen = 0_u64;
    scan_object(text, start, |key, at| {
        let Some(i) = index(key).filter(|i| *i < 64) else {
            return skip_value(text, at);
        };
        let bit = 1_u64 << i;
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        let (value, end) = scan_scalar(text, at)?;
        set(i, value);
        Some(end)
    })
}

/// A whole document that is one object: [`scan_object`] plus nothing but whitespace around.
pub fn scan_document<'t>(
    text: &'t str,
    member: impl FnMut(&'t str, usize) -> Option<usize>,
) -> Option<()> {
    let b = text.as_bytes();
    let end = scan_object(text, skip_ws(b, 0), member)?;
    (skip_ws(b, end) == b.len()).then_some(())
}

/// Decode the escapes of a string body (between the quotes). `None` for an invalid escape or
/// a lone surrogate, as serde refuses them. PHP sends non-ASCII as `\uXXXX`, so this is on
/// the hot path.
#[must_use]
pub fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at)?);
        let tail = rest.get(at + 1..)?;
        let simple = match tail.as_bytes().first()? {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => return None,
        };
        let consumed = if let Some(c) = simple {
            out.push(c);
            1
        } else {
            let hex4 = |s: &str| {
                s.get(..4)
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
            };
            let hi = hex4(tail.get(1..)?)?;
            if (0xD800..0xDC00).contains(&hi) {
                let lo = hex4(tail.get(5..)?.strip_prefix("\\u")?)?;
                if !(0xDC00..0xE000).contains(&lo) {
                    return None;
                }
                out.push(char::from_u32(
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                )?);
                11
            } else {
                out.push(char::from_u32(hi)?);
                5
            }
        };
        rest = tail.get(consumed..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    #[test]
    fn values_and_documents() {
        let text = r#" {"a": [1, -2.5e3, "x\"y", {"b": null}], "c": true, "d": {}} "#;
        let mut keys = Vec::new();
        assert!(
            scan_document(text, |k, at| {
                keys.push(k);
                skip_value(text, at)
            })
            .is_some()
        );
        assert_eq!(keys, ["a", "c", "d"]);
        assert_eq!(
            scan_scalar(r#""Th\u00e0nh""#, 0).unwrap().0,
            Scalar::Str(Cow::Owned("Thành".into()))
        );
        assert_eq!(scan_scalar("-0", 0).unwrap().0, Scalar::Int(0));
        assert_eq!(
            scan_scalar("-9223372036854775808", 0).unwrap().0,
            Scalar::Int(i64::MIN)
        );
        for refused in [
            "9223372036854775808",
            "01",
            "1.",
            "-",
            "nul",
            "\"a\u{1}\"",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
        ] {
            assert!(skip_value(refused, 0) != Some(refused.len()), "{refused}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(skip_value(&deep, 0), None);
        assert!(scan_document("{} x", |_, at| skip_value("", at)).is_none());
    }

    proptest::proptest! {
        #[test]
        fn word_scan_finds_the_first_stop_byte(
            mut bytes in proptest::collection::vec(0x20_u8.., 0..40),
            stops in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 0..3),
        ) {
            // Mostly plain bytes with a few arbitrary ones placed anywhere in the words.
            for (at, byte) in stops {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
            }
            proptest::prop_assert_eq!(
                string_run_len(&bytes),
                // Where a string's plain run ends: a quote, a backslash or a control
                // character (which JSON forbids raw).
                bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            );
        }

        #[test]
        fn never_accepts_what_serde_refuses(text in r#"[\[\]{}",:0-9a-z.eE+\- \\]{0,40}"#) {
            if skip_value(&text, 0) == Some(text.len()) {
                proptest::prop_assert!(serde_accepts(&text), "{}", text);
            }
        }

        #[test]
        fn accepts_what_serde_writes(value in proptest::prelude::any::<Vec<(String, Option<i64>, bool)>>()) {
            let text = serde_json::json!({"v": value, "s": "é/\"\\\u{1F600}"}).to_string();
            proptest::prop_assert_eq!(skip_value(&text, 0), Some(text.len()));
        }

        #[test]
        fn strings_agree_with_serde(units in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..12), plain in "\\PC{0,8}") {
            // Every character as a \uXXXX escape (PHP's habit), plus plain text and short escapes.
            let mut raw = String::new();
            for u in &units {
                let _ = std::fmt::Write::write_fmt(&mut raw, format_args!("\\u{u:04x}"));
            }
            raw.push_str(&plain.replace('\\', "\\\\").replace('"', "\\\""));
            raw.push_str("\\n\\/\\\"");
            let serde: Option<String> = serde_json::from_str(&format!("\"{raw}\"")).ok();
            proptest::prop_assert_eq!(unescape(&raw), serde, "{}", raw);
        }
    }
}
