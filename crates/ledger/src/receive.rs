//! One axum router for every provider's callbacks, over a ledger (feature `axum`).
//!
//! Each route verifies the callback through its provider crate; the ledger records the delivery
//! and decides, in one transaction, whether it changes the payment's state (money checked: see
//! the crate's front page); every open change of the payment is claimed under a fenced lease,
//! handed to the merchant's handler ([`CallbackHandler`], or a [`TransactionalHandler`] in the
//! ledger's own transaction) and completed — and only then is the provider answered what it
//! expects:
//!
//! | route | provider | acknowledgement |
//! |---|---|---|
//! | `POST`/`GET /card-charging/callback` | card gateways (JSON, form or query) | `200 OK` |
//! | `POST /qvickly/callback` | Qvickly (JSON, form or XML) | `200 OK` |
//! | `POST /payoo/notify` | Payoo `NotifyData` | `200 NOTIFY_RECEIVED` |
//! | `POST /linkifier/ipn` | Linkifier `IPNEventRaised` | `IPNEventRaisedResponse`, in the request's SOAP version |
//! | `GET /woopay/request-url?reference=R` | Wooppay `requestUrl` (unsigned) | `{"data":1}` |
//!
//! Wooppay's call proves nothing by itself: the reference's operation id comes from the
//! ledger (recorded when the invoice was created), and the payment is recorded only once
//! `cash_getOperationData` says status 4; any other status is answered `503`, so Wooppay
//! calls again.
//!
//! What the provider is told otherwise: a bad signature → `401`, a body that is no callback →
//! `400` (neither is recorded); a body over 64 KiB → `413`, one that does not arrive within the
//! body deadline → `408`; a handler error → the change is released, `500` (the provider
//! retries); news that changes nothing (a duplicate, another word for the same state, a lower
//! state) → the acknowledgement, the handler not called; a payment the ledger does not hold →
//! the acknowledgement, recorded as `unknown_payment`; another worker handling the same change →
//! `503` with `Retry-After`; a ledger that cannot be written → `503` (retry). A sender that hangs
//! up does not stop the processing. [`serve`] runs the router hardened for the open internet.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use paybridge_core::{Notification, RawNotification, Verified};
use secrecy::SecretString;

use crate::{Ledger, LedgerError, Outcome};

pub use crate::HandlerError;
use crate::{Applied, Change, ChangeLease, InTransaction, LedgerTx};

/// A change of a payment's state, handed to the merchant with the verified callback that
/// reported it (or, when an earlier delivery left the change open, the one that came now).
#[derive(Debug, Clone)]
pub struct Callback {
    /// Provider id (`"card-charging"`, `"qvickly"`, `"payoo"`, `"linkifier-ipn"`).
    pub provider: &'static str,
    /// The callback's natural key in the ledger.
    pub key: String,
    /// The verified, normalized notification.
    pub notification: Verified<Notification>,
    /// The change to act on: credit on `status == succeeded` with `amount`; look at
    /// `anomaly` when the status is `needs_review`.
    pub change: Change,
    /// The claim's fencing token (it only grows): store it with your write, keyed by
    /// [`Change::stable_id`], and refuse a write with a lower token.
    pub fence: i64,
}

/// What the merchant does with a payment's state change: credit the order, in its own
/// database. `Ok` means committed; the provider is acknowledged only after it.
///
/// **At least once, fenced.** The receiver calls it once per change in the normal case; after
/// a crash or a lost lease between your commit and the ledger's, the same change comes again
/// (same [`Change::stable_id`], a higher [`Callback::fence`]). Make your write idempotent on
/// the stable id — or use a [`TransactionalHandler`], which is exactly once.
#[async_trait::async_trait]
pub trait CallbackHandler: Send + Sync + 'static {
    /// Handle one change.
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError>;
}

/// A handler whose books live in the ledger's own database: it writes in the ledger's
/// transaction, and its effect commits together with the change's completion — **exactly
/// once**: a crash, a lost lease or an error rolls both back and the change comes again.
/// Keep it short and local (no network calls inside a transaction).
#[async_trait::async_trait]
pub trait TransactionalHandler: Send + Sync + 'static {
    /// Handle one change inside `tx`.
    async fn handle(&self, tx: LedgerTx<'_>, callback: &Callback) -> Result<(), HandlerError>;
}

