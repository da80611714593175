//! Payoo's payment notification (`NotifyData`, posted to the order's `notify_url`), in the two
//! forms Payoo sends, verified the way Payoo signs them. The merchant answers the literal
//! [`NOTIFY_RECEIVED`].
//!
//! **XML package** (the `KeyFields` form, what every public integration verifies):
//! `<PayooConnectionPackage><Data>base64 of the PaymentNotification XML</Data>
//! <Signature>…</Signature><PayooSessionID>…</PayooSessionID><KeyFields>A|B|…</KeyFields>`.
//! `Signature` = SHA-512 (hex, either case) of the checksum key, then `|` and the value of
//! each field `KeyFields` names, joined with `|`. The values are read from the decoded Data;
//! a field's name is its tag except for the mappings of [`key_field_tag`] (shop-order and
//! pay-at-store packages name some fields differently). A missing or empty value is `0` for
//! `ShopID`, `OrderCashAmount` and `ShippingDays` and empty otherwise; `OrderDescription` is
//! URL-decoded (`+` is a space) before hashing.
//!
//! `KeyFields` travels unsigned beside the signature, so a verifier that trusted it blindly
//! would let an attacker drop the amount from the signed list. We refuse a package whose
//! `KeyFields` leaves the state, the order number, the amount or the shop unsigned
//! ([`REQUIRED_KEY_FIELDS`]), and we hand out **only the fields `KeyFields` names** — what the
//! signature vouches for — never the rest of the Data document.
//!
//! **JSON package** (orders created with `JsonResponse=TRUE`): `NotifyData` = base64 of
//! `{"ResponseData": "<JSON text>", "Signature": "…"}`, `Signature` = SHA-512 of the checksum
//! key + `ResponseData` + the IP address Payoo called from. Every field of `ResponseData` is
//! signed; the verifier needs the caller's address ([`RawNotification::remote_addr`]).

use std::net::IpAddr;

use base64::Engine as _;
use paybridge_core::limits::Limits;
use paybridge_core::notification::Unverified;
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};
use paybridge_core::xml::text;
use paybridge_core::{Handled, PaymentStatus, RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};

use crate::error::PayooError;
use paybridge_core::CoreFailure as _;

/// What the merchant answers a notification with.
pub const NOTIFY_RECEIVED: &str = "NOTIFY_RECEIVED";

/// The `KeyFields` names every accepted XML package must sign: without them the state, the
/// order, the amount or the shop it reports would be unsigned.
pub const REQUIRED_KEY_FIELDS: [&str; 4] = ["State", "OrderNo", "OrderCashAmount", "ShopID"];

/// The `KeyFields` of Payoo's shop-order packages (the list its real packages carry).
pub const SHOP_ORDER_KEY_FIELDS: &str = "PaymentMethod|State|Session|BusinessUsername|ShopID|ShopTitle|ShopDomain|ShopBackUrl|OrderNo|OrderCashAmount|StartShippingDate|ShippingDays|OrderDescription|NotifyUrl|PaymentExpireDate";

/// The `KeyFields` of Payoo's pay-at-store packages (the list its real packages carry).
pub const PAY_AT_STORE_KEY_FIELDS: &str =
    "State|ShopID|OrderNo|OrderCashAmount|ShippingDays|BillingCode";

/// The most names a `KeyFields` list may hold (Payoo's longest list has 15).
const MAX_KEY_FIELDS: usize = 64;

/// How long Payoo may deliver the same notification again: it retries until acknowledged
/// with [`NOTIFY_RECEIVED`]; a ledger keeps handled notifications this long (no public figure:
/// 30 days, a margin over any retry schedule seen).
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(30 * 24);

/// Which of Payoo's two notification forms a package was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyForm {
    /// The XML package signed over its `KeyFields`.
    KeyFields,
    /// The JSON package (`ResponseData` + `Signature`, over the caller's IP too).
    Json,
}

/// A verified notification: only signed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayooNotification {
    /// The form it came in.
    pub form: NotifyForm,
    /// Every signed field, in signing order, under Payoo's name for it (the `KeyFields` names
    /// of an XML package, with the values as hashed; the `ResponseData` keys of a JSON one).
    pub fields: Vec<(String, String)>,
    /// The order number (`OrderNo`).
    pub order_no: String,
    /// The state: `State` of an XML package (`PAYMENT_RECEIVED`, `PAYMENT_PROCESSING`),
    /// `PaymentStatus` of a JSON one (`1` = paid).
    pub state: String,
    /// The shop (`ShopID` / `ShopId`).
    pub shop_id: String,
    /// The amount paid, as signed (`OrderCashAmount` / `OrderCash`), in VND.
    pub amount: String,
}

