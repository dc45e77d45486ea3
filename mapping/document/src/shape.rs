//! The shapes of the document: which records exist, which fields each one
//! has, which are required, and which children it may hold.
//!
//! This table is the parser's single statement of the structure in
//! `domain/hbx-document.md`; both readers look names up here, and a test
//! checks that the published XSD and JSON Schema declare the same fields
//! with the same required set.

use crate::error::{Errors, Path};
use crate::raw::{RawField, Value};

/// What a shape describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Report,
    Patient,
    Donation,
    Dispatch,
    Unit,
    Received,
    Crossmatched,
    Issued,
    Transfused,
    Returned,
    Transferred,
    Discarded,
    Reaction,
    Stock,
    Item,
    WaiverClaim,
}

#[derive(Debug)]
pub(crate) struct FieldSpec {
    /// The XML attribute name, also the name the rules use.
    pub name: &'static str,
    /// The JSON field name where it differs: `Reaction@type` is
    /// `reactionType` in JSON, since `type` names the record there.
    pub json: Option<&'static str>,
    pub required: bool,
}

impl FieldSpec {
    pub(crate) fn name_in(&self, syntax: Syntax) -> &'static str {
        match (syntax, self.json) {
            (Syntax::Json, Some(json)) => json,
            _ => self.name,
        }
    }
}

/// The children a record may hold: `<Unit>` elements in XML, a `units`
/// array in JSON.
#[derive(Debug)]
pub(crate) struct ChildSpec {
    pub xml: &'static str,
    pub json: &'static str,
    /// Whether at least one child is required.
    pub required: bool,
    pub shape: &'static Shape,
}

#[derive(Debug)]
pub(crate) struct Shape {
    pub kind: Kind,
    /// The XML element name and the JSON `type` value.
    pub name: &'static str,
    pub fields: &'static [FieldSpec],
    pub child: Option<ChildSpec>,
}

/// The most fields any shape has; bound values live in a fixed array.
pub(crate) const MAX_FIELDS: usize = 10;

const fn req(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        json: None,
        required: true,
    }
}

const fn opt(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        json: None,
        required: false,
    }
}

const fn shape(kind: Kind, name: &'static str, fields: &'static [FieldSpec]) -> Shape {
    Shape {
        kind,
        name,
        fields,
        child: None,
    }
}

/// The document element's attributes (the JSON top-level fields besides
/// `records`).
pub(crate) static REPORT: Shape = shape(
    Kind::Report,
    "Report",
    &[req("documentId"), req("facility"), opt("generatedAt")],
);

static UNIT: Shape = shape(
    Kind::Unit,
    "Unit",
    &[
        req("unit"),
        req("product"),
        opt("abo"),
        opt("rh"),
        opt("volumeMl"),
        opt("quantity"),
        opt("expires"),
        req("collectedAt"),
        opt("donorKey"),
    ],
);

static ITEM: Shape = shape(
    Kind::Item,
    "Item",
    &[
        req("product"),
        opt("abo"),
        opt("rh"),
        req("quantity"),
        req("measure"),
    ],
);

/// Every record kind, in the order of the spec's table.
pub(crate) static RECORDS: [Shape; 13] = [
    shape(
        Kind::Patient,
        "Patient",
        &[
            req("key"),
            opt("idType"),
            opt("idNumber"),
            opt("name"),
            opt("sex"),
            opt("birthDate"),
            opt("abo"),
            opt("rh"),
        ],
    ),
    shape(
        Kind::Donation,
        "Donation",
        &[
            req("unit"),
            req("donorKey"),
            opt("donorIdNumber"),
            opt("donorName"),
            req("kind"),
            req("volumeMl"),
            req("at"),
        ],
    ),
    Shape {
        kind: Kind::Dispatch,
        name: "Dispatch",
        fields: &[req("station"), req("to"), req("at")],
        child: Some(ChildSpec {
            xml: "Unit",
            json: "units",
            required: true,
            shape: &UNIT,
        }),
    },
    shape(
        Kind::Received,
        "Received",
        &[
            req("unit"),
            req("product"),
            opt("abo"),
            opt("rh"),
            opt("volumeMl"),
            opt("quantity"),
            opt("expires"),
            req("from"),
            req("at"),
        ],
    ),
    shape(
        Kind::Crossmatched,
        "Crossmatched",
        &[
            req("unit"),
            req("product"),
            req("patient"),
            req("result"),
            req("at"),
        ],
    ),
    shape(
        Kind::Issued,
        "Issued",
        &[
            req("unit"),
            req("product"),
            req("patient"),
            opt("ward"),
            req("at"),
        ],
    ),
    shape(
        Kind::Transfused,
        "Transfused",
        &[
            req("unit"),
            req("product"),
            req("patient"),
            req("start"),
            req("end"),
            opt("volumeMl"),
            opt("diagnosis"),
        ],
    ),
    shape(
        Kind::Returned,
        "Returned",
        &[req("unit"), req("product"), opt("reason"), req("at")],
    ),
    shape(
        Kind::Transferred,
        "Transferred",
        &[req("unit"), req("product"), req("to"), req("at")],
    ),
    shape(
        Kind::Discarded,
        "Discarded",
        &[req("unit"), req("product"), req("reason"), req("at")],
    ),
    shape(
        Kind::Reaction,
        "Reaction",
        &[
            req("unit"),
            req("product"),
            req("patient"),
            FieldSpec {
                name: "type",
                json: Some("reactionType"),
                required: true,
            },
            req("severity"),
            opt("outcome"),
            req("at"),
        ],
    ),
    Shape {
        kind: Kind::Stock,
        name: "Stock",
        fields: &[req("at")],
        child: Some(ChildSpec {
            xml: "Item",
            json: "items",
            required: false,
            shape: &ITEM,
        }),
    },
    shape(
        Kind::WaiverClaim,
        "WaiverClaim",
        &[
            req("claimId"),
            req("patient"),
            req("donorIdNumber"),
            opt("donorName"),
            req("relationship"),
            req("bloodFee"),
            req("dischargedAt"),
            req("unitsUsedMl"),
        ],
    ),
];

