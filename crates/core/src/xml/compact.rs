//! A compact, read-only element tree for decoding answers on the hot path.
//!
//! [`Document::parse`] reads the plain XML that SOAP stacks write — an optional UTF-8 XML
//! declaration, elements, attributes, namespaces, text with the predefined entities and
//! character references — into two flat vectors, borrowing every name and every text that
//! needs no unescaping. Anything else (comments, CDATA, processing instructions, a DTD, a
//! byte-order mark, raw `\r`, names outside ASCII, the `xml` prefix, …) makes it **decline**
//! (`None`) rather than guess: the caller then parses with roxmltree, the reference parser,
//! and converts the part it needs with [`Document::from_roxmltree`]. So this reader only
//! decides how fast a document is read, never what it means: whatever it accepts,
//! roxmltree accepts too and reads the same way (property-tested in this module against
//! roxmltree on generated and mutated documents).
//!
//! Text is kept per element as the concatenation of its text children; [`Node::text`]
//! hands it out trimmed, which is how every rpc/encoded value is read.

use std::borrow::Cow;

/// Deeper documents, and documents with more namespace declarations in scope at once, are
/// left to roxmltree (SOAP answers are a handful of levels deep and declare a handful of
/// prefixes): the parser's stacks are then small fixed arrays instead of allocations — small,
/// because they are written on every parse and what they occupy of the cache is taken from
/// the HTTP stack's data around it.
const MAX_DEPTH: usize = 16;
/// Attributes per element the reader takes (namespace declarations included); beyond it
/// declines, like every limit of [`crate::limits::Limits::ANSWER`].
const MAX_ATTRIBUTES: usize = crate::limits::Limits::ANSWER.max_attributes;
const MAX_DECLARATIONS: usize = 16;

/// An element tree: elements in document order, each with its attributes and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document<'i> {
    elements: Vec<Element<'i>>,
    attributes: Vec<Attribute<'i>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Element<'i> {
    name: &'i str,
    namespace: Option<&'i str>,
    /// Its attributes: `attributes[first_attribute..end_attribute]`.
    first_attribute: u32,
    end_attribute: u32,
    /// The concatenated text children (whitespace-only text before any other text dropped:
    /// it is only ever read trimmed).
    text: Cow<'i, str>,
    /// One past its last descendant: its children are the elements between it and `end`.
    end: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Attribute<'i> {
    /// The namespace URI; while its start tag is read, the prefix as written.
    namespace: Option<&'i str>,
    name: &'i str,
    value: Cow<'i, str>,
}

/// An element of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'a, 'i> {
    doc: &'a Document<'i>,
    id: u32,
}

/// An element's expanded name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagName<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
}

impl<'a> TagName<'a> {
    /// The local name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The namespace URI (`None`: no namespace).
    #[must_use]
    pub fn namespace(&self) -> Option<&'a str> {
        self.namespace
    }
}

impl<'i> Document<'i> {
    /// Read `text`, or `None` when it holds anything this reader leaves to roxmltree
    /// (including every malformed document).
    #[must_use]
    pub fn parse(text: &'i str) -> Option<Self> {
        Parser::new(text).run()
    }
}

impl<'a> Document<'a> {
    /// The element tree under `node` (which becomes the root) of a roxmltree document: the
    /// form decoders read when [`Document::parse`] declined.
    #[must_use]
    pub fn from_roxmltree(node: roxmltree::Node<'a, '_>) -> Self {
        let mut doc = Self::default();
        doc.push_roxmltree(node);
        doc
    }

    /// Copy `root`'s subtree in document order. Iterative, with an explicit stack: the input
    /// decides how deep a tree is, and must not decide how deep our call stack grows.
    fn push_roxmltree(&mut self, root: roxmltree::Node<'a, '_>) {
        let mut open = vec![(self.push_element(root), root.children())];
        while let Some((id, children)) = open.last_mut() {
            let id = *id;
            match children.next() {
                Some(child) if child.is_element() => {
                    open.push((self.push_element(child), child.children()));
                }
                Some(child) => {
                    if child.is_text()
                        && let (Some(text), Some(e)) = (child.text(), self.elements.get_mut(id))
                    {
                        append_text(&mut e.text, Cow::Borrowed(text));
                    }
                }
                None => {
                    let end = index(self.elements.len());
                    if let Some(e) = self.elements.get_mut(id) {
                        e.end = end;
                    }
                    open.pop();
                }
            }
        }
    }

