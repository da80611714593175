//! A platform's merchants on one receiver (SQLite, and PostgreSQL when configured): each
//! merchant's callbacks verified with its own key and recorded for it only, a callback signed
//! with A's key refused on B's route with nothing recorded, the same order number of two
//! merchants two payments, each merchant's changes forwarded to its own target only with
//! `data.merchant`, a merchant added while the receiver runs served at the next refresh, and a
//! secret being rotated accepted by either route (`AnyOf`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::receiving::{Shop, card_callback, expect_payment, post};
use paybridge_core::{CallbackRoute, Currency, PaymentStatus};
use paybridge_ledger::Ledger;
use paybridge_ledger::forward::{Delivery, FnSink, Forwarder};
use paybridge_ledger::receive::{MerchantRoutes, MerchantTable, Receiver};
use secrecy::SecretString;

const KEY_A: &str = "card-key-of-a";
const KEY_B: &str = "card-key-of-b";

fn card_route(key: &str) -> Arc<dyn CallbackRoute> {
    Arc::new(
        paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
            key.to_owned(),
        )),
    )
}

/// A platform's table of merchants the test changes while the receiver runs.
#[derive(Default)]
struct Platform {
    table: Mutex<MerchantTable>,
}

impl Platform {
    fn add(&self, id: &str, routes: Vec<Arc<dyn CallbackRoute>>) {
        self.table.lock().unwrap().insert(id.to_owned(), routes);
    }
}

#[async_trait::async_trait]
impl MerchantRoutes for Platform {
    async fn routes(&self, _: &Ledger) -> paybridge_core::Result<MerchantTable> {
        Ok(self.table.lock().unwrap().clone())
    }
}

/// The receiver over `ledger`: the default merchant's card route (its own key), and the
/// platform's merchants, read again every 100 ms.
async fn serve(ledger: Arc<Ledger>, platform: Arc<Platform>) -> String {
    let router = Receiver::new(ledger, Arc::new(Shop::default()))
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                common::receiving::KEY,
            )),
        )
        .merchants_every(platform, Duration::from_millis(100))
        .router();
    common::receiving::served(router).await
}

async fn card(base: &str, path: &str, order: &str, key: &str) -> u16 {
    post(base, path, "application/json", card_callback(order, 1, key))
        .await
        .0
}

/// Each merchant's payment `order-1` and the default merchant's.
async fn three_payments(ledger: &Ledger) -> (Ledger, Ledger) {
    let (a, b) = (
        ledger.for_merchant("shop-a").unwrap(),
        ledger.for_merchant("shop-b").unwrap(),
    );
    for l in [ledger, &a, &b] {
        expect_payment(l, "card-charging", "order-1", "50000", Currency::VND).await;
    }
    (a, b)
}

#[tokio::test]
async fn two_merchants_on_one_receiver_each_verified_and_recorded_as_its_own() {
    for (backend, url) in common::ledger_urls("platform").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        let platform = Arc::new(Platform::default());
        platform.add("shop-a", vec![card_route(KEY_A)]);
        let base = serve(ledger.clone(), platform.clone()).await;
        let (a, b) = three_payments(&ledger).await;

        // A's callback signed with B's key on A's route, and on a route of a merchant not
        // registered (yet): refused, nothing recorded.
        assert_eq!(
            card(&base, "/m/shop-a/card-charging/callback", "order-1", KEY_B).await,
            401,
            "{backend}"
        );
        assert_eq!(
            card(&base, "/m/shop-b/card-charging/callback", "order-1", KEY_B).await,
            404,
            "{backend}"
        );
        assert!(
            a.callbacks(None, None).await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            b.callbacks(None, None).await.unwrap().is_empty(),
            "{backend}"
        );

        // B registered while the receiver runs: served at the next refresh.
        platform.add("shop-b", vec![card_route(KEY_B)]);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            card(&base, "/m/shop-b/card-charging/callback", "order-1", KEY_B).await,
            200,
            "{backend}"
        );
        // A's key on B's route: refused; A's own route: recorded for A.
        assert_eq!(
            card(&base, "/m/shop-b/card-charging/callback", "order-1", KEY_A).await,
            401,
            "{backend}"
        );
        assert_eq!(
            card(&base, "/m/shop-a/card-charging/callback", "order-1", KEY_A).await,
            200,
            "{backend}"
        );

        // The same order number, three payments: each merchant's paid by its own callback,
        // the default merchant's untouched.
        let status = |l: Ledger| async move {
            l.payment("card-charging", "order-1")
                .await
                .unwrap()
                .unwrap()
                .payment
                .status
        };
        assert_eq!(
            status(a.clone()).await,
            PaymentStatus::Succeeded,
            "{backend}"
        );
        assert_eq!(
            status(b.clone()).await,
            PaymentStatus::Succeeded,
            "{backend}"
        );
        assert_eq!(
            status((*ledger).clone()).await,
            PaymentStatus::Pending,
            "{backend}"
        );
        for (l, id) in [(&a, "shop-a"), (&b, "shop-b")] {
            let callbacks = l.callbacks(None, None).await.unwrap();
            assert_eq!(callbacks.len(), 1, "{backend} {id}: {callbacks:?}");
            assert_eq!(callbacks[0].merchant, id, "{backend}");
            let row = l
                .payment("card-charging", "order-1")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.merchant, id, "{backend}");
        }
        assert!(
            ledger.callbacks(None, None).await.unwrap().is_empty(),
            "{backend}"
        );
        // The default route with the default key still serves the default merchant.
        assert_eq!(
            card(
                &base,
                "/card-charging/callback",
                "order-1",
                common::receiving::KEY
            )
            .await,
            200,
            "{backend}"
        );
        assert_eq!(
            status((*ledger).clone()).await,
            PaymentStatus::Succeeded,
            "{backend}"
        );
    }
}

