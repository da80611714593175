//! The gateway's status codes.

use paybridge_core::PaymentStatus;

/// A `status` code of the gateway (answers and callbacks), with its documented meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeStatus {
    /// 1 — "Thẻ thành công đúng mệnh giá": card accepted, declared face value right.
    Success,
    /// 2 — "Thẻ thành công sai mệnh giá": card accepted, declared face value wrong; the
    /// merchant is credited for the real value (usually with a penalty).
    SuccessWrongValue,
    /// 3 — "Thẻ lỗi": card refused (used, wrong code, locked).
    CardError,
    /// 4 — "Hệ thống bảo trì": gateway under maintenance; try again later.
    Maintenance,
    /// 99 — "Thẻ chờ xử lý": pending; the result arrives by callback (or `check`).
    Pending,
    /// 100 — "Gửi thẻ thất bại": submission refused, reason in the message.
    SubmissionFailed,
    /// 102 — `INPUT_DATA_INCORRECT`, seen in the wild.
    InputDataIncorrect,
    /// Any other code, kept.
    Unknown(i64),
}

impl ChargeStatus {
    /// From the wire code.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Success,
            2 => Self::SuccessWrongValue,
            3 => Self::CardError,
            4 => Self::Maintenance,
            99 => Self::Pending,
            100 => Self::SubmissionFailed,
            102 => Self::InputDataIncorrect,
            other => Self::Unknown(other),
        }
    }

    /// The wire code.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::Success => 1,
            Self::SuccessWrongValue => 2,
            Self::CardError => 3,
            Self::Maintenance => 4,
            Self::Pending => 99,
            Self::SubmissionFailed => 100,
            Self::InputDataIncorrect => 102,
            Self::Unknown(c) => c,
        }
    }

    /// The documented meaning, in Vietnamese as the provider writes it and in English.
    #[must_use]
    pub fn meaning(self) -> (&'static str, &'static str) {
        match self {
            Self::Success => (
                "Thẻ thành công đúng mệnh giá",
                "card accepted, face value right",
            ),
            Self::SuccessWrongValue => (
                "Thẻ thành công sai mệnh giá",
                "card accepted, wrong face value declared",
            ),
            Self::CardError => ("Thẻ lỗi", "card refused"),
            Self::Maintenance => ("Hệ thống bảo trì", "gateway under maintenance"),
            Self::Pending => ("Thẻ chờ xử lý", "card pending"),
            Self::SubmissionFailed => ("Gửi thẻ thất bại", "submission failed"),
            Self::InputDataIncorrect => ("Dữ liệu đầu vào không đúng", "input data incorrect"),
            Self::Unknown(_) => ("Mã không xác định", "undocumented status code"),
        }
    }

    /// The normalized status. Unknown codes are `pending`: never credit nor fail a card on a
    /// code nobody documented — `check` it.
    #[must_use]
    pub fn normalized(self) -> PaymentStatus {
        match self {
            Self::Success | Self::SuccessWrongValue => PaymentStatus::Succeeded,
            Self::CardError | Self::SubmissionFailed | Self::InputDataIncorrect => {
                PaymentStatus::Failed
            }
            Self::Maintenance | Self::Pending | Self::Unknown(_) => PaymentStatus::Pending,
        }
    }

    /// Whether the gateway may accept the same card later (only maintenance).
    #[must_use]
    pub fn retryable(self) -> bool {
        matches!(self, Self::Maintenance)
    }

    /// Whether this is the final word on the card.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Success
                | Self::SuccessWrongValue
                | Self::CardError
                | Self::SubmissionFailed
                | Self::InputDataIncorrect
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_roundtrip_and_map_as_documented() {
        for code in [1, 2, 3, 4, 99, 100, 102, 7, -1] {
            assert_eq!(ChargeStatus::from_code(code).code(), code);
        }
        assert_eq!(
            ChargeStatus::from_code(1).normalized(),
            PaymentStatus::Succeeded
        );
        assert_eq!(
            ChargeStatus::from_code(2).normalized(),
            PaymentStatus::Succeeded
        );
        assert_eq!(
            ChargeStatus::from_code(3).normalized(),
            PaymentStatus::Failed
        );
        assert_eq!(
            ChargeStatus::from_code(99).normalized(),
            PaymentStatus::Pending
        );
        assert_eq!(
            ChargeStatus::from_code(100).normalized(),
            PaymentStatus::Failed
        );
        assert_eq!(
            ChargeStatus::from_code(7).normalized(),
            PaymentStatus::Pending
        );
        assert!(ChargeStatus::Maintenance.retryable());
        assert!(!ChargeStatus::CardError.retryable());
    }
}
