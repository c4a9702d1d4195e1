//! The linkage configuration file: plain serde structs ([`SpecFile`]) validated into a
//! [`LinkageSpec`] whose fields, blocking rules and comparison levels cannot hold bad values.
//! Every problem in a file is reported at once as `file: key: message`.

use std::path::Path;

use serde::Deserialize;

use super::LinkageError;

/// The kind of a field, which decides how its values are prepared and which levels apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A personal name: traditional folded to simplified, surname-aware pinyin.
    Name,
    /// Free text compared as a string (lower-cased, trimmed).
    Text,
    /// A resident ID number (GB 11643): valid, damaged (18 characters failing the check) or a
    /// 15-digit prefix that survived a floating-point cell.
    IdNumber,
    /// A date (`1990-01-02`, `19900102`, `1990/1/2`, …).
    Date,
    /// Gender (男/女, M/F, 1/2).
    Gender,
    /// A phone number (digits only).
    Phone,
    /// A place: county (region code), township and village, from up to three columns, and the
    /// group (村民组) or street number below the village from a fourth, the address text.
    Place,
    /// An age in full years on the date of the row's event (年龄, 享年), from two columns (age,
    /// event date) and optionally a third (birth date): the birth years it allows. An age says
    /// less than a birth date but tells apart namesakes of one village when nothing else does.
    Age,
    /// The birth years a related person's relation to the row's subject allows (a father is 16
    /// to 60 years older than his child), from three columns: the relation, the subject's birth
    /// date, and the record's own birth date (which, where given, is used instead). Tells a next
    /// of kin known by name only from a namesake of another generation.
    Kinship,
}

/// One field as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Name used by blocking rules and comparisons.
    pub name: String,
    /// What the field holds.
    pub kind: FieldKind,
    /// Input columns (CSV headers, or registry mention columns); default: the field name.
    /// A place takes county, township and village columns in that order, and optionally the
    /// address text (for the 村民组 or street number below the village); an ID number may name
    /// the normalized column then the raw one.
    #[serde(default)]
    pub columns: Vec<String>,
}

/// One blocking rule as written: records agreeing on every key are compared.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingSpec {
    /// Keys: `field` or `field.part` (`name.pinyin`, `name.surname`, `id.prefix`, `date.year`,
    /// `place.township`, `text.first3`…).
    pub keys: Vec<String>,
}

/// One comparison as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonSpec {
    /// The field compared.
    pub field: String,
    /// Ordered levels, most similar first; an "else" level is always added last.
    pub levels: Vec<String>,
    /// Adjust the exact level by how common the value is (a common name counts for less).
    #[serde(default)]
    pub term_frequency: bool,
    /// Pairs reaching only the "else" level are never the same entity (names of one person agree
    /// at least at some level), whatever the other fields say.
    #[serde(default)]
    pub must_agree: bool,
    /// Levels that keep two records out of one entity, however strongly other records chain
    /// them together: `true` for the "else" level (a birth date that is neither the same nor a
    /// typo away), or a list of level names, `"else"` included.
    #[serde(default)]
    pub guard: Option<GuardSpec>,
}

/// The `guard` of a comparison as written.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum GuardSpec {
    /// `true`: the "else" level; `false`: none.
    Else(bool),
    /// The levels named.
    Levels(Vec<String>),
}

/// Model settings as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Pairs with a match weight at or above this are linked (log2 odds, prior included).
    #[serde(default = "default_match_weight")]
    pub match_weight: f64,
    /// Pairs at or above this and below `match_weight` go to the review queue.
    #[serde(default = "default_review_weight")]
    pub review_weight: f64,
    /// Blocks with more records than this are not expanded into pairs (and are reported).
    #[serde(default = "default_max_block")]
    pub max_block: usize,
    /// Random pairs drawn to estimate u (the chance that non-matches agree).
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: usize,
    /// Upper bound on expectation-maximisation iterations for m.
    #[serde(default = "default_em_iterations")]
    pub em_iterations: usize,
    /// Linking two inputs where each record has at most one counterpart in the other.
    #[serde(default)]
    pub one_to_one: bool,
    /// Training sessions (Splink's "blocked" EM): each lists fields whose comparisons are held
    /// at their first level; EM runs on the candidate pairs that agree there and estimates m for
    /// the other comparisons only. Without sessions, one EM runs over all candidates.
    #[serde(default)]
    pub em_sessions: Vec<Vec<String>>,
}

