//! The account pages: sign-up, sign-in, sign-out and the password change.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use super::accounts::{self as store, AccountError, MIN_PASSWORD_CHARS};
use super::error::PageError;
use super::layout::{self, Nav};
use super::session::{self, AccountSession};
use crate::AppState;

/// `GET /app`: the dashboard's front page is the Integrations page.
pub async fn home(_session: AccountSession) -> Redirect {
    Redirect::to("/app/integrations")
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Which anonymous form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Door {
    SignIn,
    SignUp,
}

fn door_page(door: Door, csrf: &str, next: &str, email: &str, error: Option<&str>) -> Html<String> {
    let (title, action, button) = match door {
        Door::SignIn => ("Sign in to Conturs", "/app/sign-in", "Sign in"),
        Door::SignUp => (
            "Create your Conturs account",
            "/app/sign-up",
            "Create account",
        ),
    };
    let body = html! {
        section.panel.login {
            h2 { (title) }
            @if let Some(error) = error {
                p.flash.bad role="alert" { (error) }
            }
            form method="post" action=(action) {
                (layout::csrf_field(csrf))
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) required autocomplete="email" autofocus;
                label for="password" { "Password" }
                @if door == Door::SignUp {
                    input #password type="password" name="password" required minlength=(MIN_PASSWORD_CHARS)
                        autocomplete="new-password" aria-describedby="password-rule";
                    p #password-rule .muted.small { "At least " (MIN_PASSWORD_CHARS) " characters." }
                } @else {
                    input #password type="password" name="password" required autocomplete="current-password";
                }
                button type="submit" { (button) }
            }
            @if door == Door::SignIn {
                p.muted { "New to Conturs? " a href="/app/sign-up" { "Create an account" } }
            } @else {
                p.muted { "Already have an account? " a href="/app/sign-in" { "Sign in" } }
            }
        }
    };
    Html(layout::bare(title, body).into_string())
}

fn show_door(
    state: &AppState,
    jar: CookieJar,
    door: Door,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let (jar, csrf) = session::form_token(state, jar);
    (status, jar, door_page(door, &csrf, next, email, error)).into_response()
}

/// `GET /app/sign-in`.
pub async fn sign_in_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = session::safe_next(query.next.as_deref()).to_owned();
    show_door(&state, jar, Door::SignIn, StatusCode::OK, &next, "", None)
}

