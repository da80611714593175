//! `CallToPartner` over SOAP 1.1 or 1.2 (ASP.NET document/literal, namespace
//! `PayooBPGAdapter`), signed both ways in checksum mode.
//!
//! Wire rules (our reading of the public material):
//! - header `APICredential { APIUsername, APIPassword, APISignature, Timestamp }`: three
//!   credentials issued by Payoo, and a timestamp (`yyyyMMddHHmmss`, UTC+7, overridable);
//! - body `CallToPartner { _APIName, _APIParam }`; `_APIParam` carries
//!   `xsi:type="<APIName>RequestType"`, `DigitalSignature` first, then the API's fields in
//!   declared order; `DigitalSignature = sha512_hex(ChecksumKey + "|" + non-empty values)`;
//! - answer `CallToPartnerResult { DigitalSignature, Error?, [extra fields], AckCode }`, checked
//!   over `SeverityCode`, `Message`, the extra fields and `AckCode` in document order before
//!   anything in it is trusted.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use paybridge_core::http::{Endpoint, HttpTransport, Reconcile};
use paybridge_core::soap::{self, EnvelopeStyle, SoapCall, SoapVersion, to_fragment, wrap};
use paybridge_core::xml::{escape_text, text};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{PayooError, PayooMessage};
use crate::generated::caller_services::{AckCodeType, ApiCredential, CALL_TO_PARTNER_ACTION};
use crate::signature::{checksum, verify};
use paybridge_core::CoreFailure as _;

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "payoo";
/// The service namespace.
pub const NAMESPACE: &str = "PayooBPGAdapter";

/// The four secrets Payoo issues: [`Credentials::new`]. `Debug` shows the username only.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
    pub(crate) signature: SecretString,
    pub(crate) checksum_key: SecretString,
}

impl Credentials {
    /// `APIUsername`, `APIPassword`, `APISignature` (a fixed credential, not computed) and
    /// the checksum key that signs requests and verifies answers and notifications.
    #[must_use]
    pub fn new(
        username: impl Into<String>,
        password: SecretString,
        api_signature: SecretString,
        checksum_key: SecretString,
    ) -> Self {
        Self {
            username: username.into(),
            password,
            signature: api_signature,
            checksum_key,
        }
    }

    /// `APIUsername`.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[hidden]")
            .field("signature", &"[hidden]")
            .field("checksum_key", &"[hidden]")
            .finish()
    }
}

/// Where and how to call Payoo: [`Config::new`] (SOAP 1.1, the current time), then a setter
/// for anything else.
///
/// ```
/// use paybridge_payoo::{Config, Credentials, SoapVersion};
/// use secrecy::SecretString;
///
/// let credentials = Credentials::new(
///     "iss_shop",
///     SecretString::from("password"),
///     SecretString::from("api-signature"),
///     SecretString::from("checksum-key"),
/// );
/// let config = Config::new("https://qr-gw-sb.payoo.vn/CallerServices.asmx", credentials)
///     .soap_version(SoapVersion::V12);
/// assert_eq!(config.credentials().username(), "iss_shop");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) endpoint: String,
    pub(crate) credentials: Credentials,
    pub(crate) version: SoapVersion,
    pub(crate) timestamp: Option<String>,
}

impl Config {
    /// The `CallerServices.asmx` endpoint and the credentials.
    #[must_use]
    pub fn new(endpoint: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            endpoint: endpoint.into(),
            credentials,
            version: SoapVersion::V11,
            timestamp: None,
        }
    }

    /// The SOAP version to speak (default 1.1).
    #[must_use]
    pub fn soap_version(mut self, version: SoapVersion) -> Self {
        self.version = version;
        self
    }

    /// Send this `Timestamp` (`yyyyMMddHHmmss`, UTC+7) instead of the current time.
    #[must_use]
    pub fn timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// The credentials.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

/// A verified answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    /// `Success` or `SuccessWithWarning` (a `Failure` is an error).
    pub ack: AckCodeType,
    /// Warnings that came with the answer.
    pub warnings: Vec<PayooMessage>,
    /// Extra result fields, in document order.
    pub fields: Vec<(String, String)>,
}

