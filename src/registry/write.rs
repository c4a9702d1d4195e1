//! Writing one file into the registry in one transaction: its row in `files`, its records,
//! mentions and rejects, then its receipt. Rows are inserted in multi-row statements.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row, Transaction};

use super::{Backend, Registry, RegistryError};
use crate::record::{Issue, Record};

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

/// One file being written; dropped without [`FileWriter::commit`], nothing of it remains.
pub struct FileWriter {
    tx: Transaction<'static, Any>,
    file_id: i64,
    backend: Backend,
    sql_cache: Vec<(String, usize, String)>,
}

impl FileWriter {
    /// Starts the file's transaction and its `files` row.
    pub async fn begin(registry: &Registry, meta: &FileMeta) -> Result<FileWriter, RegistryError> {
        let mut tx = registry.pool().begin().await?;
        let row = sqlx::query(
            "INSERT INTO files (batch_id, file_name, path, sha256, size_bytes, format, encoding, \
             mappings, rows_read, rows_accepted, rows_rejected, rows_skipped, receipt, ingested_at) \
             VALUES ($1, $2, $3, $4, $5, '', '', '', 0, 0, 0, 0, '{}', $6) RETURNING id",
        )
        .bind(meta.batch_id)
        .bind(&meta.file_name)
        .bind(&meta.path)
        .bind(&meta.sha256)
        .bind(meta.size_bytes)
        .bind(super::now())
        .fetch_one(&mut *tx)
        .await?;
        let file_id = row.try_get::<i64, _>(0)?;
        Ok(FileWriter {
            tx,
            file_id,
            backend: registry.backend(),
            sql_cache: Vec::new(),
        })
    }

    /// The registry id of the file.
    pub fn file_id(&self) -> i64 {
        self.file_id
    }

    fn sql(&mut self, table: &str, columns: &[&str], rows: usize) -> String {
        if let Some((_, _, sql)) = self
            .sql_cache
            .iter()
            .find(|(t, n, _)| t == table && *n == rows)
        {
            return sql.clone();
        }
        let sql = insert_sql(table, columns, rows, self.backend);
        self.sql_cache.push((table.to_string(), rows, sql.clone()));
        sql
    }

    /// Stores records (with their mentions) and issues.
    pub async fn add(&mut self, records: &[Record], issues: &[Issue]) -> Result<(), RegistryError> {
        let file_id = self.file_id;
        for chunk in records.chunks(PARAMETERS / RECORD_COLUMNS.len()) {
            let sql = self.sql("records", RECORD_COLUMNS, chunk.len());
            let mut query: Query<'_, Any, AnyArguments> =
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for record in chunk {
                query = query
                    .bind(file_id)
                    .bind(record.sheet.as_str())
                    .bind(record.row as i64)
                    .bind(record.department.as_str())
                    .bind(record.mapping.as_str())
                    .bind(record.event_kind.as_str())
                    .bind(record.event_date.map(|d| d.to_string()))
                    .bind(
                        serde_json::to_string(&record.attributes).unwrap_or_else(|_| "{}".into()),
                    );
            }
            query.execute(&mut *self.tx).await?;
        }
        let mentions: Vec<(&Record, &crate::record::PersonMention)> = records
            .iter()
            .flat_map(|r| r.persons.iter().map(move |p| (r, p)))
            .collect();
        for chunk in mentions.chunks(PARAMETERS / MENTION_COLUMNS.len()) {
            let sql = self.sql("mentions", MENTION_COLUMNS, chunk.len());
            let mut query: Query<'_, Any, AnyArguments> =
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (record, person) in chunk {
                let address = &person.address;
                query = query
                    .bind(file_id)
                    .bind(record.sheet.as_str())
                    .bind(record.row as i64)
                    .bind(person.role.as_str())
                    .bind(person.name.as_ref().map(|n| n.normalized.as_str()))
                    .bind(person.name.as_ref().map(|n| n.raw.as_str()))
                    .bind(person.id_number.normalized.as_deref())
                    .bind(person.id_number.raw.as_str())
                    .bind(person.id_number.status.as_str())
                    .bind(person.gender.map(|g| g.as_str()))
                    .bind(person.birth_date.map(|d| d.to_string()))
                    .bind(person.age)
                    .bind(person.phone.as_deref())
                    .bind(if address.raw.is_empty() {
                        None
                    } else {
                        Some(address.raw.as_str())
                    })
                    .bind(address.province.as_deref())
                    .bind(address.city.as_deref())
                    .bind(address.county.as_deref())
                    .bind(address.township.as_deref())
                    .bind(address.village.as_deref())
                    .bind(address.region_code.as_deref())
                    .bind(person.relation.as_deref());
            }
            query.execute(&mut *self.tx).await?;
        }
        for chunk in issues.chunks(PARAMETERS / REJECT_COLUMNS.len()) {
            let sql = self.sql("rejects", REJECT_COLUMNS, chunk.len());
            let mut query: Query<'_, Any, AnyArguments> =
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for issue in chunk {
                query = query
                    .bind(file_id)
                    .bind(issue.sheet.as_str())
                    .bind(issue.row as i64)
                    .bind(issue.column.as_str())
                    .bind(issue.value.as_str())
                    .bind(issue.reason.as_str())
                    .bind(issue.severity.as_str());
            }
            query.execute(&mut *self.tx).await?;
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
        sqlx::query("UPDATE files SET sha256 = $1, size_bytes = $2 WHERE id = $3")
            .bind(sha256)
            .bind(size_bytes)
            .bind(self.file_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The file's transaction, for rows that must be committed with it (a connector's
    /// watermark, the pull behind the file).
    pub fn connection(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Stores what was learnt reading the file and commits everything of it at once.
    pub async fn commit(mut self, summary: &FileSummary<'_>) -> Result<(), RegistryError> {
        sqlx::query(
            "UPDATE files SET mappings = $1, rows_read = $2, rows_accepted = $3, rows_rejected = $4, \
             rows_skipped = $5, receipt = $6, format = $8, encoding = $9 WHERE id = $7",
        )
        .bind(summary.mappings)
        .bind(summary.counts.read)
        .bind(summary.counts.accepted)
        .bind(summary.counts.rejected)
        .bind(summary.counts.skipped)
        .bind(summary.receipt_json)
        .bind(self.file_id)
        .bind(summary.format)
        .bind(summary.encoding)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Abandons the file: nothing of it is stored.
    pub async fn rollback(self) -> Result<(), RegistryError> {
        self.tx.rollback().await?;
        Ok(())
    }
}
