//! `lifeline match`: linkage on the registry's person mentions, with stable person and household
//! IDs.
//!
//! - A **full** run (the first, or `--full`) trains the model on every mention, clusters them all
//!   and carries existing IDs over: a cluster keeps the ID of the old person most of whose mentions
//!   it holds; when it holds several old persons the oldest ID stays and the others are recorded as
//!   merged into it; mentions that leave a person get a new ID recorded as split from it.
//! - An **incremental** run (the default once persons exist) reads only the new mentions, finds the
//!   existing mentions sharing a blocking key through the stored key index, and scores the new ones
//!   against those with the stored model: its cost follows the batch, not the registry.
//! - Review decisions (must-link / cannot-link) are honoured by both.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::LinkageError;
use super::blocking;
use super::clustering::Constraints;
use super::dataset::Dataset;
use super::households::{self, HouseholdOptions, PersonFacts};
use super::scoring::{Explanation, Scorer};
use super::spec::LinkageSpec;
use super::training::{Model, TermFrequencies};
use crate::registry::write::{Cell, PARAMETERS, insert_rows, insert_sql};
use crate::registry::{Backend, Registry, RegistryError, now};

/// Mention columns a linkage spec may name.
pub const MENTION_COLUMNS: [&str; 16] = [
    "name",
    "id_number",
    "id_raw",
    "gender",
    "birth_date",
    "phone",
    "region_code",
    "township",
    "village",
    "address",
    "age",
    "event_date",
    "school",
    "relation",
    "subject_birth_date",
    "diagnosis",
];

/// One person mention as read for linkage.
#[derive(Debug, Clone)]
pub struct Mention {
    /// Registry id.
    pub id: i64,
    /// File id.
    pub file_id: i64,
    /// File name.
    pub file_name: String,
    /// Sheet.
    pub sheet: String,
    /// Row as the officer sees it.
    pub row: i64,
    /// `subject` or the relation.
    pub role: String,
    /// Mapping of the row.
    pub mapping: String,
    /// Values of [`MENTION_COLUMNS`].
    pub values: [Option<String>; MENTION_COLUMNS.len()],
    /// Current person, if linked.
    pub person_id: Option<String>,
}

/// The index of `column` in [`MENTION_COLUMNS`] (and in [`Mention::values`]).
fn mention_column(column: &str) -> usize {
    MENTION_COLUMNS
        .iter()
        .position(|c| *c == column)
        .unwrap_or_else(|| panic!("`{column}` is not a mention column"))
}

impl Mention {
    fn value(&self, column: &str) -> Option<&str> {
        self.values[mention_column(column)].as_deref()
    }
}

/// Checks that every column the spec names is a mention column.
pub fn check_spec(spec: &LinkageSpec) -> Result<(), LinkageError> {
    let problems: Vec<String> = spec
        .fields
        .iter()
        .flat_map(|f| f.columns.iter().map(move |c| (f, c)))
        .filter(|(_, c)| !MENTION_COLUMNS.contains(&c.as_str()))
        .map(|(f, c)| {
            format!(
                "field `{}`: `{c}` is not a mention column (known: {})",
                f.name,
                MENTION_COLUMNS.join(", ")
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LinkageError::Config(problems))
    }
}

/// A related person (guardian, next of kin, only child) whose row gives no address of their own is
/// placed at the county, township, village and address text of the row's subject (whose group
/// below the village tells a guardian from a namesake of another group of the village): the
/// subject `s` is joined only for them. A mention with a township or village but no county keeps
/// them (its county may come from the file name). Every related person also gets the subject's
/// birth date (`k`), from which their relation tells their generation. The columns are those of
/// [`RawMention`], in order.
const MENTION_SELECT: &str = "SELECT m.id, m.file_id, f.file_name, m.sheet, m.row_number, m.role, \
     COALESCE(r.mapping, '') AS mapping, m.name, m.id_number, m.id_raw, m.gender, m.birth_date, m.phone, \
     COALESCE(m.region_code, s.region_code) AS region_code, COALESCE(m.township, s.township) AS township, \
     COALESCE(m.village, s.village) AS village, COALESCE(m.address, s.address) AS address, \
     CAST(m.age AS TEXT) AS age, r.event_date, {school} AS school, m.relation, k.birth_date AS subject_birth_date, \
     CASE WHEN m.role = 'subject' THEN {diagnosis} END AS diagnosis, l.person_id \
     FROM mentions m JOIN files f ON f.id = m.file_id \
     LEFT JOIN mentions s ON s.file_id = m.file_id AND s.sheet = m.sheet AND s.row_number = m.row_number \
     AND s.role = 'subject' AND m.role <> 'subject' \
     AND m.region_code IS NULL AND m.township IS NULL AND m.village IS NULL \
     LEFT JOIN mentions k ON k.file_id = m.file_id AND k.sheet = m.sheet AND k.row_number = m.row_number \
     AND k.role = 'subject' AND m.role <> 'subject' \
     LEFT JOIN records r ON r.file_id = m.file_id AND r.sheet = m.sheet AND r.row_number = m.row_number \
     LEFT JOIN mention_links l ON l.mention_id = m.id";

/// Mentions per page read.
const PAGE: usize = 20_000;

/// A mention as the database hands it over: one element of a page's JSON array.
#[derive(Deserialize)]
struct RawMention(
    i64,
    i64,
    String,
    String,
    i64,
    String,
    String,
    [Option<String>; MENTION_COLUMNS.len()],
    Option<String>,
);

/// The SQL of one page: the mentions after the id bound as `$1`, as one JSON array built by the
/// database. A row per mention costs a hand-over between the database's thread and this one per
/// mention; at a million mentions that took several times longer than the query itself.
fn page_sql(backend: Backend, filter: &str, page_size: usize) -> String {
    let filter = if filter.trim().is_empty() {
        "WHERE m.id > $1".to_string()
    } else {
        format!("{filter} AND m.id > $1")
    };
    // the output columns of MENTION_SELECT, the values of MENTION_COLUMNS as one nested array,
    // as RawMention reads them
    let element = |array: &str| {
        format!(
            "{array}(id, file_id, file_name, sheet, row_number, role, mapping, {array}({}), person_id)",
            MENTION_COLUMNS.join(", ")
        )
    };
    // a text attribute of the row's record: a school roll's school, a hospital stay's diagnosis
    let attribute = |key: &str| match backend {
        Backend::Sqlite => format!("json_extract(r.attributes, '$.{key}')"),
        Backend::Postgres => format!("(r.attributes::jsonb ->> '{key}')"),
    };
    let select = MENTION_SELECT
        .replace("{school}", &attribute("school"))
        .replace("{diagnosis}", &attribute("diagnosis"));
    let page = format!("{select} {filter} ORDER BY m.id LIMIT {page_size}");
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array({}) FROM ({page}) AS page",
            element("json_array")
        ),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg({} ORDER BY id), '[]')::text FROM ({page}) AS page",
            element("json_build_array")
        ),
    }
}

async fn load_mentions(
    registry: &Registry,
    filter: &str,
    ids: &[i64],
) -> Result<Vec<Mention>, RegistryError> {
    load_mentions_paged(registry, filter, ids, PAGE).await
}

async fn load_mentions_paged(
    registry: &Registry,
    filter: &str,
    ids: &[i64],
    page_size: usize,
) -> Result<Vec<Mention>, RegistryError> {
    let mut out = Vec::new();
    let chunks: Vec<&[i64]> = if ids.is_empty() {
        vec![&[][..]]
    } else {
        ids.chunks(5_000).collect()
    };
    for chunk in chunks {
        let filter = if chunk.is_empty() {
            filter.to_string()
        } else {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            filter.replace("{ids}", &list.join(","))
        };
        let sql = page_sql(registry.backend(), &filter, page_size);
        let mut after = i64::MIN;
        loop {
            let page: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(after)
                .fetch_one(registry.pool())
                .await?;
            let rows: Vec<RawMention> = serde_json::from_str(&page)
                .map_err(|e| RegistryError::Unreadable(format!("a page of mentions: {e}")))?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            let full = rows.len() == page_size;
            let keep = |v: Option<String>| v.filter(|s| !s.is_empty());
            out.extend(rows.into_iter().map(|r| Mention {
                id: r.0,
                file_id: r.1,
                file_name: r.2,
                sheet: r.3,
                row: r.4,
                role: r.5,
                mapping: r.6,
                values: r.7.map(keep),
                person_id: keep(r.8),
            }));
            if !full {
                break;
            }
        }
    }
    // pages come in id order; sorted again so that nothing rests on how an aggregate orders
    out.sort_by_key(|m| m.id);
    place_by_file_name(&mut out);
    place_by_school(&mut out);
    Ok(out)
}

