//! The Wooppay simulator in `paybridge sandbox`, and its demo flow.

use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, InMemorySeenStore, Money};
use paybridge_woopay::sandbox::{self, SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
use paybridge_woopay::{Client, Config, InvoiceRequest};
use secrecy::SecretString;

use crate::demo::{FlowLog, callback_endpoint, next_callback, sandbox_post};
use crate::providers::amount_json;
use crate::output::CliError;
use crate::sandbox::{Mount, SandboxContext};

/// The simulator, mounted in `paybridge sandbox`.
pub(crate) fn mount(_ctx: &SandboxContext) -> Result<Mount, CliError> {
    let sim = Simulator::new()?;
    Ok(Mount {
        name: "woopay",
        endpoint_path: sandbox::ENDPOINT_PATH.to_owned(),
        router: sim.router(),
        apis: vec![("woopay-wsdl", "/api/wsd/?wsdl")],
    })
}

/// login → create invoice → pay → requestUrl callback → confirmed status 4 → half refunded,
/// the rest, a further refund refused.
pub(crate) async fn demo(endpoint: &str, base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    let mut merchant =
        callback_endpoint("/woopay/request", paybridge_woopay::REQUEST_URL_ANSWER).await?;
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let client = Client::new(
        Config::new(endpoint.to_owned(), SANDBOX_USERNAME, SecretString::from(SANDBOX_PASSWORD)),
        transport.clone(),
    )
    .map_err(|e| e.to_string())?;
    let info = client.login().await.map_err(|e| e.to_string())?;
    log.step(
        "login",
        format!(
            "user {} roles {}",
            info.user_id.unwrap_or_default(),
            info.roles.join(",")
        ),
    );

    let amount = Money::parse("2500", Currency::KZT).map_err(|e| e.to_string())?;
    let invoice = client
        .create_invoice(&InvoiceRequest::new(
            "demo-order-1",
            amount,
            "https://shop.example/thanks",
            format!("{}?reference=demo-order-1", merchant.url()),
        ))
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "create invoice",
        format!("operation {}", invoice.operation_id),
    );

    let pay = format!(
        "{base_url}{}?id={}",
        sandbox::PAY_PATH,
        invoice.operation_id
    );
    sandbox_post(&transport, pay, None, "pay").await?;
    log.step("pay", "status 4 on the sandbox payment page");

    let query = next_callback(&mut merchant, "requestUrl call").await?;
    log.step(
        "requestUrl callback",
        format!(
            "GET ?{} answered {{\"data\":1}}",
            String::from_utf8_lossy(&query)
        ),
    );

    let confirmed = client
        .handle_request_url(invoice.operation_id, &InMemorySeenStore::new())
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "confirmed",
        format!(
            "status {} sum {}",
            confirmed.callback.status.code(),
            amount_json(confirmed.callback.sum)
        ),
    );

    // Money back: half, then the rest; a further refund is refused (14).
    let half = Money::parse("1250", Currency::KZT).map_err(|e| e.to_string())?;
    client
        .payment_return_partial(invoice.operation_id, half)
        .await
        .map_err(|e| e.to_string())?;
    client
        .payment_return(invoice.operation_id)
        .await
        .map_err(|e| e.to_string())?;
    let refused = client
        .payment_return_partial(invoice.operation_id, half)
        .await
        .map_err(|e| e.code().map(paybridge_woopay::ErrorCode::code));
    let after = client
        .operation(invoice.operation_id)
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "refunds",
        format!(
            "1250 back, then the rest: status {}; once more → {}",
            after.status.code(),
            match refused {
                Err(Some(code)) => format!("error {code}"),
                other => format!("{other:?}"),
            }
        ),
    );
    Ok(())
}
