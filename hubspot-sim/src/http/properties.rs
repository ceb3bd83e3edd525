//! Properties and property groups: list, read, create (201 + Location), batch create, update,
//! archive; 409 on duplicates; HubSpot's definition validation.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, parse_json};
use super::guard::Caller;
use super::objects::object_type;
use super::query::QueryParams;
use crate::generator::iso_millis;
use crate::store::ObjectType;
use crate::store::schema::{
    ArchiveRefused, PropertyDef, PropertyGroup, PropertyOption, validate_definition, validate_name,
};
use crate::tokens::now_ms;

fn read_scopes(object: ObjectType) -> [&'static str; 2] {
    [object.schema_read_scope(), object.read_scope()]
}

fn invalid(error: crate::store::schema::Invalid) -> ApiError {
    ApiError::validation(error.message.clone()).with(
        "errors",
        json!([{"message": error.message, "code": error.code}]),
    )
}

fn property_missing(object: ObjectType, name: &str) -> ApiError {
    ApiError::not_found(format!(
        "Unable to find property {name} of object type {}",
        object.plural()
    ))
}

/// `Location` of a created resource, built from the path the caller used.
fn location(uri: &OriginalUri, name: &str) -> String {
    let path = uri
        .0
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/batch/create");
    format!("{path}/{name}")
}

/// `GET /crm/v3/properties/{type}`.
pub async fn list(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&read_scopes(object))?;
    let archived = QueryParams::parse(raw.as_deref()).flag("archived")?;
    let portal = caller.portal.read();
    let results: Vec<Value> = portal
        .schema(object)
        .properties
        .iter()
        .filter(|p| p.archived == archived)
        .map(PropertyDef::to_json)
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

/// `GET /crm/v3/properties/{type}/{name}`.
pub async fn get(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&read_scopes(object))?;
    let archived = QueryParams::parse(raw.as_deref()).flag("archived")?;
    let portal = caller.portal.read();
    let def = portal
        .schema(object)
        .property(&name)
        .filter(|p| p.archived == archived)
        .ok_or_else(|| property_missing(object, &name))?;
    Ok(axum::Json(def.to_json()).into_response())
}

/// A property definition as posted by a client.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    name: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    value_type: Option<String>,
    field_type: Option<String>,
    group_name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    options: Vec<PropertyOption>,
    #[serde(default)]
    display_order: Option<i32>,
    #[serde(default)]
    has_unique_value: bool,
    #[serde(default)]
    hidden: bool,
    #[serde(default = "yes")]
    form_field: bool,
}

fn yes() -> bool {
    true
}

/// Validates and stores one definition; `Ok(def)` on create or restore of an archived one.
fn create_property(
    caller: &Caller,
    object: ObjectType,
    input: PropertyCreate,
) -> Result<PropertyDef, ApiError> {
    let missing: Vec<&str> = [
        ("name", input.name.is_none()),
        ("label", input.label.is_none()),
        ("type", input.value_type.is_none()),
        ("fieldType", input.field_type.is_none()),
        ("groupName", input.group_name.is_none()),
    ]
    .into_iter()
    .filter(|(_, absent)| *absent)
    .map(|(field, _)| field)
    .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )));
    }
    let name = input.name.unwrap_or_default();
    let value_type = input.value_type.unwrap_or_default();
    let field_type = input.field_type.unwrap_or_default();
    let group_name = input.group_name.unwrap_or_default();
    validate_name(&name).map_err(invalid)?;
    validate_definition(&value_type, &field_type, &input.options).map_err(invalid)?;
    let mut portal = caller.portal.write();
    let schema = portal.schema_mut(object);
    if schema.group(&group_name).is_none_or(|g| g.archived) {
        return Err(ApiError::validation(format!(
            "Property group {group_name} does not exist."
        )));
    }
    let now = now_ms();
    let def = PropertyDef {
        name: name.clone(),
        label: input.label.unwrap_or_default(),
        value_type,
        field_type,
        group_name,
        description: input.description,
        options: input.options,
        display_order: input.display_order.unwrap_or(-1),
        has_unique_value: input.has_unique_value,
        hidden: input.hidden,
        form_field: input.form_field,
        hubspot_defined: false,
        read_only_value: false,
        archived: false,
        created_ms: now,
        updated_ms: now,
    };
    match schema.property_mut(&name) {
        Some(existing) if existing.archived => {
            *existing = def.clone();
            Ok(def)
        }
        Some(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "OBJECT_ALREADY_EXISTS",
            format!("A property named '{name}' already exists."),
        )
        .with("subCategory", json!("Properties.PROPERTY_WITH_NAME_EXISTS"))),
        None => {
            schema.properties.push(def.clone());
            Ok(def)
        }
    }
}

