//! The reader itself: one pass over the bytes, declining (`None`) whatever it leaves to
//! roxmltree.

use std::borrow::Cow;

use super::{
    Attribute, Document, Element, MAX_ATTRIBUTES, MAX_DECLARATIONS, MAX_DEPTH, append_text, index,
};

/// XML's whitespace (`S`).
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// Byte classes of the scanning loops, each the set of bytes that *ends* a run: a byte that
/// is not a name byte; a byte that ends a run of plain text (markup, references, `]` of `]]>`,
/// control characters, `\r`, the lead byte of U+FFFE/FFFF); a byte that is not indentation
/// (space, tab, line feed).
const NAME_STOP: u8 = 1;
const TEXT_STOP: u8 = 2;
/// What ends a run of an attribute value: every control character, quotes, `<`,
/// references, the lead byte of U+FFFE/FFFF.
const VALUE_STOP: u8 = 4;
const INDENT_STOP: u8 = 8;

static CLASSES: [u8; 256] = classes();

#[allow(clippy::indexing_slicing, reason = "i < 256, the table's length")]
const fn classes() -> [u8; 256] {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
        let b = i as u8;
        let mut class = 0;
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
            class |= NAME_STOP;
        }
        let control = b < 0x20;
        if matches!(b, b'<' | b'&' | b']' | 0xEF) || (control && !matches!(b, b'\t' | b'\n')) {
            class |= TEXT_STOP;
        }
        if matches!(b, b'"' | b'\'' | b'<' | b'&' | 0xEF) || control {
            class |= VALUE_STOP;
        }
        if !matches!(b, b' ' | b'\t' | b'\n') {
            class |= INDENT_STOP;
        }
        table[i] = class;
        i += 1;
    }
    table
}

fn class(b: u8) -> u8 {
    CLASSES.get(usize::from(b)).copied().unwrap_or(0)
}

/// A character XML 1.0 allows.
fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..)
}

/// Decode the references in `raw` (the five predefined entities and character references).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at)?);
        let tail = rest.get(at + 1..)?;
        let semi = tail.bytes().take(12).position(|b| b == b';')?;
        let name = tail.get(..semi)?;
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let number = name.strip_prefix('#')?;
                let (digits, radix) = match number.strip_prefix('x') {
                    Some(hex) => (hex, 16),
                    None => (number, 10),
                };
                // `from_str_radix` would also take a sign.
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                let code = u32::from_str_radix(digits, radix).ok()?;
                char::from_u32(code).filter(|c| is_xml_char(*c))?
            }
        };
        out.push(c);
        rest = tail.get(semi + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// A name as written.
#[derive(Clone, Copy)]
struct QName<'i> {
    prefix: Option<&'i str>,
    local: &'i str,
    /// `prefix:local`.
    full: &'i str,
}

/// An open element.
#[derive(Clone, Copy, Default)]
struct Open<'i> {
    id: u32,
    qname: &'i str,
    /// The namespace scope's length before this element's declarations.
    scope: u32,
}

pub(super) struct Parser<'i> {
    text: &'i str,
    bytes: &'i [u8],
    pos: usize,
    doc: Document<'i>,
    open: Stack<Open<'i>, MAX_DEPTH>,
    /// In-scope declarations, innermost last: prefix (`""` for the default) and URI
    /// (`None`: the default namespace undeclared).
    scope: Stack<(&'i str, Option<&'i str>), MAX_DECLARATIONS>,
}

