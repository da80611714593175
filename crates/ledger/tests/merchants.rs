//! Merchants of a platform in the ledger (SQLite, and PostgreSQL when configured): settings
//! sealed under the ledger's key and never stored or listed in the clear, refused without a
//! key, opened only with it; an update replaces a value at once, a rotation keeps the old one
//! valid for its grace period and not after.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use std::sync::Arc;
use std::time::Duration;

use paybridge_ledger::clock::ManualClock;
use paybridge_ledger::{Ledger, LedgerError, NewMerchant, SealKey};
use secrecy::{ExposeSecret, SecretString};

const KEY: [u8; 32] = [7; 32];

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn opened(values: &[SecretString]) -> Vec<&str> {
    values.iter().map(ExposeSecret::expose_secret).collect()
}

/// A ledger with a key and a manual clock, two merchants registered: shop-a (a Qvickly
/// secret, a card key, a forward target, a `CompanyId`) and shop-b (a Qvickly secret).
async fn registered(url: &str) -> (Ledger, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(1_000_000));
    let ledger = Ledger::open(url)
        .await
        .unwrap()
        .with_seal_key(SealKey::new(&KEY))
        .with_clock(clock.clone());
    let a = NewMerchant::new("shop-a")
        .set("PAYBRIDGE_QVICKLY_SECRET", secret("qvickly-secret-a1"))
        .set("PAYBRIDGE_CARD_PARTNER_KEY", secret("card-key-a"))
        .forward("https://a.example/hooks", secret("whsec_a-forward"))
        .company_id("company-7");
    ledger.add_merchant(&a).await.unwrap();
    ledger
        .add_merchant(
            &NewMerchant::new("shop-b").set("PAYBRIDGE_QVICKLY_SECRET", secret("qvickly-secret-b")),
        )
        .await
        .unwrap();
    (ledger, clock)
}

