//! What the sandbox is made of: each provider's simulator mounted on one server, and the
//! server running in the background with its endpoints.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use serde_json::Value;
use tokio::task::JoinHandle;

/// What a simulator needs to know about the server it is mounted on.
#[derive(Debug, Clone)]
pub(crate) struct SandboxContext {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// Callback URL for the card-charging simulator.
    pub card_callback_url: Option<String>,
}

/// One provider's simulator: its name, the path of its service endpoint, its routes, and
/// every other API it serves (name, path), each named in the sandbox's line.
pub(crate) struct Mount {
    pub name: &'static str,
    pub endpoint_path: String,
    pub router: Router,
    pub apis: Vec<(&'static str, &'static str)>,
}

/// A sandbox serving in the background.
pub(crate) struct RunningSandbox {
    pub addr: SocketAddr,
    /// Provider name → endpoint URL.
    pub endpoints: BTreeMap<&'static str, String>,
    /// The merchant receiver's routes (provider, path under `/receive`), when it has a ledger.
    pub receive: MountedRoutes,
    pub task: JoinHandle<()>,
}

/// A receiver's routes: (provider, path).
pub(crate) type MountedRoutes = Vec<(&'static str, &'static str)>;

impl RunningSandbox {
    /// Provider (and API) name → endpoint URL, as the sandbox's line prints it.
    pub(crate) fn endpoints_json(&self) -> serde_json::Map<String, Value> {
        self.endpoints
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
            .collect()
    }

    /// Provider → the merchant receiver's callback URL.
    pub(crate) fn receive_json(&self) -> serde_json::Map<String, Value> {
        self.receive
            .iter()
            .map(|(provider, path)| {
                (
                    (*provider).to_owned(),
                    Value::String(format!("http://{}/receive{path}", self.addr)),
                )
            })
            .collect()
    }
}
