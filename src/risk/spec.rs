//! The rules file as written (`rules/risk.toml`): plain serde structs, every field optional so
//! that validation ([`super::rules`]) can report every missing or wrong key at once.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole rules file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetSpec {
    /// Version recorded on every flag computed with these rules.
    pub version: Option<String>,
    /// Score thresholds and due days per level (`high`, `medium`, `low`).
    #[serde(default)]
    pub levels: BTreeMap<String, LevelSpec>,
    /// Which unit answers for a flag.
    pub responsibility: Option<ResponsibilitySpec>,
    /// What makes a household covered by an assistance programme.
    pub covered: Option<CoveredSpec>,
    /// Words shown for codes in reasons, per attribute field.
    #[serde(default)]
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
    /// The rules over a household's events.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
    /// Rules over the other rules that fired (several hardships at once).
    #[serde(default, rename = "combination")]
    pub combinations: Vec<CombinationSpec>,
}

/// One level's threshold and time limit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// Lowest score at this level.
    pub min_score: Option<i64>,
    /// Days from the evaluation to the flag's due date.
    pub due_days: Option<i64>,
}

/// Which unit answers for a flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsibilitySpec {
    /// `county`, `township` or `village`.
    pub unit: Option<String>,
}

/// Coverage by civil affairs' roster.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoveredSpec {
    /// Event kind of the roster's records.
    pub event: Option<String>,
    /// Attribute holding the programme.
    pub field: Option<String>,
    /// Programmes that count as covered.
    #[serde(default)]
    pub values: Vec<String>,
}

/// One rule over a household's events.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Identifier.
    pub name: Option<String>,
    /// Short label.
    pub title: Option<String>,
    /// Plain-language meaning.
    pub description: Option<String>,
    /// Event kind.
    pub event: Option<String>,
    /// Roles whose households the event counts for.
    #[serde(default)]
    pub households_of: Vec<String>,
    /// Time window in months before the evaluation date.
    pub within_months: Option<i64>,
    /// Field comparisons, all must hold.
    #[serde(default, rename = "where")]
    pub conditions: Vec<ConditionSpec>,
    /// Age range of the subject at the event date.
    pub age: Option<AgeSpec>,
    /// Household roles of the subject.
    #[serde(default)]
    pub member_roles: Vec<String>,
    /// Total of a field per member.
    pub sum: Option<SumSpec>,
    /// Points.
    pub weight: Option<i64>,
    /// Reason template.
    pub reason: Option<String>,
}

/// A comparison of one attribute; exactly one comparison key must be given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// Attribute name.
    pub field: Option<String>,
    /// The value is one of these codes.
    #[serde(rename = "in")]
    pub one_of: Option<Vec<String>>,
    /// The value is none of these codes (a missing value passes).
    pub not_in: Option<Vec<String>>,
    /// The value is this code.
    pub equals: Option<String>,
    /// Number ≥.
    pub at_least: Option<f64>,
    /// Number ≤.
    pub at_most: Option<f64>,
    /// Number >.
    pub above: Option<f64>,
    /// Number <.
    pub below: Option<f64>,
}

/// An inclusive age range in full years.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeSpec {
    /// Youngest age.
    pub min: Option<i64>,
    /// Oldest age.
    pub max: Option<i64>,
}

/// A per-member total threshold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SumSpec {
    /// Attribute summed (a money or number field).
    pub field: Option<String>,
    /// Threshold.
    pub at_least: Option<f64>,
}

/// A rule over the other rules that fired.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinationSpec {
    /// Identifier.
    pub name: Option<String>,
    /// Short label.
    pub title: Option<String>,
    /// Plain-language meaning.
    pub description: Option<String>,
    /// How many different rules must have fired.
    pub at_least: Option<i64>,
    /// Which rules count (default: all).
    #[serde(default)]
    pub of: Vec<String>,
    /// Points.
    pub weight: Option<i64>,
    /// Reason template; `{count}` and `{rules}` are available.
    pub reason: Option<String>,
}
