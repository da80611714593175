//! The IPN record (`cDataRecordIPN`) as the SDK hands it out and takes it in.

use paybridge_core::xml::XsdDecimal;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::generated::payment_notification as wire;

/// The buyer (`BuyerInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerInfo {
    /// `PayerID`.
    pub payer_id: Option<String>,
    /// `BusinessName`.
    pub business_name: Option<String>,
    /// `FirstName`.
    pub first_name: Option<String>,
    /// `LastName`.
    pub last_name: Option<String>,
    /// `PayerEmail`.
    pub payer_email: Option<String>,
    /// `Address`.
    pub address: Option<String>,
    /// `ContactPhone`.
    pub contact_phone: Option<String>,
    /// `ResidenceCountry`.
    pub residence_country: Option<String>,
    /// `PayerStatus`.
    pub payer_status: Option<String>,
}

/// One IPN. Value-type fields (ids, quantities, the amount) are required: a record missing
/// one is refused when parsed, before anything is sent. Strings may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpnRecord {
    /// `PayTransactionID`.
    pub pay_transaction_id: Option<String>,
    /// `PayProviderID`.
    pub pay_provider_id: i64,
    /// `SalesSiteID`.
    pub sales_site_id: i64,
    /// `SalesSiteProductID`.
    pub sales_site_product_id: i64,
    /// `CustomerID`.
    pub customer_id: i64,
    /// `custopmerIP` on the wire (sic).
    pub customer_ip: Option<String>,
    /// `PaymentDateTime`.
    pub payment_date_time: Option<String>,
    /// `TransactionTypeID`.
    pub transaction_type_id: i32,
    /// `PayProviderTransactionID`.
    pub pay_provider_transaction_id: Option<String>,
    /// `PayProviderAmount` (`double` on the wire): exact decimal here; JSON input may give
    /// it as a string or a number.
    #[serde(
        deserialize_with = "amount_from_json",
        serialize_with = "amount_to_json"
    )]
    pub pay_provider_amount: Decimal,
    /// `PromoCode`.
    pub promo_code: Option<String>,
    /// `SaleDescription`.
    pub sale_description: Option<String>,
    /// `SaleQuantity`.
    pub sale_quantity: i32,
    /// `CustomReferrer`.
    pub custom_referrer: Option<String>,
    /// `Currency`.
    pub currency: Option<String>,
    /// `fraud_status`.
    pub fraud_status: Option<String>,
    /// `message_type`.
    pub message_type: Option<String>,
    /// `BuyerInfo`.
    pub buyer_info: Option<BuyerInfo>,
}

fn amount_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    use serde::de::Error;
    let v = serde_json::Value::deserialize(d)?;
    let text = match &v {
        serde_json::Value::String(s) => s.clone(),
        // A JSON number is read through its shortest text (serde_json keeps f64 exact to
        // that), so 19.99 stays 19.99.
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(D::Error::custom(
                "pay_provider_amount must be a number or a decimal string",
            ));
        }
    };
    text.trim().parse::<XsdDecimal>().map(|d| d.0).map_err(|_| {
        D::Error::custom(format!(
            "pay_provider_amount {text:?} is not a decimal number"
        ))
    })
}

fn amount_to_json<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount_text(*d))
}

/// The amount as written on the wire when sending: shortest decimal form, `.` separator, no
/// exponent (`19.99`, `100`).
#[must_use]
pub fn amount_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// How long Linkifier may deliver the same IPN again (no public figure: 30 days).
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(30 * 24);

