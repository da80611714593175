//! Payoo live: `receive`'s `NotifyData` route and the provider the reconciler asks (the
//! REST Business API's `GetOrderInfo` when its endpoint is set, else the legacy SOAP).

use std::sync::Arc;

use paybridge_core::http::HttpTransport;
use paybridge_core::{CallbackRoute, PaymentProvider, Stores};

use crate::output::CliError;
use crate::settings::{Settings, missing};

/// The `NotifyData` route, with `PAYBRIDGE_PAYOO_CHECKSUM_KEY`.
#[allow(
    clippy::unnecessary_wraps,
    reason = "every provider's live settings have this signature: most can be incomplete"
)]
pub(crate) fn receive_route(s: &Settings<'_>) -> Result<Option<Arc<dyn CallbackRoute>>, CliError> {
    Ok(s.secret("PAYBRIDGE_PAYOO_CHECKSUM_KEY").map(|key| {
        Arc::new(paybridge_payoo::route::Route::new(key)) as Arc<dyn CallbackRoute>
    }))
}

/// The provider, with `PAYBRIDGE_PAYOO_REST_ENDPOINT` (the current API alone) and/or
/// `PAYBRIDGE_PAYOO_ENDPOINT` (legacy SOAP), and the merchant's credentials.
pub(crate) fn status_provider(
    s: &Settings<'_>,
    stores: Stores,
) -> Result<Option<Arc<dyn PaymentProvider>>, CliError> {
    let (soap, rest) = (
        s.var("PAYBRIDGE_PAYOO_ENDPOINT"),
        s.var("PAYBRIDGE_PAYOO_REST_ENDPOINT"),
    );
    if soap.is_none() && rest.is_none() {
        return Ok(None);
    }
    let (Some(user), Some(password), Some(signature), Some(key), Some(shop)) = (
        s.var("PAYBRIDGE_PAYOO_USERNAME"),
        s.secret("PAYBRIDGE_PAYOO_PASSWORD"),
        s.secret("PAYBRIDGE_PAYOO_SIGNATURE"),
        s.secret("PAYBRIDGE_PAYOO_CHECKSUM_KEY"),
        s.var("PAYBRIDGE_PAYOO_SHOP_ID")
            .and_then(|s| s.parse::<i64>().ok()),
    ) else {
        return Err(missing(
            "Payoo",
            "PAYBRIDGE_PAYOO_USERNAME, _PASSWORD, _SIGNATURE, _CHECKSUM_KEY and _SHOP_ID (a number)",
        ));
    };
    let creds = paybridge_payoo::Credentials::new(user, password, signature, key.clone());
    let rest = rest
        .map(|rest| {
            paybridge_payoo::RestClient::new(rest, creds.clone(), HttpTransport::with_defaults()?)
                .map_err(paybridge_core::Error::from)
        })
        .transpose()?;
    let provider = match (soap, rest) {
        // The current API alone: no legacy client at all.
        (None, Some(rest)) => paybridge_payoo::PayooProvider::current(rest, key, shop, stores),
        (soap, rest) => {
            let endpoint = soap.ok_or_else(|| CliError::internal("no Payoo endpoint"))?;
            let client = paybridge_payoo::Client::new(
                paybridge_payoo::Config::new(endpoint, creds),
                HttpTransport::with_defaults()?,
            )
            .map_err(paybridge_core::Error::from)?;
            let provider = paybridge_payoo::PayooProvider::new(client, key, shop, stores);
            match rest {
                Some(rest) => provider.with_rest(rest),
                None => provider,
            }
        }
    };
    Ok(Some(Arc::new(provider)))
}
