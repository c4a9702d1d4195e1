//! Generated exports, ingested, agree with their ground truth: every person mention lifeline
//! stores is at a (file, sheet, row, role) the truth names, and every mention of the truth that
//! is not stored belongs to a row lifeline rejected and said why.

mod common;

use std::collections::HashSet;

use lifeline::ingest::FileStatus;
use lifeline::samples::{SampleOptions, generate};
use sqlx::Row;

type Key = (String, String, i64, String);

#[tokio::test]
async fn ingested_samples_match_the_truth_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples");
    let summary = generate(
        &SampleOptions {
            households: 3000,
            seed: 11,
            ..Default::default()
        },
        &out,
    )
    .unwrap();
    assert!(summary.files.len() >= 8, "every source has an export");
    for test in common::registries(dir.path()).await {
        check_against_truth(&test, dir.path(), &out).await;
        test.cleanup().await;
    }
}

/// The set committed in `samples/` (xlsx with merged headers, the BIFF8 .xls, GBK and BOM CSV)
/// agrees with its truth too.
#[tokio::test]
async fn committed_samples_match_their_truth() {
    let dir = tempfile::tempdir().unwrap();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let formats: HashSet<String> = std::fs::read_dir(&samples)
        .unwrap()
        .filter_map(|e| e.ok()?.path().extension()?.to_str().map(str::to_string))
        .collect();
    for format in ["xlsx", "xls", "csv"] {
        assert!(formats.contains(format), "samples/ has a .{format} export");
    }
    for test in common::registries(dir.path()).await {
        check_against_truth(&test, dir.path(), &samples).await;
        test.cleanup().await;
    }
}

async fn check_against_truth(
    test: &common::TestRegistry,
    dir: &std::path::Path,
    out: &std::path::Path,
) {
    let out = out.to_path_buf();
    let receipts = common::ingest(
        &test.registry,
        &dir.join(format!("receipts-{}", test.label)),
        std::slice::from_ref(&out),
    )
    .await;
    for receipt in &receipts {
        assert_eq!(
            receipt.status,
            FileStatus::Ingested,
            "{}",
            receipt.summary()
        );
    }
    let departments: HashSet<String> = sqlx::query("SELECT DISTINCT department FROM records")
        .fetch_all(test.registry.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert_eq!(
        departments.len(),
        8,
        "all eight sources ingested: {departments:?}"
    );

    let mut truth: HashSet<Key> = HashSet::new();
    let mut reader = csv::Reader::from_path(out.join("truth/mentions.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        truth.insert((
            row[0].to_string(),
            row[1].to_string(),
            row[2].parse().unwrap(),
            row[3].to_string(),
        ));
    }
    let stored: HashSet<Key> = sqlx::query(
        "SELECT f.file_name, m.sheet, m.row_number, m.role FROM mentions m JOIN files f ON f.id = m.file_id",
    )
    .fetch_all(test.registry.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    let rejected_rows: HashSet<(String, String, i64)> = sqlx::query(
        "SELECT f.file_name, j.sheet, j.row_number FROM rejects j JOIN files f ON f.id = j.file_id WHERE j.severity = 'row'",
    )
    .fetch_all(test.registry.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();

    let extra: Vec<&Key> = stored.difference(&truth).collect();
    assert!(
        extra.is_empty(),
        "mentions the truth does not have: {:?}",
        &extra[..extra.len().min(10)]
    );
    let unexplained: Vec<&Key> = truth
        .difference(&stored)
        .filter(|(file, sheet, row, _)| {
            !rejected_rows.contains(&(file.clone(), sheet.clone(), *row))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} truth mentions neither stored nor rejected, e.g. {:?}",
        unexplained.len(),
        &unexplained[..unexplained.len().min(10)]
    );
    let recall = stored.len() as f64 / truth.len() as f64;
    assert!(
        recall > 0.97,
        "{}: only {:.1}% of the truth's mentions stored",
        test.label,
        recall * 100.0
    );
}
