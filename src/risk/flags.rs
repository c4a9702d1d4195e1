//! Flags in the registry: [`flag_households`] evaluates every household and writes what changed
//! in one transaction. One flag per household, ever: a new household at risk opens a flag; an
//! open flag gains new evidence and may change level (a higher level can bring its due date
//! forward); a closed or dismissed flag reopens only on evidence dated after its closing.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use super::RiskError;
use super::cases::Status;
use super::evaluate::{Assessment, Evaluator};
use super::responsibility::{due_date, responsible_unit};
use super::rules::{Level, RuleSet};
use super::view::{HouseholdView, load_view};
use crate::registry::write::{Cell, insert_rows};
use crate::registry::{Registry, now};

/// What one evaluation found and changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlagSummary {
    /// Rule-set version used.
    pub rule_set_version: String,
    /// Evaluation date.
    pub as_of: String,
    /// Households evaluated.
    pub households: usize,
    /// Persons in them.
    pub persons: usize,
    /// Events of the kinds the rules look at.
    pub events: usize,
    /// Households at risk now.
    pub at_risk: usize,
    /// … of which no programme covers.
    pub uncovered: usize,
    /// … at high, medium and low level.
    pub by_level: [usize; 3],
    /// Flags opened.
    pub opened: usize,
    /// Open flags that gained evidence or changed.
    pub updated: usize,
    /// Open flags whose level changed.
    pub level_changed: usize,
    /// Closed or dismissed flags reopened by new evidence.
    pub reopened: usize,
    /// Evidence rows added.
    pub evidence_added: usize,
    /// Seconds loading the view.
    pub load_seconds: f64,
    /// Seconds evaluating.
    pub evaluate_seconds: f64,
    /// Seconds writing.
    pub write_seconds: f64,
}

/// A stored flag as the upsert needs it.
struct Existing {
    flag_id: i64,
    status: Status,
    level: Level,
    score: i64,
    rules: String,
    reasons: String,
    covered: bool,
    person_ids: String,
    version: String,
    due_date: String,
    closed_on: Option<String>,
}

/// The columns an evaluation computes for a flag.
struct Computed {
    level: Level,
    score: i64,
    rules: String,
    reasons: String,
    reasons_json: String,
    covered: bool,
    person_ids: String,
    /// (record id, rule, person id, event date or file ingestion date)
    evidence: Vec<(i64, String, Option<String>, Option<String>)>,
}

