//! Money back: refunds (`cash_paymentReturn`, `cash_paymentReturnPartial`,
//! `cash_mobileRefund`) and cancelling an unpaid invoice (`cash_decline`).
//!
//! Wooppay keys none of these by anything of the merchant's, so a resend would act twice:
//! every one is sent once, and an unknown outcome is
//! [`paybridge_core::Error::OutcomeUnknown`] carrying how to find out.

use paybridge_core::soap::encoded::{EncBool, EncDecimal, EncInt, EncodingStyle, XsiType};
use paybridge_core::{Currency, Money};

use super::base::{Client, ENCODING, Op};
use crate::error::WoopayError;
use crate::generated::xml_controller as wire;
use paybridge_core::CoreFailure as _;

/// How to find out what a refund whose outcome is unknown did.
pub const REFUND_ADVICE: &str = "the refund may have been made: look at the operation with cash_getOperationData (status 5 = returned in full) and at the merchant cabinet's returns before refunding again";

/// How to find out what a decline whose outcome is unknown did.
pub const DECLINE_ADVICE: &str = "the invoice may have been declined: look at its status with cash_getOperationData (7 = deleted)";

const PAYMENT_RETURN: Op = Op {
    name: "cash_paymentReturn",
    action: wire::CASH_PAYMENT_RETURN_ACTION,
    advice: Some(REFUND_ADVICE),
};
const PAYMENT_RETURN_PARTIAL: Op = Op {
    name: "cash_paymentReturnPartial",
    action: wire::CASH_PAYMENT_RETURN_PARTIAL_ACTION,
    advice: Some(REFUND_ADVICE),
};
const MOBILE_REFUND: Op = Op {
    name: "cash_mobileRefund",
    action: wire::CASH_MOBILE_REFUND_ACTION,
    advice: Some(REFUND_ADVICE),
};
const DECLINE: Op = Op {
    name: "cash_decline",
    action: wire::CASH_DECLINE_ACTION,
    advice: Some(DECLINE_ADVICE),
};

/// A refund amount: KZT, more than 0, within what we send.
fn refund_amount(amount: Money) -> Result<EncDecimal, WoopayError> {
    if amount.currency() != Currency::KZT || amount.amount() <= rust_decimal::Decimal::ZERO {
        return Err(WoopayError::input("a refund is of more than 0 KZT"));
    }
    amount
        .check_to_send("amount")
        .map_err(|e| WoopayError::input(e.to_string()))?;
    Ok(EncDecimal::new(amount.amount()))
}

impl Client {
    /// Give the whole of a paid operation back (`cash_paymentReturn`). Moves money: never
    /// resent; an unknown outcome is [`paybridge_core::Error::OutcomeUnknown`] with
    /// [`REFUND_ADVICE`]. Error 14 is "refund failed" (nothing moved).
    pub async fn payment_return(&self, operation_id: i64) -> Result<(), WoopayError> {
        let req = wire::CashPaymentReturnRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_return_request: Some(wire::CashReturnRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashReturnRequest")),
                xsi_nil: None,
                operation_id: Some(EncInt::new(operation_id)),
            }),
        };
        self.authed::<wire::CashPaymentReturnRpcResponse>(
            &PAYMENT_RETURN,
            &req,
            &operation_id.to_string(),
        )
        .await
        .map(drop)
    }

    /// Give `amount` (KZT) of a paid operation back (`cash_paymentReturnPartial`); as
    /// [`payment_return`](Self::payment_return) otherwise.
    pub async fn payment_return_partial(
        &self,
        operation_id: i64,
        amount: Money,
    ) -> Result<(), WoopayError> {
        let req = wire::CashPaymentReturnPartialRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_return_partial_request: Some(wire::CashReturnPartialRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashReturnPartialRequest")),
                xsi_nil: None,
                operation_id: Some(EncInt::new(operation_id)),
                amount: Some(refund_amount(amount)?),
            }),
        };
        self.authed::<wire::CashPaymentReturnPartialRpcResponse>(
            &PAYMENT_RETURN_PARTIAL,
            &req,
            &operation_id.to_string(),
        )
        .await
        .map(drop)
    }

    /// Give `amount` (KZT) of an operation paid from the payer's phone balance back to that
    /// balance (`cash_mobileRefund`; `force` asks Wooppay to refund even where the operator's
    /// own checks would refuse — the WSDL's flag, whose exact rule is not public). Error 228
    /// is "Kcell balance refund failed", 14 "refund failed". Never resent, as
    /// [`payment_return`](Self::payment_return).
    pub async fn mobile_refund(
        &self,
        operation_id: i64,
        amount: Money,
        force: bool,
    ) -> Result<(), WoopayError> {
        let req = wire::CashMobileRefundRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_mobile_refund_request: Some(wire::CashMobileRefundRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashMobileRefundRequest")),
                xsi_nil: None,
                operation_id: Some(EncInt::new(operation_id)),
                force: Some(EncBool::new(force)),
                amount: Some(refund_amount(amount)?),
            }),
        };
        self.authed::<wire::CashMobileRefundRpcResponse>(
            &MOBILE_REFUND,
            &req,
            &operation_id.to_string(),
        )
        .await
        .map(drop)
    }

    /// Decline (cancel) an operation not paid yet, or one waiting for the merchant (status 9)
    /// (`cash_decline`). Never resent; an unknown outcome carries [`DECLINE_ADVICE`].
    pub async fn decline(&self, operation_id: i64) -> Result<(), WoopayError> {
        let req = wire::CashDeclineRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_decline_request: Some(wire::CashDeclineRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashDeclineRequest")),
                xsi_nil: None,
                operation_id: Some(EncInt::new(operation_id)),
            }),
        };
        self.authed::<wire::CashDeclineRpcResponse>(&DECLINE, &req, &operation_id.to_string())
            .await
            .map(drop)
    }
}
