//! `paybridge reconcile`, and the reconciler `receive` runs beside its routes: every payment
//! that is not final is asked about when its check is due, with the providers configured in
//! the environment.

use std::sync::Arc;

use clap::Args;
use paybridge_core::PaymentProvider;
use paybridge_core::http::HttpTransport;
use paybridge_ledger::{Ledger, Reconciler, Schedule};
use secrecy::SecretString;
use serde_json::json;

use crate::output::{CliError, Outcome};
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
}

fn parse_schedule(text: &str) -> Result<Schedule, String> {
    text.parse()
        .map_err(|e: paybridge_ledger::reconcile::ScheduleError| e.to_string())
}

/// Where each provider is asked, from the environment (the `receive` flags may say it
/// instead): a provider is asked only when its endpoint and credentials are all there.
#[derive(Debug, Default)]
pub(crate) struct StatusEndpoints {
    /// The card gateway (`PAYBRIDGE_CARD_ENDPOINT`).
    pub card: Option<String>,
    /// Wooppay's service (`PAYBRIDGE_WOOPAY_ENDPOINT`).
    pub woopay: Option<String>,
    /// Payoo's SOAP service (`PAYBRIDGE_PAYOO_ENDPOINT`).
    pub payoo: Option<String>,
    /// Payoo's REST Business API (`PAYBRIDGE_PAYOO_REST_ENDPOINT`, `…/BusinessRestAPI.svc`):
    /// when set, Payoo is asked with `GetOrderInfo` (the SOAP endpoint is then not needed).
    pub payoo_rest: Option<String>,
    /// Qvickly's Payment API (`PAYBRIDGE_QVICKLY_ENDPOINT`): asked with `getPaymentinfo`.
    pub qvickly: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl StatusEndpoints {
    pub fn from_env() -> Self {
        Self {
            card: var("PAYBRIDGE_CARD_ENDPOINT"),
            woopay: var("PAYBRIDGE_WOOPAY_ENDPOINT"),
            payoo: var("PAYBRIDGE_PAYOO_ENDPOINT"),
            payoo_rest: var("PAYBRIDGE_PAYOO_REST_ENDPOINT"),
            qvickly: var("PAYBRIDGE_QVICKLY_ENDPOINT"),
        }
    }

    /// The providers to ask, each keeping its payments in `ledger` (a card's `check` needs
    /// the card sealed there: `PAYBRIDGE_LEDGER_KEY`). A provider with an endpoint but
    /// missing credentials is an input error naming what is missing.
    pub fn providers(
        &self,
        ledger: &Arc<Ledger>,
    ) -> Result<Vec<Arc<dyn PaymentProvider>>, CliError> {
        self.providers_with(ledger, &var)
    }

    /// [`StatusEndpoints::providers`] with the credentials `lookup` gives for each variable
    /// name (`paybridge dev`: the sandbox's).
    #[allow(
        clippy::too_many_lines,
        reason = "one block per provider, each reading its own variables: a table, not logic"
    )]
    pub fn providers_with(
        &self,
        ledger: &Arc<Ledger>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<Arc<dyn PaymentProvider>>, CliError> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let secret_var = |name: &str| var(name).map(SecretString::from);
        let stores = || paybridge_core::Stores::in_memory().records(ledger.clone());
        let missing = |provider: &str, names: &str| {
            CliError::input(format!(
                "{provider} is asked about its payments only with {names} set"
            ))
        };
        let mut out: Vec<Arc<dyn PaymentProvider>> = Vec::new();
        if let Some(endpoint) = &self.card {
            let (Some(id), Some(key)) = (
                var("PAYBRIDGE_CARD_PARTNER_ID"),
                secret_var("PAYBRIDGE_CARD_PARTNER_KEY"),
            ) else {
                return Err(missing(
                    "the card gateway",
                    "PAYBRIDGE_CARD_PARTNER_ID and PAYBRIDGE_CARD_PARTNER_KEY",
                ));
            };
            let client = paybridge_card_charging::Client::new(
                paybridge_card_charging::Config::new(endpoint, id, key),
                HttpTransport::with_defaults()?,
            )
            .map_err(paybridge_core::Error::from)?;
            out.push(Arc::new(
                paybridge_card_charging::CardChargingProvider::new(client, stores()),
            ));
        }
        if let Some(endpoint) = &self.woopay {
            let (Some(user), Some(password)) = (
                var("PAYBRIDGE_WOOPAY_USERNAME"),
                secret_var("PAYBRIDGE_WOOPAY_PASSWORD"),
            ) else {
                return Err(missing(
                    "Wooppay",
                    "PAYBRIDGE_WOOPAY_USERNAME and PAYBRIDGE_WOOPAY_PASSWORD",
                ));
            };
            let client = paybridge_woopay::Client::new(
                paybridge_woopay::Config::new(endpoint, user, password),
                HttpTransport::with_defaults()?,
            )
            .map_err(paybridge_core::Error::from)?;
            out.push(Arc::new(paybridge_woopay::WoopayProvider::new(
                client,
                stores(),
            )));
        }
        if let Some(endpoint) = self.payoo.as_ref().or(self.payoo_rest.as_ref()) {
            let (Some(user), Some(password), Some(signature), Some(key), Some(shop)) = (
                var("PAYBRIDGE_PAYOO_USERNAME"),
                secret_var("PAYBRIDGE_PAYOO_PASSWORD"),
                secret_var("PAYBRIDGE_PAYOO_SIGNATURE"),
                secret_var("PAYBRIDGE_PAYOO_CHECKSUM_KEY"),
                var("PAYBRIDGE_PAYOO_SHOP_ID").and_then(|s| s.parse::<i64>().ok()),
            ) else {
                return Err(missing(
                    "Payoo",
                    "PAYBRIDGE_PAYOO_USERNAME, _PASSWORD, _SIGNATURE, _CHECKSUM_KEY and _SHOP_ID (a number)",
                ));
            };
            let creds = paybridge_payoo::Credentials::new(user, password, signature, key.clone());
            let rest = self
                .payoo_rest
                .as_ref()
                .map(|rest| {
                    paybridge_payoo::RestClient::new(
                        rest.as_str(),
                        creds.clone(),
                        HttpTransport::with_defaults()?,
                    )
                    .map_err(paybridge_core::Error::from)
                })
                .transpose()?;
            let provider = match (&self.payoo, rest) {
                // The current API alone: no legacy client at all.
                (None, Some(rest)) => {
                    paybridge_payoo::PayooProvider::current(rest, key, shop, stores())
                }
                (_, rest) => {
                    let client = paybridge_payoo::Client::new(
                        paybridge_payoo::Config::new(endpoint, creds),
                        HttpTransport::with_defaults()?,
                    )
                    .map_err(paybridge_core::Error::from)?;
                    let provider = paybridge_payoo::PayooProvider::new(client, key, shop, stores());
                    match rest {
                        Some(rest) => provider.with_rest(rest),
                        None => provider,
                    }
                }
            };
            out.push(Arc::new(provider));
        }
        if let Some(endpoint) = &self.qvickly {
            let (Some(id), Some(secret)) = (
                var("PAYBRIDGE_QVICKLY_ID"),
                secret_var("PAYBRIDGE_QVICKLY_SECRET"),
            ) else {
                return Err(missing("Qvickly", "PAYBRIDGE_QVICKLY_ID and _SECRET"));
            };
            let verifier = paybridge_qvickly::CallbackVerifier::new(Some(id.clone()), &secret)
                .map_err(paybridge_core::Error::from)?;
            let api = paybridge_qvickly::PaymentApi::new(
                endpoint,
                id,
                &secret,
                HttpTransport::with_defaults()?,
            )
            .map_err(paybridge_core::Error::from)?;
            out.push(Arc::new(
                paybridge_qvickly::QvicklyProvider::new(verifier, stores()).with_api(api),
            ));
        }
        // Linkifier has no status operation: a pending Linkifier payment is given up on (needs
        // review) when it comes due.
        if let Some(key) = secret_var("PAYBRIDGE_LINKIFIER_KEY") {
            out.push(Arc::new(paybridge_linkifier_ipn::LinkifierProvider::new(
                paybridge_linkifier_ipn::CallbackVerifier::new(key),
                stores(),
            )));
        }
        Ok(out)
    }
}

