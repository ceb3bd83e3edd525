//! CRM object endpoints: list, get, update, batch read and batch update.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, parse_json};
use super::guard::Caller;
use super::query::QueryParams;
use super::render::{add_associations, record_json, selected_properties};
use crate::generator::iso_millis;
use crate::state::SimState;
use crate::store::{ObjectType, Portal};
use crate::tokens::now_ms;
use crate::webhooks::ChangeSource;

/// Max records per list page and inputs per object batch.
pub const MAX_PAGE: usize = 100;
pub const MAX_BATCH: usize = 100;

pub fn object_type(segment: &str) -> Result<ObjectType, ApiError> {
    ObjectType::parse(segment).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            format!("Unable to infer object type from: {segment}"),
        )
    })
}

fn encode_cursor(id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{id}\n"))
}

fn decode_cursor(after: &str) -> Result<u64, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(after.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::validation(format!(
                "Invalid input: after '{after}' is not a valid paging cursor."
            ))
        })
}

fn association_targets(params: &QueryParams) -> Vec<ObjectType> {
    params
        .list("associations")
        .unwrap_or_default()
        .iter()
        .filter_map(|t| ObjectType::parse(t))
        .collect()
}

/// `GET /crm/v3/objects/{type}`.
pub async fn list(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.read_scope()])?;
    let params = QueryParams::parse(raw.as_deref());
    let limit = params.bounded("limit", 10, MAX_PAGE)?;
    let archived = params.flag("archived")?;
    let from = params
        .get("after")
        .map(decode_cursor)
        .transpose()?
        .unwrap_or(0);
    let properties = selected_properties(object, params.list("properties").as_deref());
    let targets = association_targets(&params);
    let portal = caller.portal.read();
    let mut page = portal.store(object).iter_from(from, archived);
    let mut results = Vec::with_capacity(limit);
    for record in page.by_ref().take(limit) {
        let mut out = record_json(&portal, object, record, &properties);
        add_associations(&mut out, &portal, object, record.id, &targets);
        results.push(out);
    }
    let mut body = json!({ "results": results });
    if let Some(next) = page.next() {
        let after = encode_cursor(next.id);
        let link = format!(
            "?after={}",
            url::form_urlencoded::byte_serialize(after.as_bytes()).collect::<String>()
        );
        body["paging"] = json!({"next": {"after": after, "link": link}});
    }
    Ok(axum::Json(body).into_response())
}

fn find_by(
    portal: &Portal,
    object: ObjectType,
    id: &str,
    id_property: Option<&str>,
    archived: bool,
) -> Option<u64> {
    let store = portal.store(object);
    match id_property {
        None | Some("hs_object_id") => id
            .parse()
            .ok()
            .filter(|id| store.get(*id).is_some_and(|r| r.archived == archived)),
        Some(property) => store
            .iter()
            .filter(|r| r.archived == archived)
            .find(|r| store.value(r, property).is_some_and(|v| v == id))
            .map(|r| r.id),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("Object not found.  objectId are usually numeric.")
        .with("context", json!({"id": [id]}))
}

/// `GET /crm/v3/objects/{type}/{id}`.
pub async fn get_one(
    Extension(caller): Extension<Caller>,
    Path((object, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.read_scope()])?;
    let params = QueryParams::parse(raw.as_deref());
    let archived = params.flag("archived")?;
    let properties = selected_properties(object, params.list("properties").as_deref());
    let targets = association_targets(&params);
    let portal = caller.portal.read();
    let found = find_by(&portal, object, &id, params.get("idProperty"), archived)
        .ok_or_else(|| not_found(&id))?;
    let record = portal
        .store(object)
        .get(found)
        .ok_or_else(|| not_found(&id))?;
    let mut out = record_json(&portal, object, record, &properties);
    add_associations(&mut out, &portal, object, record.id, &targets);
    Ok(axum::Json(out).into_response())
}

#[derive(Deserialize)]
struct UpdateBody {
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
}

/// Property values must be strings (numbers and booleans are accepted and stringified, as
/// HubSpot's JSON coercion does); `null` clears.
fn string_properties(
    map: &serde_json::Map<String, Value>,
) -> Result<Vec<(String, String)>, ApiError> {
    map.iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => {
                    return Err(ApiError::validation(format!(
                        "Invalid value for property {name}: {other}"
                    )));
                }
            };
            Ok((name.clone(), value))
        })
        .collect()
}

