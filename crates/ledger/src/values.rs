//! How values are stored: money as its decimal text beside its currency code, statuses and
//! anomalies as their words, refund totals as integer minor units (compared in SQL).

use paybridge_core::{Currency, Money, PaymentStatus};

use crate::error::{LedgerError, Result};
use crate::state::Anomaly;

/// A stored status word.
pub(crate) fn status_from(text: &str) -> Result<PaymentStatus> {
    PaymentStatus::parse(text).ok_or_else(|| LedgerError::Row(format!("unknown status {text:?}")))
}

/// A stored amount in a stored currency (a code this build does not know is kept with four
/// decimals rather than refused: the row was written by a build that knew it).
pub(crate) fn money_from(amount: &str, currency: &str) -> Result<Money> {
    let currency = Currency::from_code(currency)
        .or_else(|_| Currency::new(currency, 4))
        .map_err(|e| LedgerError::Row(e.to_string()))?;
    Money::parse(amount, currency).map_err(|e| LedgerError::Row(e.to_string()))
}

/// An amount stored with its own currency column, both optional.
pub(crate) fn money_opt(amount: Option<&str>, currency: Option<&str>) -> Result<Option<Money>> {
    match (amount, currency) {
        (Some(a), Some(c)) => money_from(a, c).map(Some),
        _ => Ok(None),
    }
}

/// A stored anomaly word (an unknown word reads as none: a newer build's anomaly still
/// leaves the payment `needs_review`).
pub(crate) fn anomaly_from(text: Option<&str>) -> Option<Anomaly> {
    text.and_then(Anomaly::parse)
}

/// Money as the two columns it is stored in.
pub(crate) fn money_columns(money: Option<Money>) -> (Option<String>, Option<String>) {
    money
        .map(|m| (m.amount_string(), m.currency().code().to_owned()))
        .unzip()
}

/// `money` in its currency's minor units, exactly (a refund's amount and a payment's total are
/// compared in the database as integers); [`LedgerError::Refund`] for an amount finer than
/// the currency or too large.
pub fn minor_units(money: Money) -> Result<i64> {
    use rust_decimal::prelude::ToPrimitive as _;
    let scaled =
        money.amount() * rust_decimal::Decimal::from(10_i64.pow(money.currency().minor_units()));
    if !scaled.fract().is_zero() {
        return Err(LedgerError::Refund(format!(
            "{} {} has more decimals than the currency",
            money.amount_string(),
            money.currency().code()
        )));
    }
    scaled
        .to_i64()
        .ok_or_else(|| LedgerError::Refund(format!("{} is too large", money.amount_string())))
}

/// `minor` minor units of `currency` as money.
pub(crate) fn from_minor_units(minor: i64, currency: Currency) -> Result<Money> {
    Money::new(
        rust_decimal::Decimal::new(minor, currency.minor_units()),
        currency,
    )
    .map_err(|e| LedgerError::Row(e.to_string()))
}

/// Minor units as money, `None` for nothing (no refund yet).
pub(crate) fn positive_minor_units(minor: i64, currency: Currency) -> Result<Option<Money>> {
    if minor > 0 {
        from_minor_units(minor, currency).map(Some)
    } else {
        Ok(None)
    }
}
