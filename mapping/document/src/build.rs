//! From neutral records to canonical facts: every rule of the document that
//! is not syntax lives here, once for XML and JSON.
//!
//! The readers call [`Builder::envelope`] once, [`Builder::record`] for each
//! record in document order, and [`Builder::finish`]. Validation goes on
//! after the first error so the answer lists them all; a document with any
//! error yields no facts (all or nothing).

use crate::error::{Errors, Path, ReadError};
use crate::model::{
    Document, Donation, DonationKind, Relationship, StockItem, StockReport, WaiverClaim,
};
use crate::raw::{RawRecord, Value};
use crate::shape::{self, Bound, Kind, Shape, Syntax};
use crate::values::{self, Problem};
use crate::Config;
use chrono::{DateTime, FixedOffset};
use hemobridge_canonical::{
    BloodGroup, BloodUnit, EventDetail, EventKind, IdType, Measure, Modifiers, Normalized, Patient,
    ReactionCategory, Severity, Sex, UnitEvent, UnitKey,
};

const CROSSMATCH_RESULTS: [(&str, &str); 2] = [
    ("compatible", "compatible"),
    ("incompatible", "incompatible"),
];
const SEVERITIES: [(&str, Severity); 4] = [
    ("mild", Severity::Mild),
    ("moderate", Severity::Moderate),
    ("severe", Severity::Severe),
    ("death", Severity::Death),
];
/// The spec's words for [`DiscardReason`]; the event keeps the word.
const DISCARD_REASONS: [(&str, &str); 5] = [
    ("expired", "expired"),
    ("damaged", "damaged"),
    ("hemolysis", "hemolysis"),
    ("returned-late", "returned-late"),
    ("other", "other"),
];
const ID_TYPES: [(&str, IdType); 3] = [
    ("resident-id", IdType::ResidentId),
    ("passport", IdType::Passport),
    ("other", IdType::Other),
];
const SEXES: [(&str, Sex); 3] = [("M", Sex::M), ("F", Sex::F), ("U", Sex::U)];
const MEASURES: [(&str, Measure); 3] = [
    ("U", Measure::U),
    ("mL", Measure::Ml),
    ("dose", Measure::Dose),
];

/// Collects the facts and errors of one document.
pub(crate) struct Builder<'c> {
    cfg: &'c Config,
    syntax: Syntax,
    pub(crate) errors: Errors,
    document_id: String,
    facility: String,
    generated_at: Option<DateTime<FixedOffset>>,
    records: usize,
    facts: Normalized,
    stock: Vec<StockReport>,
    waiver_claims: Vec<WaiverClaim>,
    donations: Vec<Donation>,
}

impl<'c> Builder<'c> {
    pub(crate) fn new(cfg: &'c Config, syntax: Syntax) -> Self {
        Builder {
            cfg,
            syntax,
            errors: Errors::default(),
            document_id: String::new(),
            facility: String::new(),
            generated_at: None,
            records: 0,
            facts: Normalized::default(),
            stock: Vec::new(),
            waiver_claims: Vec::new(),
            donations: Vec::new(),
        }
    }

    /// The document's own fields; must come before any record, since every
    /// event carries the facility.
    pub(crate) fn envelope(&mut self, raw: &RawRecord<'_>) {
        let mut r = self.bind(&shape::REPORT, raw, Path::Envelope);
        let document_id = r.take("documentId", values::code);
        let facility = r.take("facility", values::code);
        let generated_at = r.take_time("generatedAt");
        self.document_id = document_id.unwrap_or_default().to_owned();
        self.facility = facility.unwrap_or_default().to_owned();
        self.generated_at = generated_at;
    }

    /// One record, at `index` among the document's records. `shape` is the
    /// record's kind, found by the reader (element name or JSON `type`).
    pub(crate) fn record(&mut self, index: usize, shape: &'static Shape, raw: &RawRecord<'_>) {
        self.records = self.records.max(index + 1);
        let path = Path::Record(index);
        match shape.kind {
            Kind::Patient => self.patient(shape, raw, path),
            Kind::Donation => self.donation(shape, raw, path),
            Kind::Dispatch => self.dispatch(index, shape, raw),
            Kind::Received => self.received(shape, raw, path),
            Kind::Crossmatched
            | Kind::Issued
            | Kind::Transfused
            | Kind::Returned
            | Kind::Transferred
            | Kind::Discarded
            | Kind::Reaction => self.unit_event(shape, raw, path),
            Kind::Stock => self.stock(index, shape, raw),
            Kind::WaiverClaim => self.waiver_claim(shape, raw, path),
            Kind::Report | Kind::Unit | Kind::Item => {
                unreachable!("{} is not a record", shape.name)
            }
        }
    }

