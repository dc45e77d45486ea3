//! The XML syntax: a streaming pass over the document with quick-xml (no
//! DOM), turning each record element into a [`RawRecord`] for the builder.
//!
//! Strictness is the point: an element or attribute the spec does not name
//! is an error with its path, so a typo (`prodcut=`) is caught instead of
//! silently dropping a field. Well-formedness problems, a DTD, or bytes that
//! do not decode make the document unreadable; everything else is reported
//! as an invalid field and the pass goes on to find the other errors.

use crate::build::Builder;
use crate::encoding;
use crate::error::{quote, Path, ReadError};
use crate::raw::{RawField, RawRecord, Value};
use crate::shape::{self, Shape, Syntax};
use crate::{Config, Document};
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;
use std::borrow::Cow;

/// The document's namespace; the root must be `Report` in it.
pub const NAMESPACE: &str = "urn:hemobridge:report:1";

const XSI: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

/// Reads a whole XML document.
pub(crate) fn read(bytes: &[u8], cfg: &Config) -> Result<Document, ReadError> {
    let text = encoding::decode(bytes).map_err(ReadError::Unreadable)?;
    let mut pass = Pass {
        text: &text,
        reader: NsReader::from_str(&text),
        builder: Builder::new(cfg, Syntax::Xml),
        depth: 0,
        skip_to: None,
        root_seen: false,
        next_index: 0,
        open: None,
        raw: RawRecord::default(),
    };
    pass.run()?;
    pass.builder.finish()
}

/// Reads only the root element's `documentId` and `facility`, without
/// decoding or validating the rest of the document.
pub(crate) fn peek(bytes: &[u8]) -> Option<(String, String)> {
    let (encoding, start) = encoding::sniff(bytes).ok()?;
    // Markup is ASCII in every supported encoding, and no GBK/GB18030
    // multi-byte sequence contains `<`, `>`, `"`, `'` or `&`, so the raw
    // bytes can be scanned and only the two values decoded.
    let mut reader = NsReader::from_reader(&bytes[start..]);
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let ours = is_ours(&ns);
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if !ours || e.local_name().as_ref() != b"Report" {
                    return None;
                }
                let value = |name: &[u8]| -> Option<String> {
                    let attr = e.try_get_attribute(name).ok()??;
                    let text = encoding
                        .decode_without_bom_handling_and_without_replacement(&attr.value)?;
                    quick_xml::escape::unescape(&text).ok().map(Cow::into_owned)
                };
                return Some((value(b"documentId")?, value(b"facility")?));
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Text(_) => {}
            _ => return None,
        }
    }
}

fn is_ours(ns: &ResolveResult<'_>) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == NAMESPACE.as_bytes())
}

/// XML's own white space (not form feed or vertical tab).
fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The record element being read (its children arrive as later events).
struct Open {
    index: usize,
    shape: &'static Shape,
}

struct Pass<'i, 'c> {
    text: &'i str,
    reader: NsReader<&'i [u8]>,
    builder: Builder<'c>,
    /// Elements open around the current event.
    depth: usize,
    /// While skipping an unknown element's content: the depth to return to.
    skip_to: Option<usize>,
    root_seen: bool,
    next_index: usize,
    open: Option<Open>,
    /// The current record's fields and children; reused between records.
    raw: RawRecord<'i>,
}

