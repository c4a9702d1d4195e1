//! Cases: what happens to a flag once raised. A flag moves `new → verifying → assisting →
//! closed`, or is `dismissed` with a reason; it is assigned to an officer, referred to another
//! unit (转介) with the history kept, and reported overdue once its due date has passed while it
//! is still open. Every change is a row of `case_history`.

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use super::RiskError;
use super::flags::{HISTORY_COLUMNS, history_row};
use super::rules::Level;
use crate::registry::write::insert_rows;
use crate::registry::{Registry, now};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Raised, nobody has looked yet.
    New,
    /// Someone is checking the household's situation.
    Verifying,
    /// Help is being given.
    Assisting,
    /// Done.
    Closed,
    /// Not a case, with a reason.
    Dismissed,
}

impl Status {
    /// Every status, in workflow order.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Verifying,
        Status::Assisting,
        Status::Closed,
        Status::Dismissed,
    ];

    /// Name stored in the registry.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Verifying => "verifying",
            Status::Assisting => "assisting",
            Status::Closed => "closed",
            Status::Dismissed => "dismissed",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "新发现",
            Status::Verifying => "核实中",
            Status::Assisting => "救助中",
            Status::Closed => "已办结",
            Status::Dismissed => "已排除",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether someone still has to act.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Dismissed)
    }

    /// Whether a case may move from `self` to `to` by hand. Help may start before verification
    /// ends (急难 cases are helped first); closed and dismissed cases reopen only on new evidence.
    pub fn can_move_to(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::New, Status::Verifying)
                | (Status::New, Status::Assisting)
                | (Status::New, Status::Dismissed)
                | (Status::Verifying, Status::Assisting)
                | (Status::Verifying, Status::Closed)
                | (Status::Verifying, Status::Dismissed)
                | (Status::Assisting, Status::Closed)
        )
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(text: &str) -> Result<Status, String> {
        Status::parse(text).ok_or_else(|| {
            format!("unknown status \"{text}\" (use new, verifying, assisting, closed, dismissed)")
        })
    }
}

/// A flag as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    /// Flag id.
    pub flag_id: i64,
    /// Household.
    pub household_id: String,
    /// Level.
    pub level: String,
    /// Score.
    pub score: i64,
    /// Whether a programme covers the household.
    pub covered: bool,
    /// Reasons, `；`-separated.
    pub reasons: String,
    /// Responsible unit.
    pub responsible_unit: String,
    /// Officer assigned.
    pub assignee: Option<String>,
    /// Status.
    pub status: String,
    /// Evaluation date that opened it.
    pub opened_on: String,
    /// Due date.
    pub due_date: String,
    /// Open past its due date.
    pub overdue: bool,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only units whose name starts with this (a county lists its townships).
    pub unit: Option<String>,
    /// Only open cases past their due date on this day.
    pub overdue_on: Option<NaiveDate>,
    /// Only households no programme covers.
    pub uncovered: bool,
    /// Only open cases.
    pub open: bool,
}

/// A piece of evidence with its lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRow {
    /// Rule it proves.
    pub rule: String,
    /// Record id.
    pub record_id: i64,
    /// Event kind.
    pub event_kind: String,
    /// Event date.
    pub event_date: Option<String>,
    /// Member concerned.
    pub person_id: Option<String>,
    /// File name.
    pub file: String,
    /// Sheet.
    pub sheet: String,
    /// Row.
    pub row: i64,
    /// Department.
    pub department: String,
    /// Attributes as JSON.
    pub attributes: String,
    /// When the evidence was attached.
    pub added_on: String,
}