/// The county named in a file's name (`利辛县住院费用结算明细表.xlsx`), if exactly one resolves.
fn county_of_file_name(name: &str) -> Option<String> {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let text: String = stem
        .chars()
        .map(|c| if c.is_ascii() { ' ' } else { c })
        .collect();
    let address = crate::normalize::addresses::parse_address(&text, &Default::default());
    address.region_code.filter(|_| !address.ambiguous)
}

/// Department exports are usually one county's: a mention with no place of its own (and no
/// subject's place to inherit) is placed in the county its file is named after.
fn place_by_file_name(mentions: &mut [Mention]) {
    let mut counties: HashMap<i64, Option<String>> = HashMap::new();
    let county_column = mention_column("region_code");
    for m in mentions
        .iter_mut()
        .filter(|m| m.values[county_column].is_none())
    {
        let county = counties
            .entry(m.file_id)
            .or_insert_with(|| county_of_file_name(&m.file_name));
        m.values[county_column] = county.clone();
    }
}

/// A school roll's student, and the guardian of the row, whose row gives no township are placed in
/// the township their school is named after (`新安镇中心小学`: 新安镇): a township's central
/// primary school is where its children go.
fn place_by_school(mentions: &mut [Mention]) {
    let (township_column, school_column) = (mention_column("township"), mention_column("school"));
    for m in mentions
        .iter_mut()
        .filter(|m| m.values[township_column].is_none())
    {
        if let Some(township) = m.values[school_column]
            .as_deref()
            .and_then(township_of_school)
        {
            m.values[township_column] = Some(township.to_string());
        }
    }
}

/// The township a school is named after: the name up to its first 镇 or 乡, when no county or
/// city comes before it (`来安县第一中学` names none).
fn township_of_school(school: &str) -> Option<&str> {
    let end = school.find(['镇', '乡'])? + '镇'.len_utf8();
    let township = &school[..end];
    let chars = township.chars().count();
    ((3..=6).contains(&chars) && !township.contains(['县', '市', '区'])).then_some(township)
}

fn dataset(spec: &LinkageSpec, mentions: &[Mention]) -> Dataset {
    let mut groups: foldhash::HashMap<(i64, &str, i64), u32> = foldhash::HashMap::default();
    let row_group: Vec<u32> = mentions
        .iter()
        .map(|m| {
            let next = groups.len() as u32;
            *groups
                .entry((m.file_id, m.sheet.as_str(), m.row))
                .or_insert(next)
        })
        .collect();
    // where each field's columns sit in Mention::values (check_spec has checked the names)
    let positions: Vec<Vec<Option<usize>>> = spec
        .fields
        .iter()
        .map(|f| {
            f.columns
                .iter()
                .map(|c| MENTION_COLUMNS.iter().position(|k| k == c))
                .collect()
        })
        .collect();
    Dataset::from_fn(spec, mentions.len(), row_group, |i, f, values| {
        values.extend(
            positions[f]
                .iter()
                .map(|k| k.and_then(|k| mentions[i].values[k].as_deref())),
        )
    })
}

/// The model stored by a full run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModel {
    /// The model.
    pub model: Model,
    /// Records with a value, per comparison (term-frequency comparisons only; else 0).
    pub tf_totals: Vec<u64>,
}

async fn load_model(registry: &Registry) -> Result<Option<StoredModel>, LinkageError> {
    let row = sqlx::query("SELECT model FROM linkage_model WHERE id = 1")
        .fetch_optional(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    Ok(match row {
        Some(row) => {
            let text: String = row.try_get(0).map_err(RegistryError::from)?;
            serde_json::from_str(&text).ok()
        }
        None => None,
    })
}

/// Term frequencies of `data`'s values, read from the stored counts.
async fn stored_frequencies(
    registry: &Registry,
    spec: &LinkageSpec,
    data: &Dataset,
    stored: &StoredModel,
    extra: bool,
) -> Result<Vec<Option<TermFrequencies>>, LinkageError> {
    let mut out = Vec::new();
    for (c, cmp) in spec.comparisons.iter().enumerate() {
        if !cmp.term_frequency {
            out.push(None);
            continue;
        }
        let field = &spec.fields[cmp.field].name;
        let col = &data.columns[cmp.field];
        let counts = stored_counts(registry, field, col, &col.a, extra).await?;
        let second = if col.kind == super::spec::FieldKind::Name {
            stored_counts(registry, &format!("{field}.pinyin"), col, &col.b, extra).await?
        } else {
            Vec::new()
        };
        out.push(Some(TermFrequencies {
            counts,
            second,
            total: stored.tf_totals.get(c).copied().unwrap_or(0).max(1),
        }));
    }
    Ok(out)
}

/// Stored counts of the symbols in `syms` (strings of `col`); with `extra`, a value not stored yet
/// counts once (it comes with the new mentions).
async fn stored_counts(
    registry: &Registry,
    field: &str,
    col: &super::dataset::Column,
    syms: &[u32],
    extra: bool,
) -> Result<Vec<u32>, LinkageError> {
    let mut wanted: Vec<u32> = syms.iter().copied().filter(|a| *a != 0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut counts = vec![0u32; wanted.last().map_or(1, |m| *m as usize + 1)];
    for chunk in wanted.chunks(500) {
        let mut sql = String::from(
            "SELECT value, count FROM linkage_frequencies WHERE field = $1 AND value IN (",
        );
        for k in 0..chunk.len() {
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("${}", k + 2));
        }
        sql.push(')');
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(field.to_string());
        for s in chunk {
            q = q.bind(col.text(*s).to_string());
        }
        let symbols: HashMap<&str, u32> = chunk.iter().map(|&s| (col.text(s), s)).collect();
        for row in q
            .fetch_all(registry.pool())
            .await
            .map_err(RegistryError::from)?
        {
            let value: String = row.try_get(0).map_err(RegistryError::from)?;
            let count: i64 = row.try_get(1).map_err(RegistryError::from)?;
            if let Some(&sym) = symbols.get(value.as_str()) {
                counts[sym as usize] = count as u32;
            }
        }
    }
    if extra {
        for &a in &wanted {
            if counts[a as usize] == 0 {
                counts[a as usize] = 1;
            }
        }
    }
    Ok(counts)
}

/// What `lifeline match` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct MatchSummary {
    /// `full` or `incremental` (or `nothing to do`).
    pub mode: String,
    /// Mentions resolved in this run (new ones in an incremental run).
    pub mentions: usize,
    /// Existing mentions compared with them (incremental).
    pub compared_existing: usize,
    /// Persons in the registry after the run.
    pub persons: u64,
    /// Households after the run.
    pub households: u64,
    /// Persons created.
    pub new_persons: usize,
    /// Persons merged into another (IDs retired).
    pub merges: usize,
    /// Persons split.
    pub splits: usize,
    /// Pairs added to the review queue.
    pub review_added: usize,
    /// Candidate pairs compared.
    pub pairs: usize,
    /// Merges refused by the guards (different valid IDs, same row, cannot-link).
    pub refused: u64,
    /// Seconds reading, linking, writing.
    pub seconds: [f64; 3],
}

/// An identity change to record.
struct Change {
    kind: &'static str,
    subject: String,
    other: Option<String>,
    reason: String,
}

/// A numbered ID sequence (`P000000001`).
struct Sequence {
    prefix: char,
    next: u64,
}

impl Sequence {
    fn issue(&mut self) -> String {
        self.next += 1;
        format!("{}{:09}", self.prefix, self.next)
    }
}

