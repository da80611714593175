//! The one place a provider is registered: its subcommands, its sandbox mount and its demo
//! flow. Adding a provider means adding one line to each list below.

use clap::Subcommand;

use crate::demo::{FlowLog, FlowResult};
use crate::output::{CliError, Outcome};
use crate::providers::{card_charging, linkifier, payoo, qvickly, woopay};
use crate::sandbox::{Mount, RunningSandbox, SandboxContext};

/// Provider subcommands (`paybridge <provider> <command>`).
#[derive(Debug, Subcommand)]
pub(crate) enum ProviderCommand {
    /// Vietnamese telco card-charging gateways (`chargingws/v2`).
    #[command(subcommand, name = "card-charging")]
    CardCharging(card_charging::Command),
    /// Qvickly IPN callbacks: verify, forward to the booking API.
    #[command(subcommand)]
    Qvickly(qvickly::Command),
    /// Wooppay invoices over SOAP.
    #[command(subcommand)]
    Woopay(woopay::Command),
    /// Linkifier IPNs: send and verify.
    #[command(subcommand, name = "linkifier-ipn")]
    LinkifierIpn(linkifier::Command),
    /// Payoo BPG `CallToPartner`.
    #[command(subcommand)]
    Payoo(payoo::Command),
}

/// Run a provider subcommand.
pub(crate) async fn run(command: ProviderCommand) -> Result<Outcome, CliError> {
    match command {
        ProviderCommand::CardCharging(c) => card_charging::run(c).await,
        ProviderCommand::Qvickly(c) => qvickly::run(c).await,
        ProviderCommand::Woopay(c) => woopay::run(c).await,
        ProviderCommand::LinkifierIpn(c) => linkifier::run(c).await,
        ProviderCommand::Payoo(c) => payoo::run(c).await,
    }
}

/// Every provider's simulator, mounted on one router.
pub(crate) fn sandbox_mounts(ctx: &SandboxContext) -> Result<Vec<Mount>, CliError> {
    Ok(vec![
        card_charging::mount(ctx)?,
        qvickly::mount(ctx)?,
        woopay::mount(ctx)?,
        linkifier::mount(ctx)?,
        payoo::mount(ctx)?,
    ])
}

/// Every provider's demo flow against the running sandbox, in order.
pub(crate) async fn demo_flows(sandbox: &RunningSandbox) -> Vec<FlowResult> {
    let mut results = Vec::new();
    if let Some(endpoint) = sandbox.endpoints.get("card-charging") {
        let mut log = FlowLog::default();
        let error = card_charging::demo(endpoint, &mut log).await.err();
        results.push(FlowResult {
            provider: "card-charging",
            log,
            error,
        });
    }
    if let Some(endpoint) = sandbox.endpoints.get("woopay") {
        let mut log = FlowLog::default();
        let base_url = format!("http://{}", sandbox.addr);
        let error = woopay::demo(endpoint, &base_url, &mut log).await.err();
        results.push(FlowResult {
            provider: "woopay",
            log,
            error,
        });
    }
    if let Some(endpoint) = sandbox.endpoints.get("qvickly") {
        let mut log = FlowLog::default();
        let base_url = format!("http://{}", sandbox.addr);
        let error = qvickly::demo(endpoint, &base_url, &mut log).await.err();
        results.push(FlowResult {
            provider: "qvickly",
            log,
            error,
        });
    }
    if let Some(endpoint) = sandbox.endpoints.get("payoo") {
        let mut log = FlowLog::default();
        let base_url = format!("http://{}", sandbox.addr);
        let error = payoo::demo(endpoint, &base_url, &mut log).await.err();
        results.push(FlowResult {
            provider: "payoo",
            log,
            error,
        });
    }
    if sandbox.endpoints.contains_key("linkifier-ipn") {
        let mut log = FlowLog::default();
        let base_url = format!("http://{}", sandbox.addr);
        let error = linkifier::demo(&base_url, &mut log).await.err();
        results.push(FlowResult {
            provider: "linkifier-ipn",
            log,
            error,
        });
    }
    results
}
