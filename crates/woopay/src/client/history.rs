//! Lookups and history: an operation by the merchant's reference
//! (`cash_getOperationDataByExtId`) or by ids with every field (`cash_getOperationDataExtended`),
//! statuses by reference and dates (`cash_getOperationsStatus`), the wallet's history
//! (`cash_getTransfers`), a fiscal receipt (`cash_getOperationReceipt`) and a service's
//! commission (`cash_getCommission`). All are reads: safe to resend.

use paybridge_core::soap::encoded::{
    EncBool, EncDecimal, EncInt, EncString, EncodingStyle, XsiType, array_type,
};
use paybridge_core::{Currency, Money};

use super::base::{Client, ENCODING, Op, int, kzt, opt_i, opt_s, text};
use super::requests::is_date_or_datetime;
use crate::error::WoopayError;
use crate::generated::xml_controller as wire;
use crate::operation::{OperationStatus, OperationType};
use paybridge_core::CoreFailure as _;

const BY_REFERENCE: Op = Op {
    name: "cash_getOperationDataByExtId",
    action: wire::CASH_GET_OPERATION_DATA_BY_EXT_ID_ACTION,
    advice: None,
};
const EXTENDED: Op = Op {
    name: "cash_getOperationDataExtended",
    action: wire::CASH_GET_OPERATION_DATA_EXTENDED_ACTION,
    advice: None,
};
const STATUSES: Op = Op {
    name: "cash_getOperationsStatus",
    action: wire::CASH_GET_OPERATIONS_STATUS_ACTION,
    advice: None,
};
const TRANSFERS: Op = Op {
    name: "cash_getTransfers",
    action: wire::CASH_GET_TRANSFERS_ACTION,
    advice: None,
};
const RECEIPT: Op = Op {
    name: "cash_getOperationReceipt",
    action: wire::CASH_GET_OPERATION_RECEIPT_ACTION,
    advice: None,
};
const COMMISSION: Op = Op {
    name: "cash_getCommission",
    action: wire::CASH_GET_COMMISSION_ACTION,
    advice: None,
};

/// Every field of an operation as `cash_getOperationDataByExtId` and
/// `cash_getOperationDataExtended` report it. `amount`, `ret_sum` and the commissions are
/// integers whose unit the public sources do not document (the simulator answers tiyn), so
/// they are kept as the numbers sent and never read as money: the sum to trust is
/// `cash_getOperationData`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationDetails {
    /// Operation id.
    pub id: i64,
    /// The operation it belongs to (a refund's payment), 0 when none.
    pub parent_id: Option<i64>,
    /// Status.
    pub status: OperationStatus,
    /// Type.
    pub op_type: OperationType,
    /// `amount` as sent (unit undocumented).
    pub amount_raw: Option<i64>,
    /// ISO 4217 numeric currency (398 = KZT).
    pub currency_numeric: Option<i64>,
    /// When it was created, `YYYY-MM-DD HH:MM:SS`.
    pub date_oper: Option<String>,
    /// When it was done, if it was.
    pub date_done: Option<String>,
    /// What is paid for.
    pub description: Option<String>,
    /// The Wooppay service.
    pub service_id: Option<i64>,
    /// The merchant's order number.
    pub order_id: Option<i64>,
    /// Payer.
    pub subject_from: Option<String>,
    /// Payee.
    pub subject_to: Option<String>,
    /// `commissionLower`, `commissionUpper`, `commissionUpperLower` as sent.
    pub commissions_raw: [Option<i64>; 3],
    /// `retSum` (what was returned) as sent (unit undocumented).
    pub ret_sum_raw: Option<i64>,
    /// Lifetime of an invoice.
    pub life_time: Option<i64>,
    /// The merchant's reference it was created with (`referenceId`).
    pub external_id: Option<String>,
    /// The payer's account (masked card, phone).
    pub payment_account: Option<String>,
    /// 3-D Secure or the like (1) as sent.
    pub secure: Option<i64>,
}

