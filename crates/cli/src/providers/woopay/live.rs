//! Wooppay live: `receive`'s `requestUrl` route (each call confirmed with
//! `cash_getOperationData`) and the provider the reconciler asks.

use std::sync::Arc;

use paybridge_core::http::HttpTransport;
use paybridge_core::{CallbackRoute, PaymentProvider, Stores};

use crate::output::CliError;
use crate::settings::{Settings, missing};

/// The client from `PAYBRIDGE_WOOPAY_ENDPOINT`, `_USERNAME` and `_PASSWORD`; `None` without
/// an endpoint.
fn client(s: &Settings<'_>) -> Result<Option<paybridge_woopay::Client>, CliError> {
    let Some(endpoint) = s.var("PAYBRIDGE_WOOPAY_ENDPOINT") else {
        return Ok(None);
    };
    let (Some(user), Some(password)) = (
        s.var("PAYBRIDGE_WOOPAY_USERNAME"),
        s.secret("PAYBRIDGE_WOOPAY_PASSWORD"),
    ) else {
        return Err(missing(
            "Wooppay",
            "PAYBRIDGE_WOOPAY_USERNAME and PAYBRIDGE_WOOPAY_PASSWORD",
        ));
    };
    let client = paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(endpoint, user, password),
        HttpTransport::with_defaults()?,
    )
    .map_err(paybridge_core::Error::from)?;
    Ok(Some(client))
}

/// The `requestUrl` route, with the service endpoint.
pub(crate) fn receive_route(s: &Settings<'_>) -> Result<Option<Arc<dyn CallbackRoute>>, CliError> {
    Ok(client(s)?.map(|client| {
        Arc::new(paybridge_woopay::route::Route::new(client)) as Arc<dyn CallbackRoute>
    }))
}

/// The provider, asked with `cash_getOperationData` (and by reference, when an invoice's
/// creation timed out).
pub(crate) fn status_provider(
    s: &Settings<'_>,
    stores: Stores,
) -> Result<Option<Arc<dyn PaymentProvider>>, CliError> {
    Ok(client(s)?.map(|client| {
        Arc::new(paybridge_woopay::WoopayProvider::new(client, stores)) as Arc<dyn PaymentProvider>
    }))
}
