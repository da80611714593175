//! What the receiver's test files share: a shop handler that counts, fails or waits on cue,
//! the receiver served on a port of its own, the ledgers, a recorded payment, a signed card
//! callback and a plain POST.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_core::{Currency, Money, PaymentStatus};
use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
use paybridge_ledger::{Ledger, NewPayment};
use secrecy::SecretString;
use tokio::sync::Notify;

pub const KEY: &str = "partner-key";

/// Counts effects; fails the first `fail` calls; waits for `gate` when set.
#[derive(Default)]
pub struct Shop {
    pub effects: std::sync::Mutex<Vec<String>>,
    pub fail: AtomicUsize,
    pub gate: Option<Arc<Notify>>,
    /// Handler calls begun.
    pub entered: AtomicUsize,
    /// Each change handled: its reference, status and anomaly.
    pub changes: std::sync::Mutex<Vec<(String, PaymentStatus, Option<paybridge_ledger::Anomaly>)>>,
}

#[async_trait::async_trait]
impl CallbackHandler for Shop {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.notified().await;
        }
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("the shop's database is down".into());
        }
        self.effects
            .lock()
            .unwrap()
            .push(callback.key.clone().unwrap_or_default());
        self.changes.lock().unwrap().push((
            callback.change.reference.clone(),
            callback.change.status,
            callback.change.anomaly,
        ));
        Ok(())
    }
}

/// `router` served on a port of its own: its base URL.
pub async fn served(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

pub async fn serve(ledger: Arc<Ledger>, shop: Arc<Shop>) -> String {
    serve_with(ledger, shop, std::time::Duration::from_mins(1)).await
}

pub async fn serve_with(
    ledger: Arc<Ledger>,
    shop: Arc<Shop>,
    lease: std::time::Duration,
) -> String {
    let router = Receiver::new(ledger, shop)
        .lease(lease)
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                KEY,
            )),
        )
        .mount(paybridge_payoo::route::Route::new(SecretString::from(KEY)))
        .mount(paybridge_linkifier_ipn::route::Route::new(
            paybridge_linkifier_ipn::CallbackVerifier::new(SecretString::from(
                paybridge_linkifier_ipn::sandbox::SANDBOX_KEY,
            )),
        ))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    base
}

pub async fn ledgers() -> Vec<Arc<Ledger>> {
    ledgers_at().await.into_iter().map(|(_, l)| l).collect()
}

/// The ledgers with their URLs (for a test that also reaches their database itself).
pub async fn ledgers_at() -> Vec<(String, Arc<Ledger>)> {
    let mut out = Vec::new();
    for (_, url) in super::ledger_urls("receive").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        out.push((url, ledger));
    }
    out
}

/// Record a pending payment, as a shop does before it charges.
pub async fn expect_payment(
    ledger: &Ledger,
    provider: &str,
    reference: &str,
    amount: &str,
    currency: Currency,
) {
    ledger
        .record_payment(&NewPayment::new(
            provider,
            reference,
            PaymentStatus::Pending,
            Money::parse(amount, currency).unwrap(),
        ))
        .await
        .unwrap();
}

pub fn card_callback(request_id: &str, status: u8, sign_key: &str) -> String {
    let (code, serial) = ("312821445892981", "10004783347874");
    let sign = paybridge_card_charging::callback_sign(sign_key, code, serial);
    format!(
        r#"{{"status":{status},"message":"ok","request_id":"{request_id}","declared_value":50000,"value":50000,"amount":35000,"code":"{code}","serial":"{serial}","telco":"VIETTEL","trans_id":7,"callback_sign":"{sign}"}}"#
    )
}

pub async fn post(
    base: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> (u16, String, Option<String>) {
    let t = HttpTransport::with_defaults().unwrap();
    let r = t
        .send(
            HttpRequest::post(format!("{base}{path}"), body)
                .header(http::header::CONTENT_TYPE, content_type)
                .idempotent(true),
        )
        .await
        .unwrap();
    let retry_after = r.header("retry-after").map(str::to_owned);
    (
        r.status,
        String::from_utf8_lossy(&r.body).into_owned(),
        retry_after,
    )
}

/// One delivery, never retried by the transport (`post` marks its requests idempotent, so a
/// `503` would be retried under the test's feet).
pub async fn post_once(base: &str, path: &str, body: String) -> u16 {
    HttpTransport::with_defaults()
        .unwrap()
        .send(
            HttpRequest::post(format!("{base}{path}"), body)
                .header(http::header::CONTENT_TYPE, "application/json"),
        )
        .await
        .unwrap()
        .status
}