    /// Counts a record that could not even be recognised (its error is
    /// already listed).
    pub(crate) fn skipped(&mut self, index: usize) {
        self.records = self.records.max(index + 1);
    }

    pub(crate) fn finish(self) -> Result<Document, ReadError> {
        let document = Document {
            document_id: self.document_id,
            facility: self.facility,
            generated_at: self.generated_at,
            records: self.records,
            facts: self.facts,
            stock: self.stock,
            waiver_claims: self.waiver_claims,
            donations: self.donations,
        };
        self.errors.into_result(document)
    }

    fn bind<'s, 'r, 'a>(
        &'s mut self,
        shape: &'static Shape,
        raw: &'r RawRecord<'a>,
        path: Path,
    ) -> Fields<'s, 'r, 'a> {
        let errors_before = self.errors.count();
        let bound = shape::bind(shape, &raw.fields, path, self.syntax, &mut self.errors);
        Fields {
            bound,
            path,
            cfg: self.cfg,
            errors: &mut self.errors,
            errors_before,
        }
    }

    fn event(&self, kind: EventKind, at: DateTime<FixedOffset>, unit: UnitKey) -> UnitEvent {
        UnitEvent::new(kind, at, self.facility.as_str(), unit)
    }

    fn patient(&mut self, shape: &'static Shape, raw: &RawRecord<'_>, path: Path) {
        let mut r = self.bind(shape, raw, path);
        let key = r.take("key", values::code);
        let id_type = r.take("idType", |v| values::one_of(v, &ID_TYPES, "an ID type"));
        let id_number = if id_type == Some(IdType::ResidentId) {
            r.take("idNumber", values::resident_id)
        } else {
            r.take("idNumber", values::sensitive)
        };
        let name = r.take("name", values::sensitive);
        let sex = r.take("sex", |v| values::one_of(v, &SEXES, "a sex"));
        let birth_date = r.take("birthDate", values::date);
        let abo = r.take("abo", values::abo);
        let rh = r.take("rh", values::rh);
        if let (true, Some(key)) = (r.ok(), key) {
            let mut patient = Patient::new(self.facility.as_str(), key);
            patient.id_type = id_type;
            patient.id_number = id_number;
            patient.name = name;
            patient.sex = sex;
            patient.birth_date = birth_date;
            patient.blood_group = BloodGroup::new(abo, rh);
            self.facts.patients.push(patient);
        }
    }

    fn donation(&mut self, shape: &'static Shape, raw: &RawRecord<'_>, path: Path) {
        let mut r = self.bind(shape, raw, path);
        let unit = r.take("unit", values::din);
        let donor_key = r.take("donorKey", values::code);
        let donor_id_number = r.take("donorIdNumber", values::donor_id);
        let donor_name = r.take("donorName", values::sensitive);
        let kind = r.take("kind", |v| {
            values::one_of(v, &DonationKind::WORDS, "a donation kind")
        });
        let volume_ml = r.take("volumeMl", values::positive_int);
        let at = r.take_time("at");
        if let (true, Some(unit), Some(donor_key), Some(kind), Some(volume_ml), Some(at)) =
            (r.ok(), unit, donor_key, kind, volume_ml, at)
        {
            self.donations.push(Donation {
                unit,
                donor_key: donor_key.to_owned(),
                donor_id_number,
                donor_name,
                kind,
                volume_ml,
                at,
            });
        }
    }

    fn dispatch(&mut self, index: usize, shape: &'static Shape, raw: &RawRecord<'_>) {
        let path = Path::Record(index);
        let child = shape.child.as_ref().expect("Dispatch has units");
        let mut r = self.bind(shape, raw, path);
        let station = r.take("station", values::code).map(str::to_owned);
        let to = r.take("to", values::code).map(str::to_owned);
        let at = r.take_time("at");
        if raw.children.is_empty() && child.required {
            self.errors
                .push(path.field(child.json), "at least one unit is required");
        }
        for (j, unit_raw) in raw.children.iter().enumerate() {
            let Some(unit_raw) = unit_raw else { continue };
            let unit_path = Path::Child {
                record: index,
                list: child.json,
                index: j,
            };
            let mut u = self.bind(child.shape, unit_raw, unit_path);
            let unit = u.unit_fields();
            let collected_at = u.take_time("collectedAt");
            let donor_key = u.take("donorKey", values::code).map(str::to_owned);
            let ok = u.ok();
            let (true, Some(mut unit), Some(collected_at), Some(station), Some(to), Some(at)) =
                (ok, unit, collected_at, &station, &to, at)
            else {
                continue;
            };
            unit.station = Some(station.clone());
            unit.donor_key = donor_key;
            let key = unit.key();
            let mut collected = self.event(EventKind::Collected, collected_at, key.clone());
            collected.facility.clone_from(station);
            let mut dispatched = self.event(EventKind::Dispatched, at, key);
            dispatched.detail.to = Some(to.clone());
            self.facts.units.push(unit);
            self.facts.events.push(collected);
            self.facts.events.push(dispatched);
        }
    }

    fn received(&mut self, shape: &'static Shape, raw: &RawRecord<'_>, path: Path) {
        let mut r = self.bind(shape, raw, path);
        let unit = r.unit_fields();
        let from = r.take("from", values::code).map(str::to_owned);
        let at = r.take_time("at");
        if let (true, Some(unit), Some(from), Some(at)) = (r.ok(), unit, from, at) {
            let mut event = self.event(EventKind::Received, at, unit.key());
            event.detail.from = Some(from);
            self.facts.units.push(unit);
            self.facts.events.push(event);
        }
    }

    /// The clinical and disposal steps: one event each, about a unit the
    /// hospital already holds.
    fn unit_event(&mut self, shape: &'static Shape, raw: &RawRecord<'_>, path: Path) {
        let mut r = self.bind(shape, raw, path);
        let key = r.unit_key();
        let mut patient_key = None;
        let mut detail = EventDetail::default();
        let (kind, at) = match shape.kind {
            Kind::Crossmatched => {
                patient_key = r.take("patient", values::code);
                detail.result = r
                    .take("result", |v| {
                        values::one_of(v, &CROSSMATCH_RESULTS, "a crossmatch result")
                    })
                    .map(str::to_owned);
                (EventKind::Crossmatched, r.take_time("at"))
            }
            Kind::Issued => {
                patient_key = r.take("patient", values::code);
                detail.ward = r.take("ward", values::text).map(str::to_owned);
                (EventKind::Issued, r.take_time("at"))
            }
            Kind::Transfused => {
                patient_key = r.take("patient", values::code);
                let start = r.take_time("start");
                let end = r.take_time("end");
                if let (Some(s), Some(e)) = (start, end) {
                    if e < s {
                        r.problem("end", "is before start".into());
                    }
                }
                detail.start = start;
                detail.end = end;
                detail.volume_ml = r.take("volumeMl", values::positive_int);
                detail.diagnosis = r.take("diagnosis", values::text).map(str::to_owned);
                (EventKind::Transfused, end)
            }
            Kind::Returned => {
                detail.reason = r.take("reason", values::text).map(str::to_owned);
                (EventKind::Returned, r.take_time("at"))
            }
            Kind::Transferred => {
                detail.to = r.take("to", values::code).map(str::to_owned);
                (EventKind::Transferred, r.take_time("at"))
            }
            Kind::Discarded => {
                detail.reason = r
                    .take("reason", |v| {
                        values::one_of(v, &DISCARD_REASONS, "a discard reason")
                    })
                    .map(str::to_owned);
                (EventKind::Discarded, r.take_time("at"))
            }
            Kind::Reaction => {
                patient_key = r.take("patient", values::code);
                let reaction_type = r.take("type", values::text);
                detail.reaction_category = reaction_type.map(ReactionCategory::classify);
                detail.reaction_type = reaction_type.map(str::to_owned);
                detail.severity =
                    r.take("severity", |v| values::one_of(v, &SEVERITIES, "a severity"));
                detail.outcome = r.take("outcome", values::text).map(str::to_owned);
                (EventKind::Reaction, r.take_time("at"))
            }
            _ => unreachable!("{} is not a unit event", shape.name),
        };
        let patient_key = patient_key.map(str::to_owned);
        if let (true, Some(key), Some(at)) = (r.ok(), key, at) {
            let mut event = self.event(kind, at, key);
            event.patient_key = patient_key;
            event.detail = detail;
            self.facts.events.push(event);
        }
    }

    fn stock(&mut self, index: usize, shape: &'static Shape, raw: &RawRecord<'_>) {
        let path = Path::Record(index);
        let child = shape.child.as_ref().expect("Stock has items");
        let mut r = self.bind(shape, raw, path);
        let at = r.take_time("at");
        let mut ok = r.ok();
        let mut items = Vec::with_capacity(raw.children.len());
        for (j, item_raw) in raw.children.iter().enumerate() {
            let Some(item_raw) = item_raw else {
                ok = false;
                continue;
            };
            let item_path = Path::Child {
                record: index,
                list: child.json,
                index: j,
            };
            let mut i = self.bind(child.shape, item_raw, item_path);
            let cfg = i.cfg;
            let product = i.take("product", |v| values::product(v, &cfg.products));
            let abo = i.take("abo", values::abo);
            let rh = i.take("rh", values::rh);
            let quantity = i.take("quantity", values::non_negative_decimal);
            let measure = i.take("measure", |v| values::one_of(v, &MEASURES, "a measure"));
            ok &= i.ok();
            if let (Some((product, _)), Some(quantity), Some(measure)) =
                (product, quantity, measure)
            {
                items.push(StockItem {
                    product,
                    abo,
                    rh,
                    quantity,
                    measure,
                });
            }
        }
        if let (true, Some(at)) = (ok, at) {
            self.stock.push(StockReport {
                facility: self.facility.clone(),
                at,
                items,
            });
        }
    }

    fn waiver_claim(&mut self, shape: &'static Shape, raw: &RawRecord<'_>, path: Path) {
        let mut r = self.bind(shape, raw, path);
        let claim_id = r.take("claimId", values::code).map(str::to_owned);
        let patient = r.take("patient", values::code).map(str::to_owned);
        let donor_id_number = r.take("donorIdNumber", values::donor_id);
        let donor_name = r.take("donorName", values::sensitive);
        let relationship = r.take("relationship", |v| {
            values::one_of(v, &Relationship::WORDS, "a relationship")
        });
        let blood_fee_fen = r.take("bloodFee", values::money_fen);
        let discharged_at = r.take_time("dischargedAt");
        let units_used_ml = r.take("unitsUsedMl", values::positive_int);
        if let (
            true,
            Some(claim_id),
            Some(patient),
            Some(donor_id_number),
            Some(relationship),
            Some(blood_fee_fen),
            Some(discharged_at),
            Some(units_used_ml),
        ) = (
            r.ok(),
            claim_id,
            patient,
            donor_id_number,
            relationship,
            blood_fee_fen,
            discharged_at,
            units_used_ml,
        ) {
            self.waiver_claims.push(WaiverClaim {
                claim_id,
                patient,
                donor_id_number,
                donor_name,
                relationship,
                blood_fee_fen,
                discharged_at,
                units_used_ml,
            });
        }
    }
}

