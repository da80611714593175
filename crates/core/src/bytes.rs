//! Byte searches shared by the hot-path readers ([`crate::json`], [`crate::xml`]).

/// The index of the first byte of `bytes` that is one of `needles` or, with `controls`, below
/// 0x20 — eight bytes at a time (the runs searched are mostly plain): a byte equal to a needle
/// makes its lane zero after the XOR, and the zero-lane and below-0x20 tests may flag a lane
/// wrongly only above a lane flagged rightly, so the lowest flag is exact. Property-tested
/// against the byte-wise search.
#[must_use]
#[inline]
pub fn first_of<const N: usize>(bytes: &[u8], needles: [u8; N], controls: bool) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        let mut flags = if controls {
            x.wrapping_sub(ONES * 0x20) & !x
        } else {
            0
        };
        for needle in needles {
            let t = x ^ (ONES * u64::from(needle));
            flags |= t.wrapping_sub(ONES) & !t;
        }
        let flags = flags & HIGH;
        if flags != 0 {
            return Some(offset + (flags.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|b| (controls && *b < 0x20) || needles.contains(b))
        .map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn word_search_finds_what_a_byte_search_finds(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::u8::ANY,
                    proptest::strategy::Just(b'&'),
                    proptest::strategy::Just(b'"'),
                    proptest::strategy::Just(0xEF),
                    proptest::strategy::Just(b'a'),
                ],
                0..40,
            ),
        ) {
            for controls in [false, true] {
                let needles = [b'"', b'\'', b'<', b'&', 0xEF];
                let bytewise = bytes
                    .iter()
                    .position(|b| (controls && *b < 0x20) || needles.contains(b));
                proptest::prop_assert_eq!(first_of(&bytes, needles, controls), bytewise);
                let bytewise = bytes.iter().position(|b| (controls && *b < 0x20) || *b == b'&');
                proptest::prop_assert_eq!(first_of(&bytes, [b'&'], controls), bytewise);
            }
        }
    }
}