fn id_number(id: &str) -> u64 {
    id.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The next free number for IDs of `prefix` in `table.column`, counting IDs only kept in the
/// history of identity changes (retired by a merge) too.
async fn sequence(
    registry: &Registry,
    prefix: char,
    table: &str,
    column: &str,
) -> Result<Sequence, RegistryError> {
    let sql = format!(
        "SELECT MAX({column}) FROM {table} \
         UNION ALL SELECT MAX(subject_id) FROM identity_changes WHERE subject_id LIKE '{prefix}%' \
         UNION ALL SELECT MAX(other_id) FROM identity_changes WHERE other_id LIKE '{prefix}%'"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(registry.pool())
        .await?;
    let mut next = 0;
    for row in rows {
        if let Some(id) = row.try_get::<Option<String>, _>(0)? {
            next = next.max(id_number(&id));
        }
    }
    Ok(Sequence { prefix, next })
}

/// Gives every cluster a person ID, keeping existing ones (see the module docs).
fn assign_ids(
    clusters: &[u32],
    old: &[Option<String>],
    seq: &mut Sequence,
    changes: &mut Vec<Change>,
) -> HashMap<u32, String> {
    // How many of each old person's mentions each cluster holds.
    let mut holdings: HashMap<&str, HashMap<u32, usize>> = HashMap::new();
    for (i, p) in old.iter().enumerate() {
        if let Some(p) = p {
            *holdings
                .entry(p.as_str())
                .or_default()
                .entry(clusters[i])
                .or_insert(0) += 1;
        }
    }
    // Old persons each cluster holds mentions of.
    let mut old_in: HashMap<u32, Vec<&str>> = HashMap::new();
    for (i, p) in old.iter().enumerate() {
        if let Some(p) = p {
            old_in.entry(clusters[i]).or_default().push(p.as_str());
        }
    }
    let mut heir: HashMap<u32, Vec<&str>> = HashMap::new();
    let mut old_ids: Vec<&str> = holdings.keys().copied().collect();
    old_ids.sort_unstable();
    for p in &old_ids {
        let h = &holdings[p];
        let best = h
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| *c);
        if let Some(c) = best {
            heir.entry(c).or_default().push(p);
        }
    }
    let mut ids: HashMap<u32, String> = HashMap::new();
    let mut labels: Vec<u32> = clusters.to_vec();
    labels.sort_unstable();
    labels.dedup();
    for c in labels {
        match heir.get_mut(&c) {
            Some(list) => {
                list.sort_unstable();
                let keep = list[0].to_string();
                for other in &list[1..] {
                    changes.push(Change {
                        kind: "merge",
                        subject: keep.clone(),
                        other: Some(other.to_string()),
                        reason: format!(
                            "{other} linked to {keep} by the match model; {other} is retired"
                        ),
                    });
                }
                ids.insert(c, keep);
            }
            None => {
                let id = seq.issue();
                let mut from: Vec<&str> = old_in.get(&c).cloned().unwrap_or_default();
                from.sort_unstable();
                from.dedup();
                for p in from {
                    changes.push(Change {
                        kind: "split",
                        subject: id.clone(),
                        other: Some(p.to_string()),
                        reason: format!("mentions of {p} no longer link to the rest of {p} (review decision or new evidence); they form {id}"),
                    });
                }
                ids.insert(c, id);
            }
        }
    }
    ids
}

fn most_common<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for v in values.flatten() {
        match counts.iter_mut().find(|(x, _)| *x == v) {
            Some(e) => e.1 += 1,
            None => counts.push((v, 1)),
        }
    }
    counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.1.cmp(&b.1.1).then(b.0.cmp(&a.0)))
        .map(|(_, (v, _))| v.to_string())
}

/// A person as written to the `persons` table.
struct PersonRow {
    id: String,
    household: String,
    role: &'static str,
    values: [Option<String>; 7],
    mentions: usize,
}

const PERSON_VALUE_COLUMNS: [&str; 7] = [
    "name",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "address",
    "region_code",
];

fn person_values(members: &[&Mention]) -> [Option<String>; 7] {
    PERSON_VALUE_COLUMNS.map(|c| most_common(members.iter().map(|m| m.value(c))))
}

