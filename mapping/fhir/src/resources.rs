//! Canonical facts → FHIR R5 resources, one function per resource type.
//! Every function is pure; ids come from [`crate::ids`], systems from
//! [`crate::systems`]. Patient names and ID numbers are never read here.

use crate::datatypes::*;
use crate::ids;
use crate::systems;
use chrono::{DateTime as ChronoDateTime, FixedOffset};
use fhir_sdk::r5::codes::{
    AdministrativeGender, AdverseEventActuality,
    BiologicallyDerivedProductDispense as DispenseStatus, EventStatus, Use,
};
use fhir_sdk::r5::resources::{
    AdverseEvent, AdverseEventSuspectEntity, AdverseEventSuspectEntityInstance,
    BiologicallyDerivedProduct, BiologicallyDerivedProductCollection,
    BiologicallyDerivedProductCollectionCollected, BiologicallyDerivedProductDispense,
    BiologicallyDerivedProductProperty, BiologicallyDerivedProductPropertyValue, Claim, ClaimItem,
    Organization, Patient, Procedure, ProcedureOccurrence,
};
use fhir_sdk::r5::types::{CodeableConcept, CodeableReference};
use hemobridge_canonical::{
    BloodUnit, EventKind, Facility, FacilityKind, Patient as CanonicalPatient, Product, Severity,
    Sex, UnitEvent,
};
use std::num::NonZeroU32;

/// SNOMED CT 116859006 |Transfusion of blood product (procedure)|.
pub const TRANSFUSION_SNOMED: &str = "116859006";
/// SNOMED CT 82545002 |Blood transfusion reaction (disorder)|.
pub const TRANSFUSION_REACTION_SNOMED: &str = "82545002";

/// `Patient`: the hospital's patient key as a hospital-scoped identifier,
/// gender. No name, no ID number and no birth date: the export identifies a
/// patient only within the hospital that owns the key (see `docs/fhir.md`).
pub fn patient(p: &CanonicalPatient) -> Result<Patient> {
    let mut b = Patient::builder()
        .id(ids::patient_id(&p.facility, &p.key))
        .identifier(vec![Some(identifier(
            &systems::patient_system(&p.facility),
            &p.key,
        )?)])
        .managing_organization(reference(
            "Organization",
            &ids::organization_id(&p.facility),
        )?);
    if let Some(sex) = p.sex {
        b = b.gender(match sex {
            Sex::M => AdministrativeGender::Male,
            Sex::F => AdministrativeGender::Female,
            Sex::U => AdministrativeGender::Unknown,
        });
    }
    Ok(b.build()?)
}

/// `Organization`: a hospital (`prov`) or a blood station (`other`, 血站).
pub fn organization(f: &Facility) -> Result<Organization> {
    let kind = match f.kind {
        FacilityKind::Hospital => concept1(
            systems::ORGANIZATION_TYPE,
            "prov",
            Some("Healthcare Provider"),
        )?,
        FacilityKind::Station => concept(
            vec![coding(systems::ORGANIZATION_TYPE, "other", Some("Other"))?],
            Some("血站"),
        )?,
    };
    Ok(Organization::builder()
        .id(ids::organization_id(&f.code))
        .identifier(vec![Some(identifier(systems::FACILITY, &f.code)?)])
        .active(true)
        .r#type(vec![Some(kind)])
        .name(f.name.clone())
        .build()?)
}

/// The product code as a concept: our code with its Chinese name.
pub fn product_code(product: Product) -> Result<CodeableConcept> {
    concept(
        vec![coding(
            systems::PRODUCT,
            product.code(),
            Some(product.name_zh()),
        )?],
        Some(product.name_zh()),
    )
}

/// `O+`, `AB-`, `O` (RhD unknown), `+`, or `unknown`.
pub fn blood_group_code(abo: Option<&str>, rh: Option<&str>) -> String {
    match (abo, rh) {
        (None, None) => "unknown".to_string(),
        (a, r) => format!("{}{}", a.unwrap_or(""), r.unwrap_or("")),
    }
}

