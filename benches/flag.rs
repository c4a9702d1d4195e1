//! Flag evaluation over a registry of a million persons: builds a SQLite registry (350,000
//! households, 1,000,000 persons, about three records per household from every source with the
//! proportions of a real county — a few percent of households at risk — and their mentions and
//! links), then times `flag_households` twice: the first run opens every flag, the second finds
//! nothing new (the nightly case). Prints load / evaluate / write seconds and peak memory.
//!
//! Run: `cargo bench --bench flag` (release build), optionally `-- --persons 200000`,
//! `-- --keep FILE` to keep the registry for `lifeline flag --db sqlite:FILE`.

use std::time::Instant;

use lifeline::registry::Registry;
use lifeline::risk::{RuleSet, flag_households};

/// The same allocator as the `lifeline` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The statements that fill the registry, generated inside SQLite (a recursive CTE per
/// table): `{P}` persons, `{H}` households, `{R}` records. `f(k)` spreads record k over persons.
const FILL: &str = r#"
INSERT INTO batches (id, started_at, origin) VALUES (1, '2026-11-01T00:00:00+08:00', 'bench');
INSERT INTO files (id, batch_id, file_name, path, sha256, size_bytes, format, encoding, mappings,
    rows_read, rows_accepted, rows_rejected, rows_skipped, receipt, ingested_at)
SELECT k + 1, 1, name, name, 'sha' || k, 0, 'xlsx', '', kind, 0, 0, 0, 0, '{}',
    '2026-11-01T00:00:00+08:00'
FROM (SELECT 0 AS k, 'health.xlsx' AS name, 'hospital_stay' AS kind
      UNION ALL SELECT 1, 'funeral.csv', 'death' UNION ALL SELECT 2, 'emergency.xlsx', 'disaster_damage'
      UNION ALL SELECT 3, 'housing.xlsx', 'dangerous_house' UNION ALL SELECT 4, 'education.xlsx', 'enrolment'
      UNION ALL SELECT 5, 'family_planning.xlsx', 'special_family' UNION ALL SELECT 6, 'hrss.xlsx', 'unemployment'
      UNION ALL SELECT 7, 'roster.xlsx', 'assistance');
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < {H})
INSERT INTO households (household_id, head_person_id, address, region_code, township, village,
    members, created_at, updated_at)
SELECT 'H' || k, 'P' || k, '安徽省滁州市定远县' || ('镇' || (k % 17)) || ('村' || (k % 211)), '341125',
    '第' || (k % 17) || '镇', '第' || (k % 211) || '村', 3, '2026-11-01', '2026-11-01' FROM n;
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < {P})
INSERT INTO persons (person_id, household_id, household_role, name, id_number, gender, birth_date,
    phone, address, region_code, mentions, created_at, updated_at)
SELECT 'P' || k, 'H' || (k % {H}), CASE WHEN k < {H} THEN 'head' ELSE 'member' END,
    '姓名' || k, NULL, CASE WHEN k % 2 = 0 THEN 'M' ELSE 'F' END,
    printf('%04d-%02d-%02d', 1936 + (k * 7919) % 88, 1 + (k * 31) % 12, 1 + (k * 17) % 28),
    NULL, NULL, '341125', 1, '2026-11-01', '2026-11-01' FROM n;
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < {R}),
r AS (SELECT k, (k * 2654435761) % 1000 AS u, ((k * 40503) % 1000003) % {P} AS subject,
    printf('%04d-%02d-%02d', 2025 + k % 2, CASE WHEN k % 2 = 1 THEN 1 + (k * 13) % 10
        ELSE 1 + (k * 13) % 12 END, 1 + (k * 7) % 28) AS day
    FROM n)
