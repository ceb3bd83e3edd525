//! Prerequisite checks in the customer's words: what Conturs needs from a HubSpot account
//! (contacts with company data, closed-won deals, the granted scopes), each with what to do
//! about it. Before connecting they are the requirements; after, they are computed from the
//! synced data, the granted scopes and TrainModel's "not enough closed-won data" outcome.

use entity::{PortalStatus, companies, contacts, deals, portals};
use maud::{Markup, html};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

/// Contacts with company data, and closed-won deals, Conturs needs at the least (the
/// training minimum of closed-won customers, `scoring::TrainConfig`).
pub fn minimum() -> i64 {
    scoring::TrainConfig::default().min_positive_groups as i64
}

/// Where one requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Nothing to do.
    Met,
    /// The customer must act (the check says how).
    NotMet,
    /// Not known until the first sync has finished.
    Pending,
}

/// One requirement: a headline, what Conturs found, and what to do when it is not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub standing: Standing,
    /// The requirement, as a headline.
    pub title: String,
    /// What Conturs found in the customer's data.
    pub found: String,
    /// What to do when it is not met.
    pub fix: Option<String>,
}

/// What the checks of a connected portal are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalFacts {
    /// Whether a full sync has finished (before that, counts are partial).
    pub synced: bool,
    /// Synced contacts not deleted in HubSpot.
    pub contacts: i64,
    /// Of those, the ones whose company has an industry, size, revenue or country.
    pub contacts_with_company_data: i64,
    /// Deals HubSpot marks closed-won (not deleted).
    pub closed_won_deals: i64,
    /// Required scopes HubSpot did not grant.
    pub missing_scopes: Vec<String>,
    /// TrainModel's "not enough closed-won data" outcome, when that is the portal's state.
    pub not_enough_data: Option<String>,
}

/// The three checks of a connected portal.
pub fn evaluate(facts: &PortalFacts) -> Vec<Check> {
    let min = minimum();
    let counted = |ok: bool| match (facts.synced, ok) {
        (_, true) => Standing::Met,
        (false, false) => Standing::Pending,
        (true, false) => Standing::NotMet,
    };
    let company = {
        let ok = facts.contacts_with_company_data >= min;
        Check {
            standing: counted(ok),
            title: format!("At least {min} contacts with company data"),
            found: format!(
                "{} of your {} contacts are linked to a company with an industry, size, revenue or country{}.",
                facts.contacts_with_company_data,
                facts.contacts,
                if facts.synced {
                    ""
                } else {
                    " so far (the first sync is still running)"
                }
            ),
            fix: (!ok).then(|| {
                "Associate your contacts with their companies in HubSpot and fill in the \
                 companies' industry, number of employees, annual revenue or country. Contacts \
                 without a company are not scored; Conturs picks changes up within seconds."
                    .to_owned()
            }),
        }
    };
    let won = {
        let ok = facts.closed_won_deals >= min && facts.not_enough_data.is_none();
        let mut found = format!(
            "{} closed-won deals{}.",
            facts.closed_won_deals,
            if facts.synced { "" } else { " so far" }
        );
        if let Some(reason) = &facts.not_enough_data {
            found.push_str(&format!(" Training said: {reason}."));
        }
        Check {
            standing: counted(ok),
            title: format!("At least {min} closed-won deals, from {min} different companies"),
            found,
            fix: (!ok).then(|| {
                "Conturs learns what your best customers look like from deals marked Closed \
                 won and associated with a company. Mark won deals as Closed won and associate \
                 each with its company in HubSpot; Conturs retrains at the nightly re-sync."
                    .to_owned()
            }),
        }
    };
    let scopes = if facts.missing_scopes.is_empty() {
        Check {
            standing: Standing::Met,
            title: "Every permission Conturs needs".to_owned(),
            found: "HubSpot granted every required scope.".to_owned(),
            fix: None,
        }
    } else {
        Check {
            standing: Standing::NotMet,
            title: "Every permission Conturs needs".to_owned(),
            found: format!(
                "HubSpot did not grant: {}.",
                facts.missing_scopes.join(", ")
            ),
            fix: Some(
                "Choose Reconnect on the Integrations page and approve every permission on \
                 HubSpot's screen (a HubSpot super admin may have to do it)."
                    .to_owned(),
            ),
        }
    };
    vec![company, won, scopes]
}

