//! The normalized payment status.

use serde::{Deserialize, Serialize};

/// Where a payment stands, in the same words for every provider. The provider's own code or
/// word is always kept beside it (`provider_status` fields). Providers report most of them;
/// `needs_review` is the ledger's: what a provider reported did not add up (another amount or
/// currency than recorded, a contradiction of a final state) and a person must look.
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
    /// Taken, then part of it given back (the rest still taken).
    #[serde(rename = "partially_refunded")]
    PartiallyRefunded,
    /// Taken, then given back.
    Reversed,
    /// The ledger found an anomaly (see the payment's `anomaly`): never money taken until a
    /// person decides.
    #[serde(rename = "needs_review")]
    NeedsReview,
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
            Self::PartiallyRefunded => "partially_refunded",
            Self::Reversed => "reversed",
            Self::NeedsReview => "needs_review",
        }
    }

    /// Whether the status can still change by itself (`needs_review` waits for a person).
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::NeedsReview)
    }

    /// The status named by `word` (as [`as_str`](Self::as_str) writes it).
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "pending" => Self::Pending,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "partially_refunded" => Self::PartiallyRefunded,
            "reversed" => Self::Reversed,
            "needs_review" => Self::NeedsReview,
            _ => return None,
        })
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
