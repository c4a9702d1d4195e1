//! What the API answers: households, persons, flags and cases as downstream systems read them,
//! each read from the registry in a few queries and masked as a whole for a masked key
//! ([`Masking`]): a view is built unmasked once and masked in one place, so that no field can
//! be forgotten on one endpoint and masked on another.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::keys::RegionCode;
use super::masking::{mask_birth_date, mask_id_number, mask_name, mask_phone};
use crate::registry::{Registry, RegistryError};

/// Masks a view for a masked key.
pub trait Masking {
    /// The view with names, ID numbers and phones masked and free text, amounts, diagnoses
    /// and addresses removed.
    fn masked(self) -> Self;
}

/// A household in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    /// Stable household ID (`H000123`).
    pub household_id: String,
    /// GB/T 2260 code of its place (village when known).
    pub region_code: Option<String>,
    /// Township.
    pub township: Option<String>,
    /// Village.
    pub village: Option<String>,
    /// Address as recorded (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Number of members.
    pub members: i64,
    /// Head of household (person ID).
    pub head_person_id: Option<String>,
    /// Head's name (masked for masked keys).
    pub head_name: Option<String>,
    /// The household's flag, if it is at risk.
    pub flag: Option<FlagSummary>,
}

/// A flag in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagSummary {
    /// Flag (and case) ID.
    pub flag_id: i64,
    /// `high`, `medium` or `low`.
    pub level: String,
    /// Points of the rules that fired.
    pub score: i64,
    /// Whether a programme (低保, 特困) already covers the household.
    pub covered: bool,
    /// Case status.
    pub status: String,
    /// Unit responsible (county/township/village).
    pub responsible_unit: String,
    /// When the case must be handled by.
    pub due_date: String,
    /// Open past its due date.
    pub overdue: bool,
    /// When the flag last changed (RFC 3339).
    pub updated_at: String,
}

/// A person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    /// Stable person ID (`P000123`).
    pub person_id: String,
    /// Household.
    pub household_id: String,
    /// Role in the household (`head`, `member`…).
    pub household_role: String,
    /// Name (masked for masked keys).
    pub name: Option<String>,
    /// Resident ID number (first 6 and last 4 for masked keys).
    pub id_number: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Birth date (the year only for masked keys).
    pub birth_date: Option<String>,
    /// Phone (masked for masked keys).
    pub phone: Option<String>,
    /// Address (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Region code.
    pub region_code: Option<String>,
    /// How many source rows name this person.
    pub mentions: i64,
}

/// A rule that fired.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonView {
    /// Rule ID.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// What the evidence says (amounts, diagnoses; not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Points.
    pub weight: Option<i64>,
}

/// A source row proving a flag, with its lineage.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    /// Rule it proves.
    pub rule: String,
    /// Registry record ID.
    pub record_id: i64,
    /// Member concerned.
    pub person_id: Option<String>,
    /// Department that sent it.
    pub department: String,
    /// Event kind (`hospital_stay`, `death`…).
    pub event_kind: String,
    /// Event date.
    pub event_date: Option<String>,
    /// File it came from (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Sheet.
    pub sheet: String,
    /// Row number in the sheet.
    pub row: i64,
    /// The event's attributes: amounts, diagnosis… (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub attributes: Option<Value>,
    /// When it was attached.
    pub added_on: String,
}

/// A flag with its rules and evidence.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagDetail {
    /// The flag.
    #[serde(flatten)]
    pub summary: FlagSummary,
    /// Version of the rule set that raised or last updated it.
    pub rule_set_version: String,
    /// When it was opened.
    pub opened_on: String,
    /// Rules that fired.
    pub reasons: Vec<ReasonView>,
    /// Source rows, with lineage to file, sheet and row.
    pub evidence: Vec<EvidenceView>,
}

/// One change of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    /// Business date.
    pub on_date: String,
    /// Time (RFC 3339).
    pub at: String,
    /// `opened`, `assigned`, `referred`, `transition`…
    pub action: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: Option<String>,
    /// Unit before.
    pub from_unit: Option<String>,
    /// Unit after.
    pub to_unit: Option<String>,
    /// Who (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Note (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The case a flag opened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Case (flag) ID.
    pub case_id: i64,
    /// Status.
    pub status: String,
    /// Unit responsible.
    pub responsible_unit: String,
    /// Officer assigned (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Due date.
    pub due_date: String,
    /// Open past its due date.
    pub overdue: bool,
    /// Closing date.
    pub closed_on: Option<String>,
    /// Who first took it up (首问负责): the actor of its first action after opening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_responder: Option<String>,
    /// Every change, oldest first.
    pub history: Vec<HistoryView>,
}

