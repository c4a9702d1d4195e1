//! Validated risk rules: [`RuleSet::from_spec`] turns a [`RuleSetSpec`] into types that cannot
//! hold bad values, reporting every problem of the file at once as `file: key: message`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::spec::{CombinationSpec, ConditionSpec, RuleSetSpec, RuleSpec};

/// The default rules shipped with lifeline (`rules/risk.toml`).
pub const BUILT_IN_RULES: &str = include_str!("../../rules/risk.toml");

/// Why a rules file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a rules file.
    #[error("{source_name}: {message}")]
    Syntax {
        /// The file.
        source_name: String,
        /// The parser's message.
        message: String,
    },
    /// The file parsed but says something wrong; every problem, one per line.
    #[error("{}", problems.join("\n"))]
    Invalid {
        /// `file: key: message` lines.
        problems: Vec<String>,
    },
}

/// A flag's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Act first.
    High,
    /// Act soon.
    Medium,
    /// Watch.
    Low,
}

impl Level {
    /// All levels, highest first.
    pub const ALL: [Level; 3] = [Level::High, Level::Medium, Level::Low];

    /// Name stored in the registry.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }

    /// Chinese label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Level::High => "高",
            Level::Medium => "中",
            Level::Low => "低",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// 0 for high, 1 for medium, 2 for low: the order lists use.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// Threshold and time limit of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelRule {
    /// The level.
    pub level: Level,
    /// Lowest score at this level (≥ 1).
    pub min_score: u32,
    /// Days to the due date (≥ 1).
    pub due_days: u32,
}

/// Administrative level of the unit that answers for a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitLevel {
    /// 县(市、区).
    County,
    /// 乡镇(街道).
    Township,
    /// 村(社区).
    Village,
}

/// What makes a household covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Event kind of the roster.
    pub event_kind: String,
    /// Attribute naming the programme.
    pub field: String,
    /// Programmes that count.
    pub values: Vec<String>,
}

/// A comparison of one attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// One of these codes.
    OneOf(Vec<String>),
    /// None of these codes (or no value).
    NoneOf(Vec<String>),
    /// Number ≥.
    AtLeast(f64),
    /// Number ≤.
    AtMost(f64),
    /// Number >.
    Above(f64),
    /// Number <.
    Below(f64),
}

/// A condition on an event's attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Attribute name.
    pub field: String,
    /// How it is compared.
    pub comparison: Comparison,
}

impl Condition {
    /// Whether the attribute value satisfies the condition.
    pub fn holds(&self, value: Option<&serde_json::Value>) -> bool {
        let text = || -> Option<String> {
            match value? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        };
        let number = || -> Option<f64> {
            match value? {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        };
        match &self.comparison {
            Comparison::OneOf(values) => text().is_some_and(|t| values.contains(&t)),
            Comparison::NoneOf(values) => !text().is_some_and(|t| values.contains(&t)),
            Comparison::AtLeast(x) => number().is_some_and(|n| n >= *x),
            Comparison::AtMost(x) => number().is_some_and(|n| n <= *x),
            Comparison::Above(x) => number().is_some_and(|n| n > *x),
            Comparison::Below(x) => number().is_some_and(|n| n < *x),
        }
    }
}

/// One piece of a reason template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text as written.
    Text(String),
    /// The subject's name.
    Name,
    /// The event date.
    Date,
    /// The subject's age at the event.
    Age,
    /// The per-member total.
    Sum,
    /// Number of events (or of rules, in a combination).
    Count,
    /// The sum threshold.
    Threshold,
    /// Titles of the rules combined.
    Rules,
    /// An attribute of the event, shown through its label.
    Attribute(String),
}

/// A parsed reason sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonTemplate {
    /// Its pieces in order.
    pub pieces: Vec<Piece>,
}

