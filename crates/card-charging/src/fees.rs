//! The gateway's fee table: `GET {endpoint}/getfee?partner_id=…` answers
//! `[{"telco", "value", "fees", "penalty"}]` — for each network and face value, the percent
//! the gateway keeps (`fees`) and the extra percent it keeps when the declared face value was
//! wrong (`penalty`, status 2). An error is `{"status": 100, "message"}`.
//!
//! What a merchant does with it: check a face value before charging, and know what a card
//! will credit (`value × (100 − fees) / 100`).

use paybridge_core::http::HttpRequest;
use paybridge_core::scalar::WireScalar;
use rust_decimal::Decimal;

use crate::card::Telco;
use crate::client::{Client, PROVIDER_ID};
use crate::error::CardChargingError;
use paybridge_core::CoreFailure as _;

/// One row of the fee table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// The network.
    pub telco: Telco,
    /// The face value, in dong.
    pub value: u64,
    /// Percent of the face value the gateway keeps.
    pub fee_percent: Decimal,
    /// Extra percent kept when the declared face value was wrong.
    pub penalty_percent: Decimal,
}

impl Fee {
    /// What a card of this face value credits when it is accepted at its declared value:
    /// `value × (100 − fee_percent) / 100`, exact.
    #[must_use]
    pub fn credited(&self) -> Decimal {
        Decimal::from(self.value) * (Decimal::ONE_HUNDRED - self.fee_percent) / Decimal::ONE_HUNDRED
    }
}

#[derive(serde::Deserialize)]
struct WireFee<'a> {
    #[serde(borrow, default)]
    telco: WireScalar<'a>,
    #[serde(borrow, default)]
    value: WireScalar<'a>,
    #[serde(borrow, default)]
    fees: WireScalar<'a>,
    #[serde(borrow, default)]
    penalty: WireScalar<'a>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum WireAnswer<'a> {
    #[serde(borrow)]
    Table(Vec<WireFee<'a>>),
    Error {
        #[serde(borrow, default)]
        status: WireScalar<'a>,
        #[serde(borrow, default)]
        message: WireScalar<'a>,
    },
}

/// A percent as text: an integer, a decimal string, or a JSON float read through its
/// shortest text (a percent, not money).
fn percent(field: &str, v: &WireScalar<'_>) -> Result<Decimal, CardChargingError> {
    let text = match v {
        WireScalar::Float(f) => f.to_string(),
        other => other
            .text()
            .map(std::borrow::Cow::into_owned)
            .ok_or_else(|| CardChargingError::decode(format!("fee row without {field}")))?,
    };
    let d: Decimal = text
        .trim()
        .parse()
        .map_err(|_| CardChargingError::decode(format!("{field} {text:?} is not a percent")))?;
    if d.is_sign_negative() || d > Decimal::ONE_HUNDRED {
        return Err(CardChargingError::decode(format!(
            "{field} {d} is not between 0 and 100"
        )));
    }
    Ok(d)
}

/// Read a `getfee` answer.
pub fn parse_fees(body: &[u8]) -> Result<Vec<Fee>, CardChargingError> {
    paybridge_core::limits::Limits::ANSWER.check_size(body)?;
    let answer: WireAnswer<'_> = serde_json::from_slice(body)
        .map_err(|e| CardChargingError::decode_from(format!("not a fee table: {e}"), e))?;
    match answer {
        WireAnswer::Error { status, message } => Err(CardChargingError::input(format!(
            "getfee answered status {}: {}",
            status.text().unwrap_or_default(),
            message.text().unwrap_or_default()
        ))),
        WireAnswer::Table(rows) => rows
            .iter()
            .map(|row| {
                let telco = row
                    .telco
                    .text()
                    .ok_or_else(|| CardChargingError::decode("fee row without telco"))?
                    .parse::<Telco>()?;
                let value = row
                    .value
                    .as_i64()
                    .and_then(|v| u64::try_from(v).ok())
                    .filter(|v| *v > 0)
                    .ok_or_else(|| CardChargingError::decode("fee row without a face value"))?;
                Ok(Fee {
                    telco,
                    value,
                    fee_percent: percent("fees", &row.fees)?,
                    penalty_percent: percent("penalty", &row.penalty)?,
                })
            })
            .collect(),
    }
}

impl Client {
    /// The gateway's fee table (`GET …/getfee?partner_id=`). Idempotent: retried on
    /// transient failures like `check`.
    pub async fn fees(&self) -> Result<Vec<Fee>, CardChargingError> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("partner_id", self.config().partner_id())
            .finish();
        let url = format!(
            "{}/getfee?{query}",
            self.config().endpoint().trim_end_matches('/')
        );
        let request = HttpRequest::get(url)
            .header(http::header::ACCEPT, "application/json")
            .idempotent(true)
            .operation(PROVIDER_ID, "getfee");
        let response = self.transport().send(request).await?;
        parse_fees(&response.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_table_reads_exactly_and_an_error_is_an_error() {
        let body = br#"[{"telco":"VIETTEL","value":10000,"fees":12.5,"penalty":"50"},{"telco":"ZING","value":"20000","fees":"0","penalty":0}]"#;
        let fees = parse_fees(body).unwrap();
        assert_eq!(fees.len(), 2);
        assert_eq!(fees[0].telco, Telco::Viettel);
        assert_eq!(fees[0].fee_percent, Decimal::new(125, 1));
        assert_eq!(fees[0].credited(), Decimal::new(8750, 0));
        assert_eq!(fees[1].value, 20_000);
        assert!(parse_fees(br#"{"status":100,"message":"partner_id sai"}"#).is_err());
        assert!(
            parse_fees(br#"[{"telco":"VIETTEL","value":10000,"fees":120,"penalty":0}]"#).is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_answers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_fees(&bytes);
        }
    }
}
