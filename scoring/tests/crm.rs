//! The contact pipeline on simulator-generated portals: HubSpot properties in, scores,
//! grades, explanations and unscorable reasons out.

mod support;

use scoring::crm::{
    CompanyFacts, ContactFacts, ContactModel, ContactModelError, ContactScore, ContactTraining,
    Unscorable, contact_dataset, field, train_contacts,
};
use scoring::{Grade, TrainConfig};

fn trained(fixture: &support::Fixture) -> (scoring::crm::ContactDataset, ContactModel) {
    let data = contact_dataset(fixture.labeled());
    match train_contacts(&data, &TrainConfig::default()).unwrap() {
        ContactTraining::Trained(model) => (data, *model),
        ContactTraining::NotEnoughData(status) => panic!("{status}"),
    }
}

#[test]
fn contacts_without_company_data_are_not_scored_and_say_why() {
    let fixture = support::fixture(11, 3_000, Some(60));
    let (data, model) = trained(&fixture);
    let no_company = fixture.facts.iter().filter(|f| f.company.is_none()).count();
    let empty_company = fixture
        .facts
        .iter()
        .filter(|f| f.company.as_ref().is_some_and(CompanyFacts::is_empty))
        .count();
    assert!(
        no_company > 0,
        "the generator leaves some contacts without a company"
    );
    let reasons = |reason| data.unscorable.iter().filter(|(_, r)| *r == reason).count();
    assert_eq!(reasons(Unscorable::NoCompany), no_company);
    assert_eq!(reasons(Unscorable::NoCompanyData), empty_company);
    assert_eq!(
        data.dataset.len() + data.unscorable.len(),
        fixture.facts.len()
    );
    let (index, _) = data.unscorable[0];
    match model.score(&fixture.facts[index]) {
        ContactScore::Unscorable(reason) => {
            assert!(["no_company", "no_company_data"].contains(&reason.code()));
            assert!(reason.to_string().starts_with("not scored"));
        }
        ContactScore::Scored(_) => panic!("an unscorable contact got a score"),
    }
}

#[test]
fn batch_and_single_scores_agree_and_explanations_are_deterministic() {
    let fixture = support::fixture(12, 3_000, Some(60));
    let (data, model) = trained(&fixture);
    let batch = model.score_dataset(&data);
    let mut scratch = model.scratch();
    for (row, &input) in data.input_index.iter().enumerate().step_by(37) {
        let facts = &fixture.facts[input];
        let single = model.fit_score(facts, &mut scratch).unwrap();
        assert_eq!(single, batch[row]);
        let ContactScore::Scored(first) = model.score(facts) else {
            panic!("scorable contact")
        };
        let ContactScore::Scored(second) = model.score(facts) else {
            panic!("scorable contact")
        };
        assert_eq!(first, second);
        assert_eq!(first.score, single);
        assert_eq!(
            first.score.grade,
            model.model().thresholds.grade(first.score.score)
        );
        let text = first.explanation.text();
        assert!(text.lines().count() <= 2, "{text}");
        assert!(first.explanation.top_factors().lines().count() <= 5);
    }
    // Scores spread over the whole range and every grade is used.
    for grade in Grade::ALL {
        assert!(
            batch.iter().any(|s| s.grade == grade),
            "no contact graded {grade:?}"
        );
    }
}

#[test]
fn sales_process_fields_cannot_leak_the_outcome() {
    let fixture = support::fixture(13, 3_000, Some(60));
    let (_, model) = trained(&fixture);
    let dropped: Vec<&str> = model
        .model()
        .dropped_fields
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert!(dropped.contains(&"lifecyclestage"), "{dropped:?}");
    assert!(dropped.contains(&"hs_lead_status"), "{dropped:?}");
    let lifecycle_names = &model.model().fields()[field::LIFECYCLE_STAGE].spec.name;
    assert_eq!(lifecycle_names, "lifecyclestage");
    let mut scratch = model.scratch();
    let base = fixture
        .facts
        .iter()
        .find(|f| f.company.as_ref().is_some_and(|c| !c.is_empty()))
        .unwrap()
        .clone();
    let with = |stage: &str, status: &str| ContactFacts {
        lifecycle_stage: Some(stage.to_string()),
        lead_status: Some(status.to_string()),
        ..base.clone()
    };
    let as_customer = model
        .fit_score(&with("customer", "OPEN_DEAL"), &mut scratch)
        .unwrap();
    let as_lead = model.fit_score(&with("lead", "NEW"), &mut scratch).unwrap();
    assert_eq!(as_customer, as_lead);
}

#[test]
fn too_few_closed_won_companies_give_a_clear_status() {
    let fixture = support::fixture(14, 3_000, Some(6));
    let data = contact_dataset(fixture.labeled());
    match train_contacts(&data, &TrainConfig::default()).unwrap() {
        ContactTraining::NotEnoughData(status) => {
            assert!(status.positive_groups <= 6);
            assert_eq!(status.required, 10);
            assert!(status.to_string().starts_with("not enough closed-won data"));
        }
        ContactTraining::Trained(_) => panic!("6 closed-won companies must not train a model"),
    }
}