async fn decisions(
    registry: &Registry,
    index: &HashMap<i64, u32>,
) -> Result<Constraints, RegistryError> {
    let mut c = Constraints::default();
    let rows = sqlx::query(
        "SELECT mention_a, mention_b, status FROM link_reviews WHERE status <> 'pending'",
    )
    .fetch_all(registry.pool())
    .await?;
    for row in rows {
        let (a, b, status): (i64, i64, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if let (Some(&x), Some(&y)) = (index.get(&a), index.get(&b)) {
            match status.as_str() {
                "accepted" => c.must_link.push((x, y)),
                "rejected" => c.cannot_link.push((x, y)),
                _ => {}
            }
        }
    }
    Ok(c)
}

/// Pairs of persons named on one row (subject and each related person); `person_of` gives the
/// person of a mention, `None` for mentions left out.
fn same_row_pairs(
    mentions: &[Mention],
    person_of: &(dyn Fn(usize) -> Option<u32> + Sync),
) -> Vec<(u32, u32)> {
    let mut by_row: HashMap<(i64, &str, i64), Vec<usize>> = HashMap::new();
    for (i, m) in mentions.iter().enumerate() {
        by_row
            .entry((m.file_id, m.sheet.as_str(), m.row))
            .or_default()
            .push(i);
    }
    let mut pairs = Vec::new();
    for group in by_row.values().filter(|g| g.len() > 1) {
        let subject = group
            .iter()
            .find(|&&i| mentions[i].role == "subject")
            .copied()
            .unwrap_or(group[0]);
        for &i in group {
            if i != subject
                && let (Some(a), Some(b)) = (person_of(subject), person_of(i))
            {
                pairs.push((a, b));
            }
        }
    }
    pairs
}

/// Resolves every mention not yet linked (or all, with `full`).
pub async fn match_registry(
    registry: &Registry,
    spec: &LinkageSpec,
    full: bool,
    households: HouseholdOptions,
) -> Result<MatchSummary, LinkageError> {
    check_spec(spec)?;
    let stored = load_model(registry).await?;
    let linked: i64 = sqlx::query("SELECT COUNT(*) FROM mention_links")
        .fetch_one(registry.pool())
        .await
        .and_then(|r| r.try_get(0))
        .map_err(RegistryError::from)?;
    // Decisions taken since the last full run re-cluster everything with the stored model, so
    // that a cannot-link can split a person and a must-link can join two.
    let newer_decisions: i64 = sqlx::query(
        "SELECT COUNT(*) FROM link_reviews WHERE status <> 'pending' AND decided_at >= COALESCE((SELECT trained_at FROM linkage_model WHERE id = 1), '')",
    )
    .fetch_one(registry.pool())
    .await
    .and_then(|r| r.try_get(0))
    .map_err(RegistryError::from)?;
    match stored {
        Some(stored) if !full && newer_decisions > 0 => {
            full_run(registry, spec, households, Some(stored)).await
        }
        Some(stored) if !full && linked > 0 => {
            incremental(registry, spec, stored, households).await
        }
        _ => full_run(registry, spec, households, None).await,
    }
}

async fn full_run(
    registry: &Registry,
    spec: &LinkageSpec,
    options: HouseholdOptions,
    stored: Option<StoredModel>,
) -> Result<MatchSummary, LinkageError> {
    let t0 = Instant::now();
    let mentions = load_mentions(registry, "", &[]).await?;
    let mut summary = MatchSummary {
        mode: "full".into(),
        mentions: mentions.len(),
        ..Default::default()
    };
    if mentions.is_empty() {
        summary.mode = "nothing to do".into();
        return Ok(summary);
    }
    tracing::debug!(
        "read {} mentions in {:.2} s",
        mentions.len(),
        t0.elapsed().as_secs_f64()
    );
    let data = dataset(spec, &mentions);
    tracing::debug!(
        "prepared the comparison columns at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let index: HashMap<i64, u32> = mentions
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i as u32))
        .collect();
    let constraints = decisions(registry, &index).await?;
    let old_households: HashMap<String, String> =
        sqlx::query("SELECT person_id, household_id FROM persons")
            .fetch_all(registry.pool())
            .await
            .map_err(RegistryError::from)?
            .into_iter()
            .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
            .collect();
    let t1 = Instant::now();
    summary.seconds[0] = (t1 - t0).as_secs_f64();
    let resolution = match stored {
        Some(stored) => {
            summary.mode = "full, stored model (review decisions applied)".into();
            let scorer = Scorer::new(spec, &stored.model, &data);
            super::resolve_scored(spec, &data, &constraints, stored.model, scorer, |_, _| true)
        }
        None => super::resolve(spec, &data, &constraints),
    };
    summary.pairs = resolution.candidates.len();
    let r = &resolution.refusals;
    summary.refused = r.different_ids + r.guarded + r.same_row + r.cannot_link;
    let mut changes = Vec::new();
    let mut seq = sequence(registry, 'P', "persons", "person_id").await?;
    let before = seq.next;
    let old: Vec<Option<String>> = mentions.iter().map(|m| m.person_id.clone()).collect();
    let ids = assign_ids(&resolution.clusters, &old, &mut seq, &mut changes);
    summary.new_persons = (seq.next - before) as usize;
    summary.merges = changes.iter().filter(|c| c.kind == "merge").count();
    summary.splits = changes.iter().filter(|c| c.kind == "split").count();
    // Persons, in cluster order.
    let mut person_index: HashMap<u32, u32> = HashMap::new();
    let mut members: Vec<Vec<&Mention>> = Vec::new();
    let mut cluster_of_person: Vec<u32> = Vec::new();
    for (i, m) in mentions.iter().enumerate() {
        let c = resolution.clusters[i];
        let p = *person_index.entry(c).or_insert_with(|| {
            members.push(Vec::new());
            cluster_of_person.push(c);
            (members.len() - 1) as u32
        });
        members[p as usize].push(m);
    }
    let person_ids: Vec<&String> = cluster_of_person.iter().map(|c| &ids[c]).collect();
    let values: Vec<[Option<String>; 7]> = members.iter().map(|m| person_values(m)).collect();
    let facts: Vec<PersonFacts> = values
        .iter()
        .map(|v| PersonFacts {
            surname: v[0].as_deref().and_then(super::chinese::surname),
            address: v[5].clone(),
            phone: v[4].clone(),
        })
        .collect();
    let clusters = &resolution.clusters;
    let same_row = same_row_pairs(&mentions, &|i| Some(person_index[&clusters[i]]));
    let (household_label, _) = households::build(&facts, &same_row, options);
    let mut hseq = sequence(registry, 'H', "households", "household_id").await?;
    let old_household: Vec<Option<String>> = person_ids
        .iter()
        .map(|p| old_households.get(p.as_str()).cloned())
        .collect();
    let household_ids = assign_ids(&household_label, &old_household, &mut hseq, &mut changes);
    let roles = household_roles(&household_label, &members, &values);
    let mut persons: Vec<PersonRow> = (0..members.len())
        .map(|p| PersonRow {
            id: person_ids[p].clone(),
            household: household_ids[&household_label[p]].clone(),
            role: roles[p],
            values: values[p].clone(),
            mentions: members[p].len(),
        })
        .collect();
    // in key order, a bulk insert appends to the primary-key B-tree
    persons.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let t2 = Instant::now();
    summary.seconds[1] = (t2 - t1).as_secs_f64();
    // Write everything in one transaction.
    let backend = registry.backend();
    let mut tx = registry.pool().begin().await.map_err(RegistryError::from)?;
    for table in [
        "mention_links",
        "persons",
        "households",
        "linkage_keys",
        "linkage_frequencies",
        "linkage_model",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *tx)
            .await
            .map_err(RegistryError::from)?;
    }
    // Secondary indexes are built once after the bulk inserts (one sort) rather than row by row,
    // from the definitions the database holds (the migrations' own).
    let mut rebuilt = Vec::new();
    for name in REBUILT_INDEXES {
        let definition: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(index_definition_sql(backend)))
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(RegistryError::from)?;
        if let Some(definition) = definition {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
                .execute(&mut *tx)
                .await
                .map_err(RegistryError::from)?;
            rebuilt.push(definition);
        }
    }
    let stamp = now();
    let links: Vec<Vec<Cell>> = mentions
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                Cell::Int(m.id),
                Cell::Text(Some(ids[&resolution.clusters[i]].clone())),
                Cell::Text(Some(stamp.clone())),
            ]
        })
        .collect();
    insert_rows(
        &mut tx,
        backend,
        "mention_links",
        &["mention_id", "person_id", "linked_at"],
        links,
        None,
    )
    .await?;
    tracing::debug!("wrote mention links at {:.2} s", t2.elapsed().as_secs_f64());
    write_persons_and_households(&mut tx, backend, &persons, &stamp).await?;
    tracing::debug!(
        "wrote persons and households at {:.2} s",
        t2.elapsed().as_secs_f64()
    );
    // Keys of blocks too large to expand are never followed: not worth storing.
    let key_rows = key_rows(&resolution.keys, |i| mentions[i].id, Some(spec.max_block));
    insert_rows(
        &mut tx,
        backend,
        "linkage_keys",
        &["key", "mention_id"],
        key_rows,
        None,
    )
    .await?;
    tracing::debug!("wrote blocking keys at {:.2} s", t2.elapsed().as_secs_f64());
    for create in rebuilt {
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut *tx)
            .await
            .map_err(RegistryError::from)?;
    }
    tracing::debug!("indexed at {:.2} s", t2.elapsed().as_secs_f64());
    let mut tf_totals = vec![0u64; spec.comparisons.len()];
    let mut freq_rows = Vec::new();
    for (c, cmp) in spec.comparisons.iter().enumerate() {
        if !cmp.term_frequency {
            continue;
        }
        let tf = TermFrequencies::of(&data, cmp.field);
        tf_totals[c] = tf.total;
        let field = &spec.fields[cmp.field];
        let pinyin = format!("{}.pinyin", field.name);
        for (name, counts) in [(&field.name, &tf.counts), (&pinyin, &tf.second)] {
            for (sym, count) in counts.iter().enumerate() {
                if *count > 0 {
                    freq_rows.push(vec![
                        Cell::Text(Some(name.clone())),
                        Cell::Text(Some(data.columns[cmp.field].text(sym as u32).to_string())),
                        Cell::Int(*count as i64),
                    ]);
                }
            }
        }
    }
    insert_rows(
        &mut tx,
        backend,
        "linkage_frequencies",
        &["field", "value", "count"],
        freq_rows,
        None,
    )
    .await?;
    let stored = StoredModel {
        model: resolution.model.clone(),
        tf_totals,
    };
    sqlx::query("INSERT INTO linkage_model (id, trained_at, spec, model) VALUES (1, $1, $2, $3)")
        .bind(stamp.clone())
        .bind(format!(
            "{} fields, {} rules, {} comparisons",
            spec.fields.len(),
            spec.blocking.len(),
            spec.comparisons.len()
        ))
        .bind(serde_json::to_string(&stored).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(RegistryError::from)?;
    write_changes(&mut tx, backend, &changes, &stamp).await?;
    tracing::debug!(
        "wrote frequencies, model and changes at {:.2} s",
        t2.elapsed().as_secs_f64()
    );
    summary.review_added = write_review(
        &mut tx,
        backend,
        &resolution.review,
        &|i| mentions[i as usize].id,
        &stamp,
    )
    .await?;
    tx.commit().await.map_err(RegistryError::from)?;
    if backend == Backend::Postgres {
        // the planner's statistics still describe the tables before the rewrite (a million
        // persons "5,000 to a household"); autovacuum may be off or hours behind
        sqlx::query("ANALYZE persons, households, mention_links, linkage_keys")
            .execute(registry.pool())
            .await
            .map_err(RegistryError::from)?;
    }
    summary.seconds[2] = t2.elapsed().as_secs_f64();
    summary.persons = persons.len() as u64;
    summary.households = household_ids.len() as u64;
    Ok(summary)
}

/// Secondary indexes of the tables a full run rewrites: dropped before its bulk inserts and built
/// again after them.
const REBUILT_INDEXES: [&str; 3] = [
    "mention_links_by_person",
    "persons_by_household",
    "linkage_keys_by_key",
];

/// The statement that creates the index named `$1`, as the database holds it.
fn index_definition_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
        Backend::Postgres => {
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
        }
    }
}

/// Rows of `linkage_keys` for `keys[rule][record]`; with `max_block`, keys of blocks too large to
/// expand are left out (an incremental run never follows them: not worth storing).
fn key_rows(
    keys: &[Vec<u64>],
    mention_id: impl Fn(usize) -> i64,
    max_block: Option<usize>,
) -> Vec<Vec<Cell>> {
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    for (r, rule_keys) in keys.iter().enumerate() {
        let mut sizes: foldhash::HashMap<u64, usize> = foldhash::HashMap::default();
        if max_block.is_some() {
            for k in rule_keys.iter().filter(|k| **k != 0) {
                *sizes.entry(*k).or_insert(0) += 1;
            }
        }
        for (i, k) in rule_keys.iter().enumerate() {
            if *k != 0 && max_block.is_none_or(|most| sizes[k] <= most) {
                pairs.push((rule_key(r, *k), mention_id(i)));
            }
        }
    }
    // in key order, building the key index afterwards is a sort of sorted input
    pairs.sort_unstable();
    pairs
        .into_iter()
        .map(|(key, mention)| vec![Cell::Int(key), Cell::Int(mention)])
        .collect()
}

