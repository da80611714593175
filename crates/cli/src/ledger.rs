//! `paybridge ledger events | payments | review | purge | outbox | redeliver | show | refunds |
//! migrate`.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};
use crate::store::LedgerArg;

/// A page's error: a foreign cursor is the user's input.
fn page_error(e: paybridge_ledger::LedgerError) -> CliError {
    match e {
        e @ paybridge_ledger::LedgerError::Cursor(_) => CliError::input(e.to_string()),
        e => paybridge_core::Error::from(e).into(),
    }
}

/// One payment as `ledger payments` and `ledger review` print it.
fn payment_json(p: &paybridge_ledger::PaymentRow) -> Value {
    json!({
        "provider": p.payment.provider,
        "reference": p.payment.reference,
        "provider_reference": p.payment.provider_reference,
        "status": p.payment.status.as_str(),
        "amount": p.payment.amount.amount_string(),
        "currency": p.payment.amount.currency().code(),
        "paid_amount": p.paid_amount.map(|m| m.amount_string()),
        "refunded_amount": p.refunded_amount.map(|m| m.amount_string()),
        "anomaly": p.anomaly.map(paybridge_ledger::Anomaly::as_str),
        "next_check_at": p.next_check_at.map(paybridge_ledger::format_time),
        "checks": p.checks,
        "last_check_error": p.last_check_error,
        "created_at": paybridge_ledger::format_time(p.created_at),
        "updated_at": paybridge_ledger::format_time(p.updated_at),
    })
}

/// `ledger review`: the payments under review, each with its events.
async fn review(a: ReviewArgs) -> Result<Outcome, CliError> {
    let ledger = a.ledger.open_existing().await?;
    let page = ledger
        .payments_page(
            None,
            Some(paybridge_core::PaymentStatus::NeedsReview),
            a.limit,
            a.after.as_deref(),
        )
        .await
        .map_err(page_error)?;
    let mut payments = Vec::with_capacity(page.payments.len());
    for p in &page.payments {
        let events = ledger
            .events(&p.payment.provider, &p.payment.reference)
            .await
            .map_err(paybridge_core::Error::from)?;
        let mut row = payment_json(p);
        if let Some(map) = row.as_object_mut() {
            map.insert(
                "events".into(),
                events
                    .iter()
                    .map(|e| {
                        json!({
                            "status": e.status.as_str(),
                            "provider_status": e.provider_status,
                            "source": e.source,
                            "applied": e.applied,
                            "anomaly": e.anomaly.map(paybridge_ledger::Anomaly::as_str),
                            "at": paybridge_ledger::format_time(e.at),
                        })
                    })
                    .collect(),
            );
        }
        payments.push(row);
    }
    Ok(Outcome::ok(
        json!({ "payments": payments, "next": page.next }),
    ))
}

/// `ledger refunds [--resolve]`.
async fn refunds(a: RefundsArgs) -> Result<Outcome, CliError> {
    let ledger = std::sync::Arc::new(a.ledger.open_existing().await?);
    let unknown_after = Duration::from_secs(a.pending_for);
    let mut resolved = serde_json::Map::new();
    if a.resolve {
        // A platform's merchant's refunds are asked about with its own credentials.
        let providers = if ledger.merchant_id().is_empty() {
            crate::reconcile::providers_from_env(&ledger)?
        } else {
            crate::merchant_settings::providers_of_merchant(&ledger).await?
        };
        for provider in providers {
            let r = ledger
                .resolve_refunds(provider.as_ref(), unknown_after)
                .await
                .map_err(paybridge_core::Error::from)?;
            resolved.insert(
                provider.id().to_owned(),
                json!({"asked": r.asked, "succeeded": r.succeeded, "failed": r.failed, "unknown": r.unknown}),
            );
        }
    }
    let mut pending = Vec::new();
    for provider in crate::providers::PROVIDER_NAMES {
        for p in ledger
            .pending_refunds(provider, unknown_after)
            .await
            .map_err(paybridge_core::Error::from)?
        {
            pending.push(json!({
                "provider": p.refund.provider,
                "reference": p.refund.reference,
                "refund_id": p.refund.refund_id,
                "amount": p.refund.amount.amount_string(),
                "currency": p.refund.amount.currency().code(),
                "status": p.refund.status.as_str(),
                "created_at": paybridge_ledger::format_time(p.refund.created_at),
            }));
        }
    }
    let mut out = json!({ "pending": pending });
    if a.resolve {
        crate::output::set_field(&mut out, "resolved", Value::Object(resolved));
    }
    Ok(Outcome::ok(out))
}

