//! Batch read by id and batch update, in HubSpot's chunks of 100, with every input's fate
//! reported: found or missing, updated or failed with HubSpot's reason.

use std::collections::{BTreeMap, HashSet};

use futures::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{CrmObject, ObjectType};
use crate::budget::LimitKind;
use crate::client::{Call, PortalClient};
use crate::error::{ApiErrorBody, HubSpotError};

/// HubSpot's limit on inputs per object batch request.
pub const MAX_BATCH_INPUTS: usize = 100;

/// Records found, and the ids HubSpot does not know (deleted, merged, never existed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReadResult {
    pub objects: Vec<CrmObject>,
    pub missing: Vec<String>,
}

/// New property values for one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectUpdate {
    pub id: String,
    pub properties: BTreeMap<String, String>,
}

/// Why one input of a batch update was not applied.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFailure {
    pub id: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

/// The fate of every input of a batch update: exactly one of `updated` or `failed` holds each id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchUpdateReport {
    pub updated: Vec<String>,
    pub failed: Vec<InputFailure>,
}

#[derive(Serialize)]
struct IdInput<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct BatchReadBody<'a> {
    properties: &'a [String],
    inputs: Vec<IdInput<'a>>,
}

#[derive(Serialize)]
struct BatchUpdateBody<'a> {
    inputs: &'a [ObjectUpdate],
}

/// HubSpot's `BatchResponse…` (200) and its 207 variant with `errors`.
#[derive(Deserialize)]
struct BatchResponse {
    #[serde(default)]
    results: Vec<CrmObject>,
    #[serde(default)]
    errors: Vec<ApiErrorBody>,
}

impl BatchResponse {
    fn error_ids(&self) -> impl Iterator<Item = (&str, &ApiErrorBody)> {
        self.errors.iter().flat_map(|e| {
            e.context
                .get("ids")
                .into_iter()
                .flatten()
                .map(move |id| (id.as_str(), e))
        })
    }
}

impl PortalClient {
    /// Reads records by id (chunks of 100). Unknown ids are reported, not errors.
    pub async fn batch_read(
        &self,
        object: ObjectType,
        ids: &[String],
        properties: &[String],
    ) -> Result<BatchReadResult, HubSpotError> {
        let mut out = BatchReadResult::default();
        for chunk in ids.chunks(MAX_BATCH_INPUTS) {
            let body = BatchReadBody {
                properties,
                inputs: chunk.iter().map(|id| IdInput { id }).collect(),
            };
            let response: BatchResponse = self
                .call(Call {
                    endpoint: "objects.batch_read",
                    method: Method::POST,
                    path: self.paths().batch_read(object),
                    query: vec![("archived", "false".to_owned())],
                    body: Some(&body),
                    kind: LimitKind::Api,
                })
                .await?;
            let found: HashSet<&str> = response.results.iter().map(|r| r.id.as_str()).collect();
            out.missing.extend(
                chunk
                    .iter()
                    .filter(|id| !found.contains(id.as_str()))
                    .cloned(),
            );
            out.objects.extend(response.results);
        }
        Ok(out)
    }

    /// Updates records (chunks of 100). HubSpot rejects a whole batch with 400 when one input
    /// is invalid; such a batch is split until the invalid inputs stand alone, so valid inputs
    /// are still written and each failure is reported against its own id. A property that does
    /// not exist is not an input's fault: that 400 is returned as is (see
    /// [`HubSpotError::missing_properties`]).
    pub async fn batch_update(
        &self,
        object: ObjectType,
        updates: &[ObjectUpdate],
    ) -> Result<BatchUpdateReport, HubSpotError> {
        let mut report = BatchUpdateReport::default();
        for chunk in updates.chunks(MAX_BATCH_INPUTS) {
            self.update_isolating_failures(object, chunk, &mut report)
                .await?;
        }
        Ok(report)
    }

    fn update_isolating_failures<'a>(
        &'a self,
        object: ObjectType,
        chunk: &'a [ObjectUpdate],
        report: &'a mut BatchUpdateReport,
    ) -> BoxFuture<'a, Result<(), HubSpotError>> {
        Box::pin(async move {
            let result: Result<BatchResponse, HubSpotError> = self
                .call(Call {
                    endpoint: "objects.batch_update",
                    method: Method::POST,
                    path: self.paths().batch_update(object),
                    query: Vec::new(),
                    body: Some(&BatchUpdateBody { inputs: chunk }),
                    kind: LimitKind::Api,
                })
                .await;
            match result {
                Ok(response) => {
                    record_outcomes(chunk, &response, report);
                    Ok(())
                }
                // A property that does not exist fails every input that names it: splitting
                // would only spend requests. The caller may create it and try again.
                Err(error) if !error.missing_properties().is_empty() => Err(error),
                Err(HubSpotError::InvalidRequest { body, .. }) if chunk.len() == 1 => {
                    report.failed.push(failure(&chunk[0].id, &body));
                    Ok(())
                }
                Err(HubSpotError::InvalidRequest { status: 400, .. }) => {
                    let (left, right) = chunk.split_at(chunk.len() / 2);
                    self.update_isolating_failures(object, left, report).await?;
                    self.update_isolating_failures(object, right, report).await
                }
                Err(other) => Err(other),
            }
        })
    }
}

fn record_outcomes(
    chunk: &[ObjectUpdate],
    response: &BatchResponse,
    report: &mut BatchUpdateReport,
) {
    let updated: HashSet<&str> = response.results.iter().map(|r| r.id.as_str()).collect();
    let errored: BTreeMap<&str, &ApiErrorBody> = response.error_ids().collect();
    for input in chunk {
        if let Some(body) = errored.get(input.id.as_str()) {
            report.failed.push(failure(&input.id, body));
        } else if updated.contains(input.id.as_str()) {
            report.updated.push(input.id.clone());
        } else {
            report.failed.push(InputFailure {
                id: input.id.clone(),
                category: None,
                code: None,
                message: "HubSpot reported neither success nor an error for this input".to_owned(),
            });
        }
    }
}

fn failure(id: &str, body: &ApiErrorBody) -> InputFailure {
    let detail = body.errors.first();
    InputFailure {
        id: id.to_owned(),
        category: body.category.clone(),
        code: detail.and_then(|d| d.code.clone()),
        message: detail
            .map(|d| d.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| body.message.clone()),
    }
}
