//! `paybridge reconcile`, and the reconciler `receive` runs beside its routes: every payment
//! that is not final is asked about when its check is due, with the providers configured in
//! the environment.

use std::sync::Arc;

use clap::Args;
use paybridge_core::PaymentProvider;
use paybridge_ledger::handler::Handler;
use paybridge_ledger::{Ledger, Reconciler, Schedule};
use serde_json::json;

use crate::output::{CliError, Outcome};
use crate::settings::Settings;
use crate::store::LedgerArg;

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// One sweep, then print `{"checked", "changed", "needs_review"}` and exit.
    #[arg(long)]
    once: bool,
    /// Check every payment that is not final now, whatever its schedule.
    #[arg(long)]
    all: bool,
    /// When to ask again: comma-separated delays (`s`, `m`, `h`, `d`), each optionally
    /// repeated (`*N`); after the last, a payment still not final needs review.
    #[arg(long, default_value = "1m,5m*5,1h*24,1d*7", value_parser = parse_schedule)]
    schedule: Schedule,
    /// Checks a second to each provider (providers are checked at the same time, each within
    /// its own rate).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    rate: u32,
}

fn parse_schedule(text: &str) -> Result<Schedule, String> {
    text.parse()
        .map_err(|e: paybridge_ledger::reconcile::ScheduleError| e.to_string())
}

/// The providers to ask, from the environment, each keeping its payments in `ledger` (a
/// card's `check` needs the card sealed there: `PAYBRIDGE_LEDGER_KEY`). A provider with an
/// endpoint but missing credentials is an input error naming what is missing.
pub(crate) fn providers_from_env(
    ledger: &Arc<Ledger>,
) -> Result<Vec<Arc<dyn PaymentProvider>>, CliError> {
    crate::providers::status_providers(&Settings::new(&crate::settings::env), ledger)
}

/// A reconciler over `ledger` asking `providers`, handing changes to the CLI's handler.
pub(crate) fn reconciler(
    ledger: Arc<Ledger>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    schedule: Schedule,
) -> Reconciler {
    reconciler_with(
        ledger,
        providers,
        schedule,
        Handler::Transactional(Arc::new(crate::store::Record)),
    )
}

/// [`reconciler`] handing changes to `handler`.
pub(crate) fn reconciler_with(
    ledger: Arc<Ledger>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    schedule: Schedule,
    handler: Handler,
) -> Reconciler {
    let mut reconciler = Reconciler::with_handler(ledger, handler).schedule(schedule);
    for provider in providers {
        reconciler = reconciler.provider(provider);
    }
    // Said once, up front: "cannot ask" is not news — these payments stay pending until a
    // callback settles them (or their schedule runs out), they are not given up on.
    for provider in reconciler.cannot_check() {
        let why = if provider == paybridge_card_charging::PROVIDER_ID {
            "a card is checked with its sealed code: set PAYBRIDGE_LEDGER_KEY, the key the charge was recorded with"
        } else {
            "the provider has no status operation"
        };
        eprintln!(
            "warning: cannot check {provider} payments here ({why}); they stay pending until their callback arrives"
        );
    }
    reconciler
}

/// The reconciler `receive` runs: asking the providers this process can reach — the
/// endpoints of its flags, else of the environment — on the default schedule; `None` when it
/// can reach none.
pub(crate) fn beside_receive(
    ledger: &Arc<Ledger>,
    settings: &Settings<'_>,
) -> Result<Option<Reconciler>, CliError> {
    let providers = crate::providers::status_providers(settings, ledger)?;
    Ok((!providers.is_empty()).then(|| reconciler(ledger.clone(), providers, Schedule::default())))
}

pub(crate) async fn run(args: ReconcileArgs) -> Result<Outcome, CliError> {
    let ledger = Arc::new(args.ledger.open().await?);
    // The default merchant's payments with the providers of the environment, and each
    // registered merchant's with its own credentials.
    let merchants = crate::merchant_settings::merchant_providers(&ledger).await?;
    let default = crate::merchant_settings::default_merchants(
        providers_from_env(&ledger).map(Some),
        !merchants.is_empty(),
    )?;
    let mut each = vec![(ledger.clone(), default.unwrap_or_default())];
    each.extend(merchants);
    let reconcilers: Vec<(Arc<Ledger>, Reconciler)> = each
        .into_iter()
        .filter(|(_, providers)| !providers.is_empty())
        .map(|(ledger, providers)| {
            let reconciler = reconciler(ledger.clone(), providers, args.schedule.clone())
                .rate_limit(paybridge_ledger::reconcile::RateLimit::new(
                    None,
                    std::num::NonZeroU32::new(args.rate),
                ));
            (ledger, reconciler)
        })
        .collect();
    if reconcilers.is_empty() {
        return Err(CliError::input(
            "no provider to ask: set PAYBRIDGE_CARD_ENDPOINT, PAYBRIDGE_WOOPAY_ENDPOINT, PAYBRIDGE_PAYOO_ENDPOINT or _REST_ENDPOINT, or PAYBRIDGE_QVICKLY_ENDPOINT (with their credentials)",
        ));
    }
    if args.all {
        for (ledger, _) in &reconcilers {
            ledger
                .check_all_now()
                .await
                .map_err(paybridge_core::Error::from)?;
        }
    }
    if args.once {
        let mut total = paybridge_ledger::reconcile::Sweep::default();
        for (_, reconciler) in &reconcilers {
            total.add(
                reconciler
                    .sweep()
                    .await
                    .map_err(paybridge_core::Error::from)?,
            );
        }
        return Ok(Outcome::ok(json!({
            "checked": total.checked,
            "changed": total.changed,
            "needs_review": total.needs_review,
            "refunds_resolved": total.refunds_resolved,
        })));
    }
    for (ledger, reconciler) in &reconcilers {
        let whose = match ledger.merchant_id() {
            "" => String::new(),
            id => format!(" for merchant {id}"),
        };
        eprintln!(
            "paybridge reconcile asking {}{whose} (Ctrl-C to stop)",
            reconciler.providers().join(", ")
        );
    }
    // One stop for all: the signal closes the channel.
    let stop = crate::store::stop_on(crate::store::stop_signal());
    let runs = reconcilers.into_iter().map(|(_, reconciler)| {
        let stopped = crate::store::stopped(stop.clone());
        tokio::spawn(async move { reconciler.run(stopped).await })
    });
    for run in runs.collect::<Vec<_>>() {
        let _ = run.await;
    }
    Ok(Outcome::printed())
}
