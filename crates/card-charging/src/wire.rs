//! The gateway's wire formats: request bodies in four encodings, and the flat field set of
//! answers and callbacks (JSON with numbers or strings, or a query string).

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use paybridge_core::{Currency, Money};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Visitor};

use crate::error::CardChargingError;

/// How a request's fields are put on the wire. Gateways differ; the form is the most common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyEncoding {
    /// `POST`, `application/x-www-form-urlencoded`.
    #[default]
    Form,
    /// `POST`, `multipart/form-data` (what the provider page's curl example sends).
    Multipart,
    /// `POST`, `application/json`, every value a string.
    Json,
    /// `GET` with the fields in the query string.
    Query,
}

/// An encoded request: method, URL, content type, body.
#[derive(Debug, Clone)]
pub(crate) struct EncodedRequest {
    pub get: bool,
    pub url: String,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl BodyEncoding {
    /// Encode `fields` (in order) for `endpoint`.
    pub(crate) fn encode(self, endpoint: &str, fields: &[(&str, &str)]) -> EncodedRequest {
        let form = || {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                s.append_pair(k, v);
            }
            s.finish()
        };
        match self {
            Self::Form => EncodedRequest {
                get: false,
                url: endpoint.to_owned(),
                content_type: Some("application/x-www-form-urlencoded".into()),
                body: Bytes::from(form()),
            },
            Self::Query => {
                let sep = if endpoint.contains('?') { '&' } else { '?' };
                EncodedRequest {
                    get: true,
                    url: format!("{endpoint}{sep}{}", form()),
                    content_type: None,
                    body: Bytes::new(),
                }
            }
            Self::Json => {
                let map: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                    .collect();
                EncodedRequest {
                    get: false,
                    url: endpoint.to_owned(),
                    content_type: Some("application/json".into()),
                    body: Bytes::from(serde_json::Value::Object(map).to_string()),
                }
            }
            Self::Multipart => {
                let boundary = format!("paybridge-{:016x}", fastrand::u64(..));
                let mut body = String::new();
                for (k, v) in fields {
                    body.push_str("--");
                    body.push_str(&boundary);
                    body.push_str("\r\nContent-Disposition: form-data; name=\"");
                    body.push_str(k);
                    body.push_str("\"\r\n\r\n");
                    body.push_str(v);
                    body.push_str("\r\n");
                }
                body.push_str("--");
                body.push_str(&boundary);
                body.push_str("--\r\n");
                EncodedRequest {
                    get: false,
                    url: endpoint.to_owned(),
                    content_type: Some(format!("multipart/form-data; boundary={boundary}")),
                    body: Bytes::from(body),
                }
            }
        }
    }
}

/// One wire value: gateways send the same field as a number, a string or null.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Flex<'a> {
    Int(i64),
    Float(f64),
    Text(Cow<'a, str>),
    #[default]
    Null,
}

impl<'de: 'a, 'a> Deserialize<'de> for Flex<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Flex<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a string or null")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Flex::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Flex::Int)
                    .map_err(|_| E::custom("number out of range"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Flex::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Flex::Text(Cow::Borrowed(if v { "true" } else { "false" })))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Flex::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Flex::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Flex::Text(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Flex::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Flex::Null)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> Flex<'a> {
    /// The value as text (numbers in their decimal form); `None` for null or empty text.
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Flex::Int(i) => Some(Cow::Owned(i.to_string())),
            Flex::Float(f) => Some(Cow::Owned(f.to_string())),
            Flex::Text(t) if !t.is_empty() => Some(Cow::Borrowed(t.as_ref())),
            Flex::Text(_) | Flex::Null => None,
        }
    }

    /// Like [`Flex::text`], keeping owned text as it is.
    pub(crate) fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Flex::Text(t) if !t.is_empty() => Some(t),
            other => other.text().map(|t| Cow::Owned(t.into_owned())),
        }
    }

    /// The value as text, or a decode error naming the missing field.
    pub(crate) fn required_text(&self, name: &str) -> Result<Cow<'_, str>, CardChargingError> {
        self.text()
            .ok_or_else(|| CardChargingError::Decode(format!("field `{name}` is missing")))
    }

    /// The value as owned text, or a decode error naming the missing field.
    pub(crate) fn required(&self, name: &str) -> Result<String, CardChargingError> {
        self.required_text(name).map(Cow::into_owned)
    }

    /// The value as an integer code.
    pub(crate) fn code(&self) -> Option<i64> {
        match self {
            Flex::Int(i) => Some(*i),
            Flex::Text(t) => t.trim().parse().ok(),
            Flex::Float(_) | Flex::Null => None,
        }
    }

    /// The value as VND. Integers are exact; strings are parsed exactly; floats follow
    /// [`Money::from_wire_f64`]'s rule (rounded to whole dong).
    pub(crate) fn vnd(&self, field: &str) -> Result<Option<Money>, CardChargingError> {
        let bad = |e: paybridge_core::Error| CardChargingError::Decode(format!("{field}: {e}"));
        match self {
            Flex::Int(i) => Money::new(Decimal::from(*i), Currency::VND)
                .map(Some)
                .map_err(bad),
            Flex::Float(f) => Money::from_wire_f64(*f, Currency::VND)
                .map(Some)
                .map_err(bad),
            Flex::Text(t) if t.trim().is_empty() => Ok(None),
            Flex::Text(t) => Money::parse(t, Currency::VND).map(Some).map_err(bad),
            Flex::Null => Ok(None),
        }
    }
}

