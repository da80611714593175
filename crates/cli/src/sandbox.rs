//! `paybridge sandbox`: every provider simulator on one port.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cli::SandboxArgs;
use crate::output::{CliError, Outcome};
use crate::registry;

/// What a simulator needs to know about the server it is mounted on.
#[derive(Debug, Clone)]
pub(crate) struct SandboxContext {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// Callback URL for the card-charging simulator.
    pub card_callback_url: Option<String>,
}

/// One provider's simulator: its name, the path of its service endpoint, its routes.
pub(crate) struct Mount {
    pub name: &'static str,
    pub endpoint_path: String,
    pub router: Router,
}

/// A sandbox serving in the background.
pub(crate) struct RunningSandbox {
    pub addr: SocketAddr,
    /// Provider name → endpoint URL.
    pub endpoints: BTreeMap<&'static str, String>,
    pub task: JoinHandle<()>,
}

/// Bind, mount every simulator and serve in the background.
pub(crate) async fn start(
    addr: SocketAddr,
    card_callback_url: Option<String>,
) -> Result<RunningSandbox, CliError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::internal(format!("no local address: {e}")))?;
    let ctx = SandboxContext {
        base_url: format!("http://{addr}"),
        card_callback_url,
    };
    let mut router = Router::new();
    let mut endpoints = BTreeMap::new();
    for mount in registry::sandbox_mounts(&ctx)? {
        endpoints.insert(
            mount.name,
            format!("{}{}", ctx.base_url, mount.endpoint_path),
        );
        router = router.merge(mount.router);
    }
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox {
        addr,
        endpoints,
        task,
    })
}

/// Serve until interrupted, after printing the endpoint map as one JSON line.
pub(crate) async fn serve(args: &SandboxArgs) -> Result<Outcome, CliError> {
    let sandbox = start(args.addr, args.card_callback_url.clone()).await?;
    let map: serde_json::Map<String, Value> = sandbox
        .endpoints
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect();
    println!("{}", Value::Object(map));
    eprintln!(
        "paybridge sandbox listening on {} (Ctrl-C to stop)",
        sandbox.addr
    );
    let _ = tokio::signal::ctrl_c().await;
    sandbox.task.abort();
    Ok(Outcome::printed())
}
