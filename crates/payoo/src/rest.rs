//! Payoo's REST Business API (`…/BusinessRestAPI.svc`): the current server-to-server API —
//! order status (`GetOrderInfo`), refunds (`Refund`), cancels (`CancelOrder`), pay-at-store
//! codes (`GetBillingCode`) and QR codes (`GetQRCode`).
//!
//! Every call is `POST <base>/<Method>` with the headers `APIUsername`, `APIPassword`,
//! `APISignature` (the three credentials Payoo issues) and the body
//! `{"RequestData": "<JSON text>", "Signature": SHA512(ChecksumKey + RequestData)}`; the answer
//! is `{"ResponseData": "<JSON text>", "Signature": …}`, verified the same way (constant time,
//! either case) before a byte of it is read. `ResponseCode` is a typed code per method with its
//! documented meaning.
//!
//! Nothing that moves money is resent: a refund's unknown outcome says to send it again **with
//! the same `RefundId`** (Payoo answers 99, "`RefundId` already exists", instead of refunding
//! twice — read here as the earlier refund, [`Refund::repeat`]).

use paybridge_core::http::{Endpoint, HttpRequest, HttpResponse, HttpTransport};
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};
use paybridge_core::{CoreFailure as _, Currency, Money};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::client::{Credentials, PROVIDER_ID};
use crate::error::PayooError;

/// Payoo's sandbox base URL.
pub const SANDBOX_BASE: &str = "https://bizsandbox.payoo.com.vn/BusinessRestAPI.svc";
/// Payoo's live base URL.
pub const LIVE_BASE: &str = "https://business.payoo.com.vn/BusinessRestAPI.svc";

paybridge_core::code_table! {
    /// `GetOrderInfo`'s `ResponseCode` (the common codes; the method documents no others).
    pub enum OrderInfoCode {
        0 => Ok, "Success", "success", retry: false;
        1000 => SystemError, "System error", "Payoo system error", retry: true;
        1001 => BadCredentials, "Invalid credential", "the API username, password or signature is wrong", retry: false;
        1002 => BadSignature, "Invalid signature", "the request's checksum does not verify", retry: false;
        1003 => BadInput, "Invalid input", "a request field is missing or malformed", retry: false;
    }
    unknown: "Undocumented", "undocumented response code";
}

paybridge_core::code_table! {
    /// `Refund`'s `ResponseCode`.
    pub enum RefundCode {
        0 => Ok, "Success", "refunded", retry: false;
        3 => ShopNotFound, "Shop does not exist", "the shop does not exist", retry: false;
        8 => OrderNotFound, "Order does not exist", "the order does not exist", retry: false;
        9 => InvalidAmount, "Invalid money", "the refund amount is not valid", retry: false;
        83 => BelowMinimum, "Money less than MIN", "the refund is below the minimum", retry: false;
        91 => BuyerLocked, "Buyer account locked", "the buyer's account is locked", retry: false;
        92 => DailyLimit, "Refund limit per day", "the daily refund limit is reached", retry: true;
        94 => OrderOnHold, "Order on hold", "the order is on hold", retry: true;
        96 => ShopNotAllowed, "Shop not allowed to refund", "the shop may not refund", retry: false;
        97 => ExceedsOrder, "Money exceeds order", "more than the order's total (less earlier refunds)", retry: false;
        98 => OrderCancelled, "Order cancelled", "the order is cancelled", retry: false;
        /// Not a failure: this refund was made before; its answer is the earlier refund.
        99 => RefundIdExists, "RefundId already exists", "this RefundId was refunded before (the earlier refund stands)", retry: false;
        1000 => SystemError, "System error", "Payoo system error", retry: false;
        1001 => BadCredentials, "Invalid credential", "the API username, password or signature is wrong", retry: false;
        1002 => BadSignature, "Invalid signature", "the request's checksum does not verify", retry: false;
        1003 => BadInput, "Invalid input", "a request field is missing or malformed", retry: false;
    }
    unknown: "Undocumented", "undocumented response code";
}

