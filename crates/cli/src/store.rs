//! The CLI's ledger plumbing, shared by every command that writes to or reads a ledger: where
//! it is (`--ledger`, `PAYBRIDGE_LEDGER`), opening it (errors in the contract's terms, the
//! seal key), the payment commands' record-first-then-send, refunds through the ledger, the
//! recording handler and the stop signal.

use std::time::Duration;

use clap::Args;
use paybridge_ledger::receive::{Callback, HandlerError, TransactionalHandler};
use paybridge_ledger::{Ledger, LedgerTx, SealKey};

use crate::output::CliError;

/// Where the ledger is (`sqlite://FILE`, `postgres://…`).
#[derive(Debug, Clone, Args)]
pub(crate) struct LedgerArg {
    /// The ledger: `sqlite://FILE` or `postgres://…` (writers create and migrate it; reading
    /// commands never do).
    #[arg(
        long,
        env = "PAYBRIDGE_LEDGER",
        hide_env_values = true,
        default_value = "sqlite://paybridge.db"
    )]
    pub ledger: String,
    /// How long to wait for the ledger's database, in seconds: one that cannot be reached is
    /// exit 3 after it.
    #[arg(long = "timeout", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ledger_timeout: u64,
}

impl LedgerArg {
    /// Open it to write (created and migrated when needed), with the seal key from
    /// `PAYBRIDGE_LEDGER_KEY`, when set.
    pub async fn open(&self) -> Result<Ledger, CliError> {
        let timeout = Duration::from_secs(self.ledger_timeout);
        let ledger = Ledger::open_within(&self.ledger, timeout)
            .await
            .map_err(|e| ledger_error(&self.ledger, e))?;
        scoped(&self.ledger, sealed(ledger)?).await
    }

    /// Open it to read: nothing is created or migrated (a missing file, an old schema: exit 2).
    pub async fn open_existing(&self) -> Result<Ledger, CliError> {
        let timeout = Duration::from_secs(self.ledger_timeout);
        let ledger = Ledger::open_existing(&self.ledger, timeout)
            .await
            .map_err(|e| ledger_error(&self.ledger, e))?;
        scoped(&self.ledger, sealed(ledger)?).await
    }
}

/// A ledger that could not be opened, in the contract's terms: unreachable → exit 3 naming the
/// host; missing, outdated or a URL of no backend → exit 2. The URL is never printed whole (it
/// may hold a password).
fn ledger_error(url: &str, e: paybridge_ledger::LedgerError) -> CliError {
    use paybridge_ledger::LedgerError as E;
    match e {
        e @ E::Unreachable { .. } => CliError::from(paybridge_core::Error::Transport {
            status: None,
            message: e.to_string(),
            source: None,
        }),
        e @ (E::Missing(_) | E::Outdated { .. } | E::Url(_)) => CliError::input(e.to_string()),
        e => CliError::input(format!(
            "cannot open the ledger {}: {e}",
            paybridge_core::http::redacted_url(url)
        )),
    }
}

/// Open the ledger at `url` to write; `PAYBRIDGE_LEDGER_KEY` (64 hex digits) seals secrets.
pub(crate) async fn open(url: &str) -> Result<Ledger, CliError> {
    scoped(
        url,
        sealed(Ledger::open(url).await.map_err(|e| ledger_error(url, e))?)?,
    )
    .await
}

/// The merchant of this run (`--merchant`, `PAYBRIDGE_MERCHANT`), set once when the command
/// line is read: every ledger the command opens is that merchant's.
static MERCHANT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Set the merchant of this run (once, from the command line).
pub(crate) fn set_merchant(id: String) {
    let _ = MERCHANT.set(id);
}

/// The merchant of this run, if one was given.
pub(crate) fn merchant() -> Option<&'static str> {
    MERCHANT.get().map(String::as_str)
}

/// `ledger` seen as the run's merchant's (which must be registered in it: a typo is an
/// error, not an empty list), or — without `--merchant` — the default merchant's.
async fn scoped(url: &str, ledger: Ledger) -> Result<Ledger, CliError> {
    let Some(id) = merchant() else {
        return Ok(ledger);
    };
    registered(url, &ledger, id).await?;
    ledger
        .for_merchant(id)
        .map_err(|e| CliError::input(e.to_string()))
}

/// Merchant `id` of the ledger at `url`: one not registered is an input error saying how to
/// register it.
pub(crate) async fn registered(
    url: &str,
    ledger: &Ledger,
    id: &str,
) -> Result<paybridge_ledger::Merchant, CliError> {
    ledger
        .merchant(id)
        .await
        .map_err(|e| ledger_error(url, e))?
        .ok_or_else(|| {
            CliError::input(format!(
                "no merchant {id:?} in this ledger (paybridge merchants add --id {id} …)"
            ))
        })
}

/// `ledger` with the seal key from `PAYBRIDGE_LEDGER_KEY`, when set.
fn sealed(ledger: Ledger) -> Result<Ledger, CliError> {
    match std::env::var("PAYBRIDGE_LEDGER_KEY") {
        Ok(hex) => Ok(ledger.with_seal_key(
            SealKey::from_hex(&hex)
                .map_err(|e| CliError::input(format!("PAYBRIDGE_LEDGER_KEY: {e}")))?,
        )),
        Err(_) => Ok(ledger),
    }
}

/// The CLI's handler: recording is the whole job, each change logged. Transactional (it writes
/// nothing of its own), so a callback's delivery, decision and change are one commit; the
/// merchant hears of the change through the outbox (`--forward`).
pub(crate) struct Record;

