//! Ids the merchant sees — unique in the world, not per database — and the ids merchants are
//! registered under.

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore as _;

/// `msg_` + a `UUIDv7` (RFC 9562) for a change recorded at `now_ms`: 48 bits of Unix
/// milliseconds (ids sort by time), then 74 random bits from the OS's CSPRNG — two ledgers,
/// a restored backup or a re-created database never make the same one.
pub(crate) fn webhook_id(now_ms: i64) -> String {
    let mut bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let ms = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    // The low 48 bits of the time, big-endian, in the first six bytes.
    for (slot, b) in bytes.iter_mut().zip(ms.iter().skip(2)) {
        *slot = *b;
    }
    bytes[6] = 0x70 | (bytes[6] & 0x0f); // version 7
    bytes[8] = 0x80 | (bytes[8] & 0x3f); // variant 10
    let hex = bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!(
        "msg_{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    )
}

/// Whether `id` can name a merchant (and its routes, `/m/{id}/…`).
#[must_use]
pub fn valid_merchant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_uuid_v7_with_the_time_and_never_repeat() {
        let at = 1_795_435_200_123_i64;
        let id = super::webhook_id(at);
        let uuid = id.strip_prefix("msg_").unwrap();
        let parts: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert_eq!(
            i64::from_str_radix(&format!("{}{}", parts[0], parts[1]), 16).unwrap(),
            at
        );
        assert!(parts[2].starts_with('7'));
        assert!(matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
        let many: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::webhook_id(at)).collect();
        assert_eq!(many.len(), 10_000);
    }
}
