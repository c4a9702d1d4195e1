//! The whole pipeline — ingest, `match`, `flag` — on generated exports with ground truth, linkage
//! done by lifeline itself: households the truth puts in a situation of the mission are flagged
//! (recall ≥ 95%), households without one are rarely flagged (< 2%), and every flag's evidence
//! leads back to real source rows.
//!
//! A truth household counts as flagged when a flagged lifeline household holds a mention of one of
//! its members; it counts as wrongly flagged when it has no situation and a flagged lifeline
//! household holds a mention of its members in a row that is evidence of the flag.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use lifeline::linkage::households::HouseholdOptions;
use lifeline::linkage::registry::match_registry;
use lifeline::linkage::spec::LinkageSpec;
use lifeline::risk::{RuleSet, flag_households};
use lifeline::samples::{SampleOptions, generate};
use sqlx::Row;

type RowKey = (String, String, i64, String);

#[tokio::test]
async fn ingest_match_flag_finds_the_households_at_risk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples");
    generate(
        &SampleOptions {
            households: 3000,
            seed: 2014,
            ..Default::default()
        },
        &out,
    )
    .unwrap();
    let mut situations: HashMap<String, String> = HashMap::new();
    let mut reader = csv::Reader::from_path(out.join("truth/households.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        situations.insert(row[0].to_string(), row[4].to_string());
    }
    // Which truth household each row's mention belongs to.
    let mut mention_household: HashMap<RowKey, String> = HashMap::new();
    let mut reader = csv::Reader::from_path(out.join("truth/mentions.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        mention_household.insert(
            (
                row[0].into(),
                row[1].into(),
                row[2].parse().unwrap(),
                row[3].into(),
            ),
            row[5].into(),
        );
    }
    let spec = LinkageSpec::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/linkage/persons.toml"
    )))
    .unwrap();
    let rules = RuleSet::built_in().unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let label = &test.label;
        common::ingest(
            registry,
            &dir.path().join(format!("receipts-{label}")),
            std::slice::from_ref(&out),
        )
        .await;
        match_registry(registry, &spec, false, HouseholdOptions::default())
            .await
            .unwrap();
        flag_households(
            registry,
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            &rules,
        )
        .await
        .unwrap();
        // Truth households reached by each flag: through every mention of the flagged household,
        // and through the rows that are its evidence.
        let reached = sqlx::query(
            "SELECT fl.flag_id, f.file_name, m.sheet, m.row_number, m.role FROM risk_flags fl \
             JOIN persons p ON p.household_id = fl.household_id \
             JOIN mention_links l ON l.person_id = p.person_id \
             JOIN mentions m ON m.id = l.mention_id JOIN files f ON f.id = m.file_id",
        )
        .fetch_all(registry.pool())
        .await
        .unwrap();
        let mut flagged: HashSet<String> = HashSet::new();
        for r in &reached {
            if let Some(h) = mention_household.get(&(r.get(1), r.get(2), r.get(3), r.get(4))) {
                flagged.insert(h.clone());
            }
        }
        let evidence = sqlx::query(
            "SELECT f.file_name, r.sheet, r.row_number FROM risk_evidence e \
             JOIN records r ON r.id = e.record_id JOIN files f ON f.id = r.file_id",
        )
        .fetch_all(registry.pool())
        .await
        .unwrap();
        assert!(!evidence.is_empty(), "{label}: flags carry evidence");
        let mut blamed: HashSet<String> = HashSet::new();
        for r in &evidence {
            let key: RowKey = (r.get(0), r.get(1), r.get(2), "subject".into());
            let household = mention_household.get(&key);
            assert!(
                household.is_some(),
                "{label}: evidence row {key:?} is not a real source row"
            );
            blamed.extend(household.cloned());
        }
        let at_risk: Vec<&String> = situations
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(h, _)| h)
            .collect();
        let quiet: Vec<&String> = situations
            .iter()
            .filter(|(_, s)| s.is_empty())
            .map(|(h, _)| h)
            .collect();
        let found = at_risk.iter().filter(|h| flagged.contains(**h)).count();
        let wrongly = quiet.iter().filter(|h| blamed.contains(**h)).count();
        let recall = found as f64 / at_risk.len() as f64;
        let false_rate = wrongly as f64 / quiet.len() as f64;
        eprintln!(
            "{label}: {} of {} households at risk flagged (recall {:.4}); {} of {} without a situation flagged ({:.4})",
            found,
            at_risk.len(),
            recall,
            wrongly,
            quiet.len(),
            false_rate
        );
        assert!(recall >= 0.95, "{label}: recall {recall:.4}");
        assert!(
            false_rate < 0.02,
            "{label}: {false_rate:.4} of quiet households flagged"
        );
        test.cleanup().await;
    }
}
