//! A merchant's settings as the provider modules read them: its own values from the ledger
//! (sealed under `PAYBRIDGE_LEDGER_KEY`; the current one, or one still in its grace period),
//! the process's for what the whole platform shares — and the providers the reconciler asks
//! with them.
//!
//! A merchant's secrets and ids are its own and never fall back to the process's — a callback
//! on `/m/B/…` is verified with B's key only. What the whole platform shares does: the
//! providers' endpoints (`PAYBRIDGE_*_ENDPOINT`) and the process's switches
//! (`PAYBRIDGE_QVICKLY_ACCEPT_TEST`, `--trust-unsigned-card-status`), unless the merchant sets
//! its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use paybridge_ledger::Ledger;
use secrecy::{ExposeSecret, SecretString};

use crate::output::CliError;
use crate::settings::Settings;

/// A setting's value as the process has it (its flags, then the environment).
pub(crate) type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Whether a merchant without its own value of setting `name` takes the process's: the
/// providers' endpoints and the process's switches, never a secret or an id.
pub(crate) fn shared(name: &str) -> bool {
    name.ends_with("_ENDPOINT") || name.ends_with("_ACCEPT_TEST") || name.starts_with("--")
}

/// Merchant `id`'s settings: each name's values valid now, the current one first.
pub(crate) async fn values_of(
    ledger: &Ledger,
    id: &str,
    names: &[String],
) -> paybridge_ledger::Result<BTreeMap<String, Vec<SecretString>>> {
    let mut values = BTreeMap::new();
    for name in names {
        values.insert(name.clone(), ledger.merchant_setting(id, name).await?);
    }
    Ok(values)
}

/// The settings of one merchant as a provider module reads them: its current values (or, for
/// `old`, one older value still in its grace period in place of the current), the process's
/// for what the platform shares.
pub(crate) fn lookup<'a>(
    values: &'a BTreeMap<String, Vec<SecretString>>,
    old: Option<(&'a str, &'a SecretString)>,
    process: &'a Lookup,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        let own = match old {
            Some((old_name, value)) if old_name == name => Some(value),
            _ => values.get(name).and_then(|v| v.first()),
        };
        match own {
            Some(value) => Some(value.expose_secret().to_owned()),
            None if shared(name) => process(name),
            None => None,
        }
    }
}

/// What the default merchant's reconciler (or providers) came to, on a ledger that has
/// registered merchants (`platform`) or not: on a platform, the default merchant may have no
/// credentials of its own while the endpoints its merchants share are set — a warning, not a
/// failure. Without merchants, as before: the error.
pub(crate) fn default_merchants<T>(
    built: Result<Option<T>, CliError>,
    platform: bool,
) -> Result<Option<T>, CliError> {
    match built {
        Err(e) if platform => {
            eprintln!(
                "warning: the default merchant's payments are not checked here: {}",
                e.message
            );
            Ok(None)
        }
        other => other,
    }
}

/// The providers the reconciler asks about merchant `scoped`'s payments, with its own
/// credentials (its settings `names`; the platform's endpoints from `process`).
pub(crate) async fn providers_of(
    scoped: &Arc<Ledger>,
    names: &[String],
    process: &Lookup,
) -> Result<Vec<Arc<dyn paybridge_core::PaymentProvider>>, CliError> {
    let values = values_of(scoped, scoped.merchant_id(), names)
        .await
        .map_err(paybridge_core::Error::from)?;
    let current = lookup(&values, None, process);
    crate::providers::status_providers(&Settings::new(&current), scoped)
}

/// The providers to ask about the payments of `scoped`'s merchant (a registered one), with
/// its own credentials and the environment's endpoints (`ledger refunds --resolve --merchant`).
pub(crate) async fn providers_of_merchant(
    scoped: &Arc<Ledger>,
) -> Result<Vec<Arc<dyn paybridge_core::PaymentProvider>>, CliError> {
    let names = scoped
        .merchant(scoped.merchant_id())
        .await
        .map_err(paybridge_core::Error::from)?
        .map(|m| m.settings)
        .unwrap_or_default();
    let process: Lookup = Arc::new(crate::settings::env);
    providers_of(scoped, &names, &process).await
}

/// Every registered merchant's ledger and the providers that can be asked about its payments
/// (`paybridge reconcile`): the platform's endpoints from the environment, each merchant's
/// credentials from the ledger.
pub(crate) async fn merchant_providers(
    ledger: &Ledger,
) -> Result<Vec<(Arc<Ledger>, Vec<Arc<dyn paybridge_core::PaymentProvider>>)>, CliError> {
    let process: Lookup = Arc::new(crate::settings::env);
    let mut out = Vec::new();
    for m in ledger
        .merchants()
        .await
        .map_err(paybridge_core::Error::from)?
    {
        let scoped = Arc::new(
            ledger
                .for_merchant(&m.id)
                .map_err(paybridge_core::Error::from)?,
        );
        let providers = providers_of(&scoped, &m.settings, &process).await?;
        out.push((scoped, providers));
    }
    Ok(out)
}
