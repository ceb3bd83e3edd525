//! Scores at a glance, one page per connected HubSpot account: how many contacts are hot,
//! warm and cold and in each grade, the model's quality in plain words, the 25 best contacts
//! with their explanations, what the model learned across the portal, whether the portal
//! meets Conturs' prerequisites, and a contact lookup for troubleshooting.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Html;
use entity::{ModelStatus, contacts, models, scores};
use maud::{Markup, html};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::checks;
use super::error::PageError;
use super::integrations::{owned_portal, owned_portals, presented};
use super::layout::{self, Nav};
use super::session::AccountSession;
use crate::AppState;
use crate::board::{charts, format};

/// Contacts listed as the portal's best.
pub const TOP_CONTACTS: u64 = 25;
/// Reasons for and against shown under "what the model learned".
const LEARNED_PER_SIDE: usize = 5;

/// How warm a lead is, from its 0–100 score (DESIGN §1: hot > 80, warm 50–80, cold < 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temperature {
    /// Above 80: call now.
    Hot,
    /// 50–80: worth nurturing.
    Warm,
    /// Below 50.
    Cold,
}

impl Temperature {
    /// The temperature of a score. 80 itself is warm: hot means above 80.
    pub fn of(score: i16) -> Self {
        match score {
            81.. => Self::Hot,
            50..=80 => Self::Warm,
            _ => Self::Cold,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Hot => "Hot (above 80)",
            Self::Warm => "Warm (50–80)",
            Self::Cold => "Cold (below 50)",
        }
    }
}

/// Counts of scored contacts per temperature and per grade, and of unscored ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    /// Scored contacts per temperature.
    pub hot: i64,
    pub warm: i64,
    pub cold: i64,
    /// A–F in order, then "unscored".
    pub grades: Vec<(String, i64)>,
    pub unscored: i64,
}

impl Distribution {
    /// From the contacts per score (`None`: not scorable) and per grade.
    pub fn of(per_score: &[(Option<i16>, i64)], per_grade: &[(Option<String>, i64)]) -> Self {
        let mut out = Self::default();
        for (score, n) in per_score {
            match score.map(Temperature::of) {
                Some(Temperature::Hot) => out.hot += n,
                Some(Temperature::Warm) => out.warm += n,
                Some(Temperature::Cold) => out.cold += n,
                None => out.unscored += n,
            }
        }
        let graded: HashMap<&str, i64> = per_grade
            .iter()
            .filter_map(|(grade, n)| grade.as_deref().map(|g| (g, *n)))
            .collect();
        out.grades = ["A", "B", "C", "D", "F"]
            .iter()
            .map(|g| ((*g).to_owned(), graded.get(g).copied().unwrap_or(0)))
            .collect();
        out
    }

    /// Contacts with a score.
    pub fn scored(&self) -> i64 {
        self.hot + self.warm + self.cold
    }
}

/// The model's quality in plain words, from the metrics TrainModel stored: how much better
/// than random its top decile is, and how often it ranks a customer above anyone else.
pub fn quality_in_words(metrics: &serde_json::Value) -> Vec<String> {
    let metric = |name: &str| metrics.get(name).and_then(serde_json::Value::as_f64);
    let mut out = Vec::new();
    if let Some(lift) = metric("lift_top_decile") {
        out.push(if lift > 1.05 {
            format!(
                "Your top 10% of contacts by score are {lift:.1}× as likely to be closed-won \
                 customers as a contact picked at random."
            )
        } else {
            "Your top 10% of contacts by score are no more likely to be closed-won customers \
             than a contact picked at random: your customers do not yet stand out by the data \
             Conturs sees."
                .to_owned()
        });
    }
    let (auc, held_out) = match (metric("selection_auc"), metric("training_auc")) {
        (Some(auc), _) => (Some(auc), true),
        (None, auc) => (auc, false),
    };
    if let Some(auc) = auc {
        let verdict = match auc {
            a if a >= 0.8 => "strong",
            a if a >= 0.7 => "useful",
            a if a >= 0.6 => "modest",
            _ => "weak",
        };
        out.push(format!(
            "Shown one of your customers and one other contact, it ranks the customer higher \
             {:.0}% of the time (50% would be guessing): a {verdict} model{}.",
            auc * 100.0,
            if held_out {
                ", measured on contacts it had not learned from"
            } else {
                ", measured on the contacts it learned from"
            }
        ));
    }
    if let Some(customers) = metric("positive_groups") {
        out.push(format!(
            "It learned from {} closed-won customer companies.",
            customers as i64
        ));
    }
    out
}

