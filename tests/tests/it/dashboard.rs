//! The customer dashboard over real HTTP, as a browser meets it: sign-up and sign-in with
//! their cookies, wrong passwords, lockout, session expiry, sign-out, password change ending
//! other sessions, CSRF on every POST, connecting HubSpot through the simulator's OAuth bound
//! to the account, disconnecting, and another account's attempts on every route that names a
//! portal or a job.

use chrono::{Duration, Utc};
use conturs_tests::app::{ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, between};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use entity::{PortalStatus, account_sessions, accounts, portals};
use hubspot_sim::{RunningSimulator, SimConfig, Simulator};
use jobs::EnqueueOptions;
use jobs::payload::InitialSync;
use reqwest::header;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
pub(crate) struct Customer {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

/// The `name=value` pair of the Set-Cookie named `name`.
pub(crate) fn cookie_pair(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().expect("pair").to_owned())
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// An anonymous form's nonce cookie and CSRF token, as the browser gets them with the page.
pub(crate) async fn form_token(app: &TestApp, page: &str) -> (String, String) {
    let response = app.get(page).await;
    assert_eq!(response.status(), 200, "{page}");
    let cookie = cookie_pair(&response, "conturs_form").expect("form cookie");
    let body = response.text().await.expect("body");
    let csrf = between(&body, "name=\"csrf\" value=\"", "\"").expect("csrf field");
    (cookie, csrf)
}

pub(crate) async fn try_sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let (cookie, csrf) = form_token(app, "/app/sign-in").await;
    app.cookie_post(
        &cookie,
        "/app/sign-in",
        &[("csrf", &csrf), ("email", email), ("password", password)],
    )
    .await
}

/// The session a successful sign-in or sign-up response started.
pub(crate) async fn customer(app: &TestApp, response: reqwest::Response) -> Customer {
    assert_eq!(response.status(), 303);
    let cookie = cookie_pair(&response, "conturs_session").expect("session cookie");
    let (status, page) = app.cookie_get(&cookie, "/app/integrations").await;
    assert_eq!(status, 200);
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").expect("csrf field");
    Customer { cookie, csrf }
}

pub(crate) async fn sign_up(app: &TestApp, email: &str) -> Customer {
    let (cookie, csrf) = form_token(app, "/app/sign-up").await;
    let response = app
        .cookie_post(
            &cookie,
            "/app/sign-up",
            &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), "/app/integrations");
    customer(app, response).await
}

pub(crate) async fn sign_in(app: &TestApp, email: &str, password: &str) -> Customer {
    let response = try_sign_in(app, email, password).await;
    customer(app, response).await
}

pub(crate) async fn account(app: &TestApp, email: &str) -> accounts::Model {
    accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email))
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("account")
}

async fn sessions_of(app: &TestApp, account_id: i64) -> u64 {
    account_sessions::Entity::find()
        .filter(account_sessions::Column::AccountId.eq(account_id))
        .count(&app.db.conn)
        .await
        .expect("count")
}

/// A page that needs a session sends a browser without one to sign in.
async fn asks_to_sign_in(app: &TestApp, cookie: &str, path: &str) {
    let response = app
        .client
        .get(app.url(path))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 303, "{path}");
    assert!(
        location(&response).starts_with("/app/sign-in?next=%2Fapp"),
        "{path} → {}",
        location(&response)
    );
}