impl<'i> Pass<'i, '_> {
    fn run(&mut self) -> Result<(), ReadError> {
        loop {
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok(pair) => pair,
                Err(err) => {
                    return Err(ReadError::Unreadable(format!(
                        "not well-formed XML at offset {}: {err}",
                        self.reader.error_position()
                    )))
                }
            };
            let ours = is_ours(&ns);
            match event {
                Event::Start(e) => self.element(ours, &e, false)?,
                Event::Empty(e) => self.element(ours, &e, true)?,
                Event::End(_) => self.end(),
                Event::Text(t) => self.text(&t)?,
                Event::CData(t) => self.text(&t)?,
                Event::DocType(_) => {
                    return Err(ReadError::Unreadable(
                        "a DOCTYPE is not allowed (no DTDs, no entities)".into(),
                    ))
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if !self.root_seen {
                        return Err(ReadError::Unreadable("no root element".into()));
                    }
                    if self.depth > 0 {
                        return Err(ReadError::Unreadable(
                            "the document ends inside an element".into(),
                        ));
                    }
                    return Ok(());
                }
            }
        }
    }

    fn element(&mut self, ours: bool, e: &BytesStart<'i>, empty: bool) -> Result<(), ReadError> {
        if self.skip_to.is_some() {
            self.depth += usize::from(!empty);
            return Ok(());
        }
        let local = std::str::from_utf8(e.local_name().into_inner()).unwrap_or("");
        match self.depth {
            0 => self.root(ours, local, e)?,
            1 => self.record_start(ours, local, e, empty)?,
            2 => self.child_start(ours, local, e, empty)?,
            _ => {
                let path = self.child_path();
                self.unexpected(path, e, empty);
            }
        }
        self.depth += usize::from(!empty);
        Ok(())
    }

    fn root(&mut self, ours: bool, local: &str, e: &BytesStart<'i>) -> Result<(), ReadError> {
        if self.root_seen {
            return Err(ReadError::Unreadable("more than one root element".into()));
        }
        self.root_seen = true;
        if !ours || local != "Report" {
            self.builder.errors.push(
                Path::Envelope.to_string(),
                format!("the root element must be Report in the namespace {NAMESPACE}"),
            );
            // Nothing below a foreign root can be read as records.
            return Err(self.invalid());
        }
        self.raw.clear();
        self.attributes(e, Path::Envelope)?;
        self.builder.envelope(&self.raw);
        Ok(())
    }

    fn record_start(
        &mut self,
        ours: bool,
        local: &str,
        e: &BytesStart<'i>,
        empty: bool,
    ) -> Result<(), ReadError> {
        let index = self.next_index;
        self.next_index += 1;
        let shape = if ours { shape::record(local) } else { None };
        let Some(shape) = shape else {
            self.builder.skipped(index);
            self.builder.errors.push(
                Path::Record(index).to_string(),
                format!("unknown element {}", quote(qname(e))),
            );
            self.skip_to = (!empty).then_some(self.depth);
            return Ok(());
        };
        self.raw.clear();
        self.attributes(e, Path::Record(index))?;
        if empty {
            self.finish_record(index, shape);
        } else {
            self.open = Some(Open { index, shape });
        }
        Ok(())
    }

    fn child_start(
        &mut self,
        ours: bool,
        local: &str,
        e: &BytesStart<'i>,
        empty: bool,
    ) -> Result<(), ReadError> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        let (index, shape) = (open.index, open.shape);
        let child = shape.child.as_ref().filter(|c| ours && c.xml == local);
        let Some(child) = child else {
            self.unexpected(Path::Record(index), e, empty);
            return Ok(());
        };
        let path = Path::Child {
            record: index,
            list: child.json,
            index: self.raw.children.len(),
        };
        let mut fields = Vec::new();
        self.read_attributes(e, path, &mut fields)?;
        self.raw.children.push(Some(RawRecord {
            fields,
            children: Vec::new(),
        }));
        Ok(())
    }

    /// An element that may not stand here: reported, and its content
    /// skipped.
    fn unexpected(&mut self, path: Path, e: &BytesStart<'_>, empty: bool) {
        self.builder.errors.push(
            path.to_string(),
            format!("unexpected element {}", quote(qname(e))),
        );
        if !empty {
            self.skip_to = Some(self.depth);
        }
    }

    fn end(&mut self) {
        self.depth -= 1;
        if let Some(to) = self.skip_to {
            if self.depth == to {
                self.skip_to = None;
            }
            return;
        }
        if self.depth == 1 {
            if let Some(open) = self.open.take() {
                self.finish_record(open.index, open.shape);
            }
        }
    }

    fn finish_record(&mut self, index: usize, shape: &'static Shape) {
        self.builder.record(index, shape, &self.raw);
    }

    /// Character data: white space may separate elements; records and their
    /// children are empty elements and hold none at all.
    fn text(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        if self.skip_to.is_some() || bytes.is_empty() {
            return Ok(());
        }
        let blank = is_blank(bytes);
        match self.depth {
            0 if blank => {}
            0 => {
                return Err(ReadError::Unreadable(
                    "text outside the root element".into(),
                ))
            }
            1 if blank => {}
            1 => self
                .builder
                .errors
                .push("document", "text between records is not allowed"),
            2 => {
                let Some(open) = &self.open else {
                    return Ok(());
                };
                if !(blank && open.shape.child.is_some()) {
                    let what = if open.shape.child.is_some() {
                        format!("{} holds only elements, no text", open.shape.name)
                    } else {
                        format!("{} must be empty (attributes only)", open.shape.name)
                    };
                    self.builder
                        .errors
                        .push(Path::Record(open.index).to_string(), what);
                }
            }
            _ => {
                let path = self.child_path();
                self.builder
                    .errors
                    .push(path.to_string(), "must be empty (attributes only)");
            }
        }
        Ok(())
    }

    /// The path of the child element being read.
    fn child_path(&self) -> Path {
        match &self.open {
            Some(open) => Path::Child {
                record: open.index,
                list: open.shape.child.as_ref().map_or("children", |c| c.json),
                index: self.raw.children.len().saturating_sub(1),
            },
            None => Path::Envelope,
        }
    }

    fn attributes(&mut self, e: &BytesStart<'i>, path: Path) -> Result<(), ReadError> {
        let mut fields = std::mem::take(&mut self.raw.fields);
        let result = self.read_attributes(e, path, &mut fields);
        self.raw.fields = fields;
        result
    }

    /// Reads an element's attributes as fields, borrowing from the input.
    /// Namespace declarations and `xsi:schemaLocation` are not fields; an
    /// attribute in any other namespace is unknown.
    fn read_attributes(
        &mut self,
        e: &BytesStart<'i>,
        path: Path,
        fields: &mut Vec<RawField<'i>>,
    ) -> Result<(), ReadError> {
        for attr in self.input_attributes(e)? {
            let attr = attr.map_err(|err| {
                ReadError::Unreadable(format!("not well-formed XML in {path}: {err}"))
            })?;
            if attr.key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, local) = self.reader.resolve_attribute(attr.key);
            match ns {
                ResolveResult::Unbound => {}
                ResolveResult::Bound(Namespace(n))
                    if n == XSI
                        && matches!(
                            local.as_ref(),
                            b"schemaLocation" | b"noNamespaceSchemaLocation"
                        ) =>
                {
                    continue;
                }
                _ => {
                    let name = String::from_utf8_lossy(attr.key.as_ref());
                    self.builder.errors.push(
                        path.field(&name),
                        "unknown attribute (attributes take no prefix)",
                    );
                    continue;
                }
            }
            let value = attr.unescape_value().map_err(|err| {
                ReadError::Unreadable(format!("not well-formed XML in {path}: {err}"))
            })?;
            let name = std::str::from_utf8(attr.key.into_inner()).unwrap_or("");
            fields.push(RawField {
                name: Cow::Borrowed(name),
                value: Value::Text(value),
            });
        }
        Ok(())
    }

    /// The attributes of a tag as slices of the input text, so that names
    /// and values (without escapes) are borrowed rather than copied.
    fn input_attributes(&self, e: &BytesStart<'i>) -> Result<Attributes<'i>, ReadError> {
        let text: &'i str = self.text;
        let content: &[u8] = e;
        let tag = (content.as_ptr() as usize)
            .checked_sub(text.as_ptr() as usize)
            .and_then(|start| text.get(start..start + content.len()))
            .ok_or_else(|| ReadError::Unreadable("internal: tag outside the input".into()))?;
        Ok(Attributes::new(tag, e.name().as_ref().len()))
    }

    /// Stops the pass with the errors found so far.
    fn invalid(&mut self) -> ReadError {
        let errors = std::mem::take(&mut self.builder.errors);
        match errors.into_result(()) {
            Err(e) => e,
            Ok(()) => ReadError::Invalid(Vec::new()),
        }
    }
}

fn qname<'a>(e: &'a BytesStart<'_>) -> &'a str {
    std::str::from_utf8(e.name().into_inner()).unwrap_or("?")
}