/// One change of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// Business date.
    pub on_date: String,
    /// Wall-clock time.
    pub at: String,
    /// What happened.
    pub action: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: Option<String>,
    /// Unit before.
    pub from_unit: Option<String>,
    /// Unit after.
    pub to_unit: Option<String>,
    /// Level.
    pub level: Option<String>,
    /// Who.
    pub actor: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// Everything about one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseDetail {
    /// The flag.
    pub summary: CaseSummary,
    /// Rules that fired, as JSON (`[{rule, title, reason, weight}]`).
    pub reasons_json: String,
    /// Members concerned, `;`-separated.
    pub person_ids: String,
    /// Region code, county, township, village.
    pub place: [Option<String>; 4],
    /// Rule-set version.
    pub rule_set_version: String,
    /// Closing date.
    pub closed_on: Option<String>,
    /// Why it was dismissed.
    pub dismiss_reason: Option<String>,
    /// Evidence with lineage.
    pub evidence: Vec<EvidenceRow>,
    /// History, oldest first.
    pub history: Vec<HistoryRow>,
}

const SUMMARY_COLUMNS: &str = "flag_id, household_id, level, score, covered, reasons, \
     responsible_unit, assignee, status, opened_on, due_date";

fn summary_from(row: &sqlx::any::AnyRow, today: NaiveDate) -> Result<CaseSummary, sqlx::Error> {
    let status: String = row.try_get(8)?;
    let due_date: String = row.try_get(10)?;
    let open = Status::parse(&status).is_some_and(Status::is_open);
    Ok(CaseSummary {
        flag_id: row.try_get(0)?,
        household_id: row.try_get(1)?,
        level: row.try_get(2)?,
        score: row.try_get(3)?,
        covered: row.try_get::<i64, _>(4)? != 0,
        reasons: row.try_get(5)?,
        responsible_unit: row.try_get(6)?,
        assignee: row.try_get(7)?,
        overdue: open && due_date.as_str() < today.to_string().as_str(),
        status,
        opened_on: row.try_get(9)?,
        due_date,
    })
}

/// Cases matching `filter`, uncovered households first, then by level, score and due date.
pub async fn list_cases(
    registry: &Registry,
    filter: &CaseFilter,
    today: NaiveDate,
) -> Result<Vec<CaseSummary>, RiskError> {
    let mut clauses = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    if let Some(status) = filter.status {
        binds.push(status.as_str().to_string());
        clauses.push(format!("status = ${}", binds.len()));
    }
    if let Some(unit) = &filter.unit {
        binds.push(format!("{unit}%"));
        clauses.push(format!("responsible_unit LIKE ${}", binds.len()));
    }
    if filter.open || filter.overdue_on.is_some() {
        clauses.push("status NOT IN ('closed', 'dismissed')".into());
    }
    if let Some(day) = filter.overdue_on {
        binds.push(day.to_string());
        clauses.push(format!("due_date < ${}", binds.len()));
    }
    if filter.uncovered {
        clauses.push("covered = 0".into());
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", clauses.join(" AND "))
    };
    // clauses are constants of this function; values are bound
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM risk_flags {filter_sql}\
         ORDER BY covered, level_rank, score DESC, due_date, flag_id"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let mut rows = query.fetch(registry.pool());
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        out.push(summary_from(&row, today)?);
    }
    Ok(out)
}

