//! Job metrics read from the ledger (`job_runs`) at scrape time: the ledger is the truth for
//! every backend and every worker process, so the API can report it without asking them.

use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, Lane, job_runs};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, QueryFilter,
    QuerySelect,
};
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    r#type: String,
    lane: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LaneLabels {
    lane: String,
}

/// Adds `conturs_job_runs{type,lane,status}` (every combination, zeros included, so a status
/// that empties reads 0 rather than vanishing) and
/// `conturs_jobs_oldest_queued_age_seconds{lane}` (0 when nothing waits).
pub async fn register(
    registry: &mut Registry,
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let counts = run_counts(db).await?;
    let runs = Family::<RunLabels, Gauge>::default();
    for job_type in JobType::iter() {
        for lane in Lane::iter() {
            for status in JobStatus::iter() {
                let n = counts
                    .iter()
                    .find(|(t, l, s, _)| (*t, *l, *s) == (job_type, lane, status))
                    .map_or(0, |(_, _, _, n)| *n);
                runs.get_or_create(&RunLabels {
                    r#type: job_type.to_value(),
                    lane: lane.to_value(),
                    status: status.to_value(),
                })
                .set(n);
            }
        }
    }
    registry.register(
        "conturs_job_runs",
        "Job runs in the ledger by type, lane and status",
        runs,
    );

    let oldest = oldest_waiting(db).await?;
    let ages = Family::<LaneLabels, Gauge<f64, AtomicU64>>::default();
    for lane in Lane::iter() {
        let age = oldest
            .iter()
            .find(|(l, _)| *l == lane)
            .and_then(|(_, at)| *at)
            .map_or(0.0, |at| {
                ((now - at).num_milliseconds() as f64 / 1000.0).max(0.0)
            });
        ages.get_or_create(&LaneLabels {
            lane: lane.to_value(),
        })
        .set(age);
    }
    registry.register_with_unit(
        "conturs_jobs_oldest_queued_age",
        "Age of the oldest job waiting to run (pending or queued), from its creation, by lane",
        Unit::Seconds,
        ages,
    );
    Ok(())
}

/// Runs per (type, lane, status); combinations without runs are absent.
pub(crate) async fn run_counts(
    db: &DatabaseConnection,
) -> Result<Vec<(JobType, Lane, JobStatus, i64)>, DbErr> {
    job_runs::Entity::find()
        .select_only()
        .column(job_runs::Column::JobType)
        .column(job_runs::Column::Lane)
        .column(job_runs::Column::Status)
        .column_as(job_runs::Column::Id.count(), "n")
        .group_by(job_runs::Column::JobType)
        .group_by(job_runs::Column::Lane)
        .group_by(job_runs::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// When the oldest run still waiting (pending or queued) was created, per lane.
pub(crate) async fn oldest_waiting(
    db: &DatabaseConnection,
) -> Result<Vec<(Lane, Option<DateTime<Utc>>)>, DbErr> {
    job_runs::Entity::find()
        .select_only()
        .column(job_runs::Column::Lane)
        .column_as(Expr::col(job_runs::Column::CreatedAt).min(), "oldest")
        .filter(job_runs::Column::Status.is_in([JobStatus::Pending, JobStatus::Queued]))
        .group_by(job_runs::Column::Lane)
        .into_tuple()
        .all(db)
        .await
}