    /// Append one element (its attributes, no text yet) and return its id.
    fn push_element(&mut self, node: roxmltree::Node<'a, '_>) -> usize {
        let id = self.elements.len();
        let first_attribute = index(self.attributes.len());
        self.attributes.extend(node.attributes().map(|a| Attribute {
            namespace: a.namespace(),
            name: a.name(),
            value: Cow::Borrowed(a.value()),
        }));
        self.elements.push(Element {
            name: node.tag_name().name(),
            namespace: node.tag_name().namespace(),
            first_attribute,
            end_attribute: index(self.attributes.len()),
            text: Cow::Borrowed(""),
            end: 0,
        });
        id
    }

    /// The root element (`None` only for the empty default document).
    #[must_use]
    pub fn root(&self) -> Option<Node<'_, 'a>> {
        (!self.elements.is_empty()).then_some(Node { doc: self, id: 0 })
    }
}

/// `len` as an element or attribute index (a document never holds 2³² of either: each takes
/// at least three input bytes, and inputs are size-limited long before that).
fn index(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl<'a, 'i> Node<'a, 'i> {
    fn element(self) -> Option<&'a Element<'i>> {
        self.doc.elements.get(self.id as usize)
    }

    /// The element's name.
    #[must_use]
    pub fn tag_name(self) -> TagName<'a> {
        self.element().map_or(
            TagName {
                name: "",
                namespace: None,
            },
            |e| TagName {
                name: e.name,
                namespace: e.namespace,
            },
        )
    }

    /// The value of the attribute `{namespace}local` (`namespace` `None`: unqualified).
    #[must_use]
    pub fn attribute(self, namespace: Option<&str>, local: &str) -> Option<&'a str> {
        let e = self.element()?;
        self.doc
            .attributes
            .get(e.first_attribute as usize..e.end_attribute as usize)?
            .iter()
            .find(|a| a.name == local && a.namespace == namespace)
            .map(|a| a.value.as_ref())
    }

    /// The child elements, in document order.
    #[must_use]
    pub fn children(self) -> Children<'a, 'i> {
        let end = self.element().map_or(0, |e| e.end);
        Children {
            doc: self.doc,
            next: self.id.saturating_add(1),
            end,
        }
    }

    /// The first child element named `{namespace}local`.
    #[must_use]
    pub fn child(self, namespace: Option<&str>, local: &str) -> Option<Self> {
        self.children().find(|c| {
            let n = c.tag_name();
            n.name == local && n.namespace == namespace
        })
    }

    /// The text children's concatenated text, trimmed of XML's whitespace (space, tab, line
    /// feed, carriage return: the only whitespace XML Schema collapses; a no-break space is
    /// part of the value).
    #[must_use]
    pub fn text(self) -> &'a str {
        self.element().map_or("", |e| e.text.trim_ascii())
    }
}

/// The child elements of a [`Node`].
#[derive(Debug, Clone)]
pub struct Children<'a, 'i> {
    doc: &'a Document<'i>,
    next: u32,
    end: u32,
}

impl<'a, 'i> Iterator for Children<'a, 'i> {
    type Item = Node<'a, 'i>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let node = Node {
            doc: self.doc,
            id: self.next,
        };
        self.next = node.element()?.end;
        Some(node)
    }
}

/// Add a text child's text to an element's text. Whitespace-only text before any other text
/// is dropped (it is trimmed away on reading), so an element's text is empty or holds more
/// than whitespace, and the indentation inside container elements costs nothing.
fn append_text<'i>(text: &mut Cow<'i, str>, more: Cow<'i, str>) {
    if text.is_empty() {
        // XML whitespace only: what `trim` removes anyway.
        if !more.bytes().all(is_space) {
            *text = more;
        }
    } else if !more.is_empty() {
        text.to_mut().push_str(&more);
    }
}