/// The checks as a list, each with its standing, what was found and what to do.
pub fn render(checks: &[Check]) -> Markup {
    html! {
        ul.checks {
            @for check in checks {
                @let (label, tone) = match check.standing {
                    Standing::Met => ("OK", "good"),
                    Standing::NotMet => ("Action needed", "bad"),
                    Standing::Pending => ("Checking…", "busy"),
                };
                li data-check=(match check.standing { Standing::Met => "met", Standing::NotMet => "not-met", Standing::Pending => "pending" }) {
                    (super::layout::badge(label, tone)) " "
                    strong { (check.title) }
                    p.small { (check.found) }
                    @if let (Some(fix), false) = (&check.fix, check.standing == Standing::Pending) {
                        p.small { strong { "What to do: " } (fix) }
                    }
                }
            }
        }
    }
}

/// What Conturs needs, shown before a HubSpot account is connected.
pub fn requirements() -> Markup {
    let min = minimum();
    html! {
        section.panel aria-labelledby="needs-h" {
            h2 #needs-h { "Before you connect" }
            p { "Conturs learns from your own customers, so your HubSpot account needs:" }
            ul {
                li { strong { "At least " (min) " contacts with company data." }
                    " Each contact should be associated with its company, and the company should have an industry, number of employees, annual revenue or country. Contacts without one are listed with the reason instead of a score." }
                li { strong { "At least " (min) " closed-won deals" } ", associated with " (min) " different companies. "
                    "With fewer, Conturs says so instead of showing scores that would mean nothing." }
                li { strong { "A HubSpot super admin" } " (or a user allowed to install apps) to approve these permissions:"
                    ul.scopes {
                        @for scope in hubspot::oauth::install::REQUIRED_SCOPES { li { code { (scope) } " — " (scope_purpose(scope)) } }
                    }
                }
            }
            p.muted.small { "Conturs never reads emails, notes, calls, attachments or marketing email performance." }
        }
    }
}

/// Why Conturs asks for a scope, in words.
fn scope_purpose(scope: &str) -> &'static str {
    match scope {
        "oauth" => "sign in to HubSpot on your behalf",
        "crm.objects.contacts.read" => "read your contacts",
        "crm.objects.contacts.write" => "write the score, grade and explanation onto each contact",
        "crm.objects.companies.read" => "read the companies your contacts work for",
        "crm.objects.deals.read" => "see which deals were won",
        "crm.schemas.contacts.read" => "check the Conturs contact properties",
        "crm.schemas.contacts.write" => "create the Conturs contact properties",
        _ => "needed by Conturs",
    }
}

/// Required scopes the portal's grant lacks.
pub fn missing_scopes(portal: &portals::Model) -> Vec<String> {
    let granted: Vec<String> = serde_json::from_value(portal.scopes.clone()).unwrap_or_default();
    hubspot::oauth::install::REQUIRED_SCOPES
        .iter()
        .filter(|scope| !granted.iter().any(|g| g == *scope))
        .map(|scope| (*scope).to_owned())
        .collect()
}

/// Counts the synced data of `portal` for its checks (three counting queries).
pub async fn portal_facts<C: ConnectionTrait>(
    db: &C,
    portal: &portals::Model,
) -> Result<PortalFacts, DbErr> {
    let contacts = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal.id))
        .filter(contacts::Column::Archived.eq(false))
        .count(db)
        .await? as i64;
    let closed_won_deals = deals::Entity::find()
        .filter(deals::Column::PortalId.eq(portal.id))
        .filter(deals::Column::Archived.eq(false))
        .filter(deals::Column::IsClosedWon.eq(true))
        .count(db)
        .await? as i64;
    Ok(PortalFacts {
        synced: portal.last_full_sync_at.is_some()
            || matches!(
                portal.status,
                PortalStatus::Ready | PortalStatus::InsufficientData
            ),
        contacts,
        contacts_with_company_data: with_company_data(db, portal.id).await?,
        closed_won_deals,
        missing_scopes: missing_scopes(portal),
        not_enough_data: (portal.status == PortalStatus::InsufficientData)
            .then(|| portal.status_reason.clone())
            .flatten(),
    })
}