/// Every field an answer or a callback may carry. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireFields<'a> {
    #[serde(borrow)]
    pub status: Flex<'a>,
    #[serde(borrow)]
    pub message: Flex<'a>,
    #[serde(borrow)]
    pub request_id: Flex<'a>,
    #[serde(borrow)]
    pub declared_value: Flex<'a>,
    #[serde(borrow)]
    pub card_value: Flex<'a>,
    #[serde(borrow)]
    pub value: Flex<'a>,
    #[serde(borrow)]
    pub amount: Flex<'a>,
    #[serde(borrow)]
    pub code: Flex<'a>,
    #[serde(borrow)]
    pub serial: Flex<'a>,
    #[serde(borrow)]
    pub telco: Flex<'a>,
    #[serde(borrow)]
    pub trans_id: Flex<'a>,
    #[serde(borrow)]
    pub callback_sign: Flex<'a>,
}

impl<'a> WireFields<'a> {
    /// From a JSON object.
    pub(crate) fn from_json(body: &'a [u8]) -> Result<Self, CardChargingError> {
        // One UTF-8 check of the whole body, then the flat-object fast path; serde decides
        // everything the fast path does not take.
        let text = std::str::from_utf8(body)
            .map_err(|e| CardChargingError::Decode(format!("body is not UTF-8: {e}")))?;
        if let Some(fields) = scan_flat_object(text) {
            return Ok(fields);
        }
        serde_json::from_str(text).map_err(|e| {
            CardChargingError::Decode(format!("not a JSON object of gateway fields: {e}"))
        })
    }

    /// The slot for a field name, and its bit in a duplicate-detection mask.
    fn slot(&mut self, name: &str) -> Option<(&mut Flex<'a>, u16)> {
        Some(match name {
            "status" => (&mut self.status, 1),
            "message" => (&mut self.message, 1 << 1),
            "request_id" => (&mut self.request_id, 1 << 2),
            "declared_value" => (&mut self.declared_value, 1 << 3),
            "card_value" => (&mut self.card_value, 1 << 4),
            "value" => (&mut self.value, 1 << 5),
            "amount" => (&mut self.amount, 1 << 6),
            "code" => (&mut self.code, 1 << 7),
            "serial" => (&mut self.serial, 1 << 8),
            "telco" => (&mut self.telco, 1 << 9),
            "trans_id" => (&mut self.trans_id, 1 << 10),
            "callback_sign" => (&mut self.callback_sign, 1 << 11),
            _ => return None,
        })
    }

    /// From a query string or a form body (every value is text).
    pub(crate) fn from_query(query: &'a [u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(query) {
            if let Some((slot, _)) = f.slot(&k) {
                *slot = Flex::Text(v);
            }
        }
        f
    }
}

