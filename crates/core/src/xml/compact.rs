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
        parser::Parser::new(text).run()
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
        if !more.bytes().all(parser::is_space) {
            *text = more;
        }
    } else if !more.is_empty() {
        text.to_mut().push_str(&more);
    }
}

mod parser;
#[cfg(test)]
mod tests;
