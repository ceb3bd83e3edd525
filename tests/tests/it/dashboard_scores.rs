//! The customer dashboard after connecting, over real HTTP on the real app: prerequisite
//! checks before and after connecting, scores at a glance (hot/warm/cold and grade shares,
//! the model's quality in words, the best 25 contacts, what the model learned) computed from
//! a real sync → train → write-back against the simulator, the contact lookup with every
//! reason a contact can lack a score, and tenant scoping on every `/app` route taken from
//! the router's own table.

use std::collections::BTreeSet;
use std::time::Duration;

use apalis::prelude::Monitor;
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET, between};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use entity::{ModelStatus, PortalStatus, contacts, job_runs, models, portals, scores};
use hubspot_sim::{SimConfig, Simulator};
use jobs::EnqueueOptions;
use jobs::handlers::{Deps, register_all};
use jobs::payload::InitialSync;
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::dashboard::{Customer, account, callback, consent, sign_up};

/// Large enough for the default ~3% of companies to give well over 10 closed-won ones.
const CONTACTS: usize = 2_000;
const PATIENCE: Duration = Duration::from_secs(240);

/// Runs the real job handlers over the app's own queue, database and HubSpot client.
fn start_workers(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let deps = Deps {
        db: app.db.conn.clone(),
        queue: app.queue.clone(),
        hubspot: app.state.hubspot.clone(),
    };
    let monitor = register_all(Monitor::new(), &app.queue, &deps, "dash-scores", 4);
    tokio::spawn(async move {
        let _ = monitor.run().await;
    })
}