#[test]
fn contact_models_round_trip_and_refuse_foreign_artefacts() {
    let fixture = support::fixture(15, 3_000, Some(40));
    let (_, model) = trained(&fixture);
    let json = model.to_json().unwrap();
    let reloaded = ContactModel::from_json(&json).unwrap();
    assert_eq!(model, reloaded);
    let contact = fixture
        .facts
        .iter()
        .find(|f| f.company.is_some() && f.job_title.is_some())
        .unwrap();
    assert_eq!(model.score(contact), reloaded.score(contact));

    let renamed = json.replacen("\"name\":\"industry\"", "\"name\":\"plan\"", 1);
    assert!(matches!(
        ContactModel::from_json(&renamed),
        Err(ContactModelError::NotAContactModel { .. })
    ));
    let future = json.replacen("\"schema_version\":2", "\"schema_version\":3", 1);
    let error = ContactModel::from_json(&future).unwrap_err();
    assert!(error.to_string().contains("schema version 3"), "{error}");
    let old = json.replacen("\"schema_version\":2", "\"schema_version\":1", 1);
    let error = ContactModel::from_json(&old).unwrap_err();
    assert!(error.to_string().contains("schema version 1"), "{error}");
}

#[test]
fn portal_evaluation_cross_validates_and_holds_out_later_wins() {
    let fixture = support::fixture(16, 5_000, Some(120));
    let data = contact_dataset(fixture.labeled());
    let config = scoring::evaluate::EvaluationConfig {
        folds: 3,
        ..Default::default()
    };
    let evaluation = scoring::evaluate::cross_validate(&data.dataset, &config).unwrap();
    assert_eq!(evaluation.rows, data.dataset.len());
    assert!(
        evaluation.positive_groups >= 100,
        "{}",
        evaluation.positive_groups
    );
    assert!(
        evaluation.auc > 0.6 && evaluation.auc < 0.95,
        "auc {}",
        evaluation.auc
    );
    assert!(
        evaluation.lift_top_decile > 1.3,
        "lift {}",
        evaluation.lift_top_decile
    );
    assert!(
        evaluation
            .dropped_fields
            .contains(&"lifecyclestage".to_string())
    );
    let holdout = evaluation
        .time_holdout
        .unwrap_or_else(|| panic!("close dates exist: {:?}", evaluation.time_holdout_skipped));
    assert!(holdout.future_positives > 0);
    eprintln!(
        "portal CV: auc {:.3}, lift {:.2}, capture@20 {:.3}; time holdout auc {:.3} on {} later positives",
        evaluation.auc,
        evaluation.lift_top_decile,
        evaluation.capture_top20,
        holdout.auc,
        holdout.future_positives
    );
    assert!(holdout.auc > 0.55, "holdout auc {}", holdout.auc);
}

#[test]
fn what_the_model_learned_is_what_contacts_are_told() {
    let fixture = support::fixture(14, 3_000, Some(60));
    let (_, model) = trained(&fixture);
    let learned = model.model().learned(5);
    assert!(!learned.positives.is_empty(), "an ICP raises some values");
    assert!(!learned.negatives.is_empty(), "and lowers others");
    assert!(learned.positives.len() <= 5 && learned.negatives.len() <= 5);
    assert!(
        learned
            .positives
            .windows(2)
            .all(|w| w[0].points >= w[1].points)
    );
    assert!(
        learned
            .negatives
            .windows(2)
            .all(|w| w[0].points <= w[1].points)
    );
    assert!(learned.positives.iter().all(|f| f.points >= 2));
    assert!(learned.negatives.iter().all(|f| f.points <= -2));
    let numeric: Vec<String> = model
        .model()
        .fields()
        .iter()
        .filter(|f| matches!(f.kind, scoring::encoder::EncodedKind::Numeric { .. }))
        .map(|f| f.spec.name.clone())
        .collect();
    // A categorical value's points are exactly those each contact with it is shown.
    let mut checked = 0;
    for facts in &fixture.facts {
        let ContactScore::Scored(scored) = model.score(facts) else {
            continue;
        };
        let told = scored
            .explanation
            .positives
            .iter()
            .chain(&scored.explanation.negatives);
        for factor in told.filter(|f| !numeric.contains(&f.field)) {
            let same = learned
                .positives
                .iter()
                .chain(&learned.negatives)
                .find(|l| l.field == factor.field && l.text == factor.text);
            if let Some(same) = same {
                assert_eq!(same.points, factor.points, "{}", factor.text);
                checked += 1;
            }
        }
    }
    assert!(
        checked > 100,
        "learned values are common: {checked} checked"
    );
}
