//! The Wooppay XML API (`https://www.wooppay.com/api/wsd/`): one async method per documented
//! operation, over rpc/encoded SOAP 1.1 with the generated wire types.
//!
//! Sessions: the first call logs in (`core_login`); every later call sends
//! `Cookie: session=<key>`. Concurrent first calls share one login (a login lock is held
//! while logging in; callers that find no session wait on it, then take the new session).
//! An answer with code 5, 606 or 607 (session missing or expired) drops that session, logs in
//! again and repeats the call — once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use paybridge_core::http::{Endpoint, HttpResponse, HttpTransport, Reconcile};
use paybridge_core::soap::encoded::{
    EncBool, EncDecimal, EncInt, EncString, EncodingStyle, RpcElement, XsiType,
};
use paybridge_core::soap::{self, EnvelopeStyle, EnvelopeTemplate, SoapCall, SoapVersion};
use paybridge_core::{Currency, Money};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{ErrorCode, WoopayError};
use crate::generated::xml_controller as wire;
use crate::operation::{Operation, OperationStatus, OperationType};

mod history;
mod money_back;
mod requests;
mod session;

use session::{LastLogin, Session};

pub use history::{OperationDetails, Receipt, StatusRecord, Transfer, Transfers, TransfersQuery};
pub use money_back::{DECLINE_ADVICE, REFUND_ADVICE};
pub use requests::{
    ExtendedInvoiceRequest, Invoice, Invoice2ExtendedRequest, InvoiceRequest, frame_url,
};

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "woopay";
/// The service namespace.
pub const NAMESPACE: &str = "urn:XmlControllerwsdl";
const ENCODING: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// Where and as whom to connect: the API endpoint (e.g.
/// `https://www.test.wooppay.com/api/wsd/`), the merchant login and its password (never
/// printed).
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) endpoint: String,
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl Config {
    /// The endpoint, login and password.
    #[must_use]
    pub fn new(
        endpoint: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            username: username.into(),
            password,
        }
    }

    /// The API endpoint as given.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The merchant login.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }
}

/// What `core_login` returns.
#[derive(Debug, Clone)]
pub struct LoginInfo {
    /// The session key (a bearer credential: `Debug` hides it).
    pub session: SecretString,
    /// User id.
    pub user_id: Option<i64>,
    /// User's display name.
    pub username: Option<String>,
    /// Login.
    pub login: Option<String>,
    /// User type (3000 merchant, 4000 identified, 5000 unidentified).
    pub user_type: Option<i64>,
    /// Roles.
    pub roles: Vec<String>,
}

/// The client's shared state: configuration, transport, and the session.
struct Inner {
    config: Config,
    /// `config.endpoint`, parsed.
    endpoint: Endpoint,
    transport: HttpTransport,
    /// PHP SoapServer's envelope style, written out once.
    envelope: EnvelopeTemplate,
    /// The current session (held only to read or replace it, never across an await).
    session: std::sync::Mutex<Option<Session>>,
    /// Held while logging in, so that concurrent callers wait for one login; it keeps how
    /// the last login ended, which the callers that waited for it share.
    login: tokio::sync::Mutex<LastLogin>,
    generation: AtomicU64,
    logins: AtomicU64,
    /// Logins finished so far: read without the login lock, so that a caller knows which
    /// login it waited for.
    logins_finished: AtomicU64,
}

/// A Wooppay client for one merchant account. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "generated rpc/encoded fields are all `Option`"
)]
fn s(v: &str) -> Option<EncString> {
    Some(EncString::new(v.to_owned()))
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "generated rpc/encoded fields are all `Option`"
)]
fn opt_s(v: Option<&str>) -> Option<EncString> {
    Some(v.map_or_else(EncString::empty, |v| EncString::new(v.to_owned())))
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "generated rpc/encoded fields are all `Option`"
)]
fn opt_i(v: Option<i64>) -> Option<EncInt> {
    Some(v.map_or_else(EncInt::empty, EncInt::new))
}

fn text(v: Option<&EncString>) -> Result<Option<String>, WoopayError> {
    Ok(v.map(EncString::get).transpose()?.flatten())
}

fn int(v: Option<&EncInt>) -> Result<Option<i64>, WoopayError> {
    Ok(v.map(EncInt::get).transpose()?.flatten())
}