fn default_match_weight() -> f64 {
    6.0
}
fn default_review_weight() -> f64 {
    0.0
}
fn default_max_block() -> usize {
    1_000
}
fn default_u_pairs() -> usize {
    2_000_000
}
fn default_em_iterations() -> usize {
    60
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            match_weight: default_match_weight(),
            review_weight: default_review_weight(),
            max_block: default_max_block(),
            u_sample_pairs: default_u_pairs(),
            em_iterations: default_em_iterations(),
            one_to_one: false,
            em_sessions: Vec::new(),
        }
    }
}

/// How `--truth` values are read when scoring a run against labels.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TruthSpec {
    /// `number`: the first run of digits of the value is the entity (FEBRL's `rec-1070-dup-0`).
    #[serde(default)]
    pub extract: Option<String>,
}

/// The whole file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// Column holding a record's own identifier (CSV linking); default: the row number.
    #[serde(default)]
    pub id_column: Option<String>,
    /// Model settings.
    #[serde(default)]
    pub model: ModelSpec,
    /// Fields.
    #[serde(rename = "field", default)]
    pub fields: Vec<FieldSpec>,
    /// Blocking rules (their union is compared).
    #[serde(rename = "blocking", default)]
    pub blocking: Vec<BlockingSpec>,
    /// Comparisons.
    #[serde(rename = "comparison", default)]
    pub comparisons: Vec<ComparisonSpec>,
    /// Truth labels.
    #[serde(default)]
    pub truth: TruthSpec,
}

/// A validated field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: FieldKind,
    /// Input columns (at least one).
    pub columns: Vec<String>,
}

/// Which representation of a field a blocking key or level uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The value itself (simplified name, full ID, date, county…).
    Value,
    /// Pinyin of a name.
    Pinyin,
    /// Pinyin of a name's surname.
    Surname,
    /// The first 15 digits of an ID number (what survives a float cell).
    Prefix,
    /// A date's year.
    Year,
    /// A place's township.
    Township,
    /// A place's village.
    Village,
    /// The first N characters of a text.
    First(u8),
}

/// A validated blocking key part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Index into [`LinkageSpec::fields`].
    pub field: usize,
    /// Representation.
    pub part: Part,
}

/// A validated blocking rule.
#[derive(Debug, Clone)]
pub struct BlockingRule {
    /// As written, for reports (`name.pinyin + birth_date`).
    pub label: String,
    /// Keys.
    pub keys: Vec<Key>,
}

/// A comparison level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Level {
    /// Same value (names after folding traditional characters).
    Exact,
    /// Names with the same pinyin (homophones 张伟/章伟).
    Pinyin,
    /// Names with the same fuzzy pinyin: zh/z, ch/c, sh/s, ang/an, eng/en, ing/in taken as one
    /// sound (陈洋/程洋, 周军/邹军, 林芳/凌芳).
    FuzzyPinyin,
    /// Same surname, given-name characters swapped (王小明/王明小).
    GivenSwapped,
    /// One character dropped or added (王小明/王明).
    CharDropped,
    /// Jaro-Winkler similarity at least this (names: on pinyin).
    JaroWinkler(f64),
    /// Levenshtein distance at most this.
    Levenshtein(u32),
    /// One substitution or one adjacent transposition (ID numbers, codes).
    OneEdit,
    /// ID numbers whose first 15 digits agree, one of them damaged or cut short.
    IdPrefix,
    /// Dates with exactly one of year, month, day different.
    OneFieldOff,
    /// Dates whose day and month are swapped.
    DayMonthSwapped,
    /// Dates in the same year.
    SameYear,
    /// Same county, township, village and group (村民组) or street number below it.
    Group,
    /// Same county, township and village, another group or street number (both known).
    OtherGroup,
    /// Same county, township and village.
    Village,
    /// Same county and township, the village unknown on one side.
    Township,
    /// Same county and township, another village (both known).
    OtherVillage,
    /// Same county, the township unknown on one side (no contradiction).
    County,
    /// Same county, another township (both known).
    OtherTownship,
    /// Ages (or an age and a birth date) that allow a common birth year.
    Consistent,
}

