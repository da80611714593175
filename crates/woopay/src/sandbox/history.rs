//! The simulator's lookups and history: by reference, extended records, statuses by
//! reference and dates, the wallet's history, receipts, commissions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::response::Response;
use paybridge_core::soap::from_fragment;
use rust_decimal::Decimal;

use super::{SANDBOX_USERNAME, SimOperation, Simulator, error, fault, ok, text, val};
use crate::generated::xml_controller as wire;

/// The 27 fields of an extended record (amounts in tiyn: their unit is not documented
/// publicly, and clients do not read them as money).
fn details(id: i64, o: &SimOperation) -> String {
    let tiyn = |d: Decimal| (d * Decimal::ONE_HUNDRED).trunc().to_string();
    [
        val("id", "int", &id.to_string()),
        val("parentId", "int", "0"),
        val("amount", "int", &tiyn(o.amount)),
        val(
            "currency",
            "int",
            if o.currency == "KZT" { "398" } else { "0" },
        ),
        val("dateOper", "string", &o.created),
        val(
            "dateDone",
            "string",
            if matches!(o.status, 4 | 5) {
                &o.done
            } else {
                ""
            },
        ),
        val("status", "int", &o.status.to_string()),
        val("description", "string", &o.description),
        val("serviceId", "int", "0"),
        val("orderId", "int", "0"),
        val("type", "int", "4"),
        val("productId", "int", "0"),
        val("subjectFromId", "int", "0"),
        val("subjectToId", "int", "384310"),
        val("specialistId", "int", "0"),
        val("subjectFrom", "string", ""),
        val("subjectTo", "string", SANDBOX_USERNAME),
        val("specialist", "string", ""),
        val("commissionLower", "int", "0"),
        val("commissionUpper", "int", "0"),
        val("commissionUpperLower", "int", "0"),
        val("retSum", "int", &tiyn(o.refunded)),
        val("lifeTime", "int", "0"),
        val("externalId", "string", &o.reference_id),
        val("cashback", "int", "0"),
        val(
            "paymentAccount",
            "string",
            if o.mobile {
                "7701*****67"
            } else {
                "440043******0001"
            },
        ),
        val("secure", "int", "0"),
    ]
    .concat()
}

/// A `SOAP-ENC` array element of `items` of `item_type`.
fn array(tag: &str, item_type: &str, array_type: &str, count: usize, items: &str) -> String {
    format!(
        "<{tag} SOAP-ENC:arrayType=\"{item_type}[{count}]\" xsi:type=\"{array_type}\">{items}</{tag}>"
    )
}

/// The ids of a request's `intArray`.
fn ids(a: Option<wire::IntArray>) -> Vec<i64> {
    a.map(|a| {
        a.items
            .iter()
            .filter_map(|i| i.get().ok().flatten())
            .collect()
    })
    .unwrap_or_default()
}

/// `date` within `[from, to]` (dates alone cover their whole day).
fn within(date: &str, from: &str, to: &str) -> bool {
    let to = if to.len() == 10 {
        format!("{to} 23:59:59")
    } else {
        to.to_owned()
    };
    (from.is_empty() || date >= from) && (to.is_empty() || date <= to.as_str())
}

/// One lookup: the operations, and the request.
struct Ask<'a> {
    ops: &'a BTreeMap<i64, SimOperation>,
    body: &'a str,
}

/// Why a lookup is refused: an `error_code`, or a request that does not decode (a Fault).
enum Refused {
    Code(i64),
    BadRequest,
}

/// `cash_getOperationDataByExtId`.
fn by_reference(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetOperationDataByExtIdRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let reference = text(
        r.cash_get_operation_data_by_ext_id_request
            .unwrap_or_default()
            .external_id
            .as_ref(),
    );
    let Some((id, o)) = ask.ops.iter().find(|(_, o)| o.reference_id == reference) else {
        return Err(Refused::Code(802));
    };
    Ok(format!(
        "<response xsi:type=\"ns1:CashGetOperationDataByExtIdResponseData\">{}</response>",
        details(*id, o)
    ))
}

