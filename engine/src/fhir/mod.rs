//! FHIR R5 reads over the store: one resource by id, or the resources
//! whose identifier matches, built by the pure `hemobridge-fhir` crate.
//!
//! Ids are deterministic (see `hemobridge_fhir::ids`), so a read parses the
//! id back into its natural key and looks that up by primary key or by an
//! indexed column; every candidate is checked by recomputing its id. A
//! hospital scope (`Some(code)`) hides everything that is not that
//! hospital's: the caller answers 404, never 403, so that a hospital cannot
//! learn what exists elsewhere.

mod rows;

use crate::store::Store;
use anyhow::Result;
use hemobridge_fhir::resources as map;
use hemobridge_fhir::{ids, systems, Resource};
use rows::{blood_unit, unit_event};

/// A search by `identifier=[system|]value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierQuery {
    pub system: Option<String>,
    pub value: String,
}

impl IdentifierQuery {
    /// Parses the token `system|value`, `|value` or `value`; `None` when
    /// the value is empty.
    pub fn parse(token: &str) -> Option<IdentifierQuery> {
        let (system, value) = match token.split_once('|') {
            Some((s, v)) => ((!s.is_empty()).then(|| s.to_string()), v),
            None => (None, token),
        };
        (!value.is_empty()).then(|| IdentifierQuery {
            system,
            value: value.to_string(),
        })
    }

    fn system_is(&self, system: &str) -> bool {
        self.system.as_deref().is_none_or(|s| s == system)
    }
}

fn mapped<T: Into<Resource>>(r: Result<T, hemobridge_fhir::MappingError>) -> Result<Resource> {
    r.map(Into::into).map_err(|e| anyhow::anyhow!("{e}"))
}

fn visible(scope: Option<&str>, facility: &str) -> bool {
    scope.is_none_or(|own| own == facility)
}

/// One resource by type and id; `None` when it does not exist or is not
/// visible in `scope`. Unknown types are the caller's business
/// (`hemobridge_fhir::rest::SUPPORTED_TYPES`).
pub async fn read(
    store: &Store,
    resource_type: &str,
    id: &str,
    scope: Option<&str>,
) -> Result<Option<Resource>> {
    match resource_type {
        "Patient" => {
            for (facility, key) in ids::split_candidates(id, "pat") {
                if ids::patient_id(facility, key) == id && visible(scope, facility) {
                    if let Some(r) = patient(store, facility, key).await? {
                        return Ok(Some(r));
                    }
                }
            }
            Ok(None)
        }
        "Organization" => match ids::strip_prefix(id, "org") {
            Some(code) if ids::organization_id(code) == id && visible(scope, code) => {
                organization(store, code).await
            }
            _ => Ok(None),
        },
        "BiologicallyDerivedProduct" => {
            for (din, product) in ids::split_candidates(id, "bdp") {
                if ids::product_id(din, product) == id {
                    if let Some(r) = products(store, din, Some(product), scope).await?.pop() {
                        return Ok(Some(r));
                    }
                }
            }
            Ok(None)
        }
        "BiologicallyDerivedProductDispense" | "Procedure" | "AdverseEvent" => {
            let prefix = match resource_type {
                "Procedure" => "tx",
                "AdverseEvent" => "ae",
                _ => "bdpd",
            };
            match ids::strip_prefix(id, prefix) {
                Some(key) => event_resource(store, resource_type, key, scope).await,
                None => Ok(None),
            }
        }
        "Claim" => {
            for (hospital, claim_id) in ids::split_candidates(id, "waiver") {
                if ids::claim_id(hospital, claim_id) == id && visible(scope, hospital) {
                    if let Some(r) = claim(store, hospital, claim_id).await? {
                        return Ok(Some(r));
                    }
                }
            }
            Ok(None)
        }
        "MeasureReport" => {
            // daily-{hospital}-{YYYY-MM-DD}: the date is the last 10 characters.
            let Some(rest) = ids::strip_prefix(id, "daily") else {
                return Ok(None);
            };
            if rest.len() < 12 || !rest.is_char_boundary(rest.len() - 11) {
                return Ok(None);
            }
            let (hospital, date) = (&rest[..rest.len() - 11], &rest[rest.len() - 10..]);
            if ids::daily_report_id(hospital, date) != id || !visible(scope, hospital) {
                return Ok(None);
            }
            daily_report(store, hospital, date).await
        }
        _ => Ok(None),
    }
}

