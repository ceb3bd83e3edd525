//! HubSpot request metrics per portal, from the usage the worker processes wrote down
//! (`hubspot_usage`): the API makes no CRM calls itself, so its own counters would be empty.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseConnection, DbErr};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortalLabels {
    portal: String,
}

/// Adds `conturs_hubspot_requests_total`, `conturs_hubspot_rate_limited_total` (429s) and
/// `conturs_hubspot_server_errors_total` (5xx), all-time per portal.
pub async fn register(registry: &mut Registry, db: &DatabaseConnection) -> Result<(), DbErr> {
    let totals = jobs::usage::totals_by_portal(db).await?;
    let requests = Family::<PortalLabels, Counter>::default();
    let rate_limited = Family::<PortalLabels, Counter>::default();
    let server_errors = Family::<PortalLabels, Counter>::default();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    for (portal, total) in totals {
        let labels = PortalLabels {
            portal: portal.to_string(),
        };
        requests
            .get_or_create(&labels)
            .inc_by(count(total.requests));
        rate_limited
            .get_or_create(&labels)
            .inc_by(count(total.responses_429));
        server_errors
            .get_or_create(&labels)
            .inc_by(count(total.responses_5xx));
    }
    registry.register(
        "conturs_hubspot_requests",
        "Requests sent to HubSpot (searches included), by portal",
        requests,
    );
    registry.register(
        "conturs_hubspot_rate_limited",
        "HubSpot answers 429 Too Many Requests, by portal",
        rate_limited,
    );
    registry.register(
        "conturs_hubspot_server_errors",
        "HubSpot answers 500-599, by portal",
        server_errors,
    );
    Ok(())
}
