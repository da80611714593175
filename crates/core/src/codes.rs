//! Provider code tables: one macro writes every numeric code enum, so each table has the
//! same shape — documented meaning, unknown codes kept, `retryable()`, a list of every
//! documented code for tests.
//!
//! A provider crate declares its table once:
//!
//! ```
//! paybridge_core::code_table! {
//!     /// A `status` of the example gateway.
//!     pub enum ExampleStatus {
//!         /// Extra words for the variant go here.
//!         1 => Paid, "Đã thanh toán", "paid", retry: false;
//!         4 => Maintenance, "Bảo trì", "under maintenance", retry: true;
//!     }
//!     unknown: "Mã không xác định", "undocumented code";
//! }
//!
//! assert_eq!(ExampleStatus::from_code(4), ExampleStatus::Maintenance);
//! assert!(ExampleStatus::Maintenance.retryable());
//! assert_eq!(ExampleStatus::from_code(7), ExampleStatus::Unknown(7));
//! assert_eq!(ExampleStatus::Unknown(7).code(), 7);
//! assert_eq!(ExampleStatus::Paid.meaning(), "paid");
//! assert_eq!(ExampleStatus::Paid.provider_wording(), "Đã thanh toán");
//! assert_eq!(ExampleStatus::ALL.len(), 2);
//! ```
//!
//! A provider whose codes are words (Qvickly's `Paid`, `Cancelled`) declares `enum Name:
//! words { "Paid" => Paid, "paid", retry: false; … }` instead: the same shape, with `parse`
//! and `as_str` for `from_code` and `code`, and `Unknown(String)`.
//!
//! Provider-specific readings (the normalized [`PaymentStatus`](crate::PaymentStatus),
//! "is this a session error") are written next to the table in a second `impl` block.

