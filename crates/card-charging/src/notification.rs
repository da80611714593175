//! Callbacks: the gateway POSTs JSON (or calls GET with a query) once a pending card is decided.
//!
//! `callback_sign = md5(partner_key + code + serial)` covers only the card, not the status
//! or the amounts. [`CallbackVerifier::verify`] checks it in constant time; for money decisions,
//! [`Client::confirm_callback`](crate::Client::confirm_callback) also asks the gateway (`check`)
//! and refuses a callback whose status or amounts differ from the gateway's own record —
//! that is what catches a tampered `status` or `amount`.

use crate::wire::FieldExt as _;
use paybridge_core::notification::Handled;
use paybridge_core::{Money, PaymentStatus, RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};

use crate::card::{Card, RequestId, Telco};
use crate::client::{ChargeResult, Client};
use crate::error::CardChargingError;
use crate::signature::verify_sign;
use crate::status::ChargeStatus;
use crate::wire::WireFields;
use paybridge_core::CoreFailure as _;

/// A decided (or still pending) card, as the gateway's callback reports it.
#[derive(Clone)]
pub struct CardCallback {
    /// Status code.
    pub status: ChargeStatus,
    /// The merchant's request id.
    pub request_id: String,
    /// The gateway's transaction id.
    pub trans_id: Option<String>,
    /// Face value the merchant declared.
    pub declared_value: Option<Money>,
    /// Face value charged (`value`).
    pub value: Option<Money>,
    /// The card's real face value (`card_value`, GET callbacks only).
    pub card_value: Option<Money>,
    /// What the merchant is credited: credit this, never `declared_value`.
    pub amount: Option<Money>,
    /// The gateway's message.
    pub message: String,
    /// The card's network, as sent.
    pub telco: String,
    /// The card's serial.
    pub serial: String,
    code: SecretString,
}

impl std::fmt::Debug for CardCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardCallback")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("trans_id", &self.trans_id)
            .field("declared_value", &self.declared_value)
            .field("value", &self.value)
            .field("card_value", &self.card_value)
            .field("amount", &self.amount)
            .field("message", &self.message)
            .field("telco", &self.telco)
            .field("serial", &self.serial)
            .field("code", &"[hidden]")
            .finish()
    }
}

impl CardCallback {
    /// The normalized status.
    #[must_use]
    pub fn payment_status(&self) -> PaymentStatus {
        self.status.normalized()
    }

    /// Card accepted with a wrong declared face value (status 2).
    #[must_use]
    pub fn amount_mismatch(&self) -> bool {
        self.status == ChargeStatus::SuccessWrongValue
    }

    /// The card this callback is about (to `check` it).
    pub fn card(&self) -> Result<Card, CardChargingError> {
        Card::new(
            self.telco.parse::<Telco>()?,
            self.code.expose_secret(),
            &self.serial,
        )
    }

    /// The payment's state as this callback reports it. Its amount is what was paid: the
    /// card's real face value `value` (status 2: less than declared), compared by the ledger
    /// with the recorded amount; `amount` (what the merchant receives after the gateway's
    /// fee) stays on the callback.
    #[must_use]
    pub fn state(&self) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef {
                reference: self.request_id.clone(),
                provider_reference: self.trans_id.clone(),
            },
            status: self.payment_status(),
            provider_status: self.status.code().to_string(),
            amount: self.value,
            message: Some(self.message.clone()).filter(|m| !m.is_empty()),
        }
    }

    /// The key under which duplicates are detected: same request id, same status (a pending
    /// callback and the final one are two events).
    #[must_use]
    pub fn dedup_key(&self) -> String {
        format!("card-charging:{}:{}", self.request_id, self.status.code())
    }

    fn from_fields(f: WireFields<'_>) -> Result<Self, CardChargingError> {
        let status = f.status.code().ok_or_else(|| {
            CardChargingError::decode("field `status` is missing or not a number")
        })?;
        Ok(Self {
            status: ChargeStatus::from_code(status),
            request_id: f.request_id.required("request_id")?,
            trans_id: f.trans_id.text().map(std::borrow::Cow::into_owned),
            declared_value: f.declared_value.vnd("declared_value")?,
            value: f.value.vnd("value")?,
            card_value: f.card_value.vnd("card_value")?,
            amount: f.amount.vnd("amount")?,
            // By value: an unescaped message is moved, not copied.
            message: f
                .message
                .into_text()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
            telco: f
                .telco
                .text()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
            serial: f.serial.required("serial")?,
            code: SecretString::from(f.code.required("code")?),
        })
    }
}

/// What the merchant answers a callback with once it is handled: any 2xx does; this body.
pub const CALLBACK_ANSWER: &str = "OK";

/// How long a gateway may deliver the same callback again: it retries until acknowledged
/// (no public figure: 30 days).
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(30 * 24);

/// The callback fields `callback_sign` does not cover: anyone on the path can change them
/// without breaking the sign. Confirm them with
/// [`Client::confirm_callback`](crate::Client::confirm_callback) before crediting.
pub const UNSIGNED_FIELDS: &[&str] = &[
    "status",
    "request_id",
    "trans_id",
    "declared_value",
    "value",
    "card_value",
    "amount",
    "message",
    "telco",
];

