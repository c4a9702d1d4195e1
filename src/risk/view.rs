//! The household view the rules run over: every household with its members and the events of
//! the kinds the rules look at, loaded from the registry in a few bulk queries and held in
//! memory with integer indices (a registry of a million persons fits in a few hundred MB).

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use futures_util::TryStreamExt;
use sqlx::Row;

use super::rules::RuleSet;
use crate::registry::{Registry, RegistryError};

/// A household as linkage stored it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdInfo {
    /// Stable household id.
    pub household_id: String,
    /// Head of household.
    pub head_person_id: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// County region code (GB/T 2260).
    pub region_code: Option<String>,
    /// Township (乡镇/街道).
    pub township: Option<String>,
    /// Village (村/社区).
    pub village: Option<String>,
}

/// A person of a household.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// Stable person id.
    pub person_id: String,
    /// Index of the household in [`HouseholdView::households`].
    pub household: u32,
    /// Role in the household (head, spouse, child…).
    pub household_role: String,
    /// Name.
    pub name: Option<String>,
    /// Birth date, from the registry or the ID number.
    pub birth_date: Option<NaiveDate>,
}

/// One record seen as an event of one or more households.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    /// Registry id of the record.
    pub record_id: i64,
    /// File it came from.
    pub file_id: i64,
    /// Sheet; empty for CSV.
    pub sheet: String,
    /// Row as a person sees it.
    pub row: i64,
    /// Index into [`HouseholdView::kinds`].
    pub kind: u16,
    /// Event date.
    pub date: Option<NaiveDate>,
    /// The attributes the rules use, parsed from the record's JSON.
    pub attributes: Vec<(u16, serde_json::Value)>,
    /// The subject's person, when linked.
    pub subject: Option<u32>,
    /// The subject's name as the row gives it.
    pub subject_name: Option<String>,
    /// The subject's birth date as the row gives it (or its ID number).
    pub subject_birth: Option<NaiveDate>,
    /// The subject's age as the row gives it.
    pub subject_age: Option<i64>,
    /// Households the event counts for, with the role (index into [`HouseholdView::roles`]) of
    /// the person linking it there.
    pub links: Vec<(u32, u16)>,
}

/// What the rules evaluate: households, members and events, with the events of each household.
#[derive(Debug, Clone, Default)]
pub struct HouseholdView {
    /// Households.
    pub households: Vec<HouseholdInfo>,
    /// Persons.
    pub members: Vec<Member>,
    /// Events of the kinds the rules look at.
    pub events: Vec<Event>,
    /// Event kinds, indexed by [`Event::kind`].
    pub kinds: Vec<String>,
    /// Mention roles, indexed by the role in [`Event::links`].
    pub roles: Vec<String>,
    /// Attribute names, indexed by [`Event::attributes`].
    pub fields: Vec<String>,
    /// Event indices of each household.
    pub household_events: Vec<Vec<u32>>,
    /// Members of each household.
    pub household_members: Vec<Vec<u32>>,
    /// File names by file id.
    pub file_names: HashMap<i64, String>,
    /// When each file was ingested (RFC 3339), by file id.
    pub file_ingested: HashMap<i64, String>,
}

impl HouseholdView {
    /// The index of an event kind, if any event has it.
    pub fn kind_index(&self, kind: &str) -> Option<u16> {
        self.kinds.iter().position(|k| k == kind).map(|i| i as u16)
    }

    /// The index of a role, if any event has it.
    pub fn role_index(&self, role: &str) -> Option<u16> {
        self.roles.iter().position(|r| r == role).map(|i| i as u16)
    }

    /// The index of an attribute field.
    pub fn field_index(&self, field: &str) -> Option<u16> {
        self.fields
            .iter()
            .position(|f| f == field)
            .map(|i| i as u16)
    }

