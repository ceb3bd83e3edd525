//! Scores through the API: one contact with its history, a portal's top N, and tenant
//! isolation (portal A's contacts are never visible through portal B's path).

use conturs_tests::fixtures::insert_portal;
use conturs_tests::{Backend, spawn_app};
use entity::PortalStatus;
use sea_orm::ConnectionTrait;
use serde_json::Value;

const A: i64 = 8101;
const B: i64 = 8102;

#[tokio::test]
async fn contact_scores_top_n_and_tenant_isolation() {
    let app = spawn_app(Backend::Sqlite).await;
    for portal in [A, B] {
        insert_portal(&app.db.conn, portal, PortalStatus::Ready)
            .await
            .expect("portal");
    }
    let rows = [
        (A, 1, "91", "'A'"),
        (A, 2, "45", "'C'"),
        (A, 3, "NULL", "NULL"),
        (B, 9, "99", "'A'"),
    ];
    for (portal, contact, score, grade) in rows {
        app.db
            .conn
            .execute_unprepared(&format!(
                "INSERT INTO scores (portal_id, contact_id, score, grade, scored_at) \
                 VALUES ({portal}, {contact}, {score}, {grade}, '2026-11-27T00:00:00Z')"
            ))
            .await
            .expect("score");
    }
    for (version, score) in [(1, 70), (2, 91)] {
        app.db
            .conn
            .execute_unprepared(&format!(
                "INSERT INTO score_history (portal_id, contact_id, model_version, score, grade, scored_at) \
                 VALUES ({A}, 1, {version}, {score}, 'A', '2026-11-2{version}T00:00:00Z')"
            ))
            .await
            .expect("history");
    }

    let one: Value = app
        .admin_get(&format!("/api/portals/{A}/contacts/1/score"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["score"]["score"], 91);
    let history: Vec<i64> = one["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["score"].as_i64().expect("score"))
        .collect();
    assert_eq!(history, vec![70, 91]);

    // Portal B's contact is not reachable through portal A, and the other way round.
    assert_eq!(
        app.admin_get(&format!("/api/portals/{A}/contacts/9/score"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.admin_get(&format!("/api/portals/{B}/contacts/1/score"))
            .await
            .status(),
        404
    );

    let top: Value = app
        .admin_get(&format!("/api/portals/{A}/scores/top?n=5"))
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<i64> = top["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| c["contact_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        vec![1, 2],
        "scored contacts of portal A only, best first"
    );
    assert_eq!(
        app.admin_get(&format!("/api/portals/{A}/scores/top?n=0"))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.admin_get(&format!("/api/portals/{A}/contacts/x/score"))
            .await
            .status(),
        400
    );
}
