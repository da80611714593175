//! Qvickly payment statuses.

use paybridge_core::PaymentStatus;

paybridge_core::code_table! {
    /// A callback's `status`, as the provider page and public integrations list them.
    pub enum QvicklyStatus: words {
        "Created" => Created, "the payment exists, nothing is paid yet", retry: false;
        "Pending" => Pending, "waiting for manual approval", retry: false;
        "Paid" => Paid, "paid by card or bank", retry: false;
        "Factoring" => Factoring, "invoice approved and sold to Qvickly: the merchant is paid by Qvickly", retry: false;
        "Service" => Service, "invoice approved under the invoice service: the merchant bears the credit risk", retry: false;
        "Cancelled" | "canceled" => Cancelled, "cancelled", retry: false;
    }
    unknown: "a status word the documents do not list";
}

impl QvicklyStatus {
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
