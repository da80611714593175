//! Every operation added from Wooppay's public operation set, on the wire: the exact
//! operation element sent (recorded transport), an answer in the live service's rpc/encoded
//! shape decoded, error codes typed, and a refund whose outcome is unknown never resent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;

use paybridge_core::http::TransportError;
use paybridge_core::{Currency, Money};
use paybridge_testkit::RecordingTransport;
use paybridge_woopay::sandbox::{SANDBOX_PASSWORD, SANDBOX_USERNAME};
use paybridge_woopay::{
    Client, Config, ErrorCode, Invoice2ExtendedRequest, InvoiceRequest, OperationStatus,
    TransfersQuery, WoopayError,
};
use secrecy::SecretString;

const LOGIN: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:core_loginResponse><return xsi:type="ns1:CoreLoginResponse"><response xsi:type="ns1:CoreLoginResponseData"><session xsi:type="xsd:string">06e66b5a182aeeb197a250a35bae0ed5</session><id xsi:type="xsd:int">384310</id></response><error_code xsi:type="xsd:int">0</error_code></return></ns1:core_loginResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;

/// An answer of `op` as PHP's `SoapServer` writes it.
fn answer(op: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:{op}Response><return xsi:type="ns1:X">{inner}</return></ns1:{op}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

fn ok(op: &str, response: &str) -> String {
    answer(
        op,
        &format!("{response}<error_code xsi:type=\"xsd:int\">0</error_code>"),
    )
}

fn refused(op: &str, code: i64) -> String {
    answer(
        op,
        &format!(
            "<response xsi:nil=\"true\"/><error_code xsi:type=\"xsd:int\">{code}</error_code>"
        ),
    )
}

/// A client logged in on `recorder`, which then answers `then`.
fn client(then: &str) -> (Client, Arc<RecordingTransport>) {
    let recorder = RecordingTransport::new();
    recorder
        .answer(200, "text/xml; charset=utf-8", LOGIN)
        .answer(200, "text/xml; charset=utf-8", then.to_owned());
    let config = Config::new(
        "https://www.test.wooppay.com/api/wsd/",
        SANDBOX_USERNAME,
        SecretString::from(SANDBOX_PASSWORD),
    );
    (Client::new(config, recorder.http()).unwrap(), recorder)
}

const OPEN: &str = r#" xmlns:tns="urn:XmlControllerwsdl" xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">"#;

/// The operation element of the second request (after the login), with its SOAPAction
/// checked and its session cookie.
fn sent_op(recorder: &RecordingTransport, op: &str) -> String {
    let sent = recorder.sent();
    assert_eq!(sent.len(), 2, "one login, one call, nothing resent");
    assert_eq!(
        sent[1].header("soapaction"),
        Some(format!("\"urn:XmlControllerwsdl#{op}\"").as_str())
    );
    assert_eq!(
        sent[1].header("cookie"),
        Some("session=06e66b5a182aeeb197a250a35bae0ed5")
    );
    let body = sent[1].body_text();
    let element = body
        .split_once("<SOAP-ENV:Body>")
        .and_then(|(_, b)| b.split_once("</SOAP-ENV:Body>"))
        .map(|(b, _)| b.to_owned())
        .unwrap();
    let prefix = format!("<tns:{op}{OPEN}");
    let suffix = format!("</tns:{op}>");
    element
        .strip_prefix(&prefix)
        .and_then(|e| e.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("unexpected envelope: {element}"))
        .to_owned()
}

fn kzt(s: &str) -> Money {
    Money::parse(s, Currency::KZT).unwrap()
}

#[tokio::test]
async fn mobile_refund_sends_amount_and_force_and_maps_228() {
    let (c, rec) = client(&ok("cash_mobileRefund", ""));
    c.mobile_refund(50_145_291, kzt("250.5"), true)
        .await
        .unwrap();
    assert_eq!(
        sent_op(&rec, "cash_mobileRefund"),
        r#"<cashMobileRefundRequest xsi:type="ns1:CashMobileRefundRequest"><operationId xsi:type="xsd:int">50145291</operationId><force xsi:type="xsd:boolean">true</force><amount xsi:type="xsd:float">250.5</amount></cashMobileRefundRequest>"#
    );
    let (c, _) = client(&refused("cash_mobileRefund", 228));
    assert!(matches!(
        c.mobile_refund(1, kzt("1"), false).await,
        Err(WoopayError::Api(ErrorCode::KcellRefundFailed))
    ));
    // Nothing leaves for an amount that cannot be a refund.
    let (c, rec) = client("");
    assert!(matches!(
        c.mobile_refund(1, kzt("0"), false).await,
        Err(WoopayError::Core(paybridge_core::Error::Input(_)))
    ));
    assert!(rec.sent().is_empty());
}

#[tokio::test]
async fn a_refund_whose_answer_is_lost_is_outcome_unknown_and_never_resent() {
    let recorder = RecordingTransport::new();
    recorder
        .answer(200, "text/xml; charset=utf-8", LOGIN)
        .fail(TransportError::Sending("connection reset".into()));
    let c = Client::new(
        Config::new(
            "https://www.test.wooppay.com/api/wsd/",
            SANDBOX_USERNAME,
            SecretString::from(SANDBOX_PASSWORD),
        ),
        recorder.http(),
    )
    .unwrap();
    let e = paybridge_core::Error::from(
        c.payment_return_partial(50_145_291, kzt("100"))
            .await
            .unwrap_err(),
    );
    assert!(e.outcome_unknown(), "{e:?}");
    assert!(
        e.to_string().contains("cash_getOperationData"),
        "the error says how to find out: {e}"
    );
    assert_eq!(recorder.sent().len(), 2, "sent once, never again");
}

const RECORD: &str = r#"<id xsi:type="xsd:int">50145291</id><parentId xsi:type="xsd:int">0</parentId><amount xsi:type="xsd:int">250000</amount><currency xsi:type="xsd:int">398</currency><dateOper xsi:type="xsd:string">2026-11-23 12:00:00</dateOper><dateDone xsi:type="xsd:string">2026-11-23 12:05:00</dateDone><status xsi:type="xsd:int">4</status><description xsi:type="xsd:string">Order 42</description><serviceId xsi:type="xsd:int">0</serviceId><orderId xsi:type="xsd:int">0</orderId><type xsi:type="xsd:int">4</type><productId xsi:type="xsd:int">0</productId><subjectFromId xsi:type="xsd:int">0</subjectFromId><subjectToId xsi:type="xsd:int">384310</subjectToId><specialistId xsi:type="xsd:int">0</specialistId><subjectFrom xsi:type="xsd:string">Z77765431515</subjectFrom><subjectTo xsi:type="xsd:string">test_merch</subjectTo><specialist xsi:type="xsd:string"></specialist><commissionLower xsi:type="xsd:int">0</commissionLower><commissionUpper xsi:type="xsd:int">5000</commissionUpper><commissionUpperLower xsi:type="xsd:int">0</commissionUpperLower><retSum xsi:type="xsd:int">125000</retSum><lifeTime xsi:type="xsd:int">0</lifeTime><externalId xsi:type="xsd:string">order-42</externalId><cashback xsi:type="xsd:int">0</cashback><paymentAccount xsi:type="xsd:string">440043******0001</paymentAccount><secure xsi:type="xsd:int">1</secure>"#;

#[tokio::test]
async fn operation_data_extended_reads_every_field() {
    let (c, rec) = client(&ok(
        "cash_getOperationDataExtended",
        &format!(
            r#"<response xsi:type="ns1:CashGetOperationDataExtendedResponseData"><records SOAP-ENC:arrayType="ns1:CashGetOperationDataExtendedResponseDataRecord[1]" xsi:type="ns1:CashGetOperationDataExtendedResponseDataRecordArray"><item xsi:type="ns1:CashGetOperationDataExtendedResponseDataRecord">{RECORD}</item></records></response>"#
        ),
    ));
    let ops = c.operation_data_extended(&[50_145_291]).await.unwrap();
    assert_eq!(
        sent_op(&rec, "cash_getOperationDataExtended"),
        r#"<cashGetOperationDataExtendedRequest xsi:type="ns1:CashGetOperationDataExtendedRequest"><operationId SOAP-ENC:arrayType="xsd:int[1]" xsi:type="ns1:intArray"><item xsi:type="xsd:int">50145291</item></operationId></cashGetOperationDataExtendedRequest>"#
    );
    let [op] = ops.as_slice() else {
        panic!("{ops:?}")
    };
    assert_eq!(op.id, 50_145_291);
    assert_eq!(op.status, OperationStatus::Done);
    assert_eq!(op.external_id.as_deref(), Some("order-42"));
    assert_eq!(op.currency_numeric, Some(398));
    assert_eq!(op.amount_raw, Some(250_000));
    assert_eq!(op.ret_sum_raw, Some(125_000));
    assert_eq!(op.commissions_raw, [Some(0), Some(5000), Some(0)]);
    assert_eq!(op.payment_account.as_deref(), Some("440043******0001"));
    assert_eq!(op.date_done.as_deref(), Some("2026-11-23 12:05:00"));
    assert_eq!(op.secure, Some(1));
}

#[tokio::test]
async fn operations_status_by_reference_and_dates() {
    let (c, rec) = client(&ok(
        "cash_getOperationsStatus",
        r#"<response SOAP-ENC:arrayType="ns1:CashGetOperationsStatusResponseRecord[2]" xsi:type="ns1:CashGetOperationsStatusResponseRecordArray"><item xsi:type="ns1:CashGetOperationsStatusResponseRecord"><ext_id xsi:type="xsd:string">order-42</ext_id><description xsi:type="xsd:string">Order 42</description><status xsi:type="xsd:int">4</status><date xsi:type="xsd:string">2026-11-23 12:00:00</date></item><item xsi:type="ns1:CashGetOperationsStatusResponseRecord"><ext_id xsi:type="xsd:string">order-42</ext_id><description xsi:type="xsd:string">Order 42</description><status xsi:type="xsd:int">8</status><date xsi:type="xsd:string">2026-11-24 09:00:00</date></item></response>"#,
    ));
    let records = c
        .operations_status("order-42", Some(4), "2026-11-01", "2026-11-30 23:59:59")
        .await
        .unwrap();
    assert_eq!(
        sent_op(&rec, "cash_getOperationsStatus"),
        r#"<cashGetOperationsStatusRequest xsi:type="ns1:CashGetOperationsStatusRequest"><ext_id xsi:type="xsd:string">order-42</ext_id><status xsi:type="xsd:int">4</status><dateFrom xsi:type="xsd:string">2026-11-01</dateFrom><dateTo xsi:type="xsd:string">2026-11-30 23:59:59</dateTo></cashGetOperationsStatusRequest>"#
    );
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].status, OperationStatus::OnReconciliation);
    assert_eq!(
        records[1].status.normalized(),
        paybridge_core::PaymentStatus::Pending
    );
    // A date in another format never leaves.
    let (c, rec) = client("");
    assert!(
        c.operations_status("order-42", None, "01.11.2026", "2026-11-30")
            .await
            .is_err()
    );
    assert!(rec.sent().is_empty());
}

