//! `POST /crm/v3/objects/{type}/search`: filter groups, one sort, integer `after`, the
//! 10,000-result cap and the indexing lag.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, parse_json};
use super::guard::Caller;
use super::objects::object_type;
use super::render::{record_json, selected_properties};
use crate::state::SimState;
use crate::store::objects::{ObjectStore, Record};
use crate::store::schema::{Schema, parse_datetime_ms};
use crate::store::{ObjectType, Portal};

pub const MAX_LIMIT: usize = 200;
pub const MAX_RESULTS: usize = 10_000;
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 6;
const MAX_FILTERS: usize = 18;
const MAX_QUERY_CHARS: usize = 3_000;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchBody {
    filter_groups: Vec<FilterGroup>,
    sorts: Vec<SortSpec>,
    properties: Vec<String>,
    limit: Option<usize>,
    after: Option<serde_json::Value>,
    query: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FilterGroup {
    filters: Vec<Filter>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Filter {
    property_name: String,
    operator: String,
    value: Option<serde_json::Value>,
    values: Option<Vec<serde_json::Value>>,
    high_value: Option<serde_json::Value>,
    /// `value` and `highValue` as epoch ms, parsed once per request.
    #[serde(skip)]
    value_ms: Option<i64>,
    #[serde(skip)]
    high_ms: Option<i64>,
}

/// Operators HubSpot's search accepts.
const OPERATORS: [&str; 13] = [
    "LT",
    "LTE",
    "GT",
    "GTE",
    "EQ",
    "NEQ",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

/// Which filter value a comparison is against.
enum Operand<'a> {
    Value,
    High,
    Item(&'a serde_json::Value),
}

/// Applies a filter's operator given how the record's value compares to each operand.
fn evaluate(filter: &Filter, present: bool, cmp: impl Fn(Operand<'_>) -> Option<Ordering>) -> bool {
    let at_least = |o| matches!(cmp(o), Some(Ordering::Greater | Ordering::Equal));
    let at_most = |o| matches!(cmp(o), Some(Ordering::Less | Ordering::Equal));
    match filter.operator.as_str() {
        "EQ" => cmp(Operand::Value) == Some(Ordering::Equal),
        "NEQ" => cmp(Operand::Value) != Some(Ordering::Equal),
        "LT" => cmp(Operand::Value) == Some(Ordering::Less),
        "LTE" => at_most(Operand::Value),
        "GT" => cmp(Operand::Value) == Some(Ordering::Greater),
        "GTE" => at_least(Operand::Value),
        "BETWEEN" => at_least(Operand::Value) && at_most(Operand::High),
        "IN" | "NOT_IN" => {
            let found = filter
                .values
                .iter()
                .flatten()
                .any(|item| cmp(Operand::Item(item)) == Some(Ordering::Equal));
            (filter.operator == "IN") == found
        }
        "HAS_PROPERTY" => present,
        "NOT_HAS_PROPERTY" => !present,
        _ => false,
    }
}

/// Precomputed sort key.
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Number(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SortSpec {
    Object {
        #[serde(rename = "propertyName")]
        property_name: String,
        #[serde(default)]
        direction: Option<String>,
    },
    Plain(String),
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How values of a property compare.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Time,
    Enumeration,
    Text,
}

fn kind_of(schema: &Schema, name: &str) -> Kind {
    match schema.property(name).map(|p| p.value_type.as_str()) {
        Some("number") => Kind::Number,
        Some("datetime" | "date") => Kind::Time,
        Some("enumeration" | "bool") => Kind::Enumeration,
        _ => Kind::Text,
    }
}

fn compare(kind: Kind, left: &str, right: &str) -> Option<Ordering> {
    match kind {
        Kind::Number => left
            .parse::<f64>()
            .ok()?
            .partial_cmp(&right.parse::<f64>().ok()?),
        Kind::Time => Some(parse_datetime_ms(left)?.cmp(&parse_datetime_ms(right)?)),
        Kind::Enumeration => Some(left.cmp(right)),
        Kind::Text => Some(left.to_lowercase().cmp(&right.to_lowercase())),
    }
}

struct Matcher<'a> {
    portal: &'a Portal,
    object: ObjectType,
    store: &'a ObjectStore,
    schema: &'a Schema,
}

impl Matcher<'_> {
    fn value(&self, record: &Record, name: &str) -> Option<String> {
        if let Some(target) = name.strip_prefix("associations.") {
            let target = ObjectType::parse(target)?;
            let ids: Vec<String> = self
                .portal
                .associations
                .links(self.object, record.id, target)
                .map(|l| l.to_id.to_string())
                .collect();
            return (!ids.is_empty()).then(|| ids.join(";"));
        }
        self.store.value(record, name).map(|v| v.into_owned())
    }

    /// Datetime properties computed from the record, compared as epoch ms without formatting.
    fn derived_ms(&self, record: &Record, name: &str) -> Option<i64> {
        match name {
            "createdate" => Some(record.created_ms),
            "hs_lastmodifieddate" => Some(record.updated_ms),
            "lastmodifieddate" if self.object == ObjectType::Contacts => Some(record.updated_ms),
            _ => None,
        }
    }

    fn time_of(&self, record: &Record, name: &str) -> Option<i64> {
        self.derived_ms(record, name)
            .or_else(|| self.value(record, name).and_then(|v| parse_datetime_ms(&v)))
    }

    fn matches(&self, record: &Record, filter: &Filter) -> bool {
        let name = filter.property_name.as_str();
        let kind = kind_of(self.schema, name);
        if name.starts_with("associations.") {
            let ids = self.value(record, name);
            let expected = filter.value.as_ref().map(text).unwrap_or_default();
            return match filter.operator.as_str() {
                "EQ" => ids.is_some_and(|ids| ids.split(';').any(|id| id == expected)),
                "HAS_PROPERTY" => ids.is_some(),
                "NOT_HAS_PROPERTY" => ids.is_none(),
                _ => false,
            };
        }
        if kind == Kind::Time {
            let have = self.time_of(record, name);
            return evaluate(filter, have.is_some(), |operand| {
                let want = match operand {
                    Operand::Value => filter.value_ms,
                    Operand::High => filter.high_ms,
                    Operand::Item(item) => parse_datetime_ms(&text(item)),
                };
                Some(have?.cmp(&want?))
            });
        }
        let actual = self.value(record, name);
        if matches!(
            filter.operator.as_str(),
            "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN"
        ) {
            let token = filter
                .value
                .as_ref()
                .map(text)
                .unwrap_or_default()
                .trim_matches('*')
                .to_lowercase();
            let found = actual.is_some_and(|v| v.to_lowercase().contains(&token));
            return (filter.operator == "CONTAINS_TOKEN") == found;
        }
        evaluate(filter, actual.is_some(), |operand| {
            let want = match operand {
                Operand::Value => filter.value.as_ref().map(text)?,
                Operand::High => filter.high_value.as_ref().map(text)?,
                Operand::Item(item) => text(item),
            };
            compare(kind, actual.as_deref()?, &want)
        })
    }

    /// A sort key computed once per hit (numbers and times as numbers, text lower-cased).
    fn sort_key(&self, record: &Record, name: &str, kind: Kind) -> Option<SortKey> {
        match kind {
            Kind::Time => self
                .time_of(record, name)
                .map(|ms| SortKey::Number(ms as f64)),
            Kind::Number => self
                .value(record, name)
                .and_then(|v| v.parse::<f64>().ok())
                .map(SortKey::Number),
            Kind::Text => self
                .value(record, name)
                .map(|v| SortKey::Text(v.to_lowercase())),
            Kind::Enumeration => self.value(record, name).map(SortKey::Text),
        }
    }

    fn query_matches(&self, record: &Record, query: &str) -> bool {
        let needle = query.to_lowercase();
        let fields: &[&str] = match self.object {
            ObjectType::Contacts => &["firstname", "lastname", "email", "phone"],
            ObjectType::Companies => &["name", "domain", "website", "phone"],
            ObjectType::Deals => &["dealname", "pipeline", "dealstage", "description"],
        };
        fields.iter().any(|f| {
            self.store
                .value(record, f)
                .is_some_and(|v| v.to_lowercase().contains(&needle))
        })
    }
}

fn validate(body: &SearchBody) -> Result<(usize, usize), ApiError> {
    let limit = body.limit.unwrap_or(10);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::validation(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    if body.filter_groups.len() > MAX_GROUPS {
        return Err(ApiError::validation(format!(
            "Too many filter groups: {}. The maximum is {MAX_GROUPS}.",
            body.filter_groups.len()
        )));
    }
    let total: usize = body.filter_groups.iter().map(|g| g.filters.len()).sum();
    if body
        .filter_groups
        .iter()
        .any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
        || total > MAX_FILTERS
    {
        return Err(ApiError::validation(format!(
            "Too many filters: at most {MAX_FILTERS_PER_GROUP} per group and {MAX_FILTERS} in total."
        )));
    }
    if let Some(bad) = body
        .filter_groups
        .iter()
        .flat_map(|g| &g.filters)
        .find(|f| !OPERATORS.contains(&f.operator.as_str()))
    {
        return Err(ApiError::validation(format!(
            "Unknown filter operator '{}'; use one of {}",
            bad.operator,
            OPERATORS.join(", ")
        )));
    }
    if body.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is supported."));
    }
    if body
        .query
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        return Err(ApiError::validation(format!(
            "The query is longer than {MAX_QUERY_CHARS} characters."
        )));
    }
    let after = match &body.after {
        None => 0,
        Some(value) => text(value)
            .trim()
            .parse::<usize>()
            .map_err(|_| ApiError::validation(format!("after must be an integer, got {value}")))?,
    };
    if after >= MAX_RESULTS {
        return Err(ApiError::validation(format!(
            "Paging beyond {MAX_RESULTS} results is not supported. Narrow your search (after={after})."
        )));
    }
    Ok((limit, after))
}

/// `POST /crm/v3/objects/{type}/search`.
pub async fn search(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.read_scope()])?;
    let mut body: SearchBody = parse_json(&body)?;
    let (limit, after) = validate(&body)?;
    for filter in body
        .filter_groups
        .iter_mut()
        .flat_map(|g| g.filters.iter_mut())
    {
        filter.value_ms = filter
            .value
            .as_ref()
            .and_then(|v| parse_datetime_ms(&text(v)));
        filter.high_ms = filter
            .high_value
            .as_ref()
            .and_then(|v| parse_datetime_ms(&text(v)));
    }
    let lag = state.config.search_index_lag;
    let cutoff = Instant::now().checked_sub(lag);
    let portal = caller.portal.read();
    let matcher = Matcher {
        portal: &portal,
        object,
        store: portal.store(object),
        schema: portal.schema(object),
    };
    let query = body
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let mut hits: Vec<&Record> = matcher
        .store
        .iter_from(0, false)
        .filter(|r| match cutoff {
            Some(cut) if !lag.is_zero() => !matcher.store.changed_after(r.id, cut),
            _ => true,
        })
        .filter(|r| query.is_none_or(|q| matcher.query_matches(r, q)))
        .filter(|r| {
            body.filter_groups.is_empty()
                || body
                    .filter_groups
                    .iter()
                    .any(|g| g.filters.iter().all(|f| matcher.matches(r, f)))
        })
        .collect();
    if let Some(sort) = body.sorts.first() {
        let (name, descending) = match sort {
            SortSpec::Object {
                property_name,
                direction,
            } => (
                property_name.as_str(),
                direction
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case("DESCENDING")),
            ),
            SortSpec::Plain(name) => (name.trim_start_matches('-'), name.starts_with('-')),
        };
        let kind = kind_of(matcher.schema, name);
        let mut keyed: Vec<(Option<SortKey>, &Record)> = hits
            .into_iter()
            .map(|r| (matcher.sort_key(r, name, kind), r))
            .collect();
        keyed.sort_by(|(a, ra), (b, rb)| {
            let ordering = match (a, b) {
                (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let ordering = if descending {
                ordering.reverse()
            } else {
                ordering
            };
            ordering.then(ra.id.cmp(&rb.id))
        });
        hits = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let total = hits.len();
    let properties = selected_properties(object, Some(&body.properties));
    let results: Vec<serde_json::Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|r| record_json(&portal, object, r, &properties))
        .collect();
    let mut out = json!({ "total": total, "results": results });
    if after + limit < total {
        out["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    drop(portal);
    if let Some(cut) = cutoff.filter(|_| !lag.is_zero()) {
        caller.portal.write().store_mut(object).prune_changes(cut);
    }
    Ok(axum::Json(out).into_response())
}
