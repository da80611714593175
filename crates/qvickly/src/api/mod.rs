//! Qvickly's Payment API (`https://api.qvickly.io/`): take, capture, cancel and refund.
//!
//! Every call is one JSON envelope `{"credentials": {id, hash, version, client, language,
//! serverdata, time, test}, "data": {…}, "function": "<name>"}`, `hash` =
//! HMAC-SHA512(secret, `data` exactly as PHP's `json_encode` writes it) — the recipe the
//! callback verifier implements, with the one encoder ([`crate::php_json`]). Every answer
//! `{"credentials": {"hash"}, "data": {…}}` is verified over `data`'s bytes before a field of
//! it is read (a mismatch is [`QvicklyError::Signature`], Qvickly's own clients' 9511); an
//! error answer (`data.code`, `data.message`) is [`QvicklyError::Api`] with
//! [`ApiErrorCode`]'s documented meaning.
//!
//! Amounts are in 1/100 currency units, written from [`paybridge_core::Money`] exactly; a cart's totals are
//! checked against its articles before anything is sent. Qvickly converts `data` to
//! ISO-8859-1 before hashing: text outside it would fail the hash at Qvickly, so it is refused
//! here, before sending. Nothing that moves money (`addPayment`, `activatePayment`,
//! `creditPayment`, `cancelPayment`, `updatePayment`) is resent; an unknown outcome says how
//! to find out (`getPaymentinfo`).

mod records;

pub use records::{
    Address, Article, Cart, Customer, DistributorStatus, Fee, NewPayment, PaymentAnswer,
    PaymentData, PaymentDetails, PaymentInfo, PaymentMethod, PaymentPlan, check_cart_json,
};
pub(crate) use records::{answer, articles_and_cart, cart_total, details, text};

use std::time::{SystemTime, UNIX_EPOCH};

use paybridge_core::http::{Endpoint, HttpRequest, HttpTransport};
use paybridge_core::signature::HmacSha512Key;
use paybridge_core::{CoreFailure as _, Currency};
use secrecy::{ExposeSecret, SecretString};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::api_codes::ApiErrorCode;
use crate::client::PROVIDER_ID;
use crate::error::QvicklyError;
use crate::php_json::reencode;

/// Qvickly's Payment API.
pub const LIVE_URL: &str = "https://api.qvickly.io/";
/// The protocol version sent (`credentials.version`).
pub const VERSION: &str = "2.5.0";

/// How to find out what a call that moves money did when its outcome is unknown.
pub const PAYMENT_ADVICE: &str = "the payment may have changed: ask getPaymentinfo with its number (for addPayment, look the orderid up in Qvickly's portal) before sending anything again";

/// Qvickly's Payment API for one merchant id. Cheap to clone.
#[derive(Clone)]
pub struct PaymentApi {
    endpoint: Endpoint,
    id: String,
    key: HmacSha512Key,
    test: bool,
    language: String,
    time: Option<String>,
    transport: HttpTransport,
}

impl std::fmt::Debug for PaymentApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentApi")
            .field("endpoint", &self.endpoint)
            .field("id", &self.id)
            .field("test", &self.test)
            .finish_non_exhaustive()
    }
}

impl PaymentApi {
    /// The API at `endpoint` (e.g. [`LIVE_URL`]) for merchant `id` with its `secret`.
    pub fn new(
        endpoint: &str,
        id: impl Into<String>,
        secret: &SecretString,
        transport: HttpTransport,
    ) -> Result<Self, QvicklyError> {
        if secret.expose_secret().is_empty() {
            return Err(paybridge_core::Error::config("the Qvickly secret is empty").into());
        }
        Ok(Self {
            endpoint: Endpoint::parse(endpoint)?,
            id: id.into(),
            key: HmacSha512Key::new(secret.expose_secret().as_bytes())?,
            test: false,
            language: "sv".into(),
            time: None,
            transport,
        })
    }

    /// Mark every call a test (`credentials.test`).
    #[must_use]
    pub fn test(mut self, test: bool) -> Self {
        self.test = test;
        self
    }

    /// Send this `credentials.time` instead of the clock's (tests).
    #[must_use]
    pub fn time(mut self, time: impl Into<String>) -> Self {
        self.time = Some(time.into());
        self
    }

    /// `data` as it is signed and sent: PHP's `json_encode`, text only within ISO-8859-1.
    pub fn encode_data(data: &Value) -> Result<String, QvicklyError> {
        let text = data.to_string();
        if let Some(c) = text.chars().find(|c| u32::from(*c) > 0xFF) {
            return Err(paybridge_core::Error::input(format!(
                "{c:?} is outside ISO-8859-1: Qvickly would hash it as '?' and refuse the call"
            ))
            .into());
        }
        Ok(reencode(&text).map_err(|e| paybridge_core::Error::input(format!("data: {e}")))?)
    }