/// Blocking keys are stored per rule.
fn rule_key(rule: usize, key: u64) -> i64 {
    (key ^ ((rule as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407))) as i64
}

/// The head of each household: a person who is the subject of an assistance-roster or disaster
/// row (those list the household head), else the oldest member.
fn household_roles(
    label: &[u32],
    members: &[Vec<&Mention>],
    values: &[[Option<String>; 7]],
) -> Vec<&'static str> {
    let mut head: HashMap<u32, (u8, String, usize)> = HashMap::new();
    for (p, ms) in members.iter().enumerate() {
        let listed_head = ms.iter().any(|m| {
            m.role == "subject"
                && matches!(m.mapping.as_str(), "civil_affairs_roster" | "emergency")
        });
        let born = values[p][3].clone().unwrap_or_else(|| "9999".into());
        let rank = (if listed_head { 0 } else { 1 }, born, p);
        let e = head.entry(label[p]).or_insert_with(|| rank.clone());
        if rank < *e {
            *e = rank;
        }
    }
    (0..members.len())
        .map(|p| {
            if head[&label[p]].2 == p {
                "head"
            } else {
                "member"
            }
        })
        .collect()
}

async fn insert_persons(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    persons: &[PersonRow],
    stamp: &str,
) -> Result<(), RegistryError> {
    let rows: Vec<Vec<Cell>> = persons
        .iter()
        .map(|p| {
            let mut row = vec![
                Cell::Text(Some(p.id.clone())),
                Cell::Text(Some(p.household.clone())),
                Cell::Text(Some(p.role.to_string())),
            ];
            row.extend(p.values.iter().map(|v| Cell::Text(v.clone())));
            row.push(Cell::Int(p.mentions as i64));
            row.push(Cell::Text(Some(stamp.to_string())));
            row.push(Cell::Text(Some(stamp.to_string())));
            row
        })
        .collect();
    let mut columns = vec!["person_id", "household_id", "household_role"];
    columns.extend(PERSON_VALUE_COLUMNS);
    columns.extend(["mentions", "created_at", "updated_at"]);
    insert_rows(tx, backend, "persons", &columns, rows, None).await?;
    Ok(())
}

async fn write_persons_and_households(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    persons: &[PersonRow],
    stamp: &str,
) -> Result<(), RegistryError> {
    insert_persons(tx, backend, persons, stamp).await?;
    let mut households: HashMap<&str, (Option<&PersonRow>, usize, Vec<&PersonRow>)> =
        HashMap::new();
    for p in persons {
        let e = households
            .entry(p.household.as_str())
            .or_insert((None, 0, Vec::new()));
        e.1 += 1;
        e.2.push(p);
        if p.role == "head" {
            e.0 = Some(p);
        }
    }
    let mut households: Vec<_> = households.into_iter().collect();
    households.sort_unstable_by_key(|(id, _)| *id);
    let mut rows = Vec::new();
    for (id, (head, count, members)) in households {
        let head = head.or(members.first().copied());
        let address = head
            .and_then(|h| h.values[5].clone())
            .or_else(|| members.iter().find_map(|m| m.values[5].clone()));
        let region = head
            .and_then(|h| h.values[6].clone())
            .or_else(|| members.iter().find_map(|m| m.values[6].clone()));
        rows.push(vec![
            Cell::Text(Some(id.to_string())),
            Cell::Text(head.map(|h| h.id.clone())),
            Cell::Text(address),
            Cell::Text(region),
            Cell::Text(None),
            Cell::Text(None),
            Cell::Int(count as i64),
            Cell::Text(Some(stamp.to_string())),
            Cell::Text(Some(stamp.to_string())),
        ]);
    }
    insert_rows(
        tx,
        backend,
        "households",
        &[
            "household_id",
            "head_person_id",
            "address",
            "region_code",
            "township",
            "village",
            "members",
            "created_at",
            "updated_at",
        ],
        rows,
        None,
    )
    .await?;
    Ok(())
}

async fn write_changes(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    changes: &[Change],
    stamp: &str,
) -> Result<(), RegistryError> {
    let rows = changes
        .iter()
        .map(|c| {
            vec![
                Cell::Text(Some(stamp.to_string())),
                Cell::Text(Some(c.kind.to_string())),
                Cell::Text(Some(c.subject.clone())),
                Cell::Text(c.other.clone()),
                Cell::Text(Some(c.reason.clone())),
            ]
        })
        .collect();
    insert_rows(
        tx,
        backend,
        "identity_changes",
        &["changed_at", "kind", "subject_id", "other_id", "reason"],
        rows,
        None,
    )
    .await?;
    Ok(())
}

/// At most this many uncertain pairs are queued per run, the strongest first: a queue nobody can
/// work through helps nobody.
pub const REVIEW_PER_RUN: usize = 5_000;

async fn write_review(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    band: &[(f32, u32, u32)],
    id_of: &(dyn Fn(u32) -> i64 + Sync),
    stamp: &str,
) -> Result<usize, RegistryError> {
    let mut strongest: Vec<&(f32, u32, u32)> = band.iter().collect();
    strongest.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    strongest.truncate(REVIEW_PER_RUN);
    let columns = ["mention_a", "mention_b", "score", "status", "created_at"];
    let mut added = 0;
    for chunk in strongest.chunks(PARAMETERS / columns.len()) {
        let sql = format!(
            "{} ON CONFLICT (mention_a, mention_b) DO NOTHING",
            insert_sql("link_reviews", &columns, chunk.len(), backend)
        );
        let mut q: Query<'_, Any, AnyArguments> = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &&(w, i, j) in chunk {
            let (a, b) = (id_of(i).min(id_of(j)), id_of(i).max(id_of(j)));
            q = q
                .bind(a)
                .bind(b)
                .bind(w as f64)
                .bind("pending")
                .bind(stamp.to_string());
        }
        added += q.execute(&mut **tx).await?.rows_affected() as usize;
    }
    Ok(added)
}

