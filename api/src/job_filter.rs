//! Which job runs a list shows (and a bulk action touches): the filters `GET /api/jobs` and the
//! board's job list share, so both select exactly the same runs.

use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, job_runs};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

/// Filters over `job_runs`; every field narrows, `None` matches all.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct JobFilter {
    pub job_type: Option<JobType>,
    pub status: Option<JobStatus>,
    pub portal: Option<i64>,
    /// Created strictly after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before.
    pub created_before: Option<DateTime<Utc>>,
}

impl JobFilter {
    /// The matching runs, newest first (ids are UUIDv7, so id order is creation order); each
    /// filter combination is served by one of the ledger's `(…, id)` indexes.
    pub fn select(&self) -> Select<job_runs::Entity> {
        let mut select = job_runs::Entity::find();
        if let Some(job_type) = self.job_type {
            select = select.filter(job_runs::Column::JobType.eq(job_type));
        }
        if let Some(status) = self.status {
            select = select.filter(job_runs::Column::Status.eq(status));
        }
        if let Some(portal) = self.portal {
            select = select.filter(job_runs::Column::PortalId.eq(portal));
        }
        if let Some(after) = self.created_after {
            select = select.filter(job_runs::Column::CreatedAt.gt(after));
        }
        if let Some(before) = self.created_before {
            select = select.filter(job_runs::Column::CreatedAt.lt(before));
        }
        select.order_by_desc(job_runs::Column::Id)
    }

    /// One page older than `cursor` (exclusive), newest first, and the cursor of the next page.
    pub async fn page(
        &self,
        db: &sea_orm::DatabaseConnection,
        cursor: Option<Uuid>,
        limit: u64,
    ) -> Result<(Vec<job_runs::Model>, Option<Uuid>), sea_orm::DbErr> {
        let mut select = self.select();
        if let Some(cursor) = cursor {
            select = select.filter(job_runs::Column::Id.lt(cursor));
        }
        let mut jobs = select.limit(limit + 1).all(db).await?;
        let next_cursor = if jobs.len() as u64 > limit {
            jobs.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            jobs.last().map(|run| run.id)
        } else {
            None
        };
        Ok((jobs, next_cursor))
    }
}