impl ReasonTemplate {
    /// Parses `{placeholder}` text; `combination` allows `{rules}`, events allow attributes.
    fn parse(text: &str, combination: bool, has_sum: bool) -> Result<ReasonTemplate, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed \"{{\" in \"{text}\""))?;
            let name = &after[..close];
            let piece = match name {
                "count" => Piece::Count,
                "rules" if combination => Piece::Rules,
                "name" | "date" | "age" if combination => {
                    return Err(format!("{{{name}}} is not available in a combination"));
                }
                "name" => Piece::Name,
                "date" => Piece::Date,
                "age" => Piece::Age,
                "sum" | "threshold" if !has_sum => {
                    return Err(format!("{{{name}}} needs a sum in the rule"));
                }
                "sum" => Piece::Sum,
                "threshold" => Piece::Threshold,
                _ if !combination && is_identifier(name) => Piece::Attribute(name.to_string()),
                _ => return Err(format!("unknown placeholder {{{name}}}")),
            };
            pieces.push(piece);
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(ReasonTemplate { pieces })
    }
}

/// A per-member total threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct SumThreshold {
    /// Attribute summed.
    pub field: String,
    /// Threshold.
    pub at_least: f64,
}

/// A validated rule over a household's events.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskRule {
    /// Identifier.
    pub name: String,
    /// Short label.
    pub title: String,
    /// Plain-language meaning.
    pub description: String,
    /// Event kind looked at.
    pub event_kind: String,
    /// Roles whose households an event counts for (never empty).
    pub households_of: Vec<String>,
    /// Window in months before the evaluation date.
    pub within_months: Option<u32>,
    /// Attribute conditions.
    pub conditions: Vec<Condition>,
    /// Inclusive age range of the subject at the event.
    pub age: Option<(i32, i32)>,
    /// Household roles of the subject (empty: any).
    pub member_roles: Vec<String>,
    /// Per-member total threshold.
    pub sum: Option<SumThreshold>,
    /// Points.
    pub weight: u32,
    /// Reason sentence.
    pub reason: ReasonTemplate,
}

/// A validated rule over other rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    /// Identifier.
    pub name: String,
    /// Short label.
    pub title: String,
    /// Plain-language meaning.
    pub description: String,
    /// How many different rules must fire (≥ 2).
    pub at_least: usize,
    /// Indices into [`RuleSet::rules`] of the rules that count.
    pub of: Vec<usize>,
    /// Points.
    pub weight: u32,
    /// Reason sentence.
    pub reason: ReasonTemplate,
}

/// A validated, versioned set of risk rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// Version stored on every flag.
    pub version: String,
    /// Where the rules came from (a path or `built-in`).
    pub source: String,
    /// Levels, highest first.
    pub levels: Vec<LevelRule>,
    /// Which unit answers for a flag.
    pub unit: UnitLevel,
    /// What makes a household covered.
    pub coverage: Coverage,
    /// Labels of codes, per field.
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Event rules.
    pub rules: Vec<RiskRule>,
    /// Combination rules.
    pub combinations: Vec<Combination>,
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

impl RuleSet {
    /// The rules shipped with lifeline.
    pub fn built_in() -> Result<RuleSet, RulesError> {
        RuleSet::parse(BUILT_IN_RULES, "built-in rules/risk.toml")
    }

