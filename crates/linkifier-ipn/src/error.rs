//! The Linkifier crate's error, and how it maps into [`paybridge_core::Error`].

/// What can go wrong sending or receiving an IPN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkifierError {
    /// The endpoint answered `HasErrors = true`.
    #[error("IPN rejected ({code}): {message}{}", if extra.is_empty() { String::new() } else { format!(" — {extra}") })]
    Rejected {
        /// `ErrorCode`.
        code: i32,
        /// `Message`.
        message: String,
        /// `ExtraMessage`.
        extra: String,
    },
    /// `VerifyHASH` does not match.
    #[error("VerifyHASH does not match")]
    Signature,
    /// Not an IPN: malformed, a missing value-type field, too large, a DTD.
    #[error("not a valid IPN: {0}")]
    Decode(String),
    /// Invalid input; nothing was sent.
    #[error("invalid input: {0}")]
    Input(String),
    /// Transport, timeout, SOAP Fault or configuration problems from the shared layer.
    #[error(transparent)]
    Core(#[from] paybridge_core::Error),
}

impl From<LinkifierError> for paybridge_core::Error {
    fn from(e: LinkifierError) -> Self {
        match e {
            LinkifierError::Rejected {
                code,
                message,
                extra,
            } => Self::Provider {
                code: Some(code.to_string()),
                message: if extra.is_empty() {
                    message
                } else {
                    format!("{message} — {extra}")
                },
                retryable: false,
            },
            LinkifierError::Signature => Self::Signature("VerifyHASH does not match".into()),
            LinkifierError::Decode(m) => Self::Decode(m),
            LinkifierError::Input(m) => Self::Input(m),
            LinkifierError::Core(e) => e,
        }
    }
}
