//! A platform's merchants in `receive`: each registered merchant's routes, forwarder and
//! reconciler built from its settings in the ledger ([`crate::merchant_settings`]), the way
//! the default merchant's are built from flags and the environment; and a provider command
//! run as a merchant's (`--merchant M`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use paybridge_core::CallbackRoute;
use paybridge_ledger::Ledger;
use paybridge_ledger::receive::{MerchantRoutes, MerchantTable};
use secrecy::{ExposeSecret, SecretString};

use crate::merchant_settings::{Lookup, lookup, providers_of, shared, values_of};
use crate::output::CliError;
use crate::settings::Settings;

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
    /// Each merchant's routes as last built, and the `updated_at` they were built at: built
    /// again only when the merchant changed, or while an old value is in its grace period
    /// (it stops verifying when the period ends). A table refresh of many merchants then
    /// costs two queries, not a query and an unsealing per setting per merchant.
    built: tokio::sync::Mutex<BTreeMap<String, Built>>,
}

/// One merchant's routes as built.
struct Built {
    updated_at: i64,
    in_grace: bool,
    routes: Vec<Arc<dyn CallbackRoute>>,
}

impl Routes {
    /// Routes over the process's settings `process`, none built yet.
    pub(crate) fn new(process: Lookup) -> Self {
        Self {
            process,
            built: tokio::sync::Mutex::default(),
        }
    }
}

#[async_trait::async_trait]
impl MerchantRoutes for Routes {
    async fn routes(&self, ledger: &Ledger) -> paybridge_core::Result<MerchantTable> {
        let merchants = ledger.merchants().await?;
        let mut built = self.built.lock().await;
        built.retain(|id, _| merchants.iter().any(|m| &m.id == id));
        let mut table = MerchantTable::new();
        for m in merchants {
            let fresh = built
                .get(&m.id)
                .is_some_and(|b| b.updated_at == m.updated_at && !b.in_grace);
            if !fresh {
                // One merchant's settings that cannot be read or make no route leave it
                // without routes (404, logged), never the others.
                let this = match values_of(ledger, &m.id, &m.settings).await {
                    Ok(values) => routes_of(&values, &self.process)
                        .map(|routes| Built {
                            updated_at: m.updated_at,
                            in_grace: values.values().any(|v| v.len() > 1),
                            routes,
                        })
                        .map_err(|e| e.message),
                    Err(e) => Err(e.to_string()),
                };
                match this {
                    Ok(b) => {
                        built.insert(m.id.clone(), b);
                    }
                    Err(why) => {
                        tracing::warn!(merchant = %m.id, error = %why, "the merchant's routes could not be built; it has none");
                        built.remove(&m.id);
                    }
                }
            }
            let routes = built
                .get(&m.id)
                .map(|b| b.routes.clone())
                .unwrap_or_default();
            table.insert(m.id, routes);
        }
        Ok(table)
    }
}

/// What every merchant's tasks share.
pub(crate) struct MerchantTasks {
    /// The ledger (the default merchant's handle).
    pub ledger: Arc<Ledger>,
    /// The process's settings, for what merchants share.
    pub process: Lookup,
    /// The forwarder's lease.
    pub lease: Duration,
    /// Whether to run each merchant's reconciler (`receive --no-reconcile`: no).
    pub reconcile: bool,
}

/// One merchant's running forwarder and reconciler: started with its settings as they were
/// at `updated_at`, stopped by dropping `stop`.
struct Running {
    updated_at: i64,
    stop: tokio::sync::watch::Sender<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Every registered merchant's forwarder (to its own target, signed with its own secret) and
/// reconciler (asking its providers with its own credentials), for the merchants registered
/// now and — checked every [`paybridge_ledger::merchant_routes::REFRESH`] — those registered
/// later; a merchant updated (`merchants add` again, `rotate`) has its tasks started again
/// with its new settings, a merchant removed has them stopped. Until `stopped`.
pub(crate) async fn run_merchants(
    shared: MerchantTasks,
    stopped: tokio::sync::watch::Receiver<()>,
) {
    let mut running: std::collections::HashMap<String, Running> = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(paybridge_ledger::merchant_routes::REFRESH);
    let mut stop = stopped.clone();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {}
        }
        let merchants = match shared.ledger.merchants().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "merchants could not be read");
                continue;
            }
        };
        // Gone, or changed since its tasks started: stopped (a delivery or sweep in hand
        // finishes; the rest stays queued for the tasks started again).
        running.retain(|id, r| {
            merchants
                .iter()
                .any(|m| &m.id == id && m.updated_at == r.updated_at)
        });
        for m in merchants {
            if running.contains_key(&m.id) {
                continue;
            }
            let (own_stop, own_stopped) = tokio::sync::watch::channel(());
            let tasks =
                match merchant_tasks(&shared, &m.id, &m.settings, [stopped.clone(), own_stopped])
                    .await
                {
                    Ok(tasks) => tasks,
                    Err(e) => {
                        eprintln!("warning: merchant {:?}: {}", m.id, e.message);
                        Vec::new()
                    }
                };
            running.insert(
                m.id,
                Running {
                    updated_at: m.updated_at,
                    stop: own_stop,
                    tasks,
                },
            );
        }
    }
    for (_, r) in running {
        drop(r.stop);
        for task in r.tasks {
            let _ = task.await;
        }
    }
}

