//! When a report changes a payment's state: one pure function, [`decide`], that every path
//! into the ledger (callbacks, status checks, a command's answer, refunds) goes through inside
//! the transaction that records it.
//!
//! The rules:
//! - statuses only move up: `pending` < `failed`, `cancelled` < `succeeded` <
//!   `partially_refunded` < `reversed`; a
//!   report of a lower or equal status changes nothing (a late `pending` never undoes an
//!   outcome, the same news twice is one change);
//! - a report that contradicts a final state — `failed`/`cancelled` after `succeeded`, or
//!   `succeeded`/`reversed` after `failed`/`cancelled` — is anomaly `conflicting_status`, and
//!   the payment becomes `needs_review`;
//! - no money, no success: a `succeeded` report must carry the amount paid, exactly the
//!   recorded amount in the recorded currency, else the payment becomes `needs_review` with
//!   `underpaid`, `overpaid` or `currency_mismatch` (compared as exact decimals: minor units,
//!   never floats) — or, carrying no amount at all, `amount_missing`. A provider whose reports
//!   never carry an amount (Qvickly) has its route bind the report to the recorded payment
//!   (signed number and order id) and report the recorded amount, or confirm the total;
//! - a payment in `needs_review` waits for a person: no report changes it — except one given
//!   up on for want of news (`unreconciled`): that was the absence of an answer, not a
//!   contradiction, so a verified final report decides it as if it were still `pending`.

use paybridge_core::{Money, PaymentStatus};

/// What did not add up about a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Anomaly {
    /// Less money arrived than was recorded.
    Underpaid,
    /// More money arrived than was recorded.
    Overpaid,
    /// The money arrived in another currency.
    CurrencyMismatch,
    /// A report contradicted a final state.
    ConflictingStatus,
    /// A verified report for a reference the ledger does not hold.
    UnknownPayment,
    /// The provider could not tell, however often it was asked.
    Unreconciled,
    /// A success reported without the amount paid: no money, no `succeeded`.
    AmountMissing,
}

impl Anomaly {
    /// The word stored and printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Underpaid => "underpaid",
            Self::Overpaid => "overpaid",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::ConflictingStatus => "conflicting_status",
            Self::UnknownPayment => "unknown_payment",
            Self::Unreconciled => "unreconciled",
            Self::AmountMissing => "amount_missing",
        }
    }

    /// The anomaly named by `word`.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "underpaid" => Self::Underpaid,
            "overpaid" => Self::Overpaid,
            "currency_mismatch" => Self::CurrencyMismatch,
            "conflicting_status" => Self::ConflictingStatus,
            "unknown_payment" => Self::UnknownPayment,
            "unreconciled" => Self::Unreconciled,
            "amount_missing" => Self::AmountMissing,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`decide`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the payment's state changes.
    pub changed: bool,
    /// The state after the report (the current one when unchanged).
    pub status: PaymentStatus,
    /// The anomaly the report revealed, if any.
    pub anomaly: Option<Anomaly>,
}

/// The order statuses move in (see the module docs); `needs_review` ranks above all: it is
/// left only by a person.
#[must_use]
pub fn rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::Pending => 0,
        PaymentStatus::Failed | PaymentStatus::Cancelled => 1,
        PaymentStatus::Succeeded => 2,
        PaymentStatus::PartiallyRefunded => 3,
        PaymentStatus::Reversed => 4,
        PaymentStatus::NeedsReview => 5,
    }
}

/// The money check: `paid` against the `recorded` amount.
#[must_use]
pub fn money_anomaly(recorded: Money, paid: Money) -> Option<Anomaly> {
    if paid.currency().code() != recorded.currency().code() {
        Some(Anomaly::CurrencyMismatch)
    } else if paid.amount() < recorded.amount() {
        Some(Anomaly::Underpaid)
    } else if paid.amount() > recorded.amount() {
        Some(Anomaly::Overpaid)
    } else {
        None
    }
}

/// Decide what a report of `reported` (with the amount it says was paid, if it says one)
/// does to a payment now `current` (with the anomaly it is under review for, if any),
/// recorded for `recorded`.
#[must_use]
pub fn decide(
    current: PaymentStatus,
    current_anomaly: Option<Anomaly>,
    recorded: Money,
    reported: PaymentStatus,
    paid: Option<Money>,
) -> Decision {
    use PaymentStatus::{
        Cancelled, Failed, NeedsReview, PartiallyRefunded, Pending, Reversed, Succeeded,
    };
    let unchanged = Decision {
        changed: false,
        status: current,
        anomaly: None,
    };
    let review = |anomaly| Decision {
        changed: true,
        status: NeedsReview,
        anomaly: Some(anomaly),
    };
    // Given up on for want of an answer: the first real answer decides it as if pending.
    let given_up = current == NeedsReview && current_anomaly == Some(Anomaly::Unreconciled);
    let base = if given_up { Pending } else { current };
    match (base, reported) {
        (NeedsReview, _) | (_, Pending | NeedsReview) => unchanged,
        (Succeeded | PartiallyRefunded, Failed | Cancelled)
        | (Failed | Cancelled, Succeeded | PartiallyRefunded | Reversed) => {
            review(Anomaly::ConflictingStatus)
        }
        _ if rank(reported) <= rank(base) => unchanged,
        (_, Succeeded) => match paid {
            None => review(Anomaly::AmountMissing),
            Some(paid) => match money_anomaly(recorded, paid) {
                Some(anomaly) => review(anomaly),
                None => Decision {
                    changed: true,
                    status: Succeeded,
                    anomaly: None,
                },
            },
        },
        _ => Decision {
            changed: true,
            status: reported,
            anomaly: None,
        },
    }
}

