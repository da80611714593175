//! What the merchant asks for: invoice requests and the invoices Wooppay answers.

use paybridge_core::{Currency, Money};

use crate::error::WoopayError;
use paybridge_core::CoreFailure as _;

/// An invoice's common fields (`cash_createInvoice`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvoiceRequest {
    /// `referenceId`: the merchant's order id.
    pub reference_id: String,
    /// `amount`, in KZT.
    pub amount: Money,
    /// `backUrl`: where the payer returns.
    pub back_url: String,
    /// `requestUrl`: what Wooppay calls (GET) once paid.
    pub request_url: String,
    /// `addInfo`: shown on the payment form.
    pub add_info: Option<String>,
    /// `deathDate`: `YYYY-MM-DD HH:MM:SS`, when the invoice expires.
    pub death_date: Option<String>,
    /// `description`: shown in the payer's history.
    pub description: Option<String>,
    /// `orderNumber` (unused by Wooppay).
    pub order_number: Option<i64>,
}

impl InvoiceRequest {
    /// An invoice with the required fields.
    #[must_use]
    pub fn new(
        reference_id: impl Into<String>,
        amount: Money,
        back_url: impl Into<String>,
        request_url: impl Into<String>,
    ) -> Self {
        Self {
            reference_id: reference_id.into(),
            amount,
            back_url: back_url.into(),
            request_url: request_url.into(),
            add_info: None,
            death_date: None,
            description: None,
            order_number: None,
        }
    }

    /// The fields checked before sending; `kzt_only` for every create operation but the one
    /// that names its currency.
    pub(super) fn validate(&self, kzt_only: bool) -> Result<(), WoopayError> {
        if self.reference_id.trim().is_empty() {
            return Err(WoopayError::input("referenceId is required"));
        }
        if kzt_only && self.amount.currency() != Currency::KZT {
            return Err(WoopayError::input(format!(
                "Wooppay amounts are in KZT, got {}",
                self.amount.currency()
            )));
        }
        self.amount.check_to_send("amount").map_err(|e| match e {
            paybridge_core::Error::Input(m) => WoopayError::input(m),
            other => other.into(),
        })?;
        if let Some(d) = &self.death_date
            && !is_datetime(d)
        {
            return Err(WoopayError::input(format!(
                "deathDate must be YYYY-MM-DD HH:MM:SS, got {d:?}"
            )));
        }
        Ok(())
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, with plausible ranges (the history filters).
pub(super) fn is_date_or_datetime(s: &str) -> bool {
    is_datetime(s) || (s.len() == 10 && is_datetime(&format!("{s} 00:00:00")))
}

/// `YYYY-MM-DD HH:MM:SS` with plausible ranges.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let num =
        |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok()).unwrap_or(99);
    b.len() == 19
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b' ')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 60
}

/// `cash_createInvoiceExtended`: payment from the payer's phone balance (service type 2),
/// confirmed by the SMS code from `core_requestConfirmationCode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedInvoiceRequest {
    /// Common fields; `add_info` is replaced by the confirmation code.
    pub invoice: InvoiceRequest,
    /// The SMS confirmation code (sent as `addInfo`).
    pub confirmation_code: String,
    /// `userPhone`: the phone charged.
    pub user_phone: String,
    /// `userEmail`.
    pub user_email: Option<String>,
}

/// `cash_createInvoice2Extended`: card binding, frame payment (service type 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice2ExtendedRequest {
    /// Common fields.
    pub invoice: InvoiceRequest,
    /// `cardForbidden`: pay from the Wooppay wallet only.
    pub card_forbidden: bool,
    /// `userEmail`.
    pub user_email: Option<String>,
    /// `userPhone`.
    pub user_phone: Option<String>,
}

/// A created invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// `operationId`.
    pub operation_id: i64,
    /// `operationUrl`: the payment form to send the payer to.
    pub operation_url: String,
}

impl Invoice {
    /// The payment form for an iframe (`&view_format=frame` added).
    #[must_use]
    pub fn frame_url(&self) -> String {
        frame_url(&self.operation_url)
    }
}

/// Add `view_format=frame` to a payment-form URL.
#[must_use]
pub fn frame_url(operation_url: &str) -> String {
    paybridge_core::http::with_query(operation_url, &[("view_format", "frame")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn death_date_format() {
        assert!(is_datetime("2026-11-23 18:30:00"));
        for bad in [
            "2026-11-23",
            "2026-13-01 00:00:00",
            "2026-11-23T18:30:00",
            "2026-11-23 24:00:00",
            "",
        ] {
            assert!(!is_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn frame_url_adds_view_format() {
        assert_eq!(
            frame_url("https://www.test.wooppay.com/invoice/operation?id=1&key=k"),
            "https://www.test.wooppay.com/invoice/operation?id=1&key=k&view_format=frame"
        );
        assert_eq!(
            frame_url("https://x/pay"),
            "https://x/pay?view_format=frame"
        );
    }
}