/// Merchant `id`'s forwarder and reconciler, running until either of `stops` fires.
async fn merchant_tasks(
    shared: &MerchantTasks,
    id: &str,
    names: &[String],
    stops: [tokio::sync::watch::Receiver<()>; 2],
) -> Result<Vec<tokio::task::JoinHandle<()>>, CliError> {
    let MerchantTasks {
        ledger,
        process,
        lease,
        reconcile,
    } = shared;
    let scoped = Arc::new(
        ledger
            .for_merchant(id)
            .map_err(paybridge_core::Error::from)?,
    );
    // Whichever comes first: the process's stop, or this merchant's.
    let until_stopped = || {
        let [all, own] = stops.clone();
        async move {
            tokio::select! {
                () = crate::store::stopped(all) => {}
                () = crate::store::stopped(own) => {}
            }
        }
    };
    let mut tasks = Vec::new();
    if let Some((url, secret)) = ledger
        .merchant_forward(id)
        .await
        .map_err(paybridge_core::Error::from)?
    {
        let secret = paybridge_core::webhooks::WebhookSecret::parse(&secret)?;
        // Its target was registered with it (`merchants add`, or migration 0010).
        let sink = paybridge_ledger::forward::HttpSink::new(&url, secret)?;
        let forwarder =
            paybridge_ledger::forward::Forwarder::new(scoped.clone(), Arc::new(sink)).lease(*lease);
        let stop = until_stopped();
        tasks.push(tokio::spawn(async move {
            forwarder.run(Duration::from_secs(1), stop).await;
        }));
    }
    let providers = if *reconcile {
        providers_of(&scoped, names, process).await?
    } else {
        Vec::new()
    };
    if !providers.is_empty() {
        let reconciler =
            crate::reconcile::reconciler(scoped, providers, paybridge_ledger::Schedule::default());
        let stop = until_stopped();
        tasks.push(tokio::spawn(async move { reconciler.run(stop).await }));
    }
    Ok(tasks)
}

/// Set in the environment of a provider command run again as a merchant's: its settings are
/// in place.
const AS_MERCHANT: &str = "PAYBRIDGE_AS_MERCHANT";

/// Whether this process is already the merchant's run of a provider command.
pub(crate) fn running_as_merchant() -> bool {
    std::env::var_os(AS_MERCHANT).is_some()
}

/// The merchant of a provider command not yet run as the merchant's: `--merchant M` (or
/// `PAYBRIDGE_MERCHANT`) and a provider's name as the subcommand.
pub(crate) fn provider_command_for_merchant() -> Option<String> {
    if running_as_merchant() {
        return None;
    }
    // The subcommand: the first word that is neither a flag nor `--merchant`'s value (the
    // only top-level flag that takes one).
    let mut args = std::env::args().skip(1);
    let subcommand = loop {
        let arg = args.next()?;
        if arg == "--merchant" {
            args.next();
        } else if !arg.starts_with('-') {
            break arg;
        }
    };
    if !crate::providers::PROVIDER_NAMES.contains(&subcommand.as_str()) {
        return None;
    }
    command_line_value("--merchant").or_else(|| crate::settings::env("PAYBRIDGE_MERCHANT"))
}

/// The value the command line gives `flag` (`--flag VALUE` or `--flag=VALUE`), if any.
fn command_line_value(flag: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == flag {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
}

/// `paybridge --merchant M <provider> …`: the provider commands read their credentials from
/// flags and the environment (clap, when the command line is parsed), so the command runs
/// again as a child process whose environment holds M's settings from the ledger in place of
/// this process's — none of this process's provider secrets or ids reaches it (only what the
/// platform shares: endpoints, switches). Its exit code is this command's.
pub(crate) async fn run_as_merchant(id: &str) -> Result<std::process::ExitCode, CliError> {
    let url = command_line_value("--ledger")
        .or_else(|| crate::settings::env("PAYBRIDGE_LEDGER"))
        .ok_or_else(|| {
        CliError::input(format!(
            "--merchant {id:?}: its settings are in the ledger: give --ledger URL (or PAYBRIDGE_LEDGER)"
        ))
    })?;
    let ledger = crate::store::open(&url).await?;
    let merchant = crate::store::registered(&url, &ledger, id).await?;
    let (names, company_id) = (merchant.settings, merchant.company_id);
    let values = values_of(&ledger, id, &names)
        .await
        .map_err(|e| CliError::input(format!("merchant {id:?}: {e} (PAYBRIDGE_LEDGER_KEY)")))?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::internal(format!("cannot find this program: {e}")))?;
    let mut child = std::process::Command::new(exe);
    child
        .args(std::env::args_os().skip(1))
        .env(AS_MERCHANT, "1");
    for (name, _) in std::env::vars() {
        if crate::merchants::provider_of(&name).is_some() && !shared(&name) {
            child.env_remove(name);
        }
    }
    for (name, valid) in &values {
        if let Some(current) = valid.first() {
            child.env(name, current.expose_secret());
        }
    }
    if let Some(company_id) = company_id {
        child.env("PAYBRIDGE_QVICKLY_COMPANY_ID", company_id);
    }
    let status = child
        .status()
        .map_err(|e| CliError::internal(format!("cannot run the command as {id:?}: {e}")))?;
    Ok(std::process::ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
    ))
}