/// A refund of the payment succeeded: `partially_refunded` while some of what was paid is left,
/// `reversed` once all of it went back (`fully`). Any other state than a paid one is left as it
/// is (a refund is only started on a paid payment).
#[must_use]
pub fn refunded(current: PaymentStatus, fully: bool) -> Decision {
    let to = if fully {
        PaymentStatus::Reversed
    } else {
        PaymentStatus::PartiallyRefunded
    };
    let paid = matches!(
        current,
        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
    );
    Decision {
        changed: paid && to != current,
        status: if paid { to } else { current },
        anomaly: None,
    }
}

/// The reconciler gives up on a payment the provider never settled (its schedule ran out, or
/// the provider cannot be asked about it): a pending payment goes to `needs_review` with
/// [`Anomaly::Unreconciled`]; any other state is left as it is.
#[must_use]
pub fn give_up(current: PaymentStatus) -> Decision {
    if current == PaymentStatus::Pending {
        Decision {
            changed: true,
            status: PaymentStatus::NeedsReview,
            anomaly: Some(Anomaly::Unreconciled),
        }
    } else {
        Decision {
            changed: false,
            status: current,
            anomaly: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus::{Cancelled, Failed, NeedsReview, Pending, Reversed, Succeeded};
    use paybridge_core::Currency;

    fn vnd(n: i64) -> Money {
        Money::new(n.into(), Currency::VND).unwrap()
    }

    #[test]
    fn money_is_compared_exactly_before_it_is_believed() {
        let order = vnd(500_000);
        let d = decide(Pending, None, order, Succeeded, Some(vnd(175_000)));
        assert_eq!(
            (d.status, d.anomaly),
            (NeedsReview, Some(Anomaly::Underpaid))
        );
        let d = decide(Pending, None, order, Succeeded, Some(vnd(600_000)));
        assert_eq!(d.anomaly, Some(Anomaly::Overpaid));
        let kzt = Money::new(500_000.into(), Currency::KZT).unwrap();
        let d = decide(Pending, None, order, Succeeded, Some(kzt));
        assert_eq!(d.anomaly, Some(Anomaly::CurrencyMismatch));
        let d = decide(Pending, None, order, Succeeded, Some(vnd(500_000)));
        assert_eq!((d.changed, d.status, d.anomaly), (true, Succeeded, None));
        // 100.50 and 100.5 are the same money.
        let usd = |s: &str| Money::parse(s, Currency::USD).unwrap();
        assert_eq!(money_anomaly(usd("100.50"), usd("100.5")), None);
        // No amount reported: no money, no success.
        let d = decide(Pending, None, order, Succeeded, None);
        assert_eq!(
            (d.status, d.anomaly),
            (NeedsReview, Some(Anomaly::AmountMissing))
        );
    }

    #[test]
    fn statuses_only_move_up_and_contradictions_need_review() {
        let order = vnd(1);
        for (current, reported, changed, status) in [
            (Pending, Pending, false, Pending),
            (Pending, Failed, true, Failed),
            (Succeeded, Succeeded, false, Succeeded),
            (Succeeded, Pending, false, Succeeded),
            (Succeeded, Reversed, true, Reversed),
            (Reversed, Succeeded, false, Reversed),
            (Failed, Cancelled, false, Failed),
            (Succeeded, Failed, true, NeedsReview),
            (Cancelled, Succeeded, true, NeedsReview),
            (NeedsReview, Succeeded, false, NeedsReview),
        ] {
            let d = decide(current, None, order, reported, Some(order));
            assert_eq!(
                (d.changed, d.status),
                (changed, status),
                "{current} + {reported}"
            );
        }
    }

    #[test]
    fn a_payment_given_up_on_is_still_moved_by_a_verified_final_report() {
        let order = vnd(500_000);
        let d = decide(
            NeedsReview,
            Some(Anomaly::Unreconciled),
            order,
            Succeeded,
            Some(order),
        );
        assert_eq!((d.changed, d.status, d.anomaly), (true, Succeeded, None));
        let d = decide(
            NeedsReview,
            Some(Anomaly::Unreconciled),
            order,
            Failed,
            None,
        );
        assert_eq!((d.changed, d.status), (true, Failed));
        // A pending report is still no news; a payment under review for money stays.
        assert!(
            !decide(
                NeedsReview,
                Some(Anomaly::Unreconciled),
                order,
                Pending,
                None
            )
            .changed
        );
        assert!(
            !decide(
                NeedsReview,
                Some(Anomaly::Underpaid),
                order,
                Succeeded,
                Some(order)
            )
            .changed
        );
    }

    #[test]
    fn giving_up_reviews_only_a_pending_payment() {
        assert_eq!(
            give_up(Pending),
            Decision {
                changed: true,
                status: NeedsReview,
                anomaly: Some(Anomaly::Unreconciled)
            }
        );
        for settled in [Succeeded, Failed, Cancelled, Reversed, NeedsReview] {
            assert!(!give_up(settled).changed, "{settled}");
        }
    }

    proptest::proptest! {
        /// Whatever the order of arrival, a set of reports ends in the same state and each
        /// state is entered at most once.
        #[test]
        fn any_order_of_the_same_reports_changes_each_state_once(
            reports in proptest::collection::vec(0_usize..5, 1..12)
        ) {
            let all = [Pending, Failed, Cancelled, Succeeded, Reversed];
            let mut status = Pending;
            let mut entered = std::collections::HashMap::new();
            for r in reports {
                let d = decide(status, None, vnd(1), all[r], Some(vnd(1)));
                if d.changed {
                    *entered.entry(d.status).or_insert(0) += 1;
                    proptest::prop_assert!(rank(d.status) > rank(status));
                }
                status = d.status;
            }
            proptest::prop_assert!(entered.values().all(|n| *n == 1));
        }
    }
}
