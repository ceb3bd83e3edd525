//! HubSpot budget use in the database (`hubspot_usage`): worker processes write down what
//! their client counted, the API reads it back for the portal page and `/metrics`.
//!
//! Every worker process flushes its own [`UsageCounter`] every [`FLUSH_EVERY`]; the upsert
//! adds to the row, so several workers counting the same portal in the same window add up.
//! Retention folds windows older than a week into one row per portal at the Unix epoch, so the
//! all-time totals `/metrics` reports never go down (Prometheus would read a drop as a restart).

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::hubspot_usage;
use hubspot::UsageCounter;
use hubspot::usage::{USAGE_WINDOW_SECS, UsageSample, window_start};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Set,
};

/// How often a worker writes its counts down: the portal page lags by at most this much.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Rows per insert statement (6 parameters each), well under both backends' limits.
const UPSERT_BATCH: usize = 500;

/// Requests, 429s and 5xx answers over some stretch of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Every request sent, searches included.
    pub requests: i64,
    pub responses_429: i64,
    pub responses_5xx: i64,
}

/// One portal's budget use, as the portal page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUsage {
    /// Start of the last complete 10-second window.
    pub last_window_start: DateTime<Utc>,
    /// Requests in that window that count against the 10-second limit (searches excluded).
    pub last_window_requests: i64,
    /// The busiest 10-second window of the last hour, counted the same way.
    pub peak_window_requests_last_hour: i64,
    pub last_hour: UsageTotals,
    pub last_day: UsageTotals,
}

/// Writes down everything `counter` has counted, adding to the rows other processes wrote.
/// On failure the counts go back into `counter` for the next flush. Returns the rows written.
pub async fn flush<C: ConnectionTrait>(db: &C, counter: &UsageCounter) -> Result<usize, DbErr> {
    let samples = counter.drain();
    if samples.is_empty() {
        return Ok(0);
    }
    match upsert(db, &samples).await {
        Ok(()) => Ok(samples.len()),
        Err(error) => {
            counter.restore(&samples);
            Err(error)
        }
    }
}

