//! `paybridge woopay refund | refund-mobile`: money given back, never resent.

use clap::Args;
use paybridge_core::{Currency, Money};
use serde_json::json;

use super::creds::{Creds, err};
use crate::output::{CliError, Outcome};

#[derive(Debug, Args)]
pub(crate) struct RefundMobileArgs {
    #[command(flatten)]
    creds: Creds,
    /// The paid operation.
    #[arg(long)]
    operation_id: i64,
    /// How much to give back (KZT).
    #[arg(long)]
    amount: String,
    /// Ask Wooppay to refund even where the operator's own checks would refuse (`force`).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RefundArgs {
    #[command(flatten)]
    creds: Creds,
    /// The paid operation.
    #[arg(long)]
    operation_id: i64,
    /// How much to give back (KZT); all that is left when absent.
    #[arg(long)]
    amount: Option<String>,
    /// Record the refund in this ledger, against the payment the operation was created for:
    /// never more than was paid, a repeat of the refund id recognised and not sent again.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
    /// The refund's id in the ledger (default `<operation-id>-<amount or "rest">`: the same
    /// command run twice is one refund; give another id for a second refund of the same
    /// amount).
    #[arg(long, requires = "ledger")]
    refund_id: Option<String>,
}

/// `woopay refund-mobile`: a phone-balance payment back to the phone.
pub(super) async fn refund_mobile(a: &RefundMobileArgs) -> Result<Outcome, CliError> {
        let amount = Money::parse(&a.amount, Currency::KZT)?;
        a.creds
            .client()?
            .mobile_refund(a.operation_id, amount, a.force)
            .await
            .map_err(err)?;
        Ok(Outcome::ok(json!({
            "operation_id": a.operation_id,
            "refunded": amount.amount_string(),
            "status": "succeeded",
        })))
}

/// `woopay refund --ledger`: the refund recorded against the payment the operation was
/// created for (its reference read back with `cash_getOperationDataExtended`), through
/// `Ledger::refund` — the sum rule and the refund id checked before anything is sent.
async fn refund_recorded(a: &RefundArgs, url: &str) -> Result<Outcome, CliError> {
    let client = a.creds.client()?;
    let ledger = std::sync::Arc::new(crate::store::open(url).await?);
    let details = client
        .operation_data_extended(&[a.operation_id])
        .await
        .map_err(err)?;
    let reference = details
        .iter()
        .find(|d| d.id == a.operation_id)
        .and_then(|d| d.external_id.clone())
        .ok_or_else(|| CliError::input("Wooppay gave no reference for the operation"))?;
    let recorded = ledger
        .payment(paybridge_woopay::PROVIDER_ID, &reference)
        .await
        .map_err(paybridge_core::Error::from)?
        .ok_or_else(|| {
            CliError::input(format!(
                "the ledger holds no Wooppay payment {reference:?} (operation {})",
                a.operation_id
            ))
        })?;
    if recorded.payment.status == paybridge_core::PaymentStatus::Pending {
        return Err(CliError::input(format!(
            "the ledger has {reference:?} as pending: let it learn the payment first \
             (`paybridge reconcile --once` with PAYBRIDGE_WOOPAY_ENDPOINT, or the requestUrl \
             call through `paybridge receive`), then refund"
        )));
    }
    let amount = a
        .amount
        .as_deref()
        .map(|amount| Money::parse(amount, Currency::KZT))
        .transpose()?;
    // The default id names the amount in minor units, not as typed: `1000` and `1000.00`
    // are one refund, recognised as a repeat, never sent twice.
    let refund_id = a.refund_id.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            a.operation_id,
            amount.map_or_else(|| "rest".to_owned(), crate::store::minor_units_text)
        )
    });
    let request = match amount {
        Some(amount) => paybridge_core::RefundRequest::partial(&refund_id, amount),
        None => paybridge_core::RefundRequest::full(&refund_id),
    };
    let provider = paybridge_woopay::WoopayProvider::new(
        client,
        paybridge_core::Stores::in_memory().records(ledger.clone()),
    );
    let payment = paybridge_core::PaymentRef {
        reference: reference.clone(),
        provider_reference: Some(a.operation_id.to_string()),
    };
    let r = crate::store::refund_through(&ledger, &provider, &payment, request).await?;
    Ok(Outcome::ok(json!({
        "operation_id": a.operation_id,
        "reference": reference,
        "refund_id": refund_id,
        "refunded": r.amount.amount_string(),
        "status": r.status.as_str(),
        "repeat": r.repeat,
        "payment_status": r.payment_status,
    })))
}

/// `woopay refund`: `--amount` of a paid operation back, or all that is left.
pub(super) async fn refund(a: &RefundArgs) -> Result<Outcome, CliError> {
    if let Some(url) = &a.ledger {
        return refund_recorded(a, url).await;
    }
    let client = a.creds.client()?;
    let refunded = if let Some(amount) = &a.amount {
        let amount = Money::parse(amount, Currency::KZT)?;
        client
            .payment_return_partial(a.operation_id, amount)
            .await
            .map_err(err)?;
        amount
    } else {
        // A full return gives back the operation's sum (less earlier refunds, which Wooppay
        // does not report): read it first.
        let sum = client
            .operation(a.operation_id)
            .await
            .map_err(err)?
            .sum
            .ok_or_else(|| CliError::input("Wooppay returned no sum for the operation"))?;
        client.payment_return(a.operation_id).await.map_err(err)?;
        sum
    };
    Ok(Outcome::ok(json!({
        "operation_id": a.operation_id,
        "refunded": refunded.amount_string(),
        "status": "succeeded",
    })))
}
