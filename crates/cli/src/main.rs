//! `paybridge`: try an integration by hand, debug a callback, check a payment, run the local
//! sandbox and the end-to-end demo. Every flag, output field and exit code is in `docs/cli.md`.
//!
//! A first session, against the local sandbox (nothing leaves the machine):
//!
//! ```text
//! $ paybridge demo                      # every provider's flow end to end, exit 0 if all pass
//! $ paybridge sandbox --addr 127.0.0.1:18080 &
//! {"card-charging":"http://127.0.0.1:18080/chargingws/v2","ledger":"sqlite:///tmp/…/ledger.db",…}
//! $ export PAYBRIDGE_CARD_PARTNER_ID=sandbox-partner PAYBRIDGE_CARD_PARTNER_KEY=sandbox-key
//! $ paybridge --json card-charging charge --endpoint http://127.0.0.1:18080/chargingws/v2 \
//!       --telco VIETTEL --code 312821445892989 --serial 10004783347874 \
//!       --amount 50000 --request-id order-1002
//! {"amount":"35000","amount_mismatch":false,"declared_value":"50000","message":"PENDING",
//!  "provider_status":99,"request_id":"order-1002","status":"pending","trans_id":"2","value":null}
//! $ paybridge --json card-charging check --endpoint http://127.0.0.1:18080/chargingws/v2 \
//!       --telco VIETTEL --code 312821445892989 --serial 10004783347874 \
//!       --amount 50000 --request-id order-1002
//! {"amount":"35000",…,"message":"Thành công","provider_status":1,"status":"succeeded",…}
//! ```
//!
//! (In the sandbox the card code's last digit picks the outcome: 1 success, 3 card error,
//! 9 pending then success.) Exit codes: 0 done, 1 the provider said no or a signature did not
//! match, 2 bad input, 3 transport failure or outcome unknown — the JSON `error` says which
//! and, for a charge whose outcome is unknown, the command that finds out. Secrets (`--partner-key`, `--code`) come from flags
//! or environment variables and are never printed.
#![forbid(unsafe_code)]

mod cli;
mod demo;
mod dev;
mod flows;
mod ledger;
mod merchant_settings;
mod merchants;
mod mounts;
mod output;
mod platform;
mod providers;
mod receive;
mod reconcile;
mod registry;
mod sandbox;
mod settings;
mod store;
mod trigger;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::{CliError, Outcome};

fn main() -> ExitCode {
    let json = std::env::args().any(|a| a == "--json");
    // A provider command for a merchant reads its credentials as it parses: run again with
    // the merchant's (before parsing here, where this process's would be missing or wrong).
    if let Some(m) = platform::provider_command_for_merchant() {
        return match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt
                .block_on(platform::run_as_merchant(&m))
                .unwrap_or_else(|e| output::finish(Err(e), json)),
            Err(e) => output::finish(
                Err(CliError::internal(format!("cannot start runtime: {e}"))),
                json,
            ),
        };
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return output::usage_error(&e, json, <cli::Cli as clap::CommandFactory>::command());
        }
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
    if let Some(m) = &cli.merchant {
        store::set_merchant(m.clone());
    }
    let result = match (cli.merchant, &cli.command) {
        (Some(_), Command::Provider(_) | Command::Ledger(_)) | (None, _) => {
            runtime.block_on(run(cli.command))
        }
        (Some(m), _) => Err(CliError::input(format!(
            "--merchant {m:?} is for payment, provider and ledger commands: receive and reconcile serve every registered merchant"
        ))),
    };
    output::finish(result, cli.json)
}

async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Sandbox(args) => sandbox::serve(&args).await,
        Command::Demo(args) => demo::run(&args).await,
        Command::Dev(args) => dev::run(args).await,
        Command::Trigger(args) => trigger::trigger(args).await,
        Command::Completions(args) => Ok(cli::completions(&args)),
        Command::Receive(args) => receive::receive(args).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Ledger(command) => ledger::run(command).await,
        Command::Merchants(command) => merchants::run(command).await,
        Command::Provider(p) => providers::run(p).await,
    }
}

/// Logs go to stderr (stdout is reserved for the result), level from `PAYBRIDGE_LOG`.
fn init_tracing() {
    // `PAYBRIDGE_LOG` wins; `RUST_LOG`, as every Rust tool reads it, else; `warn` by default.
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYBRIDGE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