    /// An attribute of an event.
    pub fn attribute<'a>(
        &'a self,
        event: &'a Event,
        field: Option<u16>,
    ) -> Option<&'a serde_json::Value> {
        let field = field?;
        event
            .attributes
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }

    /// The subject's birth date: the registry's, else the row's.
    pub fn subject_birth(&self, event: &Event) -> Option<NaiveDate> {
        event
            .subject
            .and_then(|p| self.members[p as usize].birth_date)
            .or(event.subject_birth)
    }

    /// The subject's age in full years on `on`: from a birth date, else the row's age column.
    pub fn subject_age(&self, event: &Event, on: NaiveDate) -> Option<i32> {
        match self.subject_birth(event) {
            Some(birth) => Some(age_on(birth, on)),
            None => event.subject_age.map(|a| a as i32),
        }
    }

    /// The subject's name: the registry's, else the row's.
    pub fn subject_name<'a>(&'a self, event: &'a Event) -> Option<&'a str> {
        event
            .subject
            .and_then(|p| self.members[p as usize].name.as_deref())
            .or(event.subject_name.as_deref())
    }

    /// Builds the per-household indices; call after filling households, members and events.
    pub fn index(&mut self) {
        self.household_events = vec![Vec::new(); self.households.len()];
        for (index, event) in self.events.iter().enumerate() {
            let mut last = u32::MAX;
            for &(household, _) in &event.links {
                if household != last {
                    self.household_events[household as usize].push(index as u32);
                    last = household;
                }
            }
        }
        for events in &mut self.household_events {
            events.dedup();
        }
        self.household_members = vec![Vec::new(); self.households.len()];
        for (index, member) in self.members.iter().enumerate() {
            self.household_members[member.household as usize].push(index as u32);
        }
    }
}

/// Age in full years on `on` of someone born on `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The birth date inside an 18-digit resident ID number.
pub fn birth_from_id(id_number: &str) -> Option<NaiveDate> {
    if id_number.len() != 18 {
        return None;
    }
    NaiveDate::parse_from_str(id_number.get(6..14)?, "%Y%m%d").ok()
}

fn date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(t.get(..10).unwrap_or(&t), "%Y-%m-%d").ok())
}

fn text(row: &sqlx::any::AnyRow, index: usize) -> Result<Option<String>, sqlx::Error> {
    row.try_get::<Option<String>, _>(index)
}

fn intern(list: &mut Vec<String>, value: &str) -> u16 {
    match list.iter().position(|v| v == value) {
        Some(i) => i as u16,
        None => {
            list.push(value.to_string());
            (list.len() - 1) as u16
        }
    }
}