/// Where a unit stands after its events, as `productStatus`.
fn product_status(events: &[UnitEvent]) -> Option<&'static str> {
    let mut ordered: Vec<&UnitEvent> = events.iter().collect();
    ordered.sort_by_key(|e| (e.at, e.kind.chain_rank()));
    let mut status = None;
    for e in ordered {
        status = match e.kind {
            EventKind::Received | EventKind::Released | EventKind::Returned => Some("available"),
            EventKind::Collected
            | EventKind::Dispatched
            | EventKind::Crossmatched
            | EventKind::Reserved
            | EventKind::Issued
            | EventKind::Transferred => Some("unavailable"),
            EventKind::Transfused => Some("applied"),
            EventKind::Discarded => Some("discarded"),
            EventKind::Reaction => continue,
        };
    }
    status
}

/// `BiologicallyDerivedProduct`: one component. `events` are the unit's
/// events (for the status and the collection time); may be empty.
pub fn biologically_derived_product(
    unit: &BloodUnit,
    events: &[UnitEvent],
) -> Result<BiologicallyDerivedProduct> {
    let category = match unit.product.category() {
        hemobridge_canonical::Category::RedCells
        | hemobridge_canonical::Category::Platelets
        | hemobridge_canonical::Category::Granulocytes => "cells",
        _ => "fluid",
    };
    let abo = unit.abo.map(|a| a.as_str());
    let rh = unit.rh.map(|r| r.as_str());
    let mut properties = vec![property(
        "blood-group",
        BiologicallyDerivedProductPropertyValue::CodeableConcept(concept1(
            systems::BLOOD_GROUP,
            &blood_group_code(abo, rh),
            None,
        )?),
    )?];
    if let Some(q) = unit.quantity {
        properties.push(property(
            "quantity",
            BiologicallyDerivedProductPropertyValue::Quantity(measure_quantity(
                q,
                unit.measure.as_str(),
            )?),
        )?);
    }
    if let Some(ml) = unit.volume_ml {
        properties.push(property(
            "volume",
            BiologicallyDerivedProductPropertyValue::Quantity(measure_quantity(
                f64::from(ml),
                "mL",
            )?),
        )?);
    }
    for (flag, set) in [
        ("irradiated", unit.modifiers.irradiated),
        ("leukoreduced", unit.modifiers.leukoreduced),
        ("pooled", unit.modifiers.pooled),
    ] {
        if set {
            properties.push(property(
                flag,
                BiologicallyDerivedProductPropertyValue::Boolean(true),
            )?);
        }
    }

    let mut b = BiologicallyDerivedProduct::builder()
        .id(ids::product_id(&unit.din, unit.product.code()))
        .product_category(coding(systems::PRODUCT_CATEGORY, category, None)?)
        .product_code(product_code(unit.product)?)
        .identifier(vec![Some(identifier(systems::DIN, &unit.din)?)])
        .biological_source_event(identifier(systems::DIN, &unit.din)?)
        .property(properties.into_iter().map(Some).collect());
    if let Some(status) = product_status(events) {
        b = b.product_status(coding(systems::PRODUCT_STATUS, status, None)?);
    }
    if let Some(expires) = &unit.expires {
        b = b.expiration_date(date_time(expires)?);
    }
    if let Some(station) = &unit.station {
        b = b.processing_facility(vec![Some(reference(
            "Organization",
            &ids::organization_id(station),
        )?)]);
    }
    if let Some(collected) = events.iter().find(|e| e.kind == EventKind::Collected) {
        b = b.collection(
            BiologicallyDerivedProductCollection::builder()
                .collected(BiologicallyDerivedProductCollectionCollected::DateTime(
                    date_time(&collected.at)?,
                ))
                .build()?,
        );
    }
    Ok(b.build()?)
}

fn property(
    code: &str,
    value: BiologicallyDerivedProductPropertyValue,
) -> Result<BiologicallyDerivedProductProperty> {
    Ok(BiologicallyDerivedProductProperty::builder()
        .r#type(concept1(systems::UNIT_PROPERTY, code, None)?)
        .value(value)
        .build()?)
}

fn patient_reference(event: &UnitEvent) -> Result<fhir_sdk::r5::types::Reference> {
    match &event.patient_key {
        Some(key) => reference("Patient", &ids::patient_id(&event.facility, key)),
        None => display_reference("patient not named by the source"),
    }
}

fn unit_reference(event: &UnitEvent) -> Result<fhir_sdk::r5::types::Reference> {
    reference(
        "BiologicallyDerivedProduct",
        &ids::product_id(&event.unit.din, event.unit.product.code()),
    )
}

