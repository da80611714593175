//! Values the workspace tests share.

use paybridge_payoo::PayooCredentials;
use secrecy::SecretString;

/// Payoo credentials for tests whose peer never checks them (a canned or dead endpoint).
#[must_use]
pub fn dummy_payoo_credentials() -> PayooCredentials {
    PayooCredentials {
        username: "shop".into(),
        password: SecretString::from("pw"),
        signature: SecretString::from("sig"),
        checksum_key: SecretString::from("ck"),
    }
}