/// A household with its members, flag and case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdDetail {
    /// The household.
    pub household: HouseholdSummary,
    /// Its members.
    pub members: Vec<PersonView>,
    /// Its flag, with rules and evidence.
    pub flag: Option<FlagDetail>,
    /// Its case.
    pub case: Option<CaseView>,
}

/// A source row naming a person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MentionView {
    /// Registry mention ID.
    pub mention_id: i64,
    /// File (not for masked keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Sheet.
    pub sheet: String,
    /// Row.
    pub row: i64,
    /// Role of the person in the row (`subject`, `guardian`…).
    pub role: String,
    /// Department.
    pub department: Option<String>,
    /// Event kind.
    pub event_kind: Option<String>,
    /// Event date.
    pub event_date: Option<String>,
}

/// A merge or split that concerns a person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    /// When.
    pub changed_at: String,
    /// `merge`, `split`…
    pub kind: String,
    /// The person changed.
    pub subject_id: String,
    /// The other person.
    pub other_id: Option<String>,
}

/// A person with the rows that name them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonDetail {
    /// The person.
    pub person: PersonView,
    /// Source rows, with lineage.
    pub mentions: Vec<MentionView>,
    /// Merges and splits.
    pub identity_changes: Vec<IdentityView>,
}

impl Masking for PersonView {
    fn masked(mut self) -> PersonView {
        self.name = self.name.as_deref().map(mask_name);
        self.id_number = self.id_number.as_deref().map(mask_id_number);
        self.phone = self.phone.as_deref().map(mask_phone);
        self.birth_date = self.birth_date.as_deref().map(mask_birth_date);
        self.address = None;
        self
    }
}

impl Masking for HouseholdSummary {
    fn masked(mut self) -> HouseholdSummary {
        self.address = None;
        self.head_name = self.head_name.as_deref().map(mask_name);
        self
    }
}

impl Masking for FlagDetail {
    fn masked(mut self) -> FlagDetail {
        for reason in &mut self.reasons {
            reason.reason = None;
        }
        for evidence in &mut self.evidence {
            evidence.file = None;
            evidence.attributes = None;
        }
        self
    }
}

impl Masking for CaseView {
    fn masked(mut self) -> CaseView {
        self.assignee = None;
        self.first_responder = None;
        for h in &mut self.history {
            h.actor = None;
            h.note = None;
        }
        self
    }
}

impl Masking for HouseholdDetail {
    fn masked(self) -> HouseholdDetail {
        HouseholdDetail {
            household: self.household.masked(),
            members: self.members.into_iter().map(Masking::masked).collect(),
            flag: self.flag.map(Masking::masked),
            case: self.case.map(Masking::masked),
        }
    }
}

impl Masking for PersonDetail {
    fn masked(mut self) -> PersonDetail {
        self.person = self.person.masked();
        for m in &mut self.mentions {
            m.file = None;
        }
        self
    }
}

impl<T: Masking> Masking for Vec<T> {
    fn masked(self) -> Vec<T> {
        self.into_iter().map(Masking::masked).collect()
    }
}

/// Which households a list shows.
#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    /// Under this region (the key's and the query's, the narrower).
    pub region: Option<RegionCode>,
    /// Flag level.
    pub level: Option<String>,
    /// Covered by a programme or not (flagged households only).
    pub covered: Option<bool>,
    /// Case status.
    pub status: Option<String>,
    /// After this household ID.
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

const SUMMARY_SELECT: &str = "SELECT h.household_id, h.region_code, h.township, h.village, \
     h.address, h.members, h.head_person_id, p.name, f.flag_id, f.level, f.score, f.covered, \
     f.status, f.responsible_unit, f.due_date, f.updated_at \
     FROM households h LEFT JOIN persons p ON p.person_id = h.head_person_id \
     LEFT JOIN risk_flags f ON f.household_id = h.household_id";

fn overdue(status: &str, due_date: &str, today: NaiveDate) -> bool {
    let open = !matches!(status, "closed" | "dismissed");
    open && due_date < today.to_string().as_str()
}

