//! The card gateway live: `receive`'s card route and the provider the reconciler asks.

use std::sync::Arc;

use paybridge_core::http::HttpTransport;
use paybridge_core::{CallbackRoute, PaymentProvider, Stores};

use crate::output::CliError;
use crate::settings::{Settings, missing};

/// The gateway client from `PAYBRIDGE_CARD_ENDPOINT`, `_PARTNER_ID` and `_PARTNER_KEY`;
/// `None` without an endpoint.
fn client(s: &Settings<'_>) -> Result<Option<paybridge_card_charging::Client>, CliError> {
    let Some(endpoint) = s.var("PAYBRIDGE_CARD_ENDPOINT") else {
        return Ok(None);
    };
    let (Some(id), Some(key)) = (
        s.var("PAYBRIDGE_CARD_PARTNER_ID"),
        s.secret("PAYBRIDGE_CARD_PARTNER_KEY"),
    ) else {
        return Err(missing(
            "the card gateway",
            "PAYBRIDGE_CARD_PARTNER_ID and PAYBRIDGE_CARD_PARTNER_KEY",
        ));
    };
    let client = paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(endpoint, id, key),
        HttpTransport::with_defaults()?,
    )
    .map_err(paybridge_core::Error::from)?;
    Ok(Some(client))
}

/// The card route, with `PAYBRIDGE_CARD_PARTNER_KEY`: each callback confirmed with `check`
/// (`--card-endpoint`), or — knowingly — believed as sent (`--trust-unsigned-card-status`).
pub(crate) fn receive_route(s: &Settings<'_>) -> Result<Option<Arc<dyn CallbackRoute>>, CliError> {
    let Some(key) = s.secret("PAYBRIDGE_CARD_PARTNER_KEY") else {
        return Ok(None);
    };
    // `callback_sign` covers only the card: without `check`, the status, the amounts and the
    // request id of a callback are believed as sent.
    if s.var("PAYBRIDGE_CARD_ENDPOINT").is_some() {
        let client = client(s)?.ok_or_else(|| CliError::internal("no card client"))?;
        return Ok(Some(Arc::new(
            paybridge_card_charging::route::Route::confirmed(client),
        )));
    }
    if s.switch("--trust-unsigned-card-status") {
        return Ok(Some(Arc::new(
            paybridge_card_charging::route::Route::trusting_unsigned_status(key),
        )));
    }
    Err(CliError::input(
        "card callbacks sign only the card (code and serial), not their status or amounts: give --card-endpoint URL (with PAYBRIDGE_CARD_PARTNER_ID) so each is confirmed with `check`, or start knowingly without confirmation with --trust-unsigned-card-status",
    ))
}

/// The gateway, asked with `check` (a card's code must be sealed in the ledger).
pub(crate) fn status_provider(
    s: &Settings<'_>,
    stores: Stores,
) -> Result<Option<Arc<dyn PaymentProvider>>, CliError> {
    Ok(client(s)?.map(|client| {
        Arc::new(paybridge_card_charging::CardChargingProvider::new(
            client, stores,
        )) as Arc<dyn PaymentProvider>
    }))
}
