//! HubSpot records into the database and back out as scoring facts.
//!
//! Writes are upserts keyed by `(portal_id, id)`, so a page written twice (a retried or resumed
//! sync) leaves the same rows. Typed columns are parsed here, once, at the edge.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{AssociationKind, associations, companies, contacts, deals};
use hubspot::ObjectType;
use hubspot::crm::CrmObject;
use scoring::Label;
use scoring::crm::{CompanyFacts, ContactFacts, DealFacts, DealLabels};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

/// Properties Conturs reads, per object type (never email content or activity).
pub fn properties_for(object: ObjectType) -> Vec<String> {
    let names: &[&str] = match object {
        ObjectType::Companies => &[
            "name",
            "domain",
            "industry",
            "numberofemployees",
            "annualrevenue",
            "country",
            "createdate",
            "hs_lastmodifieddate",
        ],
        ObjectType::Contacts => &[
            "email",
            "firstname",
            "lastname",
            "jobtitle",
            "hs_seniority",
            "hs_role",
            "lifecyclestage",
            "hs_lead_status",
            "country",
            "createdate",
            "lastmodifieddate",
        ],
        ObjectType::Deals => &[
            "dealname",
            "pipeline",
            "dealstage",
            "amount",
            "closedate",
            "hs_is_closed_won",
            "hs_is_closed",
            "createdate",
            "hs_lastmodifieddate",
        ],
    };
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn hubspot_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok()
}