/// What a forward target received: each delivery's body.
type Received = Arc<Mutex<Vec<serde_json::Value>>>;

fn forwarder(ledger: Ledger) -> (Forwarder, Received) {
    let got: Received = Arc::default();
    let sink = {
        let got = got.clone();
        FnSink::new(move |d: Delivery| {
            let got = got.clone();
            async move {
                got.lock()
                    .unwrap()
                    .push(serde_json::from_str(&d.body).unwrap());
                Ok::<(), String>(())
            }
        })
    };
    (Forwarder::new(Arc::new(ledger), Arc::new(sink)), got)
}

#[tokio::test]
async fn each_merchants_changes_go_to_its_own_target_only() {
    for (backend, url) in common::ledger_urls("platform_forward").await {
        let ledger = Ledger::open(&url).await.unwrap();
        let (a, b) = three_payments(&ledger).await;
        for l in [&ledger, &a, &b] {
            l.register_forward_target("https://same.example/hooks")
                .await
                .unwrap();
        }
        for l in [&a, &b] {
            l.report_status(
                "card-charging",
                "order-1",
                PaymentStatus::Failed,
                "3",
                paybridge_ledger::Source::StatusCheck,
            )
            .await
            .unwrap();
        }
        let ((fa, got_a), (fb, got_b), (fd, got_d)) = (
            forwarder(a.clone()),
            forwarder(b.clone()),
            forwarder(ledger.clone()),
        );
        for f in [&fa, &fb, &fd] {
            f.forward_once().await.unwrap();
        }
        let (got_a, got_b) = (got_a.lock().unwrap().clone(), got_b.lock().unwrap().clone());
        assert_eq!(got_a.len(), 1, "{backend}: {got_a:?}");
        assert_eq!(got_b.len(), 1, "{backend}: {got_b:?}");
        assert_eq!(got_a[0]["data"]["merchant"], "shop-a", "{backend}");
        assert_eq!(got_b[0]["data"]["merchant"], "shop-b", "{backend}");
        assert_eq!(got_a[0]["data"]["reference"], "order-1", "{backend}");
        assert_ne!(got_a[0]["data"]["at"], serde_json::Value::Null, "{backend}");
        assert!(
            got_d.lock().unwrap().is_empty(),
            "{backend}: the default merchant had no change"
        );
        // Nothing left for anyone: each merchant's outbox is its own and empty.
        for l in [&ledger, &a, &b] {
            assert!(l.outbox(false).await.unwrap().is_empty(), "{backend}");
        }
    }
}

#[tokio::test]
async fn a_rotated_secret_and_the_new_one_both_verify_through_any_of() {
    let (ledger, platform) = (
        Arc::new(
            Ledger::open(&common::sqlite_url("platform_rotation"))
                .await
                .unwrap(),
        ),
        Arc::new(Platform::default()),
    );
    let (old, new) = (card_route("old-key"), card_route("new-key"));
    let either = paybridge_core::AnyOf::new(vec![new, old]).unwrap();
    platform.add("shop-a", vec![Arc::new(either)]);
    let base = serve(ledger.clone(), platform).await;
    let a = ledger.for_merchant("shop-a").unwrap();
    for order in ["o-old", "o-new", "o-other"] {
        expect_payment(&a, "card-charging", order, "50000", Currency::VND).await;
    }
    let path = "/m/shop-a/card-charging/callback";
    assert_eq!(card(&base, path, "o-old", "old-key").await, 200);
    assert_eq!(card(&base, path, "o-new", "new-key").await, 200);
    assert_eq!(card(&base, path, "o-other", "another-key").await, 401);
    assert_eq!(a.callbacks(None, None).await.unwrap().len(), 2);
}
