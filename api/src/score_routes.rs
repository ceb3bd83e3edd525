//! Scores, always scoped by the portal in the path (tenant isolation: a contact id from
//! another portal is simply not found): one contact's score with explanation, top factors and
//! history, and a portal's top-N contacts by score.

use axum::Json;
use axum::extract::State;
use entity::{score_history, scores};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiPath, ApiQuery, ErrorBody, Unavailable};

/// Largest top-N list.
pub const MAX_TOP: u64 = 500;

/// The score routes, under `/api/portals/{portal}`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top))
        .routes(routes!(contact_score))
}

/// A contact's current score and how it got there.
#[derive(Debug, Serialize, ToSchema)]
struct ContactScore {
    score: scores::Model,
    /// Oldest first.
    history: Vec<score_history::Model>,
}

/// One contact's score with its explanation, top factors and history.
#[utoipa::path(
    get,
    path = "/portals/{portal}/contacts/{contact}/score",
    operation_id = "get_contact_score",
    tag = "scores",
    params(
        ("portal" = i64, Path, description = "The portal (HubSpot hub) id."),
        ("contact" = i64, Path, description = "The HubSpot contact id."),
    ),
    responses(
        (status = 200, description = "The score and its history.", body = ContactScore),
        (status = 400, description = "An id is not an integer (`invalid_path`).",
            body = ErrorBody),
        (status = 404, description = "No score for this contact in this portal.",
            body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TopQuery {
    /// How many contacts (default 10).
    #[param(minimum = 1, maximum = 500)]
    n: Option<u64>,
}

/// The highest-scored contacts, best first.
#[derive(Debug, Serialize, ToSchema)]
struct TopScores {
    contacts: Vec<scores::Model>,
}

/// A portal's top N contacts by score (ties by contact id).
#[utoipa::path(
    get,
    path = "/portals/{portal}/scores/top",
    operation_id = "top_scores",
    tag = "scores",
    params(
        ("portal" = i64, Path, description = "The portal (HubSpot hub) id."),
        TopQuery,
    ),
    responses(
        (status = 200, description = "Best first; empty for an unknown portal.",
            body = TopScores),
        (status = 400, description = "`portal` is not an integer (`invalid_path`), or `n` \
            does not parse or is out of range (`invalid_query`).", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
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
