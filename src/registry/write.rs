//! Writing one file into the registry in one transaction: its row in `files`, its records,
//! mentions and rejects, then its receipt. Rows are inserted in multi-row statements: on a
//! SQLite file through SQLite's own statement API, values bound in place ([`super::native`]);
//! on PostgreSQL through sqlx.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row, Transaction};

use super::native::{Handle, Value};
use super::{Backend, Registry, RegistryError, TxConnection, on_connection};
use crate::normalize::dates::iso_date;
use crate::record::{Issue, PersonMention, Record};

/// Bind parameters per INSERT statement: under SQLite's limit of 32,766 and PostgreSQL's of
/// 65,535; rows per statement are this divided by the table's column count.
pub(crate) const PARAMETERS: usize = 30_000;

const RECORD_COLUMNS: &[&str] = &[
    "file_id",
    "sheet",
    "row_number",
    "department",
    "mapping",
    "event_kind",
    "event_date",
    "attributes",
];
const MENTION_COLUMNS: &[&str] = &[
    "file_id",
    "sheet",
    "row_number",
    "role",
    "name",
    "name_raw",
    "id_number",
    "id_raw",
    "id_status",
    "gender",
    "birth_date",
    "age",
    "phone",
    "address",
    "province",
    "city",
    "county",
    "township",
    "village",
    "region_code",
    "relation",
];
const REJECT_COLUMNS: &[&str] = &[
    "file_id",
    "sheet",
    "row_number",
    "column_name",
    "value",
    "reason",
    "severity",
];

/// A multi-row INSERT. SQLite gets anonymous `?` placeholders: with numbered ones sqlx looks
/// each parameter up by name, which SQLite does by a linear scan — quadratic in the row count.
pub(crate) fn insert_sql(table: &str, columns: &[&str], rows: usize, backend: Backend) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 1;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// One value of a bulk insert.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text or NULL.
    Text(Option<String>),
    /// Integer.
    Int(i64),
    /// NULL in an integer column (PostgreSQL types a parameter by its value).
    NullInt,
}

impl From<String> for Cell {
    fn from(value: String) -> Cell {
        Cell::Text(Some(value))
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Cell {
        Cell::Text(Some(value.to_string()))
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Cell {
        Cell::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Cell {
        Cell::Int(value)
    }
}

/// Inserts `rows` into `table` in multi-row statements sized by [`PARAMETERS`]; with
/// `returning`, the rows it names come back. Without it, binding a statement's values and
/// executing it overlap: while the database (SQLite's worker thread, PostgreSQL's server) runs one
/// statement, the next one's values are bound here.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    returning: Option<&str>,
) -> Result<Vec<sqlx::any::AnyRow>, RegistryError> {
    let per = (PARAMETERS / columns.len()).max(1);
    let mut rows = rows.into_iter();
    let mut out = Vec::new();
    let mut next = bind_chunk(&mut rows, per, table, columns, backend, returning);
    while let Some(query) = next.take() {
        if returning.is_some() {
            out.extend(query.fetch_all(&mut **tx).await?);
            next = bind_chunk(&mut rows, per, table, columns, backend, returning);
            continue;
        }
        let mut execution = std::pin::pin!(query.execute(&mut **tx));
        // the first poll hands the statement over; then bind the next chunk; then wait
        let early = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(execution.as_mut(), cx))
        })
        .await;
        next = bind_chunk(&mut rows, per, table, columns, backend, returning);
        match early {
            std::task::Poll::Ready(result) => result?,
            std::task::Poll::Pending => execution.await?,
        };
    }
    Ok(out)
}

/// The INSERT of the next `per` rows (moved, not copied), or `None` when no rows are left.
fn bind_chunk<'q>(
    rows: &mut std::vec::IntoIter<Vec<Cell>>,
    per: usize,
    table: &str,
    columns: &[&str],
    backend: Backend,
    returning: Option<&str>,
) -> Option<Query<'q, Any, AnyArguments>> {
    let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
    if chunk.is_empty() {
        return None;
    }
    // table and column names are constants of this crate, values are bound
    let mut sql = insert_sql(table, columns, chunk.len(), backend);
    if let Some(returning) = returning {
        sql.push_str(" RETURNING ");
        sql.push_str(returning);
    }
    let mut query: Query<'q, Any, AnyArguments> = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in chunk {
        for cell in row {
            query = match cell {
                Cell::Text(text) => query.bind(text),
                Cell::Int(int) => query.bind(int),
                Cell::NullInt => query.bind(None::<i64>),
            };
        }
    }
    Some(query)
}

/// What is known about a file before its rows are stored.
#[derive(Debug, Clone)]
pub struct FileMeta {
    /// Batch the file belongs to.
    pub batch_id: i64,
    /// File name as dropped.
    pub file_name: String,
    /// Full path when ingested.
    pub path: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// What is known about a file once it has been read, stored with its rows.
#[derive(Debug, Clone, Copy)]
pub struct FileSummary<'a> {
    /// Mappings used, comma-separated.
    pub mappings: &'a str,
    /// Detected format.
    pub format: &'a str,
    /// Detected text encoding, empty for workbooks.
    pub encoding: &'a str,
    /// Row counts.
    pub counts: FileCounts,
    /// The receipt as JSON.
    pub receipt_json: &'a str,
}