impl Level {
    fn parse(text: &str, kind: FieldKind) -> Result<Level, String> {
        let text = text.trim();
        let (name, arg) = match text.find(['>', '<', ' ']) {
            Some(i) => (
                &text[..i],
                text[i..].trim_start_matches(['>', '<', '=', ' ']),
            ),
            None => (text, ""),
        };
        let level = match name {
            "exact" => Level::Exact,
            "pinyin" => Level::Pinyin,
            "fuzzy_pinyin" => Level::FuzzyPinyin,
            "given_swapped" => Level::GivenSwapped,
            "char_dropped" => Level::CharDropped,
            "jaro_winkler" => {
                let t: f64 = arg
                    .parse()
                    .map_err(|_| format!("`{text}`: expected jaro_winkler>=0.9"))?;
                if !(0.0..=1.0).contains(&t) {
                    return Err(format!("`{text}`: threshold must be between 0 and 1"));
                }
                Level::JaroWinkler(t)
            }
            "levenshtein" => Level::Levenshtein(
                arg.parse()
                    .map_err(|_| format!("`{text}`: expected levenshtein<=2"))?,
            ),
            "one_edit" => Level::OneEdit,
            "id_prefix" => Level::IdPrefix,
            "one_field_off" => Level::OneFieldOff,
            "day_month_swapped" => Level::DayMonthSwapped,
            "same_year" => Level::SameYear,
            "group" => Level::Group,
            "other_group" => Level::OtherGroup,
            "village" => Level::Village,
            "township" => Level::Township,
            "other_village" => Level::OtherVillage,
            "county" => Level::County,
            "other_township" => Level::OtherTownship,
            "consistent" => Level::Consistent,
            other => return Err(format!("unknown level `{other}`")),
        };
        let fits = match level {
            Level::Exact => !matches!(kind, FieldKind::Age | FieldKind::Kinship),
            Level::Consistent => matches!(kind, FieldKind::Age | FieldKind::Kinship),
            Level::Pinyin | Level::FuzzyPinyin | Level::GivenSwapped | Level::CharDropped => {
                kind == FieldKind::Name
            }
            Level::JaroWinkler(_) | Level::Levenshtein(_) => {
                matches!(kind, FieldKind::Name | FieldKind::Text | FieldKind::Phone)
            }
            Level::OneEdit => matches!(
                kind,
                FieldKind::IdNumber | FieldKind::Text | FieldKind::Phone
            ),
            Level::IdPrefix => kind == FieldKind::IdNumber,
            Level::OneFieldOff | Level::DayMonthSwapped | Level::SameYear => {
                kind == FieldKind::Date
            }
            Level::Group
            | Level::OtherGroup
            | Level::Village
            | Level::Township
            | Level::OtherVillage
            | Level::County
            | Level::OtherTownship => kind == FieldKind::Place,
        };
        if !fits {
            return Err(format!("level `{text}` does not apply to a {kind:?} field"));
        }
        Ok(level)
    }

