//! The error every paybridge crate maps its own error into.

use std::time::Duration;

/// A boxed error kept as the `source` of a transport error, so nothing is flattened to text.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in the terms a caller decides on.
///
/// No variant ever carries a secret: provider crates build messages from field names and
/// provider answers, never from credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be delivered or the answer could not be read: connect failure,
    /// TLS, an unexpected HTTP status, a body over the size limit.
    #[error("transport error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Transport {
        /// HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// What happened.
        message: String,
        /// The underlying error, kept for `source()` chains.
        #[source]
        source: Option<BoxError>,
    },
    /// An idempotent call did not complete within its deadline (all attempts together).
    ///
    /// A request that must not be repeated never ends in this variant once it may have been
    /// written: it ends in [`Error::OutcomeUnknown`].
    #[error("timed out after {0:?} (the whole call's deadline, retries included)")]
    Timeout(Duration),
    /// A request that must not be repeated (a charge, an invoice, a pre-order, an IPN) may have
    /// reached the provider, and what the provider did with it is unknown: the deadline
    /// passed or the connection broke after the request was written, the answer was cut off,
    /// or the answer could not be read (a 5xx or 2xx that is not the protocol).
    ///
    /// **Never retryable**: sending it again may move money twice. `advice` says how to find
    /// out. The operations that can end here, and their advice:
    ///
    /// | provider | operation | how to find out |
    /// |---|---|---|
    /// | card-charging | `charging` | `check` with the same `request_id` |
    /// | payoo | `CreatePreOrder` | `GetOrderInformation` for the same `OrderID` |
    /// | payoo | `UpdateOrderStatus` | `GetOrderInformation`; resend only the same status |
    /// | woopay | `cash_createInvoice*` | the invoice may exist: do not reuse the reference, create a new one; an unpaid one lapses at its `deathDate` |
    /// | woopay | `cash_requestConfirmationCode` | an SMS may have been sent; ask the payer before asking again |
    /// | linkifier-ipn | `IPNEventRaised` (send) | resending is safe only because the receiver deduplicates on `PayTransactionID` |
    /// | qvickly | forward to the booking API | resending is safe only because the booking API deduplicates the callback |
    #[error(
        "outcome unknown: {provider} {operation} for {reference:?} may have reached the provider ({cause}); do not resend it: {advice}"
    )]
    OutcomeUnknown {
        /// Provider id.
        provider: &'static str,
        /// The operation whose outcome is unknown.
        operation: &'static str,
        /// The merchant's reference of the request (request id, order id, invoice reference).
        reference: String,
        /// What happened on our side (no secret: built from the transport's view only).
        cause: String,
        /// How to find out what the provider did.
        advice: &'static str,
        /// The underlying error, kept for `source()` chains.
        #[source]
        source: Option<BoxError>,
    },
    /// The provider answered and declined or failed the operation.
    #[error("provider error{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Provider {
        /// The provider's own code, as it stands on the wire (`"4"`, `"soap:Client"`), if any.
        code: Option<String>,
        /// The provider's message or the documented meaning of its code.
        message: String,
        /// Whether the same request may succeed if sent again later.
        retryable: bool,
    },
    /// A signature, hash or checksum did not verify. (A message only: the check is ours, there
    /// is no underlying error.)
    #[error("signature verification failed: {0}")]
    Signature(String),
    /// The provider's answer or a callback could not be decoded.
    #[error("cannot decode: {message}")]
    Decode {
        /// What could not be read, and where.
        message: String,
        /// The parser's own error (XML, JSON, UTF-8, a number), when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A callback (notification, IPN) is not what the provider sends: not parseable, fields
    /// missing, over a limit. It is refused, like bad input; it is not a transport problem.
    #[error("malformed callback: {message}")]
    Callback {
        /// What is wrong with it.
        message: String,
        /// The parser's own error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The caller's input is invalid; nothing was sent. (A message only: the check is ours.)
    #[error("invalid input: {0}")]
    Input(String),
    /// The provider does not offer this operation (see `PaymentProvider::capabilities`).
    #[error("{provider} does not support {operation}")]
    Unsupported {
        /// Provider id.
        provider: &'static str,
        /// The operation asked for.
        operation: &'static str,
    },
    /// The merchant's own records (the ledger's database) could not be read or written. Nothing
    /// the provider or the caller did: a callback met with it is answered "retry later".
    #[error("storage error: {message}")]
    Storage {
        /// What happened (never a password).
        message: String,
        /// Whether the same call may succeed later (the database was down or busy), or not
        /// (a row that cannot be read back).
        retryable: bool,
        /// The underlying error, kept for `source()` chains.
        #[source]
        source: Option<BoxError>,
    },
    /// The SDK is misconfigured (missing credential, bad endpoint URL, TLS setup).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The underlying error (a URL parse, the HTTP client's build), when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// [`Error::Decode`] without an underlying error.
    #[must_use]
    pub fn decode(message: impl Into<String>) -> Self {
        Self::Decode {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Decode`] caused by `source` (kept for `source()` chains).
    #[must_use]
    pub fn decode_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Decode {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// [`Error::Callback`] without an underlying error.
    #[must_use]
    pub fn callback(message: impl Into<String>) -> Self {
        Self::Callback {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Config`] without an underlying error.
    #[must_use]
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Config`] caused by `source`.
    #[must_use]
    pub fn config_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Config {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// The four error kinds of the command-line contract, plus the two that only a library sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider declined or failed the operation.
    Provider,
    /// A signature did not verify.
    Signature,
    /// Bad input or configuration.
    Input,
    /// Transport, timeout, an undecodable answer, an outcome unknown, or the merchant's own
    /// records unavailable (exit 3 on the command line).
    Transport,
    /// The operation does not exist for this provider.
    Unsupported,
}

impl ErrorKind {
    /// The lowercase name used in JSON error objects.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Signature => "signature",
            Self::Input => "input",
            Self::Transport => "transport",
            Self::Unsupported => "unsupported",
        }
    }
}

impl Error {
    /// A transport error without an HTTP status.
    pub fn transport(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Transport {
            status: None,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A provider error with a code.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "lets callers pass `4` or `\"soap:Client\"` alike"
    )]
    pub fn provider(code: impl ToString, message: impl Into<String>, retryable: bool) -> Self {
        Self::Provider {
            code: Some(code.to_string()),
            message: message.into(),
            retryable,
        }
    }

    /// Whether sending the same request again later may succeed.
    ///
    /// Only a hint: whether it is *safe* to resend is the caller's decision (a payment that
    /// timed out may have been taken; check its status instead of resending it).
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport { status, .. } => {
                status.is_none_or(|s| s == 429 || s == 502 || s == 503 || s == 504)
            }
            Self::Timeout(_) => true,
            Self::Provider { retryable, .. } | Self::Storage { retryable, .. } => *retryable,
            Self::OutcomeUnknown { .. }
            | Self::Callback { .. }
            | Self::Signature(_)
            | Self::Decode { .. }
            | Self::Input(_)
            | Self::Unsupported { .. }
            | Self::Config { .. } => false,
        }
    }

    /// The kind of the error, as the command-line contract names it.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Provider { .. } => ErrorKind::Provider,
            Self::Signature(_) => ErrorKind::Signature,
            Self::Input(_) | Self::Config { .. } | Self::Callback { .. } => ErrorKind::Input,
            Self::Transport { .. }
            | Self::Timeout(_)
            | Self::Decode { .. }
            | Self::Storage { .. }
            | Self::OutcomeUnknown { .. } => ErrorKind::Transport,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
        }
    }

    /// Whether this is [`Error::OutcomeUnknown`]: the request may have reached the provider.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    /// A decode error of a callback becomes [`Error::Callback`] (refused input); any other
    /// error is kept.
    #[must_use]
    pub fn into_callback_error(self) -> Self {
        match self {
            Self::Decode { message, source } => Self::Callback { message, source },
            other => other,
        }
    }

    /// The provider's code, for provider errors.
    #[must_use]
    pub fn provider_code(&self) -> Option<&str> {
        match self {
            Self::Provider { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Core's shared failures, built as any error that wraps core's (every provider crate's error
/// is `From<paybridge_core::Error>`): `PayooError::decode("no Data")` is
/// `PayooError::Core(Error::decode("no Data"))`, one representation per failure.
pub trait CoreFailure: From<Error> {
    /// [`Error::Decode`] without an underlying error.
    #[must_use]
    fn decode(message: impl Into<String>) -> Self {
        Error::decode(message).into()
    }

    /// [`Error::Decode`] caused by `source` (kept for `source()` chains).
    #[must_use]
    fn decode_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::decode_from(message, source).into()
    }

    /// [`Error::Input`]: invalid input, nothing sent.
    #[must_use]
    fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into()).into()
    }
}

impl<T: From<Error>> CoreFailure for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_keep_the_parsers_error_as_their_source() {
        use std::error::Error as _;
        let bytes = vec![b'a', 0xff];
        let utf8 = std::str::from_utf8(&bytes).unwrap_err();
        let e = Error::decode_from(format!("not UTF-8: {utf8}"), utf8);
        assert!(
            e.source()
                .unwrap()
                .downcast_ref::<std::str::Utf8Error>()
                .is_some()
        );
        // Refused as a malformed callback, the cause stays attached.
        let refused = e.into_callback_error();
        assert!(matches!(
            refused,
            Error::Callback {
                source: Some(_),
                ..
            }
        ));
        assert!(
            refused
                .to_string()
                .starts_with("malformed callback: not UTF-8")
        );
        let xml = crate::xml::parse_limited("<a>", &crate::limits::Limits::ANSWER).unwrap_err();
        assert!(
            xml.source()
                .unwrap()
                .downcast_ref::<roxmltree::Error>()
                .is_some()
        );
        assert!(Error::decode("no amount").source().is_none());
    }

    #[test]
    fn a_wrapping_error_builds_cores_failures() {
        #[derive(Debug)]
        struct Wrapped(Error);
        impl From<Error> for Wrapped {
            fn from(e: Error) -> Self {
                Self(e)
            }
        }
        assert!(matches!(
            Wrapped::decode("no Data").0,
            Error::Decode { message, source: None } if message == "no Data"
        ));
        assert!(matches!(Wrapped::input("x").0, Error::Input(m) if m == "x"));
        let bytes = vec![b'a', 0xff];
        let utf8 = std::str::from_utf8(&bytes).unwrap_err();
        assert!(matches!(
            Wrapped::decode_from("not UTF-8", utf8).0,
            Error::Decode {
                source: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn retryable_classification() {
        assert!(Error::Timeout(Duration::from_secs(1)).retryable());
        assert!(
            Error::Transport {
                status: Some(503),
                message: "x".into(),
                source: None
            }
            .retryable()
        );
        assert!(
            !Error::Transport {
                status: Some(500),
                message: "x".into(),
                source: None
            }
            .retryable()
        );
        assert!(Error::provider(4, "maintenance", true).retryable());
        assert!(!Error::provider(3, "card error", false).retryable());
        assert!(!Error::Signature("bad".into()).retryable());
        let unknown = Error::OutcomeUnknown {
            provider: "card-charging",
            operation: "charging",
            reference: "r-1".into(),
            cause: "timed out after the request was sent".into(),
            advice: "call `check` with the same request_id",
            source: None,
        };
        assert!(!unknown.retryable());
        assert!(unknown.outcome_unknown());
        assert_eq!(unknown.kind(), ErrorKind::Transport);
        assert!(
            unknown
                .to_string()
                .contains("call `check` with the same request_id")
        );
        assert!(!Error::callback("not json").retryable());
        assert_eq!(Error::callback("x").kind(), ErrorKind::Input);
        assert!(matches!(
            Error::decode("x").into_callback_error(),
            Error::Callback { .. }
        ));
    }

    #[test]
    fn display_includes_code_and_status() {
        assert_eq!(
            Error::provider(100, "bad card", false).to_string(),
            "provider error 100: bad card"
        );
        let e = Error::Transport {
            status: Some(500),
            message: "unexpected status".into(),
            source: None,
        };
        assert_eq!(
            e.to_string(),
            "transport error (HTTP 500): unexpected status"
        );
        assert_eq!(e.kind(), ErrorKind::Transport);
    }
}