fn summary_from(
    row: &sqlx::any::AnyRow,
    today: NaiveDate,
) -> Result<HouseholdSummary, sqlx::Error> {
    let flag_id: Option<i64> = row.try_get(8)?;
    let flag = match flag_id {
        Some(flag_id) => {
            let status: String = row.try_get(12)?;
            let due_date: String = row.try_get(14)?;
            Some(FlagSummary {
                flag_id,
                level: row.try_get(9)?,
                score: row.try_get(10)?,
                covered: row.try_get::<i64, _>(11)? != 0,
                overdue: overdue(&status, &due_date, today),
                status,
                responsible_unit: row.try_get(13)?,
                due_date,
                updated_at: row.try_get(15)?,
            })
        }
        None => None,
    };
    Ok(HouseholdSummary {
        household_id: row.try_get(0)?,
        region_code: row.try_get(1)?,
        township: row.try_get(2)?,
        village: row.try_get(3)?,
        address: row.try_get(4)?,
        members: row.try_get(5)?,
        head_person_id: row.try_get(6)?,
        head_name: row.try_get(7)?,
        flag,
    })
}

/// Households matching `filter`, by ID, one more than `filter.limit` when there are more.
pub async fn list_households(
    registry: &Registry,
    filter: &HouseholdFilter,
    today: NaiveDate,
) -> Result<Vec<HouseholdSummary>, RegistryError> {
    let mut clauses = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    if let Some(after) = &filter.after {
        binds.push(after.clone());
        clauses.push(format!("h.household_id > ${}", binds.len()));
    }
    if let Some(region) = &filter.region {
        binds.push(format!("{}%", region.as_str()));
        clauses.push(format!("h.region_code LIKE ${}", binds.len()));
    }
    if let Some(level) = &filter.level {
        binds.push(level.clone());
        clauses.push(format!("f.level = ${}", binds.len()));
    }
    if let Some(status) = &filter.status {
        binds.push(status.clone());
        clauses.push(format!("f.status = ${}", binds.len()));
    }
    if let Some(covered) = filter.covered {
        // constants, not input
        clauses.push(format!("f.covered = {}", i64::from(covered)));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "{SUMMARY_SELECT}{filter_sql} ORDER BY h.household_id LIMIT {}",
        filter.limit + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(registry.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| summary_from(r, today))
        .collect::<Result<_, _>>()?)
}

const PERSON_COLUMNS: &str = "person_id, household_id, household_role, name, id_number, gender, \
     birth_date, phone, address, region_code, mentions";

fn person_from(row: &sqlx::any::AnyRow) -> Result<PersonView, sqlx::Error> {
    person_at(row, 0)
}

/// The person whose `PERSON_COLUMNS` start at column `at`.
fn person_at(row: &sqlx::any::AnyRow, at: usize) -> Result<PersonView, sqlx::Error> {
    Ok(PersonView {
        person_id: row.try_get(at)?,
        household_id: row.try_get(at + 1)?,
        household_role: row.try_get(at + 2)?,
        name: row.try_get(at + 3)?,
        id_number: row.try_get(at + 4)?,
        gender: row.try_get(at + 5)?,
        birth_date: row.try_get(at + 6)?,
        phone: row.try_get(at + 7)?,
        address: row.try_get(at + 8)?,
        region_code: row.try_get(at + 9)?,
        mentions: row.try_get(at + 10)?,
    })
}

/// The columns of `SUMMARY_SELECT`: a household's members follow them in
/// `household_detail`'s one query.
const SUMMARY_COLUMNS: usize = 16;

/// A household's summary columns, then its members' `PERSON_COLUMNS`, a row per member.
static DETAIL_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let members = PERSON_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} LEFT JOIN persons m ON m.household_id = h.household_id \
         WHERE h.household_id = $1 ORDER BY m.person_id",
        SUMMARY_SELECT.replacen(
            " FROM households h",
            &format!(", {members} FROM households h"),
            1
        )
    )
});