paybridge_core::code_table! {
    /// `CancelOrder`'s `ResponseCode`.
    pub enum CancelCode {
        0 => Ok, "Success", "cancelled", retry: false;
        3 => ShopNotFound, "Shop does not exist", "the shop does not exist", retry: false;
        8 => OrderNotFound, "Order does not exist", "the order does not exist", retry: false;
        11 => InvalidStatusChange, "Invalid status change", "the order cannot change to cancelled from its status", retry: false;
        12 => AlreadyCancelled, "Order already cancelled", "the order was cancelled before", retry: false;
        1000 => SystemError, "System error", "Payoo system error", retry: false;
        1001 => BadCredentials, "Invalid credential", "the API username, password or signature is wrong", retry: false;
        1002 => BadSignature, "Invalid signature", "the request's checksum does not verify", retry: false;
        1003 => BadInput, "Invalid input", "a request field is missing or malformed", retry: false;
    }
    unknown: "Undocumented", "undocumented response code";
}

paybridge_core::code_table! {
    /// `GetBillingCode`'s and `GetQRCode`'s `ResponseCode`.
    pub enum IssueCode {
        0 => Ok, "Success", "issued", retry: false;
        -1 => Failed, "Fail", "not issued", retry: false;
        -2 => CodeExists, "Billing code exists", "a billing code exists for the order", retry: false;
        2 => BadWallet, "Invalid wallet", "the business username (wallet) is not valid", retry: false;
        83 => OrderExists, "Order exists", "an order with this OrderNo exists", retry: false;
        84 => BadShipDate, "Invalid ship date", "FromShipDate is not valid", retry: false;
        85 => BadAmount, "Invalid money", "the amount is not valid", retry: false;
        86 => BadExpiry, "Invalid expire date", "PaymentExpireDate is not valid", retry: false;
        1000 => SystemError, "System error", "Payoo system error", retry: false;
        1001 => BadCredentials, "Invalid credential", "the API username, password or signature is wrong", retry: false;
        1002 => BadSignature, "Invalid signature", "the request's checksum does not verify", retry: false;
        1003 => BadInput, "Invalid input", "a request field is missing or malformed", retry: false;
    }
    unknown: "Undocumented", "undocumented response code";
}

paybridge_core::code_table! {
    /// An order's `PaymentStatus` (`GetOrderInfo`, JSON notifications). 1 = paid is Payoo's
    /// documented value; 0 (not paid) and 3 (cancelled, the status `CancelOrder` sets) are our
    /// reading of the public clients.
    pub enum OrderStatus {
        0 => Unpaid, "Unpaid", "not paid (yet)", retry: false;
        1 => Paid, "Paid", "paid", retry: false;
        3 => Cancelled, "Cancelled", "cancelled", retry: false;
    }
    unknown: "Undocumented", "undocumented payment status";
}

impl OrderStatus {
    /// The normalized status: 1 succeeded, 3 cancelled, 0 and anything undocumented pending
    /// (never credit on an undocumented code).
    #[must_use]
    pub fn normalized(self) -> paybridge_core::PaymentStatus {
        match self {
            Self::Paid => paybridge_core::PaymentStatus::Succeeded,
            Self::Cancelled => paybridge_core::PaymentStatus::Cancelled,
            Self::Unpaid | Self::Unknown(_) => paybridge_core::PaymentStatus::Pending,
        }
    }
}

/// How to find out what a refund whose outcome is unknown did.
pub const REFUND_ADVICE: &str = "the refund may have been made: send it again with the same RefundId — Payoo answers 99 (RefundId already exists) with the earlier refund instead of refunding twice";
/// How to find out what a cancel whose outcome is unknown did.
pub const CANCEL_ADVICE: &str =
    "the order may have been cancelled: ask GetOrderInfo (PaymentStatus 3 = cancelled)";
/// How to find out what a billing-code or QR request whose outcome is unknown did.
pub const ISSUE_ADVICE: &str = "an order with this OrderNo may exist at Payoo: ask GetOrderInfo before asking again (a repeat answers 83, order exists)";

