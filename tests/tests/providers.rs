//! Every provider is usable behind `Arc<dyn PaymentProvider>`, and unsupported operations say
//! so both up front (capabilities) and when called (`Error::Unsupported`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;

use paybridge_core::{
    Capabilities, Currency, Error, Money, PaymentProvider, PaymentRef, PaymentRequest,
    RawNotification,
};

/// A provider that implements nothing: the trait's defaults must all refuse.
struct NothingProvider;

#[async_trait::async_trait]
impl PaymentProvider for NothingProvider {
    fn id(&self) -> &'static str {
        "nothing"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
}

/// Every provider crate's implementation, configured against an address where nothing
/// listens: capabilities must hold without any network success.
fn all_providers() -> Vec<Arc<dyn PaymentProvider>> {
    let transport = paybridge_core::http::HttpTransport::with_defaults().unwrap();
    let card = paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(
            "http://127.0.0.1:9/chargingws/v2",
            "partner",
            secrecy::SecretString::from("key"),
        ),
        transport,
    )
    .unwrap();
    let woopay = paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(
            "http://127.0.0.1:9/api/wsd/",
            "merchant",
            secrecy::SecretString::from("password"),
        ),
        paybridge_core::http::HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let qvickly =
        paybridge_qvickly::CallbackVerifier::new(None, &secrecy::SecretString::from("secret"))
            .unwrap();
    let payoo = paybridge_payoo::Client::new(
        paybridge_payoo::Config::new(
            "http://127.0.0.1:9/CallerServices.asmx",
            paybridge_tests::fixtures::dummy_payoo_credentials(),
        ),
        paybridge_core::http::HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    vec![
        Arc::new(NothingProvider),
        Arc::new(paybridge_payoo::PayooProvider::new(
            payoo,
            secrecy::SecretString::from("k"),
            1,
            paybridge_core::Stores::in_memory(),
        )),
        Arc::new(paybridge_card_charging::CardChargingProvider::new(
            card,
            paybridge_core::Stores::in_memory(),
        )),
        Arc::new(paybridge_woopay::WoopayProvider::new(
            woopay,
            paybridge_core::Stores::in_memory(),
        )),
        Arc::new(paybridge_qvickly::QvicklyProvider::new(
            qvickly,
            paybridge_core::Stores::in_memory(),
        )),
    ]
}

#[tokio::test]
async fn providers_live_behind_one_trait_object() {
    let providers = all_providers();
    let mut ids: Vec<_> = providers.iter().map(|p| p.id()).collect();
    ids.dedup();
    assert_eq!(ids.len(), providers.len(), "provider ids must be unique");
    for p in providers {
        let caps = p.capabilities();
        let req = PaymentRequest::new("ref-1", Money::parse("50000", Currency::VND).unwrap());
        let created = p.create_payment(req).await;
        assert_eq!(
            caps.create_payment,
            !matches!(created, Err(Error::Unsupported { .. }))
        );
        let status = p.payment_status(&PaymentRef::merchant("ref-1")).await;
        assert_eq!(
            caps.payment_status,
            !matches!(status, Err(Error::Unsupported { .. }))
        );
        let note = p.verify_notification(&RawNotification::get("a=b")).await;
        assert_eq!(
            caps.notifications,
            !matches!(note, Err(Error::Unsupported { .. }))
        );
        let refund = p
            .refund(
                &PaymentRef::merchant("ref-1"),
                paybridge_core::RefundRequest::full("ref-1-r1"),
            )
            .await;
        assert_eq!(
            caps.refund,
            !matches!(refund, Err(Error::Unsupported { .. }))
        );
        let cancel = p.cancel(&PaymentRef::merchant("ref-1")).await;
        assert_eq!(
            caps.cancel,
            !matches!(cancel, Err(Error::Unsupported { .. }))
        );
    }
}