impl IpnRecord {
    /// The payment's state as this IPN reports it: the transaction's sale (a received IPN is
    /// a completed payment event; its type is in `provider_status`).
    #[must_use]
    pub fn state(&self) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef {
                reference: self.pay_transaction_id.clone().unwrap_or_default(),
                provider_reference: self.pay_provider_transaction_id.clone(),
            },
            status: paybridge_core::PaymentStatus::Succeeded,
            provider_status: self.transaction_type_id.to_string(),
            amount: self.money().ok(),
            message: self.message_type.clone(),
        }
    }

    /// The natural key of this IPN: `PayTransactionID`, `TransactionTypeID` and the message
    /// type — a refund of a paid transaction is another event than its sale. An IPN without
    /// a `PayTransactionID` has no key and is refused ([`paybridge_core::Error::Callback`]).
    pub fn dedup_key(&self) -> paybridge_core::Result<String> {
        let tx = self
            .pay_transaction_id
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| paybridge_core::Error::callback("IPN without PayTransactionID"))?;
        Ok(format!(
            "{tx}:{}:{}",
            self.transaction_type_id,
            self.message_type.as_deref().unwrap_or_default()
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
        paybridge_core::Money::new(self.pay_provider_amount, currency)
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

    /// The generated wire record (without `VerifyHASH`).
    #[must_use]
    pub fn to_wire(&self) -> wire::CDataRecordIpn {
        let b = self.buyer_info.clone();
        wire::CDataRecordIpn {
            pay_transaction_id: self.pay_transaction_id.clone(),
            pay_provider_id: self.pay_provider_id,
            sales_site_id: self.sales_site_id,
            sales_site_product_id: self.sales_site_product_id,
            customer_id: self.customer_id,
            custopmer_ip: self.customer_ip.clone(),
            payment_date_time: self.payment_date_time.clone(),
            transaction_type_id: self.transaction_type_id,
            pay_provider_transaction_id: self.pay_provider_transaction_id.clone(),
            pay_provider_amount: XsdDecimal(self.pay_provider_amount.normalize()),
            promo_code: self.promo_code.clone(),
            sale_description: self.sale_description.clone(),
            sale_quantity: self.sale_quantity,
            custom_referrer: self.custom_referrer.clone(),
            currency: self.currency.clone(),
            fraud_status: self.fraud_status.clone(),
            message_type: self.message_type.clone(),
            buyer_info: b.map(|b| wire::BuyerInfo {
                payer_id: b.payer_id,
                business_name: b.business_name,
                first_name: b.first_name,
                last_name: b.last_name,
                payer_email: b.payer_email,
                address: b.address,
                contact_phone: b.contact_phone,
                residence_country: b.residence_country,
                payer_status: b.payer_status,
            }),
            verify_hash: None,
        }
    }

    /// From the generated wire record.
    #[must_use]
    pub fn from_wire(w: wire::CDataRecordIpn) -> Self {
        Self {
            pay_transaction_id: w.pay_transaction_id,
            pay_provider_id: w.pay_provider_id,
            sales_site_id: w.sales_site_id,
            sales_site_product_id: w.sales_site_product_id,
            customer_id: w.customer_id,
            customer_ip: w.custopmer_ip,
            payment_date_time: w.payment_date_time,
            transaction_type_id: w.transaction_type_id,
            pay_provider_transaction_id: w.pay_provider_transaction_id,
            pay_provider_amount: w.pay_provider_amount.0,
            promo_code: w.promo_code,
            sale_description: w.sale_description,
            sale_quantity: w.sale_quantity,
            custom_referrer: w.custom_referrer,
            currency: w.currency,
            fraud_status: w.fraud_status,
            message_type: w.message_type,
            buyer_info: w.buyer_info.map(|b| BuyerInfo {
                payer_id: b.payer_id,
                business_name: b.business_name,
                first_name: b.first_name,
                last_name: b.last_name,
                payer_email: b.payer_email,
                address: b.address,
                contact_phone: b.contact_phone,
                residence_country: b.residence_country,
                payer_status: b.payer_status,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_input_takes_amounts_as_string_or_number_and_refuses_missing_value_fields() {
        let base = r#"{"pay_provider_id":1,"sales_site_id":2,"sales_site_product_id":3,"customer_id":4,"transaction_type_id":1,"sale_quantity":1,"pay_provider_amount":AMOUNT}"#;
        let r: IpnRecord = serde_json::from_str(&base.replace("AMOUNT", "19.99")).unwrap();
        assert_eq!(r.pay_provider_amount, Decimal::new(1999, 2));
        let r: IpnRecord = serde_json::from_str(&base.replace("AMOUNT", "\"100.50\"")).unwrap();
        assert_eq!(amount_text(r.pay_provider_amount), "100.5");
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
    fn amount_text_is_shortest_without_exponent() {
        assert_eq!(amount_text(Decimal::new(10_000, 2)), "100");
        assert_eq!(amount_text(Decimal::new(1, 6)), "0.000001");
        assert_eq!(amount_text(Decimal::new(-505, 1)), "-50.5");
    }
}