#[tokio::test]
async fn sign_up_stores_an_argon2id_hash_and_sets_a_hardened_cookie() {
    let app = spawn_app(Backend::Sqlite).await;
    asks_to_sign_in(&app, "", "/app/integrations").await;
    asks_to_sign_in(&app, "", "/app").await;

    let (form_cookie, csrf) = form_token(&app, "/app/sign-up").await;
    let response = app
        .cookie_post(
            &form_cookie,
            "/app/sign-up",
            &[
                ("csrf", &csrf),
                ("email", "  Ana@Example.COM "),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let session = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("conturs_session="))
        .expect("session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    let customer = customer(&app, response).await;
    let (_, page) = app.cookie_get(&customer.cookie, "/app/integrations").await;
    assert!(page.contains("ana@example.com"));
    assert!(page.contains("Connect HubSpot"));

    let stored = account(&app, "ana@example.com").await;
    assert!(stored.password_hash.starts_with("$argon2id$v=19$"));
    assert!(!stored.password_hash.contains(PASSWORD));
    assert_eq!(stored.plan, None);
    let token = customer.cookie.trim_start_matches("conturs_session=");
    let rows = account_sessions::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("sessions");
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].id, token, "only a hash of the token is stored");

    // The same email in other letters, a short password, a malformed email: refused.
    let (form_cookie, csrf) = form_token(&app, "/app/sign-up").await;
    for (email, password, status) in [
        ("ANA@example.com", PASSWORD, 422),
        ("bo@example.com", "short", 422),
        ("not-an-email", PASSWORD, 422),
    ] {
        let response = app
            .cookie_post(
                &form_cookie,
                "/app/sign-up",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), status, "{email}");
        assert!(cookie_pair(&response, "conturs_session").is_none());
        let page = response.text().await.expect("body");
        assert!(
            !page.contains("already exists"),
            "{email}: a taken email is refused in neutral words"
        );
    }
    assert_eq!(
        accounts::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_lock_the_account_for_15_minutes() {
    let app = spawn_app(Backend::Sqlite).await;
    sign_up(&app, "lock@example.com").await;

    let unknown = try_sign_in(&app, "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let unknown_text = unknown.text().await.expect("body");
    let wrong = try_sign_in(&app, "lock@example.com", "wrong password!").await;
    assert_eq!(wrong.status(), 401);
    assert!(cookie_pair(&wrong, "conturs_session").is_none());
    let wrong_text = wrong.text().await.expect("body");
    let message = "That email and password do not match an account.";
    assert!(unknown_text.contains(message) && wrong_text.contains(message));
    assert_eq!(account(&app, "lock@example.com").await.failed_attempts, 1);

    for _ in 0..3 {
        assert_eq!(
            try_sign_in(&app, "lock@example.com", "wrong password!")
                .await
                .status(),
            401
        );
    }
    let fifth = try_sign_in(&app, "lock@example.com", "wrong password!").await;
    assert_eq!(fifth.status(), 429);
    assert!(fifth.text().await.expect("body").contains("locked"));
    let locked = account(&app, "lock@example.com").await;
    let until = locked.locked_until.expect("locked");
    let minutes = (until - Utc::now()).num_minutes();
    assert!((14..=15).contains(&minutes), "{minutes} min");

    // Locked: even the right password is refused.
    let right = try_sign_in(&app, "lock@example.com", PASSWORD).await;
    assert_eq!(right.status(), 429);
    assert!(cookie_pair(&right, "conturs_session").is_none());

    // Once the lock has passed, the right password works and the count starts again.
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::LockedUntil,
            Expr::value(Some(Utc::now() - Duration::seconds(1))),
        )
        .filter(accounts::Column::Id.eq(locked.id))
        .exec(&app.db.conn)
        .await
        .expect("unlock");
    sign_in(&app, "LOCK@example.com", PASSWORD).await;
    let after = account(&app, "lock@example.com").await;
    assert_eq!(after.failed_attempts, 0);
    assert_eq!(after.locked_until, None);
}

#[tokio::test]
async fn expired_sessions_and_signed_out_sessions_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let first = sign_up(&app, "exp@example.com").await;
    let id = account(&app, "exp@example.com").await.id;

    account_sessions::Entity::update_many()
        .col_expr(
            account_sessions::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .exec(&app.db.conn)
        .await
        .expect("expire");
    asks_to_sign_in(&app, &first.cookie, "/app/integrations").await;
    assert_eq!(sessions_of(&app, id).await, 0, "the expired row is gone");
    let refused = app
        .client
        .post(app.url("/app/sign-out"))
        .header(header::COOKIE, &first.cookie)
        .form(&[("csrf", first.csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), 401, "a POST without a session is refused");

    let second = sign_in(&app, "exp@example.com", PASSWORD).await;
    let without = app.cookie_post(&second.cookie, "/app/sign-out", &[]).await;
    assert_eq!(without.status(), 403, "sign-out needs its CSRF token");
    assert_eq!(sessions_of(&app, id).await, 1);
    let out = app
        .cookie_post(&second.cookie, "/app/sign-out", &[("csrf", &second.csrf)])
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/app/sign-in");
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("conturs_session=;") || c.contains("Max-Age=0")),
        "the cookie is dropped"
    );
    assert_eq!(sessions_of(&app, id).await, 0, "revoked on the server");
    // The old cookie, replayed, no longer works.
    asks_to_sign_in(&app, &second.cookie, "/app/account").await;
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let laptop = sign_up(&app, "pw@example.com").await;
    let phone = sign_in(&app, "pw@example.com", PASSWORD).await;
    let id = account(&app, "pw@example.com").await.id;
    assert_eq!(sessions_of(&app, id).await, 2);

    let new = "a much better passphrase";
    let wrong_current = app
        .cookie_post(
            &phone.cookie,
            "/app/account/password",
            &[
                ("csrf", &phone.csrf),
                ("current", "not it at all"),
                ("new", new),
            ],
        )
        .await;
    assert_eq!(wrong_current.status(), 422);
    let too_short = app
        .cookie_post(
            &phone.cookie,
            "/app/account/password",
            &[
                ("csrf", &phone.csrf),
                ("current", PASSWORD),
                ("new", "short"),
            ],
        )
        .await;
    assert_eq!(too_short.status(), 422);
    let no_csrf = app
        .cookie_post(
            &phone.cookie,
            "/app/account/password",
            &[("current", PASSWORD), ("new", new)],
        )
        .await;
    assert_eq!(no_csrf.status(), 403);
    assert_eq!(sessions_of(&app, id).await, 2, "nothing changed yet");

    let changed = app
        .cookie_post(
            &phone.cookie,
            "/app/account/password",
            &[("csrf", &phone.csrf), ("current", PASSWORD), ("new", new)],
        )
        .await;
    assert_eq!(changed.status(), 303);
    assert!(location(&changed).starts_with("/app/account?done="));
    assert_eq!(sessions_of(&app, id).await, 1);
    asks_to_sign_in(&app, &laptop.cookie, "/app/integrations").await;
    let (status, page) = app.cookie_get(&phone.cookie, "/app/account").await;
    assert_eq!(status, 200, "the session that changed it stays");
    assert!(page.contains("pw@example.com"));

    assert_eq!(
        try_sign_in(&app, "pw@example.com", PASSWORD).await.status(),
        401
    );
    sign_in(&app, "pw@example.com", new).await;
}

