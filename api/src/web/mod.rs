//! What the two server-rendered sites — the operators' board (`/board`) and the customer
//! dashboard (`/app`) — share: the page shell (head, header, navigation entries, the signed-in
//! layout and the bare one) and errors shown as pages. Each site names itself through [`Site`],
//! so one set of markup serves both and neither links into the other.

pub mod error;
pub mod shell;

pub use error::ErrorPage;

use maud::Markup;

/// One server-rendered site: where its assets and front page are, how it brands its pages and
/// what its error pages link back to.
pub trait Site: Send + Sync + 'static {
    /// Appended to every `<title>` (e.g. " · Conturs board").
    const TITLE_SUFFIX: &'static str;
    /// Where the stylesheet and script are served (without a trailing slash).
    const ASSETS: &'static str;
    /// The brand link's target.
    const HOME: &'static str;
    /// Words after "Conturs" in the brand, muted (e.g. " board"), if any.
    const BRAND_SUFFIX: Option<&'static str>;
    /// The sentence a 404 of this site says.
    const NOT_FOUND: &'static str;
    /// What the site's log lines call a failed request.
    const LOG_LABEL: &'static str;
    /// The links under an error message.
    fn error_links() -> Markup;
}
