//! Providers that keep their payments in the ledger find them again after a restart and from
//! another process: a card's `check` needs the card (sealed in the ledger), Wooppay's status
//! needs the operation id the invoice got.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use paybridge_core::http::HttpTransport;
use paybridge_core::{
    Currency, Money, PaymentMethod, PaymentProvider, PaymentRef, PaymentRequest, PaymentStatus,
    PrepaidCard,
};
use paybridge_ledger::{Ledger, SealKey};
use secrecy::SecretString;

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

fn ledger_url(name: &str) -> String {
    let dir = std::env::temp_dir().join("paybridge-ledger-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}",
        dir.join(format!(
            "{name}-{}-{}.db",
            std::process::id(),
            paybridge_ledger::now_ms()
        ))
        .display()
    )
}

#[tokio::test]
async fn a_card_is_checked_after_a_restart_through_the_ledger() {
    use paybridge_card_charging::sandbox::{
        ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
    };
    use paybridge_card_charging::{CardChargingProvider, Client, Config};
    let sim = Simulator::new().unwrap();
    let endpoint = format!("{}{ENDPOINT_PATH}", serve(sim.router()).await);
    let client = || {
        Client::new(
            Config::new(
                &endpoint,
                SANDBOX_PARTNER_ID,
                SecretString::from(SANDBOX_PARTNER_KEY),
            ),
            HttpTransport::with_defaults().unwrap(),
        )
        .unwrap()
    };
    let url = ledger_url("card");
    let key = SealKey::new(&[5; 32]);
    let rid = format!("ledger-{}", paybridge_ledger::now_ms());
    {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap().with_seal_key(key.clone()));
        let provider = CardChargingProvider::new(
            client(),
            paybridge_core::Stores::in_memory().records(ledger),
        );
        // Last digit 9: pending, then success.
        let request = PaymentRequest::new(&rid, Money::parse("50000", Currency::VND).unwrap())
            .with_method(PaymentMethod::PrepaidCard(PrepaidCard::new(
                "VIETTEL",
                "10004783347874",
                SecretString::from("312821445892989"),
            )));
        let session = provider.create_payment(request).await.unwrap();
        assert_eq!(session.state.status, PaymentStatus::Pending);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another process: a new ledger handle, a new provider, nothing in memory.
    let ledger = Arc::new(Ledger::open(&url).await.unwrap().with_seal_key(key));
    let provider = CardChargingProvider::new(
        client(),
        paybridge_core::Stores::in_memory().records(ledger.clone()),
    );
    assert!(provider.capabilities().payment_status);
    let state = provider
        .payment_status(&PaymentRef::merchant(&rid))
        .await
        .unwrap();
    assert_eq!(state.status, PaymentStatus::Succeeded);
    // Without the seal key the card cannot be read: the provider does not offer a status
    // check, and one asked anyway says why it fails.
    let blind = CardChargingProvider::new(
        client(),
        paybridge_core::Stores::in_memory().records(Arc::new(Ledger::open(&url).await.unwrap())),
    );
    let offered = blind.capabilities();
    assert!(!offered.payment_status && offered.create_payment && offered.notifications);
    assert!(
        blind
            .payment_status(&PaymentRef::merchant(&rid))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_wooppay_invoice_is_found_after_a_restart_through_the_ledger() {
    use paybridge_woopay::sandbox::{ENDPOINT_PATH, SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
    use paybridge_woopay::{Client, Config as WoopayConfig, WoopayProvider};
    let sim = Simulator::new().unwrap();
    let endpoint = format!("{}{ENDPOINT_PATH}", serve(sim.router()).await);
    let client = || {
        Client::new(
            WoopayConfig::new(
                endpoint.clone(),
                SANDBOX_USERNAME,
                SecretString::from(SANDBOX_PASSWORD),
            ),
            HttpTransport::with_defaults().unwrap(),
        )
        .unwrap()
    };
    let url = ledger_url("woopay");
    let reference = format!("inv-{}", paybridge_ledger::now_ms());
    {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        let provider = WoopayProvider::new(
            client(),
            paybridge_core::Stores::in_memory().records(ledger),
        );
        let mut request =
            PaymentRequest::new(&reference, Money::parse("100", Currency::KZT).unwrap());
        request.return_url = Some("https://shop.example/back".into());
        request.notify_url = Some("https://shop.example/paid".into());
        provider.create_payment(request).await.unwrap();
    }
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    let provider = WoopayProvider::new(
        client(),
        paybridge_core::Stores::in_memory().records(ledger.clone()),
    );
    let state = provider
        .payment_status(&PaymentRef::merchant(&reference))
        .await
        .unwrap();
    assert_eq!(state.status, PaymentStatus::Pending);
    assert!(state.payment.provider_reference.is_some());
    let recorded = ledger.payment("woopay", &reference).await.unwrap().unwrap();
    assert_eq!(
        recorded.payment.provider_reference,
        state.payment.provider_reference
    );
}
