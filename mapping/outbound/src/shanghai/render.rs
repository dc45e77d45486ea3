//! The Shanghai XML documents: the daily envelope of records, and the day's
//! aggregate figures. Every element name comes from the mapping.

use super::check::{check, InvalidRecords};
use super::mapping::ShanghaiMapping;
use super::records::{
    BloodUser, DataSet, DayRecords, Reaction, StockLine, Transfusion, UnitMovement,
};
use crate::xml::XmlOut;
use crate::{iso_time, quantity_text, Envelope};
use hemobridge_submission::{DailySubmission, Status};

/// How to write Shanghai documents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShanghaiConfig {
    /// The element names (default: `mappings/shanghai-2017.toml`).
    pub mapping: ShanghaiMapping,
}

/// The root's attributes: the spec version, and the namespace if any.
fn root_attributes(m: &ShanghaiMapping) -> Vec<(&str, &str)> {
    let mut attributes = vec![("specVersion", m.meta.spec_version.as_str())];
    if !m.meta.namespace.is_empty() {
        attributes.push(("xmlns", m.meta.namespace.as_str()));
    }
    attributes
}

/// The daily envelope: the header with the day and the count of records of
/// each data set, then every data set (present even when empty, so that "no
/// reactions today" is said, not implied).
///
/// The records are checked first; any bad field fails the whole document
/// with every error, path by path.
pub fn daily(
    day: &DayRecords,
    config: &ShanghaiConfig,
    envelope: &Envelope,
) -> Result<String, InvalidRecords> {
    check(day)?;
    let m = &config.mapping;
    let (e, d) = (&m.envelope, &m.data_sets);
    let records: usize = DataSet::ALL.iter().map(|s| day.count(*s)).sum();
    let mut out = XmlOut::new(1024 + records * 640);
    out.root(&e.root, &root_attributes(m));

    out.open(&e.header);
    out.text(&e.message_id, &envelope.message_id);
    out.text(&e.hospital, &day.hospital);
    out.text(&e.report_date, &day.date.to_string());
    out.text(&e.sender, &envelope.sender);
    out.text(&e.sent_at, &iso_time(&envelope.sent_at));
    out.open(&e.counts);
    for set in DataSet::ALL {
        let name = match set {
            DataSet::Receipts => &e.receipt_count,
            DataSet::Issues => &e.issue_count,
            DataSet::Stock => &e.stock_count,
            DataSet::Transfusions => &e.transfusion_count,
            DataSet::Reactions => &e.reaction_count,
            DataSet::Identities => &e.identity_count,
        };
        out.text(name, &day.count(set).to_string());
    }
    out.close(&e.counts);
    out.close(&e.header);

    let mut writer = RecordWriter {
        out: &mut out,
        m,
        hospital: &day.hospital,
    };
    writer.set(&d.receipts, &d.receipt, &day.receipts, |w, r| {
        w.movement(r, Movement::Receipt)
    });
    writer.set(&d.issues, &d.issue, &day.issues, |w, r| {
        w.movement(r, Movement::Issue)
    });
    writer.set(&d.stock, &d.stock_line, &day.stock, RecordWriter::stock);
    writer.set(
        &d.transfusions,
        &d.transfusion,
        &day.transfusions,
        RecordWriter::transfusion,
    );
    writer.set(
        &d.reactions,
        &d.reaction,
        &day.reactions,
        RecordWriter::reaction,
    );
    writer.set(
        &d.identities,
        &d.identity,
        &day.identities,
        RecordWriter::identity,
    );

    out.close(&e.root);
    Ok(out.finish())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Movement {
    Receipt,
    Issue,
}

struct RecordWriter<'a> {
    out: &'a mut XmlOut,
    m: &'a ShanghaiMapping,
    hospital: &'a str,
}

