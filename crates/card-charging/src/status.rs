//! The gateway's status codes.

use paybridge_core::PaymentStatus;

paybridge_core::code_table! {
    /// A `status` code of the gateway (answers and callbacks), with its documented meaning.
    pub enum ChargeStatus {
        1 => Success, "Thẻ thành công đúng mệnh giá", "card accepted, face value right", retry: false;
        /// The merchant is credited for the real value (usually with a penalty).
        2 => SuccessWrongValue, "Thẻ thành công sai mệnh giá", "card accepted, wrong face value declared", retry: false;
        /// Used, wrong code or locked card.
        3 => CardError, "Thẻ lỗi", "card refused", retry: false;
        /// The only code worth trying again later.
        4 => Maintenance, "Hệ thống bảo trì", "gateway under maintenance", retry: true;
        /// The result arrives by callback (or `check`).
        99 => Pending, "Thẻ chờ xử lý", "card pending", retry: false;
        /// The reason is in the message.
        100 => SubmissionFailed, "Gửi thẻ thất bại", "submission failed", retry: false;
        /// `INPUT_DATA_INCORRECT`, seen in the wild rather than documented.
        102 => InputDataIncorrect, "Dữ liệu đầu vào không đúng", "input data incorrect", retry: false;
    }
    unknown: "Mã không xác định", "undocumented status code";
}

impl ChargeStatus {
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
        assert_eq!(
            ChargeStatus::ALL
                .iter()
                .map(|s| s.code())
                .collect::<Vec<_>>(),
            [1, 2, 3, 4, 99, 100, 102]
        );
        assert!(!ChargeStatus::CardError.retryable());
    }
}
