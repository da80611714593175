//! `paybridge sandbox`: every provider simulator on one port.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::output::{CliError, Outcome};

pub(crate) use crate::mounts::{Mount, MountedRoutes, RunningSandbox, SandboxContext};

#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Address to listen on, `host:port` (a host name resolves; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_parser = socket_addr)]
    pub addr: SocketAddr,
    /// Where the card-charging simulator POSTs its callbacks (also settable at run time with
    /// `PUT /chargingws/v2/_sandbox/callback-url`).
    #[arg(long)]
    pub card_callback_url: Option<String>,
}

/// `--addr`: `host:port`, the host a name or an address (`localhost:8123`).
pub(crate) fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    std::net::ToSocketAddrs::to_socket_addrs(value)
        .map_err(|e| format!("{value:?} is not host:port: {e}"))?
        .next()
        .ok_or_else(|| format!("{value:?} resolves to no address"))
}

/// The merchant side the sandbox also plays for `paybridge sandbox`: every provider's
/// callback route (under `/receive`), with the sandbox's credentials, over a ledger.
pub(crate) fn merchant_receiver(
    ledger: std::sync::Arc<paybridge_ledger::Ledger>,
    base_url: &str,
) -> Result<(Router, MountedRoutes), CliError> {
    // Every provider's route, as `receive` mounts it, with the sandbox's settings: card
    // callbacks and Wooppay's `requestUrl` confirmed with the sandbox's own gateway and
    // service; the sandbox's Qvickly callbacks are test-mode, as Qvickly's test environment
    // sends them, and accepted here.
    let lookup = |name: &str| match name {
        "PAYBRIDGE_CARD_ENDPOINT" => Some(format!(
            "{base_url}{}",
            paybridge_card_charging::sandbox::ENDPOINT_PATH
        )),
        "PAYBRIDGE_WOOPAY_ENDPOINT" => Some(format!(
            "{base_url}{}",
            paybridge_woopay::sandbox::ENDPOINT_PATH
        )),
        "PAYBRIDGE_QVICKLY_ACCEPT_TEST" => Some("1".to_owned()),
        "PAYBRIDGE_QVICKLY_ENDPOINT" => None,
        _ => credential(name),
    };
    let mut receiver = paybridge_ledger::receive::Receiver::transactional(
        ledger,
        std::sync::Arc::new(crate::store::Record),
    );
    for route in crate::providers::receive_routes(&crate::settings::Settings::new(&lookup))? {
        receiver = receiver.mount_shared(route);
    }
    let routes = receiver.routes();
    Ok((Router::new().nest("/receive", receiver.router()), routes))
}

/// The sandbox's public test credentials, by the variable that names each in production.
pub(crate) fn credential(name: &str) -> Option<String> {
    use paybridge_card_charging::sandbox as card;
    use paybridge_payoo::sandbox as payoo;
    Some(
        match name {
            "PAYBRIDGE_CARD_PARTNER_ID" => card::SANDBOX_PARTNER_ID,
            "PAYBRIDGE_CARD_PARTNER_KEY" => card::SANDBOX_PARTNER_KEY,
            "PAYBRIDGE_WOOPAY_USERNAME" => paybridge_woopay::sandbox::SANDBOX_USERNAME,
            "PAYBRIDGE_WOOPAY_PASSWORD" => paybridge_woopay::sandbox::SANDBOX_PASSWORD,
            "PAYBRIDGE_PAYOO_USERNAME" => payoo::SANDBOX_USERNAME,
            "PAYBRIDGE_PAYOO_PASSWORD" => payoo::SANDBOX_PASSWORD,
            "PAYBRIDGE_PAYOO_SIGNATURE" => payoo::SANDBOX_SIGNATURE,
            "PAYBRIDGE_PAYOO_CHECKSUM_KEY" => payoo::SANDBOX_CHECKSUM_KEY,
            "PAYBRIDGE_PAYOO_SHOP_ID" => "11495",
            "PAYBRIDGE_QVICKLY_ID" => paybridge_qvickly::sandbox::SANDBOX_MERCHANT_ID,
            "PAYBRIDGE_QVICKLY_SECRET" => paybridge_qvickly::sandbox::SANDBOX_SECRET,
            "PAYBRIDGE_LINKIFIER_KEY" => paybridge_linkifier_ipn::sandbox::SANDBOX_KEY,
            _ => return None,
        }
        .to_owned(),
    )
}