/// A reconciler over `ledger` asking `providers`, handing changes to the CLI's handler.
pub(crate) fn reconciler(
    ledger: Arc<Ledger>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    schedule: Schedule,
) -> Reconciler {
    reconciler_with(ledger, providers, schedule, Arc::new(crate::store::Record))
}

/// [`reconciler`] handing changes to `handler`.
pub(crate) fn reconciler_with(
    ledger: Arc<Ledger>,
    providers: Vec<Arc<dyn PaymentProvider>>,
    schedule: Schedule,
    handler: Arc<dyn paybridge_ledger::handler::CallbackHandler>,
) -> Reconciler {
    let mut reconciler = Reconciler::new(ledger, handler).schedule(schedule);
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
    card_endpoint: Option<String>,
    woopay_endpoint: Option<String>,
) -> Result<Option<Reconciler>, CliError> {
    let env = StatusEndpoints::from_env();
    let endpoints = StatusEndpoints {
        card: card_endpoint,
        woopay: woopay_endpoint.or(env.woopay),
        payoo: env.payoo,
        payoo_rest: env.payoo_rest,
        qvickly: env.qvickly,
    };
    let providers = endpoints.providers(ledger)?;
    Ok((!providers.is_empty()).then(|| reconciler(ledger.clone(), providers, Schedule::default())))
}

pub(crate) async fn run(args: ReconcileArgs) -> Result<Outcome, CliError> {
    let ledger = Arc::new(args.ledger.open().await?);
    let providers = StatusEndpoints::from_env().providers(&ledger)?;
    if providers.is_empty() {
        return Err(CliError::input(
            "no provider to ask: set PAYBRIDGE_CARD_ENDPOINT, PAYBRIDGE_WOOPAY_ENDPOINT, PAYBRIDGE_PAYOO_ENDPOINT or _REST_ENDPOINT, or PAYBRIDGE_QVICKLY_ENDPOINT (with their credentials)",
        ));
    }
    let reconciler = reconciler(ledger.clone(), providers, args.schedule);
    if args.all {
        ledger
            .check_all_now()
            .await
            .map_err(paybridge_core::Error::from)?;
    }
    if args.once {
        let sweep = reconciler
            .sweep()
            .await
            .map_err(paybridge_core::Error::from)?;
        return Ok(Outcome::ok(json!({
            "checked": sweep.checked,
            "changed": sweep.changed,
            "needs_review": sweep.needs_review,
            "refunds_resolved": sweep.refunds_resolved,
        })));
    }
    eprintln!(
        "paybridge reconcile asking {} (Ctrl-C to stop)",
        reconciler.providers().join(", ")
    );
    reconciler.run(crate::store::stop_signal()).await;
    Ok(Outcome::printed())
}