#[tokio::test]
async fn a_merchants_settings_are_sealed_and_listed_by_name_only() {
    for (backend, url) in common::ledger_urls("merchants").await {
        let (ledger, _) = registered(&url).await;
        // Listed by name, never by value.
        let listed = ledger.merchants().await.unwrap();
        assert_eq!(listed.len(), 2, "{backend}");
        assert_eq!(listed[0].id, "shop-a");
        assert_eq!(
            listed[0].settings,
            ["PAYBRIDGE_CARD_PARTNER_KEY", "PAYBRIDGE_QVICKLY_SECRET"],
            "{backend}"
        );
        assert_eq!(
            listed[0].forward.as_deref(),
            Some("https://a.example/hooks")
        );
        assert_eq!(listed[0].company_id.as_deref(), Some("company-7"));
        assert!(!format!("{listed:?}").contains("secret-a1"), "{backend}");

        // Stored sealed: no value in the clear anywhere in the rows.
        let pool = common::database(&url).await;
        let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM merchant_settings")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 3, "{backend}");
        for row in &rows {
            for plain in ["qvickly-secret-a1", "card-key-a", "qvickly-secret-b"] {
                assert!(
                    !row.windows(plain.len()).any(|w| w == plain.as_bytes()),
                    "{backend}: {plain} in the clear"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_value_opens_only_with_its_key_in_its_own_row() {
    for (backend, url) in common::ledger_urls("merchants").await {
        let (ledger, _) = registered(&url).await;
        let pool = common::database(&url).await;
        // Opened with the key, each value only in its own merchant's row.
        let a_secret = ledger
            .merchant_setting("shop-a", "PAYBRIDGE_QVICKLY_SECRET")
            .await
            .unwrap();
        assert_eq!(opened(&a_secret), ["qvickly-secret-a1"], "{backend}");
        let (url_a, forward_a) = ledger.merchant_forward("shop-a").await.unwrap().unwrap();
        assert_eq!(
            (url_a.as_str(), forward_a.expose_secret()),
            ("https://a.example/hooks", "whsec_a-forward")
        );
        // A row moved to another merchant does not open there.
        sqlx::query(
            "UPDATE merchant_settings SET sealed = (SELECT sealed FROM merchant_settings WHERE merchant = 'shop-a' AND name = 'PAYBRIDGE_QVICKLY_SECRET') \
             WHERE merchant = 'shop-b'",
        )
        .execute(&pool)
        .await
        .unwrap();
        let moved = ledger
            .merchant_setting("shop-b", "PAYBRIDGE_QVICKLY_SECRET")
            .await;
        assert!(
            matches!(moved, Err(LedgerError::Seal(_))),
            "{backend}: {moved:?}"
        );
        // Another key opens nothing.
        let other = Ledger::open(&url)
            .await
            .unwrap()
            .with_seal_key(SealKey::new(&[8; 32]));
        assert!(matches!(
            other
                .merchant_setting("shop-a", "PAYBRIDGE_QVICKLY_SECRET")
                .await,
            Err(LedgerError::Seal(_))
        ));
    }
}

#[tokio::test]
async fn a_rotation_keeps_the_old_value_for_its_grace_period_an_update_does_not() {
    for (backend, url) in common::ledger_urls("merchants").await {
        let (ledger, clock) = registered(&url).await;
        // Rotation: old and new both valid during the grace period, then only the new.
        ledger
            .rotate_merchant(
                "shop-a",
                vec![(
                    "PAYBRIDGE_QVICKLY_SECRET".into(),
                    secret("qvickly-secret-a2"),
                )],
                Duration::from_hours(1),
            )
            .await
            .unwrap();
        let during = ledger
            .merchant_setting("shop-a", "PAYBRIDGE_QVICKLY_SECRET")
            .await
            .unwrap();
        assert_eq!(
            opened(&during),
            ["qvickly-secret-a2", "qvickly-secret-a1"],
            "{backend}"
        );
        clock.advance(Duration::from_secs(3_601));
        let after = ledger
            .merchant_setting("shop-a", "PAYBRIDGE_QVICKLY_SECRET")
            .await
            .unwrap();
        assert_eq!(opened(&after), ["qvickly-secret-a2"], "{backend}");
        // An update (not a rotation) replaces at once.
        ledger
            .add_merchant(
                &NewMerchant::new("shop-a")
                    .set("PAYBRIDGE_CARD_PARTNER_KEY", secret("card-key-a2")),
            )
            .await
            .unwrap();
        let card = ledger
            .merchant_setting("shop-a", "PAYBRIDGE_CARD_PARTNER_KEY")
            .await
            .unwrap();
        assert_eq!(opened(&card), ["card-key-a2"], "{backend}");
        // Kept what the update did not name.
        let a = ledger.merchant("shop-a").await.unwrap().unwrap();
        assert_eq!(
            a.forward.as_deref(),
            Some("https://a.example/hooks"),
            "{backend}"
        );

        // Removal forgets every value.
        assert!(ledger.remove_merchant("shop-a", false).await.unwrap());
        assert!(!ledger.remove_merchant("shop-a", false).await.unwrap());
        assert_eq!(
            common::count(
                &url,
                "SELECT COUNT(*) FROM merchant_settings WHERE merchant = 'shop-a'"
            )
            .await,
            0
        );
        assert!(ledger.merchant("shop-a").await.unwrap().is_none());
        assert!(
            ledger
                .rotate_merchant("shop-a", Vec::new(), Duration::ZERO)
                .await
                .is_err(),
            "{backend}: rotating a merchant that is gone"
        );
    }
}

#[tokio::test]
async fn without_a_key_nothing_is_stored_and_a_bad_id_is_refused() {
    for (backend, url) in common::ledger_urls("merchants_refused").await {
        let ledger = Ledger::open(&url).await.unwrap();
        let refused = ledger
            .add_merchant(&NewMerchant::new("shop").set("PAYBRIDGE_QVICKLY_SECRET", secret("s")))
            .await;
        assert!(matches!(refused, Err(LedgerError::Seal(_))), "{backend}");
        // A configuration error: the CLI's exit 2.
        let as_core = paybridge_core::Error::from(refused.unwrap_err());
        assert!(
            matches!(as_core, paybridge_core::Error::Config { .. }),
            "{backend}"
        );
        assert!(ledger.merchants().await.unwrap().is_empty(), "{backend}");
        let keyed = ledger.with_seal_key(SealKey::new(&KEY));
        for bad in ["", "Shop", "shop/a", "a b", &"x".repeat(65)] {
            assert!(
                matches!(
                    keyed.add_merchant(&NewMerchant::new(bad)).await,
                    Err(LedgerError::Input(_))
                ),
                "{backend}: {bad:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_merchant_with_payments_not_final_is_removed_only_when_forced() {
    for (backend, url) in common::ledger_urls("merchants_remove").await {
        let (ledger, _) = registered(&url).await;
        let a = ledger.for_merchant("shop-a").unwrap();
        a.record_payment(&paybridge_ledger::NewPayment::new(
            "card-charging",
            "order-1",
            paybridge_core::PaymentStatus::Pending,
            vnd(50_000),
        ))
        .await
        .unwrap();
        assert!(
            matches!(
                ledger.remove_merchant("shop-a", false).await,
                Err(LedgerError::Input(_))
            ),
            "{backend}"
        );
        assert!(
            ledger.merchant("shop-a").await.unwrap().is_some(),
            "{backend}"
        );
        // shop-b has none: removed at once.
        assert!(
            ledger.remove_merchant("shop-b", false).await.unwrap(),
            "{backend}"
        );
        assert!(
            ledger.remove_merchant("shop-a", true).await.unwrap(),
            "{backend}"
        );
        // Its payments stay, with their history; its forward target went with it.
        assert!(
            a.payment("card-charging", "order-1")
                .await
                .unwrap()
                .is_some(),
            "{backend}"
        );
        assert_eq!(
            common::count(
                &url,
                "SELECT COUNT(*) FROM forward_targets WHERE merchant = 'shop-a'"
            )
            .await,
            0,
            "{backend}"
        );
    }
}

/// A ledger written before payments were keyed by merchant (migrated up to 0009): after the
/// upgrade every row is the default merchant's, and a merchant may use the same reference.
#[tokio::test]
async fn rows_recorded_before_merchants_are_the_default_merchants() {
    for (backend, url) in common::ledger_urls("merchants_upgrade").await {
        let old = if backend == "sqlite" {
            let pool = common::database(&format!("{url}?mode=rwc")).await;
            sqlx::migrate!("./migrations/sqlite")
                .run_to(9, &pool)
                .await
                .unwrap();
            pool
        } else {
            let pool = common::database(&url).await;
            sqlx::migrate!("./migrations/postgres")
                .run_to(9, &pool)
                .await
                .unwrap();
            pool
        };
        for sql in [
            "INSERT INTO payments (provider, reference, status, amount, currency, created_at, updated_at) \
             VALUES ('card-charging', 'order-1', 'pending', '50000', 'VND', 1, 1)",
            "INSERT INTO callbacks (provider, key, state, lease_until, deliveries, first_received_at, last_received_at) \
             VALUES ('card-charging', 'k-1', 'done', 0, 1, 1, 1)",
            "INSERT INTO forward_targets (url, registered_at) VALUES ('https://old.example/hooks', 1)",
            "INSERT INTO merchants (id, forward_url, created_at, updated_at) VALUES ('shop-old', 'https://old-shop.example/hooks', 1, 1)",
        ] {
            sqlx::query(sql).execute(&old).await.unwrap();
        }
        old.close().await;
        let ledger = Ledger::open(&url).await.unwrap();
        let row = ledger
            .payment("card-charging", "order-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.merchant, "", "{backend}");
        assert_eq!(
            ledger.callbacks(None, None).await.unwrap()[0].merchant,
            "",
            "{backend}"
        );
        assert_eq!(
            common::count(
                &url,
                "SELECT COUNT(*) FROM forward_targets WHERE merchant = ''"
            )
            .await,
            1,
            "{backend}"
        );
        // A merchant registered with a target before targets had a merchant keeps it.
        assert_eq!(
            common::count(&url, "SELECT COUNT(*) FROM forward_targets WHERE merchant = 'shop-old' AND url = 'https://old-shop.example/hooks'").await,
            1,
            "{backend}"
        );
        let a = ledger.for_merchant("shop-a").unwrap();
        assert!(
            a.payment("card-charging", "order-1")
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );
        assert!(
            a.record_payment(&paybridge_ledger::NewPayment::new(
                "card-charging",
                "order-1",
                paybridge_core::PaymentStatus::Pending,
                vnd(70_000),
            ))
            .await
            .unwrap(),
            "{backend}: the same reference, another merchant: a payment of its own"
        );
        assert_eq!(
            ledger
                .payment("card-charging", "order-1")
                .await
                .unwrap()
                .unwrap()
                .payment
                .amount,
            row.payment.amount,
            "{backend}"
        );
    }
}

/// A payment is looked up on its key, not on a listing index, on a PostgreSQL table never
/// analysed (a fresh ledger under its first burst): with a listing index fixing two of the
/// lookup's columns the planner once took it, and each lookup walked the provider's payments
/// (the receiver at a fifth of its rate; BENCHMARKS.md).
#[tokio::test]
async fn a_payment_lookup_uses_the_key_before_any_statistics() {
    let Some(url) = common::postgres_url("plans").await else {
        return;
    };
    let _ledger = Ledger::open(&url).await.unwrap();
    common::execute(
        &url,
        "INSERT INTO payments (merchant, provider, reference, status, amount, currency, created_at, updated_at) \
         SELECT '', 'card-charging', 'r' || g, 'pending', '50000', 'VND', g, g FROM generate_series(1, 20000) g",
    )
    .await;
    let pool = common::database(&url).await;
    for lookup in [
        "SELECT status FROM payments WHERE merchant = '' AND provider = 'card-charging' AND reference = 'r7'",
        "SELECT status FROM payments p WHERE merchant = '' AND provider = 'card-charging' AND reference = 'r7' FOR UPDATE OF p",
    ] {
        let plan: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {lookup}")))
                .fetch_all(&pool)
                .await
                .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("payments_pkey"), "{lookup}:\n{plan}");
    }
    pool.close().await;
}
