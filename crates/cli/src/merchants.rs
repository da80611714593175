//! `paybridge merchants add | list | remove | rotate`: the merchants of a platform, each with
//! its own provider settings, sealed in the ledger under `PAYBRIDGE_LEDGER_KEY`.
//!
//! `receive` serves every registered merchant's routes (`/m/{id}/…`), forwards its events to
//! its own target and reconciles its payments with its own credentials ([`crate::platform`]).

use std::time::Duration;

use clap::{Args, Subcommand};
use paybridge_ledger::{Merchant, NewMerchant};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};
use crate::store::LedgerArg;

/// `paybridge merchants …`.
#[derive(Debug, Subcommand)]
pub(crate) enum MerchantsCommand {
    /// Register (or update) a merchant: its provider settings sealed in the ledger.
    Add(AddArgs),
    /// Every registered merchant: its settings' names, never their values.
    List(ListArgs),
    /// Forget a merchant and every value it had.
    Remove(RemoveArgs),
    /// New values for a merchant's settings, the old ones kept valid for callbacks for a while.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The merchant's id (1–64 of a-z, 0-9, '-', '_').
    #[arg(long)]
    id: String,
    /// `NAME=VALUE`: one of the provider settings (`PAYBRIDGE_QVICKLY_SECRET`, …) with this
    /// merchant's value; `NAME` alone takes the value from the environment variable NAME (a
    /// secret then never appears in the process list).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = setting)]
    set: Vec<Setting>,
    /// Where this merchant's events are forwarded.
    #[arg(long, requires = "forward_secret")]
    forward: Option<String>,
    /// The secret its events are signed with (`whsec_…`).
    #[arg(long, requires = "forward", value_parser = crate::providers::secret)]
    forward_secret: Option<SecretString>,
    /// Qvickly's booking-API `CompanyId` of this merchant (a GUID): what `paybridge --merchant M
    /// qvickly forward` sends.
    #[arg(long, value_parser = crate::providers::guid)]
    company_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    ledger: LedgerArg,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The merchant's id.
    #[arg(long)]
    id: String,
    /// Remove it even though some of its payments are not final (nobody checks them after).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The merchant's id.
    #[arg(long)]
    id: String,
    /// `NAME=VALUE` (or `NAME`, from the environment): the new value.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = setting, required = true)]
    set: Vec<Setting>,
    /// How long the old values stay valid beside the new ones, in seconds (default 7 days).
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    grace: u64,
}

/// One `--set`: a provider setting's name and value.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    name: String,
    value: SecretString,
}

/// `NAME=VALUE`, or `NAME` (its value from the environment); NAME one of a provider's
/// settings (`PAYBRIDGE_<PROVIDER>_…`).
fn setting(text: &str) -> Result<Setting, String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, value.to_owned()),
        None => (
            text,
            crate::settings::env(text)
                .ok_or_else(|| format!("{text} is not set in the environment"))?,
        ),
    };
    if provider_of(name).is_none() {
        return Err(format!(
            "{name:?} is no provider's setting (PAYBRIDGE_<PROVIDER>_…, e.g. PAYBRIDGE_QVICKLY_SECRET)"
        ));
    }
    Ok(Setting {
        name: name.to_owned(),
        value: crate::providers::secret(&value)?,
    })
}

/// The provider a setting belongs to: `PAYBRIDGE_` + its name in capitals (`-` as `_`), or its
/// first word (`PAYBRIDGE_CARD_…` for `card-charging`), + `_…`.
pub(crate) fn provider_of(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix("PAYBRIDGE_")?;
    crate::providers::PROVIDER_NAMES
        .iter()
        .copied()
        .find(|provider| {
            let full = provider.to_uppercase().replace('-', "_");
            let first = full.split('_').next().unwrap_or_default().to_owned();
            [full, first].iter().any(|word| {
                rest.strip_prefix(word.as_str())
                    .and_then(|r| r.strip_prefix('_'))
                    .is_some_and(|r| !r.is_empty())
            })
        })
}

/// A merchant as printed: its providers and settings by name, never a value.
fn merchant_json(m: &Merchant) -> Value {
    let mut providers: Vec<&str> = m.settings.iter().filter_map(|s| provider_of(s)).collect();
    providers.dedup();
    json!({
        "id": m.id,
        "providers": providers,
        "settings": m.settings,
        "forward": m.forward.as_deref().map(paybridge_core::http::redacted_url),
        "company_id": m.company_id,
        "created_at": paybridge_ledger::format_time(m.created_at),
    })
}

fn ledger_error(e: paybridge_ledger::LedgerError) -> CliError {
    match e {
        paybridge_ledger::LedgerError::Input(why) => CliError::input(why),
        paybridge_ledger::LedgerError::Seal(why) => {
            CliError::input(format!("{why} (PAYBRIDGE_LEDGER_KEY)"))
        }
        e => paybridge_core::Error::from(e).into(),
    }
}

/// Run a `merchants` command.
pub(crate) async fn run(command: MerchantsCommand) -> Result<Outcome, CliError> {
    match command {
        MerchantsCommand::Add(a) => {
            let ledger = a.ledger.open().await?;
            let mut m = NewMerchant::new(&a.id);
            for s in a.set {
                m = m.set(s.name, s.value);
            }
            if let (Some(url), Some(secret)) = (a.forward, a.forward_secret) {
                m = m.forward(url, secret);
            }
            if let Some(company) = a.company_id {
                m = m.company_id(company);
            }
            ledger.add_merchant(&m).await.map_err(ledger_error)?;
            let added = ledger.merchant(&a.id).await.map_err(ledger_error)?;
            Ok(Outcome::ok(
                json!({ "merchant": added.as_ref().map(merchant_json) }),
            ))
        }
        MerchantsCommand::List(a) => {
            let ledger = a.ledger.open_existing().await?;
            let merchants = ledger.merchants().await.map_err(ledger_error)?;
            Ok(Outcome::ok(json!({
                "merchants": merchants.iter().map(merchant_json).collect::<Vec<_>>()
            })))
        }
        MerchantsCommand::Remove(a) => {
            let ledger = a.ledger.open().await?;
            if !ledger
                .remove_merchant(&a.id, a.force)
                .await
                .map_err(ledger_error)?
            {
                return Err(CliError::input(format!("no merchant {:?}", a.id)));
            }
            Ok(Outcome::ok(json!({ "removed": a.id })))
        }
        MerchantsCommand::Rotate(a) => {
            let ledger = a.ledger.open().await?;
            let settings = a.set.into_iter().map(|s| (s.name, s.value)).collect();
            ledger
                .rotate_merchant(&a.id, settings, Duration::from_secs(a.grace))
                .await
                .map_err(ledger_error)?;
            let rotated = ledger.merchant(&a.id).await.map_err(ledger_error)?;
            Ok(Outcome::ok(json!({
                "merchant": rotated.as_ref().map(merchant_json),
                "grace_seconds": a.grace,
            })))
        }
    }
}