/// The active model of a portal, if one is trained.
async fn active_model(
    state: &AppState,
    portal_id: i64,
) -> Result<Option<models::Model>, PageError> {
    Ok(models::Entity::find()
        .filter(models::Column::PortalId.eq(portal_id))
        .filter(models::Column::Status.eq(ModelStatus::Active))
        .order_by_desc(models::Column::Version)
        .one(&state.db)
        .await?)
}

async fn distribution(state: &AppState, portal_id: i64) -> Result<Distribution, PageError> {
    use crate::portal_routes::score_counts_by;
    let per_score = score_counts_by(&state.db, portal_id, scores::Column::Score).await?;
    let per_grade = score_counts_by(&state.db, portal_id, scores::Column::Grade).await?;
    Ok(Distribution::of(&per_score, &per_grade))
}

/// The best-scored contacts, with their contact records (name, email) where synced.
async fn top_contacts(
    state: &AppState,
    portal_id: i64,
) -> Result<Vec<(scores::Model, Option<contacts::Model>)>, PageError> {
    let top = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::Score.is_not_null())
        .order_by_desc(scores::Column::Score)
        .order_by_desc(scores::Column::RawScore)
        .order_by_asc(scores::Column::ContactId)
        .limit(TOP_CONTACTS)
        .all(&state.db)
        .await?;
    let mut people: HashMap<i64, contacts::Model> = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal_id))
        .filter(contacts::Column::Id.is_in(top.iter().map(|s| s.contact_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(top
        .into_iter()
        .map(|score| {
            let person = people.remove(&score.contact_id);
            (score, person)
        })
        .collect())
}

/// A contact's name, else its email, else its HubSpot id.
pub fn contact_name(id: i64, contact: Option<&contacts::Model>) -> String {
    let name = contact
        .map(|c| {
            [c.first_name.as_deref(), c.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|n| !n.trim().is_empty());
    name.or_else(|| contact.and_then(|c| c.email.clone()))
        .unwrap_or_else(|| format!("Contact {id}"))
}

/// `GET /app/portals`: the account's HubSpot accounts, each linking to its scores.
pub async fn list(
    State(state): State<AppState>,
    session: AccountSession,
) -> Result<Html<String>, PageError> {
    let owned = owned_portals(&state, &session).await?;
    let body = html! {
        @if owned.is_empty() {
            section.panel {
                p { "No HubSpot account is connected yet. " a href="/app/integrations" { "Connect HubSpot" } " to see your contacts' scores." }
            }
        }
        @for portal in &owned {
            @let (label, tone, sentence) = presented(portal, false);
            section.panel {
                h2 { a href=(format!("/app/portals/{}", portal.id)) { "HubSpot account " (portal.id) } }
                p { (layout::badge(label, tone)) " " (sentence) }
            }
        }
    };
    Ok(Html(
        layout::page("Scores", Nav::Scores, &session, body).into_string(),
    ))
}

/// `GET /app/portals/{id}`: scores at a glance.
pub async fn page(
    State(state): State<AppState>,
    session: AccountSession,
    Path(raw): Path<String>,
) -> Result<Html<String>, PageError> {
    let portal = owned_portal(&state, &session, &raw).await?;
    let facts = checks::portal_facts(&state.db, &portal).await?;
    let dist = distribution(&state, portal.id).await?;
    let model = active_model(&state, portal.id).await?;
    let top = top_contacts(&state, portal.id).await?;
    let (label, tone, sentence) = presented(&portal, false);
    let body = html! {
        p.lead { (layout::badge(label, tone)) " " (sentence) }
        (lookup_form(portal.id, ""))
        section.panel aria-labelledby="checks-h" {
            h2 #checks-h { "Is your HubSpot data ready?" }
            (checks::render(&checks::evaluate(&facts)))
        }
        @if dist.scored() == 0 {
            section.panel {
                h2 { "No scores yet" }
                p { "Scores appear here once Conturs has read your HubSpot data and learned from your closed-won customers. Follow the first sync on the " a href="/app/integrations" { "Integrations" } " page." }
            }
        } @else {
            div.grid {
                section.panel aria-labelledby="temp-h" {
                    h2 #temp-h { "Hot, warm and cold" }
                    (temperatures(&dist))
                }
                section.panel aria-labelledby="grades-h" {
                    h2 #grades-h { "Grades" }
                    (charts::grades(&dist.grades))
                    p.muted.small { "A: 80 and up · B: 60–79 · C: 40–59 · D: 20–39 · F: below 20. "
                        "Scores are percentiles within your own contacts: 50 is a typical fit, not a poor one." }
                }
            }
            @if let Some(model) = &model { (model_panel(model)) }
            section.panel aria-labelledby="top-h" {
                h2 #top-h { "Your best " (TOP_CONTACTS) " contacts" }
                (top_table(portal.id, &top))
            }
        }
    };
    Ok(Html(
        layout::page(
            &format!("Scores · HubSpot account {}", portal.id),
            Nav::Scores,
            &session,
            body,
        )
        .into_string(),
    ))
}

fn temperatures(dist: &Distribution) -> Markup {
    let rows: Vec<(Markup, i64)> = [
        (Temperature::Hot, dist.hot),
        (Temperature::Warm, dist.warm),
        (Temperature::Cold, dist.cold),
    ]
    .iter()
    .map(|(t, n)| (html! { (t.label()) }, *n))
    .collect();
    html! {
        (charts::share_table("Scored contacts per temperature", "Temperature", &rows))
        p.muted.small {
            (format::count(dist.scored())) " contacts scored"
            @if dist.unscored > 0 { "; " (format::count(dist.unscored)) " not scored (no company data: look one up below to see why)" }
            "."
        }
    }
}

fn model_panel(model: &models::Model) -> Markup {
    let learned = scoring::crm::ContactModel::from_json(&model.artefact.to_string())
        .ok()
        .map(|m| m.model().learned(LEARNED_PER_SIDE));
    html! {
        div.grid {
            section.panel aria-labelledby="quality-h" {
                h2 #quality-h { "How good is the model?" }
                @for sentence in quality_in_words(&model.metrics) { p { (sentence) } }
                p.muted.small { "Model v" (model.version) ", trained " (format::timestamp(model.trained_at)) "." }
            }
            section.panel aria-labelledby="learned-h" #learned {
                h2 #learned-h { "What the model learned" }
                @match &learned {
                    None => p.muted { "This model's details cannot be shown; it is replaced at the next training." },
                    Some(learned) => {
                        h3 { "Makes a contact more like your customers" }
                        (factor_list(&learned.positives, "No single trait stands out."))
                        h3 { "Makes a contact less like your customers" }
                        (factor_list(&learned.negatives, "No single trait counts against a contact."))
                        p.muted.small { "Points compare a contact with your average contact: +10 doubles the odds of being like your customers, −10 halves them." }
                    }
                }
            }
        }
    }
}

fn factor_list(factors: &[scoring::Factor], none: &str) -> Markup {
    html! {
        @if factors.is_empty() { p.muted { (none) } } @else {
            ul.factors {
                @for factor in factors {
                    li { span.num { (format!("{:+}", factor.points)) } " " (factor.phrase()) }
                }
            }
        }
    }
}

fn top_table(portal_id: i64, top: &[(scores::Model, Option<contacts::Model>)]) -> Markup {
    html! {
        div.scroll {
            table.top {
                thead { tr { th scope="col" { "Contact" } th scope="col" { "Score" } th scope="col" { "Grade" } th scope="col" { "Why" } } }
                tbody {
                    @for (score, contact) in top {
                        tr {
                            th scope="row" {
                                a href=(format!("/app/portals/{portal_id}/lookup?q={}", score.contact_id)) {
                                    (contact_name(score.contact_id, contact.as_ref()))
                                }
                                @if let Some(email) = contact.as_ref().and_then(|c| c.email.as_deref()) {
                                    br; span.muted.small { (email) }
                                }
                            }
                            td.num { (score.score.map(|s| s.to_string()).unwrap_or_default()) }
                            td { @if let Some(g) = &score.grade { span class=(format!("grade g-{}", g.to_lowercase())) { (g) } } }
                            td.explanation { (score.explanation.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// The troubleshooting form: a contact's email or HubSpot id.
pub fn lookup_form(portal_id: i64, value: &str) -> Markup {
    html! {
        form.filters role="search" method="get" action=(format!("/app/portals/{portal_id}/lookup")) {
            label for="q" { "Look up a contact" }
            input #q type="search" name="q" value=(value) required placeholder="email or HubSpot contact id";
            button type="submit" { "Look up" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperatures_follow_the_product_contract() {
        assert_eq!(Temperature::of(100), Temperature::Hot);
        assert_eq!(Temperature::of(81), Temperature::Hot);
        assert_eq!(Temperature::of(80), Temperature::Warm);
        assert_eq!(Temperature::of(50), Temperature::Warm);
        assert_eq!(Temperature::of(49), Temperature::Cold);
        assert_eq!(Temperature::of(0), Temperature::Cold);
    }

    #[test]
    fn distribution_counts_every_contact_once() {
        let dist = Distribution::of(
            &[
                (Some(95), 2),
                (Some(80), 3),
                (Some(50), 1),
                (Some(10), 4),
                (None, 5),
            ],
            &[
                (Some("A".into()), 5),
                (Some("C".into()), 1),
                (Some("F".into()), 4),
                (None, 5),
            ],
        );
        assert_eq!(
            (dist.hot, dist.warm, dist.cold, dist.unscored),
            (2, 4, 4, 5)
        );
        assert_eq!(dist.scored(), 10);
        assert_eq!(
            dist.grades,
            vec![
                ("A".into(), 5),
                ("B".into(), 0),
                ("C".into(), 1),
                ("D".into(), 0),
                ("F".into(), 4)
            ]
        );
    }

    #[test]
    fn quality_is_said_in_plain_words() {
        let words = quality_in_words(&serde_json::json!({
            "lift_top_decile": 3.24, "training_auc": 0.83, "positive_groups": 42
        }));
        assert_eq!(words.len(), 3);
        assert!(words[0].contains("3.2× as likely"), "{}", words[0]);
        assert!(words[1].contains("83% of the time"));
        assert!(words[1].contains("strong model"));
        assert!(words[1].contains("contacts it learned from"));
        assert!(words[2].contains("42 closed-won"));
        let held_out = quality_in_words(&serde_json::json!({
            "selection_auc": 0.66, "training_auc": 0.9, "lift_top_decile": 1.0
        }));
        assert!(held_out[0].contains("no more likely"));
        assert!(held_out[1].contains("66%") && held_out[1].contains("modest"));
        assert!(held_out[1].contains("had not learned from"));
        assert!(quality_in_words(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn contacts_are_named_by_name_then_email_then_id() {
        assert_eq!(contact_name(7, None), "Contact 7");
    }
}
