//! Payoo's checkout notification: the form field `NotifyData` holds an XML package with a
//! base64 `<Data>` (the notification XML) and its `<Signature>`; in checksum mode the
//! signature is `SHA512(ChecksumKey + Data)` over the decoded XML, upper hex (public Payoo integrations). The
//! merchant answers the literal [`NOTIFY_RECEIVED`].
//!
//! The notification XML's fields are not published; we hand them out in document order and
//! read the order number from `order_no`/`OrderNo` and the state from `State`/`PaymentStatus`
//! (our reading: `PAYMENT_RECEIVED`/`1` succeeded, `CANCELLED`/`-1` cancelled, otherwise pending).

use base64::Engine as _;
use paybridge_core::notification::Unverified;
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};
use paybridge_core::xml::text;
use paybridge_core::{Handled, PaymentStatus, RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};

use crate::error::PayooError;
use paybridge_core::CoreFailure as _;

/// What the merchant answers a notification with.
pub const NOTIFY_RECEIVED: &str = "NOTIFY_RECEIVED";

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayooNotification {
    /// The decoded notification XML, as signed.
    pub data_xml: String,
    /// Its leaf elements, in document order.
    pub fields: Vec<(String, String)>,
    /// The order number.
    pub order_no: Option<String>,
    /// The state word or code.
    pub state: Option<String>,
}

/// How long Payoo may deliver the same notification again: it retries until acknowledged
/// with [`NOTIFY_RECEIVED`]; a ledger keeps handled notifications this long (no public figure:
/// 30 days, a margin over any retry schedule seen).
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(30 * 24);

impl PayooNotification {
    /// The payment's state as this notification reports it; its amount
    /// (`order_cash_amount`) read exactly and checked ([`paybridge_core::Error::Callback`]
    /// when it is no valid amount).
    pub fn state(&self) -> paybridge_core::Result<paybridge_core::PaymentState> {
        let amount = self
            .fields
            .iter()
            .find(|(k, _)| k == "order_cash_amount")
            .map(|(_, v)| {
                paybridge_core::Money::parse_reported(
                    v,
                    paybridge_core::Currency::VND,
                    "order_cash_amount",
                )
            })
            .transpose()
            .map_err(paybridge_core::Error::into_callback_error)?;
        Ok(paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef::merchant(
                self.order_no.clone().unwrap_or_default(),
            ),
            status: self.status(),
            provider_status: self.state.clone().unwrap_or_default(),
            amount,
            message: None,
        })
    }

    /// The natural key of this notification: order number and state. A notification without
    /// an order number has no key and is refused ([`paybridge_core::Error::Callback`]) rather
    /// than deduplicated under a made-up one.
    pub fn dedup_key(&self) -> paybridge_core::Result<String> {
        let order = self
            .order_no
            .as_deref()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| paybridge_core::Error::callback("NotifyData without order_no"))?;
        Ok(format!(
            "{order}:{}",
            self.state.as_deref().unwrap_or_default()
        ))
    }

    /// The normalized status (our reading, see the module docs).
    #[must_use]
    pub fn status(&self) -> PaymentStatus {
        match self.state.as_deref().map(str::trim) {
            Some("PAYMENT_RECEIVED" | "1") => PaymentStatus::Succeeded,
            Some("CANCELLED" | "-1") => PaymentStatus::Cancelled,
            _ => PaymentStatus::Pending,
        }
    }
}

/// Record a verified notification in `seen` (key: `payoo:` + [`PayooNotification::dedup_key`],
/// as in the ledger) and report whether it is a duplicate. A notification without an order
/// number is refused ([`paybridge_core::Error::Callback`]).
pub async fn deduplicate(
    notification: Verified<PayooNotification>,
    seen: &dyn SeenStore,
) -> Result<Handled<PayooNotification>, PayooError> {
    let key = format!("payoo:{}", notification.dedup_key()?);
    Ok(Handled::record(notification, &key, seen).await?)
}

