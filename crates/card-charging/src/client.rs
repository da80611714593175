//! The gateway's native API: `charging` and `check`.

use crate::wire::FieldExt as _;
use std::borrow::Cow;
use std::sync::Arc;

use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_core::{Currency, Error, Money, PaymentStatus};
use secrecy::{ExposeSecret, SecretString};

use crate::card::{Card, RequestId};
use crate::error::CardChargingError;
use crate::signature::{SignScheme, SignedFields};
use crate::status::ChargeStatus;
use crate::wire::{BodyEncoding, WireFields};
use paybridge_core::CoreFailure as _;

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "card-charging";

/// How to find out what a `charging` request whose outcome is unknown did.
pub const CHARGE_ADVICE: &str = "call `check` with the same request_id (paybridge card-charging check --request-id ...); never send the charge again";

/// How to reach and authenticate to one gateway: [`Config::new`] with the documented
/// defaults, then a setter for anything else.
///
/// ```
/// use paybridge_card_charging::{BodyEncoding, Config, SignScheme};
/// use secrecy::SecretString;
///
/// let config = Config::new(
///     "https://gateway.example/chargingws/v2",
///     "partner-1",
///     SecretString::from("partner-key"),
/// )
/// .encoding(BodyEncoding::Json)
/// .check_denomination(false);
/// assert_eq!(config.partner_id(), "partner-1");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) endpoint: String,
    pub(crate) partner_id: String,
    pub(crate) partner_key: SecretString,
    pub(crate) sign_scheme: SignScheme,
    pub(crate) encoding: BodyEncoding,
    pub(crate) check_denomination: bool,
}

impl Config {
    /// The full URL of the gateway endpoint (e.g. `https://gateway.example/chargingws/v2`),
    /// the `partner_id` and `partner_key` it issued (the key signs requests and verifies
    /// callbacks); the documented defaults: md5(key + code + serial), form body, face values
    /// checked.
    #[must_use]
    pub fn new(
        endpoint: impl Into<String>,
        partner_id: impl Into<String>,
        partner_key: SecretString,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            partner_id: partner_id.into(),
            partner_key,
            sign_scheme: SignScheme::default(),
            encoding: BodyEncoding::default(),
            check_denomination: true,
        }
    }

    /// The request signature scheme.
    #[must_use]
    pub fn sign_scheme(mut self, scheme: SignScheme) -> Self {
        self.sign_scheme = scheme;
        self
    }

    /// The request body encoding.
    #[must_use]
    pub fn encoding(mut self, encoding: BodyEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Whether a declared value must be one of the telco's face values (default `true`).
    #[must_use]
    pub fn check_denomination(mut self, check: bool) -> Self {
        self.check_denomination = check;
        self
    }

    /// The gateway endpoint as given.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `partner_id`.
    #[must_use]
    pub fn partner_id(&self) -> &str {
        &self.partner_id
    }
}

/// The gateway's answer to `charging` or `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeResult {
    /// The gateway's status code.
    pub status: ChargeStatus,
    /// The merchant's request id, as echoed.
    pub request_id: String,
    /// The gateway's transaction id, once assigned.
    pub trans_id: Option<String>,
    /// The face value the merchant declared.
    pub declared_value: Option<Money>,
    /// The card's real face value, once known.
    pub value: Option<Money>,
    /// What the merchant is credited after fees: credit this, never `declared_value`.
    pub amount: Option<Money>,
    /// The gateway's message (Vietnamese, UTF-8).
    pub message: String,
}

impl ChargeResult {
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

    pub(crate) fn from_fields(f: &WireFields<'_>) -> Result<Self, CardChargingError> {
        let code = f.status.code().ok_or_else(|| {
            CardChargingError::decode("field `status` is missing or not a number")
        })?;
        Ok(Self {
            status: ChargeStatus::from_code(code),
            request_id: f
                .request_id
                .text()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
            trans_id: f.trans_id.text().map(std::borrow::Cow::into_owned),
            declared_value: f.declared_value.vnd("declared_value")?,
            value: f.value.vnd("value")?,
            amount: f.amount.vnd("amount")?,
            message: f
                .message
                .text()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
        })
    }
}

/// A client for one gateway account. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    config: Arc<Config>,
    endpoint: paybridge_core::http::Endpoint,
    transport: HttpTransport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Charging,
    Check,
}

impl Command {
    fn as_str(self) -> &'static str {
        match self {
            Self::Charging => "charging",
            Self::Check => "check",
        }
    }
}

