//! The mapping file as written by people (`mappings/*.toml`), deserialized with serde and
//! nothing else: validation happens in [`super::compile`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// One `mappings/NAME.toml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// Unique name, used by `--mapping NAME` and stored with every record.
    pub name: String,
    /// Department that sends this export (`health`, `funeral`, …).
    pub department: String,
    /// Human title of the export.
    #[serde(default)]
    pub title: Option<String>,
    /// Kind of event every row reports (`hospital_stay`, `death`, …).
    pub event_kind: String,
    /// Fields (`subject.name`, `event.date`, `attributes.X`, `ROLE.FIELD`) whose columns must be
    /// present for a file to be recognised, and whose values each row must have.
    #[serde(default)]
    pub required: Vec<String>,
    /// Columns describing the row's subject person.
    pub subject: PersonSpec,
    /// Columns describing the event itself.
    #[serde(default)]
    pub event: Option<EventSpec>,
    /// Further event columns: amounts, codes, text.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeSpec>,
    /// Related persons named by the same row, by role (`guardian`, `next_of_kin`, …).
    #[serde(default)]
    pub related: BTreeMap<String, PersonSpec>,
}

/// Header aliases for each field of a person. Every list is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonSpec {
    /// Name column aliases.
    #[serde(default)]
    pub name: Vec<String>,
    /// Resident ID number column aliases.
    #[serde(default)]
    pub id_number: Vec<String>,
    /// Gender column aliases.
    #[serde(default)]
    pub gender: Vec<String>,
    /// Birth date column aliases.
    #[serde(default)]
    pub birth_date: Vec<String>,
    /// Age column aliases.
    #[serde(default)]
    pub age: Vec<String>,
    /// Phone column aliases.
    #[serde(default)]
    pub phone: Vec<String>,
    /// Address column aliases.
    #[serde(default)]
    pub address: Vec<String>,
    /// Province column aliases.
    #[serde(default)]
    pub province: Vec<String>,
    /// City column aliases.
    #[serde(default)]
    pub city: Vec<String>,
    /// County column aliases.
    #[serde(default)]
    pub county: Vec<String>,
    /// Township column aliases.
    #[serde(default)]
    pub township: Vec<String>,
    /// Village column aliases.
    #[serde(default)]
    pub village: Vec<String>,
    /// Column stating the relation to the subject in the officer's words.
    #[serde(default)]
    pub relation: Vec<String>,
}

/// Columns of the event itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Event date column aliases.
    #[serde(default)]
    pub date: Vec<String>,
}

/// One event attribute column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// Value type: `text`, `date`, `money` (stored in yuan), `integer`, `number` or `code`.
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    /// Header aliases.
    pub aliases: Vec<String>,
    /// For `code`: canonical code → the officers' words for it.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
}

fn default_type() -> String {
    "text".into()
}
