//! The `requestUrl` callback: once an invoice is paid, Wooppay calls the merchant's
//! `requestUrl` with GET — no parameters of its own, no signature — until the answer is
//! [`REQUEST_URL_ANSWER`]. A GET proves nothing: the payment is confirmed by asking
//! `cash_getOperationData` for the operation, and only status 4 yields a `Verified` value.

use paybridge_core::notification::SignatureProof;
use paybridge_core::{Handled, SeenStore, Verified};

use crate::client::Client;
use crate::error::WoopayError;
use crate::operation::{Operation, OperationStatus};

/// What the merchant answers a `requestUrl` call with, once it has handled the payment.
pub const REQUEST_URL_ANSWER: &str = r#"{"data":1}"#;

/// A confirmed payment (the operation, confirmed paid — status 4 — by Wooppay itself) and
/// whether it was confirmed before.
pub type ConfirmedPayment = Handled<Operation>;

impl Client {
    /// Confirm that operation `id` is paid (status 4) with `cash_getOperationData`.
    /// Any other status is [`WoopayError::NotConfirmed`] naming it.
    pub async fn confirm_payment(&self, id: i64) -> Result<Verified<Operation>, WoopayError> {
        let (operations, answer) = self.operation_data_answered(&[id]).await?;
        // Only an answer core's transport read from this client's endpoint confirms anything.
        let proof = SignatureProof::from_status_answer(&answer, self.endpoint())?;
        let op = operations.into_iter().find(|o| o.id == id).ok_or_else(|| {
            WoopayError::NotConfirmed(format!("Wooppay does not know operation {id}"))
        })?;
        if op.status != OperationStatus::Done {
            return Err(WoopayError::NotConfirmed(format!(
                "operation {id} has status {} ({:?}), not 4",
                op.status.code(),
                op.status
            )));
        }
        Ok(Verified::new(op, proof))
    }

    /// Handle a `requestUrl` call for operation `id`: confirm it, and report a repeat.
    /// Answer the call with [`REQUEST_URL_ANSWER`] once this returns `Ok`.
    pub async fn handle_request_url(
        &self,
        id: i64,
        seen: &dyn SeenStore,
    ) -> Result<ConfirmedPayment, WoopayError> {
        let operation = self.confirm_payment(id).await?;
        Ok(Handled::record(operation, &format!("woopay:{id}:4"), seen).await?)
    }
}
