//! The one place a provider is registered: its subcommands, its sandbox mount and its demo
//! flow. Adding a provider means one line in the `providers!` list below.

use clap::Subcommand;

use crate::demo::{FlowLog, FlowResult};
use crate::output::{CliError, Outcome};
use crate::providers::{card_charging, linkifier, payoo, qvickly, woopay};
use crate::sandbox::{Mount, RunningSandbox, SandboxContext};

/// Declares every provider from one list: the `paybridge <provider>` subcommand enum, its
/// dispatch, the sandbox mounts and the demo flows. Each listed module provides `Command`,
/// `run`, `mount` and `demo(endpoint, base_url, log)`.
macro_rules! providers {
    ($( $(#[$doc:meta])* $variant:ident => $module:ident, $name:literal; )*) => {
        /// Provider subcommands (`paybridge <provider> <command>`).
        #[derive(Debug, Subcommand)]
        pub(crate) enum ProviderCommand {
            $(
                $(#[$doc])*
                #[command(subcommand, name = $name)]
                $variant($module::Command),
            )*
        }

        /// Run a provider subcommand.
        pub(crate) async fn run(command: ProviderCommand) -> Result<Outcome, CliError> {
            match command {
                $(ProviderCommand::$variant(c) => $module::run(c).await,)*
            }
        }

        /// Every provider's simulator, mounted on one router.
        pub(crate) fn sandbox_mounts(ctx: &SandboxContext) -> Result<Vec<Mount>, CliError> {
            Ok(vec![$($module::mount(ctx)?,)*])
        }

        /// Every provider's demo flow against the running sandbox, in order.
        pub(crate) async fn demo_flows(sandbox: &RunningSandbox) -> Vec<FlowResult> {
            let base_url = format!("http://{}", sandbox.addr);
            let mut results = Vec::new();
            $(
                if let Some(endpoint) = sandbox.endpoints.get($name) {
                    let mut log = FlowLog::default();
                    let error = $module::demo(endpoint, &base_url, &mut log).await.err();
                    results.push(FlowResult { provider: $name, log, error });
                }
            )*
            results
        }
    };
}

// One line per provider (its doc line is the help text of `paybridge <provider>`).
providers! {
    /// Vietnamese telco card-charging gateways (`chargingws/v2`).
    CardCharging => card_charging, "card-charging";
    /// Wooppay invoices over SOAP.
    Woopay => woopay, "woopay";
    /// Qvickly IPN callbacks: verify, forward to the booking API.
    Qvickly => qvickly, "qvickly";
    /// Payoo BPG `CallToPartner`.
    Payoo => payoo, "payoo";
    /// Linkifier IPNs: send and verify.
    LinkifierIpn => linkifier, "linkifier-ipn";
}