/// The merchant's handler, of either kind.
#[derive(Clone)]
enum Handler {
    Plain(Arc<dyn CallbackHandler>),
    Transactional(Arc<dyn TransactionalHandler>),
}

/// A [`TransactionalHandler`] with its callback, as the ledger's [`InTransaction`] work.
struct InTx<'a> {
    handler: &'a dyn TransactionalHandler,
    callback: &'a Callback,
}

#[async_trait::async_trait]
impl InTransaction for InTx<'_> {
    async fn run(&self, tx: LedgerTx<'_>, _change: &Change) -> Result<(), HandlerError> {
        self.handler.handle(tx, self.callback).await
    }
}

/// The route paths, by provider.
pub const ROUTES: [(&str, &str); 5] = [
    ("card-charging", "/card-charging/callback"),
    ("qvickly", "/qvickly/callback"),
    ("payoo", "/payoo/notify"),
    ("linkifier-ipn", "/linkifier/ipn"),
    ("woopay", "/woopay/request-url"),
];

/// The receiver's configuration: the ledger, the handler, and each provider's verifier
/// (a provider without one has no route).
#[derive(Clone)]
pub struct Receiver {
    ledger: Arc<Ledger>,
    handler: Handler,
    lease: Duration,
    body_timeout: Duration,
    card: Option<Arc<paybridge_card_charging::CallbackVerifier>>,
    card_check: Option<paybridge_card_charging::Client>,
    qvickly: Option<Arc<paybridge_qvickly::CallbackVerifier>>,
    qvickly_accept_test: bool,
    payoo: Option<Arc<paybridge_payoo::CallbackVerifier>>,
    linkifier: Option<Arc<paybridge_linkifier_ipn::CallbackVerifier>>,
    woopay: Option<paybridge_woopay::Client>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("lease", &self.lease)
            .field("card", &self.card.is_some())
            .field("qvickly", &self.qvickly.is_some())
            .field("payoo", &self.payoo.is_some())
            .field("linkifier", &self.linkifier.is_some())
            .field("woopay", &self.woopay.is_some())
            .finish_non_exhaustive()
    }
}

/// A provider's verified callback, before it is claimed.
struct Checked {
    provider: &'static str,
    key: String,
    notification: Verified<Notification>,
    ack: Response,
}

impl Checked {
    /// A verified callback of `provider` under `key`, its state taken by `state`.
    fn new<T>(
        provider: &'static str,
        key: String,
        verified: Verified<T>,
        state: impl FnOnce(T) -> paybridge_core::PaymentState,
        ack: Response,
    ) -> Self {
        Self {
            provider,
            key,
            notification: verified.map(|v| Notification {
                state: state(v),
                duplicate: false,
            }),
            ack,
        }
    }
}

impl Receiver {
    /// A receiver over `ledger` calling `handler` once per state change (at least once,
    /// fenced: see [`CallbackHandler`]), with a 60 s lease renewed while the handler runs.
    pub fn new(ledger: Arc<Ledger>, handler: Arc<dyn CallbackHandler>) -> Self {
        Self::with_handler(ledger, Handler::Plain(handler))
    }

    /// A receiver whose handler writes in the ledger's transaction: exactly once (see
    /// [`TransactionalHandler`]).
    pub fn transactional(ledger: Arc<Ledger>, handler: Arc<dyn TransactionalHandler>) -> Self {
        Self::with_handler(ledger, Handler::Transactional(handler))
    }

    fn with_handler(ledger: Arc<Ledger>, handler: Handler) -> Self {
        Self {
            ledger,
            handler,
            lease: Duration::from_mins(1),
            body_timeout: SERVE_TIMEOUT,
            card: None,
            card_check: None,
            qvickly: None,
            qvickly_accept_test: false,
            payoo: None,
            linkifier: None,
            woopay: None,
        }
    }

    /// Receive Wooppay's `requestUrl` calls, confirmed with `client` (see the module docs).
    #[must_use]
    pub fn woopay(mut self, client: paybridge_woopay::Client) -> Self {
        self.woopay = Some(client);
        self
    }