    /// Reads and validates a rules file.
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        RuleSet::parse(&text, &path.display().to_string())
    }

    /// Parses and validates rules text; `source_name` prefixes every message.
    pub fn parse(text: &str, source_name: &str) -> Result<RuleSet, RulesError> {
        let spec: RuleSetSpec = toml::from_str(text).map_err(|error| RulesError::Syntax {
            source_name: source_name.to_string(),
            message: error.to_string().trim().replace('\n', " "),
        })?;
        RuleSet::from_spec(&spec, source_name)
    }

    /// Validates a spec: every problem is reported, none stops the others from being found.
    pub fn from_spec(spec: &RuleSetSpec, source_name: &str) -> Result<RuleSet, RulesError> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(format!("{source_name}: {key}: {message}"));
        };
        let version = match spec.version.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => {
                problem(
                    "version",
                    "missing: every flag records its rules' version".into(),
                );
                String::new()
            }
        };
        let mut levels = Vec::new();
        for key in spec.levels.keys() {
            if Level::parse(key).is_none() {
                problem(
                    &format!("levels.{key}"),
                    "unknown level (use high, medium, low)".into(),
                );
            }
        }
        for level in Level::ALL {
            let key = format!("levels.{}", level.as_str());
            let Some(level_spec) = spec.levels.get(level.as_str()) else {
                problem(&key, "missing".into());
                continue;
            };
            let min_score = match level_spec.min_score {
                Some(v) if v >= 1 && v <= u32::MAX as i64 => v as u32,
                Some(v) => {
                    problem(&format!("{key}.min_score"), format!("{v} is not ≥ 1"));
                    continue;
                }
                None => {
                    problem(&format!("{key}.min_score"), "missing".into());
                    continue;
                }
            };
            let due_days = match level_spec.due_days {
                Some(v) if (1..=3650).contains(&v) => v as u32,
                Some(v) => {
                    problem(
                        &format!("{key}.due_days"),
                        format!("{v} is not between 1 and 3650"),
                    );
                    continue;
                }
                None => {
                    problem(&format!("{key}.due_days"), "missing".into());
                    continue;
                }
            };
            levels.push(LevelRule {
                level,
                min_score,
                due_days,
            });
        }
        if levels.len() == Level::ALL.len() {
            for pair in levels.windows(2) {
                if pair[0].min_score <= pair[1].min_score {
                    problem(
                        &format!("levels.{}.min_score", pair[0].level.as_str()),
                        format!(
                            "{} must be above {}'s {}",
                            pair[0].min_score,
                            pair[1].level.as_str(),
                            pair[1].min_score
                        ),
                    );
                }
            }
        }
        let unit = match spec.responsibility.as_ref().and_then(|r| r.unit.as_deref()) {
            None | Some("township") => UnitLevel::Township,
            Some("county") => UnitLevel::County,
            Some("village") => UnitLevel::Village,
            Some(other) => {
                problem(
                    "responsibility.unit",
                    format!("unknown unit \"{other}\" (use county, township, village)"),
                );
                UnitLevel::Township
            }
        };
        let coverage = match &spec.covered {
            None => {
                problem(
                    "covered",
                    "missing: say which roster records make a household covered".into(),
                );
                Coverage {
                    event_kind: String::new(),
                    field: String::new(),
                    values: Vec::new(),
                }
            }
            Some(covered) => {
                let event_kind = covered.event.clone().unwrap_or_else(|| {
                    problem("covered.event", "missing".into());
                    String::new()
                });
                let field = covered.field.clone().unwrap_or_else(|| {
                    problem("covered.field", "missing".into());
                    String::new()
                });
                if covered.values.is_empty() {
                    problem("covered.values", "name at least one programme".into());
                }
                Coverage {
                    event_kind,
                    field,
                    values: covered.values.clone(),
                }
            }
        };
        let mut rules = Vec::new();
        let mut names = BTreeSet::new();
        for (index, rule_spec) in spec.rules.iter().enumerate() {
            let key = match &rule_spec.name {
                Some(name) => format!("rule.{name}"),
                None => format!("rule[{index}]"),
            };
            if let Some(rule) = validate_rule(rule_spec, &key, &mut problem) {
                if !names.insert(rule.name.clone()) {
                    problem(&format!("{key}.name"), "defined twice".into());
                }
                rules.push(rule);
            }
        }
        if spec.rules.is_empty() {
            problem("rule", "no rules: nothing would ever be flagged".into());
        }
        let mut combinations = Vec::new();
        for (index, combination_spec) in spec.combinations.iter().enumerate() {
            let key = match &combination_spec.name {
                Some(name) => format!("combination.{name}"),
                None => format!("combination[{index}]"),
            };
            if let Some(combination) =
                validate_combination(combination_spec, &key, &rules, &mut problem)
            {
                if !names.insert(combination.name.clone()) {
                    problem(&format!("{key}.name"), "defined twice".into());
                }
                combinations.push(combination);
            }
        }
        if !problems.is_empty() {
            return Err(RulesError::Invalid { problems });
        }
        Ok(RuleSet {
            version,
            source: source_name.to_string(),
            levels,
            unit,
            coverage,
            labels: spec.labels.clone(),
            rules,
            combinations,
        })
    }

    /// The level of a score, if it reaches the lowest one.
    pub fn level_of(&self, score: u32) -> Option<Level> {
        self.levels
            .iter()
            .find(|l| score >= l.min_score)
            .map(|l| l.level)
    }

    /// Days to the due date of a flag at `level`.
    pub fn due_days(&self, level: Level) -> u32 {
        self.levels
            .iter()
            .find(|l| l.level == level)
            .map(|l| l.due_days)
            .unwrap_or(7)
    }

    /// The label of a code, or the code itself.
    pub fn label<'a>(&'a self, field: &str, code: &'a str) -> &'a str {
        self.labels
            .get(field)
            .and_then(|labels| labels.get(code))
            .map(String::as_str)
            .unwrap_or(code)
    }

    /// Event kinds the rules and the coverage look at.
    pub fn event_kinds(&self) -> Vec<String> {
        let mut kinds: BTreeSet<String> = self.rules.iter().map(|r| r.event_kind.clone()).collect();
        kinds.insert(self.coverage.event_kind.clone());
        kinds.into_iter().collect()
    }
}

