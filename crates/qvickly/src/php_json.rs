//! PHP's `json_encode` (default flags), reproduced byte for byte.
//!
//! Qvickly signs `json_encode($data)`. When the data reaches us re-serialized (a form field
//! holding JSON, or the booking API's XML DTO), the signed bytes must be rebuilt exactly:
//! no whitespace, keys in the order received, `/` as `\/`, every non-ASCII character as
//! lowercase `\uXXXX` (UTF-16 surrogate pairs beyond the BMP), control characters as `\b`,
//! `\f`, `\n`, `\r`, `\t` or `\u00XX`. Numbers are decoded and re-encoded as PHP does
//! ([`php_number`]): `100.50` → `100.5`, `1.0` → `1`, `1e2` → `100`, `-0` → `0`.

use std::fmt::Write as _;

/// Why a document could not be re-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Nesting deeper than this is refused (no stack exhaustion on hostile input).
const MAX_DEPTH: usize = 64;

/// Append `s` as a PHP `json_encode` string literal (quotes included).
pub fn encode_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || u32::from(c) >= 0x80 => {
                let mut units = [0_u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number's text as `json_encode(json_decode($text))` writes it (PHP ≥ 7.1, default
/// `serialize_precision = -1`, no `JSON_PRESERVE_ZERO_FRACTION`):
/// - without `.`, `e` or `E` and within `i64`: an integer, written in decimal (`-0` → `0`);
/// - otherwise a double ([`php_double`]); one out of `f64`'s range (`1e400`) cannot have been
///   written by `json_encode` (it fails on infinity), so it is an error.
pub fn php_number(text: &str) -> Result<String, JsonError> {
    if !text.contains(['.', 'e', 'E'])
        && let Ok(i) = text.parse::<i64>()
    {
        return Ok(i.to_string());
    }
    let f: f64 = text
        .parse()
        .map_err(|_| JsonError(format!("{text} is not a number")))?;
    if !f.is_finite() {
        return Err(JsonError(format!(
            "{text} is beyond a double: PHP's json_encode cannot have written it"
        )));
    }
    Ok(php_double(f))
}

/// A double as PHP's `json_encode` writes it (`php_gcvt` with precision 17 in mode 0): the
/// shortest digits that read back as the same double; positional when the decimal point
/// falls between 4 places before the first digit and 17 places after it
/// (`0.0001`, `100.5`, `10000000000000000`), else `d.ddde±x` (`1.0e-5`, `1.0e+25`); no
/// fraction is added to a whole number (`100`), and negative zero is `-0`.
#[must_use]
pub fn php_double(f: f64) -> String {
    // Rust's `{:e}` prints the shortest round-trip digits, as zend_dtoa's mode 0 does.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exponent.parse::<i32>().unwrap_or(0) + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if f.is_sign_negative() {
        out.push('-');
    }
    if !(-3..=17).contains(&decpt) {
        let mut chars = digits.chars();
        out.extend(chars.next());
        out.push('.');
        let rest: String = chars.collect();
        out.push_str(if rest.is_empty() { "0" } else { &rest });
        let e = decpt - 1;
        let _ = write!(
            out,
            "e{}{}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in decpt..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let split = usize::try_from(decpt).unwrap_or(0);
        let (whole, fraction) = digits.split_at(split.min(digits.len()));
        out.push_str(whole);
        for _ in digits.len()..split {
            out.push('0');
        }
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
    }
    out
}

/// Re-encode a JSON document the way PHP's `json_encode(json_decode($text))` would, keeping
/// key order and number text. Invalid JSON is an error.
pub fn reencode(text: &str) -> Result<String, JsonError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        out: String::with_capacity(text.len() + 16),
    };
    p.ws();
    p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(JsonError(format!("trailing data at byte {}", p.i)));
    }
    Ok(p.out)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    out: String,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, JsonError> {
        Err(JsonError(format!("{what} at byte {}", self.i)))
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        match self.s.get(self.i) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let s = self.string()?;
                encode_str(&mut self.out, &s);
                Ok(())
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err("expected a value"),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        if self.text.get(self.i..self.i + word.len()) == Some(word) {
            self.out.push_str(word);
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return self.err("invalid number"),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return self.err("invalid number");
            }
            self.digits();
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return self.err("invalid number");
            }
            self.digits();
        }
        match self.text.get(start..self.i) {
            Some(n) => {
                let php = php_number(n)?;
                self.out.push_str(&php);
                Ok(())
            }
            None => self.err("invalid number"),
        }
    }

    fn digits(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }

    /// A string literal, decoded.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let rest = self.s.get(self.i..).unwrap_or_default();
            let run = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(rest.len());
            match self.text.get(self.i..self.i + run) {
                Some(chunk) => out.push_str(chunk),
                None => return self.err("invalid UTF-8 boundary"),
            }
            self.i += run;
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return self.err("control character in string"),
                None => return self.err("unterminated string"),
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let c = match self.s.get(self.i) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.i += 1;
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    if self.text.get(self.i..self.i + 2) != Some("\\u") {
                        return self.err("unpaired surrogate");
                    }
                    self.i += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return self.err("unpaired surrogate");
                    }
                    let code =
                        0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                    return char::from_u32(code).map_or_else(|| self.err("invalid code point"), Ok);
                }
                return char::from_u32(u32::from(hi))
                    .map_or_else(|| self.err("unpaired surrogate"), Ok);
            }
            _ => return self.err("invalid escape"),
        };
        self.i += 1;
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let digits = self
            .text
            .get(self.i..self.i + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits.and_then(|d| u16::from_str_radix(d, 16).ok()) {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => self.err("invalid \\u escape"),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), JsonError> {
        self.i += 1;
        self.out.push('{');
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.out.push('}');
            return Ok(());
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return self.err("expected a key");
            }
            let key = self.string()?;
            encode_str(&mut self.out, &key);
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return self.err("expected ':'");
            }
            self.i += 1;
            self.out.push(':');
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            if self.separator(b'}')? {
                return Ok(());
            }
        }
    }

    /// After a member or an element: `,` (more follow: `false`) or `close` (the container
    /// ends: `true`), copied to the output.
    fn separator(&mut self, close: u8) -> Result<bool, JsonError> {
        match self.s.get(self.i) {
            Some(b',') => {
                self.i += 1;
                self.out.push(',');
                Ok(false)
            }
            Some(&c) if c == close => {
                self.i += 1;
                self.out.push(char::from(c));
                Ok(true)
            }
            _ => self.err(&format!("expected ',' or '{}'", char::from(close))),
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), JsonError> {
        self.i += 1;
        self.out.push('[');
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            self.out.push(']');
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            if self.separator(b']')? {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_escaping_rules() {
        let mut s = String::new();
        encode_str(&mut s, "a/b\"c\\d\u{1}\n\tå😀\u{7f}");
        assert_eq!(
            s,
            "\"a\\/b\\\"c\\\\d\\u0001\\n\\t\\u00e5\\ud83d\\ude00\u{7f}\""
        );
    }

    #[test]
    fn reencode_matches_php_output() {
        // PHP 8's `json_encode(json_decode($in))` (checked with php-cli; `2.50` reads as
        // the double 2.5 and is written `2.5`).
        let input = "{ \"number\": \"1001\",\n \"status\": \"Paid\", \"orderid\": \"A/1\", \"url\": \"https://shop.se/tack?q=åäö\", \"emoji\": \"😀\", \"nested\": {\"a\": [1, 2.50, {\"b\": \"Ö\"}], \"e\": {}, \"l\": []}, \"n\": null, \"t\": true }";
        let php = r#"{"number":"1001","status":"Paid","orderid":"A\/1","url":"https:\/\/shop.se\/tack?q=\u00e5\u00e4\u00f6","emoji":"\ud83d\ude00","nested":{"a":[1,2.5,{"b":"\u00d6"}],"e":{},"l":[]},"n":null,"t":true}"#;
        assert_eq!(reencode(input).unwrap(), php);
        // Already-encoded input comes back unchanged, escapes and all.
        assert_eq!(reencode(php).unwrap(), php);
        assert_eq!(
            reencode(r#"{"id":"123456","amount":100,"currency":"SEK"}"#).unwrap(),
            r#"{"id":"123456","amount":100,"currency":"SEK"}"#
        );
    }

    /// `json_encode(json_decode($n))` as php-cli 8.2 printed it for each input.
    const PHP_NUMBERS: [(&str, &str); 30] = [
        ("100.50", "100.5"),
        ("1.0", "1"),
        ("1e2", "100"),
        ("-0", "0"),
        ("-0.0", "-0"),
        ("0", "0"),
        ("2.50", "2.5"),
        ("0.1", "0.1"),
        ("0.0001", "0.0001"),
        ("0.00001", "1.0e-5"),
        ("1e-5", "1.0e-5"),
        ("1e15", "1000000000000000"),
        ("1e16", "10000000000000000"),
        ("1e17", "1.0e+17"),
        ("1e18", "1.0e+18"),
        ("1e25", "1.0e+25"),
        ("123456789.12345", "123456789.12345"),
        ("9223372036854775807", "9223372036854775807"),
        ("9223372036854775808", "9.223372036854776e+18"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775809", "-9.223372036854776e+18"),
        ("12345678901234567890", "1.2345678901234567e+19"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("5e-324", "5.0e-324"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("3.14159", "3.14159"),
        ("-1.5e-7", "-1.5e-7"),
        ("100000000000000000000.0", "1.0e+20"),
        ("99999999999999999", "99999999999999999"),
        ("1234567890123456789.5", "1.2345678901234568e+18"),
    ];

    #[test]
    fn numbers_are_written_as_php_writes_them() {
        for (input, php) in PHP_NUMBERS {
            assert_eq!(php_number(input).unwrap(), php, "{input}");
            // PHP's own output is a fixed point — but for `-0`, which PHP itself reads back
            // as the integer 0.
            if php != "-0" {
                assert_eq!(php_number(php).unwrap(), php, "{php}");
            }
        }
        assert!(php_number("1e400").is_err());
        assert_eq!(
            reencode(r#"{"amount":100.50,"n":1.0,"e":1e2}"#).unwrap(),
            r#"{"amount":100.5,"n":1,"e":100}"#
        );
    }

    /// PHP's double output written another way, for the property test: positional digits
    /// from Rust's `{}` (shortest, never an exponent), moved into PHP's layout.
    fn model(f: f64) -> String {
        let positional = format!("{}", f.abs());
        let (whole, fraction) = positional.split_once('.').unwrap_or((&positional, ""));
        let all = format!("{whole}{fraction}");
        let lead = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_matches('0');
        let sign = if f.is_sign_negative() { "-" } else { "" };
        if digits.is_empty() {
            return format!("{sign}0");
        }
        // Where the decimal point falls, counted from the first significant digit.
        let decpt = i64::try_from(whole.len()).unwrap() - i64::try_from(lead).unwrap();
        if (-3..=17).contains(&decpt) {
            // `{}` writes no fraction for a whole number and no trailing zeros after one.
            format!("{sign}{positional}")
        } else {
            let (first, rest) = digits.split_at(1);
            let rest = if rest.is_empty() { "0" } else { rest };
            let e = decpt - 1;
            format!(
                "{sign}{first}.{rest}e{}{}",
                if e < 0 { "-" } else { "+" },
                e.abs()
            )
        }
    }

    proptest::proptest! {
        #[test]
        fn doubles_match_the_model_of_php_output(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            let php = php_double(f);
            proptest::prop_assert_eq!(&php, &model(f));
            // What PHP wrote, read again, is written the same way (what a PHP sender signs is
            // what we rebuild), and is the same double (`-0` reads as PHP's integer 0).
            proptest::prop_assume!(php != "-0");
            proptest::prop_assert_eq!(php_number(&php).map_err(|e| proptest::test_runner::TestCaseError::fail(e.0))?, php.clone());
            proptest::prop_assert_eq!(php.parse::<f64>().ok(), Some(f));
        }

        #[test]
        fn decimals_written_any_way_come_out_as_php_writes_them(cents in -10_000_000_i64..10_000_000, zeros in 0_usize..3) {
            // 100.50, 100.500, 1.005e2: one double, one PHP text.
            let text = format!("{}.{:02}{}", cents / 100, (cents % 100).abs(), "0".repeat(zeros));
            let text = if cents < 0 && cents > -100 { format!("-{}", text.trim_start_matches('-')) } else { text };
            let f: f64 = text.parse().unwrap();
            proptest::prop_assert_eq!(php_number(&text).unwrap(), model(f));
        }
    }

    #[test]
    fn invalid_json_is_refused() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "[1,]",
            "{\"a\":01}",
            "\"\\ud83d\"",
            "\"\\x\"",
            "tru",
            "{} x",
            "\"a\u{1}\"",
        ] {
            assert!(reencode(bad).is_err(), "{bad:?} accepted");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(reencode(&deep).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = reencode(&text);
        }

        #[test]
        fn output_is_json_with_the_same_value(s in "\\PC{0,40}", n in proptest::prelude::any::<i32>()) {
            let doc = serde_json::json!({"s": s, "n": n, "a": [s, {"k": null}]}).to_string();
            let php = reencode(&doc).map_err(|e| proptest::test_runner::TestCaseError::fail(e.0))?;
            proptest::prop_assert!(php.is_ascii());
            let back: serde_json::Value = serde_json::from_str(&php).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let orig: serde_json::Value = serde_json::from_str(&doc).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(back, orig);
            proptest::prop_assert_eq!(reencode(&php).map_err(|e| proptest::test_runner::TestCaseError::fail(e.0))?, php.clone());
        }
    }
}