    /// Another lease: how long a claimed change is held without renewal (the receiver renews it
    /// every third of it while a plain handler runs).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Another deadline for a request's body to arrive (default 10 s): a slower one is
    /// answered `408` and costs nothing more.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Receive card-gateway callbacks, each confirmed with the gateway through `client`
    /// (`check` with the same request id) before anything is recorded: `callback_sign` covers
    /// only the card (code and serial), not the status, the amounts or the request id. The
    /// callback is refused (`401`) when the gateway's status, face value, amount or
    /// transaction id disagree, or when the card is not the one the ledger recorded for that
    /// request id; a gateway that cannot be asked gets `503` (the gateway retries). The
    /// callbacks are verified with `client`'s partner key.
    #[must_use]
    pub fn card_charging(mut self, client: paybridge_card_charging::Client) -> Self {
        self.card = Some(Arc::new(client.callback_verifier()));
        self.card_check = Some(client);
        self
    }

    /// Receive card-gateway callbacks signed with `partner_key` **without** asking the
    /// gateway: the status, amounts and request id are then believed as sent, though no
    /// signature covers them — one failed card's callback, edited, can pay another order.
    /// The card must still be the one the ledger recorded for the request id. Logged as a
    /// warning; use only where the gateway offers no `check`.
    #[must_use]
    pub fn card_charging_trusting_unsigned_status(mut self, partner_key: SecretString) -> Self {
        tracing::warn!(
            "card callbacks are not confirmed with the gateway: their status and amounts are unsigned"
        );
        self.card = Some(Arc::new(paybridge_card_charging::CallbackVerifier::new(
            partner_key,
        )));
        self.card_check = None;
        self
    }

    /// Receive Qvickly callbacks. A test-mode callback (`credentials.test`) is acknowledged
    /// and never handed to the handler (nothing is credited) unless
    /// [`qvickly_accept_test`](Self::qvickly_accept_test).
    #[must_use]
    pub fn qvickly(mut self, verifier: paybridge_qvickly::CallbackVerifier) -> Self {
        self.qvickly = Some(Arc::new(verifier));
        self
    }

    /// Hand test-mode Qvickly callbacks to the handler like live ones (a test shop).
    #[must_use]
    pub fn qvickly_accept_test(mut self, accept: bool) -> Self {
        self.qvickly_accept_test = accept;
        self
    }

    /// Receive Payoo `NotifyData` signed with `checksum_key`.
    #[must_use]
    pub fn payoo(mut self, checksum_key: SecretString) -> Self {
        self.payoo = Some(Arc::new(paybridge_payoo::CallbackVerifier::new(
            checksum_key,
        )));
        self
    }

    /// Receive Linkifier IPNs.
    #[must_use]
    pub fn linkifier(mut self, receiver: paybridge_linkifier_ipn::CallbackVerifier) -> Self {
        self.linkifier = Some(Arc::new(receiver));
        self
    }

    /// The router: one route per configured provider (see the module docs).
    pub fn router(self) -> Router {
        let mut router = Router::new();
        if self.card.is_some() {
            router = router.route(
                "/card-charging/callback",
                get(card_callback).post(card_callback),
            );
        }
        if self.qvickly.is_some() {
            router = router.route("/qvickly/callback", post(qvickly_callback));
        }
        if self.payoo.is_some() {
            router = router.route("/payoo/notify", post(payoo_notify));
        }
        if self.linkifier.is_some() {
            router = router.route("/linkifier/ipn", post(linkifier_ipn));
        }
        if self.woopay.is_some() {
            router = router.route("/woopay/request-url", get(woopay_request_url));
        }
        // Callbacks are small and quick: a body over core's callback limit is refused (413)
        // before it is read further, one that does not arrive in time is refused (408).
        let body_timeout = self.body_timeout;
        router
            .layer(axum::middleware::from_fn(move |req, next| {
                read_body_within(req, next, body_timeout)
            }))
            .with_state(self)
    }

