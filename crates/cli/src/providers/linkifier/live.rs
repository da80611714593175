//! Linkifier live: `receive`'s IPN route, and the provider the reconciler knows (it has no
//! status operation: a pending Linkifier payment is given up on when it comes due).

use std::sync::Arc;

use paybridge_core::{CallbackRoute, PaymentProvider, Stores};

use crate::output::CliError;
use crate::settings::Settings;

/// The IPN route, with `PAYBRIDGE_LINKIFIER_KEY`.
#[allow(
    clippy::unnecessary_wraps,
    reason = "every provider's live settings have this signature: most can be incomplete"
)]
pub(crate) fn receive_route(s: &Settings<'_>) -> Result<Option<Arc<dyn CallbackRoute>>, CliError> {
    Ok(s.secret("PAYBRIDGE_LINKIFIER_KEY").map(|key| {
        Arc::new(paybridge_linkifier_ipn::route::Route::new(
            paybridge_linkifier_ipn::CallbackVerifier::new(key),
        )) as Arc<dyn CallbackRoute>
    }))
}

/// The provider, with `PAYBRIDGE_LINKIFIER_KEY`.
#[allow(
    clippy::unnecessary_wraps,
    reason = "every provider's live settings have this signature: most can be incomplete"
)]
pub(crate) fn status_provider(
    s: &Settings<'_>,
    stores: Stores,
) -> Result<Option<Arc<dyn PaymentProvider>>, CliError> {
    Ok(s.secret("PAYBRIDGE_LINKIFIER_KEY").map(|key| {
        Arc::new(paybridge_linkifier_ipn::LinkifierProvider::new(
            paybridge_linkifier_ipn::CallbackVerifier::new(key),
            stores,
        )) as Arc<dyn PaymentProvider>
    }))
}
