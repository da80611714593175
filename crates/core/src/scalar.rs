//! One JSON field that providers send as a number, a string, a boolean or null —
//! read without building a `serde_json::Value`, borrowing unescaped text.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Visitor};

/// A scalar field as it came: gateways send the same field as `1`, `"1"`, `1.5` or `null`.
///
/// ```
/// use paybridge_core::scalar::WireScalar;
/// let v: Vec<WireScalar<'_>> = serde_json::from_str(r#"[7, "7", true, null, ""]"#).unwrap();
/// assert_eq!(v[0].as_i64(), Some(7));
/// assert_eq!(v[1].as_i64(), Some(7));
/// assert!(v[2].is_truthy());
/// assert_eq!(v[3].text(), None);
/// assert_eq!(v[4].text(), None);
/// assert_eq!(v[4].clone().into_string(), Some(String::new()));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum WireScalar<'a> {
    /// An integer that fits `i64`.
    Int(i64),
    /// A JSON number with a fraction or exponent (or an integer beyond `i64`, as text: see
    /// `Text`). Money must not be read from it without an explicit rule.
    Float(f64),
    /// A string, a boolean (`"true"`/`"false"`) or an integer beyond `i64` in its digits.
    Text(Cow<'a, str>),
    /// `null` or absent.
    #[default]
    Null,
}

impl<'de: 'a, 'a> Deserialize<'de> for WireScalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = WireScalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a string, a boolean or null")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(WireScalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                // Kept exactly: an id past i64 is still an id, never a float.
                Ok(i64::try_from(v).map_or_else(
                    |_| WireScalar::Text(Cow::Owned(v.to_string())),
                    WireScalar::Int,
                ))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(WireScalar::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(WireScalar::Text(Cow::Borrowed(if v {
                    "true"
                } else {
                    "false"
                })))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(WireScalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WireScalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(WireScalar::Text(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(WireScalar::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(WireScalar::Null)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> WireScalar<'a> {
    /// The value as text (numbers in their decimal form); `None` for null or empty text.
    #[must_use]
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Int(i) => Some(Cow::Owned(i.to_string())),
            Self::Float(f) => Some(Cow::Owned(f.to_string())),
            Self::Text(t) if !t.is_empty() => Some(Cow::Borrowed(t.as_ref())),
            Self::Text(_) | Self::Null => None,
        }
    }

    /// Like [`WireScalar::text`], keeping borrowed or owned text as it is.
    #[must_use]
    pub fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Text(t) if !t.is_empty() => Some(t),
            other => other.text().map(|t| Cow::Owned(t.into_owned())),
        }
    }

    /// The value as an owned string; `None` only for null. Empty text stays `""`: for
    /// fields a signature covers, where absent and empty differ.
    #[must_use]
    pub fn into_string(self) -> Option<String> {
        match self {
            Self::Text(t) => Some(t.into_owned()),
            Self::Null => None,
            other => other.text().map(Cow::into_owned),
        }
    }

    /// The value as an integer (from a number or from digits in text).
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Text(t) => t.trim().parse().ok(),
            Self::Float(_) | Self::Null => None,
        }
    }

    /// `1`, `"1"`, `true`, `"true"`.
    #[must_use]
    pub fn is_truthy(&self) -> bool {
        matches!(self.text().as_deref().map(str::trim), Some("1" | "true"))
    }
}

#[cfg(test)]
mod tests {
    use super::WireScalar;

    #[test]
    fn integers_past_i64_stay_exact_text() {
        let v: WireScalar<'_> = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(v, WireScalar::Text("18446744073709551615".into()));
        assert_eq!(v.as_i64(), None);
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let v: WireScalar<'_> = serde_json::from_str(r#""abc""#).unwrap();
        assert!(matches!(
            v,
            WireScalar::Text(std::borrow::Cow::Borrowed("abc"))
        ));
        assert!(serde_json::from_str::<WireScalar<'_>>("[1]").is_err());
    }
}