    /// Record the delivery and its state change, hand every open change of the payment to the
    /// handler, then acknowledge (see the module docs). Runs to the end in a task of its own:
    /// a sender that hangs up does not cut it between the handler and the ledger's commit.
    async fn process(&self, checked: Result<Checked, paybridge_core::Error>) -> Response {
        let checked = match checked {
            Ok(c) => c,
            Err(e) => return refused(&e),
        };
        let this = self.clone();
        match tokio::spawn(async move { this.settle(checked).await }).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "callback processing panicked; the provider will retry");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "processing failed; retry",
                )
                    .into_response()
            }
        }
    }

    async fn settle(&self, checked: Checked) -> Response {
        let Checked {
            provider,
            key,
            notification,
            ack,
        } = checked;
        let state = &notification.state;
        let mut outcome = Outcome::new(
            state.payment.reference.clone(),
            state.status,
            state.provider_status.clone(),
        );
        outcome.amount = state.amount;
        let applied = match self.ledger.deliver(provider, &key, &outcome).await {
            Ok((_, applied)) => applied,
            Err(e) => return ledger_down(&e),
        };
        if applied == Applied::UnknownPayment {
            tracing::warn!(provider, reference = %outcome.reference, "verified callback for a payment the ledger does not hold: recorded as unknown_payment, not handed out");
            return ack;
        }
        // This report's change, and any an earlier delivery left open (its handler failed,
        // or its process died before completing).
        let changes = match self.ledger.open_changes(provider, &outcome.reference).await {
            Ok(changes) => changes,
            Err(e) => return ledger_down(&e),
        };
        for change in changes {
            let callback = Callback {
                provider,
                key: key.clone(),
                notification: notification.clone(),
                change,
                fence: 0,
            };
            if let Err(answer) = self.hand_out(callback).await {
                return answer;
            }
        }
        ack
    }

    /// Claim one change, run the handler, complete it under the claim's fence.
    async fn hand_out(&self, mut callback: Callback) -> Result<(), Response> {
        let claim = match self.ledger.claim_change(&callback.change, self.lease).await {
            Ok(Some(claim)) => claim,
            // Another worker holds it: the provider retries (and finds it done, or free).
            Ok(None) => return Err(retry_later(crate::now_ms() + 1_000)),
            Err(e) => return Err(ledger_down(&e)),
        };
        callback.fence = claim.fence;
        let handled = match &self.handler {
            Handler::Plain(handler) => {
                let renewer = self.renew_while_handling(claim.clone());
                let result = handler.handle(&callback).await;
                renewer.abort();
                match result {
                    Ok(()) => self.ledger.complete_change(&claim).await.map(|()| Ok(())),
                    Err(e) => Ok(Err(e)),
                }
            }
            Handler::Transactional(handler) => {
                let work = InTx {
                    handler: handler.as_ref(),
                    callback: &callback,
                };
                self.ledger.complete_change_with(&claim, &work).await
            }
        };
        match handled {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(provider = callback.provider, change = %callback.change.stable_id(), error = %e, "handler failed; the change stays open for the provider's retry");
                let _ = self.ledger.release_change(&claim).await;
                Err((StatusCode::INTERNAL_SERVER_ERROR, "handler failed; retry").into_response())
            }
            Err(e @ LedgerError::LeaseLost { .. }) => Err(retry_later_for(&e)),
            Err(e) => Err(ledger_down(&e)),
        }
    }

    /// Renew `claim` every third of the lease until aborted; a renewal refused (the lease was
    /// lost) stops it, and the completion will be refused too.
    fn renew_while_handling(&self, mut claim: ChangeLease) -> tokio::task::JoinHandle<()> {
        let (ledger, lease) = (self.ledger.clone(), self.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                if let Err(e) = ledger.renew_change(&mut claim, lease).await {
                    tracing::warn!(change = %claim.change.stable_id(), error = %e, "lease not renewed");
                    return;
                }
            }
        })
    }
}

/// The deadline for a request's headers, and for its body (the contract's 10 s).
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1_024;

/// How long a stopping server waits for the callbacks in hand.
const DRAIN: Duration = Duration::from_secs(30);

/// Read the whole body under core's callback limit within `timeout`, then go on.
async fn read_body_within(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    timeout: Duration,
) -> Response {
    let (parts, body) = req.into_parts();
    let limit = paybridge_core::limits::Limits::CALLBACK.max_bytes;
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a callback body is at most {limit} bytes"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive in time",
        )
            .into_response(),
    }
}