/// The `NotifyData` package for `data_xml`, signed (what Payoo posts; the sandbox uses it).
#[must_use]
pub fn notify_data(checksum_key: &str, data_xml: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(data_xml);
    let signature = sha512_hex(&[checksum_key.as_bytes(), data_xml.as_bytes()]).to_uppercase();
    format!(
        "<?xml version=\"1.0\"?><PayooConnectionPackage><Data>{data}</Data><Signature>{signature}</Signature></PayooConnectionPackage>"
    )
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

    /// Verify a posted notification (its body: see [`verify_body`](Self::verify_body)).
    pub fn verify(&self, raw: &RawNotification) -> Result<Verified<PayooNotification>, PayooError> {
        self.verify_body(&raw.body)
    }

    /// Verify a notification body: the posted form (`NotifyData=…`) or the package XML
    /// itself. A body that is no `NotifyData` package is [`paybridge_core::Error::Callback`];
    /// a wrong signature is [`PayooError::Signature`].
    pub fn verify_body(&self, body: &[u8]) -> Result<Verified<PayooNotification>, PayooError> {
        read_notification(self.checksum_key.expose_secret(), body).map_err(|e| match e {
            PayooError::Core(e) => PayooError::Core(e.into_callback_error()),
            other => other,
        })
    }
}

fn read_notification(
    checksum_key: &str,
    body: &[u8],
) -> Result<Verified<PayooNotification>, PayooError> {
    paybridge_core::limits::Limits::CALLBACK.check_size(body)?;
    let package = if body.first() == Some(&b'<') {
        String::from_utf8(body.to_vec())
            .map_err(|e| PayooError::decode_from(format!("not UTF-8: {e}"), e))?
    } else {
        form_urlencoded::parse(body)
            .find(|(k, _)| k == "NotifyData")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| PayooError::decode("no NotifyData field"))?
    };
    let doc = paybridge_core::xml::parse(&package)?;
    let root = doc.root_element();
    let field = |n: &str| {
        root.children()
            .find(|c| c.is_element() && c.tag_name().name() == n)
            .map(text)
    };
    let data = field("Data").ok_or_else(|| PayooError::decode("no Data"))?;
    let signature = field("Signature").ok_or(PayooError::Signature)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| PayooError::decode_from(format!("Data is not base64: {e}"), e))?;
    let data_xml = String::from_utf8(raw)
        .map_err(|e| PayooError::decode_from(format!("Data is not UTF-8: {e}"), e))?;
    let inner = paybridge_core::xml::parse(&data_xml)?;
    let fields: Vec<(String, String)> = inner
        .descendants()
        .filter(|n| n.is_element() && !n.children().any(|c| c.is_element()))
        .map(|n| (n.tag_name().name().to_owned(), text(n)))
        .collect();
    let find = |names: &[&str]| {
        fields
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
    };
    let notification = PayooNotification {
        order_no: find(&["order_no", "OrderNo"]),
        state: find(&["State", "PaymentStatus"]),
        fields,
        data_xml,
    };
    Unverified::new(notification)
        .verify(|n| {
            verify_sha512_hex(
                &[checksum_key.as_bytes(), n.data_xml.as_bytes()],
                &signature,
            )
        })
        .map_err(|_| PayooError::Signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = "<PaymentNotification><shop_id>1234</shop_id><order_no>ORD-1</order_no><order_cash_amount>150000</order_cash_amount><State>PAYMENT_RECEIVED</State></PaymentNotification>";

    #[test]
    fn signed_package_verifies_as_form_or_xml_and_tampering_fails() {
        let package = notify_data("K", DATA);
        let n = CallbackVerifier::new(secrecy::SecretString::from("K"))
            .verify_body(package.as_bytes())
            .unwrap();
        assert_eq!(n.order_no.as_deref(), Some("ORD-1"));
        assert_eq!(n.status(), PaymentStatus::Succeeded);
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("NotifyData", &package)
            .finish();
        assert!(
            CallbackVerifier::new(secrecy::SecretString::from("K"))
                .verify_body(form.as_bytes())
                .is_ok()
        );
        assert!(matches!(
            CallbackVerifier::new(secrecy::SecretString::from("other"))
                .verify_body(package.as_bytes()),
            Err(PayooError::Signature)
        ));
        let forged = notify_data("K", DATA).replace(
            &base64::engine::general_purpose::STANDARD.encode(DATA),
            &base64::engine::general_purpose::STANDARD.encode(DATA.replace("150000", "1")),
        );
        assert!(matches!(
            CallbackVerifier::new(secrecy::SecretString::from("K")).verify_body(forged.as_bytes()),
            Err(PayooError::Signature)
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = CallbackVerifier::new(secrecy::SecretString::from("K")).verify_body(&bytes);
        }
    }
}
