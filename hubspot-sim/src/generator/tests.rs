use std::collections::{HashMap, HashSet};

use super::*;

fn portal(seed: u64, contacts: usize) -> GeneratedPortal {
    generate(&GeneratorConfig::new(seed, contacts)).expect("valid config")
}

#[test]
fn same_seed_gives_identical_portal() {
    assert_eq!(portal(42, 2_000), portal(42, 2_000));
}

#[test]
fn different_seeds_give_different_portals() {
    let a = portal(1, 2_000);
    let b = portal(2, 2_000);
    assert_ne!(a.contacts, b.contacts);
    assert_ne!(a.ground_truth, b.ground_truth);
}

#[test]
fn streaming_matches_collected_output() {
    struct Count(usize, usize, usize);
    impl PortalSink for Count {
        fn company(&mut self, _: SimRecord) {
            self.0 += 1;
        }
        fn contact(&mut self, _: SimRecord) {
            self.1 += 1;
        }
        fn deal(&mut self, _: SimRecord) {
            self.2 += 1;
        }
    }
    let config = GeneratorConfig::new(5, 1_000);
    let mut count = Count(0, 0, 0);
    let links = generate_into(&config, &mut count).expect("valid config");
    let full = generate(&config).expect("valid config");
    assert_eq!(
        (count.0, count.1, count.2),
        (full.companies.len(), full.contacts.len(), full.deals.len())
    );
    assert_eq!(links.ground_truth, full.ground_truth);
    assert_eq!(links.contact_company, full.contact_company);
}

#[test]
fn ceiling_auc_is_realistic_over_several_seeds() {
    for seed in [1, 2, 3, 4] {
        let truth = portal(seed, 10_000).ground_truth;
        let auc = truth.ceiling_auc().expect("both classes present");
        let labelled: Vec<bool> = truth
            .contacts
            .iter()
            .filter_map(|t| t.future_outcome)
            .collect();
        let rate = labelled.iter().filter(|&&f| f).count() as f64 / labelled.len() as f64;
        eprintln!("seed {seed}: ceiling AUC {auc:.3}, future buyer rate {rate:.3}");
        assert!(
            (0.75..=0.90).contains(&auc),
            "seed {seed}: ceiling AUC {auc}"
        );
        assert!(
            (0.02..=0.20).contains(&rate),
            "seed {seed}: future buyer rate {rate}"
        );
    }
}

#[test]
fn portal_has_the_requested_shape() {
    let p = portal(11, 10_000);
    assert_eq!(p.contacts.len(), 10_000);
    assert_eq!(p.ground_truth.contacts.len(), 10_000);
    let without = 10_000 - p.contact_company.len();
    assert!(
        (1_000..=1_500).contains(&without),
        "contacts without company: {without}"
    );

    let mut per_company: HashMap<u64, usize> = HashMap::new();
    for (_, company) in &p.contact_company {
        *per_company.entry(*company).or_default() += 1;
    }
    let max = per_company.values().copied().max().unwrap_or(0);
    let singles = per_company.values().filter(|&&n| n == 1).count();
    assert!(max >= 20, "largest company has only {max} contacts");
    assert!(singles > 0, "no single-contact companies");
    assert!(
        p.companies.len() > per_company.len(),
        "expected some companies without contacts"
    );

    let won: HashSet<u64> = p
        .ground_truth
        .companies
        .iter()
        .filter(|c| c.closed_won)
        .map(|c| c.company_id)
        .collect();
    let share = won.len() as f64 / p.companies.len() as f64;
    assert!((0.02..=0.04).contains(&share), "closed-won share {share}");
    let won_deals: HashSet<u64> = p
        .deals
        .iter()
        .filter(|d| d.properties["hs_is_closed_won"] == "true")
        .map(|d| d.id)
        .collect();
    let won_by_deal: HashSet<u64> = p
        .deal_company
        .iter()
        .filter(|(deal, _)| won_deals.contains(deal))
        .map(|(_, company)| *company)
        .collect();
    assert_eq!(won_by_deal, won);
    assert!(
        p.deals
            .iter()
            .any(|d| d.properties["dealstage"] == "closedlost")
    );
}

#[test]
fn ids_are_unique_ascending_and_links_resolve() {
    let p = portal(3, 3_000);
    for records in [&p.companies, &p.contacts, &p.deals] {
        assert!(records.windows(2).all(|w| w[0].id < w[1].id));
        for r in records.iter() {
            assert_eq!(r.properties["hs_object_id"], r.id.to_string());
            assert!(r.updated_at_ms >= r.created_at_ms);
        }
    }
    let companies: HashSet<u64> = p.companies.iter().map(|c| c.id).collect();
    let contacts: HashSet<u64> = p.contacts.iter().map(|c| c.id).collect();
    assert!(
        p.contact_company
            .iter()
            .all(|(c, co)| contacts.contains(c) && companies.contains(co))
    );
    assert!(p.deal_company.iter().all(|(_, co)| companies.contains(co)));
    let emails: HashSet<&String> = p.contacts.iter().map(|c| &c.properties["email"]).collect();
    assert_eq!(emails.len(), p.contacts.len(), "emails must be unique");
}

#[test]
fn customers_carry_the_leakage_trap_and_no_future_outcome() {
    let p = portal(8, 5_000);
    let by_id: HashMap<u64, &SimRecord> = p.contacts.iter().map(|c| (c.id, c)).collect();
    let customers: Vec<&ContactTruth> = p
        .ground_truth
        .contacts
        .iter()
        .filter(|t| t.is_customer)
        .collect();
    assert!(!customers.is_empty());
    assert!(customers.iter().all(|t| t.future_outcome.is_none()));
    let customer_stage = customers
        .iter()
        .filter(|t| by_id[&t.contact_id].properties["lifecyclestage"] == "customer")
        .count();
    assert!(customer_stage * 2 > customers.len());
    assert!(
        p.ground_truth
            .contacts
            .iter()
            .filter(|t| t.company_id.is_none())
            .all(|t| t.future_outcome.is_none())
    );
}