impl CallResult {
    /// The value of the result field `name`.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        crate::signature::field(&self.fields, name)
    }

    /// Check that this answer answers a request about `order` (in the field `order_field`)
    /// of shop `shop_id`: no element repeated, and the order field and `ShopID` equal to the
    /// request's where the answer carries them. The checksum covers the values in order, not
    /// the names, and Payoo's documented answers (`GetOrderInformation`: `OrderStatus`,
    /// `OrderCash`, `OrderFee`, dates) carry no order fields at all — so an answer without
    /// them is accepted as Payoo sends it; one that names another order or shop is refused.
    pub fn check_answers(
        &self,
        order_field: &str,
        order: &str,
        shop_id: i64,
    ) -> Result<(), PayooError> {
        // A set: an answer holds as many elements as the limits let through.
        let mut seen = std::collections::HashSet::with_capacity(self.fields.len());
        if let Some((name, _)) = self
            .fields
            .iter()
            .find(|(name, _)| !seen.insert(name.as_str()))
        {
            return Err(PayooError::NotThisRequest(format!(
                "element {name} appears more than once"
            )));
        }
        match self.field(order_field) {
            Some(got) if got.trim() == order => {}
            Some(got) => {
                return Err(PayooError::NotThisRequest(format!(
                    "{order_field} is {got:?}, the request asked about {order:?}"
                )));
            }
            None => {}
        }
        if let Some(got) = self.field("ShopID")
            && got.trim() != shop_id.to_string()
        {
            return Err(PayooError::NotThisRequest(format!(
                "ShopID is {got:?}, the request was for shop {shop_id}"
            )));
        }
        Ok(())
    }
}

/// `yyyyMMddHHmmss` in Vietnam time (UTC+7) for `unix_seconds`.
#[must_use]
pub fn vietnam_timestamp(unix_seconds: i64) -> String {
    let t = paybridge_core::time::civil(unix_seconds + 7 * 3600);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `yyyyMMdd` in Vietnam time (UTC+7) for `unix_seconds`: a purchase day as the REST API
/// takes it (`PurchaseDate` of `GetOrderInfo` and `Refund`).
#[must_use]
pub fn vietnam_day(unix_seconds: i64) -> String {
    let t = paybridge_core::time::civil(unix_seconds + 7 * 3600);
    format!("{:04}{:02}{:02}", t.year, t.month, t.day)
}

/// `dd/MM/yyyy` in Vietnam time (UTC+7) for `unix_seconds`: a shipping date as Payoo writes
/// it (`order_ship_date`, `FromShipDate`).
#[must_use]
pub fn vietnam_date(unix_seconds: i64) -> String {
    let t = paybridge_core::time::civil(unix_seconds + 7 * 3600);
    format!("{:02}/{:02}/{:04}", t.day, t.month, t.year)
}

/// Builds and sends `CallToPartner` requests.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    credentials: Credentials,
    version: SoapVersion,
    timestamp: Option<String>,
    transport: HttpTransport,
}

impl Client {
    /// A client; the endpoint is checked here, not at the first call.
    pub fn new(config: Config, transport: HttpTransport) -> Result<Self, PayooError> {
        let endpoint = Endpoint::parse(&config.endpoint)?;
        Ok(Self {
            endpoint,
            credentials: config.credentials,
            version: config.version,
            timestamp: config.timestamp,
            transport,
        })
    }

