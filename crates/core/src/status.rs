//! The normalized payment status.

use serde::{Deserialize, Serialize};

/// Where a payment stands, in the same five words for every provider. The provider's own
/// code or word is always kept beside it (`provider_status` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Not final yet.
    Pending,
    /// Money taken.
    Succeeded,
    /// Declined or failed; final.
    Failed,
    /// Cancelled before completion; final.
    Cancelled,
    /// Taken, then given back.
    Reversed,
}

impl PaymentStatus {
    /// The lowercase word used on the command line and in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Reversed => "reversed",
        }
    }

    /// Whether the status can still change.
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending)
    }

    /// Whether the command-line contract treats this outcome as a definitive decline
    /// (exit code 1 with the normal result object).
    #[must_use]
    pub fn is_negative(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled | Self::Reversed)
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