/// `cash_getOperationDataExtended`.
fn extended(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetOperationDataExtendedRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let ids = ids(r
        .cash_get_operation_data_extended_request
        .and_then(|r| r.operation_id));
    let mut items = String::new();
    for id in &ids {
        let Some(o) = ask.ops.get(id) else {
            return Err(Refused::Code(802));
        };
        let _ = write!(
            items,
            "<item xsi:type=\"ns1:CashGetOperationDataExtendedResponseDataRecord\">{}</item>",
            details(*id, o)
        );
    }
    Ok(format!(
        "<response xsi:type=\"ns1:CashGetOperationDataExtendedResponseData\">{}</response>",
        array(
            "records",
            "ns1:CashGetOperationDataExtendedResponseDataRecord",
            "ns1:CashGetOperationDataExtendedResponseDataRecordArray",
            ids.len(),
            &items
        )
    ))
}

/// `cash_getOperationsStatus`.
fn statuses(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetOperationsStatusRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let r = r.cash_get_operations_status_request.unwrap_or_default();
    let ext_id = text(r.ext_id.as_ref());
    let status = r.status.and_then(|s| s.get().ok().flatten());
    let (from, to) = (text(r.date_from.as_ref()), text(r.date_to.as_ref()));
    let found: Vec<&SimOperation> = ask
        .ops
        .values()
        .filter(|o| ext_id.is_empty() || o.reference_id == ext_id)
        .filter(|o| status.is_none_or(|s| s == o.status))
        .filter(|o| within(&o.created, &from, &to))
        .collect();
    let mut items = String::new();
    for o in &found {
        let _ = write!(
            items,
            "<item xsi:type=\"ns1:CashGetOperationsStatusResponseRecord\">{}{}{}{}</item>",
            val("ext_id", "string", &o.reference_id),
            val("description", "string", &o.description),
            val("status", "int", &o.status.to_string()),
            val("date", "string", &o.created),
        );
    }
    Ok(array(
        "response",
        "ns1:CashGetOperationsStatusResponseRecord",
        "ns1:CashGetOperationsStatusResponseRecordArray",
        found.len(),
        &items,
    ))
}

/// `cash_getTransfers`.
fn transfers(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetTransfersRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let r = r.cash_get_transfers_request.unwrap_or_default();
    let int =
        |v: Option<&paybridge_core::soap::encoded::EncInt>| v.and_then(|v| v.get().ok().flatten());
    let page = usize::try_from(int(r.page.as_ref()).unwrap_or(1).max(1)).unwrap_or(1);
    let per_page =
        usize::try_from(int(r.per_page.as_ref()).unwrap_or(20).clamp(1, 100)).unwrap_or(20);
    let statuses = ids(r.statuses);
    let (from, to) = (text(r.date_from.as_ref()), text(r.date_to.as_ref()));
    let reverse = r
        .reverse
        .and_then(|b| b.get().ok().flatten())
        .unwrap_or(false);
    let mut listed: Vec<(&i64, &SimOperation)> = ask
        .ops
        .iter()
        .filter(|(_, o)| statuses.is_empty() || statuses.contains(&o.status))
        .filter(|(_, o)| within(&o.created, &from, &to))
        .collect();
    // Newest first, unless asked otherwise.
    if !reverse {
        listed.reverse();
    }
    let page_items: Vec<_> = listed
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let mut items = String::new();
    for (id, o) in &page_items {
        let _ = write!(
            items,
            "<item xsi:type=\"ns1:CashGetTransfersResponseDataRecord\">{}{}{}{}{}{}{}{}{}{}{}{}<service xsi:type=\"ns1:CashGetTransfersResponseDataRecordService\">{}{}{}</service>{}{}</item>",
            val("id", "int", &id.to_string()),
            val("fromSubject", "string", "Z77765431515"),
            val("toSubject", "string", SANDBOX_USERNAME),
            val("fromFullName", "string", "Sandbox Payer"),
            val("toFullName", "string", SANDBOX_USERNAME),
            val("direction", "int", "1"),
            val("date", "string", &o.created),
            val("sum", "float", &o.amount.normalize().to_string()),
            val("type", "int", "4"),
            val("status", "int", &o.status.to_string()),
            val("comment", "string", &o.description),
            val("lotId", "int", "0"),
            val("service_name", "string", "invoice"),
            val("name", "string", "Invoice"),
            val("picture", "string", ""),
            val("avatarName", "string", ""),
            val("imageLotName", "string", ""),
        );
    }
    Ok(format!(
        "<response xsi:type=\"ns1:CashGetTransfersResponseData\">{}{}</response>",
        array(
            "records",
            "ns1:CashGetTransfersResponseDataRecord",
            "ns1:CashGetTransfersResponseDataRecordArray",
            page_items.len(),
            &items
        ),
        val("lastChanged", "int", &ask.ops.len().to_string())
    ))
}

