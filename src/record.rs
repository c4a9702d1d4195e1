//! The canonical record: one accepted source row, what it reports (the event) and who it names
//! (the subject and related persons), with the lineage back to the file, sheet and row.

use chrono::NaiveDate;
use serde::Serialize;

use crate::normalize::addresses::Address;
use crate::normalize::gender::Gender;
use crate::normalize::id_number::IdNumber;
use crate::normalize::names::PersonName;

/// Where a record came from: enough to open the file and find the row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lineage {
    /// Registry id of the ingested file (its receipt).
    pub file_id: i64,
    /// File name as dropped.
    pub file_name: String,
    /// Sheet name; empty for CSV.
    pub sheet: String,
    /// Row number as a person sees it in Excel/WPS; for CSV the line number (header line = 1).
    pub row: u32,
}

/// The role a person plays in a row: `subject` or the relation declared by the mapping.
pub const SUBJECT_ROLE: &str = "subject";

/// A person named by a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonMention {
    /// `subject`, or a related role such as `guardian`, `next_of_kin`, `only_child`.
    pub role: String,
    /// Name, normalized with the original kept.
    pub name: Option<PersonName>,
    /// Resident ID number with its status; the raw text is always kept.
    pub id_number: IdNumber,
    /// Gender as stated, else derived from a valid ID number.
    pub gender: Option<Gender>,
    /// Birth date as stated, else derived from a valid ID number.
    pub birth_date: Option<NaiveDate>,
    /// Age as stated in the row.
    pub age: Option<i64>,
    /// Normalized phone number.
    pub phone: Option<String>,
    /// Address split into its levels, with the county's region code when resolved.
    pub address: Address,
    /// The relation in the officer's words (`父亲`, `母亲`, `女儿`), if the row states one.
    pub relation: Option<String>,
}

impl PersonMention {
    /// Whether the mention names anyone at all (a name or an ID number).
    pub fn is_present(&self) -> bool {
        self.name.is_some() || !self.id_number.raw.trim().is_empty()
    }
}

/// One accepted source row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Sheet name; empty for CSV.
    pub sheet: String,
    /// Row number as a person sees it.
    pub row: u32,
    /// Mapping that read the row.
    pub mapping: String,
    /// Department that sent it.
    pub department: String,
    /// What the row reports: `hospital_stay`, `death`, `disaster_damage`…
    pub event_kind: String,
    /// When it happened.
    pub event_date: Option<NaiveDate>,
    /// Amounts (in yuan) and attributes such as diagnosis, damage level, housing grade.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The subject first, then related persons.
    pub persons: Vec<PersonMention>,
}

impl Record {
    /// The row's subject person.
    pub fn subject(&self) -> Option<&PersonMention> {
        self.persons.iter().find(|p| p.role == SUBJECT_ROLE)
    }
}

/// How bad a problem with a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The whole row was rejected.
    Row,
    /// The value was dropped (or kept only as raw text); the row was accepted.
    Value,
}

impl Severity {
    /// Name stored in the registry and exports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Row => "row",
            Severity::Value => "value",
        }
    }
}

/// A problem with one cell (or one row), for the officer to fix and resend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Sheet name; empty for CSV.
    pub sheet: String,
    /// Row number as a person sees it.
    pub row: u32,
    /// The officer's own column name (with its group for two-row headers); empty for the row.
    pub column: String,
    /// The cell as the officer sees it.
    pub value: String,
    /// What is wrong, in plain words.
    pub reason: String,
    /// Whether the row was rejected or only the value.
    pub severity: Severity,
}