/// One REST method: its path and, for one that must not be resent, the advice.
struct Method {
    path: &'static str,
    advice: Option<&'static str>,
}

const ORDER_INFO: Method = Method {
    path: "getorderinfo",
    advice: None,
};
const REFUND: Method = Method {
    path: "refund",
    advice: Some(REFUND_ADVICE),
};
const CANCEL: Method = Method {
    path: "CancelOrder",
    advice: Some(CANCEL_ADVICE),
};
const BILLING_CODE: Method = Method {
    path: "GetBillingCode",
    advice: Some(ISSUE_ADVICE),
};
const QR_CODE: Method = Method {
    path: "GetQRCode",
    advice: Some(ISSUE_ADVICE),
};

/// An order as `GetOrderInfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderInfo {
    /// The merchant's order number.
    pub order_no: String,
    /// `OrderCash` (VND), exact.
    pub amount: Option<Money>,
    /// `PaymentStatus`.
    pub status: OrderStatus,
    /// `PaymentMethod` (1 e-wallet, 2 international card, 3 domestic card, 4 pay later, 5 QR,
    /// 6 installment).
    pub payment_method: Option<i64>,
    /// `PurchaseDate`, `yyyyMMddHHmmss`.
    pub purchase_date: Option<String>,
    /// `ShopId`.
    pub shop_id: Option<i64>,
    /// `BankName`.
    pub bank_name: Option<String>,
    /// `CardNumber` (masked).
    pub card_number: Option<String>,
    /// `BillingCode` (pay at store).
    pub billing_code: Option<String>,
}

/// A refund as Payoo answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refund {
    /// `TransferCode`: Payoo's id for the refund.
    pub transfer_code: Option<String>,
    /// `AmountRefunded` (VND), exact.
    pub amount_refunded: Option<Money>,
    /// Code 99: this `RefundId` was refunded before; this is the earlier refund.
    pub repeat: bool,
}

/// What to refund: the order, how much (VND), the merchant's refund id (what makes a repeat
/// harmless), the order's purchase date (`yyyyMMdd`) and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The merchant's order number.
    pub order_no: String,
    /// How much (VND, whole).
    pub amount: Money,
    /// The merchant's id for this refund.
    pub refund_id: String,
    /// The order's purchase date, `yyyyMMdd`.
    pub purchase_date: String,
    /// Why.
    pub description: String,
}

/// A pay-at-store code or QR code request: the order, its amount (VND), shipping and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// The shop.
    pub shop_id: i64,
    /// The merchant's order number.
    pub order_no: String,
    /// The amount (VND, whole).
    pub amount: Money,
    /// What is paid for (more than 50 characters; sent URL-encoded).
    pub description: String,
    /// First shipping day, `dd/MM/yyyy`.
    pub ship_date: String,
    /// Shipping days.
    pub ship_days: u32,
    /// When the code lapses, `yyyyMMddHHmmss`.
    pub expires: String,
    /// Where Payoo notifies the payment.
    pub notify_url: String,
    /// The business username (`UserName`, QR codes).
    pub username: String,
    /// Ask for JSON notifications.
    pub json_notify: bool,
}

/// A pay-at-store code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillingCode {
    /// `BillingCode` (888…).
    pub code: String,
}

/// A QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QrCode {
    /// `QRCode` (the payload).
    pub code: Option<String>,
    /// `QRCodeLink` (an image).
    pub link: Option<String>,
    /// `MultiQRCodeLink[].QRCodeLink`, one per supporting app.
    pub app_links: Vec<String>,
}