INSERT INTO records (file_id, sheet, row_number, department, mapping, event_kind, event_date, attributes)
SELECT f, 'Sheet1', k, kind, kind, kind, day, attributes FROM (
    SELECT k, day, CASE
        WHEN u < 800 THEN 1 WHEN u < 810 THEN 2 WHEN u < 830 THEN 3 WHEN u < 850 THEN 4
        WHEN u < 950 THEN 5 WHEN u < 952 THEN 6 WHEN u < 957 THEN 7 ELSE 8 END AS f,
    CASE
        WHEN u < 800 THEN 'hospital_stay' WHEN u < 810 THEN 'death' WHEN u < 830 THEN 'disaster_damage'
        WHEN u < 850 THEN 'dangerous_house' WHEN u < 950 THEN 'enrolment' WHEN u < 952 THEN 'special_family'
        WHEN u < 957 THEN 'unemployment' ELSE 'assistance' END AS kind,
    CASE
        WHEN u < 800 THEN '{"hospital":"定远县人民医院","total_cost":' || (2000 + (k * 97) % 30000)
            || ',"out_of_pocket":' || CASE WHEN (k * 31) % 100 = 0 THEN 25000 + (k * 89) % 40000
            ELSE 300 + (k * 97) % 9000 END || '}'
        WHEN u < 810 THEN '{"cause_of_death":"疾病"}'
        WHEN u < 830 THEN '{"disaster_type":"洪涝","house_damage":"' || CASE
            WHEN (k * 7) % 100 < 6 THEN 'collapsed' WHEN (k * 7) % 100 < 18 THEN 'severe'
            WHEN (k * 7) % 100 < 73 THEN 'moderate' ELSE 'none' END || '"}'
        WHEN u < 850 THEN '{"house_grade":"' || CASE WHEN (k * 7) % 10 < 2 THEN 'A'
            WHEN (k * 7) % 10 < 7 THEN 'B' WHEN (k * 7) % 10 < 9 THEN 'C' ELSE 'D' END || '"}'
        WHEN u < 950 THEN '{"school":"定远县第一中学","enrolment_status":"' || CASE
            WHEN (k * 7) % 100 < 1 THEN 'dropped_out' ELSE 'enrolled' END || '"}'
        WHEN u < 952 THEN '{"special_type":"only_child_died"}'
        WHEN u < 957 THEN '{"benefit_monthly":1500}'
        ELSE '{"assistance_type":"' || CASE WHEN (k * 7) % 10 < 6 THEN 'dibao'
            WHEN (k * 7) % 10 < 8 THEN 'tekun' ELSE 'low_income' END || '"}' END AS attributes
    FROM r);
INSERT INTO mentions (file_id, sheet, row_number, role, name, id_raw, id_status)
SELECT file_id, sheet, row_number, 'subject', NULL, '', 'missing' FROM records ORDER BY id;
INSERT INTO mentions (file_id, sheet, row_number, role, name, id_raw, id_status)
SELECT file_id, sheet, row_number, CASE event_kind WHEN 'enrolment' THEN 'guardian' ELSE 'next_of_kin' END,
    NULL, '', 'missing' FROM records WHERE event_kind IN ('enrolment', 'death') ORDER BY id;
INSERT INTO mention_links (mention_id, person_id, score, linked_at)
SELECT m.id, 'P' || CASE WHEN m.role = 'subject' THEN ((m.row_number * 40503) % 1000003) % {P}
    ELSE (((m.row_number * 40503) % 1000003) % {P}) % {H} END, 1.0, '2026-11-01'
FROM mentions m;
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lifeline::disable_transparent_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let persons: u64 = value("--persons")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let households = persons * 35 / 100;
    let records = households * 3;
    let dir = tempfile::tempdir()?;
    let path = value("--keep")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("flag-bench.db"));
    let _ = std::fs::remove_file(&path);
    let registry = Registry::open(&format!("sqlite:{}", path.display())).await?;
    let started = Instant::now();
    let sql = FILL
        .replace("{P}", &persons.to_string())
        .replace("{H}", &households.to_string())
        .replace("{R}", &records.to_string());
    let mut tx = registry.pool().begin().await?;
    for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(registry.pool()).await?;
    println!(
        "registry: {persons} persons, {households} households, {records} records (with mentions \
         and links) built in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let rules = RuleSet::built_in()?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).ok_or("date")?;
    for run in ["first run (opens every flag)", "second run (nothing new)"] {
        let started = Instant::now();
        let summary = flag_households(&registry, as_of, &rules).await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{run}: {seconds:.1}s (load {:.1}s, evaluate {:.1}s, write {:.1}s); {} events; \
             {} at risk ({:.1}% of households: {} high, {} medium, {} low; {} uncovered); \
             {} opened, {} updated, {} evidence rows",
            summary.load_seconds,
            summary.evaluate_seconds,
            summary.write_seconds,
            summary.events,
            summary.at_risk,
            summary.at_risk as f64 * 100.0 / summary.households.max(1) as f64,
            summary.by_level[0],
            summary.by_level[1],
            summary.by_level[2],
            summary.uncovered,
            summary.opened,
            summary.updated,
            summary.evidence_added,
        );
    }
    if let Some(peak) = peak_memory_mb() {
        println!("peak memory: {peak:.0} MB");
    }
    registry.close().await;
    Ok(())
}
