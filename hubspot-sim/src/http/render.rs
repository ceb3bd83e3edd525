//! Renders stored records as HubSpot `SimplePublicObject(WithAssociations)` JSON.

use serde_json::{Map, Value, json};

use crate::generator::iso_millis;
use crate::store::associations::type_ids;
use crate::store::objects::Record;
use crate::store::{ObjectType, Portal};

/// Property names to include: the caller's, or the type's defaults.
pub fn selected_properties(object: ObjectType, requested: Option<&[String]>) -> Vec<String> {
    match requested {
        Some(names) if !names.is_empty() => names.to_vec(),
        _ => object
            .default_properties()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}

/// One record; properties without a value are omitted, all values are strings.
pub fn record_json(
    portal: &Portal,
    object: ObjectType,
    record: &Record,
    properties: &[String],
) -> Value {
    let store = portal.store(object);
    let mut props = Map::new();
    for name in properties {
        if let Some(value) = store.value(record, name) {
            props.insert(name.clone(), Value::String(value.into_owned()));
        }
    }
    let mut out = json!({
        "id": record.id.to_string(),
        "properties": props,
        "createdAt": iso_millis(record.created_ms),
        "updatedAt": iso_millis(record.updated_ms),
        "archived": record.archived,
    });
    if record.archived {
        out["archivedAt"] = json!(iso_millis(record.updated_ms));
    }
    out
}

/// Adds the v3 inline `associations` block (keyed by the plural type name; a primary link is
/// listed under both its primary and unlabeled type names, as HubSpot does).
pub fn add_associations(
    out: &mut Value,
    portal: &Portal,
    object: ObjectType,
    id: u64,
    targets: &[ObjectType],
) {
    let mut block = Map::new();
    for target in targets {
        let Some((unlabeled, primary)) = type_ids(object, *target) else {
            continue;
        };
        let mut results = Vec::new();
        for link in portal.associations.links(object, id, *target) {
            if link.primary && primary.name != unlabeled.name {
                results.push(json!({"id": link.to_id.to_string(), "type": primary.name}));
            }
            results.push(json!({"id": link.to_id.to_string(), "type": unlabeled.name}));
        }
        if !results.is_empty() {
            block.insert(target.plural().to_owned(), json!({ "results": results }));
        }
    }
    if !block.is_empty() {
        out["associations"] = Value::Object(block);
    }
}