/// Loads the view the rules need: every household and person, and every record of the kinds
/// `rules` look at, attached to the households of the persons its mentions are linked to.
pub async fn load_view(
    registry: &Registry,
    rules: &RuleSet,
) -> Result<HouseholdView, RegistryError> {
    let pool = registry.pool();
    let mut view = HouseholdView::default();
    let mut household_index: HashMap<String, u32> = HashMap::new();
    {
        let mut rows = sqlx::query(
            "SELECT household_id, head_person_id, address, region_code, township, village \
             FROM households",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let household_id: String = row.try_get(0)?;
            household_index.insert(household_id.clone(), view.households.len() as u32);
            view.households.push(HouseholdInfo {
                household_id,
                head_person_id: text(&row, 1)?,
                address: text(&row, 2)?,
                region_code: text(&row, 3)?,
                township: text(&row, 4)?,
                village: text(&row, 5)?,
            });
        }
    }
    let mut person_index: HashMap<String, u32> = HashMap::new();
    {
        let mut rows = sqlx::query(
            "SELECT person_id, household_id, household_role, name, birth_date, id_number \
             FROM persons",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let household_id: String = row.try_get(1)?;
            let household = match household_index.get(&household_id) {
                Some(&h) => h,
                None => {
                    // a person whose household row is missing still forms a household
                    let h = view.households.len() as u32;
                    household_index.insert(household_id.clone(), h);
                    view.households.push(HouseholdInfo {
                        household_id,
                        ..HouseholdInfo::default()
                    });
                    h
                }
            };
            let person_id: String = row.try_get(0)?;
            let id_number = text(&row, 5)?;
            person_index.insert(person_id.clone(), view.members.len() as u32);
            view.members.push(Member {
                person_id,
                household,
                household_role: text(&row, 2)?.unwrap_or_default(),
                name: text(&row, 3)?,
                birth_date: date(text(&row, 4)?)
                    .or_else(|| id_number.as_deref().and_then(birth_from_id)),
            });
        }
    }
    {
        let mut rows = sqlx::query("SELECT id, file_name, ingested_at FROM files").fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let id: i64 = row.try_get(0)?;
            view.file_names.insert(id, row.try_get(1)?);
            view.file_ingested.insert(id, row.try_get(2)?);
        }
    }
    // the attribute fields the rules read, per kind
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for rule in &rules.rules {
        for condition in &rule.conditions {
            wanted.insert((rule.event_kind.clone(), condition.field.clone()));
        }
        if let Some(sum) = &rule.sum {
            wanted.insert((rule.event_kind.clone(), sum.field.clone()));
        }
        for piece in &rule.reason.pieces {
            if let super::rules::Piece::Attribute(field) = piece {
                wanted.insert((rule.event_kind.clone(), field.clone()));
            }
        }
    }
    wanted.insert((
        rules.coverage.event_kind.clone(),
        rules.coverage.field.clone(),
    ));
    let kinds = rules.event_kinds();
    view.kinds = kinds.clone();
    for (_, field) in &wanted {
        intern(&mut view.fields, field);
    }
    let fields_of_kind: Vec<Vec<(String, u16)>> = kinds
        .iter()
        .map(|kind| {
            wanted
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, f)| (f.clone(), view.field_index(f).unwrap_or(0)))
                .collect()
        })
        .collect();
    let placeholders: Vec<String> = (1..=kinds.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT r.id, r.file_id, r.sheet, r.row_number, r.event_kind, r.event_date, r.attributes, \
         m.role, m.name, m.birth_date, m.age, m.id_number, l.person_id \
         FROM records r JOIN mentions m ON m.file_id = r.file_id AND m.sheet = r.sheet \
         AND m.row_number = r.row_number LEFT JOIN mention_links l ON l.mention_id = m.id \
         WHERE r.event_kind IN ({})",
        placeholders.join(", ")
    );
    // the SQL holds only numbered placeholders; the kinds are bound
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for kind in &kinds {
        query = query.bind(kind.clone());
    }
    let mut rows = query.fetch(pool);
    let mut event_index: HashMap<i64, u32> = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        let record_id: i64 = row.try_get(0)?;
        let index = match event_index.get(&record_id) {
            Some(&i) => i as usize,
            None => {
                let kind_text: String = row.try_get(4)?;
                let kind = kinds.iter().position(|k| *k == kind_text).unwrap_or(0);
                let mut attributes = Vec::new();
                if let Some(json) = text(&row, 6)?
                    && let Ok(serde_json::Value::Object(mut map)) =
                        serde_json::from_str::<serde_json::Value>(&json)
                {
                    for (field, field_index) in &fields_of_kind[kind] {
                        if let Some(value) = map.remove(field)
                            && !value.is_null()
                        {
                            attributes.push((*field_index, value));
                        }
                    }
                }
                event_index.insert(record_id, view.events.len() as u32);
                view.events.push(Event {
                    record_id,
                    file_id: row.try_get(1)?,
                    sheet: row.try_get(2)?,
                    row: row.try_get(3)?,
                    kind: kind as u16,
                    date: date(text(&row, 5)?),
                    attributes,
                    ..Event::default()
                });
                view.events.len() - 1
            }
        };
        let role: String = row.try_get(7)?;
        let person = text(&row, 12)?.and_then(|p| person_index.get(&p).copied());
        let role_index = intern(&mut view.roles, &role);
        let event = &mut view.events[index];
        if role == crate::record::SUBJECT_ROLE {
            event.subject = person;
            event.subject_name = text(&row, 8)?;
            event.subject_birth = date(text(&row, 9)?).or_else(|| {
                text(&row, 11)
                    .ok()
                    .flatten()
                    .as_deref()
                    .and_then(birth_from_id)
            });
            event.subject_age = row.try_get::<Option<i64>, _>(10)?;
        }
        if let Some(person) = person {
            let household = view.members[person as usize].household;
            if !event.links.contains(&(household, role_index)) {
                event.links.push((household, role_index));
                event.links.sort_unstable();
            }
        }
    }
    drop(rows);
    view.index();
    Ok(view)
}
