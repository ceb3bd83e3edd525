//! The page shell every board page shares: head, navigation, sign-out, and the CSRF-carrying
//! action forms.

use maud::{DOCTYPE, Markup, html};

use super::session::Session;

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Jobs,
    Portals,
    Accounts,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · Conturs board" }
            link rel="stylesheet" href="/board/assets/board.css";
            script src="/board/assets/board.js" defer {}
        }
    }
}

/// A signed-in page.
pub fn page(title: &str, nav: Nav, session: &Session, body: Markup) -> Markup {
    let item = |target: Nav, href: &str, label: &str| {
        html! {
            li {
                @if target == nav {
                    a href=(href) aria-current="page" { (label) }
                } @else {
                    a href=(href) { (label) }
                }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/board" { "Conturs" span.muted { " board" } }
                    nav aria-label="Board" {
                        ul {
                            (item(Nav::Overview, "/board", "Overview"))
                            (item(Nav::Jobs, "/board/jobs", "Jobs"))
                            (item(Nav::Portals, "/board/portals", "Portals"))
                            (item(Nav::Accounts, "/board/accounts", "Accounts"))
                        }
                    }
                    form.signout method="post" action="/board/logout" {
                        (csrf_field(session))
                        button.link type="submit" { "Sign out" }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top { a.brand href="/board" { "Conturs" span.muted { " board" } } }
                main #main { (body) }
            }
        }
    }
}

/// The hidden field every action form carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
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

/// Pretty JSON for a `<pre>`, escaped by maud like any other text.
pub fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! { pre.json { code { (text) } } }
}