#[test]
fn closed_won_companies_are_better_fits_than_average() {
    let p = portal(21, 20_000);
    let mean = |won: bool| {
        let fits: Vec<f64> = p
            .ground_truth
            .companies
            .iter()
            .filter(|c| c.closed_won == won)
            .map(|c| c.fit_log_odds)
            .collect();
        fits.iter().sum::<f64>() / fits.len() as f64
    };
    assert!(
        mean(true) > mean(false) + 0.5,
        "won {} vs rest {}",
        mean(true),
        mean(false)
    );
}

#[test]
fn properties_use_hubspot_formats() {
    let p = portal(4, 2_000);
    let iso = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == 24
    };
    for c in &p.contacts {
        assert!(iso(&c.properties["createdate"]));
        assert_eq!(
            c.properties["lastmodifieddate"],
            c.properties["hs_lastmodifieddate"]
        );
        assert!(c.properties["email"].contains('@'));
    }
    for c in &p.companies {
        if let Some(n) = c.properties.get("numberofemployees") {
            assert!(n.parse::<u32>().is_ok(), "bad employees {n}");
        }
    }
    for d in &p.deals {
        assert_eq!(d.properties["pipeline"], "default");
        assert!(iso(&d.properties["closedate"]));
    }
    let industries: HashSet<&String> = p
        .companies
        .iter()
        .filter_map(|c| c.properties.get("industry"))
        .collect();
    assert!(
        industries.len() >= 20,
        "only {} industries",
        industries.len()
    );
    assert!(
        p.companies
            .iter()
            .any(|c| !c.properties.contains_key("industry"))
    );
}

#[test]
fn truth_exports_as_csv() {
    let p = portal(9, 200);
    let csv = p.ground_truth.contacts_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "contact_id,company_id,propensity,is_customer,future_outcome,seniority,department,buyer"
        )
    );
    assert_eq!(lines.count(), 200);
    let first = &p.ground_truth.contacts[0];
    assert_eq!(p.ground_truth.contact(first.contact_id), Some(first));
}

#[test]
fn bad_configs_are_rejected() {
    let mut config = GeneratorConfig::new(1, MAX_CONTACTS + 1);
    assert_eq!(
        generate(&config),
        Err(GeneratorError::TooManyContacts(MAX_CONTACTS + 1))
    );
    config.contacts = 100;
    config.share_without_company = 1.5;
    assert!(matches!(
        generate(&config),
        Err(GeneratorError::ShareOutOfRange { .. })
    ));
}

#[test]
fn explicit_closed_won_count_is_honoured() {
    let mut config = GeneratorConfig::new(6, 2_000);
    config.closed_won_companies = Some(25);
    let p = generate(&config).expect("valid config");
    assert_eq!(
        p.ground_truth
            .companies
            .iter()
            .filter(|c| c.closed_won)
            .count(),
        25
    );
}

#[test]
fn deals_carry_contacts_of_their_company_and_buyers_are_likelier_buyers() {
    let p = portal(12, 20_000);
    let company_of_contact: HashMap<u64, u64> = p.contact_company.iter().copied().collect();
    let company_of_deal: HashMap<u64, u64> = p.deal_company.iter().copied().collect();
    let mut per_deal: HashMap<u64, usize> = HashMap::new();
    for (deal, contact) in &p.deal_contact {
        assert_eq!(
            company_of_contact.get(contact),
            company_of_deal.get(deal),
            "deal {deal} lists contact {contact} of another company"
        );
        *per_deal.entry(*deal).or_default() += 1;
    }
    assert!(per_deal.values().all(|n| (1..=3).contains(n)));
    assert!(per_deal.values().any(|n| *n > 1), "some committees");
    let won_deals: HashSet<u64> = p
        .deals
        .iter()
        .filter(|d| d.properties["hs_is_closed_won"] == "true")
        .map(|d| d.id)
        .collect();
    assert!(
        won_deals.iter().all(|d| per_deal.contains_key(d)),
        "every won deal has a buyer"
    );
    let buyers: HashSet<u64> = p
        .deal_contact
        .iter()
        .filter(|(deal, _)| won_deals.contains(deal))
        .map(|(_, contact)| *contact)
        .collect();
    let truth = &p.ground_truth.contacts;
    assert!(
        truth
            .iter()
            .all(|t| t.buyer == buyers.contains(&t.contact_id))
    );
    assert!(truth.iter().filter(|t| t.buyer).all(|t| t.is_customer));
    // Buyers are drawn by the true propensity: likelier than their own colleagues, and much
    // likelier than contacts of companies that are not customers.
    let mean = |pick: &dyn Fn(&ContactTruth) -> bool| {
        let chosen: Vec<f64> = truth
            .iter()
            .filter(|t| pick(t))
            .map(|t| t.propensity)
            .collect();
        chosen.iter().sum::<f64>() / chosen.len() as f64
    };
    let buyer_mean = mean(&|t| t.buyer);
    let colleague_mean = mean(&|t| t.is_customer && !t.buyer);
    let others_mean = mean(&|t| t.company_id.is_some() && !t.is_customer);
    assert!(
        buyer_mean > 1.1 * colleague_mean && buyer_mean > 1.5 * others_mean,
        "buyers {buyer_mean:.3} vs their colleagues {colleague_mean:.3}, others {others_mean:.3}"
    );
}