/// Row counts of a stored file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Data rows read.
    pub read: i64,
    /// Rows accepted as records.
    pub accepted: i64,
    /// Rows rejected.
    pub rejected: i64,
    /// Footer, blank and repeated-header rows skipped.
    pub skipped: i64,
}

/// The transaction of a file being written.
enum FileTx {
    /// Through sqlx's portable driver (PostgreSQL, in-memory SQLite).
    Any(Transaction<'static, Any>),
    /// SQLite's own driver; rows go through SQLite's statement API.
    Sqlite(Transaction<'static, sqlx::Sqlite>),
}

impl FileTx {
    fn connection(&mut self) -> TxConnection<'_> {
        match self {
            FileTx::Any(tx) => TxConnection::Any(&mut *tx),
            FileTx::Sqlite(tx) => TxConnection::Sqlite(&mut *tx),
        }
    }
}

/// The bound values of a record's row in `records`, in [`RECORD_COLUMNS`] order.
fn record_values<'a>(
    file_id: i64,
    record: &'a Record,
    event_date: &'a Option<String>,
    attributes: &'a str,
) -> [Value<'a>; 8] {
    [
        Value::Int(Some(file_id)),
        Value::Text(Some(&record.sheet)),
        Value::Int(Some(record.row as i64)),
        Value::Text(Some(&record.department)),
        Value::Text(Some(&record.mapping)),
        Value::Text(Some(&record.event_kind)),
        Value::Text(event_date.as_deref()),
        Value::Text(Some(attributes)),
    ]
}

/// The bound values of a person's row in `mentions`, in [`MENTION_COLUMNS`] order.
fn mention_values<'a>(
    file_id: i64,
    record: &'a Record,
    person: &'a PersonMention,
    birth_date: &'a Option<String>,
) -> [Value<'a>; 21] {
    let address = &person.address;
    [
        Value::Int(Some(file_id)),
        Value::Text(Some(&record.sheet)),
        Value::Int(Some(record.row as i64)),
        Value::Text(Some(&person.role)),
        Value::Text(person.name.as_ref().map(|n| n.normalized.as_str())),
        Value::Text(person.name.as_ref().map(|n| n.raw.as_str())),
        Value::Text(person.id_number.normalized.as_deref()),
        Value::Text(Some(&person.id_number.raw)),
        Value::Text(Some(person.id_number.status.as_str())),
        Value::Text(person.gender.map(|g| g.as_str())),
        Value::Text(birth_date.as_deref()),
        Value::Int(person.age),
        Value::Text(person.phone.as_deref()),
        Value::Text((!address.raw.is_empty()).then_some(address.raw.as_str())),
        Value::Text(address.province.as_deref()),
        Value::Text(address.city.as_deref()),
        Value::Text(address.county.as_deref()),
        Value::Text(address.township.as_deref()),
        Value::Text(address.village.as_deref()),
        Value::Text(address.region_code.as_deref()),
        Value::Text(person.relation.as_deref()),
    ]
}

/// The bound values of an issue's row in `rejects`, in [`REJECT_COLUMNS`] order.
fn issue_values(file_id: i64, issue: &Issue) -> [Value<'_>; 7] {
    [
        Value::Int(Some(file_id)),
        Value::Text(Some(&issue.sheet)),
        Value::Int(Some(issue.row as i64)),
        Value::Text(Some(&issue.column)),
        Value::Text(Some(&issue.value)),
        Value::Text(Some(&issue.reason)),
        Value::Text(Some(issue.severity.as_str())),
    ]
}

impl From<&Value<'_>> for Cell {
    /// A value for the portable path, which owns what it binds.
    fn from(value: &Value<'_>) -> Cell {
        match *value {
            Value::Text(text) => Cell::Text(text.map(str::to_string)),
            Value::Int(Some(int)) => Cell::Int(int),
            Value::Int(None) => Cell::NullInt,
        }
    }
}

/// One file being written; dropped without [`FileWriter::commit`], nothing of it remains.
pub struct FileWriter {
    /// The registry, for the checkpoint after the commit.
    registry: Registry,
    tx: FileTx,
    file_id: i64,
}

impl FileWriter {
    /// Starts the file's transaction and its `files` row.
    pub async fn begin(registry: &Registry, meta: &FileMeta) -> Result<FileWriter, RegistryError> {
        let mut tx = match registry.sqlite_writer() {
            // IMMEDIATE: the write lock is taken (or waited for) now, not at the first insert
            Some(pool) => FileTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            None => FileTx::Any(registry.pool().begin().await?),
        };
        let file_id = on_connection!(tx.connection(), c => {
            let row = sqlx::query(
                "INSERT INTO files (batch_id, file_name, path, sha256, size_bytes, format, \
                 encoding, mappings, rows_read, rows_accepted, rows_rejected, rows_skipped, \
                 receipt, ingested_at) \
                 VALUES ($1, $2, $3, $4, $5, '', '', '', 0, 0, 0, 0, '{}', $6) RETURNING id",
            )
            .bind(meta.batch_id)
            .bind(&meta.file_name)
            .bind(&meta.path)
            .bind(&meta.sha256)
            .bind(meta.size_bytes)
            .bind(super::now())
            .fetch_one(&mut *c)
            .await?;
            row.try_get::<i64, _>(0)?
        });
        Ok(FileWriter {
            registry: registry.clone(),
            tx,
            file_id,
        })
    }