/// Bind, mount every simulator (and, with a ledger, the merchant's receiver) and serve in
/// the background.
pub(crate) async fn start(
    addr: SocketAddr,
    card_callback_url: Option<String>,
    ledger: Option<std::sync::Arc<paybridge_ledger::Ledger>>,
) -> Result<RunningSandbox, CliError> {
    start_with(addr, card_callback_url, ledger, Wiring::default()).await
}

/// How `paybridge dev` wires the sandbox to its own receiver.
#[derive(Default)]
pub(crate) struct Wiring {
    /// Card callbacks go to the sandbox's own receiver.
    pub card_callbacks_to_receiver: bool,
    /// Wrap the router (a request log).
    pub layer: Option<fn(Router) -> Router>,
}

/// [`start`] wired as `wiring` says.
pub(crate) async fn start_with(
    addr: SocketAddr,
    card_callback_url: Option<String>,
    ledger: Option<std::sync::Arc<paybridge_ledger::Ledger>>,
    wiring: Wiring,
) -> Result<RunningSandbox, CliError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::internal(format!("no local address: {e}")))?;
    let base_url = format!("http://{addr}");
    let card_callback_url = card_callback_url.or_else(|| {
        wiring
            .card_callbacks_to_receiver
            .then(|| format!("{base_url}/receive/card-charging/callback"))
    });
    let ctx = SandboxContext {
        base_url,
        card_callback_url,
    };
    let mut router = Router::new();
    let mut endpoints = BTreeMap::new();
    for mount in crate::providers::sandbox_mounts(&ctx)? {
        endpoints.insert(
            mount.name,
            format!("{}{}", ctx.base_url, mount.endpoint_path),
        );
        for (name, path) in &mount.apis {
            endpoints.insert(name, format!("{}{path}", ctx.base_url));
        }
        router = router.merge(mount.router);
    }
    let mut receive = Vec::new();
    if let Some(ledger) = ledger {
        let (merchant, merchant_routes) = merchant_receiver(ledger, &ctx.base_url)?;
        router = router.merge(merchant);
        receive = merchant_routes;
    }
    if let Some(layer) = wiring.layer {
        router = layer(router);
    }
    // The peer's address reaches the receiver (Payoo's JSON notification is signed over it).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox {
        addr,
        endpoints,
        receive,
        task,
    })
}

/// Serve until interrupted, after printing the endpoint map as one JSON line.
pub(crate) async fn serve(args: &SandboxArgs) -> Result<Outcome, CliError> {
    // The merchant's side over an SQLite ledger in a temporary directory: deliver a callback
    // to its `receive` URL, then `paybridge ledger events --ledger <ledger>`.
    let dir = std::env::temp_dir().join(format!("paybridge-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::internal(format!("cannot create {}: {e}", dir.display())))?;
    let ledger_url = format!("sqlite://{}", dir.join("ledger.db").display());
    let ledger = std::sync::Arc::new(crate::store::open(&ledger_url).await?);
    let sandbox = start(args.addr, args.card_callback_url.clone(), Some(ledger)).await?;
    let mut map = sandbox.endpoints_json();
    let receive = sandbox.receive_json();
    map.insert("receive".into(), Value::Object(receive));
    map.insert("ledger".into(), Value::String(ledger_url));
    // Listen for Ctrl-C before the line that tells a caller the sandbox is up: an interrupt
    // sent right after it must stop the sandbox cleanly, not kill it.
    let interrupted = interrupt()?;
    crate::output::print_out(&format!("{}\n", Value::Object(map)));
    eprintln!(
        "paybridge sandbox listening on {} (Ctrl-C to stop)",
        sandbox.addr
    );
    interrupted.await;
    sandbox.task.abort();
    // The ledger was only this run's: leave no directory behind.
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the sandbox ledger");
    }
    Ok(Outcome::printed())
}

/// A future that completes at the first Ctrl-C (SIGINT) or SIGTERM, registered now: either
/// way the sandbox stops cleanly and removes its temporary ledger.
pub(crate) fn interrupt() -> Result<impl Future<Output = ()>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| {
            signal(kind).map_err(|e| CliError::internal(format!("cannot listen for signals: {e}")))
        };
        let mut sigint = listen(SignalKind::interrupt())?;
        let mut sigterm = listen(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
