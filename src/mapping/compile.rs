//! Validating mapping specs into [`Mapping`]s that cannot hold bad values. Every problem of
//! every file is collected and reported at once as `mappings/health.toml: key: message`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::spec::{AttributeSpec, MappingSpec, PersonSpec};
use crate::read::header::{normalize_header, strip_bracket_suffix};

/// A field of a person a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonField {
    /// Name.
    Name,
    /// Resident ID number.
    IdNumber,
    /// Gender.
    Gender,
    /// Birth date.
    BirthDate,
    /// Age in years.
    Age,
    /// Phone.
    Phone,
    /// Free-text address.
    Address,
    /// Province column.
    Province,
    /// City column.
    City,
    /// County column.
    County,
    /// Township column.
    Township,
    /// Village column.
    Village,
    /// Relation to the subject, in the officer's words.
    Relation,
}

impl PersonField {
    /// Key used in mapping files.
    pub fn key(&self) -> &'static str {
        match self {
            PersonField::Name => "name",
            PersonField::IdNumber => "id_number",
            PersonField::Gender => "gender",
            PersonField::BirthDate => "birth_date",
            PersonField::Age => "age",
            PersonField::Phone => "phone",
            PersonField::Address => "address",
            PersonField::Province => "province",
            PersonField::City => "city",
            PersonField::County => "county",
            PersonField::Township => "township",
            PersonField::Village => "village",
            PersonField::Relation => "relation",
        }
    }
}

/// The value type of an event attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Free text, trimmed.
    Text,
    /// A date.
    Date,
    /// An amount of money, stored in yuan.
    Money,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// A code from a declared list of words.
    Code,
}

impl ValueKind {
    fn parse(kind: &str) -> Option<ValueKind> {
        Some(match kind {
            "text" => ValueKind::Text,
            "date" => ValueKind::Date,
            "money" => ValueKind::Money,
            "integer" => ValueKind::Integer,
            "number" => ValueKind::Number,
            "code" => ValueKind::Code,
            _ => return None,
        })
    }
}

/// What a column fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A field of the subject (role 0) or of a related person.
    Person {
        /// Index into [`Mapping::roles`].
        role: usize,
        /// The field.
        field: PersonField,
    },
    /// The event date.
    EventDate,
    /// An event attribute.
    Attribute {
        /// Attribute name.
        name: String,
        /// Its value type.
        kind: ValueKind,
        /// For codes: normalized officer word → canonical code.
        codes: HashMap<String, String>,
    },
}

/// One field of a mapping with the header aliases that name it.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// Dotted key as written in mapping files: `subject.name`, `event.date`, `attributes.X`,
    /// `guardian.phone`.
    pub key: String,
    /// What the column fills.
    pub target: Target,
    /// Aliases as written, for messages.
    pub aliases: Vec<String>,
    /// Aliases in normalized form, for matching.
    pub normalized: Vec<String>,
}

/// A validated mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Unique name.
    pub name: String,
    /// Sending department.
    pub department: String,
    /// Human title.
    pub title: String,
    /// Event kind of every row.
    pub event_kind: String,
    /// Person roles: index 0 is `subject`, then related roles.
    pub roles: Vec<String>,
    /// Fields in declaration order.
    pub fields: Vec<FieldDef>,
    /// Indices into `fields` of the required ones.
    pub required: Vec<usize>,
    /// Where it was loaded from.
    pub source: String,
}

/// All mappings known to lifeline.
#[derive(Debug, Clone, Default)]
pub struct MappingSet {
    /// Mappings sorted by name.
    pub mappings: Vec<Mapping>,
}

/// Every problem found in a set of mapping files.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct MappingErrors(pub Vec<String>);

/// The mappings shipped with lifeline, used when no `mappings/` folder is found.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "civil_affairs_roster.toml",
        include_str!("../../mappings/civil_affairs_roster.toml"),
    ),
    (
        "education.toml",
        include_str!("../../mappings/education.toml"),
    ),
    (
        "emergency.toml",
        include_str!("../../mappings/emergency.toml"),
    ),
    (
        "family_planning.toml",
        include_str!("../../mappings/family_planning.toml"),
    ),
    ("funeral.toml", include_str!("../../mappings/funeral.toml")),
    ("health.toml", include_str!("../../mappings/health.toml")),
    ("housing.toml", include_str!("../../mappings/housing.toml")),
    ("hrss.toml", include_str!("../../mappings/hrss.toml")),
];

impl MappingSet {
    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<MappingSet, MappingErrors> {
        let (sources, mut errors) =
            crate::config::read_toml_files(dir).map_err(|e| MappingErrors(vec![e]))?;
        match MappingSet::from_sources(&sources) {
            Ok(set) if errors.is_empty() => Ok(set),
            Ok(_) => Err(MappingErrors(errors)),
            Err(MappingErrors(more)) => {
                errors.extend(more);
                Err(MappingErrors(errors))
            }
        }
    }