    /// A short label for reports and explanations.
    pub fn label(&self) -> String {
        match self {
            Level::Exact => "exact".into(),
            Level::Pinyin => "same pinyin".into(),
            Level::FuzzyPinyin => "same fuzzy pinyin (zh/z, eng/en, ing/in…)".into(),
            Level::GivenSwapped => "given name swapped".into(),
            Level::CharDropped => "one character dropped".into(),
            Level::JaroWinkler(t) => format!("jaro-winkler >= {t}"),
            Level::Levenshtein(k) => format!("levenshtein <= {k}"),
            Level::OneEdit => "one digit off".into(),
            Level::IdPrefix => "first 15 digits".into(),
            Level::OneFieldOff => "one of y/m/d off".into(),
            Level::DayMonthSwapped => "day/month swapped".into(),
            Level::SameYear => "same year".into(),
            Level::Group => "same village and group".into(),
            Level::OtherGroup => "same village, another group".into(),
            Level::Village => "same village".into(),
            Level::Township => "same township".into(),
            Level::OtherVillage => "same township, another village".into(),
            Level::County => "same county".into(),
            Level::OtherTownship => "same county, another township".into(),
            Level::Consistent => "birth years agree".into(),
        }
    }
}

/// A validated comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Index into [`LinkageSpec::fields`].
    pub field: usize,
    /// Levels, most similar first (the "else" level is implicit, index `levels.len()`).
    pub levels: Vec<Level>,
    /// Term-frequency adjustment on the exact level.
    pub term_frequency: bool,
    /// The else level vetoes a link.
    pub must_agree: bool,
    /// Levels (indices, the "else" level is `levels.len()`) that, between two clusters' values,
    /// veto their merge; empty for none.
    pub guard: Vec<u8>,
}

/// A validated linkage configuration.
#[derive(Debug, Clone)]
pub struct LinkageSpec {
    /// Column with record identifiers (CSV).
    pub id_column: Option<String>,
    /// Fields.
    pub fields: Vec<Field>,
    /// Blocking rules.
    pub blocking: Vec<BlockingRule>,
    /// Comparisons.
    pub comparisons: Vec<Comparison>,
    /// Link threshold (match weight).
    pub match_weight: f64,
    /// Review threshold.
    pub review_weight: f64,
    /// Largest block expanded into pairs.
    pub max_block: usize,
    /// Random pairs for u.
    pub u_sample_pairs: usize,
    /// EM iterations.
    pub em_iterations: usize,
    /// One-to-one linking of two inputs.
    pub one_to_one: bool,
    /// EM sessions: per session, the comparisons held at their first level.
    pub em_sessions: Vec<Vec<usize>>,
    /// Truth extraction: first number of the value.
    pub truth_number: bool,
}

impl LinkageSpec {
    /// Reads and validates a linkage file.
    pub fn load(path: &Path) -> Result<LinkageSpec, LinkageError> {
        let text = std::fs::read_to_string(path).map_err(|source| LinkageError::Io {
            path: path.display().to_string(),
            source,
        })?;
        LinkageSpec::parse(&text, &path.display().to_string())
    }

    /// Parses and validates the text of a linkage file named `origin` in messages.
    pub fn parse(text: &str, origin: &str) -> Result<LinkageSpec, LinkageError> {
        let file: SpecFile = toml::from_str(text)
            .map_err(|e| LinkageError::Config(vec![format!("{origin}: {}", e.message())]))?;
        file.validate(origin)
    }

