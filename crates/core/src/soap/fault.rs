//! SOAP Faults, either version.

use super::version::SoapVersion;
use crate::Error;
use crate::xml;

/// A SOAP Fault, either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// The version it came in.
    pub version: SoapVersion,
    /// `faultcode` (1.1) or `Code/Value` (1.2), as written (`soap:Client`).
    pub code: String,
    /// `faultstring` (1.1) or the first `Reason/Text` (1.2).
    pub reason: String,
    /// The text of `detail` / `Detail`, if any.
    pub detail: Option<String>,
}

impl SoapFault {
    pub(super) fn from_node(version: SoapVersion, fault: roxmltree::Node<'_, '_>) -> Self {
        let env = Some(version.namespace());
        let (code, reason, detail) = match version {
            SoapVersion::V11 => (
                xml::child(fault, None, "faultcode").map(xml::text),
                xml::child(fault, None, "faultstring").map(xml::text),
                xml::child(fault, None, "detail")
                    .map(|d| d.descendants().filter_map(|n| n.text()).collect::<String>()),
            ),
            SoapVersion::V12 => (
                xml::child(fault, env, "Code")
                    .and_then(|c| xml::child(c, env, "Value"))
                    .map(xml::text),
                xml::child(fault, env, "Reason")
                    .and_then(|r| xml::child(r, env, "Text"))
                    .map(xml::text),
                xml::child(fault, env, "Detail")
                    .map(|d| d.descendants().filter_map(|n| n.text()).collect::<String>()),
            ),
        };
        Self {
            version,
            code: code.unwrap_or_default().trim().to_owned(),
            reason: reason.unwrap_or_default().trim().to_owned(),
            detail: detail
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
        }
    }

    /// Whether the fault blames the receiver (`Server` / `Receiver`): possibly transient.
    #[must_use]
    pub fn is_receiver_fault(&self) -> bool {
        let local = self.code.rsplit(':').next().unwrap_or_default();
        local.starts_with("Server") || local.starts_with("Receiver")
    }
}

impl From<SoapFault> for Error {
    fn from(f: SoapFault) -> Self {
        let retryable = f.is_receiver_fault();
        let message = match f.detail {
            Some(d) => format!("SOAP Fault: {} ({d})", f.reason),
            None => format!("SOAP Fault: {}", f.reason),
        };
        Error::Provider {
            code: Some(f.code),
            message,
            retryable,
        }
    }
}