fn compute(view: &HouseholdView, assessment: &Assessment) -> Computed {
    let mut evidence = Vec::new();
    for fired in &assessment.fired {
        for &e in &fired.evidence {
            let event = &view.events[e as usize];
            let person = event
                .subject
                .filter(|&p| view.members[p as usize].household == assessment.household)
                .map(|p| view.members[p as usize].person_id.clone());
            let dated = event
                .date
                .map(|d| d.to_string())
                .or_else(|| view.file_ingested.get(&event.file_id).cloned());
            evidence.push((event.record_id, fired.rule.clone(), person, dated));
        }
    }
    let reasons_json = serde_json::to_string(
        &assessment
            .fired
            .iter()
            .map(|f| {
                serde_json::json!({
                    "rule": f.rule, "title": f.title, "reason": f.reason, "weight": f.weight,
                })
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    let mut persons: Vec<&str> = assessment
        .persons()
        .iter()
        .map(|&p| view.members[p as usize].person_id.as_str())
        .collect();
    persons.sort_unstable();
    if persons.is_empty()
        && let Some(head) = view.households[assessment.household as usize]
            .head_person_id
            .as_deref()
    {
        persons.push(head);
    }
    Computed {
        level: assessment.level,
        score: i64::from(assessment.score),
        rules: assessment
            .fired
            .iter()
            .map(|f| f.rule.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        reasons: assessment
            .fired
            .iter()
            .map(|f| f.reason.as_str())
            .collect::<Vec<_>>()
            .join("；"),
        reasons_json,
        covered: assessment.covered,
        person_ids: persons.join(";"),
        evidence,
    }
}

const FLAG_COLUMNS: &[&str] = &[
    "household_id",
    "level",
    "level_rank",
    "score",
    "rules",
    "reasons",
    "reasons_json",
    "covered",
    "person_ids",
    "region_code",
    "county",
    "township",
    "village",
    "responsible_unit",
    "status",
    "rule_set_version",
    "opened_on",
    "due_date",
    "created_at",
    "updated_at",
];
const EVIDENCE_COLUMNS: &[&str] = &["flag_id", "record_id", "rule", "person_id", "added_on"];
/// Columns of `case_history`.
pub(crate) const HISTORY_COLUMNS: &[&str] = &[
    "flag_id",
    "at",
    "on_date",
    "action",
    "from_status",
    "to_status",
    "from_unit",
    "to_unit",
    "level",
    "actor",
    "note",
];

/// One `case_history` row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn history_row(
    flag_id: i64,
    on: NaiveDate,
    action: &str,
    from_status: Option<&str>,
    to_status: Option<&str>,
    from_unit: Option<&str>,
    to_unit: Option<&str>,
    level: Option<Level>,
    actor: &str,
    note: Option<String>,
) -> Vec<Cell> {
    vec![
        Cell::Int(flag_id),
        Cell::from(now()),
        Cell::from(on.to_string()),
        Cell::from(action),
        Cell::Text(from_status.map(str::to_string)),
        Cell::Text(to_status.map(str::to_string)),
        Cell::Text(from_unit.map(str::to_string)),
        Cell::Text(to_unit.map(str::to_string)),
        Cell::Text(level.map(|l| l.as_str().to_string())),
        Cell::from(actor),
        Cell::Text(note),
    ]
}

async fn load_existing(registry: &Registry) -> Result<HashMap<String, Existing>, RiskError> {
    let mut out = HashMap::new();
    let mut rows = sqlx::query(
        "SELECT flag_id, household_id, status, level, score, rules, reasons, covered, person_ids, \
         rule_set_version, due_date, closed_on FROM risk_flags",
    )
    .fetch(registry.pool());
    while let Some(row) = rows.try_next().await? {
        let status: String = row.try_get(2)?;
        let level: String = row.try_get(3)?;
        out.insert(
            row.try_get::<String, _>(1)?,
            Existing {
                flag_id: row.try_get(0)?,
                status: Status::parse(&status).unwrap_or(Status::New),
                level: Level::parse(&level).unwrap_or(Level::Low),
                score: row.try_get(4)?,
                rules: row.try_get(5)?,
                reasons: row.try_get(6)?,
                covered: row.try_get::<i64, _>(7)? != 0,
                person_ids: row.try_get(8)?,
                version: row.try_get(9)?,
                due_date: row.try_get(10)?,
                closed_on: row.try_get(11)?,
            },
        );
    }
    Ok(out)
}

async fn load_evidence(registry: &Registry) -> Result<HashSet<(i64, i64, String)>, RiskError> {
    let mut out = HashSet::new();
    let mut rows =
        sqlx::query("SELECT flag_id, record_id, rule FROM risk_evidence").fetch(registry.pool());
    while let Some(row) = rows.try_next().await? {
        out.insert((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
    }
    Ok(out)
}

/// Evaluates every household on `as_of` with `rules` and records the flags: the library entry
/// point behind `lifeline flag` and `lifeline run`.
pub async fn flag_households(
    registry: &Registry,
    as_of: NaiveDate,
    rules: &RuleSet,
) -> Result<FlagSummary, RiskError> {
    let started = Instant::now();
    let view = load_view(registry, rules).await?;
    let existing = load_existing(registry).await?;
    let known_evidence = if existing.is_empty() {
        HashSet::new()
    } else {
        load_evidence(registry).await?
    };
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let assessments = Evaluator::new(&view, rules, as_of).evaluate_all();
    let evaluate_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut summary = FlagSummary {
        rule_set_version: rules.version.clone(),
        as_of: as_of.to_string(),
        households: view.households.len(),
        persons: view.members.len(),
        events: view.events.len(),
        at_risk: assessments.len(),
        uncovered: assessments.iter().filter(|a| !a.covered).count(),
        load_seconds,
        evaluate_seconds,
        ..FlagSummary::default()
    };
    for assessment in &assessments {
        summary.by_level[assessment.level.rank() as usize] += 1;
    }
    let today = as_of.to_string();
    let timestamp = now();
    let mut new_flags: Vec<(Vec<Cell>, Computed)> = Vec::new();
    let mut evidence_rows: Vec<Vec<Cell>> = Vec::new();
    let mut history_rows: Vec<Vec<Cell>> = Vec::new();
    let mut updates: Vec<(i64, Computed, Option<String>, bool)> = Vec::new();
    for assessment in &assessments {
        let household = &view.households[assessment.household as usize];
        let computed = compute(&view, assessment);
        let Some(flag) = existing.get(&household.household_id) else {
            let unit = responsible_unit(household, rules.unit);
            let row = vec![
                Cell::from(household.household_id.as_str()),
                Cell::from(computed.level.as_str()),
                Cell::Int(computed.level.rank()),
                Cell::Int(computed.score),
                Cell::from(computed.rules.as_str()),
                Cell::from(computed.reasons.as_str()),
                Cell::from(computed.reasons_json.as_str()),
                Cell::Int(i64::from(computed.covered)),
                Cell::from(computed.person_ids.as_str()),
                Cell::from(unit.region_code),
                Cell::from(unit.county),
                Cell::from(unit.township),
                Cell::from(unit.village),
                Cell::from(unit.responsible_unit),
                Cell::from(Status::New.as_str()),
                Cell::from(rules.version.as_str()),
                Cell::from(today.as_str()),
                Cell::from(due_date(rules, computed.level, as_of).to_string()),
                Cell::from(timestamp.as_str()),
                Cell::from(timestamp.as_str()),
            ];
            new_flags.push((row, computed));
            continue;
        };
        let fresh: Vec<&(i64, String, Option<String>, Option<String>)> = computed
            .evidence
            .iter()
            .filter(|(record, rule, _, _)| {
                !known_evidence.contains(&(flag.flag_id, *record, rule.clone()))
            })
            .collect();
        if flag.status.is_open() {
            let level_changed = flag.level != computed.level;
            let changed = !fresh.is_empty()
                || level_changed
                || flag.score != computed.score
                || flag.rules != computed.rules
                || flag.reasons != computed.reasons
                || flag.covered != computed.covered
                || flag.person_ids != computed.person_ids
                || flag.version != rules.version;
            if !changed {
                continue;
            }
            summary.updated += 1;
            if !fresh.is_empty() {
                history_rows.push(history_row(
                    flag.flag_id,
                    as_of,
                    "evidence_added",
                    None,
                    None,
                    None,
                    None,
                    Some(computed.level),
                    "lifeline flag",
                    Some(format!("新增证据 {} 条", fresh.len())),
                ));
            }
            let mut new_due = None;
            if level_changed {
                summary.level_changed += 1;
                history_rows.push(history_row(
                    flag.flag_id,
                    as_of,
                    "level_changed",
                    None,
                    None,
                    None,
                    None,
                    Some(computed.level),
                    "lifeline flag",
                    Some(format!(
                        "{} → {}（评分 {} → {}）",
                        flag.level.as_str(),
                        computed.level.as_str(),
                        flag.score,
                        computed.score
                    )),
                ));
                let due = due_date(rules, computed.level, as_of).to_string();
                if computed.level < flag.level && due < flag.due_date {
                    new_due = Some(due);
                }
            }
            for (record, rule, person, _) in &fresh {
                evidence_rows.push(vec![
                    Cell::Int(flag.flag_id),
                    Cell::Int(*record),
                    Cell::from(rule.as_str()),
                    Cell::from(person.clone()),
                    Cell::from(today.as_str()),
                ]);
            }
            summary.evidence_added += fresh.len();
            updates.push((flag.flag_id, computed, new_due, false));
        } else {
            let closed_on = flag.closed_on.as_deref().unwrap_or("");
            let after_closing = fresh
                .iter()
                .filter(|(_, _, _, dated)| {
                    dated
                        .as_deref()
                        .is_some_and(|d| d.get(..10).unwrap_or(d) > closed_on)
                })
                .count();
            if after_closing == 0 {
                continue;
            }
            summary.reopened += 1;
            history_rows.push(history_row(
                flag.flag_id,
                as_of,
                "reopened",
                Some(flag.status.as_str()),
                Some(Status::New.as_str()),
                None,
                None,
                Some(computed.level),
                "lifeline flag",
                Some(format!("{closed_on} 办结后出现新证据 {after_closing} 条")),
            ));
            for (record, rule, person, _) in &fresh {
                evidence_rows.push(vec![
                    Cell::Int(flag.flag_id),
                    Cell::Int(*record),
                    Cell::from(rule.as_str()),
                    Cell::from(person.clone()),
                    Cell::from(today.as_str()),
                ]);
            }
            summary.evidence_added += fresh.len();
            let due = due_date(rules, computed.level, as_of).to_string();
            updates.push((flag.flag_id, computed, Some(due), true));
        }
    }
    summary.opened = new_flags.len();
    let backend = registry.backend();
    let mut tx = registry.pool().begin().await?;
    if !new_flags.is_empty() {
        let (rows, computed): (Vec<Vec<Cell>>, Vec<Computed>) = new_flags.into_iter().unzip();
        let by_household: HashMap<&str, &Computed> = assessments
            .iter()
            .zip(&computed)
            .filter(|(a, _)| {
                !existing.contains_key(&view.households[a.household as usize].household_id)
            })
            .map(|(a, c)| {
                (
                    view.households[a.household as usize].household_id.as_str(),
                    c,
                )
            })
            .collect();
        let returned = insert_rows(
            &mut tx,
            backend,
            "risk_flags",
            FLAG_COLUMNS,
            rows,
            Some("flag_id, household_id, level, responsible_unit"),
        )
        .await?;
        for row in returned {
            let flag_id: i64 = row.try_get(0)?;
            let household_id: String = row.try_get(1)?;
            let level: String = row.try_get(2)?;
            let unit: String = row.try_get(3)?;
            history_rows.push(history_row(
                flag_id,
                as_of,
                "opened",
                None,
                Some(Status::New.as_str()),
                None,
                Some(&unit),
                Level::parse(&level),
                "lifeline flag",
                None,
            ));
            if let Some(computed) = by_household.get(household_id.as_str()) {
                summary.evidence_added += computed.evidence.len();
                for (record, rule, person, _) in &computed.evidence {
                    evidence_rows.push(vec![
                        Cell::Int(flag_id),
                        Cell::Int(*record),
                        Cell::from(rule.as_str()),
                        Cell::from(person.clone()),
                        Cell::from(today.as_str()),
                    ]);
                }
            }
        }
    }
    for (flag_id, computed, due, reopen) in &updates {
        let sql = if *reopen {
            "UPDATE risk_flags SET level = $1, level_rank = $2, score = $3, rules = $4, \
             reasons = $5, reasons_json = $6, covered = $7, person_ids = $8, \
             rule_set_version = $9, updated_at = $10, due_date = COALESCE($11, due_date), \
             status = 'new', opened_on = $12, closed_on = NULL, dismiss_reason = NULL \
             WHERE flag_id = $13"
        } else {
            "UPDATE risk_flags SET level = $1, level_rank = $2, score = $3, rules = $4, \
             reasons = $5, reasons_json = $6, covered = $7, person_ids = $8, \
             rule_set_version = $9, updated_at = $10, due_date = COALESCE($11, due_date), \
             opened_on = COALESCE($12, opened_on) WHERE flag_id = $13"
        };
        sqlx::query(sql)
            .bind(computed.level.as_str())
            .bind(computed.level.rank())
            .bind(computed.score)
            .bind(computed.rules.as_str())
            .bind(computed.reasons.as_str())
            .bind(computed.reasons_json.as_str())
            .bind(i64::from(computed.covered))
            .bind(computed.person_ids.as_str())
            .bind(rules.version.as_str())
            .bind(timestamp.as_str())
            .bind(due.clone())
            .bind(reopen.then(|| today.clone()))
            .bind(*flag_id)
            .execute(&mut *tx)
            .await?;
    }
    insert_rows(
        &mut tx,
        backend,
        "risk_evidence",
        EVIDENCE_COLUMNS,
        evidence_rows,
        None,
    )
    .await?;
    insert_rows(
        &mut tx,
        backend,
        "case_history",
        HISTORY_COLUMNS,
        history_rows,
        None,
    )
    .await?;
    tx.commit().await?;
    summary.write_seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