#[tokio::test]
async fn create_invoice_with_currency_names_the_currency_of_the_amount() {
    let (c, rec) = client(&ok(
        "cash_createInvoiceWithCurrency",
        r#"<response xsi:type="ns1:CashCreateInvoiceResponseData"><operationId xsi:type="xsd:int">50146001</operationId><operationUrl xsi:type="xsd:string">https://www.test.wooppay.com/invoice/operation?id=50146001&amp;key=ab</operationUrl></response>"#,
    ));
    let req = Invoice2ExtendedRequest {
        invoice: InvoiceRequest::new(
            "order-usd-1",
            Money::parse("19.99", Currency::USD).unwrap(),
            "https://shop.example/back",
            "https://shop.example/paid",
        ),
        card_forbidden: false,
        user_email: None,
        user_phone: None,
    };
    let invoice = c.create_invoice_with_currency(None, &req).await.unwrap();
    assert_eq!(invoice.operation_id, 50_146_001);
    assert_eq!(
        invoice.operation_url,
        "https://www.test.wooppay.com/invoice/operation?id=50146001&key=ab"
    );
    assert_eq!(
        sent_op(&rec, "cash_createInvoiceWithCurrency"),
        r#"<cashCreateInvoiceWithCurrencyRequest xsi:type="ns1:CashCreateInvoiceWithCurrencyRequest"><currency xsi:type="xsd:string">USD</currency><serviceName xsi:type="xsd:string"/><cardForbidden xsi:type="xsd:int">0</cardForbidden><userEmail xsi:type="xsd:string"/><userPhone xsi:type="xsd:string"/><referenceId xsi:type="xsd:string">order-usd-1</referenceId><backUrl xsi:type="xsd:string">https://shop.example/back</backUrl><requestUrl xsi:type="xsd:string">https://shop.example/paid</requestUrl><addInfo xsi:type="xsd:string"/><amount xsi:type="xsd:float">19.99</amount><deathDate xsi:type="xsd:string"/><serviceType xsi:type="xsd:int">4</serviceType><description xsi:type="xsd:string"/><orderNumber xsi:type="xsd:int"/></cashCreateInvoiceWithCurrencyRequest>"#
    );
    // 221: the reference was used before.
    let (c, _) = client(&refused("cash_createInvoiceWithCurrency", 221));
    assert!(matches!(
        c.create_invoice_with_currency(None, &req).await,
        Err(WoopayError::Api(ErrorCode::OperationExists))
    ));
}