/// One element's bound values, with the error list to report into.
struct Fields<'s, 'r, 'a> {
    bound: Bound<'r, 'a>,
    path: Path,
    cfg: &'s Config,
    errors: &'s mut Errors,
    errors_before: usize,
}

impl<'r, 'a> Fields<'_, 'r, 'a> {
    /// Converts a field if present; a bad value is reported and gives
    /// `None`. A missing required field was reported by the binding.
    fn take<T>(
        &mut self,
        name: &'static str,
        convert: impl FnOnce(&'r Value<'a>) -> Result<T, Problem>,
    ) -> Option<T> {
        let value = self.bound.get(name)?;
        match convert(value) {
            Ok(t) => Some(t),
            Err(message) => {
                self.problem(name, message);
                None
            }
        }
    }

    fn take_time(&mut self, name: &'static str) -> Option<DateTime<FixedOffset>> {
        let zone = self.cfg.zone;
        self.take(name, |v| values::time(v, zone))
    }

    fn problem(&mut self, name: &'static str, message: Problem) {
        let sent = self.bound.name_as_sent(name);
        self.errors.push(self.path.field(sent), message);
    }

    /// Whether this element added no error.
    fn ok(&self) -> bool {
        self.errors.count() == self.errors_before
    }

    /// `unit` and `product`: the key every unit record carries.
    fn unit_key(&mut self) -> Option<UnitKey> {
        let din = self.take("unit", values::din);
        let cfg = self.cfg;
        let product = self.take("product", |v| values::product(v, &cfg.products));
        Some(UnitKey {
            din: din?,
            product: product?.0,
        })
    }

    /// What `Received` and a `Dispatch` unit say about the unit itself.
    fn unit_fields(&mut self) -> Option<BloodUnit> {
        let din = self.take("unit", values::din);
        let cfg = self.cfg;
        let product = self.take("product", |v| values::product(v, &cfg.products));
        let abo = self.take("abo", values::abo);
        let rh = self.take("rh", values::rh);
        let volume_ml = self.take("volumeMl", values::positive_int);
        let quantity = self.take("quantity", values::positive_decimal);
        let expires = self.take_time("expires");
        let (product, modifiers): (_, Modifiers) = product?;
        let mut unit = BloodUnit::new(din?, product);
        unit.modifiers = modifiers;
        unit.abo = abo;
        unit.rh = rh;
        unit.volume_ml = volume_ml;
        unit.quantity = quantity;
        unit.expires = expires;
        Some(unit)
    }
}