    /// The mappings compiled into the binary.
    pub fn built_in() -> Result<MappingSet, MappingErrors> {
        let sources: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(name, text)| (format!("mappings/{name}"), text.to_string()))
            .collect();
        MappingSet::from_sources(&sources)
    }

    /// Compiles `(source name, TOML text)` pairs, reporting every problem at once.
    pub fn from_sources(sources: &[(String, String)]) -> Result<MappingSet, MappingErrors> {
        let mut errors = Vec::new();
        let mut mappings: Vec<Mapping> = Vec::new();
        for (source, text) in sources {
            match toml::from_str::<MappingSpec>(text) {
                Ok(spec) => {
                    if let Some(mapping) = compile(source, spec, &mut errors) {
                        mappings.push(mapping);
                    }
                }
                Err(e) => errors.push(format!("{source}: {}", e.message().trim_end_matches('.'))),
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for mapping in &mappings {
            if let Some(first) = seen.insert(&mapping.name, &mapping.source) {
                errors.push(format!(
                    "{}: name: \"{}\" is already used by {first}",
                    mapping.source, mapping.name
                ));
            }
        }
        if mappings.is_empty() && errors.is_empty() {
            errors.push("no mapping files found".into());
        }
        if !errors.is_empty() {
            return Err(MappingErrors(errors));
        }
        mappings.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(MappingSet { mappings })
    }

    /// The mapping named `name`.
    pub fn get(&self, name: &str) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.name == name)
    }

    /// Names of all mappings.
    pub fn names(&self) -> Vec<&str> {
        self.mappings.iter().map(|m| m.name.as_str()).collect()
    }
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn compile(source: &str, spec: MappingSpec, errors: &mut Vec<String>) -> Option<Mapping> {
    let before = errors.len();
    if !is_identifier(&spec.name) {
        errors.push(format!(
            "{source}: name: \"{}\" must be lower-case letters, digits and _",
            spec.name
        ));
    }
    if !is_identifier(&spec.department) {
        errors.push(format!(
            "{source}: department: \"{}\" must be lower-case letters, digits and _",
            spec.department
        ));
    }
    if !is_identifier(&spec.event_kind) {
        errors.push(format!(
            "{source}: event_kind: \"{}\" must be lower-case letters, digits and _",
            spec.event_kind
        ));
    }
    let mut roles = vec!["subject".to_string()];
    let mut fields = Vec::new();
    person_fields(source, "subject", 0, &spec.subject, &mut fields, errors);
    for (role, person) in &spec.related {
        if !is_identifier(role) || role == "subject" {
            errors.push(format!("{source}: related.{role}: role must be lower-case letters, digits and _, and not \"subject\""));
            continue;
        }
        roles.push(role.clone());
        let index = roles.len() - 1;
        person_fields(
            source,
            &format!("related.{role}"),
            index,
            person,
            &mut fields,
            errors,
        );
        if person.name.is_empty() && person.id_number.is_empty() {
            errors.push(format!(
                "{source}: related.{role}: a related person needs a name or id_number column"
            ));
        }
    }
    if spec.subject.name.is_empty() {
        errors.push(format!(
            "{source}: subject.name: the subject's name column needs at least one alias"
        ));
    }
    if let Some(event) = &spec.event
        && !event.date.is_empty()
    {
        push_field(
            source,
            "event.date",
            Target::EventDate,
            &event.date,
            &mut fields,
            errors,
        );
    }
    for (name, attribute) in &spec.attributes {
        if let Some(target) = attribute_target(source, name, attribute, errors) {
            push_field(
                source,
                &format!("attributes.{name}"),
                target,
                &attribute.aliases,
                &mut fields,
                errors,
            );
        }
    }
    // one alias must not name two fields of the same mapping
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for field in &fields {
        for alias in &field.normalized {
            if let Some(other) = owner.insert(alias, &field.key)
                && other != field.key
            {
                errors.push(format!(
                    "{source}: {}: alias \"{alias}\" also names {other}; an alias must name one field",
                    field.key
                ));
            }
        }
    }
    let mut required = Vec::new();
    let mut seen = HashSet::new();
    for key in &spec.required {
        let key = key.replace("related.", "");
        match fields
            .iter()
            .position(|f| f.key.replace("related.", "") == key)
        {
            Some(index) if seen.insert(index) => required.push(index),
            Some(_) => {}
            None => errors.push(format!(
                "{source}: required: \"{key}\" is not a field of this mapping"
            )),
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(Mapping {
        title: spec.title.unwrap_or_else(|| spec.name.clone()),
        name: spec.name,
        department: spec.department,
        event_kind: spec.event_kind,
        roles,
        fields,
        required,
        source: source.to_string(),
    })
}

fn person_fields(
    source: &str,
    prefix: &str,
    role: usize,
    spec: &PersonSpec,
    fields: &mut Vec<FieldDef>,
    errors: &mut Vec<String>,
) {
    let lists: [(PersonField, &Vec<String>); 13] = [
        (PersonField::Name, &spec.name),
        (PersonField::IdNumber, &spec.id_number),
        (PersonField::Gender, &spec.gender),
        (PersonField::BirthDate, &spec.birth_date),
        (PersonField::Age, &spec.age),
        (PersonField::Phone, &spec.phone),
        (PersonField::Address, &spec.address),
        (PersonField::Province, &spec.province),
        (PersonField::City, &spec.city),
        (PersonField::County, &spec.county),
        (PersonField::Township, &spec.township),
        (PersonField::Village, &spec.village),
        (PersonField::Relation, &spec.relation),
    ];
    let key_prefix = prefix.trim_start_matches("related.");
    for (field, aliases) in lists {
        if aliases.is_empty() {
            continue;
        }
        push_field(
            source,
            &format!("{key_prefix}.{}", field.key()),
            Target::Person { role, field },
            aliases,
            fields,
            errors,
        );
    }
}

fn push_field(
    source: &str,
    key: &str,
    target: Target,
    aliases: &[String],
    fields: &mut Vec<FieldDef>,
    errors: &mut Vec<String>,
) {
    let mut normalized = Vec::new();
    for alias in aliases {
        let n = normalize_header(alias);
        if n.is_empty() {
            errors.push(format!("{source}: {key}: empty alias"));
            continue;
        }
        if !normalized.contains(&n) {
            normalized.push(n);
        }
    }
    if aliases.is_empty() {
        errors.push(format!("{source}: {key}: needs at least one alias"));
    }
    fields.push(FieldDef {
        key: key.to_string(),
        target,
        aliases: aliases.to_vec(),
        normalized,
    });
}

fn attribute_target(
    source: &str,
    name: &str,
    spec: &AttributeSpec,
    errors: &mut Vec<String>,
) -> Option<Target> {
    if !is_identifier(name) && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        errors.push(format!(
            "{source}: attributes.{name}: name must be letters, digits and _"
        ));
    }
    let Some(kind) = ValueKind::parse(&spec.kind) else {
        errors.push(format!(
            "{source}: attributes.{name}.type: unknown type \"{}\" (expected text, date, money, integer, number or code)",
            spec.kind
        ));
        return None;
    };
    if kind != ValueKind::Code && !spec.values.is_empty() {
        errors.push(format!(
            "{source}: attributes.{name}.values: only a code attribute has values"
        ));
    }
    let mut codes = HashMap::new();
    let mut by_word: BTreeMap<String, &str> = BTreeMap::new();
    for (code, words) in &spec.values {
        if words.is_empty() {
            errors.push(format!(
                "{source}: attributes.{name}.values.{code}: needs at least one word"
            ));
        }
        for word in words {
            let normalized = normalize_value(word);
            if let Some(other) = by_word.insert(normalized.clone(), code)
                && other != code
            {
                errors.push(format!(
                    "{source}: attributes.{name}.values.{code}: \"{word}\" is also listed under {other}"
                ));
            }
            codes.insert(normalized, code.clone());
        }
    }
    Some(Target::Attribute {
        name: name.to_string(),
        kind,
        codes,
    })
}

/// Normalized form of a code word: header normalization plus no trailing bracket note.
pub fn normalize_value(word: &str) -> String {
    let normalized = normalize_header(word);
    match strip_bracket_suffix(&normalized) {
        Some(base) => base.to_string(),
        None => normalized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mappings_compile() {
        let set = MappingSet::built_in().unwrap();
        assert_eq!(set.mappings.len(), 8);
        let education = set.get("education").unwrap();
        assert_eq!(education.roles, vec!["subject", "guardian"]);
        assert_eq!(education.required.len(), 2);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_file_and_key() {
        let bad = r#"
name = "Health"
department = "health"
event_kind = "hospital_stay"
required = ["subject.name", "attributes.nope"]
[subject]
name = ["姓名"]
phone = ["姓名"]
[attributes]
cost = { type = "money2", aliases = ["费用"] }
"#;
        let error =
            MappingSet::from_sources(&[("mappings/bad.toml".into(), bad.into())]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("mappings/bad.toml: name: \"Health\" must be lower-case"),
            "{text}"
        );
        assert!(
            text.contains("attributes.cost.type: unknown type \"money2\""),
            "{text}"
        );
        assert!(
            text.contains("alias \"姓名\" also names subject.name"),
            "{text}"
        );
        assert!(
            text.contains("required: \"attributes.nope\" is not a field"),
            "{text}"
        );
        assert_eq!(error.0.len(), 4, "{text}");
    }

    #[test]
    fn unknown_keys_and_syntax_errors_name_the_file() {
        let error = MappingSet::from_sources(&[(
            "mappings/x.toml".into(),
            "name = \"x\"\ndepartment = \"d\"\nevent_kind = \"e\"\n[subject]\nnam = [\"姓名\"]\n"
                .into(),
        )])
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("mappings/x.toml: unknown field `nam`"),
            "{error}"
        );
    }
}
