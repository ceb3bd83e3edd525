//! The customer dashboard's page shell: the board's stylesheet and script (one set of assets,
//! no build step), its own navigation and sign-out, and the CSRF-carrying forms.

use maud::{DOCTYPE, Markup, html};

use super::session::AccountSession;

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Integrations,
    Account,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · Conturs" }
            link rel="stylesheet" href="/app/assets/board.css";
            script src="/app/assets/board.js" defer {}
        }
    }
}

/// A signed-in page.
pub fn page(title: &str, nav: Nav, session: &AccountSession, body: Markup) -> Markup {
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
                    a.brand href=(super::HOME) { "Conturs" }
                    nav aria-label="Dashboard" {
                        ul {
                            (item(Nav::Integrations, "/app/integrations", "Integrations"))
                            (item(Nav::Account, "/app/account", "Account"))
                        }
                    }
                    span.muted.small { (session.account.email) }
                    form.signout method="post" action="/app/sign-out" {
                        (csrf_field(&session.csrf))
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

/// A page without navigation (sign-in, sign-up, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top { a.brand href=(super::HOME) { "Conturs" } }
                main #main { (body) }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
