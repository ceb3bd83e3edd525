//! The customer dashboard's page shell: the shared shell (`web::shell`) with the board's
//! stylesheet and script (one set of assets, no build step), the dashboard's own navigation,
//! the signed-in email and sign-out.

use maud::{Markup, html};

use super::session::AccountSession;
use crate::web::{Site, shell};

pub use crate::web::shell::{badge, csrf_field};

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Integrations,
    Scores,
    Troubleshooting,
    Account,
}

/// The dashboard as a [`Site`]: its assets, brand and error links.
pub struct Dashboard;

impl Site for Dashboard {
    const TITLE_SUFFIX: &'static str = " · Conturs";
    const ASSETS: &'static str = "/app/assets";
    const HOME: &'static str = super::HOME;
    const BRAND_SUFFIX: Option<&'static str> = None;
    const NOT_FOUND: &'static str = "There is no such page in your Conturs account.";
    const LOG_LABEL: &'static str = "dashboard";
    fn error_links() -> Markup {
        super::error::links()
    }
}

/// A signed-in page.
pub fn page(title: &str, nav: Nav, session: &AccountSession, body: Markup) -> Markup {
    let items = html! {
        (shell::nav_item(nav == Nav::Integrations, "/app/integrations", "Integrations"))
        (shell::nav_item(nav == Nav::Scores, "/app/portals", "Scores"))
        (shell::nav_item(nav == Nav::Troubleshooting, "/app/lookup", "Troubleshooting"))
        (shell::nav_item(nav == Nav::Account, "/app/account", "Account"))
    };
    let aside = html! {
        span.muted.small { (session.account.email) }
        form.signout method="post" action="/app/sign-out" {
            (csrf_field(&session.csrf))
            button.link type="submit" { "Sign out" }
        }
    };
    shell::page::<Dashboard>(title, "Dashboard", items, aside, body)
}

/// A page without navigation (sign-in, sign-up, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    shell::bare::<Dashboard>(title, body)
}
