//! The IPN record (`cDataRecordIPN`) as the SDK hands it out and takes it in.

use rust_decimal::Decimal;

pub use crate::generated::payment_notification::BuyerInfo;

/// One IPN: the generated `cDataRecordIPN`, on the wire and in JSON alike (the CLI's `--ipn`,
/// the ledger). Value-type fields (ids, quantities, the amount) are required: a record
/// missing one is refused when parsed, before anything is sent. Strings may be absent.
/// `custopmerIP` (sic) on the wire is `customer_ip` here; the amount (`double` on the wire)
/// is an exact decimal, given in JSON as a string or a number. `verify_hash` is never JSON:
/// the sender computes it, the receiver checks it and hands the record out without it.
pub type IpnRecord = crate::generated::payment_notification::CDataRecordIpn;

/// The amount as written on the wire when sending: shortest decimal form, `.` separator, no
/// exponent (`19.99`, `100`).
#[must_use]
pub fn amount_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A record's texts as they will be written on the wire, in
/// [`FIELD_NAMES`](crate::signature::FIELD_NAMES) order (what the sender hashes; the receiver
/// hashes the texts it read).
pub type WireTexts = [Option<String>; crate::signature::FIELD_NAMES.len()];

/// The [`RecordFields`](crate::signature::RecordFields) view of `texts` (same order: no name
/// is looked up).
#[must_use]
pub fn fields_of(texts: &WireTexts) -> crate::signature::RecordFields<'_> {
    crate::signature::RecordFields::from_texts(texts)
}

/// How long Linkifier may deliver the same IPN again (no public figure: 30 days).
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(30 * 24);

impl IpnRecord {
    /// This record's texts as the sender writes them (numbers in decimal, the amount in its
    /// shortest form, absent strings absent; `BuyerInfo` present as `""`).
    #[must_use]
    pub fn wire_texts(&self) -> WireTexts {
        let buyer = self.buyer_info.as_ref();
        let b = |f: fn(&BuyerInfo) -> &Option<String>| buyer.and_then(|b| f(b).clone());
        [
            self.pay_transaction_id.clone(),
            Some(self.pay_provider_id.to_string()),
            Some(self.sales_site_id.to_string()),
            Some(self.sales_site_product_id.to_string()),
            Some(self.customer_id.to_string()),
            self.customer_ip.clone(),
            self.payment_date_time.clone(),
            Some(self.transaction_type_id.to_string()),
            self.pay_provider_transaction_id.clone(),
            Some(amount_text(self.pay_provider_amount.0)),
            self.promo_code.clone(),
            self.sale_description.clone(),
            Some(self.sale_quantity.to_string()),
            self.custom_referrer.clone(),
            self.currency.clone(),
            self.fraud_status.clone(),
            self.message_type.clone(),
            buyer.map(|_| String::new()),
            b(|b| &b.payer_id),
            b(|b| &b.business_name),
            b(|b| &b.first_name),
            b(|b| &b.last_name),
            b(|b| &b.payer_email),
            b(|b| &b.address),
            b(|b| &b.contact_phone),
            b(|b| &b.residence_country),
            b(|b| &b.payer_status),
        ]
    }

