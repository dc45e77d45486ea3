//! The code systems and identifier systems the export uses. Where FHIR or
//! HL7 terminology has a system for the concept, it is used; the rest are
//! hemobridge's own, under one base URL (see `docs/fhir.md`).

/// Base of hemobridge's own systems.
pub const BASE: &str = "https://example.invalid/hemobridge/fhir";

/// Facility codes (hospitals and blood stations), as registered.
pub const FACILITY: &str = "https://example.invalid/hemobridge/fhir/sid/facility";
/// Donation identification numbers (血袋号: ISBT 128 or a station's local
/// numbering; we could not confirm a registered FHIR URI for ISBT 128
/// DINs, so the system is ours).
pub const DIN: &str = "https://example.invalid/hemobridge/fhir/sid/din";
/// Direct-waiver claim ids, scoped by hospital (`{hospital}/{claimId}`).
pub const WAIVER_CLAIM: &str = "https://example.invalid/hemobridge/fhir/sid/waiver-claim";
/// Unit events by their natural key (dispenses, transfusions, reactions).
pub const EVENT: &str = "https://example.invalid/hemobridge/fhir/sid/event";
/// Daily submissions (`{hospital}/{date}`, and with `/{version}`).
pub const DAILY_SUBMISSION: &str = "https://example.invalid/hemobridge/fhir/sid/daily-submission";
pub const DAILY_SUBMISSION_VERSION: &str =
    "https://example.invalid/hemobridge/fhir/sid/daily-submission-version";
/// Canonical product codes (`RBC-LR`, …) with their Chinese names.
pub const PRODUCT: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/product";
/// ABO/RhD as `O+`, `AB-`, … and `unknown`.
pub const BLOOD_GROUP: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/blood-group";
/// Unit properties (`blood-group`, `volume`, modifiers).
pub const UNIT_PROPERTY: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/unit-property";
/// Daily movements (`received`, `issued`, …) and report sections.
pub const DAILY: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/daily";
/// Measures that are not UCUM (`U`, `dose`).
pub const MEASURE: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/measure";
/// Transfusion reaction codes as sent (HL7 table 0514 or local text).
pub const REACTION: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/reaction";
/// WS 364 CV05.01.040 transfusion reaction category (national reporting).
pub const REACTION_CATEGORY_CN: &str =
    "https://example.invalid/hemobridge/fhir/CodeSystem/cv05.01.040";
/// Reaction severity (`mild`, `moderate`, `severe`, `death`).
pub const SEVERITY: &str = "https://example.invalid/hemobridge/fhir/CodeSystem/severity";
/// The Measure the daily MeasureReport reports on.
pub const DAILY_MEASURE: &str = "https://example.invalid/hemobridge/fhir/Measure/daily-blood-use";
/// A patient key is unique within one hospital: the identifier system of
/// a hospital's patients ends with its facility code.
pub fn patient_system(facility: &str) -> String {
    format!("{BASE}/sid/patient/{facility}")
}

pub const SNOMED: &str = "http://snomed.info/sct";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const PRODUCT_CATEGORY: &str = "http://hl7.org/fhir/product-category";
pub const PRODUCT_STATUS: &str = "http://hl7.org/fhir/biologicallyderived-product-status";
pub const ADVERSE_EVENT_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/adverse-event-category";
pub const ADVERSE_EVENT_SERIOUSNESS: &str =
    "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
pub const CLAIM_TYPE: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
pub const ORGANIZATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/organization-type";
pub const MEASURE_POPULATION: &str = "http://terminology.hl7.org/CodeSystem/measure-population";
