//! Streaming list of a whole object type, one page in memory at a time, with the cursor of each
//! page exposed so a sync can checkpoint and resume.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::Method;
use serde::Deserialize;

use super::{CrmObject, ObjectType, Paging};
use crate::budget::LimitKind;
use crate::client::{Call, PortalClient};
use crate::error::HubSpotError;

/// HubSpot's maximum page size for list.
pub const MAX_PAGE_SIZE: u32 = 100;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub properties: Vec<String>,
    /// Inline associations to include (e.g. companies of contacts).
    pub associations: Vec<ObjectType>,
    /// Resume after this cursor (from a previous [`Page::next_after`]).
    pub after: Option<String>,
}

/// One page of records and the cursor of the page after it (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page {
    pub objects: Vec<CrmObject>,
    pub next_after: Option<String>,
}

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    results: Vec<CrmObject>,
    #[serde(default)]
    paging: Option<Paging>,
}

impl PortalClient {
    /// Streams every page of `object`. Memory stays at one page whatever the portal's size.
    pub fn list_pages(
        &self,
        object: ObjectType,
        request: ListRequest,
    ) -> impl Stream<Item = Result<Page, HubSpotError>> + Send + '_ {
        let properties = request.properties.join(",");
        let associations = request
            .associations
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(",");
        stream::try_unfold(Some(request.after), move |cursor| {
            let properties = properties.clone();
            let associations = associations.clone();
            async move {
                let Some(after) = cursor else {
                    return Ok(None);
                };
                let mut query = vec![("limit", MAX_PAGE_SIZE.to_string())];
                if !properties.is_empty() {
                    query.push(("properties", properties));
                }
                if !associations.is_empty() {
                    query.push(("associations", associations));
                }
                if let Some(after) = after {
                    query.push(("after", after));
                }
                let response: ListResponse = self
                    .call(Call::<()> {
                        endpoint: "objects.list",
                        method: Method::GET,
                        path: self.paths().objects(object),
                        query,
                        body: None,
                        kind: LimitKind::Api,
                    })
                    .await?;
                let next_after = Paging::after(&response.paging);
                let page = Page {
                    objects: response.results,
                    next_after: next_after.clone(),
                };
                Ok(Some((page, next_after.map(Some))))
            }
        })
    }

    /// Streams every record of `object`, page by page underneath.
    pub fn list_all(
        &self,
        object: ObjectType,
        request: ListRequest,
    ) -> impl Stream<Item = Result<CrmObject, HubSpotError>> + Send + '_ {
        self.list_pages(object, request)
            .map_ok(|page| stream::iter(page.objects.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}
