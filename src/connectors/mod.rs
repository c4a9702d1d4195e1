//! Connectors: where department data comes from, one `connectors/*.toml` file each.
//!
//! Every connector names its `kind`, the source `department`, the `mapping` its rows feed and
//! the kind's own options. Kinds:
//! - [`inbox`]: a shared folder watched for files dropped by data officers;
//! - [`http`]: a department API returning JSON, pulled page by page;
//! - [`sql`]: a department database (MySQL/MariaDB, PostgreSQL) read through a query.
//!
//! Files are parsed into plain specs and validated into [`Connector`]s with every problem of
//! every file reported at once (`connectors/housing_api.toml: auth.bearer_env: …`). Validation
//! does no I/O: secrets are read from the environment variables the file names only when the
//! connector connects.
//!
//! Adding a kind: write `src/connectors/KIND.rs` with its `Spec` (serde, `///` on every field),
//! its validated config and its `sync`, then add one variant to [`ConnectorKind`] and one line
//! to [`KINDS`]; the compiler points at the two `match`es that must learn about it.

pub mod http;
pub mod inbox;
pub mod sql;
pub mod stage;
pub mod state;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::{ConfigErrors, Problems, load_toml_dir};
use crate::ingest::Receipt;
use crate::ingest::pull::{PullOutcome, WriterGone};
use crate::mapping::MappingSet;
use crate::registry::{Registry, RegistryError};
use crate::shutdown::Shutdown;

/// The connector kinds and how to build each from its file: the one registration of a kind.
pub const KINDS: &[(&str, BuildKind)] = &[
    ("inbox", |table, problems| {
        inbox::InboxConfig::build(table, problems).map(ConnectorKind::Inbox)
    }),
    ("http", |table, problems| {
        http::HttpConfig::build(table, problems).map(|c| ConnectorKind::Http(Box::new(c)))
    }),
    ("sql", |table, problems| {
        sql::SqlConfig::build(table, problems).map(ConnectorKind::Sql)
    }),
];

/// Builds a kind's config from the file's table (the common keys removed), reporting problems.
pub type BuildKind = fn(toml::Table, &mut Problems<'_>) -> Option<ConnectorKind>;

/// The kind-specific part of a connector.
#[derive(Debug, Clone)]
pub enum ConnectorKind {
    /// A watched folder.
    Inbox(inbox::InboxConfig),
    /// A JSON API.
    Http(Box<http::HttpConfig>),
    /// A database query.
    Sql(sql::SqlConfig),
}

impl ConnectorKind {
    /// The `kind` as written in connector files.
    pub fn name(&self) -> &'static str {
        match self {
            ConnectorKind::Inbox(_) => "inbox",
            ConnectorKind::Http(_) => "http",
            ConnectorKind::Sql(_) => "sql",
        }
    }
}

/// The keys every connector file has, whatever its kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonSpec {
    /// `inbox`, `http` or `sql`.
    pub kind: String,
    /// Name used by schedules and `lifeline sync` (default: the file name without `.toml`).
    pub name: Option<String>,
    /// The department that sends the data (`health`, `housing`, `civil_affairs`…).
    pub department: String,
    /// The mapping (from `mappings/`) the rows feed. Required for `http` and `sql`; an inbox
    /// without one picks the mapping that fits each file's header.
    pub mapping: Option<String>,
    /// Expected cadence: when nothing new has arrived for this many days the connector is
    /// reported as missing by `lifeline runs` (a monthly housing file: 35).
    pub expect_every_days: Option<u32>,
    /// Free text for people.
    pub description: Option<String>,
}

const COMMON_KEYS: &[&str] = &[
    "kind",
    "name",
    "department",
    "mapping",
    "expect_every_days",
    "description",
];

/// A validated connector.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Name (unique).
    pub name: String,
    /// File it was read from.
    pub source: String,
    /// Source department.
    pub department: String,
    /// Mapping its rows feed, if forced.
    pub mapping: Option<String>,
    /// Days without delivery after which it is reported missing.
    pub expect_every_days: Option<u32>,
    /// The kind and its options.
    pub kind: ConnectorKind,
}

/// All connectors of the service, by name.
#[derive(Debug, Clone, Default)]
pub struct ConnectorSet {
    /// Connectors sorted by name.
    pub connectors: Vec<Connector>,
}

impl ConnectorSet {
    /// Loads every `*.toml` of `dir` (a missing folder means no connectors), checking mapping
    /// names against `mappings`.
    pub fn load_dir(dir: &Path, mappings: &MappingSet) -> Result<ConnectorSet, ConfigErrors> {
        let base = dir.parent().map(Path::to_path_buf).unwrap_or_default();
        load_toml_dir(dir, ConnectorSet::default(), |sources| {
            ConnectorSet::from_sources(sources, mappings, &base)
        })
    }