/// An amount an answer reported in `field`, exact and checked (not negative, not absurd).
fn kzt(v: Option<&EncDecimal>, field: &str) -> Result<Option<Money>, WoopayError> {
    let d = v.map(EncDecimal::get).transpose()?.flatten();
    d.map(|d| {
        let money = Money::new(d, Currency::KZT)
            .map_err(|e| WoopayError::decode(format!("{field}: {e}")))?;
        money.check_reported(field)?;
        Ok(money)
    })
    .transpose()
}

/// A generated rpc response: its `return` split into the data and the error code.
trait RpcAnswer: RpcElement {
    type Data;
    fn split(self) -> (Option<Self::Data>, Option<EncInt>);
}

macro_rules! rpc_answer {
    ($wrapper:ty, $data:ty) => {
        impl RpcAnswer for $wrapper {
            type Data = $data;
            fn split(self) -> (Option<$data>, Option<EncInt>) {
                match self.return_field {
                    Some(r) => (r.response, r.error_code),
                    None => (None, None),
                }
            }
        }
    };
}

/// A response that carries only its error code (refunds, decline).
macro_rules! rpc_code_only {
    ($wrapper:ty) => {
        impl RpcAnswer for $wrapper {
            type Data = ();
            fn split(self) -> (Option<()>, Option<EncInt>) {
                match self.return_field {
                    Some(r) => (None, r.error_code),
                    None => (None, None),
                }
            }
        }
    };
}

rpc_code_only!(wire::CashPaymentReturnRpcResponse);
rpc_code_only!(wire::CashPaymentReturnPartialRpcResponse);
rpc_code_only!(wire::CashMobileRefundRpcResponse);
rpc_code_only!(wire::CashDeclineRpcResponse);
rpc_code_only!(wire::CoreLogoutRpcResponse);
rpc_answer!(
    wire::CashGetOperationDataExtendedRpcResponse,
    wire::CashGetOperationDataExtendedResponseData
);
rpc_answer!(
    wire::CashGetOperationsStatusRpcResponse,
    wire::CashGetOperationsStatusResponseRecordArray
);
rpc_answer!(
    wire::CashCreateInvoiceWithCurrencyRpcResponse,
    wire::CashCreateInvoiceResponseData
);
rpc_answer!(
    wire::CashGetTransfersRpcResponse,
    wire::CashGetTransfersResponseData
);
rpc_answer!(
    wire::CashGetOperationReceiptRpcResponse,
    wire::CashGetOperationReceiptResponseData
);
rpc_answer!(
    wire::CashGetCommissionRpcResponse,
    wire::CashGetCommissionResponseData
);
rpc_answer!(wire::CoreLoginRpcResponse, wire::CoreLoginResponseData);
rpc_answer!(
    wire::CashCreateInvoiceRpcResponse,
    wire::CashCreateInvoiceResponseData
);
rpc_answer!(
    wire::CashCreateInvoiceExtendedRpcResponse,
    wire::CashCreateInvoiceResponseData
);
rpc_answer!(
    wire::CashCreateInvoice2ExtendedRpcResponse,
    wire::CashCreateInvoiceResponseData
);
rpc_answer!(
    wire::CashCreateInvoiceByServiceRpcResponse,
    wire::CashCreateInvoiceResponseData
);
rpc_answer!(wire::CoreRequestConfirmationCodeRpcResponse, EncBool);
rpc_answer!(
    wire::CashGetBalanceRpcResponse,
    wire::CashGetBalanceResponseData
);
rpc_answer!(
    wire::CashGetOperationDataRpcResponse,
    wire::CashGetOperationDataResponseData
);
rpc_answer!(
    wire::CashGetOperationDataByExtIdRpcResponse,
    wire::CashGetOperationDataByExtIdResponseData
);

/// One operation: name, SOAPAction, and — for one that must not be resent — how to find
/// out what it did when its outcome is unknown.
struct Op {
    name: &'static str,
    action: soap::Action,
    advice: Option<&'static str>,
}

/// How to find out what a create-invoice request whose outcome is unknown did.
pub const CREATE_INVOICE_ADVICE: &str = "the invoice may exist: do not reuse the reference, create a new invoice with a new reference; an unpaid invoice lapses at its deathDate, which bounds the risk";