/// Waits until the portal has a ready model and every job of it has finished.
async fn settled(app: &TestApp, portal_id: i64) -> portals::Model {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let portal = portals::Entity::find_by_id(portal_id)
            .one(&app.db.conn)
            .await
            .expect("portal")
            .expect("row");
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal_id))
            .all(&app.db.conn)
            .await
            .expect("runs");
        if portal.status == PortalStatus::Ready
            && runs.len() >= 3
            && runs.iter().all(|r| r.status.is_terminal())
        {
            return portal;
        }
        let finished = !runs.is_empty() && runs.iter().all(|r| r.status.is_terminal());
        assert!(
            tokio::time::Instant::now() < deadline
                && !(finished && portal.status == PortalStatus::InsufficientData),
            "the portal did not become ready: {:?} {:?}",
            portal.status,
            runs.iter()
                .map(|r| (r.job_type, r.status, r.last_error.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

/// `12,345` as the dashboard prints counts.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn scores_overview_and_lookup(backend: Backend) {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = CONTACTS;
    config.seed = 31;
    let sim = Simulator::start(config).await.expect("simulator");
    let app = spawn_app_with(AppOptions::new(backend).hubspot(sim.base_url())).await;
    let portal_id = sim.portal_id() as i64;
    let ana = sign_up(&app, "ana@example.com").await;

    // Before connecting: what Conturs needs, and why each permission.
    let (_, before) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert!(before.contains("Before you connect"));
    assert!(before.contains("At least 10 contacts with company data"));
    assert!(before.contains("At least 10 closed-won deals"));
    for scope in hubspot::oauth::install::REQUIRED_SCOPES {
        assert!(before.contains(scope), "{scope} is explained");
    }
    let (status, none) = app.cookie_get(&ana.cookie, "/app/portals").await;
    assert_eq!(status, 200);
    assert!(none.contains("No HubSpot account is connected yet"));

    let query = consent(&app, &ana).await;
    assert_eq!(callback(&app, &ana.cookie, &query).await.status(), 302);
    let workers = start_workers(&app);
    let portal = settled(&app, portal_id).await;
    assert!(portal.last_full_sync_at.is_some());

    // After: the checks are computed from the synced data and the granted scopes.
    let (_, integrations) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert!(!integrations.contains("Before you connect"));
    assert_eq!(
        count(&integrations, "data-check=\"met\""),
        3,
        "{integrations}"
    );
    assert!(integrations.contains(&format!("/app/portals/{portal_id}")));

    let (status, page) = app
        .cookie_get(&ana.cookie, &format!("/app/portals/{portal_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(count(&page, "data-check=\"met\""), 3);
    let synced = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal_id))
        .all(&app.db.conn)
        .await
        .expect("contacts");
    assert_eq!(synced.len(), CONTACTS);
    let with_company = synced.iter().filter(|c| c.company_id.is_some()).count();
    let found = between(&page, "contacts with company data</strong>", "</li>").expect("check");
    let shown: usize = between(&found, "<p class=\"small\">", " of your")
        .expect("count")
        .parse()
        .expect("number");
    assert!(
        shown > 10 && shown <= with_company,
        "{shown} of {with_company}"
    );
    assert!(found.contains(&format!("of your {CONTACTS} contacts")));

    // Hot, warm and cold, and grades, as the stored scores say.
    let stored = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(&app.db.conn)
        .await
        .expect("scores");
    let scored: Vec<i16> = stored.iter().filter_map(|s| s.score).collect();
    let hot = scored.iter().filter(|s| **s > 80).count();
    let warm = scored.iter().filter(|s| (50..=80).contains(*s)).count();
    let cold = scored.iter().filter(|s| **s < 50).count();
    assert!(hot > 0 && warm > 0 && cold > 0);
    for (label, n) in [
        ("Hot (above 80)", hot),
        ("Warm (50–80)", warm),
        ("Cold (below 50)", cold),
    ] {
        let row = between(&page, label, "</tr>").expect(label);
        assert!(
            row.contains(&format!("<span class=\"num\">{}</span>", grouped(n))),
            "{label}: {row}"
        );
        let share = n as f64 / scored.len() as f64 * 100.0;
        assert!(row.contains(&format!("{share:.1}%")), "{label}: {row}");
    }
    let a_grades = stored
        .iter()
        .filter(|s| s.grade.as_deref() == Some("A"))
        .count();
    let grades = between(&page, "Contacts per grade", "</table>").expect("grades");
    let a_row = between(&grades, "g-a\">A</span>", "</tr>").expect("A row");
    assert!(
        a_row.contains(&format!(">{}<", grouped(a_grades))),
        "{a_row}"
    );

    // The model's quality in words, from its stored metrics.
    let model = models::Entity::find()
        .filter(models::Column::PortalId.eq(portal_id))
        .filter(models::Column::Status.eq(ModelStatus::Active))
        .one(&app.db.conn)
        .await
        .expect("model")
        .expect("an active model");
    let lift = model.metrics["lift_top_decile"].as_f64().expect("lift");
    assert!(lift > 1.0, "the simulator's ICP is learnable: lift {lift}");
    assert!(
        page.contains(&format!("{lift:.1}× as likely to be closed-won customers")),
        "lift {lift:.1} in words"
    );
    assert!(page.contains("of the time (50% would be guessing)"));

    // What the model learned: its strongest traits, each with signed points.
    let learned = between(&page, "id=\"learned\"", "</section>").expect("learned panel");
    let more = between(&learned, "more like your customers", "</ul>").expect("positives");
    let less = between(&learned, "less like your customers", "</ul>").expect("negatives");
    assert!(more.matches("<li>").count() >= 1 && more.matches("<li>").count() <= 5);
    assert!(more.contains("<span class=\"num\">+"), "{more}");
    assert!(less.contains("<span class=\"num\">-"), "{less}");

    // The best 25 contacts, best first, with grade, score and explanation.
    let top = between(&page, "Your best 25 contacts", "</table>").expect("top table");
    assert_eq!(count(&top, "<tr>") - 1, 25, "25 rows under the header");
    let best = stored
        .iter()
        .filter_map(|s| s.score)
        .max()
        .expect("a best score");
    let first_row = between(&top, "<tbody>", "</tr>").expect("first row");
    assert!(
        first_row.contains(&format!("<td class=\"num\">{best}</td>")),
        "{first_row}"
    );
    assert!(first_row.contains("class=\"grade g-"));
    assert!(
        first_row.contains("td class=\"explanation\">")
            && !first_row.contains("explanation\"></td>")
    );

    // Troubleshooting: a written contact by email (any case), then by id.
    let written = stored
        .iter()
        .find(|s| s.score.is_some() && s.written_at.is_some())
        .expect("a written score");
    let email = synced
        .iter()
        .find(|c| c.id == written.contact_id)
        .and_then(|c| c.email.clone())
        .expect("an email");
    let lookup = |q: String| {
        let cookie = ana.cookie.clone();
        let app = &app;
        async move {
            let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            app.cookie_get(&cookie, &format!("/app/portals/{portal_id}/lookup?q={q}"))
                .await
        }
    };
    let (status, found) = lookup(email.to_uppercase()).await;
    assert_eq!(status, 200);
    assert!(found.contains("data-standing=\"written\""), "{found}");
    assert!(found.contains(&format!(
        "<dd data-field=\"score\">{}</dd>",
        written.score.expect("score")
    )));
    assert!(found.contains(written.explanation.as_deref().expect("explanation")));
    assert!(found.contains("Last written to HubSpot"));
    let (_, by_id) = lookup(written.contact_id.to_string()).await;
    assert!(by_id.contains("data-standing=\"written\""));

    let unscorable = stored
        .iter()
        .find(|s| s.unscorable_reason.is_some())
        .expect("an unscorable contact");
    let (_, why) = lookup(unscorable.contact_id.to_string()).await;
    assert!(why.contains("data-standing=\"unscorable\""));
    assert!(why.contains("Not scored: the contact"), "{why}");
    assert!(why.contains("What to do:"));

    let (_, nobody) = lookup("nobody@nowhere.example".into()).await;
    assert!(nobody.contains("data-standing=\"not-found\""));

    // HubSpot refused the last write (as WriteBack records it per contact).
    scores::Entity::update_many()
        .col_expr(
            scores::Column::WritebackError,
            Expr::value("READ_ONLY_VALUE: the contact is read-only"),
        )
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::ContactId.eq(written.contact_id))
        .exec(&app.db.conn)
        .await
        .expect("record a write-back error");
    let (_, refused) = lookup(email.clone()).await;
    assert!(refused.contains("data-standing=\"write-failed\""));
    assert!(refused.contains("READ_ONLY_VALUE: the contact is read-only"));

    // A new score HubSpot does not show yet.
    let mut moved: scores::ActiveModel =
        scores::Entity::find_by_id((portal_id, written.contact_id))
            .one(&app.db.conn)
            .await
            .expect("read")
            .expect("row")
            .into();
    moved.writeback_error = Set(None);
    moved.score = Set(Some(if written.score == Some(3) { 4 } else { 3 }));
    moved.update(&app.db.conn).await.expect("move the score");
    let (_, pending) = lookup(email).await;
    assert!(pending.contains("data-standing=\"not-written-yet\""));
    workers.abort();
}