fn required_text(
    value: &Option<String>,
    key: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<String> {
    match value.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(text.to_string()),
        _ => {
            problem(key, "missing".into());
            None
        }
    }
}

fn weight(value: Option<i64>, key: &str, problem: &mut impl FnMut(&str, String)) -> Option<u32> {
    match value {
        Some(w) if (1..=1000).contains(&w) => Some(w as u32),
        Some(w) => {
            problem(key, format!("{w} is not between 1 and 1000"));
            None
        }
        None => {
            problem(key, "missing".into());
            None
        }
    }
}

fn validate_condition(
    spec: &ConditionSpec,
    key: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<Condition> {
    let field = match spec.field.as_deref() {
        Some(f) if is_identifier(f) => f.to_string(),
        Some(f) => {
            problem(
                &format!("{key}.field"),
                format!("\"{f}\" is not a field name"),
            );
            return None;
        }
        None => {
            problem(&format!("{key}.field"), "missing".into());
            return None;
        }
    };
    let mut comparisons = Vec::new();
    if let Some(values) = &spec.one_of {
        comparisons.push(Comparison::OneOf(values.clone()));
    }
    if let Some(values) = &spec.not_in {
        comparisons.push(Comparison::NoneOf(values.clone()));
    }
    if let Some(value) = &spec.equals {
        comparisons.push(Comparison::OneOf(vec![value.clone()]));
    }
    for (value, make) in [
        (spec.at_least, Comparison::AtLeast as fn(f64) -> Comparison),
        (spec.at_most, Comparison::AtMost),
        (spec.above, Comparison::Above),
        (spec.below, Comparison::Below),
    ] {
        if let Some(value) = value {
            if !value.is_finite() {
                problem(key, format!("{value} is not a number"));
                return None;
            }
            comparisons.push(make(value));
        }
    }
    if comparisons.len() != 1 {
        problem(
            key,
            format!(
                "give exactly one of in, not_in, equals, at_least, at_most, above, below (found {})",
                comparisons.len()
            ),
        );
        return None;
    }
    if let Some(Comparison::OneOf(v) | Comparison::NoneOf(v)) = comparisons.first()
        && v.is_empty()
    {
        problem(key, "empty list of values".into());
        return None;
    }
    Some(Condition {
        field,
        comparison: comparisons.remove(0),
    })
}

fn validate_rule(
    spec: &RuleSpec,
    key: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<RiskRule> {
    let name = required_text(&spec.name, &format!("{key}.name"), problem);
    if let Some(name) = &name
        && !is_identifier(name)
    {
        problem(
            &format!("{key}.name"),
            "use letters, digits and _ only".into(),
        );
    }
    let title = required_text(&spec.title, &format!("{key}.title"), problem);
    let description = required_text(&spec.description, &format!("{key}.description"), problem);
    let event_kind = required_text(&spec.event, &format!("{key}.event"), problem);
    let weight = weight(spec.weight, &format!("{key}.weight"), problem);
    let within_months = match spec.within_months {
        None => Some(None),
        Some(m) if (1..=240).contains(&m) => Some(Some(m as u32)),
        Some(m) => {
            problem(
                &format!("{key}.within_months"),
                format!("{m} is not between 1 and 240"),
            );
            None
        }
    };
    let mut conditions = Vec::new();
    let mut conditions_ok = true;
    for (index, condition) in spec.conditions.iter().enumerate() {
        match validate_condition(condition, &format!("{key}.where[{index}]"), problem) {
            Some(c) => conditions.push(c),
            None => conditions_ok = false,
        }
    }
    let age = match &spec.age {
        None => Some(None),
        Some(age) => {
            let min = age.min.unwrap_or(0);
            let max = age.max.unwrap_or(150);
            if !(0..=150).contains(&min) || !(0..=150).contains(&max) || min > max {
                problem(
                    &format!("{key}.age"),
                    format!("{min}–{max} is not an age range within 0–150"),
                );
                None
            } else {
                Some(Some((min as i32, max as i32)))
            }
        }
    };
    let sum = match &spec.sum {
        None => Some(None),
        Some(sum) => {
            let field = sum.field.as_deref().filter(|f| is_identifier(f));
            if field.is_none() {
                problem(
                    &format!("{key}.sum.field"),
                    "missing or not a field name".into(),
                );
            }
            let at_least = sum.at_least.filter(|v| v.is_finite() && *v > 0.0);
            if at_least.is_none() {
                problem(&format!("{key}.sum.at_least"), "missing or not > 0".into());
            }
            match (field, at_least) {
                (Some(field), Some(at_least)) => Some(Some(SumThreshold {
                    field: field.to_string(),
                    at_least,
                })),
                _ => None,
            }
        }
    };
    let has_sum = matches!(sum, Some(Some(_)));
    let reason = match &spec.reason {
        None => {
            problem(&format!("{key}.reason"), "missing".into());
            None
        }
        Some(text) => match ReasonTemplate::parse(text, false, has_sum) {
            Ok(template) => Some(template),
            Err(message) => {
                problem(&format!("{key}.reason"), message);
                None
            }
        },
    };
    let households_of = if spec.households_of.is_empty() {
        vec![crate::record::SUBJECT_ROLE.to_string()]
    } else {
        spec.households_of.clone()
    };
    Some(RiskRule {
        name: name?,
        title: title?,
        description: description?,
        event_kind: event_kind?,
        households_of,
        within_months: within_months?,
        conditions: conditions_ok.then_some(conditions)?,
        age: age?,
        member_roles: spec.member_roles.clone(),
        sum: sum?,
        weight: weight?,
        reason: reason?,
    })
}

fn validate_combination(
    spec: &CombinationSpec,
    key: &str,
    rules: &[RiskRule],
    problem: &mut impl FnMut(&str, String),
) -> Option<Combination> {
    let name = required_text(&spec.name, &format!("{key}.name"), problem);
    let title = required_text(&spec.title, &format!("{key}.title"), problem);
    let description = required_text(&spec.description, &format!("{key}.description"), problem);
    let weight = weight(spec.weight, &format!("{key}.weight"), problem);
    let of: Vec<usize> = if spec.of.is_empty() {
        (0..rules.len()).collect()
    } else {
        let mut of = Vec::new();
        for name in &spec.of {
            match rules.iter().position(|r| &r.name == name) {
                Some(index) => of.push(index),
                None => problem(&format!("{key}.of"), format!("no rule named \"{name}\"")),
            }
        }
        of
    };
    let at_least = match spec.at_least {
        Some(n) if n >= 2 && (n as usize) <= of.len().max(2) => Some(n as usize),
        Some(n) => {
            problem(
                &format!("{key}.at_least"),
                format!("{n} is not between 2 and the {} rules counted", of.len()),
            );
            None
        }
        None => {
            problem(&format!("{key}.at_least"), "missing".into());
            None
        }
    };
    let reason = match &spec.reason {
        None => {
            problem(&format!("{key}.reason"), "missing".into());
            None
        }
        Some(text) => match ReasonTemplate::parse(text, true, false) {
            Ok(template) => Some(template),
            Err(message) => {
                problem(&format!("{key}.reason"), message);
                None
            }
        },
    };
    Some(Combination {
        name: name?,
        title: title?,
        description: description?,
        at_least: at_least?,
        of,
        weight: weight?,
        reason: reason?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_are_valid_and_cover_the_missions_situations() {
        let rules = RuleSet::built_in().expect("valid");
        let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "major_medical",
                "working_age_death",
                "house_collapsed",
                "dangerous_house",
                "dropout",
                "special_family",
                "unemployment"
            ]
        );
        assert_eq!(rules.combinations.len(), 1);
        assert_eq!(rules.level_of(15), Some(Level::Low));
        assert_eq!(rules.level_of(40), Some(Level::Medium));
        assert_eq!(rules.level_of(60), Some(Level::High));
        assert_eq!(rules.level_of(5), None);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_file_and_key() {
        let text = r#"
[levels]
high = { min_score = 10, due_days = 3 }
medium = { min_score = 20, due_days = 0 }
urgent = { min_score = 1, due_days = 1 }

[responsibility]
unit = "province"

[[rule]]
name = "x"
title = "X"
description = "x"
event = "death"
weight = 5
where = [{ field = "a", in = ["b"], at_least = 3 }]
reason = "{sum} {nope-nope}"

[[combination]]
name = "c"
title = "C"
description = "c"
at_least = 1
of = ["y"]
weight = 3
reason = "{name}"
"#;
        let Err(RulesError::Invalid { problems }) = RuleSet::parse(text, "rules/risk.toml") else {
            panic!("expected problems");
        };
        let joined = problems.join("\n");
        for expected in [
            "rules/risk.toml: version: missing",
            "rules/risk.toml: levels.urgent: unknown level",
            "rules/risk.toml: levels.medium.due_days: 0 is not between 1 and 3650",
            "rules/risk.toml: levels.low: missing",
            "rules/risk.toml: responsibility.unit: unknown unit \"province\"",
            "rules/risk.toml: covered: missing",
            "rules/risk.toml: rule.x.where[0]: give exactly one of",
            "rules/risk.toml: rule.x.reason: {sum} needs a sum in the rule",
            "rules/risk.toml: combination.c.of: no rule named \"y\"",
            "rules/risk.toml: combination.c.reason: {name} is not available in a combination",
        ] {
            assert!(joined.contains(expected), "{expected}\nnot in:\n{joined}");
        }
    }

    #[test]
    fn conditions_compare_codes_and_numbers() {
        let condition = Condition {
            field: "house_grade".into(),
            comparison: Comparison::OneOf(vec!["C".into(), "D".into()]),
        };
        assert!(condition.holds(Some(&serde_json::json!("D"))));
        assert!(!condition.holds(Some(&serde_json::json!("B"))));
        assert!(!condition.holds(None));
        let at_least = Condition {
            field: "out_of_pocket".into(),
            comparison: Comparison::AtLeast(50_000.0),
        };
        assert!(at_least.holds(Some(&serde_json::json!(50_000.0))));
        assert!(!at_least.holds(Some(&serde_json::json!(49_999.5))));
    }

    #[test]
    fn reason_templates_parse_placeholders() {
        let template =
            ReasonTemplate::parse("{name}住院自付 {sum} 元（≥{threshold}）", false, true)
                .expect("valid");
        assert_eq!(
            template.pieces,
            vec![
                Piece::Name,
                Piece::Text("住院自付 ".into()),
                Piece::Sum,
                Piece::Text(" 元（≥".into()),
                Piece::Threshold,
                Piece::Text("）".into()),
            ]
        );
    }
}