    /// Validates `(file name, TOML text)` pairs, reporting every problem at once. Relative
    /// folders of inbox connectors are taken from `base` (the folder above `connectors/`).
    pub fn from_sources(
        sources: &[(String, String)],
        mappings: &MappingSet,
        base: &Path,
    ) -> Result<ConnectorSet, ConfigErrors> {
        let mut errors = Vec::new();
        let mut connectors: Vec<Connector> = Vec::new();
        for (file, text) in sources {
            let mut problems = Problems::new(file, &mut errors);
            if let Some(connector) = parse(file, text, mappings, base, &mut problems) {
                connectors.push(connector);
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for connector in &connectors {
            if let Some(first) = seen.insert(&connector.name, &connector.source) {
                errors.push(format!(
                    "{}: name: \"{}\" is already used by {first}",
                    connector.source, connector.name
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        connectors.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ConnectorSet { connectors })
    }

    /// The connector named `name`.
    pub fn get(&self, name: &str) -> Option<&Connector> {
        self.connectors.iter().find(|c| c.name == name)
    }

    /// Names of all connectors.
    pub fn names(&self) -> Vec<&str> {
        self.connectors.iter().map(|c| c.name.as_str()).collect()
    }
}

fn parse(
    file: &str,
    text: &str,
    mappings: &MappingSet,
    base: &Path,
    problems: &mut Problems<'_>,
) -> Option<Connector> {
    let mut table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(error) => {
            problems.add_file(error.message().trim_end_matches('.'));
            return None;
        }
    };
    let mut common_table = toml::Table::new();
    for key in COMMON_KEYS {
        if let Some(value) = table.remove(*key) {
            common_table.insert(key.to_string(), value);
        }
    }
    let common = match CommonSpec::deserialize(common_table) {
        Ok(common) => common,
        Err(error) => {
            problems.add_file(error.message().trim_end_matches('.'));
            return None;
        }
    };
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = common.name.clone().unwrap_or(stem);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        problems.add(
            "name",
            format!(
                "\"{name}\" must be letters, digits, _ or - (it names the connector in schedules)"
            ),
        );
    }
    if common.department.trim().is_empty() {
        problems.add("department", "must name the source department");
    }
    if let Some(mapping) = &common.mapping
        && mappings.get(mapping).is_none()
    {
        problems.add(
            "mapping",
            format!(
                "unknown mapping \"{mapping}\" (known: {})",
                mappings.names().join(", ")
            ),
        );
    }
    if common.expect_every_days == Some(0) {
        problems.add("expect_every_days", "must be at least 1");
    }
    let Some((_, build)) = KINDS.iter().find(|(kind, _)| *kind == common.kind) else {
        problems.add(
            "kind",
            format!(
                "unknown kind \"{}\" (known: {})",
                common.kind,
                KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ),
        );
        return None;
    };
    if common.kind != "inbox" && common.mapping.is_none() {
        problems.add(
            "mapping",
            format!(
                "missing: a {} connector must name the mapping its rows feed",
                common.kind
            ),
        );
    }
    let mut kind = build(table, problems)?;
    if let ConnectorKind::Inbox(inbox) = &mut kind {
        inbox.resolve_paths(base);
        for (folder, mapping) in &inbox.folders {
            if mappings.get(mapping).is_none() {
                problems.add(
                    &format!("folders.{folder}"),
                    format!("unknown mapping \"{mapping}\""),
                );
            }
        }
    }
    Some(Connector {
        name,
        source: file.to_string(),
        department: common.department,
        mapping: common.mapping,
        expect_every_days: common.expect_every_days,
        kind,
    })
}

/// Deserializes a kind's spec from what is left of the file, reporting serde's complaint.
pub fn deserialize_spec<T: serde::de::DeserializeOwned>(
    table: toml::Table,
    problems: &mut Problems<'_>,
) -> Option<T> {
    match T::deserialize(table) {
        Ok(spec) => Some(spec),
        Err(error) => {
            problems.add_file(error.message().trim_end_matches('.'));
            None
        }
    }
}

/// What a connector run needs.
#[derive(Clone)]
pub struct SyncContext<'a> {
    /// The registry.
    pub registry: &'a Registry,
    /// Mappings.
    pub mappings: &'a MappingSet,
    /// Folder for the receipts of pulls.
    pub receipts: PathBuf,
    /// Stop taking work when asked.
    pub shutdown: Shutdown,
    /// Held while writing to the registry: SQLite takes one writer at a time, and a pull holds
    /// its transaction for as long as it reads.
    pub write_gate: &'a Mutex<()>,
}

/// What one connector run did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Connector name.
    pub connector: String,
    /// Receipts of the files or pulls handled.
    pub receipts: Vec<Receipt>,
    /// Rows read.
    pub rows_read: u64,
    /// Rows stored as records.
    pub rows_stored: u64,
    /// What happened, for people: watermark moves, fields that appeared or vanished.
    pub notes: Vec<String>,
    /// Files that could not be processed (the run went on).
    pub problems: Vec<String>,
}

impl SyncReport {
    fn new(connector: &str) -> SyncReport {
        SyncReport {
            connector: connector.to_string(),
            ..SyncReport::default()
        }
    }