/// The event kinds exported as `BiologicallyDerivedProductDispense`.
pub fn is_dispense_event(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Crossmatched | EventKind::Reserved | EventKind::Issued | EventKind::Returned
    )
}

/// `BiologicallyDerivedProductDispense`: crossmatched/reserved → allocated,
/// issued → issued (`whenHandedOver`), returned → returned. `None` for
/// other event kinds. `quantity` is the unit's quantity in its measure.
pub fn dispense(
    event: &UnitEvent,
    event_key: &str,
    quantity: Option<(f64, &str)>,
) -> Result<Option<BiologicallyDerivedProductDispense>> {
    let status = match event.kind {
        EventKind::Crossmatched | EventKind::Reserved => DispenseStatus::Allocated,
        EventKind::Issued => DispenseStatus::Issued,
        EventKind::Returned => DispenseStatus::Returned,
        _ => return Ok(None),
    };
    let mut b = BiologicallyDerivedProductDispense::builder()
        .id(ids::dispense_id(event_key))
        .identifier(vec![Some(identifier(systems::EVENT, event_key)?)])
        .status(status)
        .product(unit_reference(event)?)
        .patient(patient_reference(event)?);
    b = match event.kind {
        EventKind::Issued => b.when_handed_over(date_time(&event.at)?),
        _ => b.prepared_date(date_time(&event.at)?),
    };
    if event.kind == EventKind::Crossmatched {
        if let Some(result) = &event.detail.result {
            b = b.match_status(concept(Vec::new(), Some(result))?);
        }
    }
    if let Some((value, measure)) = quantity {
        b = b.quantity(measure_quantity(value, measure)?);
    }
    Ok(Some(b.build()?))
}

/// `Procedure`: a transfusion (SNOMED CT 116859006), the product in `used`.
pub fn transfusion(event: &UnitEvent, event_key: &str) -> Result<Option<Procedure>> {
    if event.kind != EventKind::Transfused {
        return Ok(None);
    }
    let start = event.detail.start.as_ref().unwrap_or(&event.at);
    let occurrence = ProcedureOccurrence::Period(period(Some(start), event.detail.end.as_ref())?);
    // The hospital where it happened, as the performer's organization.
    let performer = fhir_sdk::r5::resources::ProcedurePerformer::builder()
        .actor(reference(
            "Organization",
            &ids::organization_id(&event.facility),
        )?)
        .build()?;
    let used = CodeableReference::builder()
        .reference(unit_reference(event)?)
        .build()?;
    Ok(Some(
        Procedure::builder()
            .id(ids::procedure_id(event_key))
            .identifier(vec![Some(identifier(systems::EVENT, event_key)?)])
            .status(EventStatus::Completed)
            .code(concept1(
                systems::SNOMED,
                TRANSFUSION_SNOMED,
                Some("Transfusion of blood product"),
            )?)
            .subject(patient_reference(event)?)
            .occurrence(occurrence)
            .recorded(date_time(&event.at)?)
            .performer(vec![Some(performer)])
            .used(vec![Some(used)])
            .build()?,
    ))
}

