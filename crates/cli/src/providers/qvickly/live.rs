//! Qvickly live: `receive`'s callback route (confirmed with the Payment API when its endpoint
//! is set) and the provider the reconciler asks (`getPaymentinfo`).

use std::sync::Arc;

use paybridge_core::http::HttpTransport;
use paybridge_core::{CallbackRoute, PaymentProvider, Stores};
use secrecy::SecretString;

use crate::output::CliError;
use crate::settings::{Settings, missing};

/// The Payment API at `endpoint` for merchant `id`.
fn api(
    endpoint: &str,
    id: &str,
    secret: &SecretString,
) -> Result<paybridge_qvickly::PaymentApi, CliError> {
    Ok(
        paybridge_qvickly::PaymentApi::new(endpoint, id, secret, HttpTransport::with_defaults()?)
            .map_err(paybridge_core::Error::from)?,
    )
}

/// The callback route, with `PAYBRIDGE_QVICKLY_SECRET` (and `_ID`: callbacks for another id
/// are refused): with `PAYBRIDGE_QVICKLY_ENDPOINT` each callback's payment is asked with
/// `getPaymentinfo`; test-mode callbacks are credited only with `PAYBRIDGE_QVICKLY_ACCEPT_TEST`.
pub(crate) fn receive_route(s: &Settings<'_>) -> Result<Option<Arc<dyn CallbackRoute>>, CliError> {
    let Some(secret) = s.secret("PAYBRIDGE_QVICKLY_SECRET") else {
        return Ok(None);
    };
    let id = s.var("PAYBRIDGE_QVICKLY_ID");
    let verifier = paybridge_qvickly::CallbackVerifier::new(id.clone(), &secret)
        .map_err(paybridge_core::Error::from)?;
    let route = match (s.var("PAYBRIDGE_QVICKLY_ENDPOINT"), id) {
        (Some(endpoint), Some(id)) => {
            paybridge_qvickly::route::Route::confirmed(verifier, api(&endpoint, &id, &secret)?)
        }
        (Some(_), None) => {
            return Err(CliError::input(
                "--qvickly-endpoint needs --qvickly-id (PAYBRIDGE_QVICKLY_ID)",
            ));
        }
        (None, _) => paybridge_qvickly::route::Route::new(verifier),
    };
    Ok(Some(Arc::new(
        route.accept_test(s.switch("PAYBRIDGE_QVICKLY_ACCEPT_TEST")),
    )))
}

/// The provider, asked with `getPaymentinfo` at `PAYBRIDGE_QVICKLY_ENDPOINT`.
pub(crate) fn status_provider(
    s: &Settings<'_>,
    stores: Stores,
) -> Result<Option<Arc<dyn PaymentProvider>>, CliError> {
    let Some(endpoint) = s.var("PAYBRIDGE_QVICKLY_ENDPOINT") else {
        return Ok(None);
    };
    let (Some(id), Some(secret)) = (
        s.var("PAYBRIDGE_QVICKLY_ID"),
        s.secret("PAYBRIDGE_QVICKLY_SECRET"),
    ) else {
        return Err(missing("Qvickly", "PAYBRIDGE_QVICKLY_ID and _SECRET"));
    };
    let verifier = paybridge_qvickly::CallbackVerifier::new(Some(id.clone()), &secret)
        .map_err(paybridge_core::Error::from)?;
    let api = api(&endpoint, &id, &secret)?;
    Ok(Some(Arc::new(
        paybridge_qvickly::QvicklyProvider::new(verifier, stores).with_api(api),
    )))
}
