//! Refunds in the ledger: one row per refund id (a repeat is recognised and never sent again),
//! never more back than was paid — checked by the database itself —, and the payment
//! `partially_refunded` then `reversed`, each a state change handed out once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;

use paybridge_core::{Currency, Money, PaymentStatus, RefundStatus};
use paybridge_ledger::{
    Applied, Ledger, LedgerError, NewPayment, Outcome, RefundOutcome, RefundStart, Source,
};

fn vnd(n: i64) -> Money {
    Money::new(n.into(), Currency::VND).unwrap()
}

async fn paid(ledger: &Ledger, reference: &str) {
    ledger
        .record_payment(&NewPayment::new(
            "p",
            reference,
            PaymentStatus::Pending,
            vnd(10_000),
        ))
        .await
        .unwrap();
    let paid = Outcome::new(reference, PaymentStatus::Succeeded, "1").with_amount(vnd(10_000));
    ledger.report("p", &paid, Source::Callback).await.unwrap();
}

fn started(s: RefundStart) -> paybridge_ledger::RefundRecord {
    match s {
        RefundStart::New(r) => r,
        other => panic!("expected a new refund, got {other:?}"),
    }
}

fn done() -> RefundOutcome {
    RefundOutcome::new(RefundStatus::Succeeded, "0")
}

#[tokio::test]
async fn a_partial_then_the_rest_reverses_the_payment_and_never_more_than_was_paid() {
    for (backend, url) in common::ledger_urls("refunds").await {
        let ledger = Ledger::open(&url).await.unwrap();
        paid(&ledger, "order-1").await;
        let r1 = started(
            ledger
                .start_refund("p", "order-1", "r1", Some(vnd(4_000)))
                .await
                .unwrap(),
        );
        assert_eq!((r1.amount, r1.status), (vnd(4_000), RefundStatus::Pending));
        // The same refund id again: recognised, not a second refund.
        assert!(
            matches!(
                ledger.start_refund("p", "order-1", "r1", Some(vnd(4_000))).await.unwrap(),
                RefundStart::Repeat(r) if r.amount == vnd(4_000)
            ),
            "{backend}"
        );
        // 4 000 reserved: 6 001 more is refused before anything is sent.
        let err = ledger
            .start_refund("p", "order-1", "r2", Some(vnd(6_001)))
            .await
            .unwrap_err();
        assert!(matches!(err, LedgerError::Refund(_)), "{backend}: {err}");
        let Applied::Changed(change) = ledger
            .finish_refund("p", "order-1", "r1", &done())
            .await
            .unwrap()
        else {
            panic!("{backend}: the first refund changes the payment");
        };
        assert_eq!(
            (
                change.previous_status,
                change.status,
                change.source.as_str()
            ),
            (
                PaymentStatus::Succeeded,
                PaymentStatus::PartiallyRefunded,
                "refund"
            )
        );
        // Its end again: nothing more.
        assert_eq!(
            ledger
                .finish_refund("p", "order-1", "r1", &done())
                .await
                .unwrap(),
            Applied::Unchanged
        );
        // The rest (no amount: all that is left).
        let r2 = started(
            ledger
                .start_refund("p", "order-1", "r2", None)
                .await
                .unwrap(),
        );
        assert_eq!(r2.amount, vnd(6_000), "{backend}");
        let Applied::Changed(change) = ledger
            .finish_refund("p", "order-1", "r2", &done())
            .await
            .unwrap()
        else {
            panic!("{backend}: the last refund reverses the payment");
        };
        assert_eq!(change.status, PaymentStatus::Reversed);
        let row = ledger.payment("p", "order-1").await.unwrap().unwrap();
        assert_eq!(
            (row.payment.status, row.refunded_amount),
            (PaymentStatus::Reversed, Some(vnd(10_000))),
            "{backend}"
        );
        // Nothing left.
        assert!(
            ledger
                .start_refund("p", "order-1", "r3", None)
                .await
                .is_err()
        );
        assert!(
            ledger
                .start_refund("p", "order-1", "r3", Some(vnd(1)))
                .await
                .is_err()
        );
        // And the database itself refuses more than was paid, whatever the code says.
        let bypass = ledger
            .execute_for_tests(
                "UPDATE payments SET refunded_minor = refunded_minor + 1 WHERE reference = 'order-1'",
            )
            .await;
        assert!(bypass.is_err(), "{backend}: the CHECK must refuse it");
        assert_eq!(ledger.refunds("p", "order-1").await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_failed_refund_gives_its_reservation_back_and_an_unpaid_payment_is_not_refunded() {
    for (backend, url) in common::ledger_urls("refunds_failed").await {
        let ledger = Ledger::open(&url).await.unwrap();
        paid(&ledger, "order-2").await;
        started(
            ledger
                .start_refund("p", "order-2", "r1", Some(vnd(10_000)))
                .await
                .unwrap(),
        );
        assert!(
            ledger
                .start_refund("p", "order-2", "r2", Some(vnd(1)))
                .await
                .is_err()
        );
        assert_eq!(
            ledger
                .finish_refund(
                    "p",
                    "order-2",
                    "r1",
                    &RefundOutcome::new(RefundStatus::Failed, "14")
                )
                .await
                .unwrap(),
            Applied::Unchanged
        );
        let row = ledger.payment("p", "order-2").await.unwrap().unwrap();
        assert_eq!(
            (row.payment.status, row.refunded_amount),
            (PaymentStatus::Succeeded, None),
            "{backend}"
        );
        // The whole amount can be refunded again, under a new id.
        started(
            ledger
                .start_refund("p", "order-2", "r2", None)
                .await
                .unwrap(),
        );
        // A payment not paid is not refunded; one the ledger does not hold neither.
        ledger
            .record_payment(&NewPayment::new(
                "p",
                "order-3",
                PaymentStatus::Pending,
                vnd(10_000),
            ))
            .await
            .unwrap();
        for reference in ["order-3", "order-4"] {
            let err = ledger
                .start_refund("p", reference, "r1", None)
                .await
                .unwrap_err();
            assert!(matches!(err, LedgerError::Refund(_)), "{backend}: {err}");
        }
        // In another currency, never.
        let kzt = Money::new(1.into(), Currency::KZT).unwrap();
        assert!(
            ledger
                .start_refund("p", "order-2", "r9", Some(kzt))
                .await
                .is_err()
        );
    }
}