#[tokio::test]
async fn scores_at_a_glance_and_troubleshooting_sqlite() {
    scores_overview_and_lookup(Backend::Sqlite).await;
}

#[tokio::test]
async fn scores_at_a_glance_and_troubleshooting_postgres() {
    scores_overview_and_lookup(Backend::Postgres).await;
}

#[tokio::test]
async fn a_portal_without_enough_closed_won_deals_says_what_to_do() {
    // 600 contacts with this seed give fewer than 10 closed-won companies.
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 600;
    config.seed = 31;
    let sim = Simulator::start(config).await.expect("simulator");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let portal_id = sim.portal_id() as i64;
    let ana = sign_up(&app, "few@example.com").await;
    let query = consent(&app, &ana).await;
    assert_eq!(callback(&app, &ana.cookie, &query).await.status(), 302);
    let workers = start_workers(&app);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let portal = loop {
        let portal = portals::Entity::find_by_id(portal_id)
            .one(&app.db.conn)
            .await
            .expect("read")
            .expect("row");
        if portal.status == PortalStatus::InsufficientData {
            break portal;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            portal.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = portal.status_reason.clone().expect("the training's reason");
    assert!(reason.contains("not enough closed-won data"), "{reason}");

    let (_, page) = app
        .cookie_get(&ana.cookie, &format!("/app/portals/{portal_id}"))
        .await;
    let won = between(&page, "closed-won deals, from", "</li>").expect("closed-won check");
    assert!(won.contains(&format!("Training said: {reason}")), "{won}");
    assert!(
        won.contains("What to do:") && won.contains("Closed won"),
        "{won}"
    );
    assert_eq!(
        count(&page, "data-check=\"not-met\""),
        1,
        "only the closed-won check fails"
    );
    assert!(page.contains("No scores yet"));
    let (_, integrations) = app.cookie_get(&ana.cookie, "/app/integrations").await;
    assert!(integrations.contains("Ready — not enough data"));
    assert!(
        integrations.contains("<details class=\"checks\" open"),
        "failing checks open"
    );

    // A contact of this portal: no score, because the portal has no model.
    let someone = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal_id))
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("a contact");
    let (_, why) = app
        .cookie_get(
            &ana.cookie,
            &format!("/app/portals/{portal_id}/lookup?q={}", someone.id),
        )
        .await;
    assert!(why.contains("data-standing=\"portal-not-ready\""), "{why}");
    assert!(why.contains("not enough closed-won deals"));

    // A permission taken away: the scope check fails and says to reconnect.
    let fewer: Vec<&str> = hubspot::oauth::install::REQUIRED_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "crm.objects.deals.read")
        .collect();
    portals::Entity::update_many()
        .col_expr(
            portals::Column::Scopes,
            Expr::value(serde_json::json!(fewer)),
        )
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&app.db.conn)
        .await
        .expect("fewer scopes");
    let (_, page) = app
        .cookie_get(&ana.cookie, &format!("/app/portals/{portal_id}"))
        .await;
    let scopes = between(&page, "Every permission Conturs needs", "</li>").expect("scope check");
    assert!(
        scopes.contains("HubSpot did not grant: crm.objects.deals.read."),
        "{scopes}"
    );
    assert!(scopes.contains("Reconnect"));
    assert_eq!(count(&page, "data-check=\"not-met\""), 2);
    workers.abort();
}