/// `POST /crm/v3/properties/{type}`.
pub async fn create(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    uri: OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let input: PropertyCreate = parse_json(&body)?;
    let def = create_property(&caller, object, input)?;
    let location = location(&uri, &def.name);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(def.to_json()),
    )
        .into_response())
}

#[derive(Deserialize)]
struct BatchCreate {
    #[serde(default)]
    inputs: Vec<Value>,
}

/// `POST /crm/v3/properties/{type}/batch/create`: 201, or 207 with per-input errors.
pub async fn batch_create(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_ms();
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let batch: BatchCreate = parse_json(&body)?;
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in batch.inputs {
        let outcome = serde_json::from_value::<PropertyCreate>(input)
            .map_err(|e| ApiError::bad_json(&e))
            .and_then(|input| create_property(&caller, object, input));
        match outcome {
            Ok(def) => results.push(def.to_json()),
            Err(error) => {
                let mut body = Value::Object(error.body);
                if let Some(map) = body.as_object_mut() {
                    map.remove("correlationId");
                }
                errors.push(body);
            }
        }
    }
    let mut out = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_millis(started),
        "completedAt": iso_millis(now_ms()),
    });
    if errors.is_empty() {
        return Ok((StatusCode::CREATED, axum::Json(out)).into_response());
    }
    out["numErrors"] = json!(errors.len());
    out["errors"] = Value::Array(errors);
    Ok((StatusCode::MULTI_STATUS, axum::Json(out)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertyUpdate {
    label: Option<String>,
    #[serde(rename = "type")]
    value_type: Option<String>,
    field_type: Option<String>,
    group_name: Option<String>,
    description: Option<String>,
    options: Option<Vec<PropertyOption>>,
    display_order: Option<i32>,
    hidden: Option<bool>,
    form_field: Option<bool>,
}

/// `PATCH /crm/v3/properties/{type}/{name}` (`options` replaces the whole list).
pub async fn update(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let patch: PropertyUpdate = parse_json(&body)?;
    let mut portal = caller.portal.write();
    let schema = portal.schema_mut(object);
    if let Some(group) = &patch.group_name
        && schema.group(group).is_none_or(|g| g.archived)
    {
        return Err(ApiError::validation(format!(
            "Property group {group} does not exist."
        )));
    }
    let def = schema
        .property_mut(&name)
        .filter(|p| !p.archived)
        .ok_or_else(|| property_missing(object, &name))?;
    if def.hubspot_defined && (patch.value_type.is_some() || patch.field_type.is_some()) {
        return Err(ApiError::validation(format!(
            "{name} is a HubSpot-defined property; its type cannot be changed."
        )));
    }
    let value_type = patch
        .value_type
        .clone()
        .unwrap_or_else(|| def.value_type.clone());
    let field_type = patch
        .field_type
        .clone()
        .unwrap_or_else(|| def.field_type.clone());
    let options = patch.options.clone().unwrap_or_else(|| def.options.clone());
    validate_definition(&value_type, &field_type, &options).map_err(invalid)?;
    def.value_type = value_type;
    def.field_type = field_type;
    def.options = options;
    if let Some(label) = patch.label {
        def.label = label;
    }
    if let Some(group) = patch.group_name {
        def.group_name = group;
    }
    if let Some(description) = patch.description {
        def.description = description;
    }
    if let Some(order) = patch.display_order {
        def.display_order = order;
    }
    if let Some(hidden) = patch.hidden {
        def.hidden = hidden;
    }
    if let Some(form_field) = patch.form_field {
        def.form_field = form_field;
    }
    def.updated_ms = now_ms();
    Ok(axum::Json(def.to_json()).into_response())
}

/// `DELETE /crm/v3/properties/{type}/{name}`: archives (204).
pub async fn archive(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let mut portal = caller.portal.write();
    match portal.schema_mut(object).archive_property(&name, now_ms()) {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(ArchiveRefused::Missing) => Err(property_missing(object, &name)),
        Err(ArchiveRefused::HubSpotDefined) => Err(ApiError::validation(format!(
            "{name} is a HubSpot-defined property and cannot be archived."
        ))),
    }
}

fn group_missing(name: &str) -> ApiError {
    ApiError::not_found(format!("Unable to find property group {name}"))
}

/// `GET /crm/v3/properties/{type}/groups`.
pub async fn list_groups(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&read_scopes(object))?;
    let portal = caller.portal.read();
    let results: Vec<&PropertyGroup> = portal
        .schema(object)
        .groups
        .iter()
        .filter(|g| !g.archived)
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

/// `GET /crm/v3/properties/{type}/groups/{name}`.
pub async fn get_group(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&read_scopes(object))?;
    let portal = caller.portal.read();
    let group = portal
        .schema(object)
        .group(&name)
        .filter(|g| !g.archived)
        .ok_or_else(|| group_missing(&name))?;
    Ok(axum::Json(group).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInput {
    name: Option<String>,
    label: Option<String>,
    display_order: Option<i32>,
}

/// `POST /crm/v3/properties/{type}/groups`: 201 + Location; 409 if it exists.
pub async fn create_group(
    Extension(caller): Extension<Caller>,
    Path(object): Path<String>,
    uri: OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let input: GroupInput = parse_json(&body)?;
    let (Some(name), Some(label)) = (input.name, input.label) else {
        return Err(ApiError::validation(
            "Missing required fields: name and label are required.",
        ));
    };
    validate_name(&name).map_err(invalid)?;
    let mut portal = caller.portal.write();
    let schema = portal.schema_mut(object);
    let group = PropertyGroup {
        name: name.clone(),
        label,
        display_order: input.display_order.unwrap_or(-1),
        archived: false,
    };
    match schema.groups.iter_mut().find(|g| g.name == name) {
        Some(existing) if existing.archived => *existing = group.clone(),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "OBJECT_ALREADY_EXISTS",
                format!("A property group named '{name}' already exists."),
            )
            .with(
                "subCategory",
                json!("PropertyGroupError.GROUP_ALREADY_EXISTS"),
            ));
        }
        None => schema.groups.push(group.clone()),
    }
    let location = location(&uri, &name);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(group),
    )
        .into_response())
}

/// `PATCH /crm/v3/properties/{type}/groups/{name}`.
pub async fn update_group(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let input: GroupInput = parse_json(&body)?;
    let mut portal = caller.portal.write();
    let group = portal
        .schema_mut(object)
        .groups
        .iter_mut()
        .find(|g| g.name == name && !g.archived)
        .ok_or_else(|| group_missing(&name))?;
    if let Some(label) = input.label {
        group.label = label;
    }
    if let Some(order) = input.display_order {
        group.display_order = order;
    }
    Ok(axum::Json(group.clone()).into_response())
}

/// `DELETE /crm/v3/properties/{type}/groups/{name}` (204).
pub async fn archive_group(
    Extension(caller): Extension<Caller>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_type(&object)?;
    caller.require(&[object.schema_write_scope()])?;
    let mut portal = caller.portal.write();
    let group = portal
        .schema_mut(object)
        .groups
        .iter_mut()
        .find(|g| g.name == name && !g.archived)
        .ok_or_else(|| group_missing(&name))?;
    group.archived = true;
    Ok(StatusCode::NO_CONTENT.into_response())
}
