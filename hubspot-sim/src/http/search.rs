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

    fn matches(&self, record: &Record, filter: &Filter) -> bool {
        let actual = self.value(record, &filter.property_name);
        let kind = kind_of(self.schema, &filter.property_name);
        let expected = filter.value.as_ref().map(text).unwrap_or_default();
        let is_association = filter.property_name.starts_with("associations.");
        let cmp = |want: &str| actual.as_deref().and_then(|have| compare(kind, have, want));
        match filter.operator.as_str() {
            "EQ" if is_association => {
                actual.is_some_and(|ids| ids.split(';').any(|id| id == expected))
            }
            "EQ" => cmp(&expected) == Some(Ordering::Equal),
            "NEQ" => cmp(&expected) != Some(Ordering::Equal),
            "LT" => cmp(&expected) == Some(Ordering::Less),
            "LTE" => matches!(cmp(&expected), Some(Ordering::Less | Ordering::Equal)),
            "GT" => cmp(&expected) == Some(Ordering::Greater),
            "GTE" => matches!(cmp(&expected), Some(Ordering::Greater | Ordering::Equal)),
            "BETWEEN" => {
                let high = filter.high_value.as_ref().map(text).unwrap_or_default();
                matches!(cmp(&expected), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(cmp(&high), Some(Ordering::Less | Ordering::Equal))
            }
            "IN" | "NOT_IN" => {
                let values: Vec<String> = filter.values.iter().flatten().map(text).collect();
                let found = values.iter().any(|v| cmp(v) == Some(Ordering::Equal));
                (filter.operator == "IN") == found
            }
            "HAS_PROPERTY" => actual.is_some(),
            "NOT_HAS_PROPERTY" => actual.is_none(),
            "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
                let token = expected.trim_matches('*').to_lowercase();
                let found = actual.is_some_and(|v| {
                    v.to_lowercase()
                        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
                        .any(|word| word.contains(&token))
                        || v.to_lowercase().contains(&token)
                });
                (filter.operator == "CONTAINS_TOKEN") == found
            }
            _ => false,
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
    let body: SearchBody = parse_json(&body)?;
    let (limit, after) = validate(&body)?;
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
        let mut keyed: Vec<(Option<String>, &Record)> = hits
            .into_iter()
            .map(|r| (matcher.value(r, name), r))
            .collect();
        keyed.sort_by(|(a, ra), (b, rb)| {
            let ordering = match (a, b) {
                (Some(a), Some(b)) => compare(kind, a, b).unwrap_or(Ordering::Equal),
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