impl PayooNotification {
    /// A signed field by Payoo's name for it.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        crate::signature::field(&self.fields, name)
    }

    /// The payment method, when it is signed (`PaymentMethod`).
    #[must_use]
    pub fn payment_method(&self) -> Option<&str> {
        self.field("PaymentMethod")
    }

    /// The payment's state as this notification reports it; its amount read exactly and
    /// checked ([`paybridge_core::Error::Callback`] when it is no valid VND amount).
    pub fn state(&self) -> paybridge_core::Result<paybridge_core::PaymentState> {
        let field = match self.form {
            NotifyForm::KeyFields => "OrderCashAmount",
            NotifyForm::Json => "OrderCash",
        };
        let amount = paybridge_core::Money::parse_reported(
            &self.amount,
            paybridge_core::Currency::VND,
            field,
        )
        .map_err(paybridge_core::Error::into_callback_error)?;
        Ok(paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef::merchant(self.order_no.clone()),
            status: self.status(),
            provider_status: self.state.clone(),
            amount: Some(amount),
            message: None,
        })
    }

    /// The natural key of this notification: order number and normalized status, so the XML
    /// and the JSON form of the same news are one key.
    #[must_use]
    pub fn dedup_key(&self) -> String {
        format!("{}:{}", self.order_no, self.status().as_str())
    }

    /// The normalized status: `PAYMENT_RECEIVED` (XML) or `1` (JSON) is succeeded; our reading
    /// of `CANCELLED` / `-1` is cancelled; anything else (`PAYMENT_PROCESSING`, …) pending.
    #[must_use]
    pub fn status(&self) -> PaymentStatus {
        match self.state.trim() {
            "PAYMENT_RECEIVED" | "1" => PaymentStatus::Succeeded,
            "CANCELLED" | "-1" => PaymentStatus::Cancelled,
            _ => PaymentStatus::Pending,
        }
    }
}

/// Record a verified notification in `seen` (key: `payoo:` + [`PayooNotification::dedup_key`],
/// as in the ledger) and report whether it is a duplicate.
pub async fn deduplicate(
    notification: Verified<PayooNotification>,
    seen: &dyn SeenStore,
) -> Result<Handled<PayooNotification>, PayooError> {
    let key = format!("payoo:{}", notification.dedup_key());
    Ok(Handled::record(notification, &key, seen).await?)
}

/// The tag that carries the `KeyFields` name `field` in a package's Data: a pay-at-store
/// package (one with a non-empty `<BillingCode>`) names its tags as `KeyFields` does except
/// `ShopID` → `ShopId`; a shop-order package writes most of them in snake case.
#[must_use]
pub fn key_field_tag(field: &str, pay_at_store: bool) -> &str {
    if pay_at_store {
        return if field == "ShopID" { "ShopId" } else { field };
    }
    match field {
        "Session" => "session",
        "BusinessUsername" => "username",
        "ShopID" => "shop_id",
        "ShopTitle" => "shop_title",
        "ShopDomain" => "shop_domain",
        "ShopBackUrl" => "shop_back_url",
        "OrderNo" => "order_no",
        "OrderCashAmount" => "order_cash_amount",
        "StartShippingDate" => "order_ship_date",
        "ShippingDays" => "order_ship_days",
        "OrderDescription" => "order_description",
        "NotifyUrl" => "notify_url",
        "PaymentExpireDate" => "validity_time",
        other => other,
    }
}

/// The value Payoo hashes for `field`, given its text in the Data (`None` when absent).
fn key_field_value(field: &str, raw: Option<String>) -> Vec<u8> {
    let raw = raw.unwrap_or_default();
    match field {
        "ShopID" | "OrderCashAmount" | "ShippingDays" if raw.is_empty() => b"0".to_vec(),
        "OrderDescription" => url_decode(&raw),
        _ => raw.into_bytes(),
    }
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte; anything else (a lone `%`) stays — what
/// `percent_decode` does once the `+`s are spaces (a `%2B` still decodes to `+`).
fn url_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).collect()
}

/// The signed values of an XML package's Data: `(name, value)` per `KeyFields` name.
fn signed_values(
    data: &roxmltree::Document<'_>,
    key_fields: &[&str],
) -> Result<Vec<(String, Vec<u8>)>, PayooError> {
    let leaf = |tag: &str| -> Result<Option<roxmltree::Node<'_, '_>>, PayooError> {
        let mut found = data
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == tag);
        let first = found.next();
        if found.next().is_some() {
            return Err(PayooError::notify_signature(format!(
                "<{tag}> appears more than once in the Data"
            )));
        }
        Ok(first)
    };
    let pay_at_store = leaf("BillingCode")?.is_some_and(|n| !text(n).is_empty());
    key_fields
        .iter()
        .map(|&name| {
            let node = leaf(key_field_tag(name, pay_at_store))?;
            Ok((name.to_owned(), key_field_value(name, node.map(text))))
        })
        .collect()
}

