//! Associations v4 batch read: up to 1,000 ids per request, following each result's own
//! `paging` cursor until every link is read.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::model::id_string;
use super::{ObjectType, Paging};
use crate::budget::LimitKind;
use crate::client::{Call, PortalClient};
use crate::error::HubSpotError;

/// HubSpot's limit on inputs per association batch read.
pub const MAX_ASSOCIATION_INPUTS: usize = 1_000;

/// Every record an input record is associated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationLinks {
    pub from_id: String,
    /// Distinct associated ids, in HubSpot's order.
    pub to_ids: Vec<String>,
    /// Ids whose association types include HubSpot's "Primary" label.
    pub primary_ids: Vec<String>,
}

#[derive(Serialize)]
struct Input<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a str>,
}

#[derive(Serialize)]
struct Body<'a> {
    inputs: Vec<Input<'a>>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    results: Vec<ResultEntry>,
}

#[derive(Deserialize)]
struct ResultEntry {
    from: FromId,
    #[serde(default)]
    to: Vec<ToEntry>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct FromId {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToEntry {
    #[serde(deserialize_with = "id_string")]
    to_object_id: String,
    #[serde(default)]
    association_types: Vec<AssociationType>,
}

#[derive(Deserialize)]
struct AssociationType {
    #[serde(default)]
    label: Option<String>,
}

impl PortalClient {
    /// Reads the `to` associations of every id in `ids`; ids without any come back with empty
    /// lists, so the caller sees an answer for each input.
    pub async fn batch_read_associations(
        &self,
        from: ObjectType,
        to: ObjectType,
        ids: &[String],
    ) -> Result<Vec<AssociationLinks>, HubSpotError> {
        let mut links: BTreeMap<String, AssociationLinks> = ids
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    AssociationLinks {
                        from_id: id.clone(),
                        to_ids: Vec::new(),
                        primary_ids: Vec::new(),
                    },
                )
            })
            .collect();
        // (id, cursor) pairs still to read; the first round has no cursors.
        let mut pending: Vec<(String, Option<String>)> =
            ids.iter().map(|id| (id.clone(), None)).collect();
        while !pending.is_empty() {
            let mut next_round = Vec::new();
            for chunk in pending.chunks(MAX_ASSOCIATION_INPUTS) {
                let body = Body {
                    inputs: chunk
                        .iter()
                        .map(|(id, after)| Input {
                            id,
                            after: after.as_deref(),
                        })
                        .collect(),
                };
                let response: Response = self
                    .call(Call {
                        endpoint: "associations.batch_read",
                        method: Method::POST,
                        path: self.paths().associations_batch_read(from, to),
                        query: Vec::new(),
                        body: Some(&body),
                        kind: LimitKind::Api,
                    })
                    .await?;
                for entry in response.results {
                    let Some(link) = links.get_mut(&entry.from.id) else {
                        continue;
                    };
                    for target in entry.to {
                        let primary = target
                            .association_types
                            .iter()
                            .any(|t| t.label.as_deref() == Some("Primary"));
                        if !link.to_ids.contains(&target.to_object_id) {
                            link.to_ids.push(target.to_object_id.clone());
                        }
                        if primary && !link.primary_ids.contains(&target.to_object_id) {
                            link.primary_ids.push(target.to_object_id);
                        }
                    }
                    if let Some(after) = Paging::after(&entry.paging) {
                        next_round.push((entry.from.id, Some(after)));
                    }
                }
            }
            pending = next_round;
        }
        Ok(ids.iter().filter_map(|id| links.remove(id)).collect())
    }
}
