//! One axum router for every provider's callbacks, over a ledger (feature `axum`).
//!
//! The receiver knows no provider by name: it serves the routes mounted on it
//! ([`Receiver::mount`]), each a provider crate's `route::Route` implementing core's
//! [`CallbackRoute`] (verify, confirm with the provider where its signature leaves something
//! unsigned, say what acknowledges it), e.g.
//! `Receiver::new(ledger, handler).mount(paybridge_card_charging::route::Route::confirmed(client))`.
//! Each route verifies the callback; the ledger records the delivery
//! and decides, in one transaction, whether it changes the payment's state (money checked: see
//! the crate's front page); the change is handed to the merchant's handler from that same
//! transaction — a [`TransactionalHandler`] runs in it (one commit for everything), a
//! [`CallbackHandler`] runs after it under the fenced lease the change was written with, then
//! the change is completed — and any change an earlier delivery left open is claimed, handled
//! and completed first, in order. Only then is the provider answered what it expects:
//!
//! The provider crates' routes:
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
//! body deadline → `408`; a handler error → the change is left open (a transactional
//! handler's writes rolled back), `500` (the provider retries); news that changes nothing (a duplicate, another word for the same state, a lower
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
use paybridge_core::{
    Acknowledgement, CallbackReport, CallbackRoute, ErrorKind, RawNotification, Received,
};

use crate::error::LedgerError;
use crate::handler::{Handed, HandedOut, Handing, Handler, after_commit, hand_out};
use crate::reports::{Applied, Outcome};
use crate::store::Ledger;

pub use crate::handler::{Callback, CallbackHandler, HandlerError, TransactionalHandler};
pub use crate::merchant_routes::{MerchantRoutes, MerchantTable};