/// Verifies the gateway's callbacks with the partner key (the one inbound verb: `verify`).
/// `Debug` shows the key as `[REDACTED]` (it is a `SecretString`).
#[derive(Debug, Clone)]
pub struct CallbackVerifier {
    partner_key: SecretString,
}

impl CallbackVerifier {
    /// A verifier for callbacks signed with `partner_key`.
    #[must_use]
    pub fn new(partner_key: SecretString) -> Self {
        Self { partner_key }
    }

    /// Verify a callback in either form: a POST whose body is JSON (or a form), or a GET
    /// query. A callback that is not one (not JSON, fields missing) is
    /// [`paybridge_core::Error::Callback`]; a wrong `callback_sign` is
    /// [`CardChargingError::Signature`].
    pub fn verify(
        &self,
        raw: &RawNotification,
    ) -> Result<Verified<CardCallback>, CardChargingError> {
        let limits = paybridge_core::limits::Limits::CALLBACK;
        limits
            .check_size(&raw.body)
            .and_then(|()| limits.check_size(raw.query.as_bytes()))
            .map_err(|e| CardChargingError::Core(e.into_callback_error()))?;
        let is_form = raw.media_type().as_deref() == Some("application/x-www-form-urlencoded");
        if raw.body.is_empty() || raw.method == http::Method::GET {
            self.verify_query(&raw.query)
        } else if is_form {
            verify_fields(&self.partner_key, WireFields::from_query(&raw.body))
                .map_err(CardChargingError::in_callback)
        } else {
            self.verify_json(&raw.body)
        }
    }

    /// [`verify`](Self::verify) for a posted JSON body.
    pub fn verify_json(&self, body: &[u8]) -> Result<Verified<CardCallback>, CardChargingError> {
        paybridge_core::limits::Limits::CALLBACK
            .check_size(body)
            .map_err(CardChargingError::Core)
            .and_then(|()| WireFields::from_json(body))
            .and_then(|fields| verify_fields(&self.partner_key, fields))
            .map_err(CardChargingError::in_callback)
    }

    /// [`verify`](Self::verify) for a GET callback's query string (with or without `?`).
    pub fn verify_query(&self, query: &str) -> Result<Verified<CardCallback>, CardChargingError> {
        let q = query.strip_prefix('?').unwrap_or(query);
        paybridge_core::limits::Limits::CALLBACK
            .check_size(q.as_bytes())
            .map_err(CardChargingError::Core)
            .and_then(|()| verify_fields(&self.partner_key, WireFields::from_query(q.as_bytes())))
            .map_err(CardChargingError::in_callback)
    }
}

fn verify_fields(
    partner_key: &SecretString,
    fields: WireFields<'_>,
) -> Result<Verified<CardCallback>, CardChargingError> {
    let received = fields
        .callback_sign
        .text()
        .ok_or_else(|| CardChargingError::Signature("callback_sign is missing".into()))?;
    // The sign covers the borrowed code and serial: checked before anything is copied out.
    let proof = verify_sign(
        partner_key.expose_secret(),
        &fields.code.required_text("code")?,
        &fields.serial.required_text("serial")?,
        &received,
    )
    .map_err(|_| CardChargingError::Signature("callback_sign does not match".into()))?;
    Ok(Verified::new(CardCallback::from_fields(fields)?, proof))
}

/// Record a verified callback in `seen` and report whether it is a duplicate.
pub async fn deduplicate(
    callback: Verified<CardCallback>,
    seen: &dyn SeenStore,
) -> Result<Handled<CardCallback>, CardChargingError> {
    let key = callback.dedup_key();
    Ok(Handled::record(callback, &key, seen).await?)
}

impl Client {
    /// A verifier of callbacks with this client's partner key.
    #[must_use]
    pub fn callback_verifier(&self) -> CallbackVerifier {
        CallbackVerifier::new(self.config().partner_key.clone())
    }

    /// Confirm a verified callback with the gateway (`check`): the status, request id,
    /// amounts (declared, real face value, credited) and transaction id the gateway reports
    /// must equal the callback's, or the callback is refused as
    /// [`CardChargingError::Signature`]. Use before crediting anything.
    pub async fn confirm_callback(
        &self,
        callback: &Verified<CardCallback>,
    ) -> Result<ChargeResult, CardChargingError> {
        let card = callback.card()?;
        let declared = callback
            .declared_value
            .ok_or_else(|| CardChargingError::decode("callback without declared_value"))?;
        let request_id = RequestId::new(&callback.request_id)?;
        let checked = self.check(&card, declared, &request_id).await?;
        // The gateway's transaction id, when it reports one, must be the callback's too.
        let same_trans = checked.trans_id.is_none() || checked.trans_id == callback.trans_id;
        let same = checked.status == callback.status
            && checked.request_id == callback.request_id
            && checked.amount == callback.amount
            && checked.value == callback.value
            && checked.declared_value == callback.declared_value
            && same_trans;
        if same {
            Ok(checked)
        } else {
            Err(CardChargingError::Signature(format!(
                "callback disagrees with the gateway: callback status {} amount {:?}, gateway status {} amount {:?}",
                callback.status.code(),
                callback.amount,
                checked.status.code(),
                checked.amount
            )))
        }
    }
}
