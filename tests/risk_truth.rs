//! The default rules against generated exports with ground truth, linkage taken from the truth
//! (what a perfect `lifeline match` would give, birth dates left to the rows and ID numbers):
//! every household the truth says is in a situation of the mission is flagged, households with
//! only minor events (near-miss costs, elderly deaths, grade B houses, 17-year-old dropouts…)
//! are not, coverage agrees with the roster, and every piece of evidence is a real source row
//! naming a member of the flagged household.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use lifeline::risk::{RuleSet, flag_households};
use lifeline::samples::{SampleOptions, generate};
use sqlx::Row;

type RowKey = (String, String, i64, String);

#[tokio::test]
async fn default_rules_find_the_truths_households_at_risk() {
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
    let mut person_household: HashMap<String, String> = HashMap::new();
    let mut reader = csv::Reader::from_path(out.join("truth/persons.csv")).unwrap();
    let mut persons = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        person_household.insert(row[0].to_string(), row[1].to_string());
        persons.push((
            row[0].to_string(),
            row[1].to_string(),
            row[6].to_string(),
            row[2].to_string(),
        ));
    }
    let mut truth_households = Vec::new();
    let mut reader = csv::Reader::from_path(out.join("truth/households.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        truth_households.push((
            row[0].to_string(),
            row[1].to_string(),
            row[2].to_string(),
            &row[3] == "true",
            row[4].to_string(),
        ));
    }
    let mut mention_person: HashMap<RowKey, String> = HashMap::new();
    let mut reader = csv::Reader::from_path(out.join("truth/mentions.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        mention_person.insert(
            (
                row[0].to_string(),
                row[1].to_string(),
                row[2].parse().unwrap(),
                row[3].to_string(),
            ),
            row[4].to_string(),
        );
    }
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
        let pool = registry.pool();
        let mut tx = pool.begin().await.unwrap();
        for (household_id, county, address, _, _) in &truth_households {
            sqlx::query(
                "INSERT INTO households (household_id, address, region_code, members, \
                 created_at, updated_at) VALUES ($1, $2, $3, 0, '', '')",
            )
            .bind(household_id)
            .bind(address)
            .bind(county)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        for (person_id, household_id, role, name) in &persons {
            sqlx::query(
                "INSERT INTO persons (person_id, household_id, household_role, name, mentions, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, 0, '', '')",
            )
            .bind(person_id)
            .bind(household_id)
            .bind(role)
            .bind(name)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        let stored = sqlx::query(
            "SELECT m.id, f.file_name, m.sheet, m.row_number, m.role FROM mentions m \
             JOIN files f ON f.id = m.file_id",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        for row in stored {
            let key: RowKey = (row.get(1), row.get(2), row.get(3), row.get(4));
            if let Some(person) = mention_person.get(&key) {
                sqlx::query(
                    "INSERT INTO mention_links (mention_id, person_id, linked_at) \
                     VALUES ($1, $2, '')",
                )
                .bind(row.get::<i64, _>(0))
                .bind(person)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        tx.commit().await.unwrap();

        let summary = flag_households(
            registry,
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            &rules,
        )
        .await
        .unwrap();
        let flagged: HashMap<String, bool> =
            sqlx::query("SELECT household_id, covered FROM risk_flags")
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) != 0))
                .collect();
        let at_risk: Vec<&(String, String, String, bool, String)> = truth_households
            .iter()
            .filter(|h| !h.4.is_empty())
            .collect();
        let missed: Vec<(&str, &str)> = at_risk
            .iter()
            .filter(|h| !flagged.contains_key(&h.0))
            .map(|h| (h.0.as_str(), h.4.as_str()))
            .collect();
        let quiet: Vec<&str> = truth_households
            .iter()
            .filter(|h| h.4.is_empty() && flagged.contains_key(&h.0))
            .map(|h| h.0.as_str())
            .collect();
        let quiet_total = truth_households.len() - at_risk.len();
        eprintln!(
            "{label}: {} households, {} at risk in truth, {} flagged; missed {}, flagged \
             without a situation {} of {quiet_total}",
            truth_households.len(),
            at_risk.len(),
            summary.at_risk,
            missed.len(),
            quiet.len()
        );
        assert!(
            missed.is_empty(),
            "{label}: households at risk not flagged: {:?}",
            &missed[..missed.len().min(10)]
        );
        assert!(
            quiet.is_empty(),
            "{label}: households without a situation flagged: {:?}",
            &quiet[..quiet.len().min(10)]
        );
        let wrong_coverage: Vec<&str> = at_risk
            .iter()
            .filter(|h| flagged.get(&h.0).is_some_and(|&c| c != h.3))
            .map(|h| h.0.as_str())
            .collect();
        assert!(
            wrong_coverage.is_empty(),
            "{label}: coverage disagrees with the roster for {wrong_coverage:?}"
        );

        // every piece of evidence is a real row naming a member of the flagged household
        let evidence = sqlx::query(
            "SELECT fl.household_id, f.file_name, r.sheet, r.row_number, e.rule \
             FROM risk_evidence e JOIN risk_flags fl ON fl.flag_id = e.flag_id \
             JOIN records r ON r.id = e.record_id JOIN files f ON f.id = r.file_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert!(!evidence.is_empty());
        let rows_of_household: HashSet<(String, String, String, i64)> = mention_person
            .iter()
            .filter_map(|((file, sheet, row, _), person)| {
                Some((
                    person_household.get(person)?.clone(),
                    file.clone(),
                    sheet.clone(),
                    *row,
                ))
            })
            .collect();
        for row in &evidence {
            let key = (row.get(0), row.get(1), row.get(2), row.get(3));
            assert!(
                rows_of_household.contains(&key),
                "{label}: evidence {key:?} for rule {} is not a row naming the household",
                row.get::<String, _>(4)
            );
        }
        test.cleanup().await;
    }
}
