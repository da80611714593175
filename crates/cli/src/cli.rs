//! The command-line grammar (clap derive). Provider subcommands are declared in
//! `registry.rs`, the one place a provider is registered.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::providers::ProviderCommand;

/// paybridge: payment-provider SDKs, a local sandbox and a demo.
#[derive(Debug, Parser)]
#[command(name = "paybridge", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Print exactly one JSON object on stdout (logs go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// A platform's merchant (`paybridge merchants add`): payment, provider and ledger
    /// commands record, list and refund its payments only — keyed by (merchant, provider,
    /// reference). Without it, the default merchant's.
    #[arg(long, global = true, env = "PAYBRIDGE_MERCHANT", value_name = "M")]
    pub merchant: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only complicate clap's flatten"
)]
pub(crate) enum Command {
    /// Start every provider simulator on one port and print their endpoints as one JSON line.
    Sandbox(crate::sandbox::SandboxArgs),
    /// Run one complete flow per provider against the in-process sandbox.
    Demo(crate::demo::DemoArgs),
    /// The sandbox, the merchant's receiver over a ledger and (with `--forward`) the forwarder,
    /// wired together in one process, with a live log of every event.
    Dev(crate::dev::DevArgs),
    /// Make a payment reach an outcome in a running `paybridge dev`.
    Trigger(crate::trigger::TriggerArgs),
    /// Serve every provider's callback route over a ledger; print the routes as one JSON line.
    Receive(crate::receive::ReceiveArgs),
    /// Ask the providers about every payment that is not final and whose check is due.
    Reconcile(crate::reconcile::ReconcileArgs),
    /// Read or purge a ledger.
    #[command(subcommand)]
    Ledger(crate::ledger::LedgerCommand),
    /// A platform's merchants, each with its own provider settings (sealed in the ledger).
    #[command(subcommand)]
    Merchants(crate::merchants::MerchantsCommand),
    /// Print a shell completion script: `paybridge completions bash > ~/.local/share/bash-completion/completions/paybridge`.
    Completions(CompletionsArgs),
    #[command(flatten)]
    Provider(ProviderCommand),
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Write `shell`'s completion script for every command and flag to stdout.
pub(crate) fn completions(args: &CompletionsArgs) -> crate::output::Outcome {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Into memory first: a closed pipe (`| head`) is then the printer's quiet case, not a panic
    // in the generator.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "paybridge", &mut script);
    crate::output::print_out(&String::from_utf8_lossy(&script));
    crate::output::Outcome::printed()
}

/// Flags every network command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct NetArgs {
    /// Full URL of the provider's service endpoint.
    #[arg(long)]
    pub endpoint: String,
    /// Seconds allowed for the command's whole network work, retries included (more than 0).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = positive_seconds)]
    pub timeout: u64,
}

/// `--timeout`: a whole number of seconds, more than 0.
pub(crate) fn positive_seconds(value: &str) -> Result<u64, String> {
    match value.trim().parse::<i128>() {
        Ok(n) if n > 0 => u64::try_from(n).map_err(|_| format!("{value} seconds is too long")),
        Ok(_) => Err(format!("must be more than 0 seconds, got {value}")),
        Err(_) => Err(format!("must be a whole number of seconds, got {value:?}")),
    }
}

impl NetArgs {
    /// The transport settings these flags ask for.
    pub fn http_config(&self) -> paybridge_core::http::HttpConfig {
        paybridge_core::http::HttpConfig::default()
            .timeout(Duration::from_secs(self.timeout))
            .connect_timeout(Duration::from_secs(self.timeout.min(10)))
    }
}