    /// Adds a receipt and its counts.
    pub fn add_receipt(&mut self, receipt: Receipt) {
        self.rows_read += receipt.rows_read;
        if receipt.status == crate::ingest::FileStatus::Ingested {
            self.rows_stored += receipt.rows_accepted;
        }
        self.receipts.push(receipt);
    }

    /// Adds the outcome of a pull.
    pub fn add_pull(&mut self, outcome: PullOutcome) -> Result<(), ConnectorError> {
        match outcome {
            PullOutcome::Empty => {
                self.notes.push("no new rows".into());
                Ok(())
            }
            PullOutcome::Stored(receipt) => {
                self.add_receipt(receipt);
                Ok(())
            }
            PullOutcome::Duplicate(receipt) => {
                self.notes.push(format!(
                    "the rows pulled were stored before: {}",
                    receipt.duplicate_of.as_deref().unwrap_or("an earlier pull")
                ));
                self.add_receipt(receipt);
                Ok(())
            }
            PullOutcome::Failed(receipt) => Err(ConnectorError::NotStored(
                receipt
                    .error
                    .clone()
                    .unwrap_or_else(|| "unknown error".into()),
            )),
        }
    }
}

/// Why a connector run failed. Nothing of a failed pull is stored and its watermark stays.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A secret's environment variable is not set.
    #[error("environment variable {0} is not set (it holds the connector's secret)")]
    MissingSecret(String),
    /// The department API failed.
    #[error("{0}")]
    Http(String),
    /// The department database failed.
    #[error("department database: {0}")]
    Sql(String),
    /// The inbox folder cannot be used.
    #[error("inbox {path}: {message}")]
    Inbox {
        /// The folder.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The rows were read but could not be stored.
    #[error("rows not stored: {0}")]
    NotStored(String),
    /// The service is stopping; the pull in flight was rolled back.
    #[error("stopped by shutdown before the pull was complete; nothing of it was stored")]
    Interrupted,
}

impl From<WriterGone> for ConnectorError {
    fn from(error: WriterGone) -> Self {
        ConnectorError::NotStored(error.to_string())
    }
}

impl Connector {
    /// Runs the connector once: an inbox takes every complete file now, an API or database
    /// is pulled from its watermark.
    pub async fn sync(&self, context: &SyncContext<'_>) -> Result<SyncReport, ConnectorError> {
        state::ensure(context.registry, &self.name).await?;
        let mut report = SyncReport::new(&self.name);
        match &self.kind {
            ConnectorKind::Inbox(inbox) => inbox.sync(self, context, &mut report).await?,
            ConnectorKind::Http(http) => http.sync(self, context, &mut report).await?,
            ConnectorKind::Sql(sql) => sql.sync(self, context, &mut report).await?,
        }
        Ok(report)
    }
}

/// Fields that appeared and vanished between the last pull that brought rows and this one.
pub fn field_changes(before: &[String], now: &[String]) -> Vec<String> {
    if before.is_empty() || now.is_empty() {
        return Vec::new();
    }
    let appeared: Vec<&str> = now
        .iter()
        .filter(|f| !before.contains(f))
        .map(String::as_str)
        .collect();
    let vanished: Vec<&str> = before
        .iter()
        .filter(|f| !now.contains(f))
        .map(String::as_str)
        .collect();
    let mut notes = Vec::new();
    if !appeared.is_empty() {
        notes.push(format!("fields appeared: {}", appeared.join(", ")));
    }
    if !vanished.is_empty() {
        notes.push(format!("fields vanished: {}", vanished.join(", ")));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_changes_name_what_appeared_and_vanished() {
        let before = vec!["xm".to_string(), "sfzh".to_string(), "dj".to_string()];
        let now = vec!["xm".to_string(), "sfzh".to_string(), "jd".to_string()];
        assert_eq!(
            field_changes(&before, &now),
            vec!["fields appeared: jd", "fields vanished: dj"]
        );
        assert!(field_changes(&[], &now).is_empty());
    }

    #[test]
    fn every_problem_of_every_file_is_reported() {
        let mappings = MappingSet::built_in().expect("built-in mappings");
        let sources = vec![
            (
                "connectors/a.toml".to_string(),
                "kind = \"ftp\"\ndepartment = \"health\"\n".to_string(),
            ),
            (
                "connectors/b.toml".to_string(),
                "kind = \"http\"\ndepartment = \"\"\nmapping = \"nope\"\nurl = \"ftp://x\"\n\
                 auth = { bearer_env = \"not a name\" }\n"
                    .to_string(),
            ),
        ];
        let errors = ConnectorSet::from_sources(&sources, &mappings, Path::new("."))
            .expect_err("invalid connectors")
            .0;
        let text = errors.join("\n");
        assert!(
            text.contains("connectors/a.toml: kind: unknown kind \"ftp\""),
            "{text}"
        );
        assert!(text.contains("connectors/b.toml: department:"), "{text}");
        assert!(
            text.contains("connectors/b.toml: mapping: unknown mapping \"nope\""),
            "{text}"
        );
        assert!(text.contains("connectors/b.toml: url:"), "{text}");
        assert!(
            text.contains("connectors/b.toml: auth.bearer_env:"),
            "{text}"
        );
    }
}
