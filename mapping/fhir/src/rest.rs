//! What the `/fhir` endpoints answer besides resources: the
//! `CapabilityStatement`, `OperationOutcome` errors and `searchset`
//! Bundles. Pure; the engine adds the HTTP.

use crate::datatypes::*;
use fhir_sdk::r5::codes::{
    BundleType, CapabilityStatementKind, FHIRVersion, IssueSeverity, PublicationStatus,
    RestfulCapabilityMode, SearchEntryMode, SearchParamType,
};
use fhir_sdk::r5::resources::{
    Bundle, BundleEntry, BundleEntrySearch, CapabilityStatement, CapabilityStatementRest,
    CapabilityStatementRestResource, CapabilityStatementRestResourceInteraction,
    CapabilityStatementRestResourceSearchParam, CapabilityStatementSoftware, OperationOutcome,
    OperationOutcomeIssue, Resource,
};

pub use fhir_sdk::r5::codes::IssueType;

/// The resource types the server reads and searches, in the order the
/// CapabilityStatement lists them.
pub const SUPPORTED_TYPES: [&str; 8] = [
    "Patient",
    "Organization",
    "BiologicallyDerivedProduct",
    "BiologicallyDerivedProductDispense",
    "Procedure",
    "AdverseEvent",
    "Claim",
    "MeasureReport",
];

/// `GET /fhir/metadata`: a server that supports `read` and `search-type`
/// (parameter `identifier`, a token) on exactly [`SUPPORTED_TYPES`].
/// `date` is the statement's date (the engine passes its start time).
pub fn capability_statement(
    software_version: &str,
    date: &chrono::DateTime<chrono::FixedOffset>,
) -> Result<CapabilityStatement> {
    let mut resources = Vec::new();
    for t in SUPPORTED_TYPES {
        let interactions = ["read", "search-type"]
            .into_iter()
            .map(|code| {
                CapabilityStatementRestResourceInteraction::builder()
                    .code(code.to_string())
                    .build()
                    .map(Some)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let param = CapabilityStatementRestResourceSearchParam::builder()
            .name("identifier".to_string())
            .r#type(SearchParamType::Token)
            .documentation("system|value, or value alone".to_string())
            .build()?;
        resources.push(Some(
            CapabilityStatementRestResource::builder()
                .r#type(t.to_string())
                .interaction(interactions)
                .search_param(vec![Some(param)])
                .build()?,
        ));
    }
    let rest = CapabilityStatementRest::builder()
        .mode(RestfulCapabilityMode::Server)
        .documentation(
            "Bearer token in Authorization; hospital tokens see only their own hospital."
                .to_string(),
        )
        .resource(resources)
        .build()?;
    Ok(CapabilityStatement::builder()
        .status(PublicationStatus::Active)
        .date(date_time(date)?)
        .kind(CapabilityStatementKind::Instance)
        .software(
            CapabilityStatementSoftware::builder()
                .name("hemobridge".to_string())
                .version(software_version.to_string())
                .build()?,
        )
        .fhir_version(FHIRVersion::N500)
        .format(vec![Some("json".to_string())])
        .rest(vec![Some(rest)])
        .build()?)
}

/// An `OperationOutcome` with one error issue. `expression` names the
/// offending element or parameter (e.g. `identifier`), where there is one.
pub fn operation_outcome(
    code: IssueType,
    diagnostics: &str,
    expression: Option<&str>,
) -> Result<OperationOutcome> {
    let mut issue = OperationOutcomeIssue::builder()
        .severity(IssueSeverity::Error)
        .code(code)
        .diagnostics(diagnostics.to_string());
    if let Some(e) = expression {
        issue = issue.expression(vec![Some(e.to_string())]);
    }
    Ok(OperationOutcome::builder()
        .issue(vec![Some(issue.build()?)])
        .build()?)
}

/// A `searchset` Bundle of matches. `base` is the server's base URL
/// (`http://host/fhir`), for each entry's `fullUrl`.
pub fn searchset(base: &str, matches: Vec<Resource>) -> Result<Bundle> {
    let total = u32::try_from(matches.len()).unwrap_or(u32::MAX);
    let mut entries = Vec::new();
    for resource in matches {
        let full_url = resource_location(&resource).map(|l| format!("{base}/{l}"));
        let mut b = BundleEntry::builder()
            .search(
                BundleEntrySearch::builder()
                    .mode(SearchEntryMode::Match)
                    .build()?,
            )
            .resource(resource);
        if let Some(u) = full_url {
            b = b.full_url(u);
        }
        entries.push(Some(b.build()?));
    }
    Ok(Bundle::builder()
        .r#type(BundleType::Searchset)
        .total(total)
        .entry(entries)
        .build()?)
}

/// `Type/id` of a resource that has an id.
fn resource_location(resource: &Resource) -> Option<String> {
    let v = serde_json::to_value(resource).ok()?;
    Some(format!(
        "{}/{}",
        v.get("resourceType")?.as_str()?,
        v.get("id")?.as_str()?
    ))
}
