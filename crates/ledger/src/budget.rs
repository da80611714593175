//! How often routes may ask a provider to confirm callbacks about one payment: at most
//! [`PER_WINDOW`] a [`WINDOW`], in this process. A genuine provider retries a callback answered
//! "later"; replayed variants of one callback cannot make the receiver hammer the provider.

use std::collections::HashMap;
use std::sync::Mutex;

/// Confirmations allowed per payment and window.
pub const PER_WINDOW: u32 = 10;

/// The window, in milliseconds.
pub const WINDOW: i64 = 60_000;

/// Payments tracked at once: beyond it, the table is swept of ended windows, and a payment it
/// cannot track is not limited (the bound protects the provider; it never holds up money).
const TRACKED: usize = 100_000;

/// A payment: (merchant, provider, reference).
type Payment = (String, String, String);

/// The per-payment counts.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    windows: Mutex<HashMap<Payment, (i64, u32)>>,
}

impl Budget {
    /// Count one confirmation of `payment` (merchant, provider, reference) at `now`; `false`
    /// when its window's budget is spent.
    pub(crate) fn take(
        &self,
        (merchant, provider, reference): (&str, &str, &str),
        now: i64,
    ) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        let key = (
            merchant.to_owned(),
            provider.to_owned(),
            reference.to_owned(),
        );
        if !windows.contains_key(&key) && windows.len() >= TRACKED {
            windows.retain(|_, (start, _)| now.saturating_sub(*start) < WINDOW);
            if windows.len() >= TRACKED {
                return true;
            }
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.saturating_sub(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= PER_WINDOW
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_confirmations_a_minute_per_payment() {
        let budget = super::Budget::default();
        for _ in 0..super::PER_WINDOW {
            assert!(budget.take(("", "card-charging", "r1"), 0));
        }
        assert!(!budget.take(("", "card-charging", "r1"), 59_999), "spent");
        assert!(
            budget.take(("", "card-charging", "r2"), 59_999),
            "per payment"
        );
        assert!(
            budget.take(("shop-a", "card-charging", "r1"), 59_999),
            "per merchant"
        );
        assert!(
            budget.take(("", "card-charging", "r1"), 60_000),
            "a new window"
        );
    }
}
