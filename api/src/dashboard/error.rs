//! Dashboard failures as pages: a status and a sentence the customer can act on, in the
//! dashboard's own shell (`web::ErrorPage`; never a JSON body, never the board's links).

use maud::{Markup, html};

use super::layout::Dashboard;
use crate::web::ErrorPage;

/// An error a dashboard handler returns; shown as a page with its status. Anything the
/// signed-in account does not own answers [`ErrorPage::not_found`], exactly like a missing one.
pub type PageError = ErrorPage<Dashboard>;

/// The dashboard's error link: back to the customer's own pages.
pub(super) fn links() -> Markup {
    html! { a href=(super::HOME) { "Back to your dashboard" } }
}