    /// The envelope of a call (what is sent, byte for byte).
    pub fn envelope(&self, function: &str, data: &Value) -> Result<String, QvicklyError> {
        let data = Self::encode_data(data)?;
        let time = self.time.clone().unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            format!("{}.{:04}", now.as_secs(), now.subsec_micros() / 100)
        });
        let credentials = json!({
            "id": self.id,
            "hash": self.key.sign_hex(data.as_bytes()),
            "version": VERSION,
            "client": concat!("paybridge:qvickly:", env!("CARGO_PKG_VERSION")),
            "language": self.language,
            "serverdata": {},
            "time": time,
            "test": if self.test { "true" } else { "false" },
        });
        Ok(format!(
            r#"{{"credentials":{credentials},"data":{data},"function":{}}}"#,
            Value::String(function.to_owned())
        ))
    }

    /// Call `function`: the verified answer's `data` (an error answer is
    /// [`QvicklyError::Api`]).
    pub(crate) async fn call(
        &self,
        function: &'static str,
        data: &Value,
        reference: &str,
        moves_money: bool,
    ) -> Result<Value, QvicklyError> {
        let body = self.envelope(function, data)?;
        let mut request = HttpRequest::post(&self.endpoint, body)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .operation(PROVIDER_ID, function);
        request = if moves_money {
            request.reconcile(reference, PAYMENT_ADVICE)
        } else {
            request.idempotent(true)
        };
        let response = self.transport.send(request).await?.into_success()?;
        read_answer(&self.key, &response.body).map_err(|e| match e {
            QvicklyError::Core(inner @ paybridge_core::Error::Decode { .. }) => {
                response.undecodable(inner).into()
            }
            other => other,
        })
    }

    pub(crate) fn payment_data(
        p: &NewPayment,
        number: Option<&str>,
    ) -> Result<Value, QvicklyError> {
        if p.cart.withtax.currency() != p.data.currency {
            return Err(paybridge_core::Error::input("the cart is in another currency").into());
        }
        let mut pd = json!({
            "method": p.data.method.code(),
            "currency": p.data.currency.code(),
            "language": p.data.language,
            "country": p.data.country,
            "orderid": p.data.orderid,
            "autoactivate": if p.data.autoactivate { "1" } else { "0" },
        });
        if let Some(map) = pd.as_object_mut() {
            for (k, v) in [
                ("accepturl", &p.data.accepturl),
                ("cancelurl", &p.data.cancelurl),
                ("callbackurl", &p.data.callbackurl),
                ("returnmethod", &p.data.returnmethod),
            ] {
                if let Some(v) = v {
                    map.insert(k.into(), Value::String(v.clone()));
                }
            }
            if let Some(minutes) = p.data.autocancel {
                map.insert("autocancel".into(), json!(minutes));
            }
            if let Some(n) = number {
                map.insert("number".into(), Value::String(n.to_owned()));
            }
        }
        let (articles, cart) = articles_and_cart(&p.articles, &p.cart)?;
        let mut customer = json!({
            "nr": p.customer.nr,
            "pno": p.customer.pno,
            "Billing": p.customer.billing.to_json(),
        });
        if let (Some(s), Some(map)) = (&p.customer.shipping, customer.as_object_mut()) {
            map.insert("Shipping".into(), s.to_json());
        }
        Ok(json!({
            "PaymentData": pd,
            "PaymentInfo": p.info.to_json(),
            "Customer": customer,
            "Articles": articles,
            "Cart": cart,
        }))
    }

    /// Call `function` with `data` as given (Qvickly's own JSON shape, e.g. from a file): a
    /// cart in it must add up ([`check_cart_json`]); the functions that move money are never
    /// resent. The verified answer's `data`.
    pub async fn call_data(
        &self,
        function: &'static str,
        data: &Value,
    ) -> Result<Value, QvicklyError> {
        check_cart_json(data)?;
        // Never resent: what moves money, and what makes a checkout (a second one would be a
        // second session for the same order).
        let moves_money = matches!(
            function,
            "addPayment"
                | "updatePayment"
                | "activatePayment"
                | "cancelPayment"
                | "creditPayment"
                | "initCheckout"
                | "updateCheckout"
        );
        let reference = text(data.get("number"))
            .or_else(|| text(data.get("PaymentData").and_then(|p| p.get("number"))))
            .or_else(|| text(data.get("PaymentData").and_then(|p| p.get("orderid"))))
            .unwrap_or_default();
        self.call(function, data, &reference, moves_money).await
    }

    /// `addPayment`: a new payment; for card and bank the answer's `url` is where to send the
    /// payer. Never resent ([`PAYMENT_ADVICE`]).
    pub async fn add_payment(&self, p: &NewPayment) -> Result<PaymentAnswer, QvicklyError> {
        let data = Self::payment_data(p, None)?;
        answer(
            &self
                .call("addPayment", &data, &p.data.orderid, true)
                .await?,
        )
    }

    /// `updatePayment`: new content for a payment still `Created`.
    pub async fn update_payment(
        &self,
        number: &str,
        p: &NewPayment,
    ) -> Result<PaymentAnswer, QvicklyError> {
        let data = Self::payment_data(p, Some(number))?;
        answer(&self.call("updatePayment", &data, number, true).await?)
    }

    /// `activatePayment`: capture (send the invoice, capture the card).
    pub async fn activate(&self, number: &str) -> Result<PaymentAnswer, QvicklyError> {
        answer(
            &self
                .call(
                    "activatePayment",
                    &json!({ "number": number }),
                    number,
                    true,
                )
                .await?,
        )
    }

    /// `cancelPayment`: a payment not activated yet.
    pub async fn cancel(&self, number: &str) -> Result<PaymentAnswer, QvicklyError> {
        answer(
            &self
                .call("cancelPayment", &json!({ "number": number }), number, true)
                .await?,
        )
    }

    /// `creditPayment`: all of it back (`partial` `None`), or the articles and cart given
    /// (`partcredit`). The answer is the credit invoice.
    pub async fn credit(
        &self,
        number: &str,
        partial: Option<(&[Article], &Cart)>,
    ) -> Result<PaymentAnswer, QvicklyError> {
        let data = match partial {
            None => json!({"PaymentData": {"number": number, "partcredit": "false"}}),
            Some((articles, cart)) => {
                let (articles, cart) = articles_and_cart(articles, cart)?;
                json!({
                    "PaymentData": {"number": number, "partcredit": "true"},
                    "Articles": articles,
                    "Cart": cart,
                })
            }
        };
        answer(&self.call("creditPayment", &data, number, true).await?)
    }

    /// `getPaymentinfo`: where a payment stands, and its total.
    pub async fn payment_info(&self, number: &str) -> Result<PaymentDetails, QvicklyError> {
        let data = self
            .call(
                "getPaymentinfo",
                &json!({ "number": number }),
                number,
                false,
            )
            .await?;
        details(data)
    }

    /// `getPaymentplans`: the part-payment plans for a country, currency and language.
    pub async fn payment_plans(
        &self,
        country: &str,
        currency: Currency,
        language: &str,
    ) -> Result<Vec<PaymentPlan>, QvicklyError> {
        let data = self
            .call(
                "getPaymentplans",
                &json!({"PaymentData": {"country": country, "currency": currency.code(), "language": language}}),
                "",
                false,
            )
            .await?;
        let plans = match &data {
            Value::Array(plans) => plans.clone(),
            Value::Object(map) => map.values().cloned().collect(),
            _ => Vec::new(),
        };
        Ok(plans
            .iter()
            .filter_map(|p| {
                Some(PaymentPlan {
                    id: text(p.get("paymentplanid"))?,
                    description: text(p.get("description")),
                    months: text(p.get("nbrofmonths")).and_then(|m| m.parse().ok()),
                    monthly_cost: text(p.get("monthlycost")),
                })
            })
            .collect())
    }

    /// `getAddress`: the address registered for a Swedish personal or organisation number.
    pub async fn address(&self, pno: &str, country: &str) -> Result<Address, QvicklyError> {
        let data = self
            .call(
                "getAddress",
                &json!({"pno": pno, "country": country}),
                "",
                false,
            )
            .await?;
        Ok(Address::from_json(&data))
    }
}

