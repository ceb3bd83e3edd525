//! Retention of a disconnected portal's CRM data: the hourly retention pass deletes it once the
//! portal has been disconnected for longer than the configured retention (30 days by default),
//! leaves everything else alone, and `POST /api/portals/{id}/purge` deletes it at once — on
//! SQLite and Postgres.

use std::time::Duration;

use chrono::Utc;
use conturs_tests::app::{between, board_sign_in};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{Backend, TestApp, spawn_app};
use entity::{
    PortalStatus, associations, companies, contacts, deals, models, portals, score_history, scores,
};
use jobs::retention::{RetentionPolicy, vacuum};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};

const LONG_GONE: i64 = 9301;
const RECENTLY_GONE: i64 = 9302;
const CONNECTED: i64 = 9303;
const DAY: Duration = Duration::from_secs(86_400);

/// A portal with one of everything: company, contact, deal, link, model, score, history.
async fn seed(db: &DatabaseConnection, portal: i64, disconnected_days_ago: Option<i64>) {
    let status = match disconnected_days_ago {
        Some(_) => PortalStatus::Disconnected,
        None => PortalStatus::Ready,
    };
    insert_portal(db, portal, status).await.expect("portal");
    if let Some(days) = disconnected_days_ago {
        portals::Entity::update_many()
            .col_expr(
                portals::Column::DisconnectedAt,
                Expr::value(Some(Utc::now() - chrono::Duration::days(days))),
            )
            .filter(portals::Column::Id.eq(portal))
            .exec(db)
            .await
            .expect("disconnected_at");
    }
    let t = "'2026-11-27T00:00:00Z'";
    for sql in [
        format!(
            "INSERT INTO companies (portal_id, id, properties, archived, synced_at) VALUES ({portal}, 1, '{{}}', false, {t})"
        ),
        format!(
            "INSERT INTO contacts (portal_id, id, company_id, properties, archived, synced_at) VALUES ({portal}, 10, 1, '{{}}', false, {t})"
        ),
        format!(
            "INSERT INTO deals (portal_id, id, properties, is_closed, is_closed_won, archived, synced_at) VALUES ({portal}, 100, '{{}}', true, true, false, {t})"
        ),
        format!(
            "INSERT INTO associations (portal_id, kind, from_id, to_id, is_primary, synced_at) VALUES ({portal}, 'deal_contact', 100, 10, true, {t})"
        ),
        format!(
            "INSERT INTO models (portal_id, version, status, algorithm, positives, negatives, unlabeled, metrics, artefact, schema_version, trained_at) VALUES ({portal}, 1, 'active', 'naive_bayes', 1, 0, 0, '{{}}', '{{}}', 1, {t})"
        ),
        format!(
            "INSERT INTO scores (portal_id, contact_id, score, grade, scored_at) VALUES ({portal}, 10, 90, 'A', {t})"
        ),
        format!(
            "INSERT INTO score_history (portal_id, contact_id, model_version, score, grade, scored_at) VALUES ({portal}, 10, 1, 90, 'A', {t})"
        ),
    ] {
        db.execute_unprepared(&sql).await.expect("seed row");
    }
}

/// CRM rows of `portal`: contacts, companies, deals, associations, models, scores, history.
async fn crm_rows(db: &DatabaseConnection, portal: i64) -> [u64; 7] {
    macro_rules! count {
        ($table:ident) => {
            $table::Entity::find()
                .filter($table::Column::PortalId.eq(portal))
                .count(db)
                .await
                .expect("count")
        };
    }
    [
        count!(contacts),
        count!(companies),
        count!(deals),
        count!(associations),
        count!(models),
        count!(scores),
        count!(score_history),
    ]
}

