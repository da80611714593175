//! The limits every untrusted document is read under, defined once.
//!
//! A provider answer or a callback may come from a hostile peer. Before any parser builds a
//! tree, the document is checked here in one linear pass: its size, how deeply its elements
//! nest, how many attributes one element has, and how many elements it holds. The parsers
//! behind (roxmltree, the compact reader, `serde_json`) are then never given input that makes
//! them slow (roxmltree's duplicate-attribute check is quadratic in attributes per element)
//! or deep.
//!
//! | limit | answers ([`Limits::ANSWER`]) | callbacks ([`Limits::CALLBACK`]) |
//! |---|---|---|
//! | bytes | 1 MiB | 64 KiB |
//! | element depth | 64 | 64 |
//! | attributes per element (namespace declarations included) | 64 | 64 |
//! | elements in all | 100 000 | 10 000 |
//!
//! Every verifier of every provider crate refuses a callback over [`Limits::CALLBACK`] as
//! [`Error::Callback`]; answers over [`Limits::ANSWER`] are [`Error::Decode`]. Both are plain
//! values: pass your own [`Limits`] where a type takes them.

use crate::{Error, Result};

/// Size, depth, attribute and element-count limits of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Most attributes on one element, namespace declarations included.
    pub max_attributes: usize,
    /// Most elements in the document.
    pub max_elements: usize,
}

impl Limits {
    /// For provider answers (what the transport's body limit lets through).
    pub const ANSWER: Self = Self {
        max_bytes: 1024 * 1024,
        max_depth: 64,
        max_attributes: 64,
        max_elements: 100_000,
    };

    /// For callbacks and notifications: a few kilobytes in practice.
    pub const CALLBACK: Self = Self {
        max_bytes: 64 * 1024,
        max_depth: 64,
        max_attributes: 64,
        max_elements: 10_000,
    };

    /// These limits with another size limit.
    #[must_use]
    pub const fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Refuse `bytes` when it is larger than [`Limits::max_bytes`] (as [`Error::Decode`]).
    pub fn check_size(&self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.max_bytes {
            return Err(Error::decode(format!(
                "document of {} bytes is over the limit of {} bytes",
                bytes.len(),
                self.max_bytes
            )));
        }
        Ok(())
    }

    /// Check an XML document against every limit, in one linear pass, before it is parsed.
    /// Malformed markup the pass does not need to understand is left for the parser to
    /// refuse; a DTD is refused here (no parser of ours accepts one).
    pub fn check_xml(&self, text: &str) -> Result<()> {
        self.check_size(text.as_bytes())?;
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut depth = 0_usize;
        let mut elements = 0_usize;
        while let Some(offset) = memchr::memchr(b'<', bytes.get(pos..).unwrap_or_default()) {
            let start = pos + offset;
            let rest = bytes.get(start..).unwrap_or_default();
            pos = if rest.starts_with(b"<!--") {
                skip_past(bytes, start + 4, b"-->")
            } else if rest.starts_with(b"<![CDATA[") {
                skip_past(bytes, start + 9, b"]]>")
            } else if rest.starts_with(b"<?") {
                skip_past(bytes, start + 2, b"?>")
            } else if rest.starts_with(b"<!") {
                return Err(Error::decode("a DTD is not accepted"));
            } else if rest.starts_with(b"</") {
                depth = depth.saturating_sub(1);
                skip_past(bytes, start + 2, b">")
            } else {
                let tag = start_tag(bytes, start + 1);
                elements += 1;
                if !tag.self_closing {
                    depth += 1;
                }
                if depth > self.max_depth {
                    return Err(Error::decode(format!(
                        "elements nest deeper than {} levels",
                        self.max_depth
                    )));
                }
                if tag.attributes > self.max_attributes {
                    return Err(Error::decode(format!(
                        "an element has more than {} attributes",
                        self.max_attributes
                    )));
                }
                if elements > self.max_elements {
                    return Err(Error::decode(format!(
                        "more than {} elements",
                        self.max_elements
                    )));
                }
                tag.end
            };
        }
        Ok(())
    }
}

/// The index just past the first `needle` at or after `from` (the end when there is none).
fn skip_past(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| memchr::memmem::find(rest, needle))
        .map_or(bytes.len(), |at| from + at + needle.len())
}

/// A start tag as the limits see it.
struct StartTag {
    /// Index just past its `>` (or the end of the input).
    end: usize,
    /// `=` signs outside quoted values: one per attribute in well-formed markup.
    attributes: usize,
    self_closing: bool,
}

/// Scan the start tag whose name begins at `from`, honouring quoted attribute values.
fn start_tag(bytes: &[u8], from: usize) -> StartTag {
    let mut attributes = 0;
    let mut quote: Option<u8> = None;
    let mut previous = 0_u8;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'=' => attributes += 1,
                b'>' => {
                    return StartTag {
                        end: i + 1,
                        attributes,
                        self_closing: previous == b'/',
                    };
                }
                _ => {}
            },
        }
        if !b.is_ascii_whitespace() {
            previous = b;
        }
    }
    StartTag {
        end: bytes.len(),
        attributes,
        self_closing: false,
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
    }

    #[test]
    fn depth_attributes_and_elements_are_counted() {
        let l = Limits::ANSWER;
        assert!(l.check_xml(&nested(64)).is_ok());
        assert!(l.check_xml(&nested(65)).is_err());
        // Siblings and self-closing elements do not nest.
        let wide = format!("<r>{}</r>", "<a/><b>t</b>".repeat(1000));
        assert!(l.check_xml(&wide).is_ok());
        let attrs = |n: usize| {
            let mut tag = String::from("<r");
            for i in 0..n {
                let _ = write!(tag, " a{i}=\"x>y\"");
            }
            tag + "/>"
        };
        assert!(l.check_xml(&attrs(64)).is_ok());
        assert!(l.check_xml(&attrs(65)).is_err());
        let many = format!("<r>{}</r>", "<a/>".repeat(100_000));
        assert!(l.check_xml(&many).is_err());
        assert!(
            Limits::CALLBACK
                .check_xml(&"x".repeat(64 * 1024 + 1))
                .is_err()
        );
        assert!(l.check_xml("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>").is_err());
    }

    #[test]
    fn comments_cdata_and_instructions_are_skipped_whole() {
        let l = Limits::ANSWER;
        let inside = "<a><a><a><a>".repeat(100);
        let doc = format!("<?xml version=\"1.0\"?><r><!--{inside}--><![CDATA[{inside}]]></r>");
        assert!(l.check_xml(&doc).is_ok());
        // Unterminated constructs end the scan (the parser refuses them).
        assert!(l.check_xml("<r><!-- no end").is_ok());
        assert!(l.check_xml("<r a=\"unterminated").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,400}") {
            let _ = Limits::ANSWER.check_xml(&text);
        }

        #[test]
        fn never_panics_on_markup(parts in proptest::collection::vec(proptest::sample::select(vec!["<a>", "</a>", "<b/>", "<!--", "-->", "<![CDATA[", "]]>", "<?", "?>", "\"", "'", "=", "x", " ", ">"]), 0..100)) {
            let _ = Limits::ANSWER.check_xml(&parts.concat());
        }
    }
}
