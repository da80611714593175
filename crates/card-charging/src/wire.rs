//! The gateway's wire formats: request bodies in four encodings, and the flat field set of
//! answers and callbacks (JSON with numbers or strings, or a query string).

use std::borrow::Cow;

use bytes::Bytes;
use paybridge_core::scalar::WireScalar;
use paybridge_core::{Currency, Money};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::CardChargingError;
use paybridge_core::CoreFailure as _;

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
    /// For a GET: the query to add to the endpoint (the fields); `None`: a POST of `body`.
    pub query: Option<String>,
    pub content_type: Option<Cow<'static, str>>,
    pub body: Bytes,
}

impl BodyEncoding {
    /// Encode `fields` (in order).
    pub(crate) fn encode(self, fields: &[(&str, &str)]) -> EncodedRequest {
        let form = || {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                s.append_pair(k, v);
            }
            s.finish()
        };
        match self {
            Self::Form => EncodedRequest {
                query: None,
                content_type: Some(Cow::Borrowed("application/x-www-form-urlencoded")),
                body: Bytes::from(form()),
            },
            Self::Query => EncodedRequest {
                query: Some(form()),
                content_type: None,
                body: Bytes::new(),
            },
            Self::Json => {
                let map: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                    .collect();
                EncodedRequest {
                    query: None,
                    content_type: Some(Cow::Borrowed("application/json")),
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
                    query: None,
                    content_type: Some(Cow::Owned(format!(
                        "multipart/form-data; boundary={boundary}"
                    ))),
                    body: Bytes::from(body),
                }
            }
        }
    }
}

/// The gateway's readings of a field: required text, status code, VND amount.
pub(crate) trait FieldExt {
    /// The value as text, or a decode error naming the missing field.
    fn required_text(&self, name: &str) -> Result<Cow<'_, str>, CardChargingError>;
    /// The value as owned text, or a decode error naming the missing field.
    fn required(&self, name: &str) -> Result<String, CardChargingError>;
    /// The value as an integer code.
    fn code(&self) -> Option<i64>;
    /// The value as VND. Integers are exact; strings are parsed exactly; floats follow
    /// [`Money::from_wire_f64`]'s rule (rounded to whole dong).
    fn vnd(&self, field: &str) -> Result<Option<Money>, CardChargingError>;
}

impl FieldExt for WireScalar<'_> {
    /// The value as text, or a decode error naming the missing field.
    fn required_text(&self, name: &str) -> Result<Cow<'_, str>, CardChargingError> {
        self.text()
            .ok_or_else(|| CardChargingError::decode(format!("field `{name}` is missing")))
    }

    /// The value as owned text, or a decode error naming the missing field.
    fn required(&self, name: &str) -> Result<String, CardChargingError> {
        self.required_text(name).map(Cow::into_owned)
    }

    fn code(&self) -> Option<i64> {
        self.as_i64()
    }

    /// The value as VND. Integers are exact; strings are parsed exactly; floats follow
    /// [`Money::from_wire_f64`]'s rule (rounded to whole dong).
    fn vnd(&self, field: &str) -> Result<Option<Money>, CardChargingError> {
        let bad = |e: paybridge_core::Error| CardChargingError::decode(format!("{field}: {e}"));
        let money = match self {
            WireScalar::Int(i) => Money::new(Decimal::from(*i), Currency::VND).map_err(bad)?,
            WireScalar::Float(f) => Money::from_wire_f64(*f, Currency::VND).map_err(bad)?,
            WireScalar::Text(t) if t.trim().is_empty() => return Ok(None),
            WireScalar::Text(t) => Money::parse(t, Currency::VND).map_err(bad)?,
            WireScalar::Null => return Ok(None),
        };
        // A negative or absurd amount is no credit: refused, naming the field.
        money.check_reported(field)?;
        Ok(Some(money))
    }
}

