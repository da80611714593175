//! What the client is made of: its configuration and shared state (the session and the login
//! lock), the operations it calls and how their encoded values and answers are read. The
//! client's methods live beside it, one file per group of operations.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use paybridge_core::http::{Endpoint, HttpTransport};
use paybridge_core::soap::encoded::{EncBool, EncDecimal, EncInt, EncString, RpcElement};
use paybridge_core::soap::{self, EnvelopeTemplate};
use paybridge_core::{CoreFailure as _, Currency, Money};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{ErrorCode, WoopayError};
use crate::generated::xml_controller as wire;

pub(super) const ENCODING: &str = "http://schemas.xmlsoap.org/soap/encoding/";

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
pub(super) struct Inner {
    pub(super) config: Config,
    /// `config.endpoint`, parsed.
    pub(super) endpoint: Endpoint,
    pub(super) transport: HttpTransport,
    /// PHP SoapServer's envelope style, written out once.
    pub(super) envelope: EnvelopeTemplate,
    /// The current session (held only to read or replace it, never across an await).
    pub(super) session: std::sync::Mutex<Option<Session>>,
    /// Held while logging in, so that concurrent callers wait for one login; it keeps how
    /// the last login ended, which the callers that waited for it share.
    pub(super) login: tokio::sync::Mutex<LastLogin>,
    pub(super) generation: AtomicU64,
    pub(super) logins: AtomicU64,
    /// Logins finished so far: read without the login lock, so that a caller knows which
    /// login it waited for.
    pub(super) logins_finished: AtomicU64,
}

/// A Wooppay client for one merchant account. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
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
pub(super) fn s(v: &str) -> Option<EncString> {
    Some(EncString::new(v.to_owned()))
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "generated rpc/encoded fields are all `Option`"
)]
pub(super) fn opt_s(v: Option<&str>) -> Option<EncString> {
    Some(v.map_or_else(EncString::empty, |v| EncString::new(v.to_owned())))
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "generated rpc/encoded fields are all `Option`"
)]
pub(super) fn opt_i(v: Option<i64>) -> Option<EncInt> {
    Some(v.map_or_else(EncInt::empty, EncInt::new))
}

pub(super) fn text(v: Option<&EncString>) -> Result<Option<String>, WoopayError> {
    Ok(v.map(EncString::get).transpose()?.flatten())
}

pub(super) fn int(v: Option<&EncInt>) -> Result<Option<i64>, WoopayError> {
    Ok(v.map(EncInt::get).transpose()?.flatten())
}

/// An amount an answer reported in `field`, exact and checked (not negative, not absurd).
pub(super) fn kzt(v: Option<&EncDecimal>, field: &str) -> Result<Option<Money>, WoopayError> {
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
pub(super) trait RpcAnswer: RpcElement {
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
pub(super) struct Op {
    pub(super) name: &'static str,
    pub(super) action: soap::Action,
    pub(super) advice: Option<&'static str>,
}

/// How to find out what a create-invoice request whose outcome is unknown did.
pub const CREATE_INVOICE_ADVICE: &str = "the invoice may exist: do not reuse the reference, create a new invoice with a new reference; an unpaid invoice lapses at its deathDate, which bounds the risk";

/// What to do when an SMS code request's outcome is unknown.
pub const CONFIRMATION_CODE_ADVICE: &str =
    "an SMS may have been sent: ask the payer whether it arrived before asking for another";

pub(super) const LOGIN: Op = Op {
    name: "core_login",
    action: wire::CORE_LOGIN_ACTION,
    advice: None,
};
pub(super) const LOGOUT: Op = Op {
    name: "core_logout",
    action: wire::CORE_LOGOUT_ACTION,
    advice: None,
};
pub(super) const CREATE_WITH_CURRENCY: Op = Op {
    name: "cash_createInvoiceWithCurrency",
    action: wire::CASH_CREATE_INVOICE_WITH_CURRENCY_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
pub(super) const CREATE: Op = Op {
    name: "cash_createInvoice",
    action: wire::CASH_CREATE_INVOICE_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
pub(super) const CREATE_EXT: Op = Op {
    name: "cash_createInvoiceExtended",
    action: wire::CASH_CREATE_INVOICE_EXTENDED_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
pub(super) const CREATE_2EXT: Op = Op {
    name: "cash_createInvoice2Extended",
    action: wire::CASH_CREATE_INVOICE2_EXTENDED_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
pub(super) const CREATE_BY_SERVICE: Op = Op {
    name: "cash_createInvoiceByService",
    action: wire::CASH_CREATE_INVOICE_BY_SERVICE_ACTION,
    advice: Some(CREATE_INVOICE_ADVICE),
};
pub(super) const CONFIRMATION_CODE: Op = Op {
    name: "core_requestConfirmationCode",
    action: wire::CORE_REQUEST_CONFIRMATION_CODE_ACTION,
    advice: Some(CONFIRMATION_CODE_ADVICE),
};
pub(super) const BALANCE: Op = Op {
    name: "cash_getBalance",
    action: wire::CASH_GET_BALANCE_ACTION,
    advice: None,
};
pub(super) const OPERATION_DATA: Op = Op {
    name: "cash_getOperationData",
    action: wire::CASH_GET_OPERATION_DATA_ACTION,
    advice: None,
};
/// The operation type of an invoice paid by the payer (`cash_getOperationDataByExtId`'s
/// `type` for a merchant's invoice).
pub const INVOICE_OPERATION_TYPE: i64 = 4;

#[derive(Clone)]
pub(super) struct Session {
    /// `Cookie: session=<key>`, built once per login and marked sensitive (a bearer
    /// credential: `Debug` of the value prints nothing).
    pub(super) cookie: http::HeaderValue,
    pub(super) generation: u64,
}

impl Session {
    pub(super) fn new(key: &SecretString, generation: u64) -> Result<Self, WoopayError> {
        let mut cookie =
            http::HeaderValue::from_str(&format!("session={}", key.expose_secret()))
                .map_err(|_| WoopayError::decode("core_login: session key is not header-safe"))?;
        cookie.set_sensitive(true);
        Ok(Self { cookie, generation })
    }
}

/// How the last `core_login` ended, for the callers that waited for it.
#[derive(Debug, Default)]
pub(super) struct LastLogin {
    /// The number of the last login (as counted by `Inner::logins_finished`).
    pub(super) number: u64,
    /// Its failure, if it failed.
    pub(super) failure: Option<SharedFailure>,
}

/// A login failure as every waiter gets it (errors are not `Clone`; this keeps what a caller
/// decides on: the Wooppay code, a timeout, or the message).
#[derive(Debug, Clone)]
pub(super) enum SharedFailure {
    Api(ErrorCode),
    Timeout(std::time::Duration),
    Other(String),
}

impl SharedFailure {
    pub(super) fn of(e: &WoopayError) -> Self {
        match e {
            WoopayError::Api(code) => Self::Api(*code),
            WoopayError::Core(paybridge_core::Error::Timeout(d)) => Self::Timeout(*d),
            other => Self::Other(other.to_string()),
        }
    }

    pub(super) fn error(&self) -> WoopayError {
        match self {
            Self::Api(code) => WoopayError::Api(*code),
            Self::Timeout(d) => paybridge_core::Error::Timeout(*d).into(),
            Self::Other(message) => paybridge_core::Error::Transport {
                status: None,
                message: format!("core_login failed: {message}"),
                source: None,
            }
            .into(),
        }
    }
}
