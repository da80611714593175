//! Every provider code table: the documented codes round-trip, nothing else is invented,
//! undocumented codes are kept as received, and only the documented transient failures
//! are `retryable`. The expected lists are copied from the providers' documents, so a
//! dropped, renumbered or extra row fails here.

use paybridge_card_charging::ChargeStatus;
use paybridge_qvickly::QvicklyStatus;
use paybridge_woopay::{ErrorCode, OperationStatus, OperationType};

/// The shape every `code_table!` enum shares, so one check covers all of them.
macro_rules! check_table {
    ($ty:ty, documented: $codes:expr, retryable: $retry:expr) => {{
        let documented: &[i64] = &$codes;
        let retry: &[i64] = &$retry;
        let all: Vec<i64> = <$ty>::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(all, documented, "{}: documented codes", stringify!($ty));
        for &code in documented {
            let c = <$ty>::from_code(code);
            assert!(c.is_documented(), "{} {code}", stringify!($ty));
            assert_eq!(c.code(), code);
            assert!(!c.meaning().is_empty() && !c.provider_wording().is_empty());
            assert_eq!(
                c.retryable(),
                retry.contains(&code),
                "{} {code}",
                stringify!($ty)
            );
        }
        for code in [0, -1, 7_777, i64::MAX, i64::MIN] {
            if documented.contains(&code) {
                continue;
            }
            let c = <$ty>::from_code(code);
            assert_eq!(c, <$ty>::Unknown(code));
            assert_eq!(c.code(), code, "unknown codes are kept as received");
            assert!(!c.retryable() && !c.is_documented());
        }
    }};
}

#[test]
fn card_charging_status_codes() {
    check_table!(ChargeStatus, documented: [1, 2, 3, 4, 99, 100, 102], retryable: [4]);
}

#[test]
fn woopay_error_codes() {
    check_table!(
        ErrorCode,
        documented: [
            1, 2, 3, 4, 5, 11, 12, 13, 14, 101, 102, 103, 109, 111, 112, 113, 114, 156, 157,
            158, 159, 165, 213, 214, 215, 221, 222, 223, 224, 225, 226, 227, 228, 229, 306,
            307, 308, 309, 310, 311, 402, 403, 408, 409, 410, 411, 419, 420, 602, 603, 606,
            607, 613, 619, 621, 801, 802, 803, 804, 805, 806, 807, 808, 809, 810, 811, 812, 813, 815, 816, 817,
        ],
        retryable: [3, 112, 113, 114, 222, 311, 808, 809, 810]
    );
}

#[test]
fn woopay_operation_codes() {
    check_table!(OperationStatus, documented: [1, 2, 3, 4, 5, 6, 7, 8, 9, 19], retryable: []);
    check_table!(OperationType, documented: [1, 2, 3, 4], retryable: []);
}

#[test]
fn qvickly_status_words_round_trip_and_unknown_words_are_kept() {
    for word in [
        "Created",
        "Pending",
        "Paid",
        "Factoring",
        "Service",
        "Cancelled",
    ] {
        let s = QvicklyStatus::parse(word);
        assert!(s.is_documented(), "{word}");
        assert_eq!(s.as_str(), word);
        assert_eq!(QvicklyStatus::parse(&word.to_ascii_uppercase()), s);
        assert!(!s.meaning().is_empty() && !s.retryable());
    }
    let all: Vec<&str> = QvicklyStatus::ALL
        .iter()
        .map(QvicklyStatus::as_str)
        .collect();
    assert_eq!(
        all,
        [
            "Created",
            "Pending",
            "Paid",
            "Factoring",
            "Service",
            "Cancelled"
        ]
    );
    assert_eq!(QvicklyStatus::parse("canceled"), QvicklyStatus::Cancelled);
    let odd = QvicklyStatus::parse("Refunded");
    assert_eq!(odd, QvicklyStatus::Unknown("Refunded".into()));
    assert_eq!(odd.as_str(), "Refunded");
    assert!(!odd.is_documented() && !odd.retryable());
}
