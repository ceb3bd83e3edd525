//! CRM objects: streaming lists, batch read and update, search, associations.

mod associations;
mod batch;
mod list;
mod model;
mod search;

pub use crate::paths::ObjectType;
pub use associations::{AssociationLinks, MAX_ASSOCIATION_INPUTS};
pub use batch::{BatchReadResult, BatchUpdateReport, InputFailure, MAX_BATCH_INPUTS, ObjectUpdate};
pub use list::{ListRequest, MAX_PAGE_SIZE, Page};
pub use model::{AssociatedId, AssociationPage, CrmObject, NextPage, Paging};
pub use search::{MAX_SEARCH_PAGE, MAX_SEARCH_RESULTS, TimeWindow};