/// Adds `samples` to their rows (creating them as needed).
pub async fn upsert<C: ConnectionTrait>(db: &C, samples: &[UsageSample]) -> Result<(), DbErr> {
    for batch in samples.chunks(UPSERT_BATCH) {
        let rows: Vec<hubspot_usage::ActiveModel> = batch.iter().filter_map(row).collect();
        if rows.is_empty() {
            continue;
        }
        hubspot_usage::Entity::insert_many(rows)
            .on_conflict(add_on_conflict())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Flushes `counter` every `every` until the task is dropped; a failed flush keeps its counts
/// for the next one.
pub async fn flush_forever(db: DatabaseConnection, counter: UsageCounter, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(error) = flush(&db, &counter).await {
            tracing::warn!(%error, "could not write HubSpot usage down; will try again");
        }
    }
}

fn row(sample: &UsageSample) -> Option<hubspot_usage::ActiveModel> {
    let Some(start) = DateTime::from_timestamp(sample.window_start, 0) else {
        tracing::warn!(
            window_start = sample.window_start,
            "usage window out of range; dropped"
        );
        return None;
    };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Some(hubspot_usage::ActiveModel {
        portal_id: Set(i64::try_from(sample.portal_id).unwrap_or(i64::MAX)),
        window_start: Set(start),
        requests: Set(count(sample.counts.requests)),
        search_requests: Set(count(sample.counts.search_requests)),
        responses_429: Set(count(sample.counts.responses_429)),
        responses_5xx: Set(count(sample.counts.responses_5xx)),
    })
}

/// `ON CONFLICT (portal_id, window_start) DO UPDATE SET n = hubspot_usage.n + excluded.n`.
fn add_on_conflict() -> OnConflict {
    use hubspot_usage::Column;
    let add = |column: Column| {
        Expr::col((hubspot_usage::Entity, column)).add(Expr::col((Alias::new("excluded"), column)))
    };
    OnConflict::columns([Column::PortalId, Column::WindowStart])
        .value(Column::Requests, add(Column::Requests))
        .value(Column::SearchRequests, add(Column::SearchRequests))
        .value(Column::Responses429, add(Column::Responses429))
        .value(Column::Responses5xx, add(Column::Responses5xx))
        .to_owned()
}

/// The row that holds each portal's totals of windows retention has removed.
pub fn compacted_window() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// Folds every window that started before `cutoff` into its portal's [`compacted_window`] row
/// and deletes it; returns the windows removed. The rows are deleted first and their counts
/// taken from what the delete returned, so two workers compacting at once never add the same
/// window twice.
pub async fn compact_before(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let txn = platform::db::begin_write(db).await?;
    let delete = Query::delete()
        .from_table(hubspot_usage::Entity)
        .and_where(hubspot_usage::Column::WindowStart.lt(cutoff))
        .and_where(hubspot_usage::Column::WindowStart.gt(compacted_window()))
        .returning_all()
        .to_owned();
    let deleted = txn.query_all(&delete).await?;
    let mut folded = std::collections::BTreeMap::<i64, UsageSample>::new();
    for row in &deleted {
        let window = hubspot_usage::Model::from_query_result(row, "")?;
        let sample = folded.entry(window.portal_id).or_insert(UsageSample {
            portal_id: u64::try_from(window.portal_id).unwrap_or_default(),
            window_start: compacted_window().timestamp(),
            counts: Default::default(),
        });
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        sample.counts.requests += count(window.requests);
        sample.counts.search_requests += count(window.search_requests);
        sample.counts.responses_429 += count(window.responses_429);
        sample.counts.responses_5xx += count(window.responses_5xx);
    }
    let folded: Vec<UsageSample> = folded.into_values().collect();
    upsert(&txn, &folded).await?;
    txn.commit().await?;
    Ok(deleted.len() as u64)
}

#[derive(Debug, FromQueryResult)]
struct Sums {
    requests: Option<i64>,
    responses_429: Option<i64>,
    responses_5xx: Option<i64>,
    peak: Option<i64>,
}

impl From<&Sums> for UsageTotals {
    fn from(sums: &Sums) -> Self {
        Self {
            requests: sums.requests.unwrap_or(0),
            responses_429: sums.responses_429.unwrap_or(0),
            responses_5xx: sums.responses_5xx.unwrap_or(0),
        }
    }
}

/// SUM as BIGINT on both backends (Postgres sums BIGINT into NUMERIC).
fn sum(column: hubspot_usage::Column) -> Expr {
    Expr::col(column).sum().cast_as(Alias::new("BIGINT"))
}

/// Sums over the windows of `portal_id` that started at or after `since`.
async fn sums_since(
    db: &DatabaseConnection,
    portal_id: i64,
    since: DateTime<Utc>,
) -> Result<Sums, DbErr> {
    use hubspot_usage::Column;
    let sums = hubspot_usage::Entity::find()
        .select_only()
        .column_as(sum(Column::Requests), "requests")
        .column_as(sum(Column::Responses429), "responses_429")
        .column_as(sum(Column::Responses5xx), "responses_5xx")
        .column_as(
            Expr::col(Column::Requests)
                .sub(Expr::col(Column::SearchRequests))
                .max(),
            "peak",
        )
        .filter(Column::PortalId.eq(portal_id))
        .filter(Column::WindowStart.gte(since))
        .into_model::<Sums>()
        .one(db)
        .await?;
    Ok(sums.unwrap_or(Sums {
        requests: None,
        responses_429: None,
        responses_5xx: None,
        peak: None,
    }))
}

/// `portal_id`'s budget use as of `now`: the last complete window, the last hour and day.
pub async fn portal_usage(
    db: &DatabaseConnection,
    portal_id: i64,
    now: DateTime<Utc>,
) -> Result<PortalUsage, DbErr> {
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::UNIX_EPOCH);
    let current = window_start(now.timestamp());
    let last_window_start = at(current - USAGE_WINDOW_SECS);
    let last_window = hubspot_usage::Entity::find_by_id((portal_id, last_window_start))
        .one(db)
        .await?;
    let hour = sums_since(db, portal_id, at(window_start(now.timestamp() - 3_600))).await?;
    let day = sums_since(db, portal_id, at(window_start(now.timestamp() - 86_400))).await?;
    Ok(PortalUsage {
        last_window_start,
        last_window_requests: last_window.map_or(0, |w| w.requests - w.search_requests),
        peak_window_requests_last_hour: hour.peak.unwrap_or(0),
        last_hour: UsageTotals::from(&hour),
        last_day: UsageTotals::from(&day),
    })
}

#[derive(Debug, FromQueryResult)]
struct PortalSums {
    portal_id: i64,
    requests: Option<i64>,
    responses_429: Option<i64>,
    responses_5xx: Option<i64>,
}

/// Every portal's all-time totals (compacted windows included), by portal id: the counters
/// `/metrics` exposes.
pub async fn totals_by_portal(db: &DatabaseConnection) -> Result<Vec<(i64, UsageTotals)>, DbErr> {
    use hubspot_usage::Column;
    let rows = hubspot_usage::Entity::find()
        .select_only()
        .column(Column::PortalId)
        .column_as(sum(Column::Requests), "requests")
        .column_as(sum(Column::Responses429), "responses_429")
        .column_as(sum(Column::Responses5xx), "responses_5xx")
        .group_by(Column::PortalId)
        .into_model::<PortalSums>()
        .all(db)
        .await?;
    let mut totals: Vec<(i64, UsageTotals)> = rows
        .into_iter()
        .map(|row| {
            (
                row.portal_id,
                UsageTotals {
                    requests: row.requests.unwrap_or(0),
                    responses_429: row.responses_429.unwrap_or(0),
                    responses_5xx: row.responses_5xx.unwrap_or(0),
                },
            )
        })
        .collect();
    totals.sort_by_key(|(portal, _)| *portal);
    Ok(totals)
}