#[tokio::test]
async fn transfers_page_is_read_with_its_cursor() {
    let (c, rec) = client(&ok(
        "cash_getTransfers",
        r#"<response xsi:type="ns1:CashGetTransfersResponseData"><records SOAP-ENC:arrayType="ns1:CashGetTransfersResponseDataRecord[1]" xsi:type="ns1:CashGetTransfersResponseDataRecordArray"><item xsi:type="ns1:CashGetTransfersResponseDataRecord"><id xsi:type="xsd:int">50145291</id><fromSubject xsi:type="xsd:string">Z77765431515</fromSubject><toSubject xsi:type="xsd:string">test_merch</toSubject><fromFullName xsi:type="xsd:string">Payer</fromFullName><toFullName xsi:type="xsd:string">Shop</toFullName><direction xsi:type="xsd:int">1</direction><date xsi:type="xsd:string">2026-11-23 12:00:00</date><sum xsi:type="xsd:float">2500.5</sum><type xsi:type="xsd:int">4</type><status xsi:type="xsd:int">5</status><comment xsi:type="xsd:string">Order 42</comment><lotId xsi:type="xsd:int">0</lotId><service xsi:type="ns1:CashGetTransfersResponseDataRecordService"><service_name xsi:type="xsd:string">invoice</service_name><name xsi:type="xsd:string">Invoice</name><picture xsi:type="xsd:string"></picture></service><avatarName xsi:type="xsd:string"></avatarName><imageLotName xsi:type="xsd:string"></imageLotName></item></records><lastChanged xsi:type="xsd:int">1764000000</lastChanged></response>"#,
    ));
    let query = TransfersQuery {
        page: 2,
        per_page: 50,
        statuses: vec![4, 5],
        date_from: Some("2026-11-01".into()),
        ..TransfersQuery::default()
    };
    let page = c.transfers(&query).await.unwrap();
    assert_eq!(
        sent_op(&rec, "cash_getTransfers"),
        r#"<cashGetTransfersRequest xsi:type="ns1:CashGetTransfersRequest"><page xsi:type="xsd:int">2</page><perPage xsi:type="xsd:int">50</perPage><statuses SOAP-ENC:arrayType="xsd:int[2]" xsi:type="ns1:intArray"><item xsi:type="xsd:int">4</item><item xsi:type="xsd:int">5</item></statuses><types SOAP-ENC:arrayType="xsd:int[0]" xsi:type="ns1:intArray"></types><direction xsi:type="xsd:int"/><reverse xsi:type="xsd:boolean">false</reverse><secondSubject xsi:type="xsd:string"/><dateFrom xsi:type="xsd:string">2026-11-01</dateFrom><dateTo xsi:type="xsd:string"/><lastChanged xsi:type="xsd:int"/></cashGetTransfersRequest>"#
    );
    assert_eq!(page.last_changed, Some(1_764_000_000));
    let [t] = page.records.as_slice() else {
        panic!("{page:?}")
    };
    assert_eq!(t.sum, Some(kzt("2500.5")));
    assert_eq!(t.status, OperationStatus::Reversed);
    assert_eq!(t.service_name.as_deref(), Some("invoice"));
}