/// `ledger show`: one payment and its timeline.
async fn show(a: ShowArgs) -> Result<Outcome, CliError> {
    let ledger = a.ledger.open_existing().await?;
    let Some(timeline) = ledger
        .timeline(&a.provider, &a.reference)
        .await
        .map_err(paybridge_core::Error::from)?
    else {
        let message = format!(
            "the ledger holds no {} payment {:?}",
            a.provider, a.reference
        );
        return Ok(Outcome {
            value: Some(json!({"error": {"kind": "input", "code": null, "message": message}})),
            human: Some(message),
            exit: 1,
        });
    };
    let (entries, lines): (Vec<Value>, Vec<String>) =
        timeline.entries.iter().map(timeline_entry).unzip();
    let p = &timeline.payment;
    let head = format!(
        "{} {}: {} {} {}{}",
        p.payment.provider,
        p.payment.reference,
        p.payment.status.as_str(),
        p.payment.amount.amount_string(),
        p.payment.amount.currency().code(),
        p.anomaly.map(|a| format!(" ({a})")).unwrap_or_default()
    );
    Ok(Outcome {
        value: Some(json!({ "payment": payment_json(p), "timeline": entries })),
        human: Some(format!(
            "{}\n{}\n",
            crate::output::terminal_safe(&head),
            lines.join("\n")
        )),
        exit: 0,
    })
}

/// One timeline entry as `ledger show` prints it: its JSON object and its readable line.
fn timeline_entry(e: &paybridge_ledger::timeline::Entry) -> (Value, String) {
    use paybridge_ledger::timeline::Entry;
    let money = |m: Option<paybridge_core::Money>| m.map(|m| m.amount_string());
    let anomaly = |a: Option<paybridge_ledger::Anomaly>| a.map(paybridge_ledger::Anomaly::as_str);
    let at = paybridge_ledger::format_time(e.at());
    let (value, line) = match e {
        Entry::Recorded { amount, .. } => (
            json!({"at": at, "kind": "recorded", "amount": money(*amount)}),
            format!("recorded {}", money(*amount).unwrap_or_default()),
        ),
        Entry::Report {
            source,
            status,
            provider_status,
            amount,
            anomaly: a,
            applied,
            deliveries,
            ..
        } => (
            json!({"at": at, "kind": "report", "source": source, "status": status.as_str(),
                "provider_status": provider_status, "amount": money(*amount),
                "anomaly": anomaly(*a), "applied": applied, "deliveries": deliveries}),
            format!(
                "report {source} {} ({provider_status}){}{}{}",
                status.as_str(),
                money(*amount)
                    .map(|m| format!(" paid {m}"))
                    .unwrap_or_default(),
                anomaly(*a)
                    .map(|a| format!(" anomaly {a}"))
                    .unwrap_or_default(),
                deliveries.map(|d| format!(" ×{d}")).unwrap_or_default(),
            ),
        ),
        Entry::Change {
            from,
            to,
            anomaly: a,
            webhook_id,
            ..
        } => (
            json!({"at": at, "kind": "change", "from": from.as_str(), "to": to.as_str(),
                "anomaly": anomaly(*a), "webhook_id": webhook_id}),
            format!(
                "change {} → {}{} {webhook_id}",
                from.as_str(),
                to.as_str(),
                anomaly(*a).map(|a| format!(" ({a})")).unwrap_or_default()
            ),
        ),
        Entry::Refund {
            id, amount, status, ..
        } => (
            json!({"at": at, "kind": "refund", "id": id, "amount": amount.amount_string(),
                "status": status.as_str()}),
            format!("refund {id} {} {}", amount.amount_string(), status.as_str()),
        ),
        Entry::Delivery(d) => (
            json!({"at": at, "kind": "delivery", "webhook_id": d.webhook_id,
                "target": paybridge_core::http::redacted_url(&d.target),
                "attempt": d.attempt, "http_status": d.http_status, "error": d.error}),
            format!(
                "delivery {} to {} attempt {} {}",
                d.webhook_id,
                paybridge_core::http::redacted_url(&d.target),
                d.attempt,
                d.error.as_deref().unwrap_or("delivered")
            ),
        ),
        _ => (json!({"at": at, "kind": "other"}), "other".to_owned()),
    };
    let line = crate::output::terminal_safe(&format!("{at}  {line}"));
    (value, line)
}

