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
use common::vnd;

use std::sync::Arc;

use paybridge_core::{Currency, Money, PaymentStatus, RefundStatus};
use paybridge_ledger::clock::ManualClock;
use paybridge_ledger::{
    Applied, Ledger, LedgerError, NewPayment, Outcome, RefundOutcome, RefundStart, Source,
};

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

/// A Wooppay invoice of `amount` KZT created through `provider`, paid in the simulator, and
/// recorded paid in `ledger` (as a status check would): its reference and operation id.
async fn paid_invoice(
    sim: &paybridge_woopay::sandbox::Simulator,
    provider: &paybridge_woopay::WoopayProvider,
    ledger: &Ledger,
    amount: &str,
) -> (String, i64) {
    use paybridge_core::{PaymentProvider, PaymentRef, PaymentRequest};
    let reference = common::unique("inv");
    let mut request = PaymentRequest::new(&reference, Money::parse(amount, Currency::KZT).unwrap());
    request.return_url = Some("https://shop.example/back".into());
    request.notify_url = Some("https://shop.example/notify".into());
    let session = provider.create_payment(request).await.unwrap();
    let id: i64 = session
        .state
        .payment
        .provider_reference
        .unwrap()
        .parse()
        .unwrap();
    let _ = sim.pay(id).await;
    let paid = provider
        .payment_status(&PaymentRef::merchant(&reference))
        .await
        .unwrap();
    let mut outcome = Outcome::new(&reference, paid.status, paid.provider_status);
    outcome.amount = paid.amount;
    ledger
        .report("woopay", &outcome, Source::StatusCheck)
        .await
        .unwrap();
    (reference, id)
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
        let bypass = common::try_execute(
            &url,
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

/// Through Wooppay's simulator: an invoice paid, half refunded, the same refund id again
/// (answered from the ledger, nothing sent), the rest, then once more (refused before sending);
/// and the simulator itself refusing a refund above what is left (error 14) and declining an
/// unpaid invoice.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one invoice's whole life: paid, refunded in two, refused, and a cancel"
)]
async fn wooppay_refunds_through_the_ledger_half_then_the_rest_and_never_more() {
    use paybridge_core::http::HttpTransport;
    use paybridge_core::{PaymentProvider, PaymentRef, PaymentRequest, RefundRequest};
    use paybridge_ledger::Refunded;
    use paybridge_woopay::sandbox::{ENDPOINT_PATH, SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
    use paybridge_woopay::{Client, Config, WoopayProvider};
    use secrecy::SecretString;
    use std::sync::Arc;

    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = || {
        Client::new(
            Config::new(
                &endpoint,
                SANDBOX_USERNAME,
                SecretString::from(SANDBOX_PASSWORD),
            ),
            HttpTransport::with_defaults().unwrap(),
        )
        .unwrap()
    };
    let kzt = |s: &str| Money::parse(s, Currency::KZT).unwrap();
    for (backend, url) in common::ledger_urls("refunds_woopay").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        let provider = WoopayProvider::new(
            client(),
            paybridge_core::Stores::in_memory().records(ledger.clone()),
        );
        assert!(provider.capabilities().refund && provider.capabilities().cancel);
        let (reference, id) = paid_invoice(&sim, &provider, &ledger, "1000").await;

        let payment = PaymentRef::merchant(&reference);
        let half = RefundRequest::partial(format!("{reference}-r1"), kzt("400"));
        let Refunded::Done { refund, applied } = ledger
            .refund(&provider, &payment, half.clone())
            .await
            .unwrap()
        else {
            panic!("{backend}: the first refund is sent");
        };
        assert_eq!(
            (refund.amount, refund.status),
            (kzt("400"), RefundStatus::Succeeded)
        );
        assert!(
            matches!(applied, Applied::Changed(c) if c.status == PaymentStatus::PartiallyRefunded)
        );
        // The same refund id again: the ledger answers, Wooppay is not asked (it would refund
        // twice: it keys refunds by nothing of ours).
        assert!(matches!(
            ledger.refund(&provider, &payment, half).await.unwrap(),
            Refunded::Repeat(r) if r.status == RefundStatus::Succeeded
        ));
        let Refunded::Done { refund, applied } = ledger
            .refund(
                &provider,
                &payment,
                RefundRequest::full(format!("{reference}-r2")),
            )
            .await
            .unwrap()
        else {
            panic!("{backend}: the rest is sent");
        };
        assert_eq!(refund.amount, kzt("600"));
        assert!(matches!(applied, Applied::Changed(c) if c.status == PaymentStatus::Reversed));
        let err = ledger
            .refund(
                &provider,
                &payment,
                RefundRequest::partial(format!("{reference}-r3"), kzt("1")),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            paybridge_core::ErrorKind::Input,
            "{backend}: {err}"
        );
        // Wooppay now says the operation was returned in full.
        let state = provider.payment_status(&payment).await.unwrap();
        assert_eq!(
            (state.status, state.provider_status.as_str()),
            (PaymentStatus::Reversed, "5")
        );
        // The simulator refuses what the ledger would have: 14, refund failed.
        let err = client()
            .payment_return_partial(id, kzt("1"))
            .await
            .unwrap_err();
        assert_eq!(paybridge_core::Error::from(err).provider_code(), Some("14"));

        // Cancel: an unpaid invoice is declined (status 7, cancelled).
        let other = common::unique("inv");
        let mut request = PaymentRequest::new(&other, kzt("50"));
        request.return_url = Some("https://shop.example/back".into());
        request.notify_url = Some("https://shop.example/notify".into());
        provider.create_payment(request).await.unwrap();
        let cancelled = provider
            .cancel(&PaymentRef::merchant(&other))
            .await
            .unwrap();
        assert_eq!(
            (cancelled.status, cancelled.provider_status.as_str()),
            (PaymentStatus::Cancelled, "7"),
            "{backend}"
        );
        // A paid one is not (808: not finished… the guide's code for "not an unpaid invoice").
        assert!(provider.cancel(&payment).await.is_err());
    }
}