fn time(raw: Option<&str>) -> Option<DateTime<Utc>> {
    raw.and_then(|r| DateTime::parse_from_rfc3339(r).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Longest raw property value kept (characters). HubSpot allows 65,536 for a text property;
/// nothing Conturs reads needs more than a few hundred, and a hostile 10 MB value must not
/// reach the database or the model whole.
pub const MAX_RAW_VALUE_CHARS: usize = 4_096;

/// `value` made safe to store: control characters other than tab and newline removed
/// (Postgres refuses NUL in text and JSON), cut to `max_chars` characters.
pub fn clean_value(value: &str, max_chars: usize) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(max_chars)
        .collect()
}

/// A typed column's value: cleaned, trimmed, at most the column's width, `None` when empty.
fn text(object: &CrmObject, name: &str, max_chars: usize) -> Option<String> {
    object
        .property(name)
        .map(|v| clean_value(v.trim(), max_chars).trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn number(object: &CrmObject, name: &str) -> Option<f64> {
    object
        .property(name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn raw_properties(object: &CrmObject) -> Value {
    Value::Object(
        object
            .properties
            .iter()
            .map(|(name, value)| {
                (
                    clean_value(name, 255),
                    Value::String(clean_value(value, MAX_RAW_VALUE_CHARS)),
                )
            })
            .collect(),
    )
}

/// The contact's primary company: HubSpot's `contact_to_company` type (id 1) when labelled,
/// otherwise the first associated company.
pub fn primary_company(object: &CrmObject) -> Option<i64> {
    let page = object.associations.get(ObjectType::Companies.as_str())?;
    page.results
        .iter()
        .find(|a| a.association_type.as_deref() == Some("contact_to_company"))
        .or_else(|| page.results.first())
        .and_then(|a| hubspot_id(&a.id))
}

/// Writes one page of records; returns how many rows it wrote.
pub async fn upsert_page<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    object: ObjectType,
    records: &[CrmObject],
) -> Result<usize, DbErr> {
    if records.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    match object {
        ObjectType::Companies => {
            let rows = records.iter().filter_map(|r| {
                Some(companies::ActiveModel {
                    portal_id: Set(portal_id),
                    id: Set(hubspot_id(&r.id)?),
                    name: Set(text(r, "name", 512)),
                    domain: Set(text(r, "domain", 255)),
                    industry: Set(text(r, "industry", 128)),
                    employees: Set(number(r, "numberofemployees").map(|v| v as i64)),
                    annual_revenue: Set(number(r, "annualrevenue")),
                    country: Set(text(r, "country", 128)),
                    properties: Set(raw_properties(r)),
                    hs_created_at: Set(time(r.created_at.as_deref())),
                    hs_updated_at: Set(time(r.updated_at.as_deref())),
                    archived: Set(r.archived),
                    synced_at: Set(now),
                })
            });
            let rows: Vec<_> = rows.collect();
            let written = upsert_replacing(
                db,
                rows,
                [companies::Column::PortalId, companies::Column::Id],
            )
            .await?;
            Ok(written)
        }
        ObjectType::Contacts => {
            // Read before HubSpot deleted them and still in flight: never stored again.
            let deleted = crate::privacy::tombstoned(
                db,
                portal_id,
                records.iter().filter_map(|r| hubspot_id(&r.id)),
            )
            .await?;
            let rows: Vec<_> = records
                .iter()
                .filter(|r| hubspot_id(&r.id).is_none_or(|id| !deleted.contains_key(&id)))
                .filter_map(|r| {
                    Some(contacts::ActiveModel {
                        portal_id: Set(portal_id),
                        id: Set(hubspot_id(&r.id)?),
                        email: Set(text(r, "email", 320)),
                        first_name: Set(text(r, "firstname", 255)),
                        last_name: Set(text(r, "lastname", 255)),
                        job_title: Set(text(r, "jobtitle", 512)),
                        hs_seniority: Set(text(r, "hs_seniority", 64)),
                        hs_role: Set(text(r, "hs_role", 64)),
                        lifecycle_stage: Set(text(r, "lifecyclestage", 64)),
                        lead_status: Set(text(r, "hs_lead_status", 64)),
                        country: Set(text(r, "country", 128)),
                        company_id: Set(primary_company(r)),
                        properties: Set(raw_properties(r)),
                        hs_created_at: Set(time(r.created_at.as_deref())),
                        hs_updated_at: Set(time(r.updated_at.as_deref())),
                        archived: Set(r.archived),
                        synced_at: Set(now),
                    })
                })
                .collect();
            let written =
                upsert_replacing(db, rows, [contacts::Column::PortalId, contacts::Column::Id])
                    .await?;
            Ok(written)
        }
        ObjectType::Deals => {
            let rows: Vec<_> = records
                .iter()
                .filter_map(|r| {
                    let facts = DealFacts::from_hubspot_properties(&r.properties);
                    Some(deals::ActiveModel {
                        portal_id: Set(portal_id),
                        id: Set(hubspot_id(&r.id)?),
                        name: Set(text(r, "dealname", 512)),
                        pipeline: Set(text(r, "pipeline", 128)),
                        stage: Set(text(r, "dealstage", 128)),
                        amount: Set(number(r, "amount")),
                        close_date: Set(time(r.property("closedate"))),
                        is_closed: Set(facts.closed),
                        is_closed_won: Set(facts.closed_won),
                        properties: Set(raw_properties(r)),
                        hs_created_at: Set(time(r.created_at.as_deref())),
                        hs_updated_at: Set(time(r.updated_at.as_deref())),
                        archived: Set(r.archived),
                        synced_at: Set(now),
                    })
                })
                .collect();
            let written =
                upsert_replacing(db, rows, [deals::Column::PortalId, deals::Column::Id]).await?;
            for (target, kind) in [
                (ObjectType::Companies, AssociationKind::DealCompany),
                (ObjectType::Contacts, AssociationKind::DealContact),
            ] {
                replace_links(db, portal_id, kind, &inline_links(records, target)).await?;
            }
            Ok(written)
        }
    }
}

/// (record id, associated id) pairs from the inline `associations` block of each record.
fn inline_links(records: &[CrmObject], target: ObjectType) -> Vec<(i64, i64)> {
    records
        .iter()
        .filter_map(|r| Some((hubspot_id(&r.id)?, r)))
        .flat_map(|(from, r)| {
            r.associated_ids(target)
                .into_iter()
                .filter_map(move |to| Some((from, hubspot_id(&to)?)))
        })
        .collect()
}

/// Inserts `rows`, or on a key conflict overwrites every other column, so a record synced again
/// holds exactly what HubSpot sent last.
async fn upsert_replacing<C, A>(
    db: &C,
    rows: Vec<A>,
    key: [<A::Entity as EntityTrait>::Column; 2],
) -> Result<usize, DbErr>
where
    C: ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
{
    let written = rows.len();
    if written == 0 {
        return Ok(0);
    }
    let others: Vec<_> = <<A::Entity as EntityTrait>::Column as Iterable>::iter()
        .filter(|column| key.iter().all(|k| k.as_str() != column.as_str()))
        .collect();
    <A::Entity as EntityTrait>::insert_many(rows)
        .on_conflict(OnConflict::columns(key).update_columns(others).to_owned())
        .exec(db)
        .await?;
    Ok(written)
}

/// Records association rows (idempotently).
pub async fn replace_links<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    kind: AssociationKind,
    links: &[(i64, i64)],
) -> Result<(), DbErr> {
    if links.is_empty() {
        return Ok(());
    }
    let deleted = match kind {
        AssociationKind::DealContact => {
            crate::privacy::tombstoned(db, portal_id, links.iter().map(|(_, to)| *to)).await?
        }
        AssociationKind::ContactCompany => {
            crate::privacy::tombstoned(db, portal_id, links.iter().map(|(from, _)| *from)).await?
        }
        AssociationKind::DealCompany => Default::default(),
    };
    let links: Vec<&(i64, i64)> = links
        .iter()
        .filter(|(from, to)| match kind {
            AssociationKind::DealContact => !deleted.contains_key(to),
            AssociationKind::ContactCompany => !deleted.contains_key(from),
            AssociationKind::DealCompany => true,
        })
        .collect();
    if links.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = links.iter().map(|(from, to)| associations::ActiveModel {
        portal_id: Set(portal_id),
        kind: Set(kind),
        from_id: Set(*from),
        to_id: Set(*to),
        is_primary: Set(true),
        synced_at: Set(now),
    });
    associations::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                associations::Column::PortalId,
                associations::Column::Kind,
                associations::Column::FromId,
                associations::Column::ToId,
            ])
            .update_column(associations::Column::SyncedAt)
            .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// One contact as training sees it.
pub struct PortalContact {
    pub id: i64,
    pub facts: ContactFacts,
    pub company_id: Option<i64>,
    pub label: Label,
    /// When the label's outcome happened (close date), for time-based holdouts.
    pub label_time: Option<i64>,
}

/// Everything training needs about a portal, in memory: ~200 bytes a contact.
pub struct PortalFacts {
    /// In contact id order.
    pub contacts: Vec<PortalContact>,
    /// Closed-won deals seen, a fingerprint for "did the closed-won data change".
    pub closed_won_deals: usize,
}

fn to_map(properties: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(properties.clone()).unwrap_or_default()
}

/// Company facts by id.
pub async fn company_facts<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: Option<&[i64]>,
) -> Result<HashMap<i64, CompanyFacts>, DbErr> {
    let mut query = companies::Entity::find()
        .filter(companies::Column::PortalId.eq(portal_id))
        .filter(companies::Column::Archived.eq(false));
    if let Some(ids) = ids {
        query = query.filter(companies::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                CompanyFacts::from_hubspot_properties(&to_map(&c.properties)),
            )
        })
        .collect())
}