/// Every resource of a type whose identifier matches, visible in `scope`.
pub async fn search(
    store: &Store,
    resource_type: &str,
    q: &IdentifierQuery,
    scope: Option<&str>,
) -> Result<Vec<Resource>> {
    let mut found = Vec::new();
    match resource_type {
        "Patient" => {
            let facility = match &q.system {
                Some(s) => match s.strip_prefix(&systems::patient_system("")) {
                    Some(f) if !f.is_empty() => Some(f.to_string()),
                    _ => return Ok(found),
                },
                None => None,
            };
            for (f, key) in rows::patient_keys(store, &q.value, facility.as_deref()).await? {
                if visible(scope, &f) {
                    found.extend(patient(store, &f, &key).await?);
                }
            }
        }
        "Organization" if q.system_is(systems::FACILITY) && visible(scope, &q.value) => {
            found.extend(organization(store, &q.value).await?);
        }
        "BiologicallyDerivedProduct" if q.system_is(systems::DIN) => {
            let din = hemobridge_canonical::ids::canonical_din(&q.value);
            found = products(store, din, None, scope).await?;
        }
        "BiologicallyDerivedProductDispense" | "Procedure" | "AdverseEvent"
            if q.system_is(systems::EVENT) =>
        {
            found.extend(event_resource(store, resource_type, &q.value, scope).await?);
        }
        "Claim" if q.system_is(systems::WAIVER_CLAIM) => {
            if let Some((hospital, claim_id)) = q.value.split_once('/') {
                if visible(scope, hospital) {
                    found.extend(claim(store, hospital, claim_id).await?);
                }
            }
        }
        "MeasureReport" if q.system_is(systems::DAILY_SUBMISSION) => {
            if let Some((hospital, date)) = q.value.rsplit_once('/') {
                if visible(scope, hospital) {
                    found.extend(daily_report(store, hospital, date).await?);
                }
            }
        }
        _ => {}
    }
    Ok(found)
}

async fn patient(store: &Store, facility: &str, key: &str) -> Result<Option<Resource>> {
    match rows::patient(store, facility, key).await? {
        Some(p) => Ok(Some(mapped(map::patient(&p))?)),
        None => Ok(None),
    }
}

async fn organization(store: &Store, code: &str) -> Result<Option<Resource>> {
    match store.facility(code).await? {
        Some(f) => Ok(Some(mapped(map::organization(&f))?)),
        None => Ok(None),
    }
}

/// The components of a DIN (one product, or all), each visible only where
/// the scope's hospital has an event on it.
async fn products(
    store: &Store,
    din: &str,
    product: Option<&str>,
    scope: Option<&str>,
) -> Result<Vec<Resource>> {
    let mut out = Vec::new();
    for row in store.units_by_din(din, product).await? {
        let events = store.unit_events(&row.din, &row.product).await?;
        if let Some(own) = scope {
            if !events.iter().any(|e| e.facility == own) {
                continue;
            }
        }
        let Some(unit) = blood_unit(&row) else {
            continue;
        };
        let events: Vec<_> = events.iter().filter_map(unit_event).collect();
        out.push(mapped(map::biologically_derived_product(&unit, &events))?);
    }
    Ok(out)
}

async fn event_resource(
    store: &Store,
    resource_type: &str,
    event_key: &str,
    scope: Option<&str>,
) -> Result<Option<Resource>> {
    let Some(event) = rows::event_by_key(store, event_key).await? else {
        return Ok(None);
    };
    if !visible(scope, &event.facility) {
        return Ok(None);
    }
    let resource = match resource_type {
        "Procedure" => map::transfusion(&event, event_key)
            .map(|r| r.map(Resource::from))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        "AdverseEvent" => map::adverse_event(&event, event_key)
            .map(|r| r.map(Resource::from))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        _ => {
            let unit = store
                .units_by_din(&event.unit.din, Some(event.unit.product.code()))
                .await?
                .pop();
            let quantity = unit
                .as_ref()
                .and_then(|u| u.quantity.map(|q| (q, u.measure.clone())));
            map::dispense(
                &event,
                event_key,
                quantity.as_ref().map(|(q, m)| (*q, m.as_str())),
            )
            .map(|r| r.map(Resource::from))
            .map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    Ok(resource)
}

async fn claim(store: &Store, hospital: &str, claim_id: &str) -> Result<Option<Resource>> {
    match rows::waiver_claim(store, hospital, claim_id).await? {
        Some(c) => Ok(Some(mapped(map::claim(&c))?)),
        None => Ok(None),
    }
}

async fn daily_report(store: &Store, hospital: &str, date: &str) -> Result<Option<Resource>> {
    let Ok(date) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return Ok(None);
    };
    match crate::daily::get(store, hospital, date, None).await? {
        Some(s) => Ok(Some(mapped(hemobridge_fhir::measure_report(&s))?)),
        None => Ok(None),
    }
}