/// The signed parts: key, then `|` and each value.
fn signed_parts<'a>(key: &'a [u8], values: &'a [(String, Vec<u8>)]) -> Vec<&'a [u8]> {
    let mut parts = Vec::with_capacity(1 + 2 * values.len());
    parts.push(key);
    for (_, v) in values {
        parts.push(b"|");
        parts.push(v);
    }
    parts
}

/// An XML `NotifyData` package for `data_xml`, signed over `key_fields` (`A|B|…`) as Payoo
/// signs it — what the sandbox posts. `data_xml` must be a well-formed notification.
pub fn keyfields_package(
    checksum_key: &str,
    data_xml: &str,
    key_fields: &str,
) -> Result<String, PayooError> {
    let doc = paybridge_core::xml::parse(data_xml)?;
    let names: Vec<&str> = key_fields.split('|').collect();
    let values = signed_values(&doc, &names)?;
    let signature = sha512_hex(&signed_parts(checksum_key.as_bytes(), &values)).to_uppercase();
    let data = base64::engine::general_purpose::STANDARD.encode(data_xml);
    Ok(format!(
        "<?xml version=\"1.0\"?><PayooConnectionPackage><Data>{data}</Data><Signature>{signature}</Signature><PayooSessionID>sandbox</PayooSessionID><KeyFields>{}</KeyFields></PayooConnectionPackage>",
        paybridge_core::xml::escape_text(key_fields)
    ))
}

/// A JSON `NotifyData` package (base64) for `response_data`, signed for a call from `ip` —
/// what the sandbox posts for an order that asked for JSON notifications.
#[must_use]
pub fn json_package(checksum_key: &str, response_data: &str, ip: IpAddr) -> String {
    let ip = ip.to_canonical().to_string();
    let signature = sha512_hex(&[
        checksum_key.as_bytes(),
        response_data.as_bytes(),
        ip.as_bytes(),
    ])
    .to_uppercase();
    let package = serde_json::json!({"ResponseData": response_data, "Signature": signature});
    base64::engine::general_purpose::STANDARD.encode(package.to_string())
}

/// Verifies Payoo's notifications with the checksum key (the one inbound verb: `verify`).
/// `Debug` shows the key as `[REDACTED]` (it is a `SecretString`).
#[derive(Debug, Clone)]
pub struct CallbackVerifier {
    checksum_key: SecretString,
}

impl CallbackVerifier {
    /// A verifier for notifications signed with `checksum_key`.
    #[must_use]
    pub fn new(checksum_key: SecretString) -> Self {
        Self { checksum_key }
    }

    /// Verify a posted notification: its body (see [`verify_body_from`](Self::verify_body_from))
    /// and, for the JSON form, the address it came from.
    pub fn verify(&self, raw: &RawNotification) -> Result<Verified<PayooNotification>, PayooError> {
        self.verify_body_from(&raw.body, raw.remote_addr)
    }

    /// Verify an XML (`KeyFields`) notification body; a JSON one needs the caller's address:
    /// [`verify_body_from`](Self::verify_body_from).
    pub fn verify_body(&self, body: &[u8]) -> Result<Verified<PayooNotification>, PayooError> {
        self.verify_body_from(body, None)
    }

    /// Verify a notification body — the posted form (`NotifyData=…`), or the `NotifyData`
    /// value itself (the XML package, the base64 JSON package, or that JSON) — sent from
    /// `remote_ip` (required for the JSON form, which is signed over it). A body that is no
    /// notification is [`paybridge_core::Error::Callback`]; a signature that does not verify,
    /// or a `KeyFields` list that leaves a required field unsigned, is
    /// [`PayooError::NotifySignature`].
    pub fn verify_body_from(
        &self,
        body: &[u8],
        remote_ip: Option<IpAddr>,
    ) -> Result<Verified<PayooNotification>, PayooError> {
        read_notification(self.checksum_key.expose_secret(), body, remote_ip).map_err(|e| match e {
            PayooError::Core(e) => PayooError::Core(e.into_callback_error()),
            other => other,
        })
    }
}