/// Where [`serve`] draws the line for slow, idle or many clients.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServeLimits {
    /// Deadline for a request's headers; a connection idle for as long is closed.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_timeout: SERVE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// Serve `router` (a [`Receiver::router`]) on `listener` until `shutdown` resolves, hardened
/// for the open internet: headers must arrive within 10 s, a connection serves one callback
/// and closes (an idle one is closed after 10 s), at most 1 024 connections at once, the
/// peer's address available to the routes (Payoo's JSON notification is signed over it).
/// On `shutdown` it stops accepting and waits (up to 30 s) for the callbacks in hand.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeLimits::default()).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send,
    limits: ServeLimits,
) -> std::io::Result<()> {
    let max = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let permits = Arc::new(tokio::sync::Semaphore::new(max as usize));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A failed accept (out of descriptors, a reset) is not fatal: go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                // One callback per connection: nothing is left idle between requests.
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    // Stopped accepting: let the callbacks in hand finish.
    let _ = tokio::time::timeout(DRAIN, permits.acquire_many(max)).await;
    Ok(())
}

fn refused(e: &paybridge_core::Error) -> Response {
    let status = match e.kind() {
        paybridge_core::ErrorKind::Signature => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, e.to_string()).into_response()
}

fn retry_later(until_ms: i64) -> Response {
    let seconds = (until_ms - crate::now_ms()).max(1_000) / 1_000;
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, seconds.to_string())],
        "being handled; retry later",
    )
        .into_response()
}

fn retry_later_for(e: &LedgerError) -> Response {
    tracing::warn!(error = %e, "lease lost while handling; another delivery will acknowledge");
    retry_later(crate::now_ms() + 1_000)
}

fn ledger_down(e: &LedgerError) -> Response {
    tracing::error!(error = %e, "ledger cannot be written; the provider will retry");
    (StatusCode::SERVICE_UNAVAILABLE, "ledger unavailable; retry").into_response()
}

fn ok(body: &'static str) -> Response {
    (StatusCode::OK, body).into_response()
}

fn raw(method: Method, query: Option<String>, headers: HeaderMap, body: Bytes) -> RawNotification {
    RawNotification {
        method,
        query: query.unwrap_or_default(),
        headers,
        body,
        remote_addr: None,
    }
}

async fn card_callback(
    State(r): State<Receiver>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = (|| {
        let verifier = r
            .card
            .as_ref()
            .ok_or_else(|| paybridge_core::Error::config("card"))?;
        Ok::<_, paybridge_core::Error>(verifier.verify(&raw(method, query, headers, body))?)
    })();
    // The card must be the one recorded for this request id: the request id is unsigned,
    // and a genuine callback about one card, re-addressed, must not touch another payment.
    if let Ok(cb) = &verified {
        match r.ledger.payment("card-charging", &cb.request_id).await {
            Ok(Some(row)) => {
                if let Some(recorded) = row.payment.instrument.as_deref()
                    && recorded != cb.serial
                {
                    return refused(&paybridge_core::Error::Signature(format!(
                        "the callback's card is not the card recorded for request {:?}",
                        cb.request_id
                    )));
                }
            }
            Ok(None) => {}
            Err(e) => return ledger_down(&e),
        }
    }
    if let (Ok(cb), Some(client)) = (&verified, &r.card_check)
        && let Err(e) = client.confirm_callback(cb).await
    {
        let e = paybridge_core::Error::from(e);
        return if e.kind() == paybridge_core::ErrorKind::Signature {
            refused(&e)
        } else {
            tracing::warn!(error = %e, "card callback not confirmed: the gateway could not be asked");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot confirm with the gateway; retry",
            )
                .into_response()
        };
    }
    let checked = verified.map(|cb| {
        let dedup = cb.dedup_key();
        Checked::new(
            "card-charging",
            dedup,
            cb,
            |cb| cb.state(),
            ok(paybridge_card_charging::notification::CALLBACK_ANSWER),
        )
    });
    r.process(checked).await
}

