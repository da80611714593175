//! Operations as `cash_getOperationData` reports them.

use paybridge_core::{Money, PaymentStatus};

paybridge_core::code_table! {
    /// An operation's `status`.
    pub enum OperationStatus {
        1 => New, "новая", "new", retry: false;
        2 => UnderReview, "на рассмотрении", "under review", retry: false;
        3 => Rejected, "отклонена", "rejected", retry: false;
        /// The only status that means paid.
        4 => Done, "проведена", "done (paid)", retry: false;
        5 => Reversed, "сторнирована", "reversed", retry: false;
        6 => ReversingEntry, "сторнирующая", "the reversing entry", retry: false;
        /// Declined (`cash_decline`) or expired unpaid: never paid.
        7 => Deleted, "удалена", "deleted", retry: false;
        /// Being reconciled by Wooppay ("квитование"): not final yet.
        8 => OnReconciliation, "на квитовании", "on reconciliation", retry: false;
        /// Waiting for the merchant to approve or decline (public clients' reference).
        9 => Pending9, "ожидает подтверждения", "waiting for the merchant's approval or decline", retry: false;
        /// Not in the guide: public clients treat it as pending.
        19 => Pending19, "(нет в руководстве)", "pending (undocumented, seen in public clients)", retry: false;
    }
    unknown: "неизвестный статус", "undocumented status";
}

impl OperationStatus {
    /// The normalized status (CLI contract): 4 succeeded; 1, 2, 8, 9, 19 pending; 3 failed;
    /// 5 and 6 reversed; 7 cancelled; unknown codes pending (never credit on an undocumented
    /// code).
    #[must_use]
    pub fn normalized(self) -> PaymentStatus {
        match self {
            Self::Done => PaymentStatus::Succeeded,
            Self::New
            | Self::UnderReview
            | Self::OnReconciliation
            | Self::Pending9
            | Self::Pending19
            | Self::Unknown(_) => PaymentStatus::Pending,
            Self::Rejected => PaymentStatus::Failed,
            Self::Deleted => PaymentStatus::Cancelled,
            Self::Reversed | Self::ReversingEntry => PaymentStatus::Reversed,
        }
    }
}

paybridge_core::code_table! {
    /// An operation's `type`. The guide's own sample answers 0, which stays `Unknown(0)`.
    pub enum OperationType {
        1 => Transfer, "переводы", "transfers", retry: false;
        2 => Payment, "платежи", "payments", retry: false;
        3 => TransferRequest, "запросы на переводы", "transfer requests", retry: false;
        4 => PaymentRequest, "запросы на платежи", "payment requests (invoices)", retry: false;
    }
    unknown: "неизвестный тип", "undocumented type";
}

/// One record of `cash_getOperationData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Operation id.
    pub id: i64,
    /// Type.
    pub op_type: OperationType,
    /// Lot id, 0 when none.
    pub lot_id: i64,
    /// Amount (KZT).
    pub sum: Option<Money>,
    /// Fee (KZT).
    pub fee: Option<Money>,
    /// Creation time, `YYYY-MM-DD HH:MM:SS`.
    pub date: Option<String>,
    /// Status.
    pub status: OperationStatus,
    /// Comment.
    pub comment: Option<String>,
    /// Sender login.
    pub from_subject: Option<String>,
    /// Recipient login.
    pub to_subject: Option<String>,
    /// Sender name.
    pub from_full_name: Option<String>,
    /// Recipient name.
    pub to_full_name: Option<String>,
}

impl Operation {
    /// The payment's state as this operation reports it, under the merchant's `reference`.
    #[must_use]
    pub fn state(&self, reference: &str) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef {
                reference: reference.to_owned(),
                provider_reference: Some(self.id.to_string()),
            },
            status: self.status.normalized(),
            provider_status: self.status.code().to_string(),
            amount: self.sum,
            message: self.comment.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_normalize_per_contract() {
        let n = |c| OperationStatus::from_code(c).normalized();
        assert_eq!(n(4), PaymentStatus::Succeeded);
        for c in [1, 2, 9, 19, 77] {
            assert_eq!(n(c), PaymentStatus::Pending, "{c}");
        }
        assert_eq!(n(3), PaymentStatus::Failed);
        assert_eq!(n(5), PaymentStatus::Reversed);
        assert_eq!(n(6), PaymentStatus::Reversed);
        assert_eq!(OperationStatus::from_code(19).code(), 19);
        assert_eq!(OperationType::from_code(0), OperationType::Unknown(0));
    }
}
