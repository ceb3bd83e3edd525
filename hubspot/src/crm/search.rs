//! Search by modification time, for incremental syncs. HubSpot stops paging at 10,000 results
//! per query, so a window with more is split in halves until each fits, and a single
//! millisecond holding more than that is read by ascending record id instead (the endless-loop
//! trap other connectors fell into). Search has its own 5/s limit, drawn from its own budget.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{CrmObject, ObjectType, Paging};
use crate::budget::LimitKind;
use crate::client::{Call, PortalClient};
use crate::error::HubSpotError;

/// Results HubSpot lets one query page through.
pub const MAX_SEARCH_RESULTS: u64 = 10_000;
/// HubSpot's maximum search page size.
pub const MAX_SEARCH_PAGE: u32 = 200;

/// A half-open range of modification times, ms since the epoch: `from <= t < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeWindow {
    fn split(self) -> Option<(Self, Self)> {
        if self.to_ms - self.from_ms < 2 {
            return None;
        }
        let mid = self.from_ms + (self.to_ms - self.from_ms) / 2;
        Some((
            Self {
                from_ms: self.from_ms,
                to_ms: mid,
            },
            Self {
                from_ms: mid,
                to_ms: self.to_ms,
            },
        ))
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    results: Vec<CrmObject>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody<'a> {
    filter_groups: serde_json::Value,
    sorts: serde_json::Value,
    properties: &'a [String],
    limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

struct SearchState {
    /// Windows still to read, the next one last.
    pending: Vec<TimeWindow>,
    /// The window being paged and its cursor.
    current: Option<(TimeWindow, String)>,
    /// A one-millisecond window with more than 10,000 records, read by ascending record id
    /// (keyset paging, always the first page of a query, so the cap never applies).
    by_id: Option<(TimeWindow, Option<u64>)>,
}

impl PortalClient {
    /// Streams every record of `object` modified in `window`, oldest first, page by page.
    pub fn search_modified(
        &self,
        object: ObjectType,
        window: TimeWindow,
        properties: Vec<String>,
    ) -> impl Stream<Item = Result<CrmObject, HubSpotError>> + Send + '_ {
        let state = SearchState {
            pending: vec![window],
            current: None,
            by_id: None,
        };
        stream::try_unfold(state, move |mut state| {
            let properties = properties.clone();
            async move {
                loop {
                    if let Some((window, last_id)) = state.by_id.take() {
                        let page = self
                            .search_by_id(object, window, &properties, last_id)
                            .await?;
                        let last = page.results.last().and_then(|r| r.id.parse::<u64>().ok());
                        if page.paging.is_some() && last.is_some() {
                            state.by_id = Some((window, last));
                        }
                        if page.results.is_empty() {
                            continue;
                        }
                        return Ok(Some((page.results, state)));
                    }
                    if let Some((window, after)) = state.current.take() {
                        let page = self
                            .search_page(object, window, &properties, Some(after))
                            .await?;
                        state.current = Paging::after(&page.paging).map(|a| (window, a));
                        return Ok(Some((page.results, state)));
                    }
                    let Some(window) = state.pending.pop() else {
                        return Ok(None);
                    };
                    let first = self.search_page(object, window, &properties, None).await?;
                    if first.total > MAX_SEARCH_RESULTS {
                        match window.split() {
                            Some((early, late)) => {
                                tracing::debug!(
                                    total = first.total,
                                    ?window,
                                    "splitting search window"
                                );
                                state.pending.push(late);
                                state.pending.push(early);
                            }
                            None => {
                                tracing::debug!(
                                    total = first.total,
                                    ?window,
                                    "paging one millisecond by record id"
                                );
                                state.by_id = Some((window, None));
                            }
                        }
                        continue;
                    }
                    state.current = Paging::after(&first.paging).map(|a| (window, a));
                    return Ok(Some((first.results, state)));
                }
            }
        })
        .map_ok(|records| stream::iter(records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// How many records of `object` the portal holds: a one-result, unfiltered search reads
    /// HubSpot's `total`, so a full sync can show "done of total" with an ETA.
    pub async fn count(&self, object: ObjectType) -> Result<u64, HubSpotError> {
        let body = SearchBody {
            filter_groups: json!([]),
            sorts: json!([]),
            properties: &[],
            limit: 1,
            after: None,
        };
        let page: SearchResponse = self
            .call(Call {
                endpoint: "objects.search",
                method: Method::POST,
                path: self.paths().search(object),
                query: Vec::new(),
                body: Some(&body),
                kind: LimitKind::Search,
            })
            .await?;
        Ok(page.total)
    }

    async fn search_by_id(
        &self,
        object: ObjectType,
        window: TimeWindow,
        properties: &[String],
        after_id: Option<u64>,
    ) -> Result<SearchResponse, HubSpotError> {
        let modified = object.last_modified_property();
        let mut filters = vec![
            json!({ "propertyName": modified, "operator": "GTE", "value": window.from_ms.to_string() }),
            json!({ "propertyName": modified, "operator": "LT", "value": window.to_ms.to_string() }),
        ];
        if let Some(id) = after_id {
            filters.push(json!({ "propertyName": "hs_object_id", "operator": "GT", "value": id.to_string() }));
        }
        let body = SearchBody {
            filter_groups: json!([{ "filters": filters }]),
            sorts: json!([{ "propertyName": "hs_object_id", "direction": "ASCENDING" }]),
            properties,
            limit: MAX_SEARCH_PAGE,
            after: None,
        };
        self.call(Call {
            endpoint: "objects.search",
            method: Method::POST,
            path: self.paths().search(object),
            query: Vec::new(),
            body: Some(&body),
            kind: LimitKind::Search,
        })
        .await
    }

    async fn search_page(
        &self,
        object: ObjectType,
        window: TimeWindow,
        properties: &[String],
        after: Option<String>,
    ) -> Result<SearchResponse, HubSpotError> {
        let modified = object.last_modified_property();
        let body = SearchBody {
            filter_groups: json!([{ "filters": [
                { "propertyName": modified, "operator": "GTE", "value": window.from_ms.to_string() },
                { "propertyName": modified, "operator": "LT", "value": window.to_ms.to_string() },
            ]}]),
            sorts: json!([{ "propertyName": modified, "direction": "ASCENDING" }]),
            properties,
            limit: MAX_SEARCH_PAGE,
            after,
        };
        self.call(Call {
            endpoint: "objects.search",
            method: Method::POST,
            path: self.paths().search(object),
            query: Vec::new(),
            body: Some(&body),
            kind: LimitKind::Search,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_split_into_adjacent_halves_until_one_ms() {
        let w = TimeWindow {
            from_ms: 0,
            to_ms: 10,
        };
        let (a, b) = w.split().unwrap();
        assert_eq!((a.from_ms, a.to_ms, b.from_ms, b.to_ms), (0, 5, 5, 10));
        assert!(
            TimeWindow {
                from_ms: 3,
                to_ms: 4
            }
            .split()
            .is_none()
        );
    }
}