/// The same 27 fields arrive in two generated types: read either.
macro_rules! details {
    ($r:expr) => {{
        let r = $r;
        OperationDetails {
            id: int(r.id.as_ref())?.ok_or_else(|| WoopayError::decode("operation without id"))?,
            parent_id: int(r.parent_id.as_ref())?,
            status: OperationStatus::from_code(int(r.status.as_ref())?.unwrap_or(0)),
            op_type: OperationType::from_code(int(r.type_field.as_ref())?.unwrap_or(0)),
            amount_raw: int(r.amount.as_ref())?,
            currency_numeric: int(r.currency.as_ref())?,
            date_oper: text(r.date_oper.as_ref())?,
            date_done: text(r.date_done.as_ref())?,
            description: text(r.description.as_ref())?,
            service_id: int(r.service_id.as_ref())?,
            order_id: int(r.order_id.as_ref())?,
            subject_from: text(r.subject_from.as_ref())?,
            subject_to: text(r.subject_to.as_ref())?,
            commissions_raw: [
                int(r.commission_lower.as_ref())?,
                int(r.commission_upper.as_ref())?,
                int(r.commission_upper_lower.as_ref())?,
            ],
            ret_sum_raw: int(r.ret_sum.as_ref())?,
            life_time: int(r.life_time.as_ref())?,
            external_id: text(r.external_id.as_ref())?,
            payment_account: text(r.payment_account.as_ref())?,
            secure: int(r.secure.as_ref())?,
        }
    }};
}

/// One record of `cash_getOperationsStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusRecord {
    /// The merchant's reference.
    pub ext_id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: OperationStatus,
    /// Date.
    pub date: Option<String>,
}

/// Which history `cash_getTransfers` lists: one page, optionally filtered. `Default` is the
/// first page of 20, everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransfersQuery {
    /// Page, from 1.
    pub page: u32,
    /// Records per page (1–100).
    pub per_page: u32,
    /// Only these statuses (empty: all).
    pub statuses: Vec<i64>,
    /// Only these operation types (empty: all).
    pub types: Vec<i64>,
    /// 1 incoming, 2 outgoing (None: both).
    pub direction: Option<i64>,
    /// Oldest first.
    pub reverse: bool,
    /// Only with this counterparty.
    pub second_subject: Option<String>,
    /// From (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`).
    pub date_from: Option<String>,
    /// To (same formats).
    pub date_to: Option<String>,
    /// Only records changed after this cursor (a previous answer's `last_changed`).
    pub last_changed: Option<i64>,
}

impl Default for TransfersQuery {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 20,
            statuses: Vec::new(),
            types: Vec::new(),
            direction: None,
            reverse: false,
            second_subject: None,
            date_from: None,
            date_to: None,
            last_changed: None,
        }
    }
}

/// One page of `cash_getTransfers`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transfers {
    /// The records.
    pub records: Vec<Transfer>,
    /// The cursor for the next incremental read.
    pub last_changed: Option<i64>,
}

/// One history record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transfer {
    /// Operation id.
    pub id: i64,
    /// Type.
    pub op_type: OperationType,
    /// Status.
    pub status: OperationStatus,
    /// 1 incoming, 2 outgoing.
    pub direction: Option<i64>,
    /// Sum (KZT), exact.
    pub sum: Option<Money>,
    /// Date.
    pub date: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// From.
    pub from_subject: Option<String>,
    /// To.
    pub to_subject: Option<String>,
    /// The service's name, if any.
    pub service_name: Option<String>,
}

/// A fiscal receipt (`cash_getOperationReceipt`): the fields as Wooppay prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// Operator's BIN.
    pub op_bin: Option<String>,
    /// Cheque number.
    pub ch_nr: Option<String>,
    /// Transaction number.
    pub tr_nr: Option<String>,
    /// Account number.
    pub account_nr: Option<String>,
    /// Date.
    pub date: Option<String>,
    /// Merchant name.
    pub mer_name: Option<String>,
    /// Merchant BIN.
    pub mer_bin: Option<String>,
    /// Identifying lines.
    pub ident: Vec<String>,
    /// Accepted (as printed).
    pub admit: Option<String>,
    /// Commission (as printed).
    pub commis: Option<String>,
    /// Sum (as printed).
    pub sum: Option<String>,
    /// Operation (as printed).
    pub operation: Option<String>,
    /// VAT (as printed).
    pub vat: Option<String>,
    /// Supplier.
    pub sup: Option<String>,
}

fn int_array(items: &[i64]) -> wire::IntArray {
    wire::IntArray {
        array_type: Some(array_type("xsd:int", items.len())),
        xsi_type: Some(XsiType::from_static("ns1:intArray")),
        items: items.iter().map(|i| EncInt::new(*i)).collect(),
    }
}

fn date_filter(name: &str, value: Option<&str>) -> Result<(), WoopayError> {
    match value {
        Some(d) if !is_date_or_datetime(d) => Err(WoopayError::input(format!(
            "{name} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, got {d:?}"
        ))),
        _ => Ok(()),
    }
}

