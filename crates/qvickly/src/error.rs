//! The Qvickly crate's error, and how it maps into [`paybridge_core::Error`].

/// Code Billmate's own SDK answers a callback whose hash does not verify with.
pub const VERIFICATION_ERROR_CODE: u32 = 9511;

/// What can go wrong with a Qvickly callback or its forwarding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QvicklyError {
    /// The hash does not verify, or the callback names another merchant id.
    #[error("verification error ({VERIFICATION_ERROR_CODE}): {0}")]
    Signature(String),
    /// The booking API answered `Success = false`.
    #[error("booking API refused the callback: {message}")]
    Refused {
        /// The booking API's `Message`.
        message: String,
    },
    /// The Payment API answered an error (`data.code`, `data.message`).
    #[error("Qvickly error {}: {message}", code.code())]
    Api {
        /// The code, with its documented meaning.
        code: crate::api_codes::ApiErrorCode,
        /// Qvickly's message.
        message: String,
    },
    /// Transport, timeout or configuration problems from the shared layer.
    #[error(transparent)]
    Core(#[from] paybridge_core::Error),
}

impl From<QvicklyError> for paybridge_core::Error {
    fn from(e: QvicklyError) -> Self {
        match e {
            QvicklyError::Signature(m) => Self::Signature(m),
            QvicklyError::Refused { message } => Self::Provider {
                code: None,
                message,
                retryable: false,
            },
            e @ QvicklyError::Api { code, .. } => Self::Provider {
                code: Some(code.code().to_string()),
                message: e.to_string(),
                retryable: code.retryable(),
            },
            QvicklyError::Core(e) => e,
        }
    }
}
