//! Scores, always scoped by the portal in the path (tenant isolation: a contact id from
//! another portal is simply not found): one contact's score with explanation, top factors and
//! history, and a portal's top-N contacts by score.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use entity::{score_history, scores};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiPath, ApiQuery};

/// Largest top-N list.
pub const MAX_TOP: u64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portals/{portal}/scores/top", get(top))
        .route(
            "/portals/{portal}/contacts/{contact}/score",
            get(contact_score),
        )
}

#[derive(Debug, Serialize)]
struct ContactScore {
    score: scores::Model,
    /// Oldest first.
    history: Vec<score_history::Model>,
}

async fn contact_score(
    State(state): State<AppState>,
    ApiPath((portal, contact)): ApiPath<(i64, i64)>,
) -> Result<Json<ContactScore>, ApiError> {
    let score = scores::Entity::find_by_id((portal, contact))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no score for contact {contact} in portal {portal}"))
        })?;
    let history = score_history::Entity::find()
        .filter(score_history::Column::PortalId.eq(portal))
        .filter(score_history::Column::ContactId.eq(contact))
        .order_by_asc(score_history::Column::ScoredAt)
        .all(&state.db)
        .await?;
    Ok(Json(ContactScore { score, history }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopQuery {
    n: Option<u64>,
}

#[derive(Debug, Serialize)]
struct TopScores {
    contacts: Vec<scores::Model>,
}

async fn top(
    State(state): State<AppState>,
    ApiPath(portal): ApiPath<i64>,
    ApiQuery(query): ApiQuery<TopQuery>,
) -> Result<Json<TopScores>, ApiError> {
    let n = query.n.unwrap_or(10);
    if !(1..=MAX_TOP).contains(&n) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("n must be from 1 to {MAX_TOP}"),
        ));
    }
    let contacts = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal))
        .filter(scores::Column::Score.is_not_null())
        .order_by_desc(scores::Column::Score)
        .order_by_asc(scores::Column::ContactId)
        .limit(n)
        .all(&state.db)
        .await?;
    Ok(Json(TopScores { contacts }))
}