/// `AdverseEvent`: a transfusion reaction. `code` carries SNOMED CT
/// 82545002 and the reaction as sent; `category` the national category
/// (CV05.01.040) and the severity; `suspectEntity` the product.
pub fn adverse_event(event: &UnitEvent, event_key: &str) -> Result<Option<AdverseEvent>> {
    if event.kind != EventKind::Reaction {
        return Ok(None);
    }
    let d = &event.detail;
    let mut codes = vec![coding(
        systems::SNOMED,
        TRANSFUSION_REACTION_SNOMED,
        Some("Blood transfusion reaction"),
    )?];
    if let Some(t) = &d.reaction_type {
        codes.push(coding(systems::REACTION, t, None)?);
    }
    let mut categories = Vec::new();
    if let Some(c) = d.reaction_category {
        let display = match c {
            hemobridge_canonical::ReactionCategory::Febrile => "发热反应",
            hemobridge_canonical::ReactionCategory::Allergic => "过敏反应",
            hemobridge_canonical::ReactionCategory::Haemolytic => "溶血反应",
            hemobridge_canonical::ReactionCategory::Other => "其他",
        };
        categories.push(Some(concept1(
            systems::REACTION_CATEGORY_CN,
            c.national_code(),
            Some(display),
        )?));
    }
    let mut b = AdverseEvent::builder()
        .id(ids::adverse_event_id(event_key))
        .identifier(vec![Some(identifier(systems::EVENT, event_key)?)])
        .status("completed".to_string())
        .actuality(AdverseEventActuality::Actual)
        .code(concept(codes, d.reaction_type.as_deref())?)
        .subject(patient_reference(event)?)
        .occurrence(fhir_sdk::r5::resources::AdverseEventOccurrence::DateTime(
            date_time(&event.at)?,
        ))
        .recorded_date(date_time(&event.at)?)
        .location(reference(
            "Organization",
            &ids::organization_id(&event.facility),
        )?)
        .suspect_entity(vec![Some(
            AdverseEventSuspectEntity::builder()
                .instance(AdverseEventSuspectEntityInstance::Reference(
                    unit_reference(event)?,
                ))
                .build()?,
        )]);
    if let Some(s) = d.severity {
        let code = match s {
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
            Severity::Death => "death",
        };
        categories.push(Some(concept1(systems::SEVERITY, code, None)?));
        let serious = matches!(s, Severity::Severe | Severity::Death);
        b = b.seriousness(concept1(
            systems::ADVERSE_EVENT_SERIOUSNESS,
            if serious { "serious" } else { "non-serious" },
            Some(if serious { "Serious" } else { "Non-serious" }),
        )?);
    }
    if let Some(outcome) = &d.outcome {
        b = b.outcome(vec![Some(concept(Vec::new(), Some(outcome))?)]);
    }
    Ok(Some(b.category(categories).build()?))
}

/// A direct-waiver claim (用血费用直接减免) as the engine decided it. The
/// donor appears only as the claim's own business: no donor identity.
#[derive(Debug, Clone, PartialEq)]
pub struct WaiverClaim {
    pub hospital: String,
    pub claim_id: String,
    pub patient_key: Option<String>,
    /// `granted` or `cancelled`.
    pub status: String,
    /// The blood fee the claim is about, in fen.
    pub blood_fee_fen: i64,
    pub waived_fen: i64,
    pub patient_pays_fen: i64,
    pub waived_ml: i64,
    pub decided_at: ChronoDateTime<FixedOffset>,
}

/// `Claim`: use `claim`, type institutional, the hospital as provider,
/// `total` the blood fee in CNY, one item whose `net` is the waived amount
/// and `patientPaid` what the patient still pays.
pub fn claim(c: &WaiverClaim) -> Result<Claim> {
    let patient = match &c.patient_key {
        Some(key) => reference("Patient", &ids::patient_id(&c.hospital, key))?,
        None => display_reference("patient not named in the claim")?,
    };
    let sequence =
        NonZeroU32::new(1).ok_or_else(|| crate::MappingError::Value("sequence".into()))?;
    let item = ClaimItem::builder()
        .sequence(sequence)
        .product_or_service(concept(
            vec![coding(
                systems::DAILY,
                "blood-fee-direct-waiver",
                Some("用血费用直接减免"),
            )?],
            Some("用血费用直接减免"),
        )?)
        .quantity(measure_quantity(c.waived_ml as f64, "mL")?)
        .net(cny(c.waived_fen)?)
        .patient_paid(cny(c.patient_pays_fen)?)
        .build()?;
    Ok(Claim::builder()
        .id(ids::claim_id(&c.hospital, &c.claim_id))
        .identifier(vec![Some(identifier(
            systems::WAIVER_CLAIM,
            &format!("{}/{}", c.hospital, c.claim_id),
        )?)])
        .status(
            if c.status == "cancelled" {
                "cancelled"
            } else {
                "active"
            }
            .to_string(),
        )
        .r#type(concept1(
            systems::CLAIM_TYPE,
            "institutional",
            Some("Institutional"),
        )?)
        .r#use(Use::Claim)
        .patient(patient)
        .created(date_time(&c.decided_at)?)
        .provider(reference(
            "Organization",
            &ids::organization_id(&c.hospital),
        )?)
        .patient_paid(cny(c.patient_pays_fen)?)
        .item(vec![Some(item)])
        .total(cny(c.blood_fee_fen)?)
        .build()?)
}