impl<'i> Parser<'i> {
    pub(super) fn new(text: &'i str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            // Sized for a typical answer (Wooppay's create-invoice answer: 9 elements, 7
            // attributes, since namespace declarations never enter it), so it is read without
            // growing, and each vector under 1 KiB: the allocator serves that from its
            // per-thread cache, a larger one from its bins at ~500 instructions each
            // (callgrind, BENCHMARKS.md).
            doc: Document {
                elements: Vec::with_capacity(12),
                attributes: Vec::with_capacity(12),
            },
            open: Stack::default(),
            scope: Stack::default(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn eat(&mut self, literal: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(literal.len())?;
        (self.bytes.get(self.pos..end)? == literal).then(|| self.pos = end)
    }

    fn slice(&self, start: usize, end: usize) -> Option<&'i str> {
        self.text.get(start..end)
    }

    pub(super) fn run(mut self) -> Option<Document<'i>> {
        if self.bytes.starts_with(b"<?xml") {
            self.declaration()?;
        }
        self.skip_space();
        loop {
            match self.peek()? {
                b'<' => {
                    self.pos += 1;
                    match self.peek()? {
                        b'/' => {
                            self.pos += 1;
                            self.end_tag()?;
                        }
                        b'?' | b'!' => return None,
                        _ => self.start_tag()?,
                    }
                    if self.open.is_empty() {
                        break;
                    }
                }
                _ => self.text()?,
            }
        }
        self.skip_space();
        (self.pos == self.bytes.len()).then_some(self.doc)
    }

    /// `<?xml version="1.0" [encoding="utf-8"] [standalone="yes|no"] ?>`.
    fn declaration(&mut self) -> Option<()> {
        self.pos = 5;
        let mut seen = 0;
        loop {
            let spaced = self.skip_space();
            if self.eat(b"?>").is_some() {
                return (seen > 0).then_some(());
            }
            if !spaced {
                return None;
            }
            let start = self.pos;
            self.name_bytes();
            let name = self.slice(start, self.pos)?;
            let value = self.attribute_value()?;
            let ok = match (seen, name) {
                (0, "version") => value == "1.0",
                (1, "encoding") => value.eq_ignore_ascii_case("utf-8"),
                (1 | 2, "standalone") => {
                    seen = 2;
                    matches!(value.as_ref(), "yes" | "no")
                }
                _ => false,
            };
            if !ok {
                return None;
            }
            seen += 1;
        }
    }