/// Every field an answer or a callback may carry. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireFields<'a> {
    #[serde(borrow)]
    pub status: WireScalar<'a>,
    #[serde(borrow)]
    pub message: WireScalar<'a>,
    #[serde(borrow)]
    pub request_id: WireScalar<'a>,
    #[serde(borrow)]
    pub declared_value: WireScalar<'a>,
    #[serde(borrow)]
    pub card_value: WireScalar<'a>,
    #[serde(borrow)]
    pub value: WireScalar<'a>,
    #[serde(borrow)]
    pub amount: WireScalar<'a>,
    #[serde(borrow)]
    pub code: WireScalar<'a>,
    #[serde(borrow)]
    pub serial: WireScalar<'a>,
    #[serde(borrow)]
    pub telco: WireScalar<'a>,
    #[serde(borrow)]
    pub trans_id: WireScalar<'a>,
    #[serde(borrow)]
    pub callback_sign: WireScalar<'a>,
}

impl<'a> WireFields<'a> {
    /// From a JSON object: serde, borrowing every string that needs no unescaping.
    pub(crate) fn from_json(body: &'a [u8]) -> Result<Self, CardChargingError> {
        let text = std::str::from_utf8(body)
            .map_err(|e| CardChargingError::decode_from(format!("body is not UTF-8: {e}"), e))?;
        serde_json::from_str(text).map_err(|e| {
            CardChargingError::decode_from(format!("not a JSON object of gateway fields: {e}"), e)
        })
    }

    /// The position of a wire name in the field order.
    fn index(name: &str) -> Option<usize> {
        Some(match name {
            "status" => 0,
            "message" => 1,
            "request_id" => 2,
            "declared_value" => 3,
            "card_value" => 4,
            "value" => 5,
            "amount" => 6,
            "code" => 7,
            "serial" => 8,
            "telco" => 9,
            "trans_id" => 10,
            "callback_sign" => 11,
            _ => return None,
        })
    }

    /// The slot of the field at position `i`.
    fn slot_at(&mut self, i: usize) -> Option<&mut WireScalar<'a>> {
        Some(match i {
            0 => &mut self.status,
            1 => &mut self.message,
            2 => &mut self.request_id,
            3 => &mut self.declared_value,
            4 => &mut self.card_value,
            5 => &mut self.value,
            6 => &mut self.amount,
            7 => &mut self.code,
            8 => &mut self.serial,
            9 => &mut self.telco,
            10 => &mut self.trans_id,
            11 => &mut self.callback_sign,
            _ => return None,
        })
    }

    /// The slot for a field name.
    fn slot(&mut self, name: &str) -> Option<&mut WireScalar<'a>> {
        self.slot_at(Self::index(name)?)
    }

    /// From a query string or a form body (every value is text).
    pub(crate) fn from_query(query: &'a [u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(query) {
            if let Some(slot) = f.slot(&k) {
                *slot = WireScalar::Text(v);
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_is_percent_encoded_in_order() {
        let r = BodyEncoding::Form.encode(&[("telco", "VIETTEL"), ("message", "Thành công&x")]);
        assert!(r.query.is_none());
        assert_eq!(
            &r.body[..],
            b"telco=VIETTEL&message=Th%C3%A0nh+c%C3%B4ng%26x"
        );
        let q = BodyEncoding::Query.encode(&[("a", "1"), ("b", "2")]);
        assert_eq!(q.query.as_deref(), Some("a=1&b=2"));
    }

    #[test]
    fn multipart_and_json_carry_every_field() {
        let m = BodyEncoding::Multipart.encode(&[("telco", "VIETTEL"), ("code", "1")]);
        let ct = m.content_type.unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let body = std::str::from_utf8(&m.body).unwrap();
        assert!(body.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"telco\"\r\n\r\nVIETTEL\r\n"
        )));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
        let j = BodyEncoding::Json.encode(&[("telco", "VIETTEL"), ("amount", "50000")]);
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