/// `paybridge ledger …`.
#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Callbacks received: one event per natural key, with its delivery count.
    Events(EventsArgs),
    /// Payments recorded by `--ledger` on the payment commands.
    Payments(PaymentsArgs),
    /// The payments whose status is `needs_review`, with their anomaly and events.
    Review(ReviewArgs),
    /// Remove completed callbacks older than each provider's retry horizon (plus 7 days).
    Purge(LedgerArg),
    /// Deliveries of state changes not delivered yet (queued, or failed with `--failed`).
    Outbox(OutboxArgs),
    /// Queue one delivery again (a failed one, or one the merchant lost).
    Redeliver(RedeliverArgs),
    /// One payment's whole story, in time order: recorded, reports, changes (with their
    /// webhook ids), refunds, delivery attempts.
    Show(ShowArgs),
    /// Refunds whose outcome is unknown (pending a minute or more, their amount reserved);
    /// with `--resolve`, the providers are asked and what they say recorded.
    Refunds(RefundsArgs),
    /// Create the ledger if it is missing and bring its schema to this build's.
    Migrate(LedgerArg),
}

#[derive(Debug, Args)]
pub(crate) struct RefundsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Ask each provider whose endpoint the environment names (as `reconcile` does) where its
    /// pending refunds stand, and record the answers: Payoo's resent under the same `RefundId`
    /// (harmless), Wooppay's read back; one the provider cannot tell about stays pending.
    #[arg(long)]
    resolve: bool,
    /// A refund counts as its outcome unknown once pending this many seconds (a refund being
    /// sent now is never asked about).
    #[arg(long, default_value_t = paybridge_ledger::refunds::UNKNOWN_AFTER.as_secs())]
    pending_for: u64,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The payment's provider (`card-charging`, `woopay`, `payoo`, `qvickly`, `linkifier-ipn`).
    #[arg(long)]
    provider: String,
    /// The payment's merchant reference.
    #[arg(long)]
    reference: String,
}

#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only those that gave up.
    #[arg(long)]
    failed: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RedeliverArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The delivery's event id (its `webhook-id`, `msg_…`).
    #[arg(long)]
    event: String,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only this provider's.
    #[arg(long)]
    provider: Option<String>,
    /// Only this merchant reference's.
    #[arg(long)]
    reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PaymentsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only this provider's.
    #[arg(long)]
    provider: Option<String>,
    /// Only payments in this status (`pending`, `succeeded`, `needs_review`, …).
    #[arg(long, value_parser = parse_status)]
    status: Option<paybridge_core::PaymentStatus>,
    /// At most this many a page (1 to 10 000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    /// The page after this cursor (the `next` of the page before).
    #[arg(long)]
    after: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ReviewArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// At most this many payments (1 to 10 000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    /// The page after this cursor.
    #[arg(long)]
    after: Option<String>,
}

fn parse_status(word: &str) -> Result<paybridge_core::PaymentStatus, String> {
    paybridge_core::PaymentStatus::parse(word).ok_or_else(|| {
        format!("{word:?} is not a status: pending, succeeded, failed, cancelled, reversed, needs_review")
    })
}