async fn incremental(
    registry: &Registry,
    spec: &LinkageSpec,
    stored: StoredModel,
    options: HouseholdOptions,
) -> Result<MatchSummary, LinkageError> {
    let t0 = Instant::now();
    // NOT EXISTS, not `l.mention_id IS NULL`: SQLite tests it on each mention before joining the
    // row's other tables, instead of after (3.4 s against 0.8 s for the first page at 1.1M)
    let new = load_mentions(
        registry,
        "WHERE NOT EXISTS (SELECT 1 FROM mention_links x WHERE x.mention_id = m.id)",
        &[],
    )
    .await?;
    let mut summary = MatchSummary {
        mode: "incremental".into(),
        mentions: new.len(),
        ..Default::default()
    };
    if new.is_empty() {
        summary.mode = "nothing to do".into();
        summary.persons = count(registry, "persons").await?;
        summary.households = count(registry, "households").await?;
        return Ok(summary);
    }
    // Existing mentions sharing a blocking key with a new one, then every mention of their persons.
    let new_data = dataset(spec, &new);
    tracing::debug!(
        "incremental: read the new mentions at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let new_keys = blocking::all_keys(spec, &new_data);
    let mut keys: Vec<i64> = Vec::new();
    for (r, rule_keys) in new_keys.iter().enumerate() {
        keys.extend(
            rule_keys
                .iter()
                .filter(|k| **k != 0)
                .map(|k| rule_key(r, *k)),
        );
    }
    keys.sort_unstable();
    keys.dedup();
    let mut candidate_persons: HashSet<String> = HashSet::new();
    for chunk in keys.chunks(2_000) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        // Keys of blocks the full run found too large to expand are not followed either (a very
        // common name in one county), so that a batch never drags in half the registry.
        let sql = format!(
            "SELECT DISTINCT l.person_id FROM linkage_keys k JOIN mention_links l ON l.mention_id = k.mention_id \
             WHERE k.key IN (SELECT key FROM linkage_keys WHERE key IN ({}) GROUP BY key HAVING COUNT(*) <= {})",
            list.join(","),
            spec.max_block
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(registry.pool())
            .await
            .map_err(RegistryError::from)?
        {
            candidate_persons.insert(row.try_get(0).map_err(RegistryError::from)?);
        }
    }
    tracing::debug!(
        keys = keys.len(),
        persons = candidate_persons.len(),
        "incremental: found the persons sharing a key at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    // The persons' mention ids first (through the links' person index), then the mentions in id
    // order: read person by person they lay scattered over the whole registry, and every chunk
    // touched pages all over it (3.7 s for 198,000 mentions at 1.1M; in id order each page is
    // read once).
    let persons_list: Vec<String> = candidate_persons.into_iter().collect();
    let mut existing_ids: Vec<i64> = Vec::new();
    for chunk in persons_list.chunks(2_000) {
        let list: Vec<String> = chunk
            .iter()
            .map(|p| format!("'{}'", p.replace('\'', "''")))
            .collect();
        let sql = format!(
            "SELECT mention_id FROM mention_links WHERE person_id IN ({})",
            list.join(",")
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(registry.pool())
            .await
            .map_err(RegistryError::from)?
        {
            existing_ids.push(row.try_get(0).map_err(RegistryError::from)?);
        }
    }
    existing_ids.sort_unstable();
    existing_ids.dedup();
    let existing: Vec<Mention> = if existing_ids.is_empty() {
        Vec::new()
    } else {
        load_mentions(registry, "WHERE m.id IN ({ids})", &existing_ids).await?
    };
    summary.compared_existing = existing.len();
    tracing::debug!(
        "incremental: read the existing mentions sharing a key at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let n_existing = existing.len();
    let mut all = existing;
    all.extend(new);
    let data = dataset(spec, &all);
    let index: HashMap<i64, u32> = all
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i as u32))
        .collect();
    let mut constraints = decisions(registry, &index).await?;
    // Existing persons stay whole.
    let mut first_of: HashMap<&str, u32> = HashMap::new();
    for (i, m) in all.iter().enumerate().take(n_existing) {
        if let Some(p) = &m.person_id {
            match first_of.get(p.as_str()) {
                Some(&f) => constraints.must_link.push((f, i as u32)),
                None => {
                    first_of.insert(p, i as u32);
                }
            }
        }
    }
    let t1 = Instant::now();
    summary.seconds[0] = (t1 - t0).as_secs_f64();
    let tf = stored_frequencies(registry, spec, &data, &stored, true).await?;
    let scorer = Scorer::with_frequencies(spec, &stored.model, tf);
    tracing::debug!(
        "incremental: read term frequencies at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let resolution = super::resolve_scored(
        spec,
        &data,
        &constraints,
        stored.model.clone(),
        scorer,
        |i, j| i as usize >= n_existing || j as usize >= n_existing,
    );
    summary.pairs = resolution.candidates.len();
    tracing::debug!(
        "incremental: scored and clustered at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let r = &resolution.refusals;
    summary.refused = r.different_ids + r.guarded + r.same_row + r.cannot_link;
    let mut changes = Vec::new();
    let mut seq = sequence(registry, 'P', "persons", "person_id").await?;
    let before = seq.next;
    let old: Vec<Option<String>> = all.iter().map(|m| m.person_id.clone()).collect();
    let ids = assign_ids(&resolution.clusters, &old, &mut seq, &mut changes);
    summary.new_persons = (seq.next - before) as usize;
    summary.merges = changes.iter().filter(|c| c.kind == "merge").count();
    // Persons touched: clusters holding a new mention or a mention whose person changes, and the
    // clusters of every person that loses a mention. The other existing persons read here (they
    // only shared a blocking key with the batch) are exactly as stored and are not rewritten.
    let clusters = &resolution.clusters;
    let moved = |i: usize| all[i].person_id.as_deref() != Some(ids[&clusters[i]].as_str());
    let losing: HashSet<&str> = (0..n_existing)
        .filter(|&i| moved(i))
        .filter_map(|i| all[i].person_id.as_deref())
        .collect();
    let changed: HashSet<u32> = (0..all.len())
        .filter(|&i| {
            moved(i)
                || all[i]
                    .person_id
                    .as_deref()
                    .is_some_and(|p| losing.contains(p))
        })
        .map(|i| clusters[i])
        .collect();
    let in_changed = |i: usize| changed.contains(&clusters[i]);
    let mut members: HashMap<&str, Vec<&Mention>> = HashMap::new();
    for (i, m) in all.iter().enumerate().filter(|(i, _)| in_changed(*i)) {
        members
            .entry(ids[&clusters[i]].as_str())
            .or_default()
            .push(m);
    }
    let retired: Vec<String> = changes
        .iter()
        .filter(|c| c.kind == "merge")
        .filter_map(|c| c.other.clone())
        .collect();
    // Households: existing households of the touched persons, joined by new same-row evidence.
    let touched: Vec<&str> = {
        let mut t: Vec<&str> = members.keys().copied().collect();
        t.sort_unstable();
        t
    };
    let mut old_household: HashMap<String, String> = HashMap::new();
    for chunk in touched
        .iter()
        .map(|s| s.to_string())
        .chain(retired.iter().cloned())
        .collect::<Vec<_>>()
        .chunks(2_000)
    {
        let list: Vec<String> = chunk
            .iter()
            .map(|p| format!("'{}'", p.replace('\'', "''")))
            .collect();
        let sql = format!(
            "SELECT person_id, household_id FROM persons WHERE person_id IN ({})",
            list.join(",")
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(registry.pool())
            .await
            .map_err(RegistryError::from)?
        {
            old_household.insert(
                row.try_get(0).map_err(RegistryError::from)?,
                row.try_get(1).map_err(RegistryError::from)?,
            );
        }
    }
    // Households of retired persons follow the person they merged into.
    for c in changes.iter().filter(|c| c.kind == "merge") {
        if let (Some(o), None) = (
            c.other.as_ref().and_then(|o| old_household.get(o)).cloned(),
            old_household.get(&c.subject),
        ) {
            old_household.insert(c.subject.clone(), o);
        }
    }
    let pidx: HashMap<&str, u32> = touched
        .iter()
        .enumerate()
        .map(|(k, p)| (*p, k as u32))
        .collect();
    let values: Vec<[Option<String>; 7]> =
        touched.iter().map(|p| person_values(&members[p])).collect();
    let facts: Vec<PersonFacts> = values
        .iter()
        .map(|v| PersonFacts {
            surname: v[0].as_deref().and_then(super::chinese::surname),
            address: v[5].clone(),
            phone: v[4].clone(),
        })
        .collect();
    let mut same_row = same_row_pairs(&all, &|i| {
        in_changed(i).then(|| pidx[ids[&clusters[i]].as_str()])
    });
    // Persons already sharing a household stay together.
    let mut by_household: HashMap<&str, u32> = HashMap::new();
    for (k, p) in touched.iter().enumerate() {
        if let Some(h) = old_household.get(*p) {
            match by_household.get(h.as_str()) {
                Some(&f) => same_row.push((f, k as u32)),
                None => {
                    by_household.insert(h, k as u32);
                }
            }
        }
    }
    let (label, _) = households::build(
        &facts,
        &same_row,
        HouseholdOptions {
            shared_phone_max_persons: 0,
            ..options
        },
    );
    let mut hseq = sequence(registry, 'H', "households", "household_id").await?;
    let old_h: Vec<Option<String>> = touched
        .iter()
        .map(|p| old_household.get(*p).cloned())
        .collect();
    let household_ids = assign_ids(&label, &old_h, &mut hseq, &mut changes);
    let member_lists: Vec<Vec<&Mention>> = touched.iter().map(|p| members[p].clone()).collect();
    let roles = household_roles(&label, &member_lists, &values);
    let persons: Vec<PersonRow> = touched
        .iter()
        .enumerate()
        .map(|(k, p)| PersonRow {
            id: p.to_string(),
            household: household_ids[&label[k]].clone(),
            role: roles[k],
            values: values[k].clone(),
            mentions: members[p].len(),
        })
        .collect();
    let t2 = Instant::now();
    summary.seconds[1] = (t2 - t1).as_secs_f64();
    let backend = registry.backend();
    let stamp = now();
    let mut tx = registry.pool().begin().await.map_err(RegistryError::from)?;
    tracing::debug!(
        "incremental: built persons and households at {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    // Replace the touched persons and households (their other members keep their rows).
    let households_touched: HashSet<&str> = old_h
        .iter()
        .flatten()
        .map(String::as_str)
        .chain(household_ids.values().map(String::as_str))
        .collect();
    let mut person_list: Vec<String> = touched
        .iter()
        .map(|s| s.to_string())
        .chain(retired.iter().cloned())
        .chain(losing.iter().map(|s| s.to_string()))
        .collect();
    person_list.sort_unstable();
    person_list.dedup();
    for chunk in person_list.chunks(2_000) {
        let list: Vec<String> = chunk
            .iter()
            .map(|p| format!("'{}'", p.replace('\'', "''")))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM persons WHERE person_id IN ({})",
            list.join(",")
        )))
        .execute(&mut *tx)
        .await
        .map_err(RegistryError::from)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM mention_links WHERE person_id IN ({})",
            list.join(",")
        )))
        .execute(&mut *tx)
        .await
        .map_err(RegistryError::from)?;
    }
    let links: Vec<Vec<Cell>> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| in_changed(*i))
        .map(|(i, m)| {
            vec![
                Cell::Int(m.id),
                Cell::Text(Some(ids[&clusters[i]].clone())),
                Cell::Text(Some(stamp.clone())),
            ]
        })
        .collect();
    insert_rows(
        &mut tx,
        backend,
        "mention_links",
        &["mention_id", "person_id", "linked_at"],
        links,
        None,
    )
    .await?;
    let h_list: Vec<String> = households_touched
        .iter()
        .map(|h| format!("'{}'", h.replace('\'', "''")))
        .collect();
    for chunk in h_list.chunks(2_000) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM households WHERE household_id IN ({})",
            chunk.join(",")
        )))
        .execute(&mut *tx)
        .await
        .map_err(RegistryError::from)?;
    }
    // Untouched members of touched households move with their household.
    for (old, new) in old_h.iter().zip(label.iter().map(|l| &household_ids[l])) {
        if let Some(old) = old
            && old != new
        {
            sqlx::query("UPDATE persons SET household_id = $1 WHERE household_id = $2")
                .bind(new.clone())
                .bind(old.clone())
                .execute(&mut *tx)
                .await
                .map_err(RegistryError::from)?;
        }
    }
    write_persons_and_households_incremental(
        &mut tx,
        backend,
        &persons,
        &households_touched,
        &stamp,
    )
    .await?;
    let key_rows = key_rows(&new_keys, |i| all[n_existing + i].id, None);
    insert_rows(
        &mut tx,
        backend,
        "linkage_keys",
        &["key", "mention_id"],
        key_rows,
        None,
    )
    .await?;
    write_changes(&mut tx, backend, &changes, &stamp).await?;
    summary.review_added = write_review(
        &mut tx,
        backend,
        &resolution.review,
        &|i| all[i as usize].id,
        &stamp,
    )
    .await?;
    tx.commit().await.map_err(RegistryError::from)?;
    tracing::debug!("incremental: wrote at {:.2} s", t0.elapsed().as_secs_f64());
    summary.seconds[2] = t2.elapsed().as_secs_f64();
    summary.persons = count(registry, "persons").await?;
    summary.households = count(registry, "households").await?;
    Ok(summary)
}

