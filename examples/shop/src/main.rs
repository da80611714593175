//! `paybridge-example-shop`: the example shop as a server.
//!
//! ```text
//! SHOP_ADDR=127.0.0.1:8080 SHOP_PUBLIC_URL=http://127.0.0.1:8080 SHOP_LEDGER=sqlite://shop.db \
//! CARD_ENDPOINT=… CARD_PARTNER_ID=… CARD_PARTNER_KEY=… \
//! WOOPAY_ENDPOINT=… WOOPAY_USERNAME=… WOOPAY_PASSWORD=… paybridge-example-shop
//! ```
//! (`paybridge sandbox` prints endpoints to try it against; its credentials are in the
//! provider crates' `sandbox` modules.)
#![forbid(unsafe_code)]

use std::sync::Arc;

use paybridge_core::http::HttpTransport;
use paybridge_example_shop::{Config, Shop, app};
use secrecy::SecretString;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let card_key = SecretString::from(env("CARD_PARTNER_KEY")?);
    let card = paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(
            env("CARD_ENDPOINT")?,
            env("CARD_PARTNER_ID")?,
            card_key,
        ),
        transport.clone(),
    )
    .map_err(|e| e.to_string())?;
    let woopay = paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(
            env("WOOPAY_ENDPOINT")?,
            env("WOOPAY_USERNAME")?,
            SecretString::from(env("WOOPAY_PASSWORD")?),
        ),
        transport,
    )
    .map_err(|e| e.to_string())?;
    let addr = env("SHOP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let config = Config {
        card,
        woopay,
        public_url: env("SHOP_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}")),
    };
    let ledger_url = env("SHOP_LEDGER").unwrap_or_else(|_| "sqlite://shop.db".into());
    let ledger = Arc::new(
        paybridge_ledger::Ledger::open(&ledger_url)
            .await
            .map_err(|e| e.to_string())?,
    );
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("shop listening on {addr}");
    let shop = Shop::open(&ledger_url).await.map_err(|e| e.to_string())?;
    paybridge_ledger::receive::serve(listener, app(config, ledger, shop), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}
