//! The merchant's side of a state change: what it is handed ([`Callback`]), the two kinds of
//! handler ([`CallbackHandler`], [`TransactionalHandler`]), and the one way a change is handed
//! out — claimed under a fenced lease, handled, completed — which the callback receiver and
//! the [`crate::Reconciler`] share.

use std::sync::Arc;
use std::time::Duration;

use paybridge_core::{Notification, Verified};

use crate::changes::{Change, ChangeLease, done_in};
use crate::error::{LedgerError, Result};
use crate::reports::{Applied, Born, Decided};
use crate::store::Ledger;

/// A boxed error from the merchant's handler.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The ledger's own database transaction, handed to a [`TransactionalHandler`]: write your
/// books here (`sqlx::query(…).execute(&mut *tx)`, the same SQL on SQLite and PostgreSQL
/// through sqlx's `Any` driver) and they commit together with the change's completion — or
/// not at all.
pub struct LedgerTx<'c> {
    conn: &'c mut sqlx::AnyConnection,
}

impl std::fmt::Debug for LedgerTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerTx")
    }
}

impl std::ops::Deref for LedgerTx<'_> {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        self.conn
    }
}

impl std::ops::DerefMut for LedgerTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn
    }
}

/// A change of a payment's state, handed to the merchant — with the verified callback that
/// reported it when a callback did (or, when an earlier delivery left the change open, the one
/// that came now), or without one when the provider said it in answer to a status check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Callback {
    /// Provider id (`"card-charging"`, `"qvickly"`, `"payoo"`, `"linkifier-ipn"`, `"woopay"`).
    pub provider: &'static str,
    /// The callback's natural key in the ledger; `None` for a status check.
    pub key: Option<String>,
    /// The verified, normalized notification; `None` for a status check (the provider,
    /// asked back, vouches for it: see [`Change::source`]).
    pub notification: Option<Verified<Notification>>,
    /// The change to act on: credit on `status == succeeded` with `amount`; look at
    /// `anomaly` when the status is `needs_review`.
    pub change: Change,
    /// The claim's fencing token (it only grows): store it with your write, keyed by
    /// [`Change::stable_id`], and refuse a write with a lower token.
    pub fence: i64,
}

impl Callback {
    /// A change to hand out, with the verified callback that reported it, if one did.
    #[must_use]
    pub fn new(
        provider: &'static str,
        change: Change,
        reported_by: Option<(String, Verified<Notification>)>,
    ) -> Self {
        let (key, notification) = reported_by.unzip();
        Self {
            provider,
            key,
            notification,
            change,
            fence: 0,
        }
    }
}

/// What the merchant does with a payment's state change: credit the order, in its own
/// database. `Ok` means committed; the provider is acknowledged only after it.
///
/// **At least once, fenced.** It is called once per change in the normal case; after a crash
/// or a lost lease between your commit and the ledger's, the same change comes again (same
/// [`Change::stable_id`], a higher [`Callback::fence`]). Make your write idempotent on the
/// stable id — or use a [`TransactionalHandler`], which is exactly once.
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
pub enum Handler {
    /// At least once, fenced.
    Plain(Arc<dyn CallbackHandler>),
    /// In the ledger's transaction: exactly once.
    Transactional(Arc<dyn TransactionalHandler>),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Handler::Plain",
            Self::Transactional(_) => "Handler::Transactional",
        })
    }
}

