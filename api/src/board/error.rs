//! Board failures as pages: the same status codes and messages as the API's errors, rendered as
//! HTML a person can read (and go back from), in the board's shell (`web::ErrorPage`).

use maud::{Markup, html};

use super::layout::Board;
use crate::web::{ErrorPage, Site};

/// An error a board handler returns; shown as a page with its status.
pub type BoardError = ErrorPage<Board>;

/// The board's error links: back, and the overview.
pub(super) fn links() -> Markup {
    html! { a href="javascript:history.back()" { "Go back" } " · " a href=(Board::HOME) { "Overview" } }
}