/// `GET /app/sign-up`.
pub async fn sign_up_form(State(state): State<AppState>, jar: CookieJar) -> Response {
    show_door(
        &state,
        jar,
        Door::SignUp,
        StatusCode::OK,
        super::HOME,
        "",
        None,
    )
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// Starts a session for `account_id` and sends the browser on.
async fn start_session(
    state: &AppState,
    jar: CookieJar,
    account_id: i64,
    next: &str,
) -> Result<Response, PageError> {
    let token = store::create_session(state, account_id).await?;
    let jar = jar
        .remove(axum_extra::extract::cookie::Cookie::build(session::FORM_COOKIE).path("/app"))
        .add(session::session_cookie(token));
    Ok((jar, Redirect::to(next)).into_response())
}

/// `POST /app/sign-up`: creates the account and signs it in.
pub async fn sign_up(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, PageError> {
    session::check_form_token(&state, &jar, &form.csrf)?;
    match store::sign_up(&state, &form.email, &form.password).await {
        Ok(account) => {
            tracing::info!(account = account.id, "account created");
            start_session(&state, jar, account.id, super::HOME).await
        }
        Err(AccountError::Invalid(message)) => Ok(show_door(
            &state,
            jar,
            Door::SignUp,
            StatusCode::UNPROCESSABLE_ENTITY,
            super::HOME,
            &form.email,
            Some(&message),
        )),
        // Answered like any other refused form, in words that fit both "taken" and "not
        // allowed", so the form is no cheaper a way to learn who has an account than sign-in.
        Err(AccountError::EmailTaken) => Ok(show_door(
            &state,
            jar,
            Door::SignUp,
            StatusCode::UNPROCESSABLE_ENTITY,
            super::HOME,
            &form.email,
            Some(SIGN_UP_REFUSED),
        )),
        Err(error) => Err(unavailable(error)),
    }
}

/// What sign-up says when the email cannot be used (it belongs to an account already).
const SIGN_UP_REFUSED: &str = "Conturs could not create an account with this email. If you \
     already have one, sign in instead; otherwise use another email.";

fn unavailable(error: AccountError) -> PageError {
    tracing::error!(%error, "account operation failed");
    PageError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Conturs could not do that just now; please try again in a minute.",
    )
}

/// `POST /app/sign-in`: email and password for a session (per-account lockout, global
/// throttle of failures).
pub async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<CredentialsForm>,
) -> Result<Response, PageError> {
    session::check_form_token(&state, &jar, &form.csrf)?;
    let next = session::safe_next(form.next.as_deref()).to_owned();
    let key = &state.config.dashboard_key;
    let refuse = |status, message: &str| {
        Ok(show_door(
            &state,
            jar.clone(),
            Door::SignIn,
            status,
            &next,
            &form.email,
            Some(message),
        ))
    };
    if key.sign_ins_paused() {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins; wait a minute and try again.",
        );
    }
    match store::sign_in(&state, &form.email, &form.password).await {
        Ok(account) => {
            tracing::info!(account = account.id, "account signed in");
            start_session(&state, jar, account.id, &next).await
        }
        Err(AccountError::WrongCredentials) => {
            key.record_failed_sign_in();
            refuse(
                StatusCode::UNAUTHORIZED,
                "That email and password do not match an account.",
            )
        }
        Err(AccountError::Locked { until }) => {
            key.record_failed_sign_in();
            let minutes = (until - state.config.clock.now()).num_minutes().max(0) + 1;
            refuse(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many wrong passwords: this account is locked for {minutes} more minutes."
                ),
            )
        }
        Err(error) => Err(unavailable(error)),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /app/sign-out`: ends the session on the server and drops the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    session: AccountSession,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    store::revoke_session(&state, &session.session_id).await?;
    Ok((
        jar.remove(session::session_cookie_removal()),
        Redirect::to("/app/sign-in"),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn account_page(
    session: &AccountSession,
    status: StatusCode,
    done: Option<&str>,
    error: Option<&str>,
) -> Response {
    let body: Markup = html! {
        @if let Some(done) = done { p.flash.good role="status" { (done) } }
        section.panel aria-labelledby="who-h" {
            h2 #who-h { "Your account" }
            dl.facts {
                dt { "Email" } dd { (session.account.email) }
                dt { "Created" } dd { (crate::board::format::timestamp(session.account.created_at)) }
            }
        }
        section.panel aria-labelledby="password-h" {
            h2 #password-h { "Change your password" }
            @if let Some(error) = error { p.flash.bad role="alert" { (error) } }
            form method="post" action="/app/account/password" {
                (layout::csrf_field(&session.csrf))
                label for="current" { "Current password" }
                input #current type="password" name="current" required autocomplete="current-password";
                label for="new" { "New password" }
                input #new type="password" name="new" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
                button type="submit" { "Change password" }
            }
            p.muted { "Changing your password signs you out everywhere else." }
        }
    };
    (
        status,
        Html(layout::page("Account", Nav::Account, session, body).into_string()),
    )
        .into_response()
}

/// `GET /app/account`.
pub async fn account(session: AccountSession, Query(query): Query<DoneQuery>) -> Response {
    account_page(&session, StatusCode::OK, query.done.as_deref(), None)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current: String,
    new: String,
}

/// `POST /app/account/password`: checks the current password, sets the new one and ends
/// every other session of the account.
pub async fn change_password(
    State(state): State<AppState>,
    session: AccountSession,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    match store::change_password(
        &state,
        &session.account,
        &session.session_id,
        &form.current,
        &form.new,
    )
    .await
    {
        Ok(_) => {
            let done = crate::web::shell::done_query(
                "Password changed; every other session was signed out.",
            );
            Ok(Redirect::to(&format!("/app/account?done={done}")).into_response())
        }
        Err(AccountError::Invalid(message)) => Ok(account_page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(&message),
        )),
        Err(error) => Err(unavailable(error)),
    }
}