impl Ledger {
    /// Complete a claimed change and run `handler` on `callback` in the same database
    /// transaction: the merchant's effect and the completion commit together, exactly once.
    /// `Ok(Err(e))` when the handler failed (rolled back; the change stays open);
    /// [`LedgerError::LeaseLost`] when the claim no longer holds (nothing ran).
    pub async fn complete_change_with(
        &self,
        claim: &ChangeLease,
        handler: &dyn TransactionalHandler,
        callback: &Callback,
    ) -> Result<Result<(), HandlerError>> {
        let mut tx = self.pool().begin().await?;
        if !done_in(&mut tx, claim.change.id, claim.fence, self.now_ms()).await? {
            return Err(claim.change.lost());
        }
        if let Err(e) = handler.handle(LedgerTx { conn: &mut tx }, callback).await {
            tx.rollback().await?;
            return Ok(Err(e));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// How the change a report makes is handed out by the worker that decides it — inside the
/// deciding transaction, so that the common path is one commit (transactional handler) or two
/// (plain handler: the decision with its claim, then the completion).
#[derive(Clone, Copy)]
pub(crate) enum Handing<'a> {
    /// Not by the deciding worker: the change is left open (a transactional handler failed
    /// and its transaction was rolled back: the report is recorded again without it).
    Later,
    /// By a plain handler after the commit, under a lease taken in the deciding transaction.
    Claimed(Duration),
    /// By a transactional handler, in the deciding transaction.
    InTransaction(&'a dyn TransactionalHandler),
}

impl<'a> Handing<'a> {
    /// How `handler` is handed a change it is given a `lease` on.
    pub(crate) fn by(handler: &'a Handler, lease: Duration) -> Self {
        match handler {
            Handler::Plain(_) => Self::Claimed(lease),
            Handler::Transactional(handler) => Self::InTransaction(handler.as_ref()),
        }
    }

    /// The state the change is born in.
    pub(crate) fn born(self, ledger: &Ledger) -> Born {
        match self {
            Self::Later => Born::Open,
            Self::Claimed(lease) => Born::Claimed {
                until: ledger.after(lease),
            },
            Self::InTransaction(_) => Born::Done,
        }
    }
}

/// What became of a report's change in the transaction that decided it.
#[derive(Debug)]
pub(crate) enum Handed {
    /// No change, and nothing of the payment open.
    Nothing,
    /// Changes of the payment are open (this one waits behind older ones, or the decision is
    /// unknown: a duplicate delivery): hand them out after the commit ([`hand_out`]).
    Open,
    /// Claimed by this worker (fence 1): its plain handler runs after the commit
    /// ([`handle_claimed`]).
    Claimed(Box<(ChangeLease, Callback)>),
    /// Handled and completed in the transaction.
    Done,
    /// The transactional handler failed: the deciding transaction must be rolled back (and
    /// the report recorded again with its change open, [`Handing::Later`]).
    Failed(HandlerError),
}

/// In the deciding transaction, after [`crate::reports::apply`]: hand the change it made to
/// the handler as `handing` asked — `callback` makes what the handler is given.
pub(crate) async fn hand_in_transaction(
    conn: &mut sqlx::AnyConnection,
    handing: Handing<'_>,
    decided: Decided,
    callback: impl FnOnce(Change) -> Callback,
) -> Result<Handed> {
    let change = match decided.applied {
        Applied::Changed(change) if decided.born != Born::Open => change,
        Applied::Changed(_) => return Ok(Handed::Open),
        Applied::Unchanged | Applied::UnknownPayment if decided.earlier_open => {
            return Ok(Handed::Open);
        }
        Applied::Unchanged | Applied::UnknownPayment => return Ok(Handed::Nothing),
    };
    let mut callback = callback(change);
    callback.fence = 1;
    match (handing, decided.born) {
        (Handing::Claimed(_), Born::Claimed { until }) => Ok(Handed::Claimed(Box::new((
            ChangeLease {
                change: callback.change.clone(),
                fence: 1,
                until_ms: until,
            },
            callback,
        )))),
        // No savepoint (a round trip on every callback): a handler that fails is rare, and
        // its caller rolls everything back and records the report again, change open.
        (Handing::InTransaction(handler), _) => {
            match handler.handle(LedgerTx { conn }, &callback).await {
                Ok(()) => Ok(Handed::Done),
                Err(e) => Ok(Handed::Failed(e)),
            }
        }
        (Handing::Claimed(_) | Handing::Later, _) => Ok(Handed::Open),
    }
}

/// After the deciding transaction committed: finish the hand-out it started. `None` when it
/// left changes open for [`hand_out`] (or had none).
pub(crate) async fn after_commit(
    ledger: &Arc<Ledger>,
    handler: &Handler,
    lease: Duration,
    handed: Handed,
) -> Option<HandedOut> {
    match handed {
        Handed::Nothing | Handed::Open => None,
        Handed::Done => Some(HandedOut::Done),
        Handed::Claimed(claimed) => {
            let (claim, callback) = *claimed;
            Some(handle_claimed(ledger, handler, lease, &claim, &callback).await)
        }
        Handed::Failed(e) => {
            tracing::warn!(error = %e, "handler failed; the change stays open");
            Some(HandedOut::HandlerFailed)
        }
    }
}

/// How handing out one change ended.
#[derive(Debug)]
pub(crate) enum HandedOut {
    /// Handled and completed.
    Done,
    /// Another worker holds it (or completed it meanwhile).
    Busy,
    /// The handler failed: the change was released, open again.
    HandlerFailed,
    /// The lease was lost while handling: the completion was refused.
    LeaseLost(LedgerError),
    /// The ledger could not be read or written.
    Ledger(LedgerError),
}

/// Claim one change for `lease`, run the handler (renewing a plain handler's lease every
/// third of it), complete it under the claim's fence — or release it when the handler failed.
pub(crate) async fn hand_out(
    ledger: &Arc<Ledger>,
    handler: &Handler,
    lease: Duration,
    mut callback: Callback,
) -> HandedOut {
    let claim = match ledger.claim_change(&callback.change, lease).await {
        Ok(Some(claim)) => claim,
        Ok(None) => return HandedOut::Busy,
        Err(e) => return HandedOut::Ledger(e),
    };
    callback.fence = claim.fence;
    handle_claimed(ledger, handler, lease, &claim, &callback).await
}

/// Run the handler on a change this worker holds under `claim`, then complete it under the
/// claim's fence — or release it when the handler failed.
pub(crate) async fn handle_claimed(
    ledger: &Arc<Ledger>,
    handler: &Handler,
    lease: Duration,
    claim: &ChangeLease,
    callback: &Callback,
) -> HandedOut {
    let outcome = match handler {
        Handler::Plain(handler) => {
            let renewer = renew_while_handling(ledger.clone(), lease, claim.clone());
            let result = handler.handle(callback).await;
            renewer.abort();
            match result {
                Ok(()) => ledger.complete_change(claim).await.map(|()| Ok(())),
                Err(e) => Ok(Err(e)),
            }
        }
        Handler::Transactional(handler) => {
            ledger
                .complete_change_with(claim, handler.as_ref(), callback)
                .await
        }
    };
    match outcome {
        Ok(Ok(())) => HandedOut::Done,
        Ok(Err(e)) => {
            tracing::warn!(provider = callback.provider, change = %callback.change.stable_id(), error = %e, "handler failed; the change stays open");
            let _ = ledger.release_change(claim).await;
            HandedOut::HandlerFailed
        }
        Err(e @ LedgerError::LeaseLost { .. }) => HandedOut::LeaseLost(e),
        Err(e) => HandedOut::Ledger(e),
    }
}

/// Renew `claim` every third of the lease until aborted; a renewal refused (the lease was
/// lost) stops it, and the completion will be refused too.
fn renew_while_handling(
    ledger: Arc<Ledger>,
    lease: Duration,
    mut claim: ChangeLease,
) -> tokio::task::JoinHandle<()> {
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
