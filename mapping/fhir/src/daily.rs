//! The daily submission (每日上报) as a FHIR transaction: one
//! `MeasureReport` (type `summary`) whose groups carry the day's figures,
//! `PUT` by a deterministic id so that a re-send, or an amended version,
//! replaces what the receiver holds instead of adding to it.
//!
//! Layout of the report:
//! - one group per product (`code` = product code); per movement
//!   (`received`, `crossmatched`, `issued`, `transfused`, `returned`,
//!   `discarded`, `transferred`, `stock-computed`, `stock-reported`) one
//!   stratifier, with one stratum per ABO/RhD (`component` `abo` and `rh`)
//!   whose `measureScore` is the quantity in the product's measure (U, mL,
//!   dose: exact, where a population count would have to be an integer);
//! - a group `patients-transfused` (population count);
//! - a group `reactions`: strata by type and severity, population counts;
//! - a group `discards`: strata by product and reason, quantities.

use crate::datatypes::*;
use crate::ids;
use crate::systems;
use fhir_sdk::r5::codes::{
    BundleType, HTTPVerb, MeasureReportStatus, MeasureReportType, SubmitDataUpdateType,
};
use fhir_sdk::r5::resources::{
    Bundle, BundleEntry, BundleEntryRequest, MeasureReport, MeasureReportGroup,
    MeasureReportGroupPopulation, MeasureReportGroupStratifier,
    MeasureReportGroupStratifierStratum, MeasureReportGroupStratifierStratumComponent,
    MeasureReportGroupStratifierStratumComponentValue,
    MeasureReportGroupStratifierStratumMeasureScore, MeasureReportGroupStratifierStratumPopulation,
    Resource,
};
use fhir_sdk::r5::types::CodeableConcept;
use hemobridge_submission::{DailySubmission, Line};

/// The movements of a line, in the order they are reported.
const MOVEMENTS: [&str; 9] = [
    "received",
    "crossmatched",
    "issued",
    "transfused",
    "returned",
    "discarded",
    "transferred",
    "stock-computed",
    "stock-reported",
];

fn movement(line: &Line, name: &str) -> Option<f64> {
    Some(match name {
        "received" => line.received,
        "crossmatched" => line.crossmatched,
        "issued" => line.issued,
        "transfused" => line.transfused,
        "returned" => line.returned,
        "discarded" => line.discarded,
        "transferred" => line.transferred,
        "stock-computed" => line.stock_computed,
        "stock-reported" => return line.stock_reported,
        _ => return None,
    })
}

fn daily_code(code: &str) -> Result<CodeableConcept> {
    concept1(systems::DAILY, code, None)
}

fn component(
    code: &str,
    system: &str,
    value: &str,
) -> Result<MeasureReportGroupStratifierStratumComponent> {
    Ok(MeasureReportGroupStratifierStratumComponent::builder()
        .code(daily_code(code)?)
        .value(
            MeasureReportGroupStratifierStratumComponentValue::CodeableConcept(concept1(
                system, value, None,
            )?),
        )
        .build()?)
}

fn initial_population(count: u64) -> Result<MeasureReportGroupPopulation> {
    Ok(MeasureReportGroupPopulation::builder()
        .code(concept1(
            systems::MEASURE_POPULATION,
            "initial-population",
            Some("Initial Population"),
        )?)
        .count(i32::try_from(count).unwrap_or(i32::MAX))
        .build()?)
}

fn stratum_population(count: u64) -> Result<MeasureReportGroupStratifierStratumPopulation> {
    Ok(MeasureReportGroupStratifierStratumPopulation::builder()
        .code(concept1(
            systems::MEASURE_POPULATION,
            "initial-population",
            Some("Initial Population"),
        )?)
        .count(i32::try_from(count).unwrap_or(i32::MAX))
        .build()?)
}

/// One group per product code, lines in the submission's order.
fn product_groups(s: &DailySubmission) -> Result<Vec<Option<MeasureReportGroup>>> {
    let mut products: Vec<&str> = s.lines.iter().map(|l| l.product.as_str()).collect();
    products.dedup();
    let mut groups = Vec::new();
    for product in products {
        let lines: Vec<&Line> = s.lines.iter().filter(|l| l.product == product).collect();
        let code = match hemobridge_canonical::Product::from_code(product) {
            Some(p) => crate::resources::product_code(p)?,
            None => concept1(systems::PRODUCT, product, None)?,
        };
        let mut stratifiers = Vec::new();
        for name in MOVEMENTS {
            let mut strata = Vec::new();
            for line in &lines {
                let Some(value) = movement(line, name) else {
                    continue;
                };
                strata.push(Some(
                    MeasureReportGroupStratifierStratum::builder()
                        .component(vec![
                            Some(component(
                                "abo",
                                systems::BLOOD_GROUP,
                                line.abo.as_deref().unwrap_or("unknown"),
                            )?),
                            Some(component(
                                "rh",
                                systems::BLOOD_GROUP,
                                line.rh.as_deref().unwrap_or("unknown"),
                            )?),
                        ])
                        .measure_score(MeasureReportGroupStratifierStratumMeasureScore::Quantity(
                            measure_quantity(value, &line.measure)?,
                        ))
                        .build()?,
                ));
            }
            if strata.is_empty() {
                continue;
            }
            stratifiers.push(Some(
                MeasureReportGroupStratifier::builder()
                    .link_id(format!("{product}.{name}"))
                    .code(daily_code(name)?)
                    .stratum(strata)
                    .build()?,
            ));
        }
        groups.push(Some(
            MeasureReportGroup::builder()
                .link_id(product.to_string())
                .code(code)
                .stratifier(stratifiers)
                .build()?,
        ));
    }
    Ok(groups)
}

