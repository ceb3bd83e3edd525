//! The page shell both sites use: `<head>` with the shared assets, the header with the brand,
//! navigation entries, the signed-in page and the bare page (sign-in, errors), and the small
//! pieces every form and page reuse.

use maud::{DOCTYPE, Markup, html};

use super::Site;

fn head<S: Site>(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) (S::TITLE_SUFFIX) }
            link rel="stylesheet" href=(format!("{}/board.css", S::ASSETS));
            script src=(format!("{}/board.js", S::ASSETS)) defer {}
        }
    }
}

fn brand<S: Site>() -> Markup {
    html! {
        a.brand href=(S::HOME) {
            "Conturs"
            @if let Some(suffix) = S::BRAND_SUFFIX { span.muted { (suffix) } }
        }
    }
}

/// One navigation entry, marked as the current page when `current`.
pub fn nav_item(current: bool, href: &str, label: &str) -> Markup {
    html! {
        li {
            @if current {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    }
}

/// A signed-in page: the navigation `items` (see [`nav_item`]) labelled `nav_label`, then
/// `aside` (who is signed in, the sign-out form), then the page's title and body.
pub fn page<S: Site>(
    title: &str,
    nav_label: &str,
    items: Markup,
    aside: Markup,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head::<S>(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    (brand::<S>())
                    nav aria-label=(nav_label) { ul { (items) } }
                    (aside)
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (sign-in, sign-up, errors).
pub fn bare<S: Site>(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head::<S>(title))
            body {
                header.top { (brand::<S>()) }
                main #main { (body) }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A status badge.
pub fn badge(text: &str, tone: &str) -> Markup {
    html! { span class=(format!("badge {tone}")) { (text) } }
}

/// A flash message passed back through the query string after an action (`?done=…`).
pub fn flash(message: Option<&str>, tone: &str) -> Markup {
    html! {
        @if let Some(message) = message {
            p class=(format!("flash {tone}")) role="status" { (message) }
        }
    }
}

/// `message` as a `?done=` query value for the page an action redirects to.
pub fn done_query(message: &str) -> String {
    url::form_urlencoded::byte_serialize(message.as_bytes()).collect()
}
