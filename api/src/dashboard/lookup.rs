//! Troubleshooting: look up one contact by email or HubSpot id and see its score and
//! explanation, or exactly why it has none (not synced, deleted, no company data, portal not
//! ready, scored but not yet written back, HubSpot refused the write), and when it was last
//! scored and written. Only contacts of a portal the signed-in account owns are ever read.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use entity::{PortalStatus, contacts, portals, scores};
use jobs::handlers::scores_store::needs_write;
use maud::{Markup, html};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::error::PageError;
use super::integrations::{owned_portal, owned_portals};
use super::layout::{self, Nav};
use super::scores::{contact_name, lookup_form};
use super::session::AccountSession;
use crate::AppState;
use crate::board::format;

/// Where a contact stands, from its synced record, its score row and its portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// No synced contact has that email or id.
    NotFound,
    /// Deleted (archived) in HubSpot.
    Deleted,
    /// The portal has no scores for anyone yet, or no longer updates them.
    PortalNotReady,
    /// Synced after the last scoring run; the next one (seconds for a webhook) covers it.
    NotScoredYet,
    /// Not scorable; the stored reason.
    Unscorable(String),
    /// Scored, and HubSpot refused the last write of it.
    WriteFailed(String),
    /// Scored; HubSpot does not show this score yet.
    NotWrittenYet,
    /// Scored, and HubSpot shows exactly this score.
    Written,
}

impl Standing {
    /// A stable name for the page (`data-standing`), so tests and scripts need not parse prose.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not-found",
            Self::Deleted => "deleted",
            Self::PortalNotReady => "portal-not-ready",
            Self::NotScoredYet => "not-scored-yet",
            Self::Unscorable(_) => "unscorable",
            Self::WriteFailed(_) => "write-failed",
            Self::NotWrittenYet => "not-written-yet",
            Self::Written => "written",
        }
    }
}

/// Decides a contact's standing (pure, so every case is tested without a database).
pub fn standing(
    portal: &portals::Model,
    contact: Option<&contacts::Model>,
    score: Option<&scores::Model>,
) -> Standing {
    let Some(contact) = contact else {
        return Standing::NotFound;
    };
    if contact.archived {
        return Standing::Deleted;
    }
    match score {
        Some(row) if row.score.is_some() => match &row.writeback_error {
            Some(error) => Standing::WriteFailed(error.clone()),
            None if needs_write(row) => Standing::NotWrittenYet,
            None => Standing::Written,
        },
        Some(row) if row.unscorable_reason.is_some() => {
            Standing::Unscorable(row.unscorable_reason.clone().unwrap_or_default())
        }
        _ if portal.status != PortalStatus::Ready => Standing::PortalNotReady,
        _ => Standing::NotScoredYet,
    }
}

