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
use paybridge_core::Money;
use paybridge_core::http::{Endpoint, HttpResponse, HttpTransport, Reconcile};
use paybridge_core::soap::encoded::{
    EncDecimal, EncInt, EncString, EncodingStyle, RpcElement, XsiType,
};
use paybridge_core::soap::{self, EnvelopeStyle, EnvelopeTemplate, SoapCall, SoapVersion};
use secrecy::ExposeSecret;

use crate::error::{ErrorCode, WoopayError};
use crate::generated::xml_controller as wire;
use crate::operation::{Operation, OperationStatus, OperationType};

mod base;
mod history;
mod money_back;
mod requests;
mod session;

use base::{
    BALANCE, CONFIRMATION_CODE, CREATE, CREATE_2EXT, CREATE_BY_SERVICE, CREATE_EXT,
    CREATE_WITH_CURRENCY, ENCODING, Inner, LastLogin, OPERATION_DATA, Op, RpcAnswer, int, kzt,
    opt_i, opt_s, s, text,
};
pub use base::{
    CONFIRMATION_CODE_ADVICE, CREATE_INVOICE_ADVICE, Client, Config, INVOICE_OPERATION_TYPE,
    LoginInfo,
};

pub use history::{OperationDetails, Receipt, StatusRecord, Transfer, Transfers, TransfersQuery};
pub use money_back::{DECLINE_ADVICE, REFUND_ADVICE};
pub use requests::{
    ExtendedInvoiceRequest, Invoice, Invoice2ExtendedRequest, InvoiceRequest, frame_url,
};

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "woopay";
/// The service namespace.
pub const NAMESPACE: &str = "urn:XmlControllerwsdl";
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