#[tokio::test]
async fn receipt_and_commission_are_read() {
    let (c, rec) = client(&ok(
        "cash_getOperationReceipt",
        r#"<response xsi:type="ns1:CashGetOperationReceiptResponseData"><op_bin xsi:type="xsd:string">100140011059</op_bin><ch_nr xsi:type="xsd:string">145291</ch_nr><tr_nr xsi:type="xsd:string">50145291</tr_nr><account_nr xsi:type="xsd:string">Z77765431515</account_nr><date xsi:type="xsd:string">2026-11-23 12:05:00</date><mer_name xsi:type="xsd:string">test_merch</mer_name><mer_bin xsi:type="xsd:string">000000000000</mer_bin><ident SOAP-ENC:arrayType="xsd:string[2]" xsi:type="ns1:stringArray"><item xsi:type="xsd:string">order-42</item><item xsi:type="xsd:string">Заказ 42</item></ident><admit xsi:type="xsd:string">2500</admit><commis xsi:type="xsd:string">0</commis><sum xsi:type="xsd:string">2500</sum><operation xsi:type="xsd:string">Order 42</operation><vat xsi:type="xsd:string">0</vat><sup xsi:type="xsd:string">test_merch</sup></response>"#,
    ));
    let r = c.receipt(50_145_291).await.unwrap();
    assert_eq!(
        sent_op(&rec, "cash_getOperationReceipt"),
        r#"<cashGetOperationReceiptRequest xsi:type="ns1:CashGetOperationReceiptRequest"><operationId xsi:type="xsd:int">50145291</operationId></cashGetOperationReceiptRequest>"#
    );
    assert_eq!(r.ident, ["order-42", "Заказ 42"]);
    assert_eq!(r.tr_nr.as_deref(), Some("50145291"));
    assert_eq!(r.sum.as_deref(), Some("2500"));

    let (c, rec) = client(&ok(
        "cash_getCommission",
        r#"<response xsi:type="ns1:CashGetCommissionResponseData"><amount xsi:type="xsd:float">50.01</amount></response>"#,
    ));
    assert_eq!(c.commission(42, kzt("2500.5")).await.unwrap(), kzt("50.01"));
    assert_eq!(
        sent_op(&rec, "cash_getCommission"),
        r#"<cashGetCommissionRequest xsi:type="ns1:CashGetCommissionRequest"><serviceId xsi:type="xsd:int">42</serviceId><amount xsi:type="xsd:float">2500.5</amount></cashGetCommissionRequest>"#
    );
    let (c, _) = client(&refused("cash_getCommission", 213));
    assert!(matches!(
        c.commission(0, kzt("1")).await,
        Err(WoopayError::Api(ErrorCode::UnknownService))
    ));
}

#[tokio::test]
async fn logout_ends_the_session_and_the_next_call_logs_in_again() {
    let (c, rec) = client(&ok("core_logout", ""));
    assert!(!c.logout().await.unwrap(), "no session yet: nothing sent");
    assert!(rec.sent().is_empty());
    c.login().await.unwrap();
    assert!(c.logout().await.unwrap());
    assert_eq!(
        sent_op(&rec, "core_logout"),
        r#"<coreLogoutRequest xsi:type="ns1:CoreLogoutRequest"></coreLogoutRequest>"#
    );
    assert!(!c.logout().await.unwrap(), "the session is gone");
}
