//! Calendar dates from Unix time, by the `time` crate (the calendar arithmetic is its, not
//! ours): timestamps on the wire (Payoo's Vietnam time, Wooppay's Kazakhstan time) and in
//! logs and webhook events.

/// A UTC (or offset) calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: i64,
    /// Day of month, 1–31.
    pub day: i64,
    /// Hour, 0–23.
    pub hour: i64,
    /// Minute, 0–59.
    pub minute: i64,
    /// Second, 0–59.
    pub second: i64,
}

/// The calendar time of `unix_seconds` (UTC; add an offset's seconds first for a local
/// time). Outside the years −9999 to 9999, which no timestamp of ours reaches, the nearest end.
#[must_use]
pub fn civil(unix_seconds: i64) -> Civil {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(if unix_seconds < 0 {
            time::PrimitiveDateTime::MIN.assume_utc()
        } else {
            time::PrimitiveDateTime::MAX.assume_utc()
        });
    Civil {
        year: i64::from(t.year()),
        month: i64::from(u8::from(t.month())),
        day: i64::from(t.day()),
        hour: i64::from(t.hour()),
        minute: i64::from(t.minute()),
        second: i64::from(t.second()),
    }
}

/// `unix_ms` as RFC 3339 UTC with milliseconds: `2026-12-02T01:10:26.041Z`.
#[must_use]
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let c = civil(unix_ms.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        unix_ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let c = civil(1_709_164_800);
        assert_eq!((c.year, c.month, c.day, c.hour), (2024, 2, 29, 0));
        let c = civil(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (1969, 12, 31, 23, 59, 59)
        );
        assert_eq!(rfc3339_ms(1_764_637_826_041), "2025-12-02T01:10:26.041Z");
        let c = civil(951_782_400); // 2000-02-29, a leap day of a year divisible by 400
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
        assert_eq!(
            civil(i64::MAX).year,
            9999,
            "far out of range: the nearest end"
        );
    }
}
