//! The one place a provider is registered: its subcommands, its sandbox mount and its demo
//! flow. Adding a provider means adding one line to each list below.

use clap::Subcommand;

use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Provider subcommands (`paybridge <provider> <command>`).
#[derive(Debug, Subcommand)]
pub(crate) enum ProviderCommand {}

/// Run a provider subcommand.
pub(crate) async fn run(command: ProviderCommand) -> Result<Outcome, CliError> {
    match command {}
}

/// Every provider's simulator, mounted on one router.
pub(crate) fn sandbox_mounts(_ctx: &SandboxContext) -> Vec<Mount> {
    Vec::new()
}

/// Every provider's demo flow against the running sandbox.
pub(crate) async fn demo_flows(
    _sandbox: &crate::sandbox::RunningSandbox,
) -> Vec<(
    &'static str,
    Result<crate::demo::FlowLog, (crate::demo::FlowLog, String)>,
)> {
    Vec::new()
}