/// Closed-won deals of a portal: the fingerprint for "did the closed-won data change".
pub async fn closed_won_deals<C: ConnectionTrait>(db: &C, portal_id: i64) -> Result<u64, DbErr> {
    deals::Entity::find()
        .filter(deals::Column::PortalId.eq(portal_id))
        .filter(deals::Column::Archived.eq(false))
        .filter(deals::Column::IsClosedWon.eq(true))
        .count(db)
        .await
}

/// Deal associations of one kind as (deal id, other id) pairs.
async fn deal_links<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    kind: AssociationKind,
) -> Result<Vec<(u64, u64)>, DbErr> {
    Ok(associations::Entity::find()
        .filter(associations::Column::PortalId.eq(portal_id))
        .filter(associations::Column::Kind.eq(kind))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|link| Some((id_u64(link.from_id)?, id_u64(link.to_id)?)))
        .collect())
}

fn id_u64(id: i64) -> Option<u64> {
    u64::try_from(id).ok()
}

/// The portal's deals indexed for labelling: buyers (contacts on closed-won deals) are
/// positives; deals without contact links label their whole company (see `DealLabels`).
pub async fn deal_labels<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
) -> Result<(DealLabels, usize), DbErr> {
    let deal_rows = deals::Entity::find()
        .filter(deals::Column::PortalId.eq(portal_id))
        .filter(deals::Column::Archived.eq(false))
        .all(db)
        .await?;
    let closed_won = deal_rows.iter().filter(|d| d.is_closed_won).count();
    let facts: Vec<(u64, DealFacts)> = deal_rows
        .iter()
        .filter_map(|d| {
            Some((
                id_u64(d.id)?,
                DealFacts::from_hubspot_properties(&to_map(&d.properties)),
            ))
        })
        .collect();
    let companies = deal_links(db, portal_id, AssociationKind::DealCompany).await?;
    let contacts = deal_links(db, portal_id, AssociationKind::DealContact).await?;
    Ok((DealLabels::new(facts, companies, contacts), closed_won))
}

