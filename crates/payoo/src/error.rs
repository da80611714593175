//! The Payoo crate's error, and how it maps into [`paybridge_core::Error`].

/// One `Error { SeverityCode, Message }` of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayooMessage {
    /// `SeverityCode`.
    pub severity: i32,
    /// `Message`.
    pub message: String,
}

/// What can go wrong calling `CallToPartner`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayooError {
    /// `AckCode = Failure`, with every error Payoo gave.
    #[error("Payoo answered Failure: {}", .0.iter().map(|m| format!("[{}] {}", m.severity, m.message)).collect::<Vec<_>>().join("; "))]
    Failure(Vec<PayooMessage>),
    /// The response `DigitalSignature` does not verify.
    #[error("response DigitalSignature does not verify")]
    Signature,
    /// A notification (`NotifyData`) does not verify: its signature, or a `KeyFields` list
    /// that leaves a field the notification reports unsigned. The text says which.
    #[error("NotifyData signature does not verify: {0}")]
    NotifySignature(String),
    /// A verified answer is not the answer to the question asked (another order or shop,
    /// or an element repeated): the checksum covers values only, so element names and the
    /// binding to the request are checked separately.
    #[error("the answer is not the answer to this request: {0}")]
    NotThisRequest(String),
    /// A REST Business API method answered a `ResponseCode` other than success.
    #[error("Payoo {method} answered {code}: {meaning}")]
    Rest {
        /// The method.
        method: &'static str,
        /// The `ResponseCode`.
        code: i64,
        /// Its documented meaning.
        meaning: &'static str,
        /// Whether asking again later may succeed.
        retryable: bool,
    },
    /// The hosted checkout refused the order (`result` `fail`), with Payoo's message.
    #[error("Payoo checkout refused the order: {0}")]
    CheckoutRefused(String),
    /// Transport, timeout, SOAP Fault or configuration problems from the shared layer.
    #[error(transparent)]
    Core(#[from] paybridge_core::Error),
}

impl From<PayooError> for paybridge_core::Error {
    fn from(e: PayooError) -> Self {
        match e {
            e @ PayooError::Failure(_) => Self::Provider {
                code: Some("Failure".into()),
                message: e.to_string(),
                retryable: false,
            },
            PayooError::Signature => {
                Self::Signature("response DigitalSignature does not verify".into())
            }
            e @ (PayooError::NotThisRequest(_) | PayooError::NotifySignature(_)) => {
                Self::Signature(e.to_string())
            }
            e @ PayooError::Rest {
                code, retryable, ..
            } => Self::Provider {
                code: Some(code.to_string()),
                message: e.to_string(),
                retryable,
            },
            e @ PayooError::CheckoutRefused(_) => Self::Provider {
                code: Some("fail".into()),
                message: e.to_string(),
                retryable: false,
            },
            PayooError::Core(e) => e,
        }
    }
}

impl PayooError {
    /// A [`PayooError::Rest`].
    pub(crate) fn rest(
        method: &'static str,
        code: i64,
        meaning: &'static str,
        retryable: bool,
    ) -> Self {
        Self::Rest {
            method,
            code,
            meaning,
            retryable,
        }
    }

    /// A [`PayooError::NotifySignature`] saying `why`.
    pub(crate) fn notify_signature(why: impl Into<String>) -> Self {
        Self::NotifySignature(why.into())
    }
}