    /// The complete request envelope for `api_name` with `fields` in declared order.
    pub fn request_xml(
        &self,
        api_name: &str,
        fields: &[(&str, String)],
    ) -> Result<String, PayooError> {
        if api_name.is_empty()
            || !api_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(PayooError::input(format!("invalid API name {api_name:?}")));
        }
        // A field name is written into the signed request as an element name: anything but
        // an XML name could close `_APIParam` and inject elements of its own.
        if let Some((bad, _)) = fields
            .iter()
            .find(|(name, _)| !paybridge_core::xml::is_name(name))
        {
            return Err(PayooError::input(format!(
                "field name {bad:?} is not an XML element name (letters, digits, '_', '-', '.'; not starting with a digit)"
            )));
        }
        let timestamp = self.timestamp.clone().unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            vietnam_timestamp(now)
        });
        let header = to_fragment(&ApiCredential {
            api_username: Some(self.credentials.username.clone()),
            api_password: Some(self.credentials.password.expose_secret().to_owned()),
            api_signature: Some(self.credentials.signature.expose_secret().to_owned()),
            timestamp: Some(timestamp),
        })?;
        let signature = checksum(
            self.credentials.checksum_key.expose_secret(),
            fields.iter().map(|(_, v)| v.as_str()),
        );
        let mut param = format!("<DigitalSignature>{signature}</DigitalSignature>");
        for (name, value) in fields {
            if !value.is_empty() {
                let _ = write!(param, "<{name}>{}</{name}>", escape_text(value));
            }
        }
        let body = format!(
            r#"<CallToPartner xmlns="{NAMESPACE}"><_APIName>{}</_APIName><_APIParam xsi:type="{api_name}RequestType">{param}</_APIParam></CallToPartner>"#,
            escape_text(api_name)
        );
        Ok(wrap(
            &EnvelopeStyle::new(self.version),
            Some(&header),
            &body,
        ))
    }

    /// One `CallToPartner` call. `Failure` → [`PayooError::Failure`] with every error; a
    /// response whose `DigitalSignature` does not verify → [`PayooError::Signature`].
    pub async fn call(
        &self,
        api_name: &str,
        fields: &[(&str, String)],
    ) -> Result<CallResult, PayooError> {
        let envelope = self.request_xml(api_name, fields)?;
        let idempotent = api_name == "GetOrderInformation";
        let reference = fields
            .iter()
            .find(|(name, _)| matches!(*name, "OrderID" | "OrderNo"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let call = SoapCall {
            endpoint: &self.endpoint,
            version: self.version,
            action: &CALL_TO_PARTNER_ACTION,
            provider: PROVIDER_ID,
            operation: "CallToPartner",
            idempotent,
            reconcile: (!idempotent).then(|| Reconcile {
                reference,
                advice: reconcile_advice(api_name),
            }),
            extra_headers: Vec::new(),
        };
        let raw = soap::call(&self.transport, call, envelope).await?;
        parse_result(&raw.body, self.credentials.checksum_key.expose_secret())
    }

    /// `GetOrderInformation { OrderID, ShopID }`.
    pub async fn get_order_information(
        &self,
        order_id: &str,
        shop_id: i64,
    ) -> Result<CallResult, PayooError> {
        let result = self
            .call(
                "GetOrderInformation",
                &[
                    ("OrderID", order_id.to_owned()),
                    ("ShopID", shop_id.to_string()),
                ],
            )
            .await?;
        result.check_answers("OrderID", order_id, shop_id)?;
        Ok(result)
    }

    /// `UpdateOrderStatus { ShopID, OrderID, NewStatus, UpdateLog }`.
    pub async fn update_order_status(
        &self,
        shop_id: i64,
        order_id: &str,
        new_status: i32,
        update_log: Option<&str>,
    ) -> Result<CallResult, PayooError> {
        let result = self
            .call(
                "UpdateOrderStatus",
                &[
                    ("ShopID", shop_id.to_string()),
                    ("OrderID", order_id.to_owned()),
                    ("NewStatus", new_status.to_string()),
                    ("UpdateLog", update_log.unwrap_or_default().to_owned()),
                ],
            )
            .await?;
        result.check_answers("OrderID", order_id, shop_id)?;
        Ok(result)
    }

    /// `CreatePreOrder`, fields in declared order.
    /// `CyberCash` must be a whole, positive number of dong within
    /// [`paybridge_core::Money::MAX_MAJOR_UNITS`]; nothing is sent otherwise.
    pub async fn create_pre_order(&self, order: &PreOrder) -> Result<CallResult, PayooError> {
        paybridge_core::Money::new(order.cyber_cash, paybridge_core::Currency::VND)
            .and_then(|m| m.check_to_send("CyberCash"))
            .map_err(|e| PayooError::input(format!("CyberCash: {e}")))?;
        let result = self.call("CreatePreOrder", &order.fields()).await?;
        result.check_answers("OrderNo", &order.order_no, order.shop_id)?;
        Ok(result)
    }
}

/// How to find out what a `CallToPartner` call that may have reached Payoo did.
#[must_use]
pub fn reconcile_advice(api_name: &str) -> &'static str {
    match api_name {
        "CreatePreOrder" => {
            "ask GetOrderInformation for the same order (paybridge payoo get-order) before creating it again"
        }
        "UpdateOrderStatus" => {
            "ask GetOrderInformation for the order's status; send the same status again only if it did not change"
        }
        _ => "ask GetOrderInformation for the order before calling again",
    }
}

/// `CreatePreOrder`'s fields. `ShopID`, `ShipNumDay` and `CyberCash` are value types (always
/// sent); the strings are sent when non-empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreOrder {
    /// `ShopID`.
    pub shop_id: i64,
    /// `OrderNo`.
    pub order_no: String,
    /// `FromShipDate`.
    pub from_ship_date: String,
    /// `ShipNumDay`.
    pub ship_num_day: i32,
    /// `Description`.
    pub description: String,
    /// `CyberCash`: the amount (VND).
    pub cyber_cash: Decimal,
    /// `HttpReference`.
    pub http_reference: String,
    /// `ShopBackURL`.
    pub shop_back_url: String,
    /// `SessionShop`.
    pub session_shop: String,
    /// `PaymentExpireDate`.
    pub payment_expire_date: String,
    /// `InfoEx`.
    pub info_ex: String,
    /// `UserName`.
    pub user_name: String,
    /// `ShopTitle`.
    pub shop_title: String,
    /// `ShopDomain`.
    pub shop_domain: String,
    /// `NotifyUrl`.
    pub notify_url: String,
    /// `BillingCode`.
    pub billing_code: String,
}