/// Loads a portal's contacts as labelled scoring facts, in pages to keep peak memory low.
pub async fn portal_facts<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
) -> Result<PortalFacts, DbErr> {
    let companies = company_facts(db, portal_id, None).await?;
    let (labels, closed_won_deals) = deal_labels(db, portal_id).await?;
    let mut out = Vec::new();
    let mut after = i64::MIN;
    loop {
        let page = contacts::Entity::find()
            .filter(contacts::Column::PortalId.eq(portal_id))
            .filter(contacts::Column::Archived.eq(false))
            .filter(contacts::Column::Id.gt(after))
            .order_by_asc(contacts::Column::Id)
            .limit(5_000)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for contact in page {
            let company = contact
                .company_id
                .and_then(|id| companies.get(&id).cloned());
            let facts =
                ContactFacts::from_hubspot_properties(&to_map(&contact.properties), company);
            let (label, label_time) = match id_u64(contact.id) {
                Some(id) => labels.label(id, contact.company_id.and_then(id_u64)),
                None => (Label::Unlabeled, None),
            };
            out.push(PortalContact {
                id: contact.id,
                facts,
                company_id: contact.company_id,
                label,
                label_time,
            });
        }
    }
    Ok(PortalFacts {
        contacts: out,
        closed_won_deals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_cleaned_and_cut() {
        assert_eq!(
            clean_value("VP\u{0}\u{7} Sales\r\n\tEMEA", 100),
            "VP Sales\n\tEMEA"
        );
        assert_eq!(
            clean_value(&"é".repeat(10), 4),
            "éééé",
            "cut on characters, not bytes"
        );
        let mut object: CrmObject =
            serde_json::from_value(serde_json::json!({"id": "1"})).expect("object");
        object
            .properties
            .insert("jobtitle".into(), format!("  {}  ", "x".repeat(10_000_000)));
        object
            .properties
            .insert("country".into(), "\u{0}\u{1}".into());
        assert_eq!(text(&object, "jobtitle", 512).map(|t| t.len()), Some(512));
        assert_eq!(
            text(&object, "country", 128),
            None,
            "nothing left but control characters"
        );
        let raw = raw_properties(&object);
        assert_eq!(
            raw["jobtitle"].as_str().map(|v| v.chars().count()),
            Some(MAX_RAW_VALUE_CHARS)
        );
        assert_eq!(raw["country"], "");
    }
}