/// The headline, its tone, and what to do, in the customer's words.
fn explain(standing: &Standing, portal: &portals::Model) -> (String, &'static str, Option<String>) {
    match standing {
        Standing::NotFound => (
            "Conturs has no contact with this email or id in this HubSpot account.".into(),
            "warn",
            Some(match portal.last_full_sync_at {
                Some(at) => format!(
                    "Check the spelling, or that the contact is in HubSpot account {}. A contact created since the last full sync ({}) arrives within seconds through HubSpot's notifications, or at the nightly re-sync at the latest.",
                    portal.id,
                    format::timestamp(at)
                ),
                None => "The first sync has not finished yet; look again when it has.".into(),
            }),
        ),
        Standing::Deleted => (
            "This contact was deleted in HubSpot, so Conturs no longer scores it.".into(),
            "muted",
            Some("Restore it in HubSpot and Conturs scores it again within seconds.".into()),
        ),
        Standing::PortalNotReady => {
            let (what, fix) = match portal.status {
                PortalStatus::Connected | PortalStatus::Syncing => (
                    "This HubSpot account is still being synced and scored for the first time.",
                    "Wait for the first sync to finish (follow it on the Integrations page).",
                ),
                PortalStatus::InsufficientData => (
                    "Conturs has not scored this HubSpot account: there are not enough closed-won deals to learn from.",
                    "Mark at least 10 won deals as Closed won and associate them with their companies; Conturs retrains at the nightly re-sync.",
                ),
                PortalStatus::NeedsReconnect => (
                    "HubSpot no longer accepts Conturs' access, so scoring has stopped.",
                    "Choose Reconnect on the Integrations page.",
                ),
                PortalStatus::Disconnected => (
                    "This HubSpot account is disconnected, so Conturs no longer scores its contacts.",
                    "Connect it again on the Integrations page.",
                ),
                PortalStatus::Ready => ("", ""),
            };
            (what.into(), "warn", Some(fix.into()))
        }
        Standing::NotScoredYet => (
            "This contact is synced but not scored yet.".into(),
            "busy",
            Some("It was added or changed moments ago; Conturs scores it within seconds, or at the nightly re-sync at the latest.".into()),
        ),
        Standing::Unscorable(reason) => (
            unscorable_words(reason),
            "warn",
            Some("Associate the contact with its company in HubSpot and give the company an industry, number of employees, annual revenue or country. Conturs scores it within seconds of the change.".into()),
        ),
        Standing::WriteFailed(error) => (
            "Scored, but HubSpot refused to save the score on the contact.".into(),
            "bad",
            Some(format!(
                "HubSpot said: “{error}”. Conturs tries again with the contact's next change and at the nightly re-sync. If it keeps failing, check in HubSpot that the contact can be edited and that the Conturs properties still exist (Reconnect re-creates them)."
            )),
        ),
        Standing::NotWrittenYet => (
            "Scored; the score is on its way to HubSpot.".into(),
            "busy",
            Some("Scores are written to HubSpot in batches right after scoring, usually within seconds. If this persists, check the HubSpot connection on the Integrations page.".into()),
        ),
        Standing::Written => (
            "Scored, and HubSpot shows this score on the contact.".into(),
            "good",
            None,
        ),
    }
}

/// A stored unscorable reason in the customer's words.
fn unscorable_words(reason: &str) -> String {
    if reason.contains("no associated company") {
        "Not scored: the contact is not associated with any company in HubSpot.".into()
    } else if reason.contains("no industry, size, revenue or country") {
        "Not scored: the contact's company has no industry, size, revenue or country in HubSpot."
            .into()
    } else {
        format!("Not scored: {reason}.")
    }
}

/// The lookup's query string: `q`, an email or a HubSpot contact id.
#[derive(Debug, Default, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// The contact `q` names in `portal_id`: a HubSpot id, else an email (any letter case).
async fn find_contact(
    state: &AppState,
    portal_id: i64,
    q: &str,
) -> Result<Option<contacts::Model>, PageError> {
    let query = contacts::Entity::find().filter(contacts::Column::PortalId.eq(portal_id));
    let query = match q.parse::<i64>() {
        Ok(id) => query.filter(contacts::Column::Id.eq(id)),
        Err(_) => query.filter(
            Expr::expr(Func::lower(Expr::col(contacts::Column::Email))).eq(q.to_lowercase()),
        ),
    };
    Ok(query
        .order_by_asc(contacts::Column::Archived)
        .order_by_asc(contacts::Column::Id)
        .one(&state.db)
        .await?)
}

/// `GET /app/portals/{id}/lookup?q=`: one contact's score, or why it has none.
pub async fn page(
    State(state): State<AppState>,
    session: AccountSession,
    Path(raw): Path<String>,
    Query(query): Query<LookupQuery>,
) -> Result<Html<String>, PageError> {
    let portal = owned_portal(&state, &session, &raw).await?;
    let q = query.q.trim();
    let result = if q.is_empty() {
        None
    } else {
        let contact = find_contact(&state, portal.id, q).await?;
        let score = match &contact {
            Some(c) => {
                scores::Entity::find_by_id((portal.id, c.id))
                    .one(&state.db)
                    .await?
            }
            None => None,
        };
        Some((contact, score))
    };
    let body = html! {
        p { a href=(format!("/app/portals/{}", portal.id)) { "← Scores of HubSpot account " (portal.id) } }
        (lookup_form(portal.id, q))
        @if let Some((contact, score)) = &result {
            (report(&portal, q, contact.as_ref(), score.as_ref()))
        } @else {
            p.muted { "Enter a contact's email or HubSpot id to see its score and explanation, or exactly why it has none." }
        }
    };
    Ok(Html(
        layout::page(
            &format!("Troubleshooting · HubSpot account {}", portal.id),
            Nav::Troubleshooting,
            &session,
            body,
        )
        .into_string(),
    ))
}

