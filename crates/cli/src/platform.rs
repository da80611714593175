//! A platform's merchants in `receive`: each registered merchant's routes, forwarder and
//! reconciler built from its settings in the ledger (sealed under `PAYBRIDGE_LEDGER_KEY`), the
//! way the default merchant's are built from flags and the environment.
//!
//! A merchant's secrets and ids are its own and never fall back to the process's — a callback
//! on `/m/B/…` is verified with B's key only. What the whole platform shares does: the
//! providers' endpoints (`PAYBRIDGE_*_ENDPOINT`) and the process's switches
//! (`PAYBRIDGE_QVICKLY_ACCEPT_TEST`, `--trust-unsigned-card-status`), unless the merchant sets
//! its own.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use paybridge_core::CallbackRoute;
use paybridge_ledger::Ledger;
use paybridge_ledger::receive::{MerchantRoutes, MerchantTable};
use secrecy::{ExposeSecret, SecretString};

use crate::output::CliError;
use crate::settings::Settings;

/// A setting's value as the process has it (its flags, then the environment).
pub(crate) type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Whether a merchant without its own value of setting `name` takes the process's: the
/// providers' endpoints and the process's switches, never a secret or an id.
fn shared(name: &str) -> bool {
    name.ends_with("_ENDPOINT") || name.ends_with("_ACCEPT_TEST") || name.starts_with("--")
}

/// Merchant `id`'s settings: each name's values valid now, the current one first.
async fn values_of(
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
fn lookup<'a>(
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

/// One merchant's routes: one per provider its settings enable; a provider with a secret
/// being rotated gets every valid one, the current first (`paybridge_core::AnyOf`).
pub(crate) fn routes_of(
    values: &BTreeMap<String, Vec<SecretString>>,
    process: &Lookup,
) -> Result<Vec<Arc<dyn CallbackRoute>>, CliError> {
    let mut by_provider: BTreeMap<&'static str, Vec<Arc<dyn CallbackRoute>>> = BTreeMap::new();
    let current = lookup(values, None, process);
    for route in crate::providers::receive_routes(&Settings::new(&current))? {
        by_provider.entry(route.provider()).or_default().push(route);
    }
    for (name, valid) in values {
        let Some(provider) = crate::merchants::provider_of(name) else {
            continue;
        };
        for old in valid.iter().skip(1) {
            let with_old = lookup(values, Some((name, old)), process);
            for route in crate::providers::receive_routes(&Settings::new(&with_old))? {
                if route.provider() == provider {
                    by_provider.entry(provider).or_default().push(route);
                }
            }
        }
    }
    Ok(by_provider
        .into_values()
        .filter_map(|mut routes| {
            if routes.len() == 1 {
                routes.pop()
            } else {
                paybridge_core::AnyOf::new(routes).map(|r| Arc::new(r) as Arc<dyn CallbackRoute>)
            }
        })
        .collect())
}

/// The registered merchants' routes, for [`paybridge_ledger::receive::Receiver::merchants`].
pub(crate) struct Routes {
    /// The process's settings, for what merchants share.
    pub process: Lookup,
}

#[async_trait::async_trait]
impl MerchantRoutes for Routes {
    async fn routes(&self, ledger: &Ledger) -> paybridge_core::Result<MerchantTable> {
        let mut table = MerchantTable::new();
        for m in ledger.merchants().await? {
            let values = values_of(ledger, &m.id, &m.settings).await?;
            let routes = routes_of(&values, &self.process).map_err(|e| {
                paybridge_core::Error::config(format!("merchant {:?}: {}", m.id, e.message))
            })?;
            table.insert(m.id, routes);
        }
        Ok(table)
    }
}

/// Every registered merchant's forwarder (to its own target, signed with its own secret) and
/// reconciler (asking its providers with its own credentials), started for each merchant
/// registered now and — checked every [`paybridge_ledger::merchant_routes::REFRESH`] — for
/// each registered later, until `stopped`. A merchant's settings changed while it runs take
/// effect at the next start.
pub(crate) async fn run_merchants(
    ledger: Arc<Ledger>,
    process: Lookup,
    lease: Duration,
    stopped: tokio::sync::watch::Receiver<()>,
) {
    let mut started = HashSet::new();
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(paybridge_ledger::merchant_routes::REFRESH);
    let mut stop = stopped.clone();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {}
        }
        let merchants = match ledger.merchants().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "merchants could not be read");
                continue;
            }
        };
        for m in merchants {
            if started.contains(&m.id) {
                continue;
            }
            match merchant_tasks(&ledger, &m.id, &m.settings, &process, lease, &stopped).await {
                Ok(mut spawned) => {
                    started.insert(m.id);
                    tasks.append(&mut spawned);
                }
                Err(e) => {
                    eprintln!("warning: merchant {:?}: {}", m.id, e.message);
                    started.insert(m.id);
                }
            }
        }
    }
    for task in tasks {
        let _ = task.await;
    }
}

/// Merchant `id`'s forwarder and reconciler, running until `stopped`.
async fn merchant_tasks(
    ledger: &Ledger,
    id: &str,
    names: &[String],
    process: &Lookup,
    lease: Duration,
    stopped: &tokio::sync::watch::Receiver<()>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, CliError> {
    let scoped = Arc::new(
        ledger
            .for_merchant(id)
            .map_err(paybridge_core::Error::from)?,
    );
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<()>| async move {
        let _ = rx.changed().await;
    };
    let mut tasks = Vec::new();
    if let Some((url, secret)) = ledger
        .merchant_forward(id)
        .await
        .map_err(paybridge_core::Error::from)?
    {
        let secret = paybridge_core::webhooks::WebhookSecret::parse(&secret)?;
        let sink = paybridge_ledger::forward::HttpSink::new(&url, secret)?;
        scoped
            .register_forward_target(&url)
            .await
            .map_err(paybridge_core::Error::from)?;
        let forwarder =
            paybridge_ledger::forward::Forwarder::new(scoped.clone(), Arc::new(sink)).lease(lease);
        let stop = until_stopped(stopped.clone());
        tasks.push(tokio::spawn(async move {
            forwarder.run(Duration::from_secs(1), stop).await;
        }));
    }
    let values = values_of(ledger, id, names)
        .await
        .map_err(paybridge_core::Error::from)?;
    let current = lookup(&values, None, process);
    if let Some(reconciler) = crate::reconcile::beside_receive(&scoped, &Settings::new(&current))? {
        let stop = until_stopped(stopped.clone());
        tasks.push(tokio::spawn(async move { reconciler.run(stop).await }));
    }
    Ok(tasks)
}
