//! Operations as `cash_getOperationData` reports them.

use paybridge_core::{Money, PaymentStatus};

/// An operation's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationStatus {
    /// 1 — новая (new).
    New,
    /// 2 — на рассмотрении (under review).
    UnderReview,
    /// 3 — отклонена (rejected).
    Rejected,
    /// 4 — проведена (done: paid).
    Done,
    /// 5 — сторнирована (reversed).
    Reversed,
    /// 6 — сторнирующая (the reversing entry).
    ReversingEntry,
    /// 9 or 19 — seen in public clients as pending states.
    Pending(i64),
    /// Any other code, kept.
    Unknown(i64),
}

impl OperationStatus {
    /// From the wire code.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::New,
            2 => Self::UnderReview,
            3 => Self::Rejected,
            4 => Self::Done,
            5 => Self::Reversed,
            6 => Self::ReversingEntry,
            9 | 19 => Self::Pending(code),
            other => Self::Unknown(other),
        }
    }

    /// The wire code.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::New => 1,
            Self::UnderReview => 2,
            Self::Rejected => 3,
            Self::Done => 4,
            Self::Reversed => 5,
            Self::ReversingEntry => 6,
            Self::Pending(c) | Self::Unknown(c) => c,
        }
    }

    /// The normalized status (CLI contract): 4 succeeded; 1, 2, 9, 19 pending; 3 failed;
    /// 5 and 6 reversed; unknown codes pending (never credit on an undocumented code).
    #[must_use]
    pub fn normalized(self) -> PaymentStatus {
        match self {
            Self::Done => PaymentStatus::Succeeded,
            Self::New | Self::UnderReview | Self::Pending(_) | Self::Unknown(_) => {
                PaymentStatus::Pending
            }
            Self::Rejected => PaymentStatus::Failed,
            Self::Reversed | Self::ReversingEntry => PaymentStatus::Reversed,
        }
    }
}

/// An operation's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationType {
    /// 1 — переводы (transfers).
    Transfer,
    /// 2 — платежи (payments).
    Payment,
    /// 3 — запросы на переводы (transfer requests).
    TransferRequest,
    /// 4 — запросы на платежи (payment requests: invoices).
    PaymentRequest,
    /// Any other code (the guide's own sample answers 0), kept.
    Unknown(i64),
}

impl OperationType {
    /// From the wire code.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Transfer,
            2 => Self::Payment,
            3 => Self::TransferRequest,
            4 => Self::PaymentRequest,
            other => Self::Unknown(other),
        }
    }

    /// The wire code.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::Transfer => 1,
            Self::Payment => 2,
            Self::TransferRequest => 3,
            Self::PaymentRequest => 4,
            Self::Unknown(c) => c,
        }
    }
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
