//! Qvickly's signature recipe: `credentials.hash` is the lowercase hex HMAC-SHA512, keyed with
//! the merchant's secret, of `data` exactly as PHP's `json_encode` writes it (no whitespace,
//! keys in received order, `/` as `\/`, non-ASCII as `\uXXXX`; source: Qvickly's PHP samples).
//! A JSON callback is hashed over the raw bytes of `data` as received; a form is re-encoded the
//! way PHP would ([`crate::php_json::reencode`]); the booking API's XML DTO is rebuilt with
//! [`data_json`].

use paybridge_core::signature::HmacSha512Key;

use crate::php_json::encode_str;

/// `data` as Qvickly signs it, rebuilt from DTO fields: keys in Qvickly's order
/// `number, status, orderid, url`, absent fields left out, PHP escaping.
#[must_use]
pub fn data_json(
    number: Option<&str>,
    status: Option<&str>,
    orderid: Option<&str>,
    url: Option<&str>,
) -> String {
    let mut out = String::from("{");
    for (key, value) in [
        ("number", number),
        ("status", status),
        ("orderid", orderid),
        ("url", url),
    ] {
        if let Some(v) = value {
            if out.len() > 1 {
                out.push(',');
            }
            encode_str(&mut out, key);
            out.push(':');
            encode_str(&mut out, v);
        }
    }
    out.push('}');
    out
}

/// The hash Qvickly sends for `data` (what the sandbox signs its callbacks with).
#[must_use]
pub fn sign(key: &HmacSha512Key, data: &str) -> String {
    key.sign_hex(data.as_bytes())
}