/// The package: the `NotifyData` value, or the body itself when it is one.
fn package_of(body: &[u8]) -> Result<Vec<u8>, PayooError> {
    let trimmed = body.trim_ascii();
    if matches!(trimmed.first(), Some(b'<' | b'{')) {
        return Ok(trimmed.to_vec());
    }
    let value = form_urlencoded::parse(body)
        .find(|(k, _)| k == "NotifyData")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| PayooError::decode("no NotifyData field"))?;
    let value = value.trim();
    if matches!(value.as_bytes().first(), Some(b'<' | b'{')) {
        return Ok(value.as_bytes().to_vec());
    }
    // The JSON form: base64 of the JSON package.
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|e| PayooError::decode_from(format!("NotifyData is not base64: {e}"), e))
}

fn read_notification(
    checksum_key: &str,
    body: &[u8],
    remote_ip: Option<IpAddr>,
) -> Result<Verified<PayooNotification>, PayooError> {
    Limits::CALLBACK.check_size(body)?;
    let package = package_of(body)?;
    if package.first() == Some(&b'{') {
        read_json(checksum_key, &package, remote_ip)
    } else {
        let package = std::str::from_utf8(&package)
            .map_err(|e| PayooError::decode_from(format!("NotifyData is not UTF-8: {e}"), e))?;
        read_keyfields(checksum_key, package)
    }
}

/// What core's check said, without its own "signature verification failed" prefix.
fn mismatch(e: paybridge_core::Error) -> String {
    match e {
        paybridge_core::Error::Signature(why) => why,
        other => other.to_string(),
    }
}

/// The one element child of the package named `name` (a repeated one is refused: the
/// signature would be read from one and the data from another).
fn only_child<'a, 'i>(
    root: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Result<Option<roxmltree::Node<'a, 'i>>, PayooError> {
    let mut found = root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(PayooError::decode(format!(
            "<{name}> appears more than once in the NotifyData package"
        )));
    }
    Ok(first)
}

fn read_keyfields(
    checksum_key: &str,
    package: &str,
) -> Result<Verified<PayooNotification>, PayooError> {
    let doc = paybridge_core::xml::parse_limited(package, &Limits::CALLBACK)?;
    let root = doc.root_element();
    if root.tag_name().name() != "PayooConnectionPackage" {
        return Err(PayooError::decode(format!(
            "expected <PayooConnectionPackage>, found <{}>",
            root.tag_name().name()
        )));
    }
    let data = only_child(root, "Data")?
        .map(text)
        .ok_or_else(|| PayooError::decode("no Data in the NotifyData package"))?;
    let signature = only_child(root, "Signature")?
        .map(text)
        .ok_or_else(|| PayooError::notify_signature("the package has no Signature"))?;
    let key_fields = only_child(root, "KeyFields")?.map(text).ok_or_else(|| {
        PayooError::notify_signature("the package has no KeyFields: nothing says what is signed")
    })?;
    let names: Vec<&str> = key_fields.split('|').map(str::trim).collect();
    if names.len() > MAX_KEY_FIELDS || names.iter().any(|n| n.is_empty()) {
        return Err(PayooError::decode(format!(
            "KeyFields {key_fields:?} is not a list of at most {MAX_KEY_FIELDS} names"
        )));
    }
    if let Some(missing) = REQUIRED_KEY_FIELDS.iter().find(|f| !names.contains(f)) {
        return Err(PayooError::notify_signature(format!(
            "KeyFields {key_fields:?} leaves {missing} unsigned"
        )));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| PayooError::decode_from(format!("Data is not base64: {e}"), e))?;
    let data_xml = String::from_utf8(raw)
        .map_err(|e| PayooError::decode_from(format!("Data is not UTF-8: {e}"), e))?;
    let inner = paybridge_core::xml::parse_limited(&data_xml, &Limits::CALLBACK)?;
    let values = signed_values(&inner, &names)?;
    let proof = verify_sha512_hex(&signed_parts(checksum_key.as_bytes(), &values), &signature)
        .map_err(|e| PayooError::notify_signature(mismatch(e)))?;
    let fields: Vec<(String, String)> = values
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let notification = PayooNotification {
        form: NotifyForm::KeyFields,
        order_no: get("OrderNo"),
        state: get("State"),
        shop_id: get("ShopID"),
        amount: get("OrderCashAmount"),
        fields,
    };
    if notification.order_no.is_empty() {
        return Err(PayooError::decode("the signed OrderNo is empty"));
    }
    Ok(Unverified::new(notification).verify(|_| Ok(proof))?)
}

#[derive(serde::Deserialize)]
struct JsonPackage {
    #[serde(rename = "ResponseData")]
    response_data: String,
    #[serde(rename = "Signature")]
    signature: String,
}