/// One case with its evidence (file, sheet, row) and history.
pub async fn show_case(
    registry: &Registry,
    flag_id: i64,
    today: NaiveDate,
) -> Result<CaseDetail, RiskError> {
    let pool = registry.pool();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS}, reasons_json, person_ids, region_code, county, township, \
         village, rule_set_version, closed_on, dismiss_reason FROM risk_flags WHERE flag_id = $1"
    )))
    .bind(flag_id)
    .fetch_optional(pool)
    .await?
    .ok_or(RiskError::NoSuchFlag(flag_id))?;
    let summary = summary_from(&row, today)?;
    let mut evidence = Vec::new();
    let mut rows = sqlx::query(
        "SELECT e.rule, e.record_id, r.event_kind, r.event_date, e.person_id, f.file_name, \
         r.sheet, r.row_number, r.department, r.attributes, e.added_on \
         FROM risk_evidence e JOIN records r ON r.id = e.record_id \
         JOIN files f ON f.id = r.file_id WHERE e.flag_id = $1 ORDER BY e.rule, r.event_date, r.id",
    )
    .bind(flag_id)
    .fetch(pool);
    while let Some(r) = rows.try_next().await? {
        evidence.push(EvidenceRow {
            rule: r.try_get(0)?,
            record_id: r.try_get(1)?,
            event_kind: r.try_get(2)?,
            event_date: r.try_get(3)?,
            person_id: r.try_get(4)?,
            file: r.try_get(5)?,
            sheet: r.try_get(6)?,
            row: r.try_get(7)?,
            department: r.try_get(8)?,
            attributes: r.try_get(9)?,
            added_on: r.try_get(10)?,
        });
    }
    drop(rows);
    let history = load_history(registry, flag_id).await?;
    Ok(CaseDetail {
        summary,
        reasons_json: row.try_get(11)?,
        person_ids: row.try_get(12)?,
        place: [
            row.try_get(13)?,
            row.try_get(14)?,
            row.try_get(15)?,
            row.try_get(16)?,
        ],
        rule_set_version: row.try_get(17)?,
        closed_on: row.try_get(18)?,
        dismiss_reason: row.try_get(19)?,
        evidence,
        history,
    })
}

async fn load_history(registry: &Registry, flag_id: i64) -> Result<Vec<HistoryRow>, RiskError> {
    let mut history = Vec::new();
    let mut rows = sqlx::query(
        "SELECT on_date, at, action, from_status, to_status, from_unit, to_unit, level, actor, \
         note FROM case_history WHERE flag_id = $1 ORDER BY id",
    )
    .bind(flag_id)
    .fetch(registry.pool());
    while let Some(r) = rows.try_next().await? {
        history.push(HistoryRow {
            on_date: r.try_get(0)?,
            at: r.try_get(1)?,
            action: r.try_get(2)?,
            from_status: r.try_get(3)?,
            to_status: r.try_get(4)?,
            from_unit: r.try_get(5)?,
            to_unit: r.try_get(6)?,
            level: r.try_get(7)?,
            actor: r.try_get(8)?,
            note: r.try_get(9)?,
        });
    }
    Ok(history)
}

struct Current {
    status: Status,
    unit: String,
    level: Option<Level>,
}

async fn current(registry: &Registry, flag_id: i64) -> Result<Current, RiskError> {
    let row =
        sqlx::query("SELECT status, responsible_unit, level FROM risk_flags WHERE flag_id = $1")
            .bind(flag_id)
            .fetch_optional(registry.pool())
            .await?
            .ok_or(RiskError::NoSuchFlag(flag_id))?;
    let status: String = row.try_get(0)?;
    let level: String = row.try_get(2)?;
    Ok(Current {
        status: Status::parse(&status).unwrap_or(Status::New),
        unit: row.try_get(1)?,
        level: Level::parse(&level),
    })
}