/// Declares a provider's code table; see the [module docs](crate::codes).
///
/// Numeric codes: each row is `CODE => Variant, "provider's wording", "English meaning",
/// retry: BOOL;`, optionally preceded by doc comments. The enum gets an `Unknown(i64)` variant
/// that keeps any code the documents do not list (never `retryable`), and `from_code`, `code`,
/// `meaning`, `provider_wording`, `retryable`, `is_documented` and `ALL`.
///
/// Words (`enum Name: words { … }`): each row is `"Word" | "alias" => Variant, "English
/// meaning", retry: BOOL;`. The enum gets `Unknown(String)` and `parse` (case-insensitive),
/// `as_str`, `meaning`, `retryable`, `is_documented` and `ALL`.
#[macro_export]
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $code:literal => $variant:ident, $wording:literal, $en:literal, retry: $retry:literal;
            )*
        }
        unknown: $unknown_wording:literal, $unknown_en:literal;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                #[doc = concat!(stringify!($code), " — “", $wording, "”: ", $en, ".")]
                $(#[$vmeta])*
                $variant,
            )*
            /// A code the provider's documents do not list, kept as received.
            Unknown(i64),
        }

        impl $name {
            /// Every documented code, in the documents' order.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)*];

            /// From the wire code; undocumented codes become `Unknown`.
            #[must_use]
            pub fn from_code(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// The wire code.
            #[must_use]
            pub fn code(self) -> i64 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unknown(code) => code,
                }
            }

            /// The documented meaning in English.
            #[must_use]
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)*
                    Self::Unknown(_) => $unknown_en,
                }
            }

            /// The meaning as the provider's documents word it (their language).
            #[must_use]
            pub fn provider_wording(self) -> &'static str {
                match self {
                    $(Self::$variant => $wording,)*
                    Self::Unknown(_) => $unknown_wording,
                }
            }

            /// Whether the same request may succeed later without change (maintenance,
            /// server-side failures). Never true for an undocumented code.
            #[must_use]
            pub fn retryable(self) -> bool {
                match self {
                    $(Self::$variant => $retry,)*
                    Self::Unknown(_) => false,
                }
            }

            /// Whether the code is one the documents list.
            #[must_use]
            pub fn is_documented(self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: words {
            $(
                $(#[$vmeta:meta])*
                $word:literal $(| $alias:literal)* => $variant:ident, $en:literal, retry: $retry:literal;
            )*
        }
        unknown: $unknown_en:literal;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                #[doc = concat!("`", $word, "`", $(" (also `", $alias, "`)",)* ": ", $en, ".")]
                $(#[$vmeta])*
                $variant,
            )*
            /// A word the provider's documents do not list, kept as received.
            Unknown(String),
        }

        impl $name {
            /// Every documented word, in the documents' order.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)*];

            /// From the wire word: surrounding whitespace and ASCII case ignored, documented
            /// alternative spellings accepted; any other word becomes `Unknown`.
            #[must_use]
            pub fn parse(word: &str) -> Self {
                let w = word.trim();
                $(
                    if w.eq_ignore_ascii_case($word) $(|| w.eq_ignore_ascii_case($alias))* {
                        return Self::$variant;
                    }
                )*
                Self::Unknown(word.to_owned())
            }

            /// The word as the provider writes it (an unknown word as received).
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $word,)*
                    Self::Unknown(word) => word,
                }
            }

            /// The documented meaning in English.
            #[must_use]
            pub fn meaning(&self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)*
                    Self::Unknown(_) => $unknown_en,
                }
            }

            /// Whether the same request may succeed later without change. Never true for an
            /// undocumented word.
            #[must_use]
            pub fn retryable(&self) -> bool {
                match self {
                    $(Self::$variant => $retry,)*
                    Self::Unknown(_) => false,
                }
            }

            /// Whether the word is one the documents list.
            #[must_use]
            pub fn is_documented(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    code_table! {
        /// Test table.
        pub enum T {
            1 => One, "một", "one", retry: false;
            -5 => MinusFive, "âm năm", "minus five", retry: true;
        }
        unknown: "?", "unknown";
    }

    code_table! {
        /// Test word table.
        pub enum W: words {
            "Paid" => Paid, "paid", retry: false;
            "Cancelled" | "canceled" => Cancelled, "cancelled", retry: false;
            "Busy" => Busy, "try later", retry: true;
        }
        unknown: "undocumented word";
    }

    #[test]
    fn documented_words_round_trip_in_any_case_and_unknown_ones_are_kept() {
        for w in W::ALL {
            assert_eq!(&W::parse(w.as_str()), w);
            assert_eq!(&W::parse(&w.as_str().to_ascii_uppercase()), w);
            assert!(w.is_documented());
        }
        assert_eq!(W::parse(" canceled "), W::Cancelled);
        assert_eq!(W::Cancelled.as_str(), "Cancelled");
        assert!(W::Busy.retryable() && !W::Paid.retryable());
        let odd = W::parse("Refunded");
        assert_eq!(odd, W::Unknown("Refunded".into()));
        assert_eq!(odd.as_str(), "Refunded");
        assert!(!odd.retryable() && !odd.is_documented());
        assert_eq!(odd.meaning(), "undocumented word");
        assert_eq!(W::parse(""), W::Unknown(String::new()));
    }

    #[test]
    fn documented_codes_round_trip_and_unknown_ones_are_kept() {
        for &c in T::ALL {
            assert_eq!(T::from_code(c.code()), c);
            assert!(c.is_documented());
        }
        assert_eq!(T::from_code(-5), T::MinusFive);
        assert!(T::MinusFive.retryable());
        for code in [0, 2, i64::MAX, i64::MIN] {
            let t = T::from_code(code);
            assert_eq!(t, T::Unknown(code));
            assert_eq!(t.code(), code);
            assert!(!t.retryable() && !t.is_documented());
            assert_eq!((t.meaning(), t.provider_wording()), ("unknown", "?"));
        }
    }
}