/// Contacts whose company has at least one firmographic (what makes a contact scorable).
async fn with_company_data<C: ConnectionTrait>(db: &C, portal_id: i64) -> Result<i64, DbErr> {
    let (c, co) = (Alias::new("c"), Alias::new("co"));
    let mut query = Query::select();
    query
        .expr_as(
            Func::count(Expr::col((c.clone(), contacts::Column::Id))),
            Alias::new("n"),
        )
        .from_as(contacts::Entity, c.clone())
        .join_as(
            JoinType::InnerJoin,
            companies::Entity,
            co.clone(),
            Expr::col((co.clone(), companies::Column::PortalId))
                .equals((c.clone(), contacts::Column::PortalId))
                .and(
                    Expr::col((co.clone(), companies::Column::Id))
                        .equals((c.clone(), contacts::Column::CompanyId)),
                ),
        )
        .and_where(Expr::col((c.clone(), contacts::Column::PortalId)).eq(portal_id))
        .and_where(Expr::col((c.clone(), contacts::Column::Archived)).eq(false))
        .and_where(Expr::col((co.clone(), companies::Column::Archived)).eq(false))
        .cond_where(
            Condition::any()
                .add(Expr::col((co.clone(), companies::Column::Industry)).is_not_null())
                .add(Expr::col((co.clone(), companies::Column::Employees)).is_not_null())
                .add(Expr::col((co.clone(), companies::Column::AnnualRevenue)).is_not_null())
                .add(Expr::col((co.clone(), companies::Column::Country)).is_not_null()),
        );
    let row = db.query_one(&query).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> PortalFacts {
        PortalFacts {
            synced: true,
            contacts: 200,
            contacts_with_company_data: 150,
            closed_won_deals: 12,
            missing_scopes: Vec::new(),
            not_enough_data: None,
        }
    }

    #[test]
    fn a_healthy_portal_meets_every_check() {
        let checks = evaluate(&facts());
        assert_eq!(checks.len(), 3);
        assert!(
            checks
                .iter()
                .all(|c| c.standing == Standing::Met && c.fix.is_none())
        );
        assert!(checks[0].found.starts_with("150 of your 200 contacts"));
    }

    #[test]
    fn each_shortfall_says_what_to_do() {
        let checks = evaluate(&PortalFacts {
            contacts_with_company_data: 9,
            closed_won_deals: 3,
            missing_scopes: vec!["crm.objects.deals.read".into()],
            not_enough_data: Some(
                "not enough closed-won data: 3 closed-won customers, at least 10 needed".into(),
            ),
            ..facts()
        });
        assert!(checks.iter().all(|c| c.standing == Standing::NotMet));
        assert!(
            checks[0]
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("Associate your contacts"))
        );
        assert!(
            checks[1]
                .found
                .contains("3 closed-won customers, at least 10 needed")
        );
        assert!(
            checks[1]
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("Closed won"))
        );
        assert!(checks[2].found.contains("crm.objects.deals.read"));
        assert!(
            checks[2]
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("Reconnect"))
        );
    }

    #[test]
    fn counts_during_the_first_sync_are_pending_not_failures() {
        let checks = evaluate(&PortalFacts {
            synced: false,
            contacts_with_company_data: 2,
            closed_won_deals: 0,
            ..facts()
        });
        assert_eq!(checks[0].standing, Standing::Pending);
        assert_eq!(checks[1].standing, Standing::Pending);
        assert_eq!(checks[2].standing, Standing::Met);
        let html = render(&checks).into_string();
        assert!(html.contains("Checking…"));
        assert!(
            !html.contains("What to do"),
            "no advice before the data is in"
        );
    }

    #[test]
    fn missing_scopes_are_the_required_ones_not_granted() {
        let mut granted: Vec<&str> = hubspot::oauth::install::REQUIRED_SCOPES.to_vec();
        granted.retain(|s| *s != "crm.objects.contacts.write");
        let portal = portals::Model {
            scopes: serde_json::json!(granted),
            ..test_portal()
        };
        assert_eq!(missing_scopes(&portal), vec!["crm.objects.contacts.write"]);
    }

    fn test_portal() -> portals::Model {
        let now = chrono::Utc::now();
        portals::Model {
            id: 1,
            status: PortalStatus::Ready,
            status_reason: None,
            scopes: serde_json::json!([]),
            connected_at: now,
            disconnected_at: None,
            last_full_sync_at: None,
            last_incremental_sync_at: None,
            active_model_version: None,
            sync_watermark: None,
            account_id: None,
            hub_domain: None,
            created_at: now,
            updated_at: now,
        }
    }
}