/// Checks properties against the schema; `Err` is HubSpot's whole-request 400.
pub fn validate_properties(
    portal: &Portal,
    object: ObjectType,
    props: &[(String, String)],
) -> Result<(), ApiError> {
    let schema = portal.schema(object);
    let mut problems: Vec<(String, &'static str, String)> = Vec::new();
    for (name, value) in props {
        match schema.live(name) {
            None => problems.push((
                name.clone(),
                "PROPERTY_DOESNT_EXIST",
                format!("Property \"{name}\" does not exist"),
            )),
            Some(def) if def.read_only_value => problems.push((
                name.clone(),
                "READ_ONLY_VALUE",
                format!("{name} is a read only property; its value cannot be set."),
            )),
            Some(def) => {
                if let Err(invalid) = crate::store::schema::validate_value(def, value) {
                    problems.push((name.clone(), invalid.code, invalid.message));
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let detail: Vec<Value> = problems
        .iter()
        .map(|(name, code, message)| {
            json!({"isValid": false, "message": message, "error": code, "name": name, "localizedErrorMessage": message})
        })
        .collect();
    let errors: Vec<Value> = problems
        .iter()
        .map(|(name, code, message)| json!({"message": message, "code": code, "context": {"propertyName": [name]}}))
        .collect();
    Err(ApiError::validation(format!(
        "Property values were not valid: {}",
        Value::Array(detail)
    ))
    .with("errors", Value::Array(errors)))
}

/// Applies validated changes and fires webhooks for what changed.
fn apply_update(
    state: &SimState,
    caller: &Caller,
    portal: &mut Portal,
    object: ObjectType,
    id: u64,
    props: &[(String, String)],
) -> Option<()> {
    let changed = portal.store_mut(object).update(id, props, now_ms())?;
    state.properties_changed(
        caller.portal.id,
        object,
        id,
        changed,
        ChangeSource::Integration,
    );
    Some(())
}

fn updated_json(portal: &Portal, object: ObjectType, id: u64, props: &[(String, String)]) -> Value {
    let mut names = selected_properties(object, None);
    names.extend(props.iter().map(|(n, _)| n.clone()));
    names.sort();
    names.dedup();
    portal
        .store(object)
        .get(id)
        .map(|record| record_json(portal, object, record, &names))
        .unwrap_or(Value::Null)
}

/// `PATCH /crm/v3/objects/{type}/{id}`.
pub async fn update_one(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    Path((object, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.write_scope()])?;
    let body: UpdateBody = parse_json(&body)?;
    let props = string_properties(&body.properties)?;
    let mut portal = caller.portal.write();
    validate_properties(&portal, object, &props)?;
    let numeric = id.parse::<u64>().map_err(|_| not_found(&id))?;
    apply_update(&state, &caller, &mut portal, object, numeric, &props)
        .ok_or_else(|| not_found(&id))?;
    Ok(axum::Json(updated_json(&portal, object, numeric, &props)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GdprDeleteBody {
    object_id: Value,
    #[serde(default)]
    id_property: Option<String>,
}

/// `POST /crm/v3/objects/contacts/gdpr-delete` `{objectId, idProperty?}`: deletes the contact
/// for good (no restore) and fires `contact.privacyDeletion`; 204. An unknown email is
/// blocklisted by HubSpot and also answers 204; an unknown id is a 404.
pub async fn gdpr_delete(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    if object != ObjectType::Contacts {
        return Err(ApiError::not_found(
            "GDPR deletion exists for contacts only.",
        ));
    }
    caller.require(&[object.write_scope()])?;
    let body: GdprDeleteBody = parse_json(&body)?;
    let key = id_text(&body.object_id);
    let found = {
        let portal = caller.portal.read();
        [false, true].into_iter().find_map(|archived| {
            find_by(&portal, object, &key, body.id_property.as_deref(), archived)
        })
    };
    match found {
        Some(id) => {
            state
                .gdpr_delete(caller.portal.id, id)
                .map_err(|_| not_found(&key))?;
        }
        None if body.id_property.as_deref() == Some("email") => {}
        None => return Err(not_found(&key)),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchReadBody {
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    inputs: Vec<IdInput>,
}

#[derive(Deserialize)]
struct IdInput {
    id: Value,
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn batch_envelope(results: Vec<Value>, errors: Vec<Value>, started: i64) -> Response {
    let now = iso_millis(now_ms());
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_millis(started),
        "completedAt": now,
    });
    if errors.is_empty() {
        return axum::Json(body).into_response();
    }
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    (StatusCode::MULTI_STATUS, axum::Json(body)).into_response()
}

fn too_many_inputs(count: usize, max: usize) -> ApiError {
    ApiError::validation(format!(
        "Too many inputs: {count}. The maximum is {max} inputs per batch request."
    ))
}

/// `POST /crm/v3/objects/{type}/batch/read`.
pub async fn batch_read(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_ms();
    let object = object_type(&object)?;
    caller.require(&[object.read_scope()])?;
    let archived = QueryParams::parse(raw.as_deref()).flag("archived")?;
    let body: BatchReadBody = parse_json(&body)?;
    if body.inputs.len() > MAX_BATCH {
        return Err(too_many_inputs(body.inputs.len(), MAX_BATCH));
    }
    let properties = selected_properties(object, Some(&body.properties));
    let portal = caller.portal.read();
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for input in &body.inputs {
        let id = id_text(&input.id);
        if !seen.insert(id.clone()) {
            continue;
        }
        match find_by(&portal, object, &id, body.id_property.as_deref(), archived)
            .and_then(|found| portal.store(object).get(found))
        {
            Some(record) => results.push(record_json(&portal, object, record, &properties)),
            None => missing.push(id),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![json!({
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": format!("Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.", object.upper()),
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        })]
    };
    Ok(batch_envelope(results, errors, started))
}

#[derive(Deserialize)]
struct BatchUpdateBody {
    #[serde(default)]
    inputs: Vec<UpdateInput>,
}

#[derive(Deserialize)]
struct UpdateInput {
    id: Value,
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
}

/// `POST /crm/v3/objects/{type}/batch/update`: invalid properties fail the whole batch (400);
/// unknown ids are reported per input in a 207 while the rest are updated.
pub async fn batch_update(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_ms();
    let object = object_type(&object)?;
    caller.require(&[object.write_scope()])?;
    let body: BatchUpdateBody = parse_json(&body)?;
    if body.inputs.len() > MAX_BATCH {
        return Err(too_many_inputs(body.inputs.len(), MAX_BATCH));
    }
    let mut seen = HashSet::new();
    let mut duplicates = Vec::new();
    let mut inputs = Vec::with_capacity(body.inputs.len());
    for input in &body.inputs {
        let id = id_text(&input.id);
        if !seen.insert(id.clone()) {
            duplicates.push(id.clone());
        }
        inputs.push((id, string_properties(&input.properties)?));
    }
    if !duplicates.is_empty() {
        return Err(ApiError::validation(format!(
            "Duplicate IDs found in batch input: {duplicates:?}. IDs must be unique"
        )));
    }
    let mut portal = caller.portal.write();
    for (_, props) in &inputs {
        validate_properties(&portal, object, props)?;
    }
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for (id, props) in &inputs {
        let updated = id.parse::<u64>().ok().and_then(|numeric| {
            apply_update(&state, &caller, &mut portal, object, numeric, props).map(|()| numeric)
        });
        match updated {
            Some(numeric) => results.push(updated_json(&portal, object, numeric, props)),
            None => missing.push(id.clone()),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![json!({
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": format!("Could not update some {} objects, they may be deleted or not exist. Check that ids are valid.", object.upper()),
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        })]
    };
    Ok(batch_envelope(results, errors, started))
}