/// `cash_getOperationReceipt`.
fn receipt(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetOperationReceiptRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let id = r
        .cash_get_operation_receipt_request
        .and_then(|r| r.operation_id)
        .and_then(|i| i.get().ok().flatten())
        .unwrap_or_default();
    // Only a paid (or since refunded) operation has a receipt.
    let Some(o) = ask.ops.get(&id).filter(|o| matches!(o.status, 4 | 5)) else {
        return Err(Refused::Code(802));
    };
    Ok(format!(
        "<response xsi:type=\"ns1:CashGetOperationReceiptResponseData\">{}{}{}{}{}{}{}{}{}{}{}{}{}{}</response>",
        val("op_bin", "string", "100140011059"),
        val("ch_nr", "string", &format!("{}", id % 1_000_000)),
        val("tr_nr", "string", &id.to_string()),
        val("account_nr", "string", "Z77765431515"),
        val("date", "string", &o.done),
        val("mer_name", "string", SANDBOX_USERNAME),
        val("mer_bin", "string", "000000000000"),
        array(
            "ident",
            "xsd:string",
            "ns1:stringArray",
            1,
            &format!(
                "<item xsi:type=\"xsd:string\">{}</item>",
                paybridge_core::xml::escape_text(&o.reference_id)
            )
        ),
        val("admit", "string", &o.amount.normalize().to_string()),
        val("commis", "string", "0"),
        val("sum", "string", &o.amount.normalize().to_string()),
        val("operation", "string", &o.description),
        val("vat", "string", "0"),
        val("sup", "string", SANDBOX_USERNAME),
    ))
}

/// `cash_getCommission`.
fn commission(ask: &Ask<'_>) -> Result<String, Refused> {
    let Ok(r) = from_fragment::<wire::CashGetCommissionRpc>(ask.body) else {
        return Err(Refused::BadRequest);
    };
    let r = r.cash_get_commission_request.unwrap_or_default();
    let service = r.service_id.and_then(|i| i.get().ok().flatten());
    let amount = r.amount.and_then(|a| a.get().ok().flatten());
    let (Some(service), Some(amount)) = (service, amount) else {
        return Err(Refused::Code(411));
    };
    if service <= 0 {
        return Err(Refused::Code(213));
    }
    if amount.is_sign_negative() {
        return Err(Refused::Code(420));
    }
    let commission = (amount * Decimal::new(2, 2)).round_dp(2);
    Ok(format!(
        "<response xsi:type=\"ns1:CashGetCommissionResponseData\">{}</response>",
        val("amount", "float", &commission.normalize().to_string())
    ))
}

impl Simulator {
    /// The lookups and history operations.
    pub(super) fn history(&self, op: &str, return_type: &str, body: &str) -> Response {
        let Ok(ops) = self.inner.operations.lock() else {
            return error(op, return_type, 3);
        };
        let read = match op {
            "cash_getOperationDataByExtId" => by_reference,
            "cash_getOperationDataExtended" => extended,
            "cash_getOperationsStatus" => statuses,
            "cash_getTransfers" => transfers,
            "cash_getOperationReceipt" => receipt,
            "cash_getCommission" => commission,
            other => return fault(&format!("Function (\"{other}\") is not implemented")),
        };
        match read(&Ask { ops: &ops, body }) {
            Ok(answer) => ok(op, return_type, &answer),
            Err(Refused::Code(code)) => error(op, return_type, code),
            Err(Refused::BadRequest) => fault("Bad request"),
        }
    }
}
