//! Values the workspace tests share.

use paybridge_payoo::Credentials;
use secrecy::SecretString;

/// Payoo credentials for tests whose peer never checks them (a canned or dead endpoint).
#[must_use]
pub fn dummy_payoo_credentials() -> Credentials {
    Credentials::new(
        "shop",
        SecretString::from("pw"),
        SecretString::from("sig"),
        SecretString::from("ck"),
    )
}