#[derive(serde::Deserialize)]
struct AnswerBody<'a> {
    credentials: AnswerCredentials,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(serde::Deserialize)]
struct AnswerCredentials {
    hash: String,
}

/// An answer's `data`, once `credentials.hash` verified over its bytes (as received, or as
/// PHP would re-encode them): nothing is read before. An error answer (`code`, `message`) is
/// [`QvicklyError::Api`].
pub fn read_answer(key: &HmacSha512Key, body: &[u8]) -> Result<Value, QvicklyError> {
    paybridge_core::limits::Limits::ANSWER.check_size(body)?;
    let body = std::str::from_utf8(body)
        .map_err(|e| QvicklyError::decode_from(format!("answer is not UTF-8: {e}"), e))?;
    let answer: AnswerBody<'_> = serde_json::from_str(body)
        .map_err(|e| QvicklyError::decode_from(format!("not a Qvickly answer: {e}"), e))?;
    let raw = answer.data.get();
    let verified = key
        .verify_hex(raw.as_bytes(), &answer.credentials.hash)
        .is_ok()
        || reencode(raw).is_ok_and(|php| {
            key.verify_hex(php.as_bytes(), &answer.credentials.hash)
                .is_ok()
        });
    if !verified {
        return Err(QvicklyError::Signature(
            "the answer's hash does not match its data".into(),
        ));
    }
    let data: Value = serde_json::from_str(raw)
        .map_err(|e| QvicklyError::decode_from(format!("data: {e}"), e))?;
    if let Some(code) = data.get("code").and_then(|c| text(Some(c))) {
        let message = text(data.get("message")).unwrap_or_default();
        let code_number = code.parse::<i64>().unwrap_or(-1);
        return Err(QvicklyError::Api {
            code: ApiErrorCode::from_code(code_number),
            message: paybridge_core::http::printable(&message, 300),
        });
    }
    Ok(data)
}