impl Client {
    /// The operation created for the merchant's own reference (`cash_getOperationDataByExtId`:
    /// the `referenceId` of an invoice, with `op_type` [`crate::INVOICE_OPERATION_TYPE`]) — how
    /// an invoice whose creation timed out is found. Its status and sum are read with
    /// [`operation_data`](Self::operation_data) by the id it returns; an unknown reference is
    /// [`WoopayError::Api`] 802.
    pub async fn operation_by_reference(
        &self,
        reference: &str,
        op_type: i64,
    ) -> Result<OperationDetails, WoopayError> {
        if reference.is_empty() {
            return Err(WoopayError::input("a reference (externalId) is required"));
        }
        let req = wire::CashGetOperationDataByExtIdRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_operation_data_by_ext_id_request: Some(
                wire::CashGetOperationDataByExtIdRequest {
                    xsi_type: Some(XsiType::from_static(
                        "ns1:CashGetOperationDataByExtIdRequest",
                    )),
                    xsi_nil: None,
                    external_id: Some(EncString::new(reference.to_owned())),
                    type_field: Some(EncInt::new(op_type)),
                },
            ),
        };
        let data = self
            .authed::<wire::CashGetOperationDataByExtIdRpcResponse>(&BY_REFERENCE, &req, reference)
            .await?;
        let r = data.ok_or_else(|| WoopayError::decode("no operation in the answer"))?;
        Ok(details!(r))
    }

    /// Every field of several operations (`cash_getOperationDataExtended`), including the
    /// merchant's reference each was created with.
    pub async fn operation_data_extended(
        &self,
        ids: &[i64],
    ) -> Result<Vec<OperationDetails>, WoopayError> {
        if ids.is_empty() {
            return Err(WoopayError::input("at least one operation id"));
        }
        let req = wire::CashGetOperationDataExtendedRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_operation_data_extended_request: Some(
                wire::CashGetOperationDataExtendedRequest {
                    xsi_type: Some(XsiType::from_static(
                        "ns1:CashGetOperationDataExtendedRequest",
                    )),
                    xsi_nil: None,
                    operation_id: Some(int_array(ids)),
                },
            ),
        };
        let data = self
            .authed::<wire::CashGetOperationDataExtendedRpcResponse>(&EXTENDED, &req, "")
            .await?;
        data.and_then(|d| d.records)
            .map(|r| r.items)
            .unwrap_or_default()
            .into_iter()
            .map(|r| Ok(details!(r)))
            .collect()
    }

    /// Statuses of the operations with the merchant reference `ext_id` between two dates,
    /// optionally of one status only (`cash_getOperationsStatus`).
    pub async fn operations_status(
        &self,
        ext_id: &str,
        status: Option<i64>,
        date_from: &str,
        date_to: &str,
    ) -> Result<Vec<StatusRecord>, WoopayError> {
        date_filter("dateFrom", Some(date_from))?;
        date_filter("dateTo", Some(date_to))?;
        let req = wire::CashGetOperationsStatusRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_operations_status_request: Some(wire::CashGetOperationsStatusRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetOperationsStatusRequest")),
                xsi_nil: None,
                ext_id: Some(EncString::new(ext_id.to_owned())),
                status: opt_i(status),
                date_from: Some(EncString::new(date_from.to_owned())),
                date_to: Some(EncString::new(date_to.to_owned())),
            }),
        };
        let data = self
            .authed::<wire::CashGetOperationsStatusRpcResponse>(&STATUSES, &req, ext_id)
            .await?;
        data.map(|a| a.items)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                Ok(StatusRecord {
                    ext_id: text(r.ext_id.as_ref())?,
                    description: text(r.description.as_ref())?,
                    status: OperationStatus::from_code(int(r.status.as_ref())?.unwrap_or(0)),
                    date: text(r.date.as_ref())?,
                })
            })
            .collect()
    }

    /// One page of the wallet's history (`cash_getTransfers`).
    pub async fn transfers(&self, query: &TransfersQuery) -> Result<Transfers, WoopayError> {
        if query.page == 0 || !(1..=100).contains(&query.per_page) {
            return Err(WoopayError::input("page from 1, perPage from 1 to 100"));
        }
        date_filter("dateFrom", query.date_from.as_deref())?;
        date_filter("dateTo", query.date_to.as_deref())?;
        let req = wire::CashGetTransfersRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_transfers_request: Some(wire::CashGetTransfersRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetTransfersRequest")),
                xsi_nil: None,
                page: Some(EncInt::new(i64::from(query.page))),
                per_page: Some(EncInt::new(i64::from(query.per_page))),
                statuses: Some(int_array(&query.statuses)),
                types: Some(int_array(&query.types)),
                direction: opt_i(query.direction),
                reverse: Some(EncBool::new(query.reverse)),
                second_subject: opt_s(query.second_subject.as_deref()),
                date_from: opt_s(query.date_from.as_deref()),
                date_to: opt_s(query.date_to.as_deref()),
                last_changed: opt_i(query.last_changed),
            }),
        };
        let data = self
            .authed::<wire::CashGetTransfersRpcResponse>(&TRANSFERS, &req, "")
            .await?
            .ok_or_else(|| WoopayError::decode("no history in the answer"))?;
        let records = data
            .records
            .map(|r| r.items)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                Ok(Transfer {
                    id: int(r.id.as_ref())?
                        .ok_or_else(|| WoopayError::decode("record without id"))?,
                    op_type: OperationType::from_code(int(r.type_field.as_ref())?.unwrap_or(0)),
                    status: OperationStatus::from_code(int(r.status.as_ref())?.unwrap_or(0)),
                    direction: int(r.direction.as_ref())?,
                    sum: kzt(r.sum.as_ref(), "sum")?,
                    date: text(r.date.as_ref())?,
                    comment: text(r.comment.as_ref())?,
                    from_subject: text(r.from_subject.as_ref())?,
                    to_subject: text(r.to_subject.as_ref())?,
                    service_name: r
                        .service
                        .as_ref()
                        .map(|s| text(s.service_name.as_ref()))
                        .transpose()?
                        .flatten(),
                })
            })
            .collect::<Result<Vec<_>, WoopayError>>()?;
        Ok(Transfers {
            records,
            last_changed: int(data.last_changed.as_ref())?,
        })
    }

    /// The fiscal receipt of an operation (`cash_getOperationReceipt`).
    pub async fn receipt(&self, operation_id: i64) -> Result<Receipt, WoopayError> {
        let req = wire::CashGetOperationReceiptRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_operation_receipt_request: Some(wire::CashGetOperationReceiptRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetOperationReceiptRequest")),
                xsi_nil: None,
                operation_id: Some(EncInt::new(operation_id)),
            }),
        };
        let r = self
            .authed::<wire::CashGetOperationReceiptRpcResponse>(
                &RECEIPT,
                &req,
                &operation_id.to_string(),
            )
            .await?
            .ok_or_else(|| WoopayError::decode("no receipt in the answer"))?;
        Ok(Receipt {
            op_bin: text(r.op_bin.as_ref())?,
            ch_nr: text(r.ch_nr.as_ref())?,
            tr_nr: text(r.tr_nr.as_ref())?,
            account_nr: text(r.account_nr.as_ref())?,
            date: text(r.date.as_ref())?,
            mer_name: text(r.mer_name.as_ref())?,
            mer_bin: text(r.mer_bin.as_ref())?,
            ident: r
                .ident
                .map(|a| a.items)
                .unwrap_or_default()
                .iter()
                .filter_map(|i| text(Some(i)).transpose())
                .collect::<Result<_, _>>()?,
            admit: text(r.admit.as_ref())?,
            commis: text(r.commis.as_ref())?,
            sum: text(r.sum.as_ref())?,
            operation: text(r.operation.as_ref())?,
            vat: text(r.vat.as_ref())?,
            sup: text(r.sup.as_ref())?,
        })
    }

    /// What Wooppay charges for paying `amount` (KZT) to service `service_id`
    /// (`cash_getCommission`).
    pub async fn commission(&self, service_id: i64, amount: Money) -> Result<Money, WoopayError> {
        if amount.currency() != Currency::KZT {
            return Err(WoopayError::input("Wooppay amounts are in KZT"));
        }
        amount
            .check_to_send("amount")
            .map_err(|e| WoopayError::input(e.to_string()))?;
        let req = wire::CashGetCommissionRpc {
            encoding_style: Some(EncodingStyle::from_static(ENCODING)),
            cash_get_commission_request: Some(wire::CashGetCommissionRequest {
                xsi_type: Some(XsiType::from_static("ns1:CashGetCommissionRequest")),
                xsi_nil: None,
                service_id: Some(EncInt::new(service_id)),
                amount: Some(EncDecimal::new(amount.amount())),
            }),
        };
        let data = self
            .authed::<wire::CashGetCommissionRpcResponse>(&COMMISSION, &req, "")
            .await?;
        kzt(data.and_then(|d| d.amount).as_ref(), "amount")?
            .ok_or_else(|| WoopayError::decode("no commission amount"))
    }
}
