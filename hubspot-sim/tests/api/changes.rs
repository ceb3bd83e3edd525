//! The change log: watched properties changed in the CRM (`/_sim`) and through the API, stamped
//! with the simulator's clock; unwatched or unchanged values are not logged.

use chrono::Utc;
use hubspot_sim::ObjectType;
use hubspot_sim::webhooks::ChangeSource;
use serde_json::json;

use crate::helpers::spawn;

const CONTACT: u64 = 1_000_001;

#[tokio::test]
async fn crm_and_api_changes_of_watched_properties_are_logged_with_their_time() {
    let t = spawn(5).await;
    t.sim.watch_changes(&["jobtitle"]);
    let before = Utc::now();
    let admin = t
        .http
        .patch(t.url(&format!(
            "/_sim/portals/{}/objects/contacts/{CONTACT}",
            t.portal
        )))
        .json(&json!({"properties": {"jobtitle": "Chief Executive Officer", "phone": "1"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(admin.status(), 200);
    let api = t
        .patch(
            &format!("/crm/v3/objects/contacts/{CONTACT}"),
            &json!({"properties": {"jobtitle": "Office Intern", "phone": "2"}}),
        )
        .await;
    assert_eq!(api.status(), 200);
    // The same value again changes nothing, so logs nothing.
    let again = t
        .patch(
            &format!("/crm/v3/objects/contacts/{CONTACT}"),
            &json!({"properties": {"jobtitle": "Office Intern"}}),
        )
        .await;
    assert_eq!(again.status(), 200);
    let after = Utc::now();

    let log = t.sim.logged_changes();
    let seen: Vec<(u64, ObjectType, u64, &str, &str, ChangeSource)> = log
        .iter()
        .map(|c| {
            (
                c.portal_id,
                c.object,
                c.id,
                c.name.as_str(),
                c.value.as_str(),
                c.source,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                t.portal,
                ObjectType::Contacts,
                CONTACT,
                "jobtitle",
                "Chief Executive Officer",
                ChangeSource::Crm
            ),
            (
                t.portal,
                ObjectType::Contacts,
                CONTACT,
                "jobtitle",
                "Office Intern",
                ChangeSource::Integration
            ),
        ]
    );
    assert!(before <= log[0].at && log[0].at <= log[1].at && log[1].at <= after);
}
