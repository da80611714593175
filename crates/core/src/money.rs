//! Exact money: a [`Decimal`] amount and a [`Currency`] with its minor units.
//!
//! Wire values arrive as text (`"50000"`, `"100.50"`) or, from some providers, as JSON/XML
//! floats. Text is parsed exactly. Floats go through one explicit rule,
//! [`Money::from_wire_f64`]: take the shortest decimal text that round-trips to the same
//! `f64` (what Rust's `Display` prints), then round it to the currency's minor units,
//! half away from zero. So `0.1 + 0.2` (`0.30000000000000004`) becomes `0.30` KZT and
//! `50000.0` becomes `50000` VND.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Error, Result};

/// An ISO 4217 currency with its number of minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// ISO 4217 codes paybridge's providers use, with their minor units.
const KNOWN: &[(&str, u8)] = &[
    ("VND", 0),
    ("KZT", 2),
    ("SEK", 2),
    ("USD", 2),
    ("EUR", 2),
    ("RUB", 2),
    ("GBP", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("JPY", 0),
    ("KRW", 0),
];

impl Currency {
    /// Vietnamese dong: no minor unit.
    pub const VND: Self = Self::known(*b"VND", 0);
    /// Kazakhstani tenge: 2 minor units (tiyn).
    pub const KZT: Self = Self::known(*b"KZT", 2);
    /// Swedish krona: 2 minor units.
    pub const SEK: Self = Self::known(*b"SEK", 2);
    /// US dollar: 2 minor units.
    pub const USD: Self = Self::known(*b"USD", 2);
    /// Euro: 2 minor units.
    pub const EUR: Self = Self::known(*b"EUR", 2);
    /// Russian rouble: 2 minor units.
    pub const RUB: Self = Self::known(*b"RUB", 2);

    const fn known(code: [u8; 3], minor_units: u8) -> Self {
        Self { code, minor_units }
    }

    /// A currency by its ISO 4217 code (case-insensitive) from paybridge's table.
    ///
    /// Codes outside the table are refused rather than guessed: use [`Currency::new`] with
    /// the minor units you know.
    pub fn from_code(code: &str) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        KNOWN
            .iter()
            .find(|(c, _)| *c == upper)
            .and_then(|(c, units)| Self::new(c, *units).ok())
            .ok_or_else(|| {
                Error::Input(format!(
                    "unknown currency code {code:?}: use Currency::new(code, minor_units)"
                ))
            })
    }

    /// Any three-letter code with explicit minor units (0 to 4).
    pub fn new(code: &str, minor_units: u8) -> Result<Self> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| Error::Input(format!("currency code must be 3 letters, got {code:?}")))?;
        if !bytes.iter().all(u8::is_ascii_alphabetic) || minor_units > 4 {
            return Err(Error::Input(format!(
                "invalid currency {code:?} with {minor_units} minor units"
            )));
        }
        Ok(Self {
            code: bytes.map(|b| b.to_ascii_uppercase()),
            minor_units,
        })
    }

    /// The ISO code, upper case.
    #[must_use]
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored (see `new`), so this cannot fail.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of digits after the decimal point.
    #[must_use]
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_code(s)
    }
}

