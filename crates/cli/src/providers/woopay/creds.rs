//! What every Wooppay command logs in with, and its errors in the CLI's terms.

use clap::Args;
use paybridge_core::http::HttpTransport;
use paybridge_woopay::{Client, Config};
use secrecy::SecretString;

use crate::cli::NetArgs;
use crate::output::CliError;
use crate::providers::secret;

#[derive(Debug, Args)]
pub(crate) struct Creds {
    #[command(flatten)]
    pub(super) net: NetArgs,
    /// Merchant login.
    #[arg(long, env = "PAYBRIDGE_WOOPAY_USERNAME")]
    pub(super) username: String,
    /// Merchant password (never printed).
    #[arg(long, env = "PAYBRIDGE_WOOPAY_PASSWORD", hide_env_values = true, value_parser = secret)]
    pub(super) password: SecretString,
}

impl Creds {
    pub(super) fn client(&self) -> Result<Client, CliError> {
        let transport = HttpTransport::new(self.net.http_config())?;
        Ok(Client::new(
            Config::new(self.net.endpoint.clone(), self.username.clone(), self.password.clone()),
            transport,
        )
        .map_err(paybridge_core::Error::from)?)
    }
}

/// A Wooppay error as the CLI reports it.
pub(super) fn err(e: paybridge_woopay::WoopayError) -> CliError {
    paybridge_core::Error::from(e).into()
}
