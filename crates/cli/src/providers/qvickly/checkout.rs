//! `paybridge qvickly init-checkout | update-checkout | get-checkout | create-paylink`:
//! Qvickly Checkout and pay links, through the Payment API.
//!
//! With `--ledger`, `init-checkout` records the payment before anything is sent — under its
//! `orderid`, for `Cart.Total.withtax`, with the checkout (`checkout <number> <hash>`) as its
//! instrument — and `update-checkout` makes the recorded payment follow the new cart and the
//! shop's final `orderid`, so the completed checkout's callback (which names the payment's
//! own number and that orderid) is matched, its money checked against what is recorded.

use clap::Args;
use paybridge_qvickly::checkout::{
    CheckoutAnswer, CheckoutState, PAYLINK_METHOD, instrument, paylink_urls,
};
use serde_json::{Value, json};

use super::{ApiArgs, BodyArgs, answer_json, err, read_json, recorded_payment};
use crate::output::{CliError, Outcome};

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// File holding the `data` object: `CheckoutData` (`terms` required), `PaymentData`,
    /// `PaymentInfo`, `Customer`, `Articles`, `Cart` (a path or `-`).
    #[arg(long)]
    body: String,
    /// Record the payment in this ledger (pending, under its `orderid`, for
    /// `Cart.Total.withtax`) before the checkout is made.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// The checkout's number (what `init-checkout` printed).
    #[arg(long)]
    number: String,
    /// File holding the new `Articles` and `Cart` (and `PaymentData.orderid`, the shop's
    /// final order reference); a path or `-`.
    #[arg(long)]
    body: String,
    /// The ledger the checkout was recorded in: its payment follows the new cart and orderid.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// The checkout's hash (what `init-checkout` printed, or the path segment of its URL).
    #[arg(long)]
    hash: String,
}

fn checkout_json(a: &CheckoutAnswer) -> Value {
    let page = a.page.as_ref();
    json!({
        "number": a.number,
        "hash": page.map(|p| p.hash.clone()),
        "test": page.map(|p| p.test),
        "url": a.url,
        "status": paybridge_qvickly::status::QvicklyStatus::parse(&a.status).normalized().as_str(),
        "provider_status": a.status,
        "order_id": a.orderid,
    })
}

/// `init-checkout [--ledger]`: recorded first, then sent once.
pub(super) async fn init(a: &InitArgs) -> Result<Outcome, CliError> {
    let data = read_json(&a.body)?;
    let api = a.api.api()?;
    let Some(url) = &a.ledger else {
        let answer = api.call_data("initCheckout", &data).await.map_err(err)?;
        return Ok(Outcome::ok(checkout_json(
            &CheckoutAnswer::from_data(&answer).map_err(err)?,
        )));
    };
    let (ledger, payment, answer) =
        super::recorded_then_sent(&api, "initCheckout", &data, url).await?;
    let made = CheckoutAnswer::from_data(&answer).map_err(err)?;
    let hash = made.page.as_ref().map(|p| p.hash.as_str()).unwrap_or_default();
    // The checkout's number and hash, kept with the payment (`update-checkout --ledger`
    // finds it by them; `ledger show` prints them). Its payment number comes with the
    // callback.
    let noted = ledger
        .set_instrument(paybridge_qvickly::PROVIDER_ID, &payment.reference, &instrument(&made.number, hash))
        .await
        .map_err(paybridge_core::Error::from)?;
    if !noted {
        tracing::warn!(reference = %payment.reference, "the checkout could not be noted on its payment");
    }
    Ok(Outcome::ok(checkout_json(&made)))
}