/// A JSON object's members in order, each value as text (a string's content, a number's or
/// literal's own text, `null` empty); a repeated key is refused.
struct OrderedFields(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for OrderedFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedFields, A::Error> {
                let mut fields: Vec<(String, String)> = Vec::new();
                while let Some((key, value)) =
                    map.next_entry::<String, Box<serde_json::value::RawValue>>()?
                {
                    if fields.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("{key} appears twice")));
                    }
                    let raw = value.get();
                    let text = match raw.as_bytes().first() {
                        Some(b'"') => {
                            serde_json::from_str::<String>(raw).map_err(serde::de::Error::custom)?
                        }
                        _ if raw == "null" => String::new(),
                        _ => raw.to_owned(),
                    };
                    fields.push((key, text));
                }
                Ok(OrderedFields(fields))
            }
        }
        d.deserialize_map(Visitor)
    }
}

fn read_json(
    checksum_key: &str,
    package: &[u8],
    remote_ip: Option<IpAddr>,
) -> Result<Verified<PayooNotification>, PayooError> {
    let package: JsonPackage = serde_json::from_slice(package)
        .map_err(|e| PayooError::decode_from(format!("not a JSON NotifyData package: {e}"), e))?;
    let ip = remote_ip.ok_or_else(|| {
        PayooError::decode(
            "a JSON NotifyData is signed over the IP address Payoo called from: give the caller's address (--remote-ip)",
        )
    })?;
    let ip = ip.to_canonical().to_string();
    let proof = verify_sha512_hex(
        &[
            checksum_key.as_bytes(),
            package.response_data.as_bytes(),
            ip.as_bytes(),
        ],
        &package.signature,
    )
    .map_err(|e| PayooError::notify_signature(format!("{} (for a call from {ip})", mismatch(e))))?;
    let OrderedFields(fields) = serde_json::from_str(&package.response_data).map_err(|e| {
        PayooError::decode_from(format!("ResponseData is not a JSON object: {e}"), e)
    })?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let order_no = get("OrderNo").filter(|o| !o.is_empty());
    let (Some(order_no), Some(state), Some(amount)) =
        (order_no, get("PaymentStatus"), get("OrderCash"))
    else {
        return Err(PayooError::decode(
            "ResponseData lacks OrderNo, PaymentStatus or OrderCash",
        ));
    };
    let notification = PayooNotification {
        form: NotifyForm::Json,
        order_no,
        state,
        shop_id: get("ShopId").unwrap_or_default(),
        amount,
        fields,
    };
    Ok(Unverified::new(notification).verify(|_| Ok(proof))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = "<PaymentNotification><shops><shop><shop_id>1234</shop_id><order_no>ORD-1</order_no><order_cash_amount>150000</order_cash_amount></shop></shops><State>PAYMENT_RECEIVED</State></PaymentNotification>";
    const KEY_FIELDS: &str = "State|ShopID|OrderNo|OrderCashAmount";

    fn verifier(key: &str) -> CallbackVerifier {
        CallbackVerifier::new(SecretString::from(key))
    }

    #[test]
    fn signed_package_verifies_as_form_or_xml_and_tampering_fails() {
        let package = keyfields_package("K", DATA, KEY_FIELDS).unwrap();
        let n = verifier("K").verify_body(package.as_bytes()).unwrap();
        assert_eq!(n.order_no, "ORD-1");
        assert_eq!(n.amount, "150000");
        assert_eq!(n.shop_id, "1234");
        assert_eq!(n.status(), PaymentStatus::Succeeded);
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("NotifyData", &package)
            .finish();
        assert!(verifier("K").verify_body(form.as_bytes()).is_ok());
        assert!(matches!(
            verifier("other").verify_body(package.as_bytes()),
            Err(PayooError::NotifySignature(_))
        ));
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let forged = package.replace(&b64(DATA), &b64(&DATA.replace("150000", "1")));
        assert!(matches!(
            verifier("K").verify_body(forged.as_bytes()),
            Err(PayooError::NotifySignature(_))
        ));
    }

    #[test]
    fn a_key_fields_list_without_the_amount_is_refused() {
        let package = keyfields_package("K", DATA, "State|ShopID|OrderNo").unwrap();
        let err = verifier("K").verify_body(package.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("leaves OrderCashAmount unsigned"),
            "{err}"
        );
    }

    #[test]
    fn php_urldecode() {
        assert_eq!(url_decode("a+b%2C%zz%4"), b"a b,%zz%4");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = verifier("K").verify_body_from(&bytes, Some(IpAddr::from([127, 0, 0, 1])));
        }
    }
}