impl RecordWriter<'_> {
    /// A data set's container and one element per record (`<container/>`
    /// when there are none: "no reactions today" is said, not implied).
    fn set<T>(
        &mut self,
        container: &str,
        element: &str,
        records: &[T],
        mut write: impl FnMut(&mut Self, &T),
    ) {
        if records.is_empty() {
            self.out.empty(container);
            return;
        }
        self.out.open(container);
        for record in records {
            self.out.open(element);
            write(self, record);
            self.out.close(element);
        }
        self.out.close(container);
    }

    /// The fields that open every record.
    fn head(&mut self, record_id: &str, action: super::Action) {
        let f = &self.m.fields;
        self.out.text(&f.hospital, self.hospital);
        self.out.text(&f.record_id, record_id);
        self.out.text(&f.action, action.as_str());
    }

    #[allow(clippy::too_many_arguments)]
    fn product(
        &mut self,
        product: &str,
        name: Option<&str>,
        abo: Option<&str>,
        rh: Option<&str>,
        quantity: f64,
        measure: &str,
    ) {
        let f = &self.m.fields;
        self.out.text(&f.product_code, product);
        self.out.opt(&f.product_name, name);
        self.out.opt(&f.abo, abo);
        self.out.opt(&f.rh, rh);
        self.out.text(&f.quantity, &quantity_text(quantity));
        self.out.text(&f.measure, measure);
    }

    fn movement(&mut self, r: &UnitMovement, kind: Movement) {
        let f = &self.m.fields;
        self.head(&r.record_id, r.action);
        self.out.text(&f.din, &r.din);
        self.product(
            &r.product,
            r.product_name.as_deref(),
            r.abo.as_deref(),
            r.rh.as_deref(),
            r.quantity,
            &r.measure,
        );
        self.out
            .opt(&f.volume_ml, r.volume_ml.map(|v| v.to_string()).as_deref());
        let time = match kind {
            Movement::Receipt => &f.received_at,
            Movement::Issue => &f.issued_at,
        };
        self.out.text(time, &iso_time(&r.at));
        self.out
            .opt(&f.expires, r.expires.as_ref().map(iso_time).as_deref());
        match kind {
            Movement::Receipt => self.out.opt(&f.station, r.station.as_deref()),
            Movement::Issue => {
                self.out.opt(&f.ward, r.ward.as_deref());
                self.out.opt(&f.patient_key, r.patient_key.as_deref());
            }
        }
    }

    fn stock(&mut self, r: &StockLine) {
        self.head(&r.record_id, r.action);
        self.product(
            &r.product,
            r.product_name.as_deref(),
            r.abo.as_deref(),
            r.rh.as_deref(),
            r.quantity,
            &r.measure,
        );
        self.out.text(&self.m.fields.stock_at, &iso_time(&r.at));
    }

    fn transfusion(&mut self, r: &Transfusion) {
        let f = &self.m.fields;
        self.head(&r.record_id, r.action);
        self.out.text(&f.din, &r.din);
        self.product(
            &r.product,
            r.product_name.as_deref(),
            r.abo.as_deref(),
            r.rh.as_deref(),
            r.quantity,
            &r.measure,
        );
        self.out
            .opt(&f.volume_ml, r.volume_ml.map(|v| v.to_string()).as_deref());
        self.out.text(&f.started_at, &iso_time(&r.started_at));
        self.out
            .opt(&f.ended_at, r.ended_at.as_ref().map(iso_time).as_deref());
        self.out.text(&f.patient_key, &r.patient_key);
        self.out.opt(&f.ward, r.ward.as_deref());
        self.out
            .opt(&f.diagnosis_icd10, r.diagnosis_icd10.as_deref());
        self.out.opt(&f.diagnosis_name, r.diagnosis_name.as_deref());
    }

    fn reaction(&mut self, r: &Reaction) {
        let f = &self.m.fields;
        self.head(&r.record_id, r.action);
        self.out.opt(&f.din, r.din.as_deref());
        self.out.opt(&f.product_code, r.product.as_deref());
        self.out.text(&f.patient_key, &r.patient_key);
        self.out.text(&f.occurred_at, &iso_time(&r.at));
        self.out.text(&f.reaction_type, &r.category);
        self.out.text(&f.severity, &r.severity);
        self.out.opt(&f.description, r.description.as_deref());
    }

    fn identity(&mut self, r: &BloodUser) {
        let f = &self.m.fields;
        self.head(&r.record_id, r.action);
        self.out.text(&f.patient_key, &r.patient_key);
        self.out.opt(&f.name_masked, r.name_masked.as_deref());
        self.out.opt(&f.id_number_hash, r.id_number_hash.as_deref());
        self.out.opt(&f.id_type, r.id_type.as_deref());
        self.out.opt(&f.sex, r.sex.as_deref());
        self.out.opt(&f.abo, r.abo.as_deref());
        self.out.opt(&f.rh, r.rh.as_deref());
        self.out.opt(&f.donor_key, r.donor_key.as_deref());
        self.out.opt(&f.relationship, r.relationship.as_deref());
    }
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Submitted => "submitted",
        Status::Late => "late",
        Status::Amended => "amended",
    }
}