/// The receiver's configuration: the ledger, the handler, and each provider's verifier
/// (a provider without one has no route).
#[derive(Clone)]
pub struct Receiver {
    ledger: Arc<Ledger>,
    handler: Handler,
    lease: Duration,
    body_timeout: Duration,
    routes: Vec<Arc<dyn CallbackRoute>>,
    merchants: Option<Arc<crate::merchant_routes::Merchants>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("lease", &self.lease)
            .field("routes", &self.routes())
            .finish_non_exhaustive()
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
            routes: Vec::new(),
            merchants: None,
        }
    }

    /// Serve a platform's merchants beside the mounted routes: `/m/{merchant}/` + each route's
    /// path, for every merchant `factory` builds routes for (read again at most every
    /// [`crate::merchant_routes::REFRESH`]), each callback verified by that merchant's routes
    /// only and recorded under that merchant ([`Ledger::for_merchant`]) — see
    /// [`crate::merchant_routes`].
    #[must_use]
    pub fn merchants(self, factory: Arc<dyn MerchantRoutes>) -> Self {
        self.merchants_every(factory, crate::merchant_routes::REFRESH)
    }

    /// [`Receiver::merchants`], the table read again at most every `refresh`.
    #[must_use]
    pub fn merchants_every(mut self, factory: Arc<dyn MerchantRoutes>, refresh: Duration) -> Self {
        self.merchants = Some(Arc::new(crate::merchant_routes::Merchants::new(
            factory, refresh,
        )));
        self
    }

    /// The registered merchants' routes now, by merchant: each one the factory knows (with
    /// no routes when its settings make none), each route as (provider, path with its
    /// `/m/{merchant}` prefix). Empty without [`Receiver::merchants`].
    pub async fn merchant_routes(
        &self,
    ) -> paybridge_core::Result<std::collections::BTreeMap<String, Vec<(&'static str, String)>>>
    {
        let Some(merchants) = &self.merchants else {
            return Ok(std::collections::BTreeMap::new());
        };
        let table = merchants.table(&self.ledger).await?;
        Ok(table
            .iter()
            .map(|(id, routes)| {
                let paths = routes
                    .iter()
                    .map(|r| (r.provider(), format!("/m/{id}{}", r.path())))
                    .collect();
                (id.clone(), paths)
            })
            .collect())
    }

    /// A callback on merchant `merchant`'s route `path`: verified by that merchant's route and
    /// processed by a receiver over that merchant's ledger; `404` for a merchant or route that
    /// is not registered.
    async fn process_merchant(&self, merchant: &str, path: &str, raw: RawNotification) -> Response {
        let Some(merchants) = &self.merchants else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let table = match merchants.table(&self.ledger).await {
            Ok(table) => table,
            Err(e) => return refused(&e),
        };
        let Some(route) = crate::merchant_routes::route_of(&table, merchant, path, &raw.method)
        else {
            return (StatusCode::NOT_FOUND, "no such merchant route").into_response();
        };
        let ledger = match self.ledger.for_merchant(merchant) {
            Ok(ledger) => Arc::new(ledger),
            Err(e) => return ledger_down(&e),
        };
        // The merchant's receiver: its ledger, this one's handler and deadlines (not a copy of
        // the default routes or the table: it serves only `route`).
        let scoped = Self {
            ledger,
            handler: self.handler.clone(),
            lease: self.lease,
            body_timeout: self.body_timeout,
            routes: Vec::new(),
            merchants: None,
        };
        scoped.process(route, raw).await
    }

    /// Serve one provider's callbacks: each provider crate's `route::Route` (the receiver
    /// knows no provider by name).
    #[must_use]
    pub fn mount(self, route: impl CallbackRoute) -> Self {
        self.mount_shared(Arc::new(route))
    }

    /// [`Receiver::mount`] a route already shared (built from a registry of providers, each
    /// giving its route as a trait object).
    #[must_use]
    pub fn mount_shared(mut self, route: Arc<dyn CallbackRoute>) -> Self {
        self.routes.push(route);
        self
    }

    /// The mounted routes: (provider, path).
    #[must_use]
    pub fn routes(&self) -> Vec<(&'static str, &'static str)> {
        self.routes
            .iter()
            .map(|r| (r.provider(), r.path()))
            .collect()
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

    /// The router: one route per configured provider (see the module docs).
    pub fn router(self) -> Router {
        let mut router = Router::new();
        for route in &self.routes {
            let mut methods = axum::routing::MethodRouter::new();
            for method in route.methods() {
                let Ok(filter) = axum::routing::MethodFilter::try_from(method.clone()) else {
                    continue;
                };
                let route = route.clone();
                methods = methods.on(
                    filter,
                    move |State(r): State<Receiver>,
                          method: Method,
                          RawQuery(query): RawQuery,
                          headers: HeaderMap,
                          extensions: axum::http::Extensions,
                          body: Bytes| {
                        let route = route.clone();
                        async move {
                            let raw = raw_of(method, query, headers, &extensions, body);
                            r.process(route, raw).await
                        }
                    },
                );
            }
            router = router.route(route.path(), methods);
        }
        if self.merchants.is_some() {
            router = router.route(
                "/m/{merchant}/{*path}",
                axum::routing::any(
                    |State(r): State<Receiver>,
                     axum::extract::Path((merchant, path)): axum::extract::Path<(
                        String,
                        String,
                    )>,
                     method: Method,
                     RawQuery(query): RawQuery,
                     headers: HeaderMap,
                     extensions: axum::http::Extensions,
                     body: Bytes| async move {
                        let raw = raw_of(method, query, headers, &extensions, body);
                        r.process_merchant(&merchant, &path, raw).await
                    },
                ),
            );
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

    /// Verify through the route, record the delivery and its state change, hand every open
    /// change of the payment to the handler, then acknowledge (see the module docs). Runs to
    /// the end in a task of its own: a sender that hangs up does not cut it between the
    /// handler and the ledger's commit.
    async fn process(&self, route: Arc<dyn CallbackRoute>, raw: RawNotification) -> Response {
        let this = self.clone();
        let task = tokio::spawn(async move {
            let provider = route.provider();
            match route.receive(&raw, this.ledger.as_ref()).await {
                Err(e) => {
                    crate::metrics::callback(
                        provider,
                        match (&e, e.kind()) {
                            (
                                paybridge_core::Error::Storage { .. }
                                | paybridge_core::Error::Config { .. },
                                _,
                            ) => "unavailable",
                            (_, ErrorKind::Signature) => "refused",
                            (_, ErrorKind::Transport) => "unconfirmed",
                            _ => "invalid",
                        },
                    );
                    refused(&e)
                }
                Ok(Received::Ignore(ack) | Received::Retry(ack)) => {
                    crate::metrics::callback(provider, "ignored");
                    acknowledge(ack)
                }
                Ok(Received::Report(report)) => this.settle(route.provider(), report).await,
                Ok(Received::Duplicate {
                    key,
                    reference,
                    ack,
                }) => {
                    this.settle_duplicate(route.provider(), &key, &reference, ack)
                        .await
                }
                Ok(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unknown answer").into_response(),
            }
        });
        match task.await {
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

    /// A callback decided before: counted, its payment's open changes handed out (an earlier
    /// handler may have failed), acknowledged — the provider is not asked again.
    async fn settle_duplicate(
        &self,
        provider: &'static str,
        key: &str,
        reference: &str,
        ack: paybridge_core::Acknowledgement,
    ) -> Response {
        if let Err(e) = self.ledger.count_delivery(provider, key).await {
            return ledger_down(&e);
        }
        crate::metrics::callback(provider, "duplicate");
        match self
            .hand_out_open(provider, reference, Some(key.to_owned()), None)
            .await
        {
            Some(refusal) => refusal,
            None => acknowledge(ack),
        }
    }

    /// Hand every open change of a payment to the handler; `Some(answer)` when the provider
    /// must retry (another worker holds one, the handler failed, the ledger is down).
    async fn hand_out_open(
        &self,
        provider: &'static str,
        reference: &str,
        key: Option<String>,
        notification: Option<paybridge_core::Verified<paybridge_core::Notification>>,
    ) -> Option<Response> {
        // This report's change, and any an earlier delivery left open (its handler failed,
        // or its process died before completing).
        let changes = match self.ledger.open_changes(provider, reference).await {
            Ok(changes) => changes,
            Err(e) => return Some(ledger_down(&e)),
        };
        for change in changes {
            let mut callback = Callback::new(provider, change, None);
            callback.key.clone_from(&key);
            callback.notification.clone_from(&notification);
            let handed = hand_out(&self.ledger, &self.handler, self.lease, callback).await;
            if let Some(refusal) = retry_for(provider, handed) {
                return Some(refusal);
            }
        }
        None
    }

    async fn settle(&self, provider: &'static str, report: CallbackReport) -> Response {
        let CallbackReport {
            key,
            notification,
            ack,
        } = report;
        let ack = acknowledge(ack);
        let state = &notification.state;
        let mut outcome = Outcome::new(
            state.payment.reference.clone(),
            state.status,
            state.provider_status.clone(),
        );
        outcome.amount = state.amount;
        let handing = Handing::by(&self.handler, self.lease);
        let reported_by = (key, notification);
        let delivered = self
            .ledger
            .deliver_handing(provider, &reported_by.0, &outcome, handing, &reported_by)
            .await;
        let (applied, handed) = match delivered {
            Ok((
                crate::callbacks::Delivered {
                    deliveries,
                    applied,
                    ..
                },
                handed,
            )) => {
                crate::metrics::callback(
                    provider,
                    match &applied {
                        Applied::UnknownPayment => "unknown_payment",
                        _ if deliveries > 1 => "duplicate",
                        Applied::Changed(c) if c.anomaly.is_some() => "anomaly",
                        _ => "verified",
                    },
                );
                if let Applied::Changed(c) = &applied {
                    crate::metrics::state_change(provider, c.status);
                }
                (applied, handed)
            }
            Err(e) => return ledger_down(&e),
        };
        if applied == Applied::UnknownPayment {
            tracing::warn!(provider, reference = %outcome.reference, "verified callback for a payment the ledger does not hold: recorded as unknown_payment, not handed out");
        }
        let refusal = match handed {
            Handed::Nothing => None,
            // This change waits behind older ones, or the callback was decided before.
            Handed::Open => {
                let (key, notification) = reported_by;
                self.hand_out_open(provider, &outcome.reference, Some(key), Some(notification))
                    .await
            }
            // Handed out in the deciding transaction, or claimed in it: finished here.
            handed => after_commit(&self.ledger, &self.handler, self.lease, handed)
                .await
                .and_then(|handed| retry_for(provider, handed)),
        };
        refusal.unwrap_or(ack)
    }
}

/// The answer when handing a change out did not end in its completion (`None`: it did): the
/// provider retries.
fn retry_for(provider: &'static str, handed: HandedOut) -> Option<Response> {
    match handed {
        HandedOut::Done => None,
        // Another worker holds it: the provider retries (and finds it done, or free).
        HandedOut::Busy => Some(retry_later(crate::clock::now_ms() + 1_000)),
        HandedOut::HandlerFailed => {
            metrics::counter!(crate::metrics::HANDLER_FAILURES, "provider" => provider)
                .increment(1);
            Some((StatusCode::INTERNAL_SERVER_ERROR, "handler failed; retry").into_response())
        }
        HandedOut::LeaseLost(e) => {
            metrics::counter!(crate::metrics::LEASES_LOST, "provider" => provider).increment(1);
            Some(retry_later_for_lost(&e))
        }
        HandedOut::Ledger(e) => Some(ledger_down(&e)),
    }
}

/// The deadline for a request's headers, and for its body (the contract's 10 s).
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1_024;

/// How long a stopping server waits for the callbacks in hand.
const DRAIN: Duration = Duration::from_secs(30);

/// Read the whole body under core's callback limit within `timeout`, then go on.
/// A request as a route reads it, with the peer's address when the server passes it (Payoo's
/// JSON notification is signed over it).
fn raw_of(
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    extensions: &axum::http::Extensions,
    body: Bytes,
) -> RawNotification {
    let remote_addr = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    RawNotification {
        method,
        query: query.unwrap_or_default(),
        headers,
        body,
        remote_addr,
    }
}

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
    // Our own failure — the merchant's records unavailable, a misconfiguration (a client that
    // cannot be built, a seal key that opens nothing) — says nothing of the callback: it may
    // be genuine, so the provider is told to retry, never that the callback is bad.
    if matches!(
        e,
        paybridge_core::Error::Storage { .. } | paybridge_core::Error::Config { .. }
    ) {
        tracing::error!(error = %e, "callback not verified: our side failed; the provider will retry");
        return (StatusCode::SERVICE_UNAVAILABLE, "unavailable; retry").into_response();
    }
    let status = match e.kind() {
        ErrorKind::Signature => StatusCode::UNAUTHORIZED,
        // The provider (a confirmation) or the records could not be asked: retry later.
        ErrorKind::Transport => {
            tracing::warn!(error = %e, "callback not verified: a confirmation could not be had");
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_REQUEST,
    };
    (status, e.to_string()).into_response()
}

/// A route's acknowledgement as a response.
fn acknowledge(ack: Acknowledgement) -> Response {
    let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
    match ack.content_type {
        Some(ct) => (status, [(header::CONTENT_TYPE, ct)], ack.body).into_response(),
        None => (status, ack.body).into_response(),
    }
}

fn retry_later(until_ms: i64) -> Response {
    let seconds = (until_ms - crate::clock::now_ms()).max(1_000) / 1_000;
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, seconds.to_string())],
        "being handled; retry later",
    )
        .into_response()
}

fn retry_later_for_lost(e: &LedgerError) -> Response {
    tracing::warn!(error = %e, "lease lost while handling; another delivery will acknowledge");
    retry_later(crate::clock::now_ms() + 1_000)
}

fn ledger_down(e: &LedgerError) -> Response {
    tracing::error!(error = %e, "ledger cannot be written; the provider will retry");
    (StatusCode::SERVICE_UNAVAILABLE, "ledger unavailable; retry").into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use paybridge_core::Error;

    use super::refused;

    #[test]
    fn only_a_bad_callback_is_refused_our_own_failures_are_retried() {
        let storage = Error::from(crate::error::LedgerError::Unreachable {
            host: "db:5432".into(),
            message: "refused".into(),
        });
        let wrong_key = Error::from(crate::error::LedgerError::Seal("cannot open".into()));
        for (error, status) in [
            (storage, StatusCode::SERVICE_UNAVAILABLE),
            (wrong_key, StatusCode::SERVICE_UNAVAILABLE),
            (
                Error::config("no endpoint"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Error::Timeout(std::time::Duration::from_secs(1)),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Error::Signature("bad sign".into()),
                StatusCode::UNAUTHORIZED,
            ),
            (Error::callback("not a callback"), StatusCode::BAD_REQUEST),
            (Error::Input("bad".into()), StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(refused(&error).status(), status, "{error}");
        }
    }
}
