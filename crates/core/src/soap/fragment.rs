//! A yaserde payload as a standalone element (what goes inside an envelope, and what comes
//! out of one): the envelope itself is written and read by [`super::envelope`] and
//! [`super::read`], which both use this.

use yaserde::{YaDeserialize, YaSerialize};

use crate::{Error, Result};

/// Serialize a yaserde value as an element, without XML declaration or indentation.
pub fn to_fragment<T: YaSerialize>(value: &T) -> Result<String> {
    yaserde::ser::to_string_with_config(
        value,
        &yaserde::ser::Config {
            perform_indent: false,
            write_document_declaration: false,
            indent_string: None,
        },
    )
    .map_err(|e| Error::Input(format!("cannot serialize request: {e}")))
}

/// Deserialize a yaserde value from a standalone element.
pub fn from_fragment<T: YaDeserialize>(fragment: &str) -> Result<T> {
    yaserde::de::from_str(fragment)
        .map_err(|e| Error::decode(format!("unexpected SOAP payload: {e}")))
}