impl PreOrder {
    /// The fields in declared order.
    #[must_use]
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ShopID", self.shop_id.to_string()),
            ("OrderNo", self.order_no.clone()),
            ("FromShipDate", self.from_ship_date.clone()),
            ("ShipNumDay", self.ship_num_day.to_string()),
            ("Description", self.description.clone()),
            ("CyberCash", self.cyber_cash.normalize().to_string()),
            ("HttpReference", self.http_reference.clone()),
            ("ShopBackURL", self.shop_back_url.clone()),
            ("SessionShop", self.session_shop.clone()),
            ("PaymentExpireDate", self.payment_expire_date.clone()),
            ("InfoEx", self.info_ex.clone()),
            ("UserName", self.user_name.clone()),
            ("ShopTitle", self.shop_title.clone()),
            ("ShopDomain", self.shop_domain.clone()),
            ("NotifyUrl", self.notify_url.clone()),
            ("BillingCode", self.billing_code.clone()),
        ]
    }
}

/// Verify and read a `CallToPartnerResponse` body element.
pub fn parse_result(body: &str, checksum_key: &str) -> Result<CallResult, PayooError> {
    let doc = paybridge_core::xml::parse_root(body, Some(NAMESPACE), "CallToPartnerResponse")?;
    let ns = Some(NAMESPACE);
    let result = paybridge_core::xml::child(doc.root_element(), ns, "CallToPartnerResult")
        .ok_or_else(|| PayooError::decode("no CallToPartnerResult"))?;
    let (mut received, mut ack, mut errors, mut fields, mut signed) =
        (None, None, Vec::new(), Vec::new(), Vec::new());
    for el in result.children().filter(roxmltree::Node::is_element) {
        match el.tag_name().name() {
            "DigitalSignature" => received = Some(text(el)),
            "Error" => {
                let part = |n: &str| {
                    paybridge_core::xml::child(el, ns, n)
                        .map(text)
                        .unwrap_or_default()
                };
                let (severity, message) = (part("SeverityCode"), part("Message"));
                signed.push(severity.clone());
                signed.push(message.clone());
                errors.push(PayooMessage {
                    severity: severity.trim().parse().unwrap_or_default(),
                    message,
                });
            }
            "AckCode" => {
                let t = text(el);
                signed.push(t.clone());
                ack = Some(t);
            }
            other => {
                let t = text(el);
                signed.push(t.clone());
                fields.push((other.to_owned(), t));
            }
        }
    }
    let received = received.ok_or(PayooError::Signature)?;
    // The proof is not kept: an answer to our own call is not a callback to hand out.
    let _verified = verify(checksum_key, signed.iter().map(String::as_str), &received)
        .map_err(|_| PayooError::Signature)?;
    let ack = match ack.as_deref().map(str::trim) {
        Some("Success") => AckCodeType::Success,
        Some("SuccessWithWarning") => AckCodeType::SuccessWithWarning,
        Some("Failure") => return Err(PayooError::Failure(errors)),
        other => return Err(PayooError::decode(format!("unknown AckCode {other:?}"))),
    };
    Ok(CallResult {
        ack,
        warnings: errors,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_is_vietnam_time() {
        // 2026-11-23 12:00:00 UTC = 19:00:00 in Vietnam.
        assert_eq!(vietnam_timestamp(1_795_435_200), "20261123190000");
        // Crossing midnight and a leap day: 2024-02-28 20:00:00 UTC = 2024-02-29 03:00 UTC+7.
        assert_eq!(vietnam_timestamp(1_709_150_400), "20240229030000");
        // 17:00 UTC is already the next day in Vietnam.
        assert_eq!(vietnam_date(1_795_453_200), "24/11/2026");
        assert_eq!(vietnam_date(1_709_150_400), "29/02/2024");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_answers_never_panic(text in "\\PC{0,300}") {
            let _ = parse_result(&text, "k");
            let wrapped = format!(r#"<CallToPartnerResponse xmlns="PayooBPGAdapter"><CallToPartnerResult>{text}</CallToPartnerResult></CallToPartnerResponse>"#);
            let _ = parse_result(&wrapped, "k");
        }
    }
}