    /// The registry id of the file.
    pub fn file_id(&self) -> i64 {
        self.file_id
    }

    /// Stores records (with their mentions) and issues.
    pub async fn add(&mut self, records: &[Record], issues: &[Issue]) -> Result<(), RegistryError> {
        let file_id = self.file_id;
        let event_dates: Vec<Option<String>> =
            records.iter().map(|r| r.event_date.map(iso_date)).collect();
        let attributes: Vec<String> = records.iter().map(attributes_json).collect();
        let birth_dates: Vec<Option<String>> = records
            .iter()
            .flat_map(|r| r.persons.iter().map(|p| p.birth_date.map(iso_date)))
            .collect();
        let mut record_rows = Vec::with_capacity(records.len() * RECORD_COLUMNS.len());
        for ((record, date), json) in records.iter().zip(&event_dates).zip(&attributes) {
            record_rows.extend(record_values(file_id, record, date, json));
        }
        let mut mention_rows = Vec::with_capacity(birth_dates.len() * MENTION_COLUMNS.len());
        let persons = records
            .iter()
            .flat_map(|r| r.persons.iter().map(move |p| (r, p)));
        for ((record, person), birth_date) in persons.zip(&birth_dates) {
            mention_rows.extend(mention_values(file_id, record, person, birth_date));
        }
        let mut issue_rows = Vec::with_capacity(issues.len() * REJECT_COLUMNS.len());
        for issue in issues {
            issue_rows.extend(issue_values(file_id, issue));
        }
        let tables = [
            ("records", RECORD_COLUMNS, record_rows),
            ("mentions", MENTION_COLUMNS, mention_rows),
            ("rejects", REJECT_COLUMNS, issue_rows),
        ];
        match &mut self.tx {
            FileTx::Sqlite(tx) => {
                let mut handle = tx.lock_handle().await?;
                let handle = Handle::new(&mut handle);
                for (table, columns, values) in &tables {
                    handle.insert(table, columns, values)?;
                }
            }
            FileTx::Any(tx) => {
                let backend = self.registry.backend();
                for (table, columns, values) in &tables {
                    let rows = values
                        .chunks(columns.len())
                        .map(|row| row.iter().map(Cell::from).collect())
                        .collect();
                    insert_rows(tx, backend, table, columns, rows, None).await?;
                }
            }
        }
        Ok(())
    }

    /// Sets the content hash and size of a file whose content was only known once it had been
    /// streamed (a connector's pull): [`FileWriter::begin`] took a placeholder.
    pub async fn set_content(
        &mut self,
        sha256: &str,
        size_bytes: i64,
    ) -> Result<(), RegistryError> {
        let file_id = self.file_id;
        on_connection!(self.tx.connection(), c => {
            sqlx::query("UPDATE files SET sha256 = $1, size_bytes = $2 WHERE id = $3")
                .bind(sha256)
                .bind(size_bytes)
                .bind(file_id)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// The file's transaction, for rows that must be committed with it (a connector's
    /// watermark, the pull behind the file).
    pub fn connection(&mut self) -> TxConnection<'_> {
        self.tx.connection()
    }

    /// Stores what was learnt reading the file and commits everything of it at once.
    pub async fn commit(mut self, summary: &FileSummary<'_>) -> Result<(), RegistryError> {
        let file_id = self.file_id;
        on_connection!(self.tx.connection(), c => {
            sqlx::query(
                "UPDATE files SET mappings = $1, rows_read = $2, rows_accepted = $3, \
                 rows_rejected = $4, rows_skipped = $5, receipt = $6, format = $8, \
                 encoding = $9 WHERE id = $7",
            )
            .bind(summary.mappings)
            .bind(summary.counts.read)
            .bind(summary.counts.accepted)
            .bind(summary.counts.rejected)
            .bind(summary.counts.skipped)
            .bind(summary.receipt_json)
            .bind(file_id)
            .bind(summary.format)
            .bind(summary.encoding)
            .execute(&mut *c)
            .await?;
        });
        match self.tx {
            FileTx::Any(tx) => tx.commit().await?,
            FileTx::Sqlite(tx) => {
                tx.commit().await?;
                self.registry.checkpoint_soon();
            }
        }
        Ok(())
    }

    /// Abandons the file: nothing of it is stored.
    pub async fn rollback(self) -> Result<(), RegistryError> {
        match self.tx {
            FileTx::Any(tx) => tx.rollback().await?,
            FileTx::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// A record's attributes as stored: JSON text.
fn attributes_json(record: &Record) -> String {
    serde_json::to_string(&record.attributes).unwrap_or_else(|_| "{}".into())
}
