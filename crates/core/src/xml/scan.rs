//! The one byte scan of the XML reader and writer: how far a run of bytes goes before a byte
//! of a given class.
//!
//! It looks at eight bytes at a time: their classes are OR-ed without a branch, and only the
//! chunk that holds a stop byte is searched byte by byte. The runs it sees are 3–90 bytes
//! (namespace URIs, attribute values, indentation, the values of a request), too short for
//! `memchr`'s set-up to pay and too varied for one or three needles; against a byte-by-byte
//! loop it saves about 1.3 k of the ~107 k instructions of a Wooppay `create_invoice` call, which
//! is what the budget in BENCHMARKS.md needs. Names are shorter still and are scanned one
//! byte at a time by the reader.

/// The length of the run at the start of `bytes` in which no byte's class (`classes[b]`) has a
/// bit of `stop` (all of `bytes` when there is none).
#[allow(
    clippy::inline_always,
    reason = "a call per run costs more than the run (callgrind: +0.4 k instructions per answer)"
)]
#[inline(always)]
pub(crate) fn run_len(bytes: &[u8], classes: &[u8; 256], stop: u8) -> usize {
    let class = |b: u8| classes.get(usize::from(b)).copied().unwrap_or(0);
    let (chunks, _) = bytes.as_chunks::<8>();
    let clear = chunks
        .iter()
        .take_while(|chunk| chunk.iter().fold(0, |any, &b| any | class(b)) & stop == 0)
        .count();
    let done = clear * 8;
    let rest = bytes.get(done..).unwrap_or_default();
    done + rest
        .iter()
        .position(|&b| class(b) & stop != 0)
        .unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::run_len;

    #[test]
    fn a_run_ends_where_the_byte_by_byte_scan_ends() {
        // A table with a class per bit; every length around the chunk size, the stop byte at
        // every position.
        let mut classes = [0_u8; 256];
        for (b, class) in classes.iter_mut().enumerate() {
            *class = match b {
                0x3C => 1,
                0x0A => 2,
                0x22 => 4 | 1,
                0xC3 => 8,
                _ => 0,
            };
        }
        for stop in [1, 2, 4, 8, 3] {
            for len in 0..=27 {
                for at in 0..=len {
                    for filler in [b'a', b' ', 0xC3, b'"'] {
                        let mut bytes = vec![filler; len];
                        if let Some(b) = bytes.get_mut(at) {
                            *b = [b'<', b'\n', b'"', b'x', 0xC3][at % 5];
                        }
                        let expected = bytes
                            .iter()
                            .position(|&b| classes[usize::from(b)] & stop != 0)
                            .unwrap_or(len);
                        assert_eq!(
                            run_len(&bytes, &classes, stop),
                            expected,
                            "{bytes:?} {stop}"
                        );
                    }
                }
            }
        }
    }
}