fn reactions_group(s: &DailySubmission) -> Result<MeasureReportGroup> {
    let total: u64 = s.reactions.iter().map(|r| r.count).sum();
    let mut strata = Vec::new();
    for r in &s.reactions {
        strata.push(Some(
            MeasureReportGroupStratifierStratum::builder()
                .component(vec![
                    Some(component("reaction-type", systems::DAILY, &r.kind)?),
                    Some(component("severity", systems::SEVERITY, &r.severity)?),
                ])
                .population(vec![Some(stratum_population(r.count)?)])
                .build()?,
        ));
    }
    let mut b = MeasureReportGroup::builder()
        .link_id("reactions".to_string())
        .code(daily_code("reactions")?)
        .population(vec![Some(initial_population(total)?)]);
    if !strata.is_empty() {
        b = b.stratifier(vec![Some(
            MeasureReportGroupStratifier::builder()
                .link_id("reactions.type-severity".to_string())
                .code(daily_code("reaction-type-severity")?)
                .stratum(strata)
                .build()?,
        )]);
    }
    Ok(b.build()?)
}

fn discards_group(s: &DailySubmission) -> Result<MeasureReportGroup> {
    let mut strata = Vec::new();
    for d in &s.discards {
        let measure = hemobridge_canonical::Product::from_code(&d.product)
            .map(|p| p.measure().as_str())
            .unwrap_or("U");
        strata.push(Some(
            MeasureReportGroupStratifierStratum::builder()
                .component(vec![
                    Some(component("product", systems::PRODUCT, &d.product)?),
                    Some(component("discard-reason", systems::DAILY, &d.reason)?),
                ])
                .measure_score(MeasureReportGroupStratifierStratumMeasureScore::Quantity(
                    measure_quantity(d.quantity, measure)?,
                ))
                .build()?,
        ));
    }
    let mut b = MeasureReportGroup::builder()
        .link_id("discards".to_string())
        .code(daily_code("discards")?);
    if !strata.is_empty() {
        b = b.stratifier(vec![Some(
            MeasureReportGroupStratifier::builder()
                .link_id("discards.product-reason".to_string())
                .code(daily_code("discard-product-reason")?)
                .stratum(strata)
                .build()?,
        )]);
    }
    Ok(b.build()?)
}

/// The daily submission as a `MeasureReport` (status `complete`, type
/// `summary`, period the local day, reporter the hospital).
pub fn measure_report(s: &DailySubmission) -> Result<MeasureReport> {
    let day = s.date.to_string();
    let mut groups = product_groups(s)?;
    groups.push(Some(
        MeasureReportGroup::builder()
            .link_id("patients-transfused".to_string())
            .code(daily_code("patients-transfused")?)
            .population(vec![Some(initial_population(s.patients_transfused)?)])
            .build()?,
    ));
    groups.push(Some(reactions_group(s)?));
    groups.push(Some(discards_group(s)?));
    let day_date = fhir_sdk::DateTime::Date(date(&s.date)?);
    Ok(MeasureReport::builder()
        .id(ids::daily_report_id(&s.hospital, &day))
        .identifier(vec![
            Some(identifier(
                systems::DAILY_SUBMISSION,
                &format!("{}/{day}", s.hospital),
            )?),
            Some(identifier(
                systems::DAILY_SUBMISSION_VERSION,
                &format!("{}/{day}/{}", s.hospital, s.version),
            )?),
        ])
        .status(MeasureReportStatus::Complete)
        .r#type(MeasureReportType::Summary)
        .data_update_type(SubmitDataUpdateType::Snapshot)
        .measure(systems::DAILY_MEASURE.to_string())
        .date(date_time(&s.computed_at)?)
        .reporter(logical_reference(
            "Organization",
            identifier(systems::FACILITY, &s.hospital)?,
        )?)
        .period(
            fhir_sdk::r5::types::Period::builder()
                .start(day_date.clone())
                .end(day_date)
                .build()?,
        )
        .group(groups)
        .build()?)
}

/// The daily submission as a FHIR R5 `transaction` Bundle: the
/// `MeasureReport`, `PUT MeasureReport/{id}` (idempotent: sending the same
/// or a later version again replaces it). Serialize with `serde_json`.
pub fn daily_bundle(s: &DailySubmission) -> Result<Bundle> {
    let report = measure_report(s)?;
    let id = ids::daily_report_id(&s.hospital, &s.date.to_string());
    let entry = BundleEntry::builder()
        .resource(Resource::from(report))
        .request(
            BundleEntryRequest::builder()
                .method(HTTPVerb::Put)
                .url(format!("MeasureReport/{id}"))
                .build()?,
        )
        .build()?;
    Ok(Bundle::builder()
        .r#type(BundleType::Transaction)
        .entry(vec![Some(entry)])
        .build()?)
}