impl Client {
    /// A client sharing `transport`'s connection pool.
    pub fn new(config: Config, transport: HttpTransport) -> Result<Self, CardChargingError> {
        let endpoint = paybridge_core::http::Endpoint::parse(&config.endpoint)?;
        if config.partner_id.is_empty() || config.partner_key.expose_secret().is_empty() {
            return Err(Error::config("partner_id and partner_key are required").into());
        }
        Ok(Self {
            endpoint,
            config: Arc::new(config),
            transport,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The transport this client sends through.
    pub(crate) fn transport(&self) -> &HttpTransport {
        &self.transport
    }

    /// Submit a card (`command=charging`). Usually answers 99 (pending); the result then comes
    /// by callback or [`Client::check`].
    ///
    /// Never retried: when it may have reached the gateway and no answer could be read, the
    /// error is [`Error::OutcomeUnknown`] telling you to [`check`](Self::check) the same
    /// request id ([`CHARGE_ADVICE`]). Status 4 (maintenance) is [`CardChargingError::Maintenance`].
    pub async fn charge(
        &self,
        card: &Card,
        declared_value: Money,
        request_id: &RequestId,
    ) -> Result<ChargeResult, CardChargingError> {
        self.call(Command::Charging, card, declared_value, request_id)
            .await
    }

    /// Ask for the state of an earlier request (`command=check`, same fields and sign).
    /// Idempotent, so the transport retries it on transient failures.
    pub async fn check(
        &self,
        card: &Card,
        declared_value: Money,
        request_id: &RequestId,
    ) -> Result<ChargeResult, CardChargingError> {
        self.call(Command::Check, card, declared_value, request_id)
            .await
    }

    /// Validate, then build the request's fields in the documented order. Only the amount
    /// and the sign are new text; the rest is borrowed.
    fn fields<'a>(
        &'a self,
        command: Command,
        card: &'a Card,
        declared_value: Money,
        request_id: &'a RequestId,
    ) -> Result<[(&'static str, Cow<'a, str>); 8], CardChargingError> {
        if declared_value.currency() != Currency::VND {
            return Err(CardChargingError::input(format!(
                "card values are in VND, got {}",
                declared_value.currency()
            )));
        }
        declared_value
            .check_to_send("the declared face value")
            .map_err(CardChargingError::Core)?;
        let value = declared_value
            .to_minor_units()
            .and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                CardChargingError::input(format!("invalid card value {declared_value}"))
            })?;
        if self.config.check_denomination && !card.telco.is_face_value(declared_value) {
            return Err(CardChargingError::input(format!(
                "{value} is not a {} face value ({:?}); build the client with `Config::check_denomination(false)` to send it anyway",
                card.telco,
                card.telco.denominations()
            )));
        }
        let key = self.config.partner_key.expose_secret();
        let sign = self.config.sign_scheme.sign(
            key,
            &SignedFields {
                code: card.code(),
                serial: &card.serial,
                command: command.as_str(),
                partner_id: &self.config.partner_id,
                request_id: request_id.as_str(),
                telco: card.telco.as_str(),
            },
        );
        Ok([
            ("telco", Cow::Borrowed(card.telco.as_str())),
            ("code", Cow::Borrowed(card.code())),
            ("serial", Cow::Borrowed(&card.serial)),
            ("amount", Cow::Owned(value.to_string())),
            ("request_id", Cow::Borrowed(request_id.as_str())),
            ("partner_id", Cow::Borrowed(&self.config.partner_id)),
            ("sign", Cow::Owned(sign)),
            ("command", Cow::Borrowed(command.as_str())),
        ])
    }

    async fn call(
        &self,
        command: Command,
        card: &Card,
        declared_value: Money,
        request_id: &RequestId,
    ) -> Result<ChargeResult, CardChargingError> {
        let fields = self.fields(command, card, declared_value, request_id)?;
        let pairs = fields.each_ref().map(|(k, v)| (*k, v.as_ref()));
        let encoded = self.config.encoding.encode(&pairs);
        // The endpoint was parsed once, when the client was built.
        let mut request = match encoded.query {
            Some(query) => HttpRequest::get(self.endpoint.with_query(&query)),
            None => HttpRequest::post(&self.endpoint, encoded.body),
        };
        request = match encoded.content_type {
            Some(Cow::Borrowed(ct)) => request.header(http::header::CONTENT_TYPE, ct),
            Some(Cow::Owned(ct)) => request.header(http::header::CONTENT_TYPE, ct),
            None => request,
        };
        request = request
            .header(http::header::ACCEPT, "application/json")
            .idempotent(command == Command::Check)
            .operation(PROVIDER_ID, command.as_str());
        if command == Command::Charging {
            request = request.reconcile(request_id.as_str(), CHARGE_ADVICE);
        }
        let response = self.transport.send(request).await?;
        let fields =
            WireFields::from_json(&response.body).map_err(|_| response.not_the_protocol())?;
        let result =
            ChargeResult::from_fields(&fields).map_err(|e| response.undecodable(Error::from(e)))?;
        if result.status == ChargeStatus::Maintenance {
            return Err(CardChargingError::Maintenance {
                message: result.message,
            });
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn arbitrary_answer_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            if let Ok(fields) = WireFields::from_json(&bytes) {
                let _ = ChargeResult::from_fields(&fields);
            }
        }

        #[test]
        fn json_shaped_answers_never_panic(status in "\\PC{0,6}", amount in proptest::prelude::any::<f64>(), value in proptest::prelude::any::<i64>()) {
            let body = serde_json::json!({"status": status, "amount": amount, "value": value, "declared_value": u64::MAX}).to_string();
            if let Ok(fields) = WireFields::from_json(body.as_bytes()) {
                let _ = ChargeResult::from_fields(&fields);
            }
        }
    }
}
