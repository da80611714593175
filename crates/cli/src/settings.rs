//! Where a provider's live settings come from — endpoints, ids and secrets by the environment
//! variable that names each (`PAYBRIDGE_CARD_ENDPOINT`, …): the environment itself, a
//! command's flags over it (`receive --card-endpoint`), or the sandbox's public test
//! credentials (`paybridge dev`). Every provider module reads its own settings through this
//! one lookup, for `receive`'s routes and for the providers the reconciler asks.

use secrecy::SecretString;

/// A lookup of settings by name.
pub(crate) struct Settings<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// The environment's value of `name`, if set and not empty.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl<'a> Settings<'a> {
    /// Settings from `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// A setting, if given and not empty.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// A secret setting, straight into a `SecretString`.
    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.var(name).map(SecretString::from)
    }

    /// A switch: given as `1` or `true`.
    pub fn switch(&self, name: &str) -> bool {
        matches!(self.var(name).as_deref(), Some("1" | "true"))
    }
}

/// The error of a provider whose endpoint is set without the rest of its settings.
pub(crate) fn missing(provider: &str, names: &str) -> crate::output::CliError {
    crate::output::CliError::input(format!(
        "{provider} is asked about its payments only with {names} set"
    ))
}
