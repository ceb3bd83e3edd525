//! Associations v4: batch read (≤ 1,000 inputs, per-result paging) and single-record reads.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, parse_json};
use super::guard::Caller;
use super::objects::object_type;
use super::query::QueryParams;
use crate::generator::iso_millis;
use crate::state::SimState;
use crate::store::associations::{Link, type_ids};
use crate::store::{ObjectType, Portal};
use crate::tokens::now_ms;

pub const MAX_INPUTS: usize = 1_000;
/// Single-record reads: "Limit 500 per call".
const SINGLE_MAX: usize = 500;

fn read_scopes() -> [&'static str; 3] {
    [
        ObjectType::Contacts.read_scope(),
        ObjectType::Companies.read_scope(),
        ObjectType::Deals.read_scope(),
    ]
}

fn encode_offset(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_offset(after: &str) -> Result<usize, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(after.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            ApiError::validation(format!(
                "Invalid input: after '{after}' is not a valid paging cursor."
            ))
        })
}

fn link_json(from: ObjectType, to: ObjectType, link: Link) -> Value {
    let mut types = Vec::new();
    if let Some((unlabeled, primary)) = type_ids(from, to) {
        if link.primary && primary.type_id != unlabeled.type_id {
            types.push(json!({"category": "HUBSPOT_DEFINED", "typeId": primary.type_id, "label": primary.label}));
        }
        types.push(json!({"category": "HUBSPOT_DEFINED", "typeId": unlabeled.type_id, "label": unlabeled.label}));
    }
    json!({"toObjectId": link.to_id, "associationTypes": types})
}

fn pair(from: &str, to: &str) -> Result<(ObjectType, ObjectType), ApiError> {
    let (from, to) = (object_type(from)?, object_type(to)?);
    if type_ids(from, to).is_none() {
        return Err(ApiError::validation(format!(
            "No association types exist between {} and {}.",
            from.plural(),
            to.plural()
        )));
    }
    Ok((from, to))
}

#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    inputs: Vec<BatchInput>,
}

#[derive(Deserialize)]
struct BatchInput {
    id: Value,
    #[serde(default)]
    after: Option<String>,
}

fn page(
    portal: &Portal,
    from: ObjectType,
    to: ObjectType,
    id: u64,
    offset: usize,
    size: usize,
) -> (Vec<Value>, Option<usize>, usize) {
    let links: Vec<Link> = portal.associations.links(from, id, to).collect();
    let total = links.len();
    let items = links
        .iter()
        .skip(offset)
        .take(size)
        .map(|l| link_json(from, to, *l))
        .collect();
    let next = (offset + size < total).then_some(offset + size);
    (items, next, total)
}

/// `POST /crm/v4/associations/{from}/{to}/batch/read`.
pub async fn batch_read(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_ms();
    caller.require(&read_scopes())?;
    let (from, to) = pair(&from, &to)?;
    let body: BatchBody = parse_json(&body)?;
    if body.inputs.len() > MAX_INPUTS {
        return Err(ApiError::validation(format!(
            "Too many inputs: {}. The maximum is {MAX_INPUTS} inputs per batch request.",
            body.inputs.len()
        )));
    }
    let size = state.config.association_page_size.max(1);
    let portal = caller.portal.read();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &body.inputs {
        let id_text = match &input.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let offset = input
            .after
            .as_deref()
            .map(decode_offset)
            .transpose()?
            .unwrap_or(0);
        let (items, next, total) = match id_text.parse::<u64>() {
            Ok(id) => page(&portal, from, to, id, offset, size),
            Err(_) => (Vec::new(), None, 0),
        };
        if total == 0 {
            errors.push(json!({
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!("No {} is associated with {} {}.", to.singular(), from.singular(), id_text),
                "context": {"fromObjectId": [id_text]},
                "errors": [],
                "links": {},
            }));
            continue;
        }
        let mut result = json!({"from": {"id": id_text}, "to": items});
        if let Some(next) = next {
            result["paging"] = json!({"next": {"after": encode_offset(next), "link": null}});
        }
        results.push(result);
    }
    let mut out = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_millis(started),
        "completedAt": iso_millis(now_ms()),
    });
    if errors.is_empty() {
        return Ok(axum::Json(out).into_response());
    }
    out["numErrors"] = json!(errors.len());
    out["errors"] = Value::Array(errors);
    Ok((axum::http::StatusCode::MULTI_STATUS, axum::Json(out)).into_response())
}

/// `GET /crm/v4/objects/{type}/{id}/associations/{toType}?limit&after`.
pub async fn single(
    Extension(caller): Extension<Caller>,
    Path((from, id, to)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&read_scopes())?;
    let (from, to) = pair(&from, &to)?;
    let params = QueryParams::parse(raw.as_deref());
    let limit = params.bounded("limit", SINGLE_MAX, SINGLE_MAX)?;
    let offset = params
        .get("after")
        .map(decode_offset)
        .transpose()?
        .unwrap_or(0);
    let portal = caller.portal.read();
    let numeric: u64 = id
        .parse()
        .ok()
        .filter(|n| portal.store(from).get(*n).is_some())
        .ok_or_else(|| ApiError::not_found(format!("{} {id} does not exist", from.singular())))?;
    let (items, next, _) = page(&portal, from, to, numeric, offset, limit);
    let mut out = json!({ "results": items });
    if let Some(next) = next {
        let after = encode_offset(next);
        out["paging"] = json!({"next": {"after": after, "link": format!("?after={after}")}});
    }
    Ok(axum::Json(out).into_response())
}