/// An amount of money: exact decimal, never more precise than its currency allows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Money from an exact amount. Refused when the amount has more decimals than the currency
    /// has minor units (`100.5` VND): silently rounding money is never right.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self> {
        if amount.scale() == 0 && !amount.is_zero() {
            // Whole amounts (every VND amount) are already normal; zero is normalized for its sign.
            return Ok(Self { amount, currency });
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units() {
            return Err(Error::Input(format!(
                "{amount} has more decimals than {currency} allows ({})",
                currency.minor_units()
            )));
        }
        Ok(Self {
            amount: normalized,
            currency,
        })
    }

    /// Parse a wire string exactly: optional `-`, digits, optional `.` and digits.
    /// No exponent, no thousands separators, no surrounding text.
    pub fn parse(text: &str, currency: Currency) -> Result<Self> {
        let t = text.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let valid = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
            && !(digits.contains('.') && frac.is_empty());
        if !valid {
            return Err(Error::Input(format!("not a decimal amount: {text:?}")));
        }
        let amount = Decimal::from_str_exact(t)
            .map_err(|e| Error::Input(format!("amount {text:?} out of range: {e}")))?;
        Self::new(amount, currency)
    }

    /// Convert a wire float by the documented rule (module docs): shortest round-trip text,
    /// then rounded half away from zero to the currency's minor units. NaN and infinities
    /// are refused.
    pub fn from_wire_f64(value: f64, currency: Currency) -> Result<Self> {
        if !value.is_finite() {
            return Err(Error::decode(format!(
                "amount {value} is not a finite number"
            )));
        }
        // `Display` for f64 prints the shortest text that round-trips, never an exponent.
        let text = value.to_string();
        let exact = Decimal::from_str(&text)
            .map_err(|e| Error::decode_from(format!("amount {text} out of range: {e}"), e))?;
        let rounded = exact.round_dp_with_strategy(
            currency.minor_units(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        Self::new(rounded, currency)
    }

    /// The largest amount paybridge sends or accepts, in major units of any currency
    /// (10¹²: a trillion dong is about 40 million US dollars). Anything larger is a mistake
    /// or an attack, never a payment.
    pub const MAX_MAJOR_UNITS: i64 = 1_000_000_000_000;

    /// Check an amount a request is about to send in `field`: more than zero and at most
    /// [`Money::MAX_MAJOR_UNITS`] ([`Error::Input`] naming the field otherwise). Its decimals
    /// are within the currency's minor units already: [`Money::new`] refuses more.
    pub fn check_to_send(&self, field: &str) -> Result<()> {
        if self.amount <= Decimal::ZERO {
            return Err(Error::Input(format!(
                "{field} must be more than zero, got {self}"
            )));
        }
        if self.amount > Decimal::from(Self::MAX_MAJOR_UNITS) {
            return Err(Error::Input(format!(
                "{field} {self} is over the largest amount paybridge sends ({} {})",
                Self::MAX_MAJOR_UNITS,
                self.currency
            )));
        }
        Ok(())
    }

    /// Check an amount an answer or a callback reported in `field`: not negative (a negative
    /// credit is no credit) and at most [`Money::MAX_MAJOR_UNITS`] ([`Error::Decode`] naming
    /// the field otherwise).
    pub fn check_reported(&self, field: &str) -> Result<()> {
        if self.amount < Decimal::ZERO {
            return Err(Error::decode(format!("{field} is negative: {self}")));
        }
        if self.amount > Decimal::from(Self::MAX_MAJOR_UNITS) {
            return Err(Error::decode(format!(
                "{field} {self} is over the largest amount paybridge accepts"
            )));
        }
        Ok(())
    }

    /// Read an amount an answer or callback reported as text in `field`, exactly
    /// ([`Money::parse`]) and checked ([`Money::check_reported`]); every problem is an
    /// [`Error::Decode`] naming the field.
    pub fn parse_reported(text: &str, currency: Currency, field: &str) -> Result<Self> {
        let money =
            Self::parse(text, currency).map_err(|e| Error::decode(format!("{field}: {e}")))?;
        money.check_reported(field)?;
        Ok(money)
    }

    /// The exact amount.
    #[must_use]
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount written with exactly the currency's minor units (`"50000"` VND,
    /// `"100.50"` KZT): the form printed in JSON output.
    #[must_use]
    pub fn amount_string(&self) -> String {
        let mut a = self.amount;
        a.rescale(self.currency.minor_units());
        a.to_string()
    }

    /// The amount in minor units (tiyn, öre; dong for VND), if it fits in an `i64`.
    #[must_use]
    pub fn to_minor_units(&self) -> Option<i64> {
        let scaled = self.amount.checked_mul(Decimal::from(
            10_i64.checked_pow(self.currency.minor_units())?,
        ))?;
        i64::try_from(scaled).ok()
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount_string(), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap_or_default()
    }

    #[test]
    fn vnd_has_no_minor_unit() {
        let m = Money::parse("50000", Currency::VND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount_string(), "50000");
        assert_eq!(m.to_minor_units(), Some(50_000));
        assert!(Money::parse("100.5", Currency::VND).is_err());
        // Trailing zeros are not extra precision.
        let m = Money::parse("50000.00", Currency::VND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount(), d("50000"));
    }

    #[test]
    fn amounts_are_checked_both_ways() {
        let vnd = |s: &str| Money::parse(s, Currency::VND).unwrap_or_else(|e| panic!("{e}"));
        assert!(vnd("150000").check_to_send("CyberCash").is_ok());
        for bad in ["0", "-150000", "1000000000001"] {
            let err = vnd(bad).check_to_send("CyberCash").unwrap_err();
            assert!(
                matches!(&err, Error::Input(m) if m.contains("CyberCash")),
                "{err}"
            );
        }
        assert!(Money::parse("100.5", Currency::VND).is_err());
        assert!(Money::parse("1e-29", Currency::VND).is_err());
        assert!(Money::parse(&format!("1.{}", "0".repeat(29) + "1"), Currency::VND).is_err());
        assert!(vnd("0").check_reported("amount").is_ok());
        assert!(
            matches!(vnd("-500").check_reported("amount"), Err(Error::Decode { message: m, .. }) if m.contains("amount"))
        );
        assert!(Money::parse_reported("99999999999999999999", Currency::VND, "amount").is_err());
        assert!(matches!(
            Money::parse_reported("100.5", Currency::VND, "TotalAmount"),
            Err(Error::Decode { message: m, .. }) if m.contains("TotalAmount")
        ));
        let big = Money::from_wire_f64(99_999_999_999_999_999_999.0, Currency::VND).unwrap();
        assert!(big.check_reported("amount").is_err());
    }

    #[test]
    fn kzt_keeps_tiyn() {
        let m = Money::parse("100.5", Currency::KZT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount(), d("100.5"));
        assert_eq!(m.amount_string(), "100.50");
        assert_eq!(m.to_minor_units(), Some(10_050));
        assert!(Money::parse("100.505", Currency::KZT).is_err());
    }

    #[test]
    fn parse_refuses_non_decimal_text() {
        for bad in [
            "", "-", "1e3", "1,000", "12a", ".5", "5.", "NaN", "+5", "1.2.3",
        ] {
            assert!(
                Money::parse(bad, Currency::USD).is_err(),
                "{bad:?} accepted"
            );
        }
        let neg = Money::parse("-12.34", Currency::USD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(neg.amount(), d("-12.34"));
    }

    #[test]
    fn wire_float_rule() {
        let m = Money::from_wire_f64(0.1 + 0.2, Currency::KZT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount(), d("0.3"));
        assert_eq!(m.amount_string(), "0.30");
        let m = Money::from_wire_f64(50000.0, Currency::VND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount_string(), "50000");
        // Half away from zero at the minor unit.
        let m = Money::from_wire_f64(2.5, Currency::VND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount(), d("3"));
        let m = Money::from_wire_f64(-0.125, Currency::USD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.amount(), d("-0.13"));
        assert!(Money::from_wire_f64(f64::NAN, Currency::USD).is_err());
        assert!(Money::from_wire_f64(f64::INFINITY, Currency::USD).is_err());
    }

    #[test]
    fn currency_lookup() {
        assert_eq!(
            Currency::from_code("vnd").map(|c| c.minor_units()).ok(),
            Some(0)
        );
        assert_eq!("SEK".parse::<Currency>().ok(), Some(Currency::SEK));
        assert!(Currency::from_code("ZZZ").is_err());
        assert!(Currency::new("AB", 2).is_err());
        assert_eq!(
            Currency::new("xau", 4)
                .map(|c| c.code().to_owned())
                .ok()
                .as_deref(),
            Some("XAU")
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Money::parse(&s, Currency::KZT);
        }

        #[test]
        fn parse_roundtrips_minor_units(minor in -1_000_000_000_i64..1_000_000_000) {
            let m = Money::new(Decimal::new(minor, 2), Currency::KZT).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let back = Money::parse(&m.amount_string(), Currency::KZT).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(back, m);
            proptest::prop_assert_eq!(back.to_minor_units(), Some(minor));
        }
    }
}