/// The record shape of that element name / JSON `type`.
pub(crate) fn record(name: &str) -> Option<&'static Shape> {
    RECORDS.iter().find(|s| s.name == name)
}

/// Whether an error is worded for XML attributes or JSON fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Xml,
    Json,
}

impl Syntax {
    fn field_word(self) -> &'static str {
        match self {
            Syntax::Xml => "attribute",
            Syntax::Json => "field",
        }
    }
}

/// A record's values put in the shape's field order.
pub(crate) struct Bound<'r, 'a> {
    pub shape: &'static Shape,
    pub syntax: Syntax,
    values: [Option<&'r Value<'a>>; MAX_FIELDS],
}

impl<'r, 'a> Bound<'r, 'a> {
    /// The value of a field (by its XML name), if present. Asking for a name
    /// the shape does not have is a bug in this crate, caught by the tests.
    pub(crate) fn get(&self, name: &str) -> Option<&'r Value<'a>> {
        self.index(name).and_then(|i| self.values[i])
    }

    /// The field's name as the sender wrote it, for error paths.
    pub(crate) fn name_as_sent(&self, name: &'static str) -> &'static str {
        self.index(name)
            .map_or(name, |i| self.shape.fields[i].name_in(self.syntax))
    }

    fn index(&self, name: &str) -> Option<usize> {
        let index = self.shape.fields.iter().position(|f| f.name == name);
        debug_assert!(index.is_some(), "{} has no field {name}", self.shape.name);
        index
    }
}

/// Puts the fields of one element into its shape, reporting unknown and
/// repeated names and missing required fields.
pub(crate) fn bind<'r, 'a>(
    shape: &'static Shape,
    fields: &'r [RawField<'a>],
    path: Path,
    syntax: Syntax,
    errors: &mut Errors,
) -> Bound<'r, 'a> {
    let mut values = [None; MAX_FIELDS];
    for field in fields {
        match shape
            .fields
            .iter()
            .position(|f| f.name_in(syntax) == field.name)
        {
            Some(i) if values[i].is_some() => {
                errors.push(
                    path.field(&field.name),
                    format!("repeated {}", syntax.field_word()),
                );
            }
            Some(i) => values[i] = Some(&field.value),
            None => errors.push(
                path.field(&field.name),
                format!("unknown {} in {}", syntax.field_word(), shape.name),
            ),
        }
    }
    for (spec, value) in shape.fields.iter().zip(values) {
        if spec.required && value.is_none() {
            errors.push(path.field(spec.name_in(syntax)), "is required");
        }
    }
    Bound {
        shape,
        syntax,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn shapes_fit_the_fixed_array_and_names_are_unique() {
        let all = RECORDS
            .iter()
            .chain([&REPORT, &UNIT, &ITEM])
            .collect::<Vec<_>>();
        for s in all {
            assert!(s.fields.len() <= MAX_FIELDS, "{}", s.name);
            for (i, f) in s.fields.iter().enumerate() {
                assert!(
                    s.fields[i + 1..].iter().all(|g| g.name != f.name),
                    "{}.{}",
                    s.name,
                    f.name
                );
            }
        }
    }

    #[test]
    fn bind_reports_unknown_repeated_and_missing() {
        let field = |name: &'static str| RawField {
            name: Cow::Borrowed(name),
            value: Value::Text(Cow::Borrowed("x")),
        };
        let fields = [field("unit"), field("unit"), field("colour")];
        let mut errors = Errors::default();
        let shape = record("Returned").unwrap();
        let bound = bind(shape, &fields, Path::Record(4), Syntax::Json, &mut errors);
        assert!(bound.get("unit").is_some());
        assert!(bound.get("reason").is_none());
        let Err(crate::ReadError::Invalid(list)) = errors.into_result(()) else {
            panic!()
        };
        let got: Vec<String> = list.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            got,
            [
                "records[4].unit: repeated field",
                "records[4].colour: unknown field in Returned",
                "records[4].product: is required",
                "records[4].at: is required",
            ]
        );
    }

    /// The XSD's complex types: attributes (name, required) and the child
    /// element (name, required), or for `Report` the record elements.
    type XsdType = (Vec<(String, bool)>, Vec<(String, bool)>);

    fn xsd_types(xsd: &str) -> std::collections::HashMap<String, XsdType> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xsd);
        let mut types = std::collections::HashMap::new();
        let mut current: Option<String> = None;
        loop {
            let event = reader.read_event().unwrap();
            let (Event::Start(e) | Event::Empty(e)) = &event else {
                match event {
                    Event::End(e) if e.name().as_ref() == b"xs:complexType" => current = None,
                    Event::Eof => return types,
                    _ => {}
                }
                continue;
            };
            let attr = |name: &str| {
                e.try_get_attribute(name)
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned())
            };
            match e.name().as_ref() {
                b"xs:complexType" => {
                    let name = attr("name").expect("named complex type");
                    types.insert(name.clone(), (Vec::new(), Vec::new()));
                    current = Some(name);
                }
                b"xs:attribute" => {
                    let t = types.get_mut(current.as_ref().unwrap()).unwrap();
                    t.0.push((
                        attr("name").unwrap(),
                        attr("use").as_deref() == Some("required"),
                    ));
                }
                b"xs:element" if current.is_some() => {
                    let t = types.get_mut(current.as_ref().unwrap()).unwrap();
                    t.1.push((
                        attr("name").unwrap(),
                        attr("minOccurs").as_deref() != Some("0"),
                    ));
                }
                _ => {}
            }
        }
    }

    #[test]
    fn published_schemas_declare_exactly_these_shapes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema");
        let xsd = std::fs::read_to_string(dir.join("report-1.xsd")).unwrap();
        let xsd = xsd_types(&xsd);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report-1.schema.json")).unwrap())
                .unwrap();
        let records: Vec<(String, bool)> = RECORDS.iter().map(|s| (s.name.into(), true)).collect();
        assert_eq!(xsd["Report"].1, records, "Report's record elements");
        let json_types: Vec<&str> = json["$defs"]["Record"]["properties"]["type"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            json_types,
            RECORDS.iter().map(|s| s.name).collect::<Vec<_>>()
        );

        for shape in RECORDS.iter().chain([&REPORT, &UNIT, &ITEM]) {
            let fields: Vec<(String, bool)> = shape
                .fields
                .iter()
                .map(|f| (f.name.to_owned(), f.required))
                .collect();
            let (attributes, children) = &xsd[shape.name];
            assert_eq!(attributes, &fields, "XSD attributes of {}", shape.name);
            if shape.kind != Kind::Report {
                let child: Vec<(String, bool)> = shape
                    .child
                    .iter()
                    .map(|c| (c.xml.to_owned(), c.required))
                    .collect();
                assert_eq!(children, &child, "XSD children of {}", shape.name);
            }

            let def = &json["$defs"][shape.name];
            assert_eq!(def["additionalProperties"], false, "{}", shape.name);
            let mut want_props: Vec<&str> = shape
                .fields
                .iter()
                .map(|f| f.name_in(Syntax::Json))
                .collect();
            let mut want_required: Vec<&str> = shape
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name_in(Syntax::Json))
                .collect();
            if record(shape.name).is_some() {
                want_props.push("type");
                want_required.push("type");
                assert_eq!(def["properties"]["type"]["const"], shape.name);
            }
            if shape.kind == Kind::Report {
                want_props.push("records");
                want_required.push("records");
            }
            if let Some(c) = &shape.child {
                want_props.push(c.json);
                if c.required {
                    want_required.push(c.json);
                }
            }
            let mut props: Vec<&str> = def["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut required: Vec<&str> = def["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for list in [
                &mut want_props,
                &mut want_required,
                &mut props,
                &mut required,
            ] {
                list.sort_unstable();
            }
            assert_eq!(props, want_props, "JSON properties of {}", shape.name);
            assert_eq!(required, want_required, "JSON required of {}", shape.name);
        }
    }
}