async fn write_persons_and_households_incremental(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    persons: &[PersonRow],
    households: &HashSet<&str>,
    stamp: &str,
) -> Result<(), RegistryError> {
    // Persons rows first; household rows are rebuilt from every member now in the table.
    insert_persons(tx, backend, persons, stamp).await?;
    let mut ids: HashSet<&str> = households.clone();
    ids.extend(persons.iter().map(|p| p.household.as_str()));
    let list: Vec<String> = ids
        .iter()
        .map(|h| format!("'{}'", h.replace('\'', "''")))
        .collect();
    for chunk in list.chunks(2_000) {
        let sql = format!(
            "INSERT INTO households (household_id, head_person_id, address, region_code, township, village, members, created_at, updated_at) \
             SELECT p.household_id, MIN(CASE WHEN p.household_role = 'head' THEN p.person_id END), MAX(p.address), MAX(p.region_code), NULL, NULL, COUNT(*), '{stamp}', '{stamp}' \
             FROM persons p WHERE p.household_id IN ({}) GROUP BY p.household_id",
            chunk.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn count(registry: &Registry, table: &str) -> Result<u64, RegistryError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(registry.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)? as u64)
}

/// Two mentions side by side, field by field.
#[derive(Debug, Serialize)]
pub struct PairExplanation {
    /// Lineage of the left mention.
    pub left: String,
    /// Lineage of the right mention.
    pub right: String,
    /// Field-by-field weights.
    pub explanation: Explanation,
    /// Current persons.
    pub persons: (Option<String>, Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mentions read a few at a time are the mentions read in one page, field by field.
    #[tokio::test]
    async fn mentions_read_in_pages_are_all_the_mentions() {
        let dir = tempfile::tempdir().unwrap();
        let exports = dir.path().join("exports");
        crate::samples::generate(
            &crate::samples::SampleOptions {
                households: 40,
                seed: 3,
                ..Default::default()
            },
            &exports,
        )
        .unwrap();
        let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
            .await
            .unwrap();
        let mappings = crate::mapping::MappingSet::built_in().unwrap();
        let options = crate::ingest::IngestOptions {
            receipts_dir: Some(dir.path().join("receipts")),
            ..Default::default()
        };
        crate::ingest::Ingestor::new(&registry, &mappings, options)
            .ingest_paths(&[exports])
            .await
            .unwrap();
        let one_page = load_mentions_paged(&registry, "", &[], 1_000_000)
            .await
            .unwrap();
        assert!(one_page.len() > 50, "{} mentions", one_page.len());
        let paged = load_mentions_paged(&registry, "", &[], 7).await.unwrap();
        let fields = |m: &Mention| {
            format!(
                "{} {} {} {} {} {} {} {:?} {:?}",
                m.id,
                m.file_id,
                m.file_name,
                m.sheet,
                m.row,
                m.role,
                m.mapping,
                m.values,
                m.person_id
            )
        };
        assert_eq!(
            one_page.iter().map(fields).collect::<Vec<_>>(),
            paged.iter().map(fields).collect::<Vec<_>>()
        );
        assert!(one_page.windows(2).all(|w| w[0].id < w[1].id));
        // a filter and a list of ids page the same way
        let ids: Vec<i64> = one_page.iter().map(|m| m.id).step_by(3).collect();
        let chosen = load_mentions_paged(&registry, "WHERE m.id IN ({ids})", &ids, 4)
            .await
            .unwrap();
        assert_eq!(chosen.iter().map(|m| m.id).collect::<Vec<_>>(), ids);

        // a guardian or next of kin without a place of their own is read at the subject's
        // county, township, village and address (the group below the village comes from it)
        let placed: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT m.id, s.id FROM mentions m JOIN mentions s ON s.file_id = m.file_id \
             AND s.sheet = m.sheet AND s.row_number = m.row_number AND s.role = 'subject' \
             WHERE m.role <> 'subject' AND m.region_code IS NULL AND m.township IS NULL \
             AND m.village IS NULL AND m.address IS NULL AND s.address IS NOT NULL",
        )
        .fetch_all(registry.pool())
        .await
        .unwrap();
        assert!(
            !placed.is_empty(),
            "the sample has related persons to place"
        );
        let by_id: HashMap<i64, &Mention> = one_page.iter().map(|m| (m.id, m)).collect();
        for (related, subject) in placed {
            for column in ["region_code", "township", "village", "address"] {
                assert_eq!(
                    by_id[&related].value(column),
                    by_id[&subject].value(column),
                    "{column} of mention {related}"
                );
            }
        }

        // a hospital stay's patient is read with the stay's diagnosis; nobody else has one
        let diagnoses: HashMap<i64, Option<String>> = sqlx::query_as(
            "SELECT m.id, json_extract(r.attributes, '$.diagnosis') FROM mentions m \
             JOIN records r ON r.file_id = m.file_id AND r.sheet = m.sheet \
             AND r.row_number = m.row_number \
             WHERE m.role = 'subject' AND r.mapping = 'health'",
        )
        .fetch_all(registry.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
        assert!(
            diagnoses.values().any(Option::is_some),
            "the sample has hospital stays with a diagnosis"
        );
        for m in &one_page {
            assert_eq!(
                m.value("diagnosis"),
                diagnoses
                    .get(&m.id)
                    .and_then(Option::as_deref)
                    .filter(|d| !d.is_empty()),
                "diagnosis of mention {} ({}, {})",
                m.id,
                m.mapping,
                m.role
            );
        }
    }

    #[test]
    fn a_school_names_its_township() {
        assert_eq!(township_of_school("新安镇中心小学"), Some("新安镇"));
        assert_eq!(township_of_school("杨郢乡初级中学"), Some("杨郢乡"));
        assert_eq!(township_of_school("来安县第一中学"), None);
        assert_eq!(township_of_school("来安县新安镇中心小学"), None);
        assert_eq!(township_of_school("实验小学"), None);
    }

    #[test]
    fn county_is_read_from_file_names() {
        assert_eq!(
            county_of_file_name("利辛县住院费用结算明细表(2024.11-2026.10).xlsx").as_deref(),
            Some("341623")
        );
        assert_eq!(
            county_of_file_name("civil_roster_定远县_202610.csv").as_deref(),
            Some("341125")
        );
        assert_eq!(county_of_file_name("住院结算导出.xlsx"), None);
    }
}

fn lineage(m: &Mention) -> String {
    format!(
        "mention {} — {} / {} / row {} ({})",
        m.id, m.file_name, m.sheet, m.row, m.role
    )
}

async fn scorer_for(
    registry: &Registry,
    spec: &LinkageSpec,
    data: &Dataset,
) -> Result<(Scorer, StoredModel), LinkageError> {
    let stored = load_model(registry)
        .await?
        .ok_or_else(|| LinkageError::Invalid("no model yet: run `lifeline match` first".into()))?;
    let tf = stored_frequencies(registry, spec, data, &stored, true).await?;
    Ok((Scorer::with_frequencies(spec, &stored.model, tf), stored))
}

/// `lifeline explain pair A B`.
pub async fn explain_pair(
    registry: &Registry,
    spec: &LinkageSpec,
    a: i64,
    b: i64,
) -> Result<PairExplanation, LinkageError> {
    check_spec(spec)?;
    let mentions = load_mentions(registry, "WHERE m.id IN ({ids})", &[a, b]).await?;
    let find = |id: i64| {
        mentions
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| LinkageError::Invalid(format!("no mention {id} in the registry")))
    };
    let (i, j) = (find(a)?, find(b)?);
    let data = dataset(spec, &mentions);
    let (scorer, _) = scorer_for(registry, spec, &data).await?;
    Ok(PairExplanation {
        left: lineage(&mentions[i]),
        right: lineage(&mentions[j]),
        explanation: scorer.explain(spec, &data, i, j),
        persons: (mentions[i].person_id.clone(), mentions[j].person_id.clone()),
    })
}

/// `lifeline explain person ID`: the person, their household, every mention with its lineage, and
/// for each mention the strongest link that holds it in the person.
pub async fn explain_person(
    registry: &Registry,
    spec: &LinkageSpec,
    person: &str,
) -> Result<String, LinkageError> {
    use std::fmt::Write;
    check_spec(spec)?;
    let mut out = String::new();
    let row = sqlx::query("SELECT household_id, household_role, name, id_number, gender, birth_date, phone, address, region_code FROM persons WHERE person_id = $1")
        .bind(person.to_string())
        .fetch_optional(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    let changes = sqlx::query("SELECT changed_at, kind, subject_id, other_id, reason FROM identity_changes WHERE subject_id = $1 OR other_id = $1 ORDER BY id")
        .bind(person.to_string())
        .fetch_all(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    let Some(row) = row else {
        if changes.is_empty() {
            return Err(LinkageError::Invalid(format!(
                "no person {person} in the registry"
            )));
        }
        writeln!(out, "{person} is no longer a person of its own:").ok();
        for c in &changes {
            let reason: String = c.try_get(4).map_err(RegistryError::from)?;
            let at: String = c.try_get(0).map_err(RegistryError::from)?;
            writeln!(out, "  {at}: {reason}").ok();
        }
        return Ok(out);
    };
    let get = |k: usize| {
        row.try_get::<Option<String>, _>(k)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    writeln!(
        out,
        "person {person}: {} {} {} born {} phone {}",
        get(2),
        get(3),
        get(4),
        get(5),
        get(6)
    )
    .ok();
    writeln!(
        out,
        "household {} ({}), address {} region {}",
        get(0),
        get(1),
        get(7),
        get(8)
    )
    .ok();
    let filter = format!(
        "WHERE m.id IN (SELECT mention_id FROM mention_links WHERE person_id = '{}')",
        person.replace('\'', "''")
    );
    let mentions = load_mentions(registry, &filter, &[]).await?;
    writeln!(out, "\n{} mentions:", mentions.len()).ok();
    for m in &mentions {
        writeln!(out, "  {}", lineage(m)).ok();
    }
    if mentions.len() > 1 {
        let data = dataset(spec, &mentions);
        let (scorer, _) = scorer_for(registry, spec, &data).await?;
        writeln!(
            out,
            "\nwhy they are one person (each mention's strongest link to an earlier one):"
        )
        .ok();
        for j in 1..mentions.len() {
            let best = (0..j)
                .map(|i| (scorer.explain(spec, &data, i, j), i))
                .max_by(|a, b| a.0.total.total_cmp(&b.0.total));
            if let Some((e, i)) = best {
                writeln!(
                    out,
                    "\nmention {} ↔ mention {}:\n{e}",
                    mentions[i].id, mentions[j].id
                )
                .ok();
            }
        }
    }
    if !changes.is_empty() {
        writeln!(out, "\nhistory:").ok();
        for c in &changes {
            let at: String = c.try_get(0).map_err(RegistryError::from)?;
            let reason: String = c.try_get(4).map_err(RegistryError::from)?;
            writeln!(out, "  {at}: {reason}").ok();
        }
    }
    let members = sqlx::query("SELECT person_id, household_role, name, birth_date FROM persons WHERE household_id = $1 ORDER BY person_id")
        .bind(get(0))
        .fetch_all(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    writeln!(out, "\nhousehold {} members:", get(0)).ok();
    for m in members {
        let t = |k: usize| {
            m.try_get::<Option<String>, _>(k)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        writeln!(out, "  {} {} {} {}", t(0), t(1), t(2), t(3)).ok();
    }
    Ok(out)
}

/// One pair waiting for review.
#[derive(Debug, Serialize)]
pub struct ReviewItem {
    /// Review id.
    pub id: i64,
    /// Left mention.
    pub mention_a: i64,
    /// Right mention.
    pub mention_b: i64,
    /// Match weight when queued.
    pub score: f64,
    /// pending, accepted or rejected.
    pub status: String,
}

/// `lifeline review list`.
pub async fn review_list(registry: &Registry, all: bool) -> Result<Vec<ReviewItem>, LinkageError> {
    let sql = if all {
        "SELECT id, mention_a, mention_b, score, status FROM link_reviews ORDER BY id"
    } else {
        "SELECT id, mention_a, mention_b, score, status FROM link_reviews WHERE status = 'pending' ORDER BY score DESC, id"
    };
    let rows = sqlx::query(sql)
        .fetch_all(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    rows.into_iter()
        .map(|r| {
            Ok(ReviewItem {
                id: r.try_get(0)?,
                mention_a: r.try_get(1)?,
                mention_b: r.try_get(2)?,
                score: r.try_get(3)?,
                status: r.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| LinkageError::Registry(e.into()))
}

/// `lifeline review accept|reject ID`: records the decision; the next `lifeline match --full`
/// (or the next run that touches those mentions) honours it. Accepting a pair whose mentions carry
/// two different valid ID numbers is refused.
pub async fn review_decide(
    registry: &Registry,
    spec: &LinkageSpec,
    id: i64,
    accept: bool,
    by: &str,
    note: Option<&str>,
) -> Result<ReviewItem, LinkageError> {
    let item = review_list(registry, true)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| LinkageError::Invalid(format!("no review item {id}")))?;
    if accept {
        let mentions = load_mentions(
            registry,
            "WHERE m.id IN ({ids})",
            &[item.mention_a, item.mention_b],
        )
        .await?;
        let data = dataset(spec, &mentions);
        if mentions.len() == 2
            && data.valid_id(0) != 0
            && data.valid_id(1) != 0
            && data.valid_id(0) != data.valid_id(1)
        {
            return Err(LinkageError::Invalid(format!(
                "review {id}: mentions {} and {} carry two different valid ID numbers; they cannot be one person",
                item.mention_a, item.mention_b
            )));
        }
    }
    let status = if accept { "accepted" } else { "rejected" };
    sqlx::query("UPDATE link_reviews SET status = $1, decided_at = $2, decided_by = $3, note = $4 WHERE id = $5")
        .bind(status)
        .bind(now())
        .bind(by.to_string())
        .bind(note.map(str::to_string))
        .bind(id)
        .execute(registry.pool())
        .await
        .map_err(RegistryError::from)?;
    Ok(ReviewItem {
        status: status.into(),
        ..item
    })
}