/// A REST Business API client. Cheap to clone.
#[derive(Clone)]
pub struct RestClient {
    base: String,
    credentials: Credentials,
    transport: HttpTransport,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// `text` as the JSON number it is (`"0"` or `0`), for `ResponseCode`.
fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A field as text (a string, or a number written out).
fn field(data: &Map<String, Value>, name: &str) -> Option<String> {
    match data.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An amount Payoo reported in `name` (VND), checked.
fn vnd(data: &Map<String, Value>, name: &str) -> Result<Option<Money>, PayooError> {
    field(data, name)
        .map(|t| Money::parse_reported(&t, Currency::VND, name).map_err(PayooError::from))
        .transpose()
}

/// A VND amount to send: whole, positive, within what we send.
fn whole_vnd(amount: Money, name: &str) -> Result<i64, PayooError> {
    if amount.currency() != Currency::VND {
        return Err(
            paybridge_core::Error::input(format!("{name}: Payoo amounts are in VND")).into(),
        );
    }
    amount.check_to_send(name)?;
    amount
        .to_minor_units()
        .filter(|v| *v > 0)
        .ok_or_else(|| paybridge_core::Error::input(format!("{name}: more than 0 VND")).into())
}

/// A REST answer's `ResponseData` fields and `ResponseCode`, once its `Signature` verified
/// (`SHA512(checksum_key + ResponseData)`, constant time, either case): nothing is read
/// before that. Not an answer at all is a decode error; a bad signature a signature error.
pub fn read_answer(
    checksum_key: &str,
    body: &[u8],
) -> Result<(Map<String, Value>, i64), PayooError> {
    let not_an_answer =
        || PayooError::from(paybridge_core::Error::decode("not a Payoo REST answer"));
    let outer: Value = serde_json::from_slice(body).map_err(|_| not_an_answer())?;
    let (Some(data), Some(signature)) = (
        outer.get("ResponseData").and_then(Value::as_str),
        outer.get("Signature").and_then(Value::as_str),
    ) else {
        return Err(not_an_answer());
    };
    // Nothing below is read before this holds.
    let _verified = verify_sha512_hex(&[checksum_key.as_bytes(), data.as_bytes()], signature)
        .map_err(|_| {
            PayooError::from(paybridge_core::Error::Signature(
                "Payoo's ResponseData signature does not verify".into(),
            ))
        })?;
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(data) else {
        return Err(paybridge_core::Error::decode("ResponseData is not a JSON object").into());
    };
    let code = number(fields.get("ResponseCode"))
        .ok_or_else(|| PayooError::from(paybridge_core::Error::decode("no ResponseCode")))?;
    Ok((fields, code))
}

/// A signed REST answer for `response_data` (what the simulator and tests send).
#[must_use]
pub fn signed_answer(checksum_key: &str, response_data: &str) -> String {
    json!({
        "ResponseData": response_data,
        "Signature": sha512_hex(&[checksum_key.as_bytes(), response_data.as_bytes()]).to_uppercase(),
    })
    .to_string()
}

impl RestClient {
    /// A client for `base` (e.g. [`SANDBOX_BASE`]) with Payoo's four secrets.
    pub fn new(
        base: impl Into<String>,
        credentials: Credentials,
        transport: HttpTransport,
    ) -> Result<Self, PayooError> {
        let base = base.into().trim_end_matches('/').to_owned();
        Endpoint::parse(&base)?;
        Ok(Self {
            base,
            credentials,
            transport,
        })
    }

    /// The body of a call: `RequestData` and its `Signature`.
    #[must_use]
    pub fn body(&self, request_data: &str) -> String {
        let key = self.credentials.checksum_key.expose_secret();
        json!({
            "RequestData": request_data,
            "Signature": sha512_hex(&[key.as_bytes(), request_data.as_bytes()]).to_uppercase(),
        })
        .to_string()
    }

    /// A verified answer's `ResponseData` and its `ResponseCode`.
    fn read(&self, response: &HttpResponse) -> Result<(Map<String, Value>, i64), PayooError> {
        let key = self.credentials.checksum_key.expose_secret();
        read_answer(key, &response.body).map_err(|e| match e {
            PayooError::Core(paybridge_core::Error::Decode { .. }) => response
                .undecodable(paybridge_core::Error::decode(e.to_string()))
                .into(),
            other => other,
        })
    }

    /// Send `request_data` to `method`; the verified `ResponseData` and `ResponseCode`.
    async fn call(
        &self,
        method: &Method,
        request_data: &Value,
        reference: &str,
    ) -> Result<(Map<String, Value>, i64), PayooError> {
        let text = request_data.to_string();
        let mut request =
            HttpRequest::post(format!("{}/{}", self.base, method.path), self.body(&text))
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("APIUsername", self.credentials.username.as_str())
                .header("APIPassword", self.credentials.password.expose_secret())
                .header("APISignature", self.credentials.signature.expose_secret())
                .operation(PROVIDER_ID, method.path);
        request = match method.advice {
            Some(advice) => request.reconcile(reference, advice),
            None => request.idempotent(true),
        };
        let response = self.transport.send(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(response.into_success().err().map_or_else(
                || paybridge_core::Error::decode("unexpected status").into(),
                PayooError::from,
            ));
        }
        self.read(&response)
    }

    /// `GetOrderInfo`: where an order stands. `purchase_date` (`yyyyMMdd`) is sent when given.
    pub async fn order_info(
        &self,
        order_no: &str,
        shop_id: i64,
        purchase_date: Option<&str>,
    ) -> Result<OrderInfo, PayooError> {
        let mut data = json!({"OrderId": order_no, "ShopId": shop_id});
        if let (Some(date), Some(map)) = (purchase_date, data.as_object_mut()) {
            map.insert("PurchaseDate".into(), Value::String(date.to_owned()));
        }
        let (fields, code) = self.call(&ORDER_INFO, &data, order_no).await?;
        let code = OrderInfoCode::from_code(code);
        if code != OrderInfoCode::Ok {
            return Err(PayooError::rest(
                "GetOrderInfo",
                code.code(),
                code.meaning(),
                code.retryable(),
            ));
        }
        let reported = field(&fields, "OrderNo").unwrap_or_default();
        if !reported.is_empty() && reported != order_no {
            return Err(PayooError::NotThisRequest(format!(
                "asked about order {order_no:?}, Payoo answered about {reported:?}"
            )));
        }
        Ok(OrderInfo {
            order_no: order_no.to_owned(),
            amount: vnd(&fields, "OrderCash")?,
            status: OrderStatus::from_code(number(fields.get("PaymentStatus")).unwrap_or(0)),
            payment_method: number(fields.get("PaymentMethod")),
            purchase_date: field(&fields, "PurchaseDate"),
            shop_id: number(fields.get("ShopId")),
            bank_name: field(&fields, "BankName"),
            card_number: field(&fields, "CardNumber"),
            billing_code: field(&fields, "BillingCode"),
        })
    }

    /// `Refund`: `amount` of a paid order back (`ActionType` 2). Never resent: an unknown
    /// outcome carries [`REFUND_ADVICE`]. Code 99 ("`RefundId` already exists") is the earlier
    /// refund ([`Refund::repeat`]); any other non-zero code is [`PayooError::Rest`].
    pub async fn refund(&self, r: &RefundRequest) -> Result<Refund, PayooError> {
        if r.refund_id.trim().is_empty() || r.order_no.trim().is_empty() {
            return Err(
                paybridge_core::Error::input("a refund needs the order and a RefundId").into(),
            );
        }
        if r.purchase_date.len() != 8 || !r.purchase_date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(paybridge_core::Error::input("PurchaseDate is yyyyMMdd").into());
        }
        let data = json!({
            "OrderNo": r.order_no,
            "Money": whole_vnd(r.amount, "Money")?,
            "Description": r.description,
            "ActionType": 2,
            "RefundId": r.refund_id,
            "PurchaseDate": r.purchase_date,
        });
        let (fields, code) = self.call(&REFUND, &data, &r.refund_id).await?;
        let code = RefundCode::from_code(code);
        if !matches!(code, RefundCode::Ok | RefundCode::RefundIdExists) {
            return Err(PayooError::rest(
                "Refund",
                code.code(),
                code.meaning(),
                code.retryable(),
            ));
        }
        let refund = Refund {
            transfer_code: field(&fields, "TransferCode"),
            amount_refunded: vnd(&fields, "AmountRefunded")?,
            repeat: code == RefundCode::RefundIdExists,
        };
        // What Payoo says it refunded must be what was asked (a repeat answers the earlier
        // refund, which had this id and so this amount).
        if let Some(refunded) = refund.amount_refunded
            && refunded != r.amount
        {
            return Err(PayooError::NotThisRequest(format!(
                "asked to refund {}, Payoo says it refunded {}",
                r.amount, refunded
            )));
        }
        Ok(refund)
    }

    /// `CancelOrder` (`NewStatus` 3). Never resent ([`CANCEL_ADVICE`]).
    pub async fn cancel_order(
        &self,
        shop_id: i64,
        order_no: &str,
        update_log: &str,
    ) -> Result<CancelCode, PayooError> {
        let data = json!({
            "ShopID": shop_id,
            "OrderID": order_no,
            "NewStatus": 3,
            "UpdateLog": update_log,
        });
        let (_, code) = self.call(&CANCEL, &data, order_no).await?;
        let code = CancelCode::from_code(code);
        if code == CancelCode::Ok {
            Ok(code)
        } else {
            Err(PayooError::rest(
                "CancelOrder",
                code.code(),
                code.meaning(),
                code.retryable(),
            ))
        }
    }

    fn issue_data(r: &IssueRequest, qr: bool) -> Result<Value, PayooError> {
        if r.description.chars().count() <= 50 {
            return Err(paybridge_core::Error::input(
                "Payoo needs a description of more than 50 characters",
            )
            .into());
        }
        let description: String =
            form_urlencoded::byte_serialize(r.description.as_bytes()).collect();
        let mut data = json!({
            "ShopID": r.shop_id,
            "OrderNo": r.order_no,
            "FromShipDate": r.ship_date,
            "ShipNumDay": r.ship_days,
            "Description": description,
            "CyberCash": whole_vnd(r.amount, "CyberCash")?,
            "PaymentExpireDate": r.expires,
            "NotifyUrl": r.notify_url,
        });
        if let Some(map) = data.as_object_mut() {
            if qr {
                map.insert("UserName".into(), Value::String(r.username.clone()));
                map.insert("IsJsonResponse".into(), Value::Bool(r.json_notify));
            } else {
                let info = format!(
                    "<InfoEx><JsonResponse>{}</JsonResponse></InfoEx>",
                    if r.json_notify { "TRUE" } else { "FALSE" }
                );
                map.insert(
                    "InfoEx".into(),
                    Value::String(form_urlencoded::byte_serialize(info.as_bytes()).collect()),
                );
            }
        }
        Ok(data)
    }

    /// `GetBillingCode`: a code the payer pays with at a store. Never resent ([`ISSUE_ADVICE`]).
    pub async fn billing_code(&self, r: &IssueRequest) -> Result<BillingCode, PayooError> {
        let (fields, code) = self
            .call(&BILLING_CODE, &Self::issue_data(r, false)?, &r.order_no)
            .await?;
        let code = IssueCode::from_code(code);
        if code != IssueCode::Ok {
            return Err(PayooError::rest(
                "GetBillingCode",
                code.code(),
                code.meaning(),
                code.retryable(),
            ));
        }
        Ok(BillingCode {
            code: field(&fields, "BillingCode")
                .ok_or_else(|| paybridge_core::Error::decode("no BillingCode"))?,
        })
    }

    /// `GetQRCode`: a QR code the payer scans. Never resent ([`ISSUE_ADVICE`]).
    pub async fn qr_code(&self, r: &IssueRequest) -> Result<QrCode, PayooError> {
        let (fields, code) = self
            .call(&QR_CODE, &Self::issue_data(r, true)?, &r.order_no)
            .await?;
        let code = IssueCode::from_code(code);
        if code != IssueCode::Ok {
            return Err(PayooError::rest(
                "GetQRCode",
                code.code(),
                code.meaning(),
                code.retryable(),
            ));
        }
        let app_links = fields
            .get("MultiQRCodeLink")
            .and_then(Value::as_array)
            .map(|links| {
                links
                    .iter()
                    .filter_map(|l| l.get("QRCodeLink").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(QrCode {
            code: field(&fields, "QRCode"),
            link: field(&fields, "QRCodeLink"),
            app_links,
        })
    }
}