/// One household with its members, flag (rules, evidence) and case, if `region` (when given)
/// contains it.
pub async fn household_detail(
    registry: &Registry,
    household_id: &str,
    region: Option<&RegionCode>,
    today: NaiveDate,
) -> Result<Option<HouseholdDetail>, RegistryError> {
    let pool = registry.pool();
    // the household and its members in one statement: a lookup is mostly waiting on the
    // database's hand-overs, one per statement and row
    let rows = sqlx::query(sqlx::AssertSqlSafe(DETAIL_SELECT.as_str()))
        .bind(household_id)
        .fetch_all(pool)
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let household = summary_from(row, today)?;
    if let Some(region) = region
        && !region.contains(household.region_code.as_deref())
    {
        return Ok(None);
    }
    let mut members = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<String>, _>(SUMMARY_COLUMNS)?.is_some() {
            members.push(person_at(row, SUMMARY_COLUMNS)?);
        }
    }
    let (flag_detail, case) = match &household.flag {
        Some(flag) => {
            let (detail, case) = flag_and_case(registry, flag.clone()).await?;
            (Some(detail), Some(case))
        }
        None => (None, None),
    };
    Ok(Some(HouseholdDetail {
        household,
        members,
        flag: flag_detail,
        case,
    }))
}

async fn flag_and_case(
    registry: &Registry,
    summary: FlagSummary,
) -> Result<(FlagDetail, CaseView), RegistryError> {
    let pool = registry.pool();
    let row = sqlx::query(
        "SELECT reasons_json, rule_set_version, opened_on, assignee, closed_on FROM risk_flags \
         WHERE flag_id = $1",
    )
    .bind(summary.flag_id)
    .fetch_one(pool)
    .await?;
    let reasons_json: String = row.try_get(0)?;
    let reasons = serde_json::from_str::<Vec<Value>>(&reasons_json)
        .unwrap_or_default()
        .into_iter()
        .map(|r| ReasonView {
            rule: r["rule"].as_str().unwrap_or_default().to_string(),
            title: r["title"].as_str().unwrap_or_default().to_string(),
            reason: r["reason"].as_str().map(str::to_string),
            weight: r["weight"].as_i64(),
        })
        .collect();
    let evidence = sqlx::query(
        "SELECT e.rule, e.record_id, e.person_id, r.department, r.event_kind, r.event_date, \
         f.file_name, r.sheet, r.row_number, r.attributes, e.added_on \
         FROM risk_evidence e JOIN records r ON r.id = e.record_id \
         JOIN files f ON f.id = r.file_id WHERE e.flag_id = $1 ORDER BY e.rule, r.event_date, r.id",
    )
    .bind(summary.flag_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let attributes: String = r.try_get(9)?;
        Ok(EvidenceView {
            rule: r.try_get(0)?,
            record_id: r.try_get(1)?,
            person_id: r.try_get(2)?,
            department: r.try_get(3)?,
            event_kind: r.try_get(4)?,
            event_date: r.try_get(5)?,
            file: r.try_get(6)?,
            sheet: r.try_get(7)?,
            row: r.try_get(8)?,
            attributes: serde_json::from_str(&attributes).ok(),
            added_on: r.try_get(10)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let history = sqlx::query(
        "SELECT on_date, at, action, from_status, to_status, from_unit, to_unit, actor, note \
         FROM case_history WHERE flag_id = $1 ORDER BY id",
    )
    .bind(summary.flag_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(HistoryView {
            on_date: r.try_get(0)?,
            at: r.try_get(1)?,
            action: r.try_get(2)?,
            from_status: r.try_get(3)?,
            to_status: r.try_get(4)?,
            from_unit: r.try_get(5)?,
            to_unit: r.try_get(6)?,
            actor: r.try_get(7)?,
            note: r.try_get(8)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let first_responder = history
        .iter()
        .find(|h| h.action != "opened" && h.actor.is_some())
        .and_then(|h| h.actor.clone());
    let case = CaseView {
        case_id: summary.flag_id,
        status: summary.status.clone(),
        responsible_unit: summary.responsible_unit.clone(),
        assignee: row.try_get(3)?,
        due_date: summary.due_date.clone(),
        overdue: summary.overdue,
        closed_on: row.try_get(4)?,
        first_responder,
        history,
    };
    let detail = FlagDetail {
        rule_set_version: row.try_get(1)?,
        opened_on: row.try_get(2)?,
        summary,
        reasons,
        evidence,
    };
    Ok((detail, case))
}

/// One person with the rows naming them, if `region` (when given) contains them.
pub async fn person_detail(
    registry: &Registry,
    person_id: &str,
    region: Option<&RegionCode>,
) -> Result<Option<PersonDetail>, RegistryError> {
    let pool = registry.pool();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE person_id = $1"
    )))
    .bind(person_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let person = person_from(&row)?;
    if let Some(region) = region
        && !region.contains(person.region_code.as_deref())
    {
        return Ok(None);
    }
    let mentions = sqlx::query(
        "SELECT m.id, f.file_name, m.sheet, m.row_number, m.role, r.department, r.event_kind, \
         r.event_date FROM mention_links l JOIN mentions m ON m.id = l.mention_id \
         JOIN files f ON f.id = m.file_id \
         LEFT JOIN records r ON r.file_id = m.file_id AND r.sheet = m.sheet \
         AND r.row_number = m.row_number WHERE l.person_id = $1 ORDER BY m.id",
    )
    .bind(person_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(MentionView {
            mention_id: r.try_get(0)?,
            file: r.try_get(1)?,
            sheet: r.try_get(2)?,
            row: r.try_get(3)?,
            role: r.try_get(4)?,
            department: r.try_get(5)?,
            event_kind: r.try_get(6)?,
            event_date: r.try_get(7)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let identity_changes = sqlx::query(
        "SELECT changed_at, kind, subject_id, other_id FROM identity_changes \
         WHERE subject_id = $1 OR other_id = $1 ORDER BY id",
    )
    .bind(person_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(IdentityView {
            changed_at: r.try_get(0)?,
            kind: r.try_get(1)?,
            subject_id: r.try_get(2)?,
            other_id: r.try_get(3)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(PersonDetail {
        person,
        mentions,
        identity_changes,
    }))
}

/// Persons holding this ID number, under `region` if given.
pub async fn persons_by_id_number(
    registry: &Registry,
    id_number: &str,
    region: Option<&RegionCode>,
) -> Result<Vec<PersonView>, RegistryError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE id_number = $1 ORDER BY person_id"
    )))
    .bind(id_number)
    .fetch_all(registry.pool())
    .await?;
    let persons = rows
        .iter()
        .map(person_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(persons
        .into_iter()
        .filter(|p| region.is_none_or(|r| r.contains(p.region_code.as_deref())))
        .collect())
}

/// Flags changed at or after `since` (RFC 3339 text), after `(updated_at, flag_id)` of the
/// previous page, under `region`; one more than `limit` when there are more.
pub async fn flags_since(
    registry: &Registry,
    since: &str,
    after: Option<(String, i64)>,
    region: Option<&RegionCode>,
    limit: i64,
    today: NaiveDate,
) -> Result<Vec<(FlagSummary, String)>, RegistryError> {
    let mut sql = String::from(
        "SELECT flag_id, level, score, covered, status, responsible_unit, due_date, updated_at, \
         household_id FROM risk_flags WHERE updated_at >= $1",
    );
    let (after_time, after_id) = after.unwrap_or_default();
    sql.push_str(" AND (updated_at > $2 OR (updated_at = $2 AND flag_id > $3))");
    if region.is_some() {
        sql.push_str(" AND region_code LIKE $4");
    }
    sql.push_str(&format!(
        " ORDER BY updated_at, flag_id LIMIT {}",
        limit + 1
    ));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .bind(after_time)
        .bind(after_id);
    if let Some(region) = region {
        query = query.bind(format!("{}%", region.as_str()));
    }
    let rows = query.fetch_all(registry.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let status: String = r.try_get(4)?;
        let due_date: String = r.try_get(6)?;
        out.push((
            FlagSummary {
                flag_id: r.try_get(0)?,
                level: r.try_get(1)?,
                score: r.try_get(2)?,
                covered: r.try_get::<i64, _>(3)? != 0,
                overdue: overdue(&status, &due_date, today),
                status,
                responsible_unit: r.try_get(5)?,
                due_date,
                updated_at: r.try_get(7)?,
            },
            r.try_get(8)?,
        ));
    }
    Ok(out)
}

/// The region code of a flag, `None` when there is no such flag.
pub async fn flag_region(
    registry: &Registry,
    flag_id: i64,
) -> Result<Option<Option<String>>, RegistryError> {
    let row = sqlx::query("SELECT region_code FROM risk_flags WHERE flag_id = $1")
        .bind(flag_id)
        .fetch_optional(registry.pool())
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}