    /// Index of the field named `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

impl SpecFile {
    /// Validates into a [`LinkageSpec`], reporting every problem at once.
    pub fn validate(self, origin: &str) -> Result<LinkageSpec, LinkageError> {
        let mut problems = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for (i, f) in self.fields.into_iter().enumerate() {
            if fields.iter().any(|g| g.name == f.name) {
                problems.push(format!(
                    "{origin}: field[{i}].name: `{}` is declared twice",
                    f.name
                ));
                continue;
            }
            let columns = if f.columns.is_empty() {
                vec![f.name.clone()]
            } else {
                f.columns
            };
            let most = match f.kind {
                FieldKind::Place => 4,
                FieldKind::Age | FieldKind::Kinship => 3,
                FieldKind::IdNumber => 2,
                _ => 1,
            };
            if columns.len() > most {
                problems.push(format!(
                    "{origin}: field[{i}].columns: a {:?} field takes at most {most} column(s)",
                    f.kind
                ));
            }
            let takes = match f.kind {
                FieldKind::Age => {
                    "an age field takes the age, the date of the event and optionally the \
                     birth date"
                }
                FieldKind::Kinship => {
                    "a kinship field takes the relation, the subject's birth date and \
                     optionally the record's own birth date"
                }
                _ => "",
            };
            if !takes.is_empty() && columns.len() < 2 {
                problems.push(format!("{origin}: field[{i}].columns: {takes}"));
            }
            fields.push(Field {
                name: f.name,
                kind: f.kind,
                columns,
            });
        }
        let find = |name: &str| fields.iter().position(|f| f.name == name);
        let mut blocking = Vec::new();
        for (i, rule) in self.blocking.iter().enumerate() {
            let mut keys = Vec::new();
            if rule.keys.is_empty() {
                problems.push(format!("{origin}: blocking[{i}].keys: no keys"));
            }
            for key in &rule.keys {
                let (field, part) = key.split_once('.').unwrap_or((key.as_str(), ""));
                let Some(index) = find(field) else {
                    problems.push(format!(
                        "{origin}: blocking[{i}].keys: unknown field `{field}`"
                    ));
                    continue;
                };
                let kind = fields[index].kind;
                let part = match (part, kind) {
                    // an age is a range of years, not a value to block on
                    (_, FieldKind::Age | FieldKind::Kinship) => None,
                    ("", _) => Some(Part::Value),
                    ("pinyin", FieldKind::Name) => Some(Part::Pinyin),
                    ("surname", FieldKind::Name) => Some(Part::Surname),
                    ("prefix", FieldKind::IdNumber) => Some(Part::Prefix),
                    ("year", FieldKind::Date) => Some(Part::Year),
                    ("township", FieldKind::Place) => Some(Part::Township),
                    ("village", FieldKind::Place) => Some(Part::Village),
                    (p, FieldKind::Text | FieldKind::Phone) if p.starts_with("first") => p[5..]
                        .parse::<u8>()
                        .ok()
                        .filter(|n| *n > 0)
                        .map(Part::First),
                    _ => None,
                };
                match part {
                    Some(part) => keys.push(Key { field: index, part }),
                    None => problems.push(format!(
                        "{origin}: blocking[{i}].keys: `{key}` is not a part of a {kind:?} field"
                    )),
                }
            }
            blocking.push(BlockingRule {
                label: rule.keys.join(" + "),
                keys,
            });
        }
        if blocking.is_empty() {
            problems.push(format!(
                "{origin}: blocking: at least one blocking rule is needed"
            ));
        }
        let mut comparisons = Vec::new();
        for (i, c) in self.comparisons.iter().enumerate() {
            let Some(index) = find(&c.field) else {
                problems.push(format!(
                    "{origin}: comparison[{i}].field: unknown field `{}`",
                    c.field
                ));
                continue;
            };
            let mut levels = Vec::new();
            for text in &c.levels {
                match Level::parse(text, fields[index].kind) {
                    Ok(level) => levels.push(level),
                    Err(message) => {
                        problems.push(format!("{origin}: comparison[{i}].levels: {message}"))
                    }
                }
            }
            if levels.is_empty() {
                problems.push(format!("{origin}: comparison[{i}].levels: no levels"));
            }
            if levels.len() > 30 {
                problems.push(format!(
                    "{origin}: comparison[{i}].levels: at most 30 levels"
                ));
            }
            let guard = match &c.guard {
                None | Some(GuardSpec::Else(false)) => Vec::new(),
                Some(GuardSpec::Else(true)) => vec![levels.len() as u8],
                Some(GuardSpec::Levels(names)) => names
                    .iter()
                    .filter_map(|name| {
                        if name.trim() == "else" {
                            return Some(levels.len() as u8);
                        }
                        let position = Level::parse(name, fields[index].kind)
                            .ok()
                            .and_then(|level| levels.iter().position(|l| *l == level));
                        if position.is_none() {
                            problems.push(format!(
                                "{origin}: comparison[{i}].guard: `{name}` is not one of its levels (nor \"else\")"
                            ));
                        }
                        position.map(|k| k as u8)
                    })
                    .collect(),
            };
            comparisons.push(Comparison {
                field: index,
                levels,
                term_frequency: c.term_frequency,
                must_agree: c.must_agree,
                guard,
            });
        }
        if comparisons.is_empty() {
            problems.push(format!(
                "{origin}: comparison: at least one comparison is needed"
            ));
        }
        let m = &self.model;
        if m.review_weight > m.match_weight {
            problems.push(format!(
                "{origin}: model.review_weight: must not exceed model.match_weight"
            ));
        }
        if m.max_block < 2 {
            problems.push(format!("{origin}: model.max_block: must be at least 2"));
        }
        if m.u_sample_pairs < 1_000 {
            problems.push(format!(
                "{origin}: model.u_sample_pairs: must be at least 1000"
            ));
        }
        let mut em_sessions = Vec::new();
        for (i, session) in m.em_sessions.iter().enumerate() {
            let mut fixed = Vec::new();
            let mut unknown = false;
            for name in session {
                let found = find(name)
                    .and_then(|f| comparisons.iter().position(|c: &Comparison| c.field == f));
                match found {
                    Some(c) => fixed.push(c),
                    None => {
                        unknown = true;
                        problems.push(format!(
                            "{origin}: model.em_sessions[{i}]: `{name}` is not a compared field"
                        ))
                    }
                }
            }
            if !unknown && (fixed.is_empty() || fixed.len() == comparisons.len()) {
                problems.push(format!(
                    "{origin}: model.em_sessions[{i}]: hold at least one and not every compared field"
                ));
            }
            em_sessions.push(fixed);
        }
        let truth_number = match self.truth.extract.as_deref() {
            None => false,
            Some("number") => true,
            Some(other) => {
                problems.push(format!(
                    "{origin}: truth.extract: unknown `{other}` (expected `number`)"
                ));
                false
            }
        };
        if !problems.is_empty() {
            return Err(LinkageError::Config(problems));
        }
        Ok(LinkageSpec {
            id_column: self.id_column,
            fields,
            blocking,
            comparisons,
            match_weight: m.match_weight,
            review_weight: m.review_weight,
            max_block: m.max_block,
            u_sample_pairs: m.u_sample_pairs,
            em_iterations: m.em_iterations.max(1),
            one_to_one: m.one_to_one,
            em_sessions,
            truth_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "born"
kind = "date"
[[blocking]]
keys = ["name.pinyin", "nobody"]
[[comparison]]
field = "name"
levels = ["exact", "day_month_swapped", "jaro_winkler>=2"]
[[comparison]]
field = "missing"
levels = ["exact"]
"#;
        let Err(LinkageError::Config(problems)) = LinkageSpec::parse(text, "x.toml") else {
            panic!("expected problems")
        };
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].starts_with("x.toml: blocking[0].keys: unknown field `nobody`"));
        assert!(problems[1].contains("does not apply to a Name field"));
        assert!(problems[2].contains("between 0 and 1"));
        assert!(problems[3].contains("unknown field `missing`"));
    }

    #[test]
    fn shipped_person_spec_is_valid() {
        let spec = LinkageSpec::parse(include_str!("../../linkage/persons.toml"), "persons.toml")
            .expect("valid");
        assert!(spec.blocking.len() >= 4);
        for (text, name) in [
            (
                include_str!("../../linkage/persons_csv.toml"),
                "persons_csv.toml",
            ),
            (include_str!("../../linkage/febrl4.toml"), "febrl4.toml"),
        ] {
            let spec = LinkageSpec::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.id_column.as_deref(), Some("rec_id"), "{name}");
        }
    }
}
