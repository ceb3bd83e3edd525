//! The page shell every board page shares: head, navigation, sign-out, and the CSRF-carrying
//! action forms.

use maud::{Markup, html};

use super::session::Session;
use crate::web::{Site, shell};

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Jobs,
    Portals,
    Accounts,
}

/// The board as a [`Site`]: its assets, brand and error links.
pub struct Board;

impl Site for Board {
    const TITLE_SUFFIX: &'static str = " · Conturs board";
    const ASSETS: &'static str = "/board/assets";
    const HOME: &'static str = "/board";
    const BRAND_SUFFIX: Option<&'static str> = Some(" board");
    const NOT_FOUND: &'static str = "There is no such page on the board.";
    const LOG_LABEL: &'static str = "board";
    fn error_links() -> Markup {
        super::error::links()
    }
}

/// A signed-in page.
pub fn page(title: &str, nav: Nav, session: &Session, body: Markup) -> Markup {
    let items = html! {
        (shell::nav_item(nav == Nav::Overview, "/board", "Overview"))
        (shell::nav_item(nav == Nav::Jobs, "/board/jobs", "Jobs"))
        (shell::nav_item(nav == Nav::Portals, "/board/portals", "Portals"))
        (shell::nav_item(nav == Nav::Accounts, "/board/accounts", "Accounts"))
    };
    let aside = html! {
        form.signout method="post" action="/board/logout" {
            (csrf_field(session))
            button.link type="submit" { "Sign out" }
        }
    };
    shell::page::<Board>(title, "Board", items, aside, body)
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    shell::bare::<Board>(title, body)
}

/// The hidden field every action form carries.
pub fn csrf_field(session: &Session) -> Markup {
    shell::csrf_field(&session.csrf)
}

/// A one-button POST form that asks for confirmation first (`data-confirm`, board.js).
pub fn action_button(
    session: &Session,
    action: &str,
    label: &str,
    confirm: &str,
    tone: &str,
    hidden: &[(&str, &str)],
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=(confirm) {
            (csrf_field(session))
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            button class=(format!("btn {tone}")) type="submit" { (label) }
        }
    }
}

pub use crate::web::shell::{badge, flash};

/// Pretty JSON for a `<pre>`, escaped by maud like any other text.
pub fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! { pre.json { code { (text) } } }
}