/// XML's whitespace (`S`).
fn is_space(b: u8) -> bool {
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

struct Parser<'i> {
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
    fn new(text: &'i str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            // Sized for a typical answer (Wooppay's create-invoice answer: 9 elements, at
            // most 7 attributes held at once, since declarations are dropped as each start tag
            // is resolved), so it is read without growing, and each vector under 1 KiB: the
            // allocator serves that from its per-thread cache, a larger one from its bins at
            // ~500 instructions each (callgrind, BENCHMARKS.md).
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

    fn run(mut self) -> Option<Document<'i>> {
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
        self.pos += super::scan::run_len(
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

    /// `= "value"` (or single quotes), after the name; references decoded.
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
        // resolved in place once this element's declarations are known.
        let first = self.doc.attributes.len();
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
                _ if spaced && self.doc.attributes.len() - first < MAX_ATTRIBUTES => {
                    let name = self.qname()?;
                    let value = self.attribute_value()?;
                    self.doc.attributes.push(Attribute {
                        namespace: name.prefix,
                        name: name.local,
                        value,
                    });
                }
                _ => return None,
            }
        };
        let scope = self.scope.len();
        self.declare(first)?;
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

    /// Push the namespace declarations among the attributes from `first` (still unresolved)
    /// onto the scope; `None` when one prefix is declared twice.
    fn declare(&mut self, first: usize) -> Option<()> {
        let own = self.scope.len();
        for a in self.doc.attributes.get(first..)? {
            let prefix = match (a.namespace, a.name) {
                (Some("xmlns"), p) => p,
                (None, "xmlns") => "",
                _ => continue,
            };
            if self
                .scope
                .items()
                .get(own..)?
                .iter()
                .any(|(p, _)| *p == prefix)
            {
                return None;
            }
            // Reserved prefixes, their URIs and escaped URIs are left to roxmltree.
            let Cow::Borrowed(uri) = a.value else {
                return None;
            };
            if prefix.starts_with("xml")
                || uri == "http://www.w3.org/XML/1998/namespace"
                || uri == "http://www.w3.org/2000/xmlns/"
                // roxmltree reads `xmlns=""` as the namespace `Some("")`.
                || uri.is_empty()
            {
                return None;
            }
            self.scope.push((prefix, Some(uri)))?;
        }
        Some(())
    }

    /// Resolve the attributes from `first` in place, dropping the declarations; `None` on an
    /// unbound prefix or two attributes with one expanded name (which two attributes with
    /// one qualified name also are).
    fn resolve_attributes(&mut self, first: usize) -> Option<()> {
        let mut kept = first;
        for i in first..self.doc.attributes.len() {
            let a = self.doc.attributes.get(i)?;
            let (prefix, local) = (a.namespace, a.name);
            let namespace = match prefix {
                Some("xmlns") => continue,
                None if local == "xmlns" => continue,
                Some(p) => Some(self.lookup(p)?),
                None => None,
            };
            let resolved = self.doc.attributes.get(first..kept)?;
            if resolved
                .iter()
                .any(|b| b.name == local && b.namespace == namespace)
            {
                return None;
            }
            self.doc.attributes.swap(kept, i);
            let a = self.doc.attributes.get_mut(kept)?;
            a.name = local;
            a.namespace = namespace;
            kept += 1;
        }
        self.doc.attributes.truncate(kept);
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

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use proptest::prelude::*;

    const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <SOAP-ENV:Body>
    <ns1:r>
      <url xsi:type="xsd:string">https://x/?id=1&amp;key=2</url>
      <n xsi:type="xsd:int"> 7 </n><empty xsi:nil="true"/>
    </ns1:r>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
"#;

    fn reference(text: &str) -> Option<roxmltree::Document<'_>> {
        crate::xml::parse(text).ok()
    }

    #[test]
    fn reads_an_answer_like_roxmltree() {
        let doc = Document::parse(ANSWER).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(root.tag_name().name(), "Envelope");
        let env = Some("http://schemas.xmlsoap.org/soap/envelope/");
        assert_eq!(root.tag_name().namespace(), env);
        let r = root.child(env, "Body").unwrap().children().next().unwrap();
        assert_eq!(r.tag_name().namespace(), Some("urn:XmlControllerwsdl"));
        let fields: Vec<_> = r.children().collect();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].text(), "https://x/?id=1&key=2");
        let xsi = Some("http://www.w3.org/2001/XMLSchema-instance");
        assert_eq!(fields[0].attribute(xsi, "type"), Some("xsd:string"));
        assert_eq!(fields[0].attribute(None, "type"), None);
        assert_eq!(fields[1].text(), "7");
        assert_eq!(fields[2].text(), "");
        assert_eq!(fields[2].attribute(xsi, "nil"), Some("true"));
        assert!(fields[2].children().next().is_none());
        let reference = reference(ANSWER).unwrap();
        let converted = Document::from_roxmltree(reference.root_element());
        assert_eq!(converted, doc);
    }

    #[test]
    fn declines_what_it_leaves_to_roxmltree() {
        for text in [
            "",
            "  ",
            "\u{feff}<a/>",
            "<a><!-- c --></a>",
            "<a><![CDATA[x]]></a>",
            "<a><?pi x?></a>",
            "<!DOCTYPE a><a/>",
            "<a>x\r\ny</a>",
            "<a>&nbsp;</a>",
            "<a b='x\ny'/>",
            "<a xml:lang='en'/>",
            "<a><b></a></b>",
            "<a></b>",
            "<a>",
            "<a/><b/>",
            "x<a/>",
            "<a/>x",
            "<p:a/>",
            "<a b='1' b='2'/>",
            "<a p:b='1' p:b='2' xmlns:p='u'/>",
            "<a xmlns:p='u' xmlns:p='u'/>",
            "<a xmlns='u' xmlns='u'/>",
            "<ab></a>",
            "<a></ab>",
            "<a></a:b>",
            "<p:a xmlns:p='u'></p:ab>",
            "<p:a xmlns:p='u'></p>",
            r#"<a xmlns:p="u" xmlns:q="u" p:b="1" q:b="2"/>"#,
            "<a>]]></a>",
            "<a>&#0;</a>",
            "<a>\u{fffe}</a>",
            "<?xml version='1.1'?><a/>",
            "<?xml version='1.0' encoding='latin1'?><a/>",
            "<a\u{e9}/>",
        ] {
            assert!(Document::parse(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn deep_or_declaration_heavy_documents_are_left_to_roxmltree() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(Document::parse(&nested(MAX_DEPTH)).is_some());
        assert!(Document::parse(&nested(MAX_DEPTH + 1)).is_none());
        assert!(reference(&nested(MAX_DEPTH + 1)).is_some());
        let declarations = |n: usize| {
            let mut doc = String::from("<a");
            for i in 0..n {
                let _ = write!(doc, " xmlns:p{i}=\"urn:{i}\"");
            }
            doc.push_str("/>");
            doc
        };
        assert!(Document::parse(&declarations(MAX_DECLARATIONS)).is_some());
        assert!(Document::parse(&declarations(MAX_DECLARATIONS + 1)).is_none());
    }

    #[test]
    fn text_around_children_is_joined_as_roxmltree_joins_it() {
        for text in [
            "<a> x <b/> y </a>",
            "<a>\n  <b/>\n</a>",
            "<a>&lt;<b/>&gt;<c/></a>",
            "<a>  <b/>x&amp;y<c/>  </a>",
        ] {
            let doc = Document::parse(text).unwrap();
            let parsed = reference(text).unwrap();
            let converted = Document::from_roxmltree(parsed.root_element());
            assert_eq!(doc, converted, "{text:?}");
            let joined: String = reference(text)
                .unwrap()
                .root_element()
                .children()
                .filter(roxmltree::Node::is_text)
                .filter_map(|n| n.text())
                .collect();
            assert_eq!(doc.root().unwrap().text(), joined.trim_ascii(), "{text:?}");
        }
    }

    const PLAIN_DECLARATIONS: [&str; 4] = [
        "",
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "<?xml version='1.0'?>\n",
        r#"<?xml version="1.0" encoding="utf-8" standalone="yes" ?>"#,
    ];

    /// A random document; `plain` keeps to what [`Document::parse`] reads itself.
    fn document(rng: &mut fastrand::Rng, plain: bool) -> String {
        let mut out = String::new();
        let declarations: &[&str] = if plain {
            &PLAIN_DECLARATIONS
        } else {
            &[
                PLAIN_DECLARATIONS[0],
                PLAIN_DECLARATIONS[1],
                "<?xml version=\"1.1\"?>",
                "<?xml encoding=\"utf-8\"?>",
                "<?xml version=\"1.0\" standalone=\"maybe\"?>",
                "<?xml  version='1.0' encoding='latin1' ?>",
                " <?xml version='1.0'?>",
                "<!-- c -->",
            ]
        };
        out.push_str(declarations[rng.usize(..declarations.len())]);
        out.push_str(["", "\n", "  "][rng.usize(..3)]);
        element(rng, plain, 0, &mut Vec::new(), &mut out);
        out.push_str(["", "\n", " \n"][rng.usize(..3)]);
        out
    }

    fn element(
        rng: &mut fastrand::Rng,
        plain: bool,
        depth: usize,
        scope: &mut Vec<&'static str>,
        out: &mut String,
    ) {
        const PREFIXES: [&str; 4] = ["", "a", "ns1", "SOAP-ENV"];
        const LOCALS: [&str; 6] = ["Envelope", "Body", "item", "x", "a.b", "_c-d"];
        const URIS: [&str; 4] = ["urn:a", "urn:b", "http://x/y?a=1&amp;b=2", ""];
        let scoped = scope.len();
        let mut attributes = String::new();
        let mut declared: Vec<&str> = Vec::new();
        let mut prefix = PREFIXES[rng.usize(..PREFIXES.len())];
        for _ in 0..rng.usize(..3) {
            let p = PREFIXES[rng.usize(..PREFIXES.len())];
            if plain && declared.contains(&p) {
                continue;
            }
            let uri = URIS[rng.usize(..if plain { 2 } else { 4 })];
            let name = if p.is_empty() {
                "xmlns".to_owned()
            } else {
                format!("xmlns:{p}")
            };
            let _ = write!(attributes, " {name}=\"{uri}\"");
            declared.push(p);
            scope.push(p);
        }
        if plain && !prefix.is_empty() && !scope.contains(&prefix) {
            prefix = "";
        }
        let mut used: Vec<String> = Vec::new();
        for _ in 0..rng.usize(..3) {
            let p = if rng.bool() {
                ""
            } else {
                PREFIXES[rng.usize(1..PREFIXES.len())]
            };
            let local = ["k", "type", "nil", "id"][rng.usize(..4)];
            let qname = if p.is_empty() {
                local.to_owned()
            } else {
                format!("{p}:{local}")
            };
            if plain && (used.contains(&qname) || (!p.is_empty() && !scope.contains(&p))) {
                continue;
            }
            // Two prefixes bound to one URI make the same expanded name: keep plain ones unqualified.
            let qname = if plain && !p.is_empty() {
                local.to_owned()
            } else {
                qname
            };
            if plain && used.contains(&qname) {
                continue;
            }
            let quote = if rng.bool() { '"' } else { '\'' };
            let value = text(rng, plain, Some(quote));
            let _ = write!(attributes, " {qname}={quote}{value}{quote}");
            used.push(qname);
        }
        let name = if prefix.is_empty() {
            LOCALS[rng.usize(..LOCALS.len())].to_owned()
        } else {
            format!("{prefix}:{}", LOCALS[rng.usize(..LOCALS.len())])
        };
        out.push('<');
        out.push_str(&name);
        out.push_str(&attributes);
        out.push_str(["", " ", "\n "][rng.usize(..3)]);
        let children = if depth > 4 { 0 } else { rng.usize(..4) };
        if children == 0 && rng.bool() {
            out.push_str("/>");
        } else {
            out.push('>');
            for _ in 0..children {
                match rng.usize(..if plain { 2 } else { 4 }) {
                    0 => element(rng, plain, depth + 1, scope, out),
                    1 => out.push_str(&text(rng, plain, None)),
                    2 => {
                        out.push_str(["<!-- c -->", "<![CDATA[<x>]]>", "<?pi x?>"][rng.usize(..3)]);
                    }
                    _ => out.push_str(&text(rng, false, None)),
                }
            }
            out.push_str("</");
            out.push_str(&name);
            out.push_str(["", " ", "\n"][rng.usize(..3)]);
            out.push('>');
        }
        scope.truncate(scoped);
    }

    fn text(rng: &mut fastrand::Rng, plain: bool, quote: Option<char>) -> String {
        const PLAIN: [&str; 15] = [
            "abc",
            " ",
            "&amp;",
            "&lt;",
            "&gt;",
            "&#x41;",
            "&#65;",
            "Привет",
            "é",
            "&quot;",
            "&apos;",
            ">",
            "1.5",
            "&#13;",
            "&#x1F600;",
        ];
        const ODD: [&str; 16] = [
            "&",
            "<",
            "]]>",
            "\r",
            "\r\n",
            "&#0;",
            "&#xD800;",
            "&nbsp;",
            "\u{1}",
            "\u{fffe}",
            "&#x;",
            "&#-1;",
            "&#+65;",
            "\"",
            "'",
            "&#xFFFFFFFFF;",
        ];
        let mut out = String::new();
        for _ in 0..rng.usize(..4) {
            let odd = !plain && rng.usize(..3) == 0;
            let piece = if odd {
                ODD[rng.usize(..ODD.len())]
            } else {
                PLAIN[rng.usize(..PLAIN.len())]
            };
            out.push_str(piece);
            if quote.is_none() && !odd && rng.usize(..4) == 0 {
                out.push_str("\n  \t");
            }
        }
        if let Some(q) = quote.filter(|_| plain) {
            out.retain(|c| c != q);
        }
        out
    }

    /// A few random edits: deletions, insertions of markup, repeats.
    fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
        const SNIPPETS: [&str; 14] = [
            "<",
            ">",
            "/",
            "&",
            "\"",
            "'",
            "=",
            ":",
            " ",
            "xmlns:a=\"u\" ",
            "<!-- c -->",
            "</x>",
            "&#0;",
            "\u{fffe}",
        ];
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..rng.usize(1..4) {
            let at = rng.usize(..=chars.len());
            match rng.usize(..3) {
                0 => {
                    let end = (at + rng.usize(1..4)).min(chars.len());
                    chars.drain(at..end);
                }
                1 => {
                    let snippet = SNIPPETS[rng.usize(..SNIPPETS.len())];
                    chars.splice(at..at, snippet.chars());
                }
                _ => {
                    let end = (at + rng.usize(1..8)).min(chars.len());
                    let copy: Vec<char> = chars[at..end].to_vec();
                    let to = rng.usize(..=chars.len());
                    chars.splice(to..to, copy);
                }
            }
        }
        chars.into_iter().collect()
    }

    /// Whatever the compact reader accepts, roxmltree accepts and reads the same way.
    fn agrees_with_roxmltree(text: &str) -> Result<bool, TestCaseError> {
        let Some(doc) = Document::parse(text) else {
            return Ok(false);
        };
        let Some(reference) = reference(text) else {
            return Err(TestCaseError::fail(format!(
                "accepted what roxmltree refuses: {text:?}"
            )));
        };
        prop_assert_eq!(
            &doc,
            &Document::from_roxmltree(reference.root_element()),
            "{:?}",
            text
        );
        Ok(true)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn plain_documents_are_read_and_read_as_roxmltree_reads_them(seed: u64) {
            let text = document(&mut fastrand::Rng::with_seed(seed), true);
            prop_assert!(agrees_with_roxmltree(&text)?, "declined a plain document: {:?}", text);
        }

        #[test]
        fn odd_documents_are_declined_or_read_as_roxmltree_reads_them(seed: u64) {
            let text = document(&mut fastrand::Rng::with_seed(seed), false);
            agrees_with_roxmltree(&text)?;
        }

        #[test]
        fn mutated_documents_are_declined_or_read_as_roxmltree_reads_them(seed: u64) {
            let mut rng = fastrand::Rng::with_seed(seed);
            let plain = rng.bool();
            let original = document(&mut rng, plain);
            let text = mutate(&mut rng, &original);
            agrees_with_roxmltree(&text)?;
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(doc) = Document::parse(&text) {
                prop_assert!(reference(&text).is_some());
                let root = doc.root().unwrap();
                for c in root.children() {
                    let _ = (c.text(), c.attribute(None, "a"));
                }
            }
        }
    }
}