/// The fast path for what gateways actually send: one flat JSON object whose values are
/// strings, numbers, booleans or null. Anything else (nesting, a known key twice, invalid
/// JSON) returns `None` and goes through serde, which gives the precise error. It is strict:
/// whatever it accepts, serde accepts with the same values (property-tested).
fn scan_flat_object(text: &str) -> Option<WireFields<'_>> {
    let b = text.as_bytes();
    let mut fields = WireFields::default();
    let mut seen = 0_u16;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(fields);
    }
    loop {
        let (key, next) = scan_key(text, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let (value, next) = scan_value(text, i)?;
        if let Some((slot, bit)) = fields.slot(key) {
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            *slot = value;
        }
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return (skip_ws(b, i + 1) == b.len()).then_some(fields),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Where a string's plain run ends: a quote, a backslash or a control character (which JSON
/// forbids raw).
fn is_string_stop(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The offset of the first [`is_string_stop`] byte in `b`, eight bytes at a time.
///
/// Per 64-bit word, `(v - 0x01…) & !v & 0x80…` flags the zero bytes of `v` (and `(x - 0x20…)
/// & !x & 0x80…` the bytes below 0x20). A flag can be spurious only *above* a real one,
/// because borrows run upwards, so the lowest flag is always exact. Callback bodies are a
/// few hundred bytes of short strings: this is most of their scanning time.
fn string_run_len(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v;
    let mut at = 0;
    while let Some(word) = b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(word);
        let flags = (zero_bytes(x ^ (ONES * u64::from(b'"')))
            | zero_bytes(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| is_string_stop(c))
        .map(|p| at + p)
}

/// An object key starting at its opening quote, as raw text. Keys are plain ASCII names;
/// a key with an escape is left to serde (`None`), which decodes it.
fn scan_key(text: &str, start: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let len = string_run_len(b.get(start + 1..)?)?;
    let end = start + 1 + len;
    (b.get(end) == Some(&b'"')).then_some(())?;
    Some((text.get(start + 1..end)?, end + 1))
}

/// A JSON string starting at `start` (its opening quote): the value and the index after it.
fn scan_string(text: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        // Slice search instead of indexing byte by byte: no bounds check per byte.
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

fn scan_value(text: &str, i: usize) -> Option<(Flex<'_>, usize)> {
    let b = text.as_bytes();
    let literal = |word: &str, v: Flex<'static>| {
        text.get(i..i + word.len())
            .filter(|w| *w == word)
            .map(|_| (v, i + word.len()))
    };
    match b.get(i)? {
        b'"' => scan_string(text, i).map(|(s, n)| (Flex::Text(s), n)),
        b'n' => literal("null", Flex::Null),
        b't' => literal("true", Flex::Text(Cow::Borrowed("true"))),
        b'f' => literal("false", Flex::Text(Cow::Borrowed("false"))),
        b'-' | b'0'..=b'9' => scan_number(text, i),
        _ => None,
    }
}

/// Decode the escapes of a JSON string body (between the quotes). `None` for an invalid
/// escape or a lone surrogate, as serde refuses them. Vietnamese messages arrive as `\uXXXX`,
/// so this is on the hot path.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at)?);
        let tail = rest.get(at + 1..)?;
        let mut chars = tail.chars();
        let consumed = match chars.next()? {
            '"' => {
                out.push('"');
                1
            }
            '\\' => {
                out.push('\\');
                1
            }
            '/' => {
                out.push('/');
                1
            }
            'b' => {
                out.push('\u{8}');
                1
            }
            'f' => {
                out.push('\u{c}');
                1
            }
            'n' => {
                out.push('\n');
                1
            }
            'r' => {
                out.push('\r');
                1
            }
            't' => {
                out.push('\t');
                1
            }
            'u' => {
                let hex4 = |s: &str| {
                    s.get(..4)
                        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let hi = hex4(tail.get(1..)?)?;
                if (0xD800..0xDC00).contains(&hi) {
                    let next = tail.get(5..)?;
                    let lo = hex4(next.strip_prefix("\\u")?)?;
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
            }
            _ => return None,
        };
        rest = tail.get(consumed..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// A JSON number starting at `start`. Integers (what gateways send) are checked and
/// converted in the same pass; a fraction or an exponent switches to the float grammar.
/// Integers beyond `i64` return `None`, so that serde reports them.
fn scan_number(text: &str, start: usize) -> Option<(Flex<'_>, usize)> {
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
        return is_json_number(token)
            .then(|| Some((Flex::Float(token.parse().ok()?), start + len)))?;
    }
    let n = if negative { n } else { n.checked_neg()? };
    Some((Flex::Int(n), i))
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

    fn via_serde(text: &str) -> Option<WireFields<'_>> {
        serde_json::from_str(text).ok()
    }

    /// Same values, whether borrowed or owned.
    fn same(a: &WireFields<'_>, b: &WireFields<'_>) -> bool {
        let norm = |w: &WireFields<'_>| {
            format!("{w:?}")
                .replace("Owned(", "")
                .replace("Borrowed(", "")
        };
        norm(a) == norm(b)
    }

    #[test]
    fn fast_path_agrees_with_serde_on_samples() {
        for text in [
            r#"{"status":1,"message":"Th\u00e0nh c\u00f4ng","request_id":"989876","declared_value":50000,"value":50000,"amount":25000,"code":"314688440422676","serial":"10003395125761","telco":"VIETTEL","trans_id":54180,"callback_sign":"17b118fe86852c52ea126c9537617f6d"}"#,
            "{\n  \"trans_id\": 8,\n  \"value\": null,\n  \"amount\": -3.5e2, \"x\": true\n}",
            "{}",
            r#"{"message":"a\"b\\c\/d"}"#,
        ] {
            let fast = scan_flat_object(text).unwrap_or_else(|| panic!("fast path refused {text}"));
            assert!(same(&fast, &via_serde(text).unwrap()), "{text}");
        }
        for text in [
            r#"{"x":[1]}"#,
            r#"{"amount":1,"amount":2}"#,
            r#"{"amount":01}"#,
            r#"{"a":1} x"#,
            r#"{"a":1.}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            assert!(scan_flat_object(text).is_none(), "{text}");
        }
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
                bytes.iter().position(|&c| is_string_stop(c))
            );
        }

        #[test]
        fn fast_path_never_panics_and_never_accepts_more_than_serde(text in "\\PC{0,120}") {
            if let Some(fast) = scan_flat_object(&text) {
                let slow = via_serde(&text);
                proptest::prop_assert!(slow.is_some(), "fast path accepted what serde refuses: {}", text);
                proptest::prop_assert!(same(&fast, &slow.unwrap()), "{}", text);
            }
        }

        #[test]
        fn unescape_agrees_with_serde(units in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..12), plain in "\\PC{0,8}") {
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

        #[test]
        fn fast_path_agrees_on_generated_objects(
            status in proptest::prelude::any::<i64>(),
            amount in proptest::prelude::any::<f64>(),
            message in "\\PC{0,20}",
            code in "[0-9a-z\"\\\\/]{0,10}",
        ) {
            let text = serde_json::json!({"status": status, "amount": amount, "message": message, "code": code, "value": null}).to_string();
            let fast = scan_flat_object(&text);
            proptest::prop_assert!(fast.is_some(), "{}", text);
            proptest::prop_assert!(same(&fast.unwrap(), &via_serde(&text).unwrap()), "{}", text);
        }
    }

    #[test]
    fn form_encoding_is_percent_encoded_in_order() {
        let r = BodyEncoding::Form.encode(
            "http://h/chargingws/v2",
            &[("telco", "VIETTEL"), ("message", "Thành công&x")],
        );
        assert!(!r.get);
        assert_eq!(
            &r.body[..],
            b"telco=VIETTEL&message=Th%C3%A0nh+c%C3%B4ng%26x"
        );
        let q = BodyEncoding::Query.encode("http://h/chargingws/v2", &[("a", "1"), ("b", "2")]);
        assert!(q.get);
        assert_eq!(q.url, "http://h/chargingws/v2?a=1&b=2");
    }

    #[test]
    fn multipart_and_json_carry_every_field() {
        let m = BodyEncoding::Multipart.encode("http://h", &[("telco", "VIETTEL"), ("code", "1")]);
        let ct = m.content_type.unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let body = std::str::from_utf8(&m.body).unwrap();
        assert!(body.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"telco\"\r\n\r\nVIETTEL\r\n"
        )));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
        let j = BodyEncoding::Json.encode("http://h", &[("telco", "VIETTEL"), ("amount", "50000")]);
        let v: serde_json::Value = serde_json::from_slice(&j.body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"telco": "VIETTEL", "amount": "50000"})
        );
    }

    #[test]
    fn flex_values() {
        let f = WireFields::from_json(br#"{"status":"99","amount":35000,"value":null,"declared_value":"50000","trans_id":8,"x":[1]}"#).unwrap();
        assert_eq!(f.status.code(), Some(99));
        assert_eq!(
            f.amount.vnd("amount").unwrap().unwrap().amount_string(),
            "35000"
        );
        assert_eq!(f.value.vnd("value").unwrap(), None);
        assert_eq!(
            f.declared_value.vnd("d").unwrap().unwrap().amount_string(),
            "50000"
        );
        assert_eq!(f.trans_id.text().as_deref(), Some("8"));
        let g = WireFields::from_json(br#"{"amount":35000.4}"#).unwrap();
        assert_eq!(
            g.amount.vnd("amount").unwrap().unwrap().amount_string(),
            "35000"
        );
        assert!(
            WireFields::from_json(br#"{"amount":"35000.5"}"#)
                .unwrap()
                .amount
                .vnd("amount")
                .is_err()
        );
    }
}