/// A refund whose answer is lost (the request reached Wooppay, which refunded, and the
/// connection hung): the error is outcome-unknown with how to find out, nothing is resent,
/// the refund stays `pending` in the ledger with its amount still reserved — so a second
/// refund cannot take that money again — and the money really went back at Wooppay.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one refund's story on both backends: paid, refund lost, reservation held, repeat"
)]
async fn a_refund_whose_outcome_is_unknown_stays_reserved_and_is_never_resent() {
    use paybridge_core::http::{HttpConfig, HttpTransport, RetryPolicy};
    use paybridge_core::{PaymentRef, RefundRequest};
    use paybridge_woopay::sandbox::{ENDPOINT_PATH, SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
    use paybridge_woopay::{Client, Config, WoopayProvider};
    use secrecy::SecretString;
    use std::sync::Arc;
    use std::time::Duration;

    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    // Refunds reach the simulator; their answers never come back.
    let hanging = paybridge_testkit::swallowing_proxy_when(&upstream, |request| {
        String::from_utf8_lossy(request).contains("cash_paymentReturn")
    });
    let client = |base: &str| {
        Client::new(
            Config::new(
                format!("{base}{ENDPOINT_PATH}"),
                SANDBOX_USERNAME,
                SecretString::from(SANDBOX_PASSWORD),
            ),
            HttpTransport::new(
                HttpConfig::default()
                    .timeout(Duration::from_millis(500))
                    .retry(RetryPolicy::none()),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let kzt = |s: &str| Money::parse(s, Currency::KZT).unwrap();
    for (backend, url) in common::ledger_urls("refunds_unknown").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        let stores = || paybridge_core::Stores::in_memory().records(ledger.clone());
        let direct = WoopayProvider::new(client(&upstream), stores());
        let (reference, id) = paid_invoice(&sim, &direct, &ledger, "1000").await;

        let through_hanging = WoopayProvider::new(client(&hanging), stores());
        let payment = PaymentRef::merchant(&reference);
        let err = ledger
            .refund(
                &through_hanging,
                &payment,
                RefundRequest::partial(format!("{reference}-r1"), kzt("700")),
            )
            .await
            .unwrap_err();
        assert!(err.outcome_unknown(), "{backend}: {err:?}");
        assert!(
            err.to_string().contains("cash_getOperationData"),
            "{backend}: the error says how to find out: {err}"
        );
        let refunds = ledger.refunds("woopay", &reference).await.unwrap();
        assert_eq!(
            refunds
                .iter()
                .map(|r| (r.amount, r.status))
                .collect::<Vec<_>>(),
            [(kzt("700"), RefundStatus::Pending)],
            "{backend}: recorded, pending, reserved"
        );
        // The reservation holds: 700 of 1000 may be gone, so 400 more is refused before sending.
        let err = ledger
            .refund(
                &direct,
                &payment,
                RefundRequest::partial(format!("{reference}-r2"), kzt("400")),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            paybridge_core::ErrorKind::Input,
            "{backend}: {err}"
        );
        // Wooppay did refund: 300 is what is left there.
        let err = client(&upstream)
            .payment_return_partial(id, kzt("301"))
            .await
            .unwrap_err();
        assert_eq!(paybridge_core::Error::from(err).provider_code(), Some("14"));
        // The same refund id again: answered from the ledger (pending), nothing sent.
        assert!(matches!(
            ledger
                .refund(
                    &through_hanging,
                    &payment,
                    RefundRequest::partial(format!("{reference}-r1"), kzt("700")),
                )
                .await
                .unwrap(),
            paybridge_ledger::Refunded::Repeat(r) if r.status == RefundStatus::Pending
        ));
    }
}

/// A provider whose `refund_status` answers what it is told (or cannot tell).
struct Knows(Option<RefundStatus>);

#[async_trait::async_trait]
impl paybridge_core::PaymentProvider for Knows {
    fn id(&self) -> &'static str {
        "p"
    }

    fn capabilities(&self) -> paybridge_core::Capabilities {
        paybridge_core::Capabilities::TAKE_ONLY
    }

    async fn refund_status(
        &self,
        payment: &paybridge_core::PaymentRef,
        query: &paybridge_core::RefundQuery,
    ) -> paybridge_core::Result<paybridge_core::RefundState> {
        match self.0 {
            Some(status) => Ok(paybridge_core::RefundState::new(
                payment.clone(),
                &query.refund.refund_id,
                query.refund.amount.unwrap(),
                status,
                "asked",
            )),
            None => Err(paybridge_core::Error::Provider {
                code: None,
                message: "cannot tell".into(),
                retryable: false,
            }),
        }
    }
}

/// A refund whose outcome was unknown stays pending and reserved — until the provider is asked:
/// one it cannot tell about stays so; one found done settles (the payment's change handed out);
/// one found not done gives its reservation back, so the money can be refunded again.
#[tokio::test]
async fn a_refund_whose_outcome_was_unknown_is_finished_by_asking() {
    for (backend, url) in common::ledger_urls("refunds_resolve").await {
        let ledger = Ledger::open(&url).await.unwrap();
        paid(&ledger, "o-1").await;
        for id in ["r-lost", "r-done"] {
            let started = ledger
                .start_refund("p", "o-1", id, Some(vnd(3_000)))
                .await
                .unwrap();
            assert!(matches!(started, RefundStart::New(_)), "{backend}");
        }
        let zero = std::time::Duration::ZERO;
        let pending = ledger.pending_refunds("p", zero).await.unwrap();
        assert_eq!(pending.len(), 2, "{backend}");
        assert_eq!(pending[0].paid, vnd(10_000));
        // The provider cannot tell: nothing moves.
        let r = ledger.resolve_refunds(&Knows(None), zero).await.unwrap();
        assert_eq!((r.asked, r.unknown), (2, 2), "{backend}");
        assert_eq!(ledger.pending_refunds("p", zero).await.unwrap().len(), 2);
        // It went through: settled, the payment partially refunded (twice 3 000 of 10 000).
        let r = ledger
            .resolve_refunds(&Knows(Some(RefundStatus::Succeeded)), zero)
            .await
            .unwrap();
        assert_eq!((r.asked, r.succeeded), (2, 2), "{backend}");
        let row = ledger.payment("p", "o-1").await.unwrap().unwrap();
        assert_eq!(
            (row.payment.status, row.refunded_amount),
            (PaymentStatus::PartiallyRefunded, Some(vnd(6_000))),
            "{backend}"
        );
        assert!(ledger.pending_refunds("p", zero).await.unwrap().is_empty());
        // One found not done gives its reservation back.
        ledger
            .start_refund("p", "o-1", "r-never", Some(vnd(4_000)))
            .await
            .unwrap();
        let r = ledger
            .resolve_refunds(&Knows(Some(RefundStatus::Failed)), zero)
            .await
            .unwrap();
        assert_eq!(r.failed, 1, "{backend}");
        let again = ledger
            .start_refund("p", "o-1", "r-again", Some(vnd(4_000)))
            .await
            .unwrap();
        assert!(
            matches!(again, RefundStart::New(_)),
            "{backend}: 4 000 left to refund"
        );
    }
}

/// The same refund id sent again while its outcome is unknown (`payoo refund --ledger` retried
/// after a timeout): nothing is sent under a new id; the provider is asked where it stands
/// (Payoo: resent under the same `RefundId`) once the first attempt is surely over (a minute) —
/// before that it is left alone, as one still being sent.
#[tokio::test]
async fn retrying_a_refund_whose_outcome_is_unknown_asks_the_provider() {
    for (backend, url) in common::ledger_urls("refunds_retry").await {
        let clock = ManualClock::at(paybridge_ledger::now_ms());
        let ledger = Ledger::open(&url)
            .await
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        paid(&ledger, "o-1").await;
        ledger
            .start_refund("p", "o-1", "r-lost", Some(vnd(3_000)))
            .await
            .unwrap();
        let payment = paybridge_core::PaymentRef::merchant("o-1");
        let retry = || paybridge_core::RefundRequest::partial("r-lost", vnd(3_000));
        // Just now: maybe still in flight — not asked (a `Failed` answer would release it).
        let r = ledger
            .refund(&Knows(Some(RefundStatus::Failed)), &payment, retry())
            .await
            .unwrap();
        let paybridge_ledger::Refunded::Repeat(record) = r else {
            panic!("{backend}: {r:?}")
        };
        assert_eq!(record.status, RefundStatus::Pending, "{backend}");
        // A minute on: asked, and settled by what the provider says.
        clock.advance(std::time::Duration::from_mins(2));
        let r = ledger
            .refund(&Knows(Some(RefundStatus::Succeeded)), &payment, retry())
            .await
            .unwrap();
        let paybridge_ledger::Refunded::Repeat(record) = r else {
            panic!("{backend}: {r:?}")
        };
        assert_eq!(record.status, RefundStatus::Succeeded, "{backend}");
        let row = ledger.payment("p", "o-1").await.unwrap().unwrap();
        assert_eq!(
            row.payment.status,
            PaymentStatus::PartiallyRefunded,
            "{backend}"
        );
    }
}