    /// The payment's state as this IPN reports it; its `TransactionTypeID` is the
    /// `provider_status`, its `message_type` the message.
    ///
    /// Linkifier documents no values for `TransactionTypeID`, `message_type` or
    /// `fraud_status`, so the status is our reading, chosen so that no IPN reads as money
    /// taken when its own words say otherwise (see [`status`](Self::status)).
    #[must_use]
    pub fn state(&self) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef {
                reference: self.pay_transaction_id.clone().unwrap_or_default(),
                provider_reference: self.pay_provider_transaction_id.clone(),
            },
            status: self.status(),
            provider_status: self.transaction_type_id.to_string(),
            amount: self.money().ok(),
            message: self.message_type.clone(),
        }
    }

    /// The normalized status (our reading; the words are 2Checkout-style INS vocabulary,
    /// matched case-insensitively): a `message_type` naming a refund, chargeback or reversal
    /// is `reversed`; a `fraud_status` of `fail`/`failed`/`declined`/`rejected` is `failed`,
    /// of `wait`/`pending`/`review` is `pending`; any other IPN — a sale — is `succeeded`.
    /// A refund of a paid sale carries the sale's `PayTransactionID`: it must not read as a
    /// second sale.
    #[must_use]
    pub fn status(&self) -> paybridge_core::PaymentStatus {
        use paybridge_core::PaymentStatus;
        let message = self
            .message_type
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ["refund", "chargeback", "reversal", "reversed"]
            .iter()
            .any(|w| message.contains(w))
        {
            return PaymentStatus::Reversed;
        }
        let fraud = self.fraud_status.as_deref().unwrap_or_default().trim();
        let is = |words: &[&str]| words.iter().any(|w| fraud.eq_ignore_ascii_case(w));
        if is(&["fail", "failed", "declined", "rejected"]) {
            PaymentStatus::Failed
        } else if is(&["wait", "pending", "review"]) {
            PaymentStatus::Pending
        } else {
            PaymentStatus::Succeeded
        }
    }

    /// The natural key of this IPN: `PayTransactionID`, `TransactionTypeID`, the message type
    /// and the fraud status — a refund of a paid transaction is another event than its sale,
    /// and a sale under review then accepted is two states, not one. An IPN without a
    /// `PayTransactionID` has no key and is refused ([`paybridge_core::Error::Callback`]).
    pub fn dedup_key(&self) -> paybridge_core::Result<String> {
        let tx = self
            .pay_transaction_id
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| paybridge_core::Error::callback("IPN without PayTransactionID"))?;
        Ok(format!(
            "{tx}:{}:{}:{}",
            self.transaction_type_id,
            self.message_type.as_deref().unwrap_or_default(),
            self.fraud_status.as_deref().unwrap_or_default()
        ))
    }

    /// The record's amount as money: in its `Currency` when that is a known code (decimals
    /// checked against the currency's minor units), else in ISO 4217's `XXX` ("no currency")
    /// with up to 4 decimals.
    fn money(&self) -> paybridge_core::Result<paybridge_core::Money> {
        let currency = match self
            .currency
            .as_deref()
            .and_then(|c| paybridge_core::Currency::from_code(c).ok())
        {
            Some(c) => c,
            None => paybridge_core::Currency::new("XXX", 4)?,
        };
        paybridge_core::Money::new(self.pay_provider_amount.0, currency)
    }

    /// Check the amount of a record about to be sent: more than zero, at most
    /// [`paybridge_core::Money::MAX_MAJOR_UNITS`], no more decimals than its currency has
    /// ([`paybridge_core::Error::Input`]).
    pub fn check_amount_to_send(&self) -> paybridge_core::Result<()> {
        let field = "pay_provider_amount";
        self.money()
            .map_err(|e| paybridge_core::Error::Input(format!("{field}: {e}")))?
            .check_to_send(field)
    }

    /// Check the amount of a received record: not negative, not absurd, no more decimals
    /// than its currency has ([`paybridge_core::Error::Decode`] naming `PayProviderAmount`).
    pub fn check_amount_reported(&self) -> paybridge_core::Result<()> {
        let field = "PayProviderAmount";
        self.money()
            .map_err(|e| paybridge_core::Error::decode(format!("{field}: {e}")))?
            .check_reported(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_input_takes_amounts_as_string_or_number_and_refuses_missing_value_fields() {
        let base = r#"{"pay_provider_id":1,"sales_site_id":2,"sales_site_product_id":3,"customer_id":4,"transaction_type_id":1,"sale_quantity":1,"pay_provider_amount":AMOUNT}"#;
        let r: IpnRecord = serde_json::from_str(&base.replace("AMOUNT", "19.99")).unwrap();
        assert_eq!(r.pay_provider_amount.0, Decimal::new(1999, 2));
        let r: IpnRecord = serde_json::from_str(&base.replace("AMOUNT", "\"100.50\"")).unwrap();
        assert_eq!(amount_text(r.pay_provider_amount.0), "100.5");
        assert_eq!(
            serde_json::to_value(&r).unwrap()["pay_provider_amount"],
            "100.5"
        );
        assert!(serde_json::from_str::<IpnRecord>(&base.replace("AMOUNT", "\"abc\"")).is_err());
        let missing = base.replace("\"customer_id\":4,", "");
        let err = serde_json::from_str::<IpnRecord>(&missing.replace("AMOUNT", "1")).unwrap_err();
        assert!(err.to_string().contains("customer_id"), "{err}");
        assert!(
            serde_json::from_str::<IpnRecord>(
                &base
                    .replace("AMOUNT", "1")
                    .replace('}', ",\"customerIP\":\"x\"}")
            )
            .is_err()
        );
    }

    #[test]
    fn a_refund_or_a_failed_fraud_check_never_reads_as_money_taken() {
        use paybridge_core::PaymentStatus::{Failed, Pending, Reversed, Succeeded};
        let base = r#"{"pay_provider_id":1,"sales_site_id":2,"sales_site_product_id":3,"customer_id":4,"transaction_type_id":1,"sale_quantity":1,"pay_provider_amount":"1"}"#;
        let mut r: IpnRecord = serde_json::from_str(base).unwrap();
        let mut read = |message: Option<&str>, fraud: Option<&str>| {
            r.message_type = message.map(str::to_owned);
            r.fraud_status = fraud.map(str::to_owned);
            r.state().status
        };
        assert_eq!(read(None, None), Succeeded);
        assert_eq!(read(Some("sale"), Some("accepted")), Succeeded);
        assert_eq!(read(Some("ORDER_CREATED"), Some("pass")), Succeeded);
        assert_eq!(read(Some("refund"), None), Reversed);
        assert_eq!(read(Some("REFUND_ISSUED"), Some("pass")), Reversed);
        assert_eq!(read(Some("chargeback"), None), Reversed);
        assert_eq!(read(Some("sale"), Some("FAIL")), Failed);
        assert_eq!(read(Some("sale"), Some(" declined ")), Failed);
        assert_eq!(read(Some("FRAUD_STATUS_CHANGED"), Some("wait")), Pending);
        assert_eq!(read(Some("sale"), Some("review")), Pending);
    }

    #[test]
    fn the_digest_is_never_json() {
        let base = r#"{"pay_provider_id":1,"sales_site_id":2,"sales_site_product_id":3,"customer_id":4,"transaction_type_id":1,"sale_quantity":1,"pay_provider_amount":"1"}"#;
        let with_hash = base.replace('}', ",\"verify_hash\":\"00\"}");
        assert!(serde_json::from_str::<IpnRecord>(&with_hash).is_err());
        let mut r: IpnRecord = serde_json::from_str(base).unwrap();
        r.verify_hash = Some("00".into());
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("verify_hash"), "{json}");
        assert!(json.contains("\"customer_ip\":null"), "{json}");
    }

    #[test]
    fn amount_text_is_shortest_without_exponent() {
        assert_eq!(amount_text(Decimal::new(10_000, 2)), "100");
        assert_eq!(amount_text(Decimal::new(1, 6)), "0.000001");
        assert_eq!(amount_text(Decimal::new(-505, 1)), "-50.5");
    }
}