async fn purge(app: &TestApp, portal: i64) -> (u16, Value) {
    let response = app
        .admin_post(&format!("/api/portals/{portal}/purge"), &json!({}))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn retention(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db.conn;
    seed(db, LONG_GONE, Some(31)).await;
    seed(db, RECENTLY_GONE, Some(1)).await;
    seed(db, CONNECTED, None).await;
    assert_eq!(crm_rows(db, LONG_GONE).await, [1; 7]);

    // The hourly pass: only the portal disconnected for more than 30 days loses its data.
    let report = vacuum(&app.queue, &RetentionPolicy::default())
        .await
        .expect("vacuum");
    assert_eq!(report.portals_purged, 1);
    assert_eq!(crm_rows(db, LONG_GONE).await, [0; 7]);
    assert_eq!(crm_rows(db, RECENTLY_GONE).await, [1; 7]);
    assert_eq!(crm_rows(db, CONNECTED).await, [1; 7]);
    let kept = portals::Entity::find_by_id(LONG_GONE)
        .one(db)
        .await
        .expect("read")
        .expect("the portal row stays");
    assert_eq!(kept.active_model_version, None);
    let again = vacuum(&app.queue, &RetentionPolicy::default())
        .await
        .expect("vacuum");
    assert_eq!(again.portals_purged, 0, "nothing left to purge");

    // The clock moved 30 days ahead: the recently disconnected portal's turn.
    let later = Utc::now() + chrono::Duration::days(30);
    let purged = jobs::privacy::purge_expired_portals(db, 30 * DAY, later)
        .await
        .expect("purge");
    assert_eq!(
        purged.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        vec![RECENTLY_GONE]
    );
    assert_eq!(crm_rows(db, RECENTLY_GONE).await, [0; 7]);
    assert_eq!(
        crm_rows(db, CONNECTED).await,
        [1; 7],
        "connected portals are never purged"
    );

    // A shorter configured retention (days, from the environment) reaches further.
    seed(db, 9304, Some(3)).await;
    let short = RetentionPolicy {
        disconnected_portals: 2 * DAY,
        ..RetentionPolicy::default()
    };
    assert_eq!(
        vacuum(&app.queue, &short)
            .await
            .expect("vacuum")
            .portals_purged,
        1
    );
    assert_eq!(crm_rows(db, 9304).await, [0; 7]);

    // On request, at once: refused while connected, then done and idempotent.
    let (status, body) = purge(&app, CONNECTED).await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "not_disconnected");
    assert_eq!(crm_rows(db, CONNECTED).await, [1; 7]);
    assert_eq!(purge(&app, 424_242).await.0, 404);
    seed(db, 9305, Some(0)).await;
    let (status, body) = purge(&app, 9305).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contacts"], 1);
    assert_eq!(body["models"], 1);
    assert_eq!(body["score_history"], 1);
    assert_eq!(crm_rows(db, 9305).await, [0; 7]);
    let (status, body) = purge(&app, 9305).await;
    assert_eq!(status, 200);
    assert_eq!(body["contacts"], 0);

    // The board's button on a disconnected portal's page does the same.
    seed(db, 9306, Some(0)).await;
    let cookie = board_sign_in(&app.client, &app.address).await;
    let (status, page) = app.cookie_get(&cookie, "/board/portals/9306").await;
    assert_eq!(status, 200);
    assert!(page.contains("Delete data now"));
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").expect("csrf");
    let without_csrf = app
        .cookie_post(
            &cookie,
            "/board/portals/9306/action",
            &[("csrf", "forged"), ("do", "purge")],
        )
        .await;
    assert_eq!(without_csrf.status(), 403);
    assert_eq!(crm_rows(db, 9306).await, [1; 7]);
    let done = app
        .cookie_post(
            &cookie,
            "/board/portals/9306/action",
            &[("csrf", &csrf), ("do", "purge")],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(crm_rows(db, 9306).await, [0; 7]);
}

#[tokio::test]
async fn disconnected_portals_are_purged_sqlite() {
    retention(Backend::Sqlite).await;
}

#[tokio::test]
async fn disconnected_portals_are_purged_postgres() {
    retention(Backend::Postgres).await;
}