/// `update-checkout [--ledger]`: with a ledger, the recorded payment follows the new cart
/// and orderid — before sending, so a callback for the new orderid always finds it; put back
/// when Qvickly refuses the update.
pub(super) async fn update(a: &UpdateArgs) -> Result<Outcome, CliError> {
    let mut data = read_json(&a.body)?;
    let Some(map) = data.as_object_mut() else {
        return Err(CliError::input("the body is a JSON object (Articles, Cart, PaymentData)"));
    };
    let pd = map.entry("PaymentData").or_insert_with(|| json!({}));
    let Some(pd) = pd.as_object_mut() else {
        return Err(CliError::input("PaymentData is an object"));
    };
    pd.insert("number".into(), json!(a.number));
    let api = a.api.api()?;
    let Some(url) = &a.ledger else {
        let answer = api.call_data("updateCheckout", &data).await.map_err(err)?;
        return Ok(Outcome::ok(checkout_json(
            &CheckoutAnswer::from_data(&answer).map_err(err)?,
        )));
    };
    let ledger = crate::store::open(url).await?;
    let prefix = format!("checkout {} ", a.number);
    let recorded = ledger
        .payment_by_instrument(paybridge_qvickly::PROVIDER_ID, &prefix)
        .await
        .map_err(paybridge_core::Error::from)?
        .ok_or_else(|| {
            CliError::input(format!(
                "the ledger holds no checkout {} (recorded by init-checkout --ledger)",
                a.number
            ))
        })?;
    let old = recorded.payment.reference.clone();
    let updated = recorded_payment(&json!({
        "PaymentData": {
            "orderid": data.pointer("/PaymentData/orderid").cloned().unwrap_or(json!(old)),
            "currency": recorded.payment.amount.currency().code(),
        },
        "Cart": data.get("Cart").cloned().unwrap_or_else(|| json!({"Total": {"withtax": recorded.payment.amount.to_minor_units()}})),
    }))?;
    let follow = |from: String, to: String, amount: paybridge_core::Money| {
        let ledger = &ledger;
        async move {
            ledger
                .follow_update(paybridge_qvickly::PROVIDER_ID, &from, &to, &amount)
                .await
                .map_err(paybridge_core::Error::from)
        }
    };
    if !follow(old.clone(), updated.reference.clone(), updated.amount).await? {
        return Err(CliError::input(format!(
            "the ledger's payment {old:?} cannot follow the update any more (a callback or a report is in): update-checkout without --ledger changes only Qvickly's checkout"
        )));
    }
    match api.call_data("updateCheckout", &data).await {
        Ok(answer) => Ok(Outcome::ok(checkout_json(
            &CheckoutAnswer::from_data(&answer).map_err(err)?,
        ))),
        Err(e) => {
            let e = paybridge_core::Error::from(e);
            // Refused: the recorded payment is put back. Unknown: it stays updated (the
            // update most likely went through), and the error says so.
            if !e.outcome_unknown() {
                follow(updated.reference.clone(), old, recorded.payment.amount).await?;
            }
            Err(e.into())
        }
    }
}

/// `get-checkout --hash H`.
pub(super) async fn get(a: &GetArgs) -> Result<Outcome, CliError> {
    let state: CheckoutState = a.api.api()?.get_checkout(&a.hash).await.map_err(err)?;
    let payment_status = state.payment_status.as_ref();
    Ok(Outcome::ok(json!({
        "checkout_number": state.checkout_number,
        "provider_status": state.status,
        "status": payment_status.map_or("pending", |s| s.normalized().as_str()),
        "number": state.payment_number,
        "payment_status": payment_status.map(|s| s.as_str().to_owned()),
        "order_id": state.orderid,
        "method": state.method.map(paybridge_qvickly::api::PaymentMethod::code),
        "amount": state.total.map(|m| m.amount_string()),
        "currency": state.currency.map(|c| c.code().to_owned()),
        "customer": state.customer,
    })))
}

/// `create-paylink --body FILE`: `addPayment` with the paylink bit (256) in
/// `PaymentData.method` (256 is put there when the file names no method).
pub(super) async fn paylink(a: &BodyArgs) -> Result<Outcome, CliError> {
    let mut data = read_json(&a.body)?;
    let method = data
        .pointer("/PaymentData/method")
        .and_then(|m| m.as_str().map(str::to_owned).or_else(|| m.as_i64().map(|n| n.to_string())));
    match method.as_deref().map(str::parse::<i64>) {
        None => {
            if let Some(pd) = data.get_mut("PaymentData").and_then(Value::as_object_mut) {
                pd.insert("method".into(), json!(PAYLINK_METHOD.to_string()));
            }
        }
        Some(Ok(m)) if m & PAYLINK_METHOD != 0 => {}
        Some(_) => {
            return Err(CliError::input(
                "a paylink's PaymentData.method carries 256 (256, or 264 for card)",
            ));
        }
    }
    let answer = a.api.api()?.call_data("addPayment", &data).await.map_err(err)?;
    let added = paybridge_qvickly::api::PaymentAnswer::from_data(&answer).map_err(err)?;
    let mut out = answer_json(&added);
    if let (Some(url), Some(v)) = (&added.url, out.value.as_mut()) {
        let (pay, nin) = paylink_urls(url);
        crate::output::set_field(v, "pay_url", json!(pay));
        crate::output::set_field(v, "nin_url", json!(nin));
    }
    Ok(out)
}