/// The day's aggregate figures (one version of the daily submission), the
/// Shanghai form of `GET /api/v1/daily/{hospital}/{date}?format=xml`.
pub fn daily_summary(s: &DailySubmission, config: &ShanghaiConfig) -> String {
    let m = &config.mapping;
    let (e, f, y) = (&m.envelope, &m.fields, &m.summary);
    let mut out = XmlOut::new(1024 + s.lines.len() * 700 + s.changes.len() * 120);
    out.root(&y.root, &root_attributes(m));
    out.text(&e.hospital, &s.hospital);
    out.text(&e.report_date, &s.date.to_string());
    out.text(&y.timezone, &s.timezone);
    out.text(&y.version, &s.version.to_string());
    out.text(&y.status, status_text(s.status));
    out.opt(&y.amends, s.amends.map(|v| v.to_string()).as_deref());
    out.text(&y.computed_at, &iso_time(&s.computed_at));

    out.list(&y.lines, &y.line, &s.lines, |out, line| {
        out.text(&f.product_code, &line.product);
        out.text(&y.category, &line.category);
        out.text(&f.measure, &line.measure);
        out.opt(&f.abo, line.abo.as_deref());
        out.opt(&f.rh, line.rh.as_deref());
        for (name, value) in [
            (&y.received, line.received),
            (&y.crossmatched, line.crossmatched),
            (&y.issued, line.issued),
            (&y.transfused, line.transfused),
            (&y.returned, line.returned),
            (&y.discarded, line.discarded),
            (&y.transferred, line.transferred),
            (&y.stock_computed, line.stock_computed),
        ] {
            out.text(name, &quantity_text(value));
        }
        out.opt(
            &y.stock_reported,
            line.stock_reported.map(quantity_text).as_deref(),
        );
        out.opt(
            &y.stock_difference,
            line.stock_difference.map(quantity_text).as_deref(),
        );
    });
    out.text(&y.patients_transfused, &s.patients_transfused.to_string());
    out.list(
        &y.reaction_counts,
        &y.reaction_count,
        &s.reactions,
        |out, r| {
            out.text(&f.reaction_type, &r.kind);
            out.text(&f.severity, &r.severity);
            out.text(&y.count, &r.count.to_string());
        },
    );
    out.list(&y.discards, &y.discard, &s.discards, |out, d| {
        out.text(&f.product_code, &d.product);
        out.text(&y.reason, &d.reason);
        out.text(&f.quantity, &quantity_text(d.quantity));
    });
    out.list(&y.changes, &y.change, &s.changes, |out, c| {
        out.text(&y.path, &c.path);
        out.opt(&y.from, c.from.map(quantity_text).as_deref());
        out.opt(&y.to, c.to.map(quantity_text).as_deref());
    });
    out.close(&y.root);
    out.finish()
}
