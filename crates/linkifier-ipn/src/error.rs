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
            LinkifierError::Core(e) => e,
        }
    }
}