async fn qvickly_callback(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let checked = (|| {
        let verifier = r
            .qvickly
            .as_ref()
            .ok_or_else(|| paybridge_core::Error::config("qvickly"))?;
        let cb = verifier.verify(&raw(Method::POST, None, headers, body))?;
        if cb.test && !r.qvickly_accept_test {
            return Ok(None);
        }
        let dedup = cb.dedup_key()?;
        Ok(Some(Checked::new(
            "qvickly",
            dedup,
            cb,
            |cb| cb.state(),
            ok(paybridge_qvickly::notification::CALLBACK_ANSWER),
        )))
    })();
    if let Some(checked) = checked.transpose() {
        r.process(checked).await
    } else {
        // Acknowledged, so Qvickly stops delivering it; never credited.
        tracing::warn!(
            "test-mode Qvickly callback acknowledged and not credited (accept with qvickly_accept_test / PAYBRIDGE_QVICKLY_ACCEPT_TEST=1)"
        );
        ok(paybridge_qvickly::notification::CALLBACK_ANSWER)
    }
}

async fn payoo_notify(
    State(r): State<Receiver>,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Response {
    // Payoo's JSON form is signed over the address it called from: the peer's, when the
    // server was started with connect info (`into_make_service_with_connect_info`).
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let checked = (|| {
        let verifier = r
            .payoo
            .as_ref()
            .ok_or_else(|| paybridge_core::Error::config("payoo"))?;
        let n = verifier.verify_body_from(&body, peer)?;
        let (dedup, state) = (n.dedup_key(), n.state()?);
        Ok(Checked::new(
            "payoo",
            dedup,
            n,
            |_| state,
            ok(paybridge_payoo::NOTIFY_RECEIVED),
        ))
    })();
    r.process(checked).await
}

async fn woopay_request_url(State(r): State<Receiver>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let Some(reference) = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "reference")
        .map(|(_, v)| v.into_owned())
    else {
        return (StatusCode::BAD_REQUEST, "no reference in the requestUrl").into_response();
    };
    let Some(client) = &r.woopay else {
        return (StatusCode::NOT_FOUND, "woopay is not configured").into_response();
    };
    let operation = match r.ledger.payment("woopay", &reference).await {
        Ok(Some(p)) => p
            .payment
            .provider_reference
            .and_then(|id| id.parse::<i64>().ok()),
        Ok(None) => None,
        Err(e) => return ledger_down(&e),
    };
    let Some(id) = operation else {
        return (
            StatusCode::BAD_REQUEST,
            format!("the ledger knows no Wooppay invoice {reference:?}"),
        )
            .into_response();
    };
    let checked = match client.confirm_payment(id).await {
        Ok(op) => Ok(Checked::new(
            "woopay",
            format!("{id}:4"),
            op,
            |op| op.state(&reference),
            (
                [(header::CONTENT_TYPE, "application/json")],
                paybridge_woopay::REQUEST_URL_ANSWER,
            )
                .into_response(),
        )),
        // Not paid (yet), or Wooppay unreachable: Wooppay calls again.
        Err(e) => {
            tracing::warn!(operation = id, error = %e, "requestUrl not confirmed");
            return (StatusCode::SERVICE_UNAVAILABLE, "not confirmed; retry").into_response();
        }
    };
    r.process(checked).await
}

async fn linkifier_ipn(State(r): State<Receiver>, body: Bytes) -> Response {
    let checked = (|| {
        let receiver = r
            .linkifier
            .as_ref()
            .ok_or_else(|| paybridge_core::Error::config("linkifier"))?;
        let (record, version) = receiver.verify_body(&body)?;
        let dedup = record.dedup_key()?;
        let answer = paybridge_linkifier_ipn::response_xml(
            version,
            &paybridge_linkifier_ipn::IpnResult {
                has_errors: false,
                error_code: 0,
                message: "IPN received".into(),
                extra_message: String::new(),
            },
        )?;
        let content_type = version.response_content_type();
        let ack = ([(header::CONTENT_TYPE, content_type)], answer).into_response();
        Ok(Checked::new(
            "linkifier-ipn",
            dedup,
            record,
            |r| receiver.state(&r),
            ack,
        ))
    })();
    r.process(checked).await
}
