//! One module per provider (its subcommands, sandbox mount, demo flow and output mapping),
//! registered by one line each.

// One line per provider: its module, its subcommand name, and (its doc line) the help text of
// `paybridge <provider>`. `cargo xtask new-provider` adds the line of a new one.
crate::registry::providers! {
    /// Vietnamese telco card-charging gateways (`chargingws/v2`).
    CardCharging => card_charging, "card-charging";
    /// Wooppay invoices over SOAP.
    Woopay => woopay, "woopay";
    /// Qvickly: the Payment API (payments, credits), its callbacks, the booking API forward.
    Qvickly => qvickly, "qvickly";
    /// Payoo: hosted checkout, the REST Business API, `NotifyData`, legacy SOAP.
    Payoo => payoo, "payoo";
    /// Linkifier IPNs: send and verify.
    LinkifierIpn => linkifier, "linkifier-ipn";
}

use std::io::Read;

use secrecy::SecretString;

use crate::output::CliError;

/// `--company-id`: a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
pub(crate) fn guid(value: &str) -> Result<String, String> {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    if lengths_ok
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        ))
    }
}

/// clap value parser for secrets: the value goes straight into a `SecretString`.
pub(crate) fn secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

/// Read a file argument (`-` is stdin); failures are input errors (exit 2).
pub(crate) fn read_input(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::input(format!("cannot read stdin: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| CliError::input(format!("cannot read {path}: {e}")))
}

/// An amount as the contract prints it: a JSON string holding a decimal number.
pub(crate) fn amount_json(m: Option<paybridge_core::Money>) -> serde_json::Value {
    m.map_or(serde_json::Value::Null, |m| {
        serde_json::Value::String(m.amount_string())
    })
}
