//! What is charged: the telco, the card, the declared face value, the request id.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::CardChargingError;
use paybridge_core::CoreFailure as _;

/// The card's network. Gateways name them in upper case on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Telco {
    /// Viettel.
    Viettel,
    /// Vinaphone.
    Vinaphone,
    /// Mobifone.
    Mobifone,
    /// Vietnamobile.
    Vietnamobile,
    /// VNMOBI.
    Vnmobi,
    /// Gate (FPT game card).
    Gate,
    /// Zing (VNG game card).
    Zing,
    /// Any other name a gateway accepts, kept in upper case.
    Other(String),
}

impl Telco {
    /// The wire name (`VIETTEL`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Viettel => "VIETTEL",
            Self::Vinaphone => "VINAPHONE",
            Self::Mobifone => "MOBIFONE",
            Self::Vietnamobile => "VIETNAMOBILE",
            Self::Vnmobi => "VNMOBI",
            Self::Gate => "GATE",
            Self::Zing => "ZING",
            Self::Other(s) => s,
        }
    }

    /// Face values (VND) this network sells, used to refuse a wrong declared value before
    /// anything is sent.
    #[must_use]
    pub fn denominations(&self) -> &'static [u64] {
        const PHONE: &[u64] = &[
            10_000, 20_000, 30_000, 50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000,
        ];
        const GAME: &[u64] = &[
            10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
        ];
        match self {
            Self::Gate | Self::Zing => GAME,
            _ => PHONE,
        }
    }

    /// Whether `amount` is one of this network's face values (in VND): the one check both the
    /// client (unless `Config::check_denomination(false)`) and the CLI (unless `--any-amount`,
    /// before anything is recorded) make.
    #[must_use]
    pub fn is_face_value(&self, amount: paybridge_core::Money) -> bool {
        amount.currency() == paybridge_core::Currency::VND
            && amount
                .to_minor_units()
                .and_then(|v| u64::try_from(v).ok())
                .is_some_and(|v| self.denominations().contains(&v))
    }
}

impl fmt::Display for Telco {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Telco {
    type Err = CardChargingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        Ok(match upper.as_str() {
            "VIETTEL" => Self::Viettel,
            "VINAPHONE" => Self::Vinaphone,
            "MOBIFONE" => Self::Mobifone,
            "VIETNAMOBILE" => Self::Vietnamobile,
            "VNMOBI" => Self::Vnmobi,
            "GATE" => Self::Gate,
            "ZING" => Self::Zing,
            "" => return Err(CardChargingError::input("telco is empty")),
            _ if upper
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Self::Other(upper)
            }
            _ => return Err(CardChargingError::input(format!("invalid telco {s:?}"))),
        })
    }
}

impl From<Telco> for String {
    fn from(t: Telco) -> Self {
        t.as_str().to_owned()
    }
}

impl TryFrom<String> for Telco {
    type Error = CardChargingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A prepaid card. The code (the scratch-off PIN) is a secret: `Debug` never shows it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Card {
    /// Network.
    pub telco: Telco,
    /// The scratch-off code.
    pub code: SecretString,
    /// The printed serial.
    pub serial: String,
}

impl Card {
    /// A card; code and serial must be non-empty and alphanumeric.
    pub fn new(telco: Telco, code: &str, serial: &str) -> Result<Self, CardChargingError> {
        for (name, v) in [("code", code), ("serial", serial)] {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(CardChargingError::input(format!(
                    "card {name} must be non-empty letters and digits"
                )));
            }
        }
        Ok(Self {
            telco,
            code: SecretString::from(code.to_owned()),
            serial: serial.to_owned(),
        })
    }

    /// The code, for signing and sending.
    pub(crate) fn code(&self) -> &str {
        self.code.expose_secret()
    }

    /// The whole card as one secret (telco, serial, code), for a store that keeps it between
    /// `charging` and `check` — the ledger seals it. [`Card::unseal`] reads it back.
    #[must_use]
    pub fn seal(&self) -> SecretString {
        SecretString::from(format!("{}\n{}\n{}", self.telco, self.serial, self.code()))
    }

    /// The card [`Card::seal`] made, checked again like a new one.
    ///
    /// # Errors
    /// [`CardChargingError`] input error when the secret is no sealed card.
    pub fn unseal(sealed: &SecretString) -> Result<Self, CardChargingError> {
        let mut parts = sealed.expose_secret().splitn(3, '\n');
        let (Some(telco), Some(serial), Some(code)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CardChargingError::input("the kept card is not readable"));
        };
        Self::new(telco.parse()?, code, serial)
    }
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("telco", &self.telco)
            .field("code", &"[hidden]")
            .field("serial", &self.serial)
            .finish()
    }
}

/// The merchant's id for one charge. Reusing one is refused by gateways and is how cards get
/// credited twice, so [`RequestId::generate`] never repeats within a process and is
/// time-ordered across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(String);

static LAST_MICROS: AtomicU64 = AtomicU64::new(0);

impl RequestId {
    /// A fresh id: 16 digits of strictly increasing microseconds (per process) and 3 random
    /// digits, so two processes started together do not collide either.
    #[must_use]
    pub fn generate() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let prev = LAST_MICROS.fetch_max(now, Ordering::SeqCst);
        let micros = if prev >= now {
            LAST_MICROS.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            now
        };
        Self(format!("{micros:016}{:03}", fastrand::u16(0..1000)))
    }

    /// An id chosen by the merchant: 1 to 64 letters, digits, `-` or `_`.
    pub fn new(id: &str) -> Result<Self, CardChargingError> {
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CardChargingError::input(format!(
                "invalid request_id {id:?}"
            )));
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_sealed_card_unseals_to_the_same_card_and_garbage_is_refused() {
        let card = Card::new(Telco::Viettel, "312821445892989", "10004783347874").unwrap();
        let sealed = card.seal();
        assert_eq!(
            sealed.expose_secret(),
            "VIETTEL\n10004783347874\n312821445892989"
        );
        let back = Card::unseal(&sealed).unwrap();
        assert_eq!(
            (&back.telco, back.serial.as_str(), back.code()),
            (&Telco::Viettel, "10004783347874", "312821445892989")
        );
        for bad in [
            "",
            "VIETTEL",
            "VIETTEL\n1",
            "bad telco\n1\n2",
            "VIETTEL\n1\n2 3",
        ] {
            assert!(Card::unseal(&SecretString::from(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn request_ids_never_repeat() {
        let ids: HashSet<_> = (0..10_000).map(|_| RequestId::generate()).collect();
        assert_eq!(ids.len(), 10_000);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    (0..2_000)
                        .map(|_| RequestId::generate())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for id in h.join().unwrap() {
                assert!(all.insert(id));
            }
        }
    }

    #[test]
    fn telco_names() {
        assert_eq!("viettel".parse::<Telco>().unwrap(), Telco::Viettel);
        assert_eq!("zing".parse::<Telco>().unwrap().as_str(), "ZING");
        assert_eq!(
            "newnet".parse::<Telco>().unwrap(),
            Telco::Other("NEWNET".into())
        );
        assert!("bad telco".parse::<Telco>().is_err());
    }

    #[test]
    fn card_debug_hides_the_code() {
        let card = Card::new(Telco::Viettel, "312821445892982", "10004783347874").unwrap();
        let dbg = format!("{card:?}");
        assert!(!dbg.contains("312821445892982"), "{dbg}");
        assert!(dbg.contains("10004783347874"));
        assert!(Card::new(Telco::Viettel, "", "1").is_err());
        assert!(Card::new(Telco::Viettel, "12 3", "1").is_err());
    }
}