    /// Move past the run with no byte of class `stop`.
    #[allow(
        clippy::inline_always,
        reason = "a call per run costs more than the run (callgrind: +0.4 k instructions per answer)"
    )]
    #[inline(always)]
    fn skip_run(&mut self, stop: u8) {
        self.pos += crate::xml::scan::run_len(
            self.bytes.get(self.pos..).unwrap_or_default(),
            &CLASSES,
            stop,
        );
    }

    /// Names are short (3–15 bytes): one byte at a time.
    fn name_bytes(&mut self) {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos += rest
            .iter()
            .position(|&b| class(b) & NAME_STOP != 0)
            .unwrap_or(rest.len());
    }

    /// Move to the next byte that ends a run of text and return it (`None`: end of input).
    fn run_to_text_stop(&mut self) -> Option<u8> {
        self.skip_run(TEXT_STOP);
        self.peek()
    }

    /// Move to the next byte that ends a run of an attribute value and return it: a quote,
    /// `<`, a reference, a control character, the lead byte of U+FFFE/FFFF.
    fn run_to_value_stop(&mut self) -> Option<u8> {
        self.skip_run(VALUE_STOP);
        self.peek()
    }

    /// Inlined into its two callers: a call per name, with the name returned through memory,
    /// costs ~25 instructions of a 3–30-byte name (callgrind: −0.5 k instructions per Wooppay
    /// answer, BENCHMARKS.md).
    #[allow(clippy::inline_always, reason = "measured: see above")]
    #[inline(always)]
    fn qname(&mut self) -> Option<QName<'i>> {
        let start = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        self.name_bytes();
        let mut colon = None;
        if self.peek() == Some(b':') {
            colon = Some(self.pos - start);
            self.pos += 1;
            if !self.peek().is_some_and(is_name_start) {
                return None;
            }
            self.name_bytes();
        }
        // One slice; the parts split at the ASCII colon.
        let full = self.slice(start, self.pos)?;
        Some(match colon {
            Some(at) => {
                let (prefix, rest) = full.split_at_checked(at)?;
                QName {
                    prefix: Some(prefix),
                    local: rest.get(1..)?,
                    full,
                }
            }
            None => QName {
                prefix: None,
                local: full,
                full,
            },
        })
    }

    /// `= "value"` (or single quotes), after the name; references decoded. Inlined, as
    /// [`Self::qname`] (−0.3 k instructions per Wooppay answer).
    #[allow(clippy::inline_always, reason = "measured: see above")]
    #[inline(always)]
    fn attribute_value(&mut self) -> Option<Cow<'i, str>> {
        self.skip_space();
        self.eat(b"=")?;
        self.skip_space();
        let quote = self.peek().filter(|q| matches!(q, b'"' | b'\''))?;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let b = self.run_to_value_stop()?;
            if b == quote {
                break;
            }
            match b {
                b'"' | b'\'' => {}
                b'<' | b'\t' | b'\n' | b'\r' => return None,
                b'&' => escaped = true,
                _ => self.check_char(b)?,
            }
            self.pos += 1;
        }
        let raw = self.slice(start, self.pos)?;
        self.pos += 1;
        if escaped {
            unescape(raw).map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// Refuse control characters and the non-characters U+FFFE / U+FFFF.
    fn check_char(&self, b: u8) -> Option<()> {
        if b < 0x20 && b != b'\t' && b != b'\n' {
            return None;
        }
        if b == 0xEF
            && self.bytes.get(self.pos + 1) == Some(&0xBF)
            && matches!(self.bytes.get(self.pos + 2), Some(0xBE | 0xBF))
        {
            return None;
        }
        Some(())
    }

    /// After `<`: a start tag or an empty-element tag.
    fn start_tag(&mut self) -> Option<()> {
        let qname = self.qname()?;
        // Attributes go in as written (their prefix where the namespace goes), then are
        // resolved in place once this element's declarations are known; the declarations
        // themselves go to the scope as they are read (−0.6 k instructions an answer against
        // holding them among the attributes until the tag ends, BENCHMARKS.md).
        let first = self.doc.attributes.len();
        let scope = self.scope.len();
        let mut written = 0;
        let empty = loop {
            let spaced = self.skip_space();
            match self.peek()? {
                b'>' => {
                    self.pos += 1;
                    break false;
                }
                b'/' => {
                    self.pos += 1;
                    self.eat(b">")?;
                    break true;
                }
                // More attributes than the limits allow: declined (the reference path's
                // limit check then refuses the document), and the duplicate check
                // below stays bounded.
                _ if spaced && written < MAX_ATTRIBUTES => {
                    written += 1;
                    let name = self.qname()?;
                    let value = self.attribute_value()?;
                    // A namespace declaration goes straight into the scope; the element's
                    // other attributes wait for the declarations after them.
                    let declared = match (name.prefix, name.local) {
                        (Some("xmlns"), prefix) => Some(prefix),
                        (None, "xmlns") => Some(""),
                        _ => None,
                    };
                    match declared {
                        Some(prefix) => {
                            // An escaped URI is left to roxmltree.
                            let Cow::Borrowed(uri) = value else {
                                return None;
                            };
                            self.declare(scope, prefix, uri)?;
                        }
                        None => self.doc.attributes.push(Attribute {
                            namespace: name.prefix,
                            name: name.local,
                            value,
                        }),
                    }
                }
                _ => return None,
            }
        };
        let namespace = self.lookup(qname.prefix.unwrap_or(""));
        if qname.prefix.is_some() && namespace.is_none() {
            return None;
        }
        self.resolve_attributes(first)?;
        let first_attribute = index(first);
        let id = self.doc.elements.len();
        self.doc.elements.push(Element {
            name: qname.local,
            namespace,
            first_attribute,
            end_attribute: index(self.doc.attributes.len()),
            text: Cow::Borrowed(""),
            end: index(id + 1),
        });
        if empty {
            self.scope.truncate(scope);
        } else {
            self.open.push(Open {
                id: index(id),
                qname: qname.full,
                scope: index(scope),
            })?;
        }
        Some(())
    }

    /// Push a namespace declaration of the element whose declarations start at `own` in the
    /// scope; `None` when its prefix is declared twice.
    fn declare(&mut self, own: usize, prefix: &'i str, uri: &'i str) -> Option<()> {
        if self
            .scope
            .items()
            .get(own..)?
            .iter()
            .any(|(p, _)| *p == prefix)
        {
            return None;
        }
        // Reserved prefixes and their URIs are left to roxmltree.
        if prefix.starts_with("xml")
            || uri == "http://www.w3.org/XML/1998/namespace"
            || uri == "http://www.w3.org/2000/xmlns/"
            // roxmltree reads `xmlns=""` as the namespace `Some("")`.
            || uri.is_empty()
        {
            return None;
        }
        self.scope.push((prefix, Some(uri)))
    }

    /// Resolve the attributes from `first` in place; `None` on an unbound prefix or two
    /// attributes with one expanded name (which two attributes with one qualified name also
    /// are).
    fn resolve_attributes(&mut self, first: usize) -> Option<()> {
        for i in first..self.doc.attributes.len() {
            let a = self.doc.attributes.get(i)?;
            let (prefix, local) = (a.namespace, a.name);
            let namespace = match prefix {
                Some(p) => Some(self.lookup(p)?),
                None => None,
            };
            let resolved = self.doc.attributes.get(first..i)?;
            if resolved
                .iter()
                .any(|b| b.name == local && b.namespace == namespace)
            {
                return None;
            }
            self.doc.attributes.get_mut(i)?.namespace = namespace;
        }
        Some(())
    }

    /// The URI bound to `prefix`: for `""` the default namespace (`None`: none), for a
    /// named prefix `None` when it is unbound (named prefixes are never bound to `""`).
    fn lookup(&self, prefix: &str) -> Option<&'i str> {
        self.scope
            .items()
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .and_then(|(_, uri)| *uri)
    }

    /// After `</`: the open element's name, whole (no name byte follows it).
    fn end_tag(&mut self) -> Option<()> {
        let open = self.open.pop()?;
        self.eat(open.qname.as_bytes())?;
        if self
            .peek()
            .is_some_and(|b| b == b':' || class(b) & NAME_STOP == 0)
        {
            return None;
        }
        self.skip_space();
        self.eat(b">")?;
        let end = index(self.doc.elements.len());
        self.doc.elements.get_mut(open.id as usize)?.end = end;
        self.scope.truncate(open.scope as usize);
        Some(())
    }

    /// Character data up to the next `<`, added to the open element's text.
    fn text(&mut self) -> Option<()> {
        let start = self.pos;
        // Indentation: a run of whitespace up to the next tag adds nothing until the element
        // has other text (it would be trimmed away), so it is usually just skipped. (`\r` is
        // not skipped here: it is refused below.)
        self.skip_run(INDENT_STOP);
        if self.peek() == Some(b'<') {
            let raw = self.slice(start, self.pos)?;
            let open = self.open.last()?;
            let element = self.doc.elements.get_mut(open.id as usize)?;
            if !element.text.is_empty() {
                append_text(&mut element.text, Cow::Borrowed(raw));
            }
            return Some(());
        }
        let mut escaped = false;
        loop {
            match self.run_to_text_stop() {
                None | Some(b'<') => break,
                Some(b'&') => escaped = true,
                Some(b']') => {
                    if self.bytes.get(self.pos..self.pos + 3) == Some(b"]]>") {
                        return None;
                    }
                }
                Some(b) => self.check_char(b)?,
            }
            self.pos += 1;
        }
        let raw = self.slice(start, self.pos)?;
        let piece = if escaped {
            Cow::Owned(unescape(raw)?)
        } else {
            Cow::Borrowed(raw)
        };
        let open = self.open.last()?;
        append_text(
            &mut self.doc.elements.get_mut(open.id as usize)?.text,
            piece,
        );
        Some(())
    }
}

/// A stack in a fixed array; `push` fails when it is full.
struct Stack<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Default for Stack<T, N> {
    fn default() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
        }
    }
}

impl<T: Copy, const N: usize> Stack<T, N> {
    fn push(&mut self, item: T) -> Option<()> {
        *self.items.get_mut(self.len)? = item;
        self.len += 1;
        Some(())
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        self.items.get(self.len).copied()
    }

    fn last(&self) -> Option<&T> {
        self.items.get(self.len.checked_sub(1)?)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn items(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or_default()
    }
}
