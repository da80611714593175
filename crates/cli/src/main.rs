//! `paybridge`: try an integration by hand, debug a callback, check a payment, run the local
//! sandbox and the end-to-end demo. The contract is `docs/cli.md`.
#![forbid(unsafe_code)]

mod cli;
mod demo;
mod ledger;
mod output;
mod providers;
mod registry;
mod sandbox;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::{CliError, Outcome};

fn main() -> ExitCode {
    let json = std::env::args().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::usage_error(&e, json),
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return output::finish(
                Err(CliError::internal(format!("cannot start runtime: {e}"))),
                cli.json,
            );
        }
    };
    let result = runtime.block_on(run(cli.command));
    output::finish(result, cli.json)
}

async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Sandbox(args) => sandbox::serve(&args).await,
        Command::Demo(args) => demo::run(&args).await,
        Command::Receive(args) => ledger::receive(args).await,
        Command::Ledger(command) => ledger::run(command).await,
        Command::Provider(p) => registry::run(p).await,
    }
}

/// Logs go to stderr (stdout is reserved for the result), level from `PAYBRIDGE_LOG`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYBRIDGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