/// What a route's `{…}` parameters become for the owner's objects.
fn concrete(path: &str, portal_id: i64, run: &str) -> String {
    path.replace("{file}", "board.css").replace(
        "{id}",
        &if path.starts_with("/app/jobs/") {
            run.to_owned()
        } else {
            portal_id.to_string()
        },
    )
}

/// Routes that name no object: they act on the signed-in account itself (or on nobody).
const ACCOUNT_ROUTES: &[&str] = &[
    "/app",
    "/app/assets/{file}",
    "/app/sign-up",
    "/app/sign-in",
    "/app/sign-out",
    "/app/account",
    "/app/account/password",
    "/app/integrations",
    "/app/integrations/connect",
    "/app/portals",
    "/app/lookup",
];

async fn send(app: &TestApp, who: &Customer, method: &Method, path: &str) -> (u16, String) {
    if method == Method::GET {
        app.cookie_get(&who.cookie, path).await
    } else {
        let response = app
            .cookie_post(&who.cookie, path, &[("csrf", who.csrf.as_str())])
            .await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

#[tokio::test]
async fn every_app_route_keeps_one_account_out_of_anothers_objects() {
    let app = spawn_app(Backend::Sqlite).await;
    let ana = sign_up(&app, "owner@example.com").await;
    let eve = sign_up(&app, "eve@example.com").await;
    let owner = account(&app, "owner@example.com").await.id;
    let intruder = account(&app, "eve@example.com").await.id;
    let (mine, theirs) = (9401_i64, 9402_i64);
    for (portal_id, account_id) in [(mine, owner), (theirs, intruder)] {
        insert_portal(&app.db.conn, portal_id, PortalStatus::Ready)
            .await
            .expect("portal");
        portals::Entity::update_many()
            .col_expr(portals::Column::AccountId, Expr::value(Some(account_id)))
            .col_expr(
                portals::Column::HubDomain,
                Expr::value(format!("hub-{portal_id}.example")),
            )
            .filter(portals::Column::Id.eq(portal_id))
            .exec(&app.db.conn)
            .await
            .expect("bind");
    }
    let secret_email = "vip.buyer@owner-customer.example";
    let now = chrono::Utc::now();
    contacts::ActiveModel {
        portal_id: Set(mine),
        id: Set(77),
        email: Set(Some(secret_email.to_owned())),
        first_name: Set(Some("Valentina".to_owned())),
        properties: Set(serde_json::json!({})),
        archived: Set(false),
        synced_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db.conn)
    .await
    .expect("contact");
    scores::ActiveModel {
        portal_id: Set(mine),
        contact_id: Set(77),
        score: Set(Some(97)),
        grade: Set(Some("A".into())),
        explanation: Set(Some("Strong fit: owner-only explanation".into())),
        scored_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db.conn)
    .await
    .expect("score");
    let run = app
        .queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: mine,
            },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id
        .to_string();
    let secrets = [
        secret_email.to_owned(),
        "owner-only explanation".to_owned(),
        "hub-9401.example".to_owned(),
        "HubSpot account 9401".to_owned(),
        "/app/portals/9401".to_owned(),
        run.clone(),
    ];

    let table = api::dashboard::route_table();
    let with_objects: BTreeSet<&str> = table
        .iter()
        .map(|r| r.path)
        .filter(|p| !ACCOUNT_ROUTES.contains(p))
        .collect();
    assert!(
        with_objects.iter().all(|p| p.contains("{id}")),
        "a new /app route that names no object must be added to ACCOUNT_ROUTES: {with_objects:?}"
    );
    assert!(with_objects.len() >= 4, "{with_objects:?}");
    let (missing_status, missing_page) = app.cookie_get(&eve.cookie, "/app/portals/999999").await;
    assert_eq!(missing_status, 404);

    let mut checked = 0;
    for route in &table {
        let path = concrete(route.path, mine, &run);
        let path = if route.path.ends_with("/lookup") {
            format!("{path}?q={secret_email}")
        } else {
            path
        };
        for method in [Method::GET, Method::POST] {
            let answers = route.methods.contains(&method);
            if !with_objects.contains(route.path) {
                if answers && method == Method::GET {
                    let (_, body) = send(&app, &eve, &method, &path).await;
                    for secret in &secrets {
                        assert!(
                            !body.contains(secret.as_str()),
                            "GET {path} shows {secret} to another account"
                        );
                    }
                    checked += 1;
                }
                continue;
            }
            let (status, body) = send(&app, &eve, &method, &path).await;
            if !answers {
                assert_eq!(
                    status, 405,
                    "{method} {path}: the route table says what it answers"
                );
                continue;
            }
            assert_eq!(status, 404, "{method} {path} as another account");
            if method == Method::GET {
                assert_eq!(
                    body, missing_page,
                    "{path}: the same page as a missing object"
                );
            }
            for secret in &secrets {
                assert!(
                    !body.contains(secret.as_str()),
                    "{method} {path} leaks {secret}"
                );
            }
            if method == Method::GET {
                if route.streaming {
                    // The owner's stream opens (and is dropped at once).
                    let response = app
                        .client
                        .get(app.url(&path))
                        .header(reqwest::header::COOKIE, &ana.cookie)
                        .send()
                        .await
                        .expect("stream");
                    assert_eq!(response.status(), 200, "{path}: the owner follows it");
                    continue;
                }
                let (status, body) = send(&app, &ana, &method, &path).await;
                assert_eq!(status, 200, "GET {path}: the owner sees it");
                if route.path.ends_with("/lookup") {
                    assert!(body.contains(secret_email) && body.contains("data-standing"));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} route/method pairs checked");

    // The intruder's own portal cannot reach the owner's contacts either.
    let (status, own) = app
        .cookie_get(
            &eve.cookie,
            &format!("/app/portals/{theirs}/lookup?q={secret_email}"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(own.contains("data-standing=\"not-found\""));
    assert!(!own.contains("Valentina") && !own.contains("owner-only"));
    let (_, own) = app
        .cookie_get(&eve.cookie, "/app/portals/9402/lookup?q=77")
        .await;
    assert!(own.contains("data-standing=\"not-found\""));
    // Nothing was changed by the intruder's POSTs.
    let still = portals::Entity::find_by_id(mine)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(still.status, PortalStatus::Ready);
    assert_eq!(still.account_id, Some(owner));
}