#[async_trait::async_trait]
impl TransactionalHandler for Record {
    async fn handle(&self, _: LedgerTx<'_>, callback: &Callback) -> Result<(), HandlerError> {
        let change = &callback.change;
        tracing::info!(
            provider = callback.provider,
            key = callback.key.as_deref(),
            source = %change.source,
            change = %change.stable_id(),
            reference = %change.reference,
            from = change.previous_status.as_str(),
            to = change.status.as_str(),
            anomaly = change.anomaly.map(paybridge_ledger::Anomaly::as_str),
            "payment changed"
        );
        Ok(())
    }
}

/// `money` as a whole number of its currency's minor units (`1000` and `1000.00` KZT are both
/// `100000`, the ledger's own [`paybridge_ledger::minor_units`]): how a default refund id names
/// its amount, so that an amount spelled two ways is one refund — recognised as a repeat, never
/// sent twice. An amount finer than the currency (which the ledger refuses to refund) keeps its
/// decimal spelling.
pub(crate) fn minor_units_text(money: paybridge_core::Money) -> String {
    paybridge_ledger::minor_units(money).map_or_else(|_| money.amount_string(), |n| n.to_string())
}

/// A refund made (or recognised) through the ledger, as the refund commands print it.
pub(crate) struct RecordedRefund {
    pub amount: paybridge_core::Money,
    pub status: paybridge_core::RefundStatus,
    pub provider_refund_id: Option<String>,
    /// The refund id was seen before: nothing was sent.
    pub repeat: bool,
    /// The payment's status afterwards (`partially_refunded`, `reversed`, …).
    pub payment_status: Option<&'static str>,
}

/// Refund `payment` through `provider` with the ledger's `Ledger::refund` (the sum rule and the
/// refund id checked before anything is sent), and read the payment's status afterwards.
pub(crate) async fn refund_through(
    ledger: &Ledger,
    provider: &dyn paybridge_core::PaymentProvider,
    payment: &paybridge_core::PaymentRef,
    request: paybridge_core::RefundRequest,
) -> Result<RecordedRefund, CliError> {
    let (amount, status, provider_refund_id, repeat) = match ledger
        .refund(provider, payment, request)
        .await?
    {
        paybridge_ledger::Refunded::Done { refund, .. } => (
            refund.amount,
            refund.status,
            refund.provider_refund_id,
            false,
        ),
        paybridge_ledger::Refunded::Repeat(r) => (r.amount, r.status, r.provider_refund_id, true),
        other => {
            return Err(CliError::internal(format!(
                "unexpected refund answer {other:?}"
            )));
        }
    };
    let row = ledger
        .payment(provider.id(), &payment.reference)
        .await
        .map_err(paybridge_core::Error::from)?;
    Ok(RecordedRefund {
        amount,
        status,
        provider_refund_id,
        repeat,
        payment_status: row.map(|r| r.payment.status.as_str()),
    })
}

/// Record `payment` before it is sent; a reference the ledger already holds for its provider
/// is refused (exit 2: `what` names the reference, e.g. "a request id is used once").
pub(crate) async fn record_first(
    ledger: &Ledger,
    payment: &paybridge_ledger::NewPayment,
    what: &str,
) -> Result<(), CliError> {
    let new = ledger
        .record_payment(payment)
        .await
        .map_err(paybridge_core::Error::from)?;
    if new {
        Ok(())
    } else {
        Err(CliError::input(format!(
            "the ledger already holds {} payment {:?}: {what}",
            payment.provider, payment.reference
        )))
    }
}

/// The result of sending a payment request recorded first in `ledger` (if any): when its
/// outcome is unknown, the payment's first check is made due at once, and the message says
/// that the reconciler (`paybridge reconcile`, or `receive`) will find out and record it.
pub(crate) async fn sent<T>(
    ledger: Option<&Ledger>,
    provider: &str,
    reference: &str,
    result: Result<T, paybridge_core::Error>,
) -> Result<T, CliError> {
    let e = match result {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let unknown = e.outcome_unknown();
    let mut error = CliError::from(e);
    if unknown && let Some(ledger) = ledger {
        match ledger.check_now(provider, reference).await {
            Ok(_) => error.message.push_str(
                " — recorded as pending in the ledger: `paybridge reconcile` (or `paybridge receive`) asks the provider now and records what it did",
            ),
            Err(le) => tracing::error!(error = %le, "the ledger could not be told the outcome is unknown"),
        }
    }
    Err(error)
}

/// A stop every task of a command waits on: the channel closes when `signal` resolves
/// ([`stopped`] on a clone of it resolves then).
pub(crate) fn stop_on(
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::sync::watch::Receiver<()> {
    let (stop, stopped) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        signal.await;
        drop(stop);
    });
    stopped
}

/// Resolves once `stop` ([`stop_on`]) closed.
pub(crate) async fn stopped(mut stop: tokio::sync::watch::Receiver<()>) {
    let _ = stop.changed().await;
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: a signal sent right after a server printed its address
/// is not lost.
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {}
                () = wait(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_default_refund_id_names_the_amount_in_minor_units() {
        let kzt = |s: &str| paybridge_core::Money::parse(s, paybridge_core::Currency::KZT).unwrap();
        assert_eq!(super::minor_units_text(kzt("1000")), "100000");
        assert_eq!(super::minor_units_text(kzt("1000.00")), "100000");
        assert_eq!(super::minor_units_text(kzt("1000.5")), "100050");
    }
}