/// `GET /app/lookup`: the lookup form of each connected HubSpot account (the navigation's
/// Troubleshooting entry).
pub async fn index(
    State(state): State<AppState>,
    session: AccountSession,
) -> Result<Html<String>, PageError> {
    let owned = owned_portals(&state, &session).await?;
    let body = html! {
        p { "Look up a contact to see its score and explanation, or exactly why it has none, and when it was last scored and written to HubSpot." }
        @if owned.is_empty() {
            section.panel {
                p { "No HubSpot account is connected yet. " a href="/app/integrations" { "Connect HubSpot" } " first." }
            }
        }
        @for portal in &owned {
            section.panel {
                h2 { "HubSpot account " (portal.id) }
                (lookup_form(portal.id, ""))
            }
        }
    };
    Ok(Html(
        layout::page("Troubleshooting", Nav::Troubleshooting, &session, body).into_string(),
    ))
}

fn when(at: Option<DateTime<Utc>>, never: &str) -> String {
    at.map(format::timestamp)
        .unwrap_or_else(|| never.to_owned())
}

fn report(
    portal: &portals::Model,
    q: &str,
    contact: Option<&contacts::Model>,
    score: Option<&scores::Model>,
) -> Markup {
    let standing = standing(portal, contact, score);
    let (headline, tone, fix) = explain(&standing, portal);
    let factors = score
        .and_then(|s| s.top_factors.as_ref())
        .and_then(|f| f.get("text"))
        .and_then(|t| t.as_str());
    html! {
        section.panel #lookup-result data-standing=(standing.code()) aria-labelledby="result-h" {
            h2 #result-h {
                @match contact {
                    Some(c) => { (contact_name(c.id, Some(c))) }
                    None => { "“" (q) "”" }
                }
            }
            p.lead { (layout::badge(match tone { "good" => "OK", "bad" => "Problem", "busy" => "In progress", _ => "No score" }, tone)) " " (headline) }
            @if let Some(fix) = fix { p { strong { "What to do: " } (fix) } }
            @if let Some(c) = contact {
                dl.facts {
                    dt { "HubSpot contact id" } dd { (c.id) }
                    dt { "Email" } dd { (c.email.as_deref().unwrap_or("–")) }
                    dt { "Company" } dd { (c.company_id.map(|id| format!("HubSpot company {id}")).unwrap_or_else(|| "none associated".into())) }
                    @if let Some(s) = score {
                        @if let (Some(value), Some(grade)) = (s.score, &s.grade) {
                            dt { "Score" } dd data-field="score" { (value) }
                            dt { "Grade" } dd { span class=(format!("grade g-{}", grade.to_lowercase())) { (grade) } }
                            dt { "Explanation" } dd { (s.explanation.as_deref().unwrap_or("–")) }
                            @if let Some(text) = factors {
                                dt { "Top factors" } dd { ul.factors { @for line in text.lines() { li { (line) } } } }
                            }
                        }
                        dt { "Last scored" } dd { (format::timestamp(s.scored_at)) @if let Some(v) = s.model_version { " (model v" (v) ")" } }
                        dt { "Last written to HubSpot" } dd {
                            (when(s.written_at, "never"))
                            @if let (Some(value), Some(grade)) = (s.written_score, &s.written_grade) { " — score " (value) ", grade " (grade) }
                        }
                    } @else {
                        dt { "Last scored" } dd { "never" }
                    }
                    dt { "Last synced from HubSpot" } dd { (format::timestamp(c.synced_at)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portal(status: PortalStatus) -> portals::Model {
        let now = Utc::now();
        portals::Model {
            id: 5,
            hub_domain: None,
            status,
            status_reason: None,
            scopes: serde_json::json!([]),
            account_id: Some(1),
            active_model_version: Some(1),
            connected_at: now,
            disconnected_at: None,
            last_full_sync_at: Some(now),
            last_incremental_sync_at: None,
            sync_watermark: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn contact(archived: bool) -> contacts::Model {
        contacts::Model {
            portal_id: 5,
            id: 42,
            email: Some("ana@example.com".into()),
            first_name: Some("Ana".into()),
            last_name: None,
            job_title: None,
            hs_seniority: None,
            hs_role: None,
            lifecycle_stage: None,
            lead_status: None,
            country: None,
            company_id: Some(7),
            properties: serde_json::json!({}),
            hs_created_at: None,
            hs_updated_at: None,
            archived,
            synced_at: Utc::now(),
        }
    }

    fn scored() -> scores::Model {
        scores::Model {
            portal_id: 5,
            contact_id: 42,
            score: Some(91),
            grade: Some("A".into()),
            raw_score: Some(1.5),
            explanation: Some("Strong fit".into()),
            top_factors: Some(serde_json::json!({"text": "+12 Software"})),
            unscorable_reason: None,
            model_version: Some(1),
            scored_at: Utc::now(),
            written_score: None,
            written_grade: None,
            written_explanation: None,
            written_top_factors: None,
            written_at: None,
            writeback_error: None,
        }
    }

    #[test]
    fn every_reason_for_a_missing_score_is_told_apart() {
        let ready = portal(PortalStatus::Ready);
        let c = contact(false);
        assert_eq!(standing(&ready, None, None), Standing::NotFound);
        assert_eq!(
            standing(&ready, Some(&contact(true)), Some(&scored())),
            Standing::Deleted
        );
        assert_eq!(standing(&ready, Some(&c), None), Standing::NotScoredYet);
        assert_eq!(
            standing(&portal(PortalStatus::Syncing), Some(&c), None),
            Standing::PortalNotReady
        );
        assert_eq!(
            standing(&portal(PortalStatus::InsufficientData), Some(&c), None),
            Standing::PortalNotReady
        );
        let unscorable = scores::Model {
            score: None,
            grade: None,
            unscorable_reason: Some("not scored: the contact has no associated company".into()),
            ..scored()
        };
        assert!(matches!(
            standing(&ready, Some(&c), Some(&unscorable)),
            Standing::Unscorable(reason) if reason.contains("no associated company")
        ));
        assert_eq!(
            standing(&ready, Some(&c), Some(&scored())),
            Standing::NotWrittenYet
        );
        let written = scores::Model {
            written_score: Some(91),
            written_grade: Some("A".into()),
            written_explanation: Some("Strong fit".into()),
            written_top_factors: Some("+12 Software".into()),
            written_at: Some(Utc::now()),
            ..scored()
        };
        assert_eq!(
            standing(&ready, Some(&c), Some(&written)),
            Standing::Written
        );
        let moved = scores::Model {
            score: Some(70),
            grade: Some("B".into()),
            ..written.clone()
        };
        assert_eq!(
            standing(&ready, Some(&c), Some(&moved)),
            Standing::NotWrittenYet
        );
        let refused = scores::Model {
            writeback_error: Some("VALIDATION_ERROR: read-only contact".into()),
            ..scored()
        };
        assert_eq!(
            standing(&ready, Some(&c), Some(&refused)),
            Standing::WriteFailed("VALIDATION_ERROR: read-only contact".into())
        );
    }

    #[test]
    fn unscorable_reasons_read_as_sentences() {
        assert!(
            unscorable_words("not scored: the contact has no associated company")
                .contains("not associated with any company")
        );
        assert!(
            unscorable_words("not scored: the company has no industry, size, revenue or country")
                .contains("company has no industry")
        );
    }
}
