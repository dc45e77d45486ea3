//! A thin writer over quick-xml: elements with escaped text, nothing else.
//! Writing into a `Vec<u8>` cannot fail, so the methods do not return
//! errors.

use quick_xml::escape::escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub(crate) struct XmlOut {
    writer: Writer<Vec<u8>>,
}

const INFALLIBLE: &str = "writing XML into memory cannot fail";

impl XmlOut {
    /// A document with its UTF-8 declaration, indented by two spaces.
    pub fn new(capacity: usize) -> XmlOut {
        let mut writer = Writer::new_with_indent(Vec::with_capacity(capacity), b' ', 2);
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect(INFALLIBLE);
        XmlOut { writer }
    }

    /// Opens the root element with its attributes.
    pub fn root(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, *value));
        }
        self.writer
            .write_event(Event::Start(start))
            .expect(INFALLIBLE);
    }

    pub fn open(&mut self, name: &str) {
        self.writer
            .write_event(Event::Start(BytesStart::new(name)))
            .expect(INFALLIBLE);
    }

    pub fn close(&mut self, name: &str) {
        self.writer
            .write_event(Event::End(BytesEnd::new(name)))
            .expect(INFALLIBLE);
    }

    /// `<name/>`: an empty list says "none", it is not left out.
    pub fn empty(&mut self, name: &str) {
        self.writer
            .write_event(Event::Empty(BytesStart::new(name)))
            .expect(INFALLIBLE);
    }

    /// A container element holding one element per item (`<name/>` when
    /// there are none); `each` writes an item's content.
    pub fn list<T>(
        &mut self,
        container: &str,
        element: &str,
        items: &[T],
        mut each: impl FnMut(&mut XmlOut, &T),
    ) {
        if items.is_empty() {
            self.empty(container);
            return;
        }
        self.open(container);
        for item in items {
            self.open(element);
            each(self, item);
            self.close(element);
        }
        self.close(container);
    }

    /// `<name>text</name>`, the text escaped.
    pub fn text(&mut self, name: &str, text: &str) {
        let content = if text.contains('\r') {
            // A reader turns a literal CR into LF (XML line-end
            // normalization); a character reference keeps it.
            BytesText::from_escaped(escape(text).replace('\r', "&#13;"))
        } else {
            BytesText::new(text)
        };
        self.writer
            .create_element(name)
            .write_text_content(content)
            .expect(INFALLIBLE);
    }

    /// The element only where there is a value.
    pub fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.text(name, text);
        }
    }

    pub fn finish(self) -> String {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).expect("every piece written was a &str")
    }
}