/// Applies a case action read against `seen`: the update holds only if the case still has the
/// status and unit it had when the action was checked, so that two officers acting at once
/// (two API calls, a caseworker and the nightly flag run) cannot both move it from the same
/// state; the later one is refused and must look again.
async fn record(
    registry: &Registry,
    update_sql: &'static str,
    update_binds: Vec<Option<String>>,
    flag_id: i64,
    seen: &Current,
    history: Vec<crate::registry::write::Cell>,
) -> Result<(), RiskError> {
    let mut tx = registry.pool().begin().await?;
    let n = update_binds.len();
    let guarded = format!(
        "{update_sql} AND status = ${} AND responsible_unit = ${}",
        n + 2,
        n + 3
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(guarded));
    for bind in update_binds {
        query = query.bind(bind);
    }
    let done = query
        .bind(flag_id)
        .bind(seen.status.as_str())
        .bind(seen.unit.clone())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(RiskError::Changed(flag_id));
    }
    insert_rows(
        &mut tx,
        registry.backend(),
        "case_history",
        HISTORY_COLUMNS,
        vec![history],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assigns an open case to an officer of its unit.
pub async fn assign_case(
    registry: &Registry,
    flag_id: i64,
    assignee: &str,
    actor: &str,
    on: NaiveDate,
) -> Result<(), RiskError> {
    let case = current(registry, flag_id).await?;
    if !case.status.is_open() {
        return Err(RiskError::Closed(flag_id, case.status.as_str()));
    }
    record(
        registry,
        "UPDATE risk_flags SET assignee = $1, updated_at = $2 WHERE flag_id = $3",
        vec![Some(assignee.to_string()), Some(now())],
        flag_id,
        &case,
        history_row(
            flag_id,
            on,
            "assigned",
            None,
            None,
            Some(&case.unit),
            Some(&case.unit),
            case.level,
            actor,
            Some(format!("指派给 {assignee}")),
        ),
    )
    .await
}

/// Refers an open case to another unit (转介): the unit changes, the assignee is cleared and
/// the history keeps where it came from and why.
pub async fn refer_case(
    registry: &Registry,
    flag_id: i64,
    to_unit: &str,
    note: Option<&str>,
    actor: &str,
    on: NaiveDate,
) -> Result<(), RiskError> {
    let case = current(registry, flag_id).await?;
    if !case.status.is_open() {
        return Err(RiskError::Closed(flag_id, case.status.as_str()));
    }
    if to_unit.trim().is_empty() {
        return Err(RiskError::Invalid("the unit to refer to is empty".into()));
    }
    record(
        registry,
        "UPDATE risk_flags SET responsible_unit = $1, assignee = NULL, updated_at = $2 \
         WHERE flag_id = $3",
        vec![Some(to_unit.trim().to_string()), Some(now())],
        flag_id,
        &case,
        history_row(
            flag_id,
            on,
            "referred",
            None,
            None,
            Some(&case.unit),
            Some(to_unit.trim()),
            case.level,
            actor,
            note.map(str::to_string),
        ),
    )
    .await
}

/// Moves a case to another status; `dismissed` needs a reason.
pub async fn transition_case(
    registry: &Registry,
    flag_id: i64,
    to: Status,
    note: Option<&str>,
    actor: &str,
    on: NaiveDate,
) -> Result<(), RiskError> {
    let case = current(registry, flag_id).await?;
    if !case.status.can_move_to(to) {
        return Err(RiskError::Transition {
            flag_id,
            from: case.status.as_str(),
            to: to.as_str(),
        });
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if to == Status::Dismissed && note.is_none() {
        return Err(RiskError::Invalid(
            "dismissing a case needs a reason (--note)".into(),
        ));
    }
    let closing = !to.is_open();
    record(
        registry,
        "UPDATE risk_flags SET status = $1, closed_on = $2, dismiss_reason = $3, updated_at = $4 \
         WHERE flag_id = $5",
        vec![
            Some(to.as_str().to_string()),
            closing.then(|| on.to_string()),
            (to == Status::Dismissed)
                .then(|| note.map(str::to_string))
                .flatten(),
            Some(now()),
        ],
        flag_id,
        &case,
        history_row(
            flag_id,
            on,
            "transition",
            Some(case.status.as_str()),
            Some(to.as_str()),
            None,
            None,
            case.level,
            actor,
            note.map(str::to_string),
        ),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_moves_forward_and_dismissal_needs_an_open_case() {
        assert!(Status::New.can_move_to(Status::Verifying));
        assert!(Status::Verifying.can_move_to(Status::Assisting));
        assert!(Status::Assisting.can_move_to(Status::Closed));
        assert!(Status::New.can_move_to(Status::Dismissed));
        assert!(!Status::Closed.can_move_to(Status::New));
        assert!(!Status::Dismissed.can_move_to(Status::Verifying));
        assert!(!Status::Assisting.can_move_to(Status::New));
        assert!(!Status::Assisting.can_move_to(Status::Dismissed));
    }
}