/// How long a provider may deliver a callback again, by provider id.
fn retry_horizon(provider: &str) -> Duration {
    let horizon = match provider {
        "qvickly" => paybridge_qvickly::notification::RETRY_HORIZON,
        "payoo" => paybridge_payoo::notification::RETRY_HORIZON,
        "linkifier-ipn" => paybridge_linkifier_ipn::record::RETRY_HORIZON,
        _ => paybridge_card_charging::notification::RETRY_HORIZON,
    };
    horizon + Duration::from_hours(7 * 24)
}

pub(crate) async fn run(command: LedgerCommand) -> Result<Outcome, CliError> {
    match command {
        LedgerCommand::Events(a) => {
            let ledger = a.ledger.open_existing().await?;
            let records = ledger
                .callbacks(a.provider.as_deref(), a.reference.as_deref())
                .await
                .map_err(paybridge_core::Error::from)?;
            let events: Vec<Value> = records
                .iter()
                .map(|r| {
                    let outcome = r.outcome.as_ref();
                    json!({
                        "provider": r.provider,
                        "key": r.key,
                        "reference": outcome.map(|o| o.reference.clone()),
                        "status": outcome.map(|o| o.status.as_str()),
                        "provider_status": outcome.map(|o| o.provider_status.clone()),
                        "amount": outcome.and_then(|o| o.amount).map(|m| m.amount_string()),
                        "anomaly": r.anomaly.map(paybridge_ledger::Anomaly::as_str),
                        "source": r.source.as_deref().unwrap_or("callback"),
                        "deliveries": r.deliveries,
                        "first_received_at": paybridge_ledger::format_time(r.first_received_at),
                        "last_received_at": paybridge_ledger::format_time(r.last_received_at),
                    })
                })
                .collect();
            Ok(Outcome::ok(json!({ "events": events })))
        }
        LedgerCommand::Payments(a) => {
            let ledger = a.ledger.open_existing().await?;
            // One page: memory does not grow with the ledger.
            let page = ledger
                .payments_page(a.provider.as_deref(), a.status, a.limit, a.after.as_deref())
                .await
                .map_err(page_error)?;
            let payments: Vec<Value> = page.payments.iter().map(payment_json).collect();
            Ok(Outcome::ok(
                json!({ "payments": payments, "next": page.next }),
            ))
        }
        LedgerCommand::Review(a) => review(a).await,
        LedgerCommand::Outbox(a) => {
            let ledger = a.ledger.open_existing().await?;
            let entries = ledger
                .outbox(a.failed)
                .await
                .map_err(paybridge_core::Error::from)?;
            let deliveries: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "event": e.change.webhook_id,
                        "target": paybridge_core::http::redacted_url(&e.target),
                        "provider": e.change.provider,
                        "reference": e.change.reference,
                        "status": e.change.status.as_str(),
                        "state": e.state,
                        "attempts": e.attempts,
                        "next_attempt_at": (e.state == "pending").then(|| paybridge_ledger::format_time(e.next_attempt_at)),
                        "last_error": e.last_error,
                    })
                })
                .collect();
            Ok(Outcome::ok(json!({ "deliveries": deliveries })))
        }
        LedgerCommand::Redeliver(a) => {
            let ledger = a.ledger.open_existing().await?;
            if !ledger
                .redeliver(&a.event)
                .await
                .map_err(paybridge_core::Error::from)?
            {
                return Err(CliError::input(format!(
                    "no event {:?} in the ledger (its webhook-id, msg_…)",
                    a.event
                )));
            }
            Ok(Outcome::ok(json!({ "event": a.event, "queued": true })))
        }
        LedgerCommand::Show(a) => show(a).await,
        LedgerCommand::Refunds(a) => refunds(a).await,
        LedgerCommand::Migrate(a) => {
            a.open().await?;
            Ok(Outcome::ok(json!({
                "ledger": paybridge_core::http::redacted_url(&a.ledger),
                "migrated": true
            })))
        }
        LedgerCommand::Purge(a) => {
            let ledger = a.open_existing().await?;
            let purged = ledger
                .purge(retry_horizon)
                .await
                .map_err(paybridge_core::Error::from)?;
            Ok(Outcome::ok(json!({ "purged": purged })))
        }
    }
}
