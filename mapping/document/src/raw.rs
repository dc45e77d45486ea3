//! The neutral form of a record, between syntax and meaning.
//!
//! The XML and JSON readers only know their syntax: they turn an element or
//! an object into a [`RawRecord`] (named values, borrowed from the input
//! where possible) and leave every rule to [`crate::build`], so that each
//! rule is written once and both syntaxes answer the same.

use std::borrow::Cow;

/// A value as the syntax gave it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// An XML attribute (unescaped) or a JSON string.
    Text(Cow<'a, str>),
    /// A JSON number; accepted where the field is numeric.
    Number(serde_json::Number),
    /// Any other JSON value (`null`, a boolean, an array, an object), named
    /// for the error message; never valid.
    Other(&'static str),
}

/// One named value of a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawField<'a> {
    pub name: Cow<'a, str>,
    pub value: Value<'a>,
}

/// A record, or a child of one (a `Dispatch` unit, a `Stock` item).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RawRecord<'a> {
    pub fields: Vec<RawField<'a>>,
    /// Children in document order, already checked to be of the kind the
    /// record allows; `None` for an entry that was not a record at all
    /// (already reported), kept so that later indexes stay right.
    pub children: Vec<Option<RawRecord<'a>>>,
}

impl RawRecord<'_> {
    /// Empties the record, keeping its allocations for the next one.
    pub(crate) fn clear(&mut self) {
        self.fields.clear();
        self.children.clear();
    }
}