/// What to do when an SMS code request's outcome is unknown.
pub const CONFIRMATION_CODE_ADVICE: &str =
    "an SMS may have been sent: ask the payer whether it arrived before asking for another";

const LOGIN: Op = Op {
    name: "core_login",
    action: wire::CORE_LOGIN_ACTION,
    advice: None,
};
const LOGOUT: Op = Op {
    name: "core_logout",
    action: wire::CORE_LOGOUT_ACTION,
    advice: None,
};
const CREATE_WITH_CURRENCY: Op = Op {
    name: "cash_createInvoiceWithCurrency",
    action: wire::CASH_CREATE_INVOICE_WITH_CURRENCY_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
const CREATE: Op = Op {
    name: "cash_createInvoice",
    action: wire::CASH_CREATE_INVOICE_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
const CREATE_EXT: Op = Op {
    name: "cash_createInvoiceExtended",
    action: wire::CASH_CREATE_INVOICE_EXTENDED_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
const CREATE_2EXT: Op = Op {
    name: "cash_createInvoice2Extended",
    action: wire::CASH_CREATE_INVOICE2_EXTENDED_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
const CREATE_BY_SERVICE: Op = Op {
    name: "cash_createInvoiceByService",
    action: wire::CASH_CREATE_INVOICE_BY_SERVICE_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
const CONFIRMATION_CODE: Op = Op {
    name: "core_requestConfirmationCode",
    action: wire::CORE_REQUEST_CONFIRMATION_CODE_ACTION,
    advice: Some(CONFIRMATION_CODE_ADVICE),
};
const BALANCE: Op = Op {
    name: "cash_getBalance",
    action: wire::CASH_GET_BALANCE_ACTION,
    advice: None,
};
const OPERATION_DATA: Op = Op {
    name: "cash_getOperationData",
    action: wire::CASH_GET_OPERATION_DATA_ACTION,
    advice: None,
};
/// The operation type of an invoice paid by the payer (`cash_getOperationDataByExtId`'s
/// `type` for a merchant's invoice).
pub const INVOICE_OPERATION_TYPE: i64 = 4;

impl Client {
    /// A client sharing `transport`'s connection pool.
    pub fn new(config: Config, transport: HttpTransport) -> Result<Self, WoopayError> {
        let endpoint = Endpoint::parse(&config.endpoint)?;
        if config.username.is_empty() || config.password.expose_secret().is_empty() {
            return Err(paybridge_core::Error::config("username and password are required").into());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                endpoint,
                transport,
                envelope: EnvelopeTemplate::new(&EnvelopeStyle::rpc_encoded("ns1", NAMESPACE)),
                session: std::sync::Mutex::new(None),
                login: tokio::sync::Mutex::new(LastLogin::default()),
                generation: AtomicU64::new(0),
                logins: AtomicU64::new(0),
                logins_finished: AtomicU64::new(0),
            }),
        })
    }

    /// The endpoint every call goes to.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// How many times this client has called `core_login` (for tests and metrics).
    #[must_use]
    pub fn login_count(&self) -> u64 {
        self.inner.logins.load(Ordering::Relaxed)
    }

    /// The request envelope of an operation.
    fn envelope(&self, request: &impl RpcElement) -> Bytes {
        Bytes::from(self.inner.envelope.wrap_rpc(request))
    }

    /// Post one operation and decode its answer (split by [`Self::answer`]); the HTTP answer
    /// it was read from comes back too (the evidence [`Client::confirm_payment`] needs).
    async fn post<A: RpcAnswer>(
        &self,
        op: &Op,
        envelope: Bytes,
        cookie: Option<&http::HeaderValue>,
        reference: &str,
    ) -> paybridge_core::Result<(A, HttpResponse)> {
        let mut extra_headers = Vec::with_capacity(3);
        if let Some(c) = cookie {
            extra_headers.push((http::header::COOKIE, c.clone()));
        }
        let call = SoapCall {
            endpoint: &self.inner.endpoint,
            version: SoapVersion::V11,
            action: &op.action,
            provider: PROVIDER_ID,
            operation: op.name,
            idempotent: op.advice.is_none(),
            reconcile: op.advice.map(|advice| Reconcile {
                reference: reference.to_owned(),
                advice,
            }),
            extra_headers,
        };
        soap::call_rpc_answered(&self.inner.transport, call, envelope).await
    }

    /// An answer's data and its `error_code`.
    fn answer<A: RpcAnswer>(
        op: &Op,
        answer: A,
    ) -> Result<(Option<A::Data>, ErrorCode), WoopayError> {
        let (data, code) = answer.split();
        let code = int(code.as_ref())?
            .ok_or_else(|| WoopayError::decode(format!("{}: no error_code", op.name)))?;
        Ok((data, ErrorCode::from_code(code)))
    }
}

impl Client {
    fn invoice_fields(
        inv: &InvoiceRequest,
        add_info: Option<&str>,
        service_type: Option<i64>,
        kzt_only: bool,
    ) -> Result<InvoiceFields, WoopayError> {
        inv.validate(kzt_only)?;
        Ok(InvoiceFields {
            reference_id: s(&inv.reference_id),
            back_url: s(&inv.back_url),
            request_url: s(&inv.request_url),
            add_info: opt_s(add_info.or(inv.add_info.as_deref())),
            amount: Some(EncDecimal::new(inv.amount.amount())),
            death_date: opt_s(inv.death_date.as_deref()),
            service_type: opt_i(service_type),
            description: opt_s(inv.description.as_deref()),
            order_number: opt_i(inv.order_number),
        })
    }

    fn invoice(data: Option<wire::CashCreateInvoiceResponseData>) -> Result<Invoice, WoopayError> {
        let d = data.ok_or_else(|| WoopayError::decode("no invoice in the answer"))?;
        Ok(Invoice {
            operation_id: int(d.operation_id.as_ref())?
                .ok_or_else(|| WoopayError::decode("no operationId"))?,
            operation_url: d
                .operation_url
                .and_then(EncString::into_value)
                .ok_or_else(|| WoopayError::decode("no operationUrl"))?,
        })
    }

    /// `cash_createInvoice`: an invoice, paid on Wooppay's form (no card binding).
    /// Never resent automatically: on a timeout, look the invoice up before creating another.
    pub async fn create_invoice(&self, inv: &InvoiceRequest) -> Result<Invoice, WoopayError> {
        let f = Self::invoice_fields(inv, None, None, true)?;
        let wire_req = wire::CashCreateInvoiceRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_create_invoice_request: Some(invoice_request!(CashCreateInvoiceRequest, f, {})),
        };
        Self::invoice(
            self.authed::<wire::CashCreateInvoiceRpcResponse>(
                &CREATE,
                &wire_req,
                &inv.reference_id,
            )
            .await?,
        )
    }

    /// `core_requestConfirmationCode`: send the SMS code for a phone-balance payment.
    pub async fn request_confirmation_code(&self, phone: &str) -> Result<bool, WoopayError> {
        if phone.trim().is_empty() {
            return Err(WoopayError::input("phone is required"));
        }
        let req = wire::CoreRequestConfirmationCodeRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            core_request_confirmation_code_request: Some(
                wire::CoreRequestConfirmationCodeRequest {
                    xsi_type: Some(XsiType::from_static(
                        "ns1:CoreRequestConfirmationCodeRequest",
                    )),
                    xsi_nil: None,
                    phone: s(phone),
                },
            ),
        };
        let sent = self
            .authed::<wire::CoreRequestConfirmationCodeRpcResponse>(&CONFIRMATION_CODE, &req, phone)
            .await?;
        Ok(sent
            .map(|b| b.get())
            .transpose()?
            .flatten()
            .unwrap_or(false))
    }

    /// `cash_createInvoiceExtended`: paid from the phone balance (service type 2).
    pub async fn create_invoice_extended(
        &self,
        req: &ExtendedInvoiceRequest,
    ) -> Result<Invoice, WoopayError> {
        if req.user_phone.trim().is_empty() || req.confirmation_code.trim().is_empty() {
            return Err(WoopayError::input(
                "userPhone and the confirmation code are required",
            ));
        }
        let f = Self::invoice_fields(&req.invoice, Some(&req.confirmation_code), Some(2), true)?;
        let wire_req = wire::CashCreateInvoiceExtendedRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_create_invoice_extended_request: Some(invoice_request!(
                CashCreateInvoiceExtendedRequest,
                f,
                {
                    user_email: opt_s(req.user_email.as_deref()),
                    user_phone: s(&req.user_phone),
                }
            )),
        };
        Self::invoice(
            self.authed::<wire::CashCreateInvoiceExtendedRpcResponse>(
                &CREATE_EXT,
                &wire_req,
                &req.invoice.reference_id,
            )
            .await?,
        )
    }

    /// `cash_createInvoice2Extended`: card bound after payment, frame-capable (service type 4).
    pub async fn create_invoice_2_extended(
        &self,
        req: &Invoice2ExtendedRequest,
    ) -> Result<Invoice, WoopayError> {
        let f = Self::invoice_fields(&req.invoice, None, Some(4), true)?;
        let wire_req = wire::CashCreateInvoice2ExtendedRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_create_invoice_extended2_request: Some(invoice_request!(
                CashCreateInvoiceExtended2Request,
                f,
                {
                    card_forbidden: Some(EncInt::new(i64::from(req.card_forbidden))),
                    user_email: opt_s(req.user_email.as_deref()),
                    user_phone: opt_s(req.user_phone.as_deref()),
                }
            )),
        };
        Self::invoice(
            self.authed::<wire::CashCreateInvoice2ExtendedRpcResponse>(
                &CREATE_2EXT,
                &wire_req,
                &req.invoice.reference_id,
            )
            .await?,
        )
    }

    /// `cash_createInvoiceByService`: as `cash_createInvoice2Extended`, for a named service.
    pub async fn create_invoice_by_service(
        &self,
        service_name: &str,
        req: &Invoice2ExtendedRequest,
    ) -> Result<Invoice, WoopayError> {
        if service_name.trim().is_empty() {
            return Err(WoopayError::input("serviceName is required"));
        }
        let f = Self::invoice_fields(&req.invoice, None, Some(4), true)?;
        let wire_req = wire::CashCreateInvoiceByServiceRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_create_invoice_by_service_request: Some(invoice_request!(
                CashCreateInvoiceByServiceRequest,
                f,
                {
                    service_name: s(service_name),
                    card_forbidden: Some(EncInt::new(i64::from(req.card_forbidden))),
                    user_email: opt_s(req.user_email.as_deref()),
                    user_phone: opt_s(req.user_phone.as_deref()),
                }
            )),
        };
        Self::invoice(
            self.authed::<wire::CashCreateInvoiceByServiceRpcResponse>(
                &CREATE_BY_SERVICE,
                &wire_req,
                &req.invoice.reference_id,
            )
            .await?,
        )
    }

    /// `cash_createInvoiceWithCurrency`: as
    /// [`create_invoice_by_service`](Self::create_invoice_by_service) (the service name may be
    /// empty), in the currency of the invoice's amount (its ISO code, e.g. `USD`), which need
    /// not be KZT.
    pub async fn create_invoice_with_currency(
        &self,
        service_name: Option<&str>,
        req: &Invoice2ExtendedRequest,
    ) -> Result<Invoice, WoopayError> {
        let f = Self::invoice_fields(&req.invoice, None, Some(4), false)?;
        let wire_req = wire::CashCreateInvoiceWithCurrencyRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_create_invoice_with_currency_request: Some(invoice_request!(
                CashCreateInvoiceWithCurrencyRequest,
                f,
                {
                    currency: s(req.invoice.amount.currency().code()),
                    service_name: opt_s(service_name),
                    card_forbidden: Some(EncInt::new(i64::from(req.card_forbidden))),
                    user_email: opt_s(req.user_email.as_deref()),
                    user_phone: opt_s(req.user_phone.as_deref()),
                }
            )),
        };
        Self::invoice(
            self.authed::<wire::CashCreateInvoiceWithCurrencyRpcResponse>(
                &CREATE_WITH_CURRENCY,
                &wire_req,
                &req.invoice.reference_id,
            )
            .await?,
        )
    }

    /// `cash_getBalance`: the merchant wallet's balance (KZT).
    pub async fn balance(&self) -> Result<Money, WoopayError> {
        let req = wire::CashGetBalanceRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_balance_request: Some(wire::CashGetBalanceRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetBalanceRequest")),
                xsi_nil: None,
            }),
        };
        let data = self
            .authed::<wire::CashGetBalanceRpcResponse>(&BALANCE, &req, "")
            .await?;
        kzt(data.and_then(|d| d.amount).as_ref(), "amount")?
            .ok_or_else(|| WoopayError::decode("no amount"))
    }

    /// `cash_getOperationData`: several operations at once.
    pub async fn operation_data(&self, ids: &[i64]) -> Result<Vec<Operation>, WoopayError> {
        self.operation_data_answered(ids).await.map(|(ops, _)| ops)
    }

    /// One operation (`cash_getOperationData` for `id` alone); one the answer leaves out is a
    /// decode error.
    pub async fn operation(&self, id: i64) -> Result<Operation, WoopayError> {
        self.operation_data(&[id])
            .await?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| WoopayError::decode(format!("operation {id} not returned")))
    }

    /// [`operation_data`](Self::operation_data), with the HTTP answer it was read from.
    pub(crate) async fn operation_data_answered(
        &self,
        ids: &[i64],
    ) -> Result<(Vec<Operation>, HttpResponse), WoopayError> {
        if ids.is_empty() {
            return Err(WoopayError::input("at least one operation id"));
        }
        let req = wire::CashGetOperationDataRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_operation_data_request: Some(wire::CashGetOperationDataRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetOperationDataRequest")),
                xsi_nil: None,
                operation_id: Some(wire::IntArray {
                    array_type: Some(soap::encoded::array_type("xsd:int", ids.len())),
                    xsi_type: Some(XsiType::from_static("ns1:intArray")),
                    items: ids.iter().map(|i| EncInt::new(*i)).collect(),
                }),
            }),
        };
        let (data, response) = self
            .authed_answered::<wire::CashGetOperationDataRpcResponse>(&OPERATION_DATA, &req, "")
            .await?;
        let records = data
            .and_then(|d| d.records)
            .map(|r| r.items)
            .unwrap_or_default();
        let operations = records
            .iter()
            .map(|r| {
                Ok(Operation {
                    id: int(r.id.as_ref())?
                        .ok_or_else(|| WoopayError::decode("operation without id"))?,
                    op_type: OperationType::from_code(int(r.type_field.as_ref())?.unwrap_or(0)),
                    lot_id: int(r.lot_id.as_ref())?.unwrap_or(0),
                    sum: kzt(r.sum.as_ref(), "sum")?,
                    fee: kzt(r.fee.as_ref(), "fee")?,
                    date: text(r.date.as_ref())?,
                    status: OperationStatus::from_code(int(r.status.as_ref())?.unwrap_or(0)),
                    comment: text(r.comment.as_ref())?,
                    from_subject: text(r.from_subject.as_ref())?,
                    to_subject: text(r.to_subject.as_ref())?,
                    from_full_name: text(r.from_full_name.as_ref())?,
                    to_full_name: text(r.to_full_name.as_ref())?,
                })
            })
            .collect::<Result<Vec<_>, WoopayError>>()?;
        Ok((operations, response))
    }
}

/// A generated create-invoice request: its `xsi:type`, the shared fields from an
/// [`InvoiceFields`], and the type's own fields.
macro_rules! invoice_request {
    ($ty:ident, $f:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let f: InvoiceFields = $f;
        wire::$ty {
            xsi_type: Some(XsiType::from_static(concat!("ns1:", stringify!($ty)))),
            xsi_nil: None,
            reference_id: f.reference_id,
            back_url: f.back_url,
            request_url: f.request_url,
            add_info: f.add_info,
            amount: f.amount,
            death_date: f.death_date,
            service_type: f.service_type,
            description: f.description,
            order_number: f.order_number,
            $($field: $value,)*
        }
    }};
}
use invoice_request;
use paybridge_core::CoreFailure as _;

/// The invoice fields every create operation shares, encoded.
struct InvoiceFields {
    reference_id: Option<EncString>,
    back_url: Option<EncString>,
    request_url: Option<EncString>,
    add_info: Option<EncString>,
    amount: Option<EncDecimal>,
    death_date: Option<EncString>,
    service_type: Option<EncInt>,
    description: Option<EncString>,
    order_number: Option<EncInt>,
}
