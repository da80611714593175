//! Qvickly payment statuses.

use paybridge_core::PaymentStatus;

/// A callback's `status`, as the provider page and public integrations list them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QvicklyStatus {
    /// `Created`: the payment exists, nothing is paid yet.
    Created,
    /// `Pending`: waiting for manual approval.
    Pending,
    /// `Paid`: paid by card or bank.
    Paid,
    /// `Factoring`: invoice approved and sold to Qvickly — the merchant is paid by Qvickly.
    Factoring,
    /// `Service`: invoice approved under the invoice service (merchant bears the credit risk).
    Service,
    /// `Cancelled` (also spelled `canceled`).
    Cancelled,
    /// Any other word, kept as received.
    Unknown(String),
}

impl QvicklyStatus {
    /// From the wire word (case-insensitive; both spellings of cancelled).
    #[must_use]
    pub fn parse(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "created" => Self::Created,
            "pending" => Self::Pending,
            "paid" => Self::Paid,
            "factoring" => Self::Factoring,
            "service" => Self::Service,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Unknown(word.to_owned()),
        }
    }

    /// The normalized status. Our choice, documented: an approved invoice (`Factoring`,
    /// `Service`) is `succeeded` — the order may ship; `Created`, `Pending` and unknown words
    /// are `pending`.
    #[must_use]
    pub fn normalized(&self) -> PaymentStatus {
        match self {
            Self::Paid | Self::Factoring | Self::Service => PaymentStatus::Succeeded,
            Self::Cancelled => PaymentStatus::Cancelled,
            Self::Created | Self::Pending | Self::Unknown(_) => PaymentStatus::Pending,
        }
    }

    /// The word as Qvickly writes it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "Created",
            Self::Pending => "Pending",
            Self::Paid => "Paid",
            Self::Factoring => "Factoring",
            Self::Service => "Service",
            Self::Cancelled => "Cancelled",
            Self::Unknown(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_normalization() {
        assert_eq!(
            QvicklyStatus::parse("Paid").normalized(),
            PaymentStatus::Succeeded
        );
        assert_eq!(QvicklyStatus::parse("canceled"), QvicklyStatus::Cancelled);
        assert_eq!(
            QvicklyStatus::parse("Cancelled").normalized(),
            PaymentStatus::Cancelled
        );
        assert_eq!(
            QvicklyStatus::parse("Pending").normalized(),
            PaymentStatus::Pending
        );
        assert_eq!(
            QvicklyStatus::parse("Weird"),
            QvicklyStatus::Unknown("Weird".into())
        );
        assert_eq!(
            QvicklyStatus::parse("Weird").normalized(),
            PaymentStatus::Pending
        );
        assert_eq!(QvicklyStatus::parse("Factoring").as_str(), "Factoring");
    }
}
