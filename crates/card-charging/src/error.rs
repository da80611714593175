//! The card-charging crate's error, and how it maps into [`paybridge_core::Error`].

use crate::status::ChargeStatus;

/// What can go wrong talking to a card-charging gateway.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardChargingError {
    /// The gateway answered code 4: under maintenance. Nothing was charged; retry later.
    #[error("gateway under maintenance (status 4): {message}")]
    Maintenance {
        /// The gateway's message.
        message: String,
    },
    /// A callback's `callback_sign` does not match, or a callback disagrees with `check`.
    #[error("callback verification failed: {0}")]
    Signature(String),
    /// Transport, timeout or configuration problems from the shared layer.
    #[error(transparent)]
    Core(#[from] paybridge_core::Error),
}

impl CardChargingError {
    /// A decode error met while reading a callback is a malformed callback (refused input,
    /// [`paybridge_core::Error::Callback`]), not a transport problem.
    #[must_use]
    pub(crate) fn in_callback(self) -> Self {
        match self {
            Self::Core(e) => Self::Core(e.into_callback_error()),
            other => other,
        }
    }

    /// Whether the same request may succeed later.
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Maintenance { .. } => true,
            Self::Core(e) => e.retryable(),
            Self::Signature(_) => false,
        }
    }
}

impl From<CardChargingError> for paybridge_core::Error {
    fn from(e: CardChargingError) -> Self {
        match e {
            CardChargingError::Maintenance { message } => Self::Provider {
                code: Some(ChargeStatus::Maintenance.code().to_string()),
                message: format!("{} ({message})", ChargeStatus::Maintenance.meaning()),
                retryable: true,
            },
            CardChargingError::Signature(m) => Self::Signature(m),
            CardChargingError::Core(e) => e,
        }
    }
}