#[tokio::test]
async fn every_post_needs_its_csrf_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let ana = sign_up(&app, "csrf@example.com").await;

    // Anonymous forms: no nonce cookie, or a token of another nonce.
    let no_cookie = app
        .cookie_post(
            "",
            "/app/sign-in",
            &[
                ("csrf", "x"),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(no_cookie.status(), 403);
    let (cookie_a, _) = form_token(&app, "/app/sign-in").await;
    let (_, csrf_b) = form_token(&app, "/app/sign-in").await;
    let mismatched = app
        .cookie_post(
            &cookie_a,
            "/app/sign-in",
            &[
                ("csrf", &csrf_b),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(mismatched.status(), 403);
    assert!(cookie_pair(&mismatched, "conturs_session").is_none());
    let sign_up = app
        .cookie_post(
            &cookie_a,
            "/app/sign-up",
            &[("email", "other@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(sign_up.status(), 403);

    // Signed-in forms: the session's token, not another session's.
    let other = sign_in(&app, "csrf@example.com", PASSWORD).await;
    assert_ne!(other.csrf, ana.csrf);
    for path in [
        "/app/sign-out",
        "/app/account/password",
        "/app/integrations/connect",
        "/app/integrations/1/disconnect",
    ] {
        for token in ["", other.csrf.as_str()] {
            let response = app
                .cookie_post(
                    &ana.cookie,
                    path,
                    &[
                        ("csrf", token),
                        ("current", PASSWORD),
                        ("new", "x".repeat(12).as_str()),
                    ],
                )
                .await;
            assert_eq!(response.status(), 403, "{path} with {token:?}");
        }
    }
    assert_eq!(
        accounts::Entity::find()
            .count(&app.db.conn)
            .await
            .expect("count"),
        1
    );
}

pub(crate) async fn simulator() -> RunningSimulator {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 30;
    Simulator::start(config).await.expect("simulator")
}

/// "Connect HubSpot" → the simulator's consent (auto-approved) → the callback query.
pub(crate) async fn consent(app: &TestApp, customer: &Customer) -> String {
    let connect = app
        .cookie_post(
            &customer.cookie,
            "/app/integrations/connect",
            &[("csrf", &customer.csrf)],
        )
        .await;
    assert_eq!(connect.status(), 303);
    let authorize: url::Url = location(&connect).parse().expect("URL");
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    assert!(state.contains('.'), "a signed state");
    let consent = app
        .client
        .get(authorize.as_str())
        .send()
        .await
        .expect("consent");
    assert_eq!(consent.status(), 302, "the simulator approves at once");
    let callback: url::Url = location(&consent).parse().expect("callback URL");
    callback.query().expect("code and state").to_owned()
}

pub(crate) async fn callback(app: &TestApp, cookie: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/oauth/hubspot/callback?{query}")))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .expect("callback")
}

pub(crate) async fn portal(app: &TestApp, id: i64) -> portals::Model {
    portals::Entity::find_by_id(id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("portal")
}

async fn connect_and_disconnect(backend: Backend) {
    let sim = simulator().await;
    let app = spawn_app_with(AppOptions::new(backend).hubspot(sim.base_url())).await;
    let portal_id = sim.portal_id() as i64;
    let ana = sign_up(&app, "ana@example.com").await;
    let bo = sign_up(&app, "bo@example.com").await;
    let ana_id = account(&app, "ana@example.com").await.id;

    // The callback must come back to the browser signed in to the account that started it.
    let query = consent(&app, &ana).await;
    let anonymous = callback(&app, "", &query).await;
    assert_eq!(anonymous.status(), 403);
    assert!(anonymous.text().await.expect("body").contains("Sign in"));
    let someone_else = callback(&app, &bo.cookie, &query).await;
    assert_eq!(someone_else.status(), 403);
    assert!(
        portals::Entity::find_by_id(portal_id)
            .one(&app.db.conn)
            .await
            .expect("read")
            .is_none(),
        "nothing was connected"
    );

    let query = consent(&app, &ana).await;
    let done = callback(&app, &ana.cookie, &query).await;
    assert_eq!(done.status(), 302);
    assert!(
        location(&done).starts_with("/app/integrations?done="),
        "{}",
        location(&done)
    );
    let connected = portal(&app, portal_id).await;
    assert_eq!(connected.account_id, Some(ana_id));
    assert_eq!(connected.status, PortalStatus::Connected);
    let domain = connected.hub_domain.clone().expect("domain recorded");

    let (status, page) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("HubSpot account {portal_id}")));
    assert!(page.contains(&domain));
    assert!(page.contains("crm.objects.contacts.read"), "granted scopes");
    assert!(page.contains("Syncing"), "the queued InitialSync shows");
    assert!(page.contains("Next nightly re-sync"));
    assert!(page.contains("00:00:00 UTC"));
    let stream = between(&page, "data-stream=\"", "\"").expect("a live progress bar");
    assert!(stream.starts_with("/app/jobs/"), "{stream}");

    // The progress stream answers the owner at once with a snapshot.
    let mut events = app
        .client
        .get(app.url(&stream))
        .header(header::COOKIE, &ana.cookie)
        .send()
        .await
        .expect("stream");
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/event-stream")
    );
    let first = events.chunk().await.expect("chunk").expect("an event");
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(first.contains("event: progress"), "{first}");
    drop(events);

    // Another account: sees nothing of it, cannot follow, disconnect, or take it over.
    let (_, bo_page) = app.cookie_get(&bo.cookie, "/app/integrations").await;
    assert!(!bo_page.contains(&portal_id.to_string()));
    assert_eq!(app.cookie_get(&bo.cookie, &stream).await.0, 404);
    assert_eq!(
        app.cookie_get(
            &bo.cookie,
            &format!("/app/integrations/{portal_id}/disconnect")
        )
        .await
        .0,
        404
    );
    let takeover = consent(&app, &bo).await;
    let refused = callback(&app, &bo.cookie, &takeover).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(portal(&app, portal_id).await.account_id, Some(ana_id));
    assert_eq!(
        sim.state().tokens().live_refresh_tokens(portal_id as u64),
        1,
        "the refused install's token was revoked at HubSpot; only Ana's still works"
    );

    // Disconnect: the page says what stays in HubSpot, then the POST does it.
    let (status, explain) = app
        .cookie_get(
            &ana.cookie,
            &format!("/app/integrations/{portal_id}/disconnect"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(explain.contains("stay on your contacts in HubSpot"));
    assert!(explain.contains("conturs_score"));
    assert!(explain.contains("Delete"));
    let bye = app
        .cookie_post(
            &ana.cookie,
            &format!("/app/integrations/{portal_id}/disconnect"),
            &[("csrf", &ana.csrf)],
        )
        .await;
    assert_eq!(bye.status(), 303);
    assert!(location(&bye).starts_with("/app/integrations?done="));
    let gone = portal(&app, portal_id).await;
    assert_eq!(gone.status, PortalStatus::Disconnected);
    assert_eq!(gone.account_id, Some(ana_id), "still the customer's");
    let (_, page) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert!(page.contains("Disconnected"));
    assert!(page.contains("Connect again"));
    let again = app
        .cookie_post(
            &ana.cookie,
            &format!("/app/integrations/{portal_id}/disconnect"),
            &[("csrf", &ana.csrf)],
        )
        .await;
    assert_eq!(again.status(), 409, "already disconnected");

    // Connect again: same portal, same account, connected.
    let query = consent(&app, &ana).await;
    assert_eq!(callback(&app, &ana.cookie, &query).await.status(), 302);
    let back = portal(&app, portal_id).await;
    assert_eq!(back.status, PortalStatus::Connected);
    assert_eq!(back.account_id, Some(ana_id));

    // The operators' board lists both accounts and who owns the portal.
    let board_cookie = {
        let response = app
            .client
            .post(app.url("/board/login"))
            .form(&[("token", ADMIN_TOKEN)])
            .send()
            .await
            .expect("board sign-in");
        cookie_pair(&response, "conturs_board").expect("board cookie")
    };
    let (status, accounts_page) = app.cookie_get(&board_cookie, "/board/accounts").await;
    assert_eq!(status, 200);
    assert!(accounts_page.contains("ana@example.com"));
    assert!(accounts_page.contains("bo@example.com"));
    assert!(accounts_page.contains(&format!("/board/portals/{portal_id}")));
    asks_board_sign_in(&app).await;
}

async fn asks_board_sign_in(app: &TestApp) {
    let response = app.get("/board/accounts").await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/board/login"));
}

#[tokio::test]
async fn connect_through_oauth_then_disconnect_sqlite() {
    connect_and_disconnect(Backend::Sqlite).await;
}

#[tokio::test]
async fn connect_through_oauth_then_disconnect_postgres() {
    connect_and_disconnect(Backend::Postgres).await;
}

#[tokio::test]
async fn another_account_gets_404_on_every_route_that_names_a_portal_or_job() {
    let app = spawn_app(Backend::Sqlite).await;
    let ana = sign_up(&app, "owner@example.com").await;
    let eve = sign_up(&app, "eve@example.com").await;
    let owner = account(&app, "owner@example.com").await.id;
    let portal_id = 9301;
    insert_portal(&app.db.conn, portal_id, PortalStatus::Syncing)
        .await
        .expect("portal");
    portals::Entity::update_many()
        .col_expr(portals::Column::AccountId, Expr::value(Some(owner)))
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&app.db.conn)
        .await
        .expect("bind");
    let run = app
        .queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id;
    // An operator-made portal nobody owns is nobody's on the dashboard either.
    insert_portal(&app.db.conn, 9302, PortalStatus::Ready)
        .await
        .expect("portal");

    // The owner sees and follows it.
    let (_, page) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert!(page.contains("HubSpot account 9301"));
    assert!(page.contains(&format!("/app/jobs/{run}/stream")));
    assert_eq!(
        app.cookie_get(&ana.cookie, "/app/integrations/9301/disconnect")
            .await
            .0,
        200
    );

    let (status, missing) = app
        .cookie_get(&eve.cookie, "/app/integrations/999999/disconnect")
        .await;
    assert_eq!(status, 404);
    let (_, eve_page) = app.cookie_get(&eve.cookie, "/app/integrations").await;
    assert!(!eve_page.contains("9301") && !eve_page.contains("9302"));
    let stream = format!("/app/jobs/{run}/stream");
    for path in [
        "/app/integrations/9301/disconnect",
        "/app/integrations/9302/disconnect",
        "/app/integrations/abc/disconnect",
        stream.as_str(),
        "/app/jobs/not-a-uuid/stream",
    ] {
        let (status, body) = app.cookie_get(&eve.cookie, path).await;
        assert_eq!(status, 404, "GET {path}");
        assert_eq!(body, missing, "{path}: the same answer as a missing portal");
    }
    for id in ["9301", "9302"] {
        let response = app
            .cookie_post(
                &eve.cookie,
                &format!("/app/integrations/{id}/disconnect"),
                &[("csrf", &eve.csrf)],
            )
            .await;
        assert_eq!(response.status(), 404, "POST disconnect {id}");
    }
    assert_eq!(portal(&app, 9301).await.status, PortalStatus::Syncing);
    assert_eq!(portal(&app, 9302).await.status, PortalStatus::Ready);

    // Without a session, pages ask to sign in and the stream and actions answer 401.
    asks_to_sign_in(&app, "", "/app/integrations/9301/disconnect").await;
    assert_eq!(app.get(&stream).await.status(), 401);
    let anonymous = app
        .cookie_post(
            "",
            "/app/integrations/9301/disconnect",
            &[("csrf", &ana.csrf)],
        )
        .await;
    assert_eq!(anonymous.status(), 401);
}
