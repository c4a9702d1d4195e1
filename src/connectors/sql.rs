//! `kind = "sql"`: reads a department database (MySQL/MariaDB or PostgreSQL) through one
//! read-only query.
//!
//! The query's result is a sheet whose header is the column names (name them with `AS "姓名"`
//! where the mapping does not know a column); rows stream from the server into a staging file
//! ([`super::stage`]) and are stored once the query is complete, so neither memory nor the
//! registry's write lock grows with the table or waits for a slow server. The query receives
//! the watermark as its one parameter (`?` for MySQL, `$1` for PostgreSQL, bound as text) and
//! the greatest value of the watermark column becomes the next watermark once the pull is
//! committed. The session is
//! read-only: the query cannot change the department's data.

use std::str::FromStr;
use std::time::Duration;

use std::collections::HashSet;

use futures_util::StreamExt;
use serde::Deserialize;
use sha2::Digest;
use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo, ValueRef};

use super::stage::Staging;
use super::{
    Connector, ConnectorError, Problems, SyncContext, SyncReport, deserialize_spec, field_changes,
    state,
};
use crate::config::is_env_name;
use crate::ingest::pull::{PullOutcome, PullRecord, cell_key};
use crate::read::CellValue;

/// The file's keys for `kind = "sql"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSpec {
    /// `mysql` (MySQL, MariaDB) or `postgres`.
    pub database: String,
    /// Environment variable holding the connection URL (`mysql://user:password@host/db`): the
    /// URL carries the password, so it never appears in this file.
    pub url_env: String,
    /// The query: one `SELECT` (or `WITH … SELECT`). With a watermark it takes it as its one
    /// parameter — `?` for mysql, `$1` for postgres (bound as text: write
    /// `$1::timestamp` when comparing with a timestamp column) — and should `ORDER BY` the
    /// watermark column.
    pub query: String,
    /// Incremental pulls.
    pub watermark: Option<SqlWatermarkSpec>,
    /// Seconds to wait for the connection, and then for each next row, before the pull is
    /// given up (default 60). A hung department database fails its pull, never the service.
    pub timeout_seconds: Option<f64>,
    /// Verify the server's TLS certificate and name (default true). A database on another
    /// machine is reached over TLS checked against the system's certificate authorities; set
    /// false only for a server inside a closed network without a certificate, and then the
    /// URL's own `sslmode` / `ssl-mode` is used as written. Databases on this machine
    /// (127.0.0.1, localhost, a socket) are reached as the URL says.
    pub tls_verify: Option<bool>,
}

/// Incremental pulls of a query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlWatermarkSpec {
    /// Result column whose greatest value becomes the next watermark (`updated_at`, `id`).
    pub column: String,
    /// Watermark of the first pull (`1970-01-01 00:00:00`, `0`).
    pub start: String,
    /// Seconds before the watermark that the next pull reads again (date-time watermarks
    /// only; default 300). A row committed late with an earlier timestamp (its transaction
    /// began before the last pull and committed after it) is then still pulled; rows read
    /// again are recognised and stored once. Set it to the longest a transaction of the
    /// department's system can stay open; 0 reads strictly after the watermark.
    pub overlap_seconds: Option<f64>,
}

/// Which database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// MySQL or MariaDB.
    Mysql,
    /// PostgreSQL.
    Postgres,
}

/// A validated sql connector.
#[derive(Debug, Clone)]
pub struct SqlConfig {
    /// Server kind.
    pub database: Database,
    /// Environment variable with the URL.
    pub url_env: String,
    /// The query.
    pub query: String,
    /// Watermark.
    pub watermark: Option<SqlWatermarkSpec>,
    /// Connection and row timeout.
    pub timeout: Duration,
    /// Whether a remote server's certificate is verified.
    pub tls_verify: bool,
}

impl SqlConfig {
    /// Validates the file's sql keys.
    pub fn build(table: toml::Table, problems: &mut Problems<'_>) -> Option<SqlConfig> {
        let spec: SqlSpec = deserialize_spec(table, problems)?;
        let before = problems.count();
        let database = match spec.database.as_str() {
            "mysql" | "mariadb" => Database::Mysql,
            "postgres" | "postgresql" => Database::Postgres,
            other => {
                problems.add(
                    "database",
                    format!("unknown database \"{other}\" (known: mysql, postgres)"),
                );
                Database::Mysql
            }
        };
        if !is_env_name(&spec.url_env) {
            problems.add(
                "url_env",
                format!(
                    "\"{}\" is not an environment variable name: the file names the variable \
                     holding the URL, never the URL (it carries the password)",
                    spec.url_env
                ),
            );
        }
        let first = spec
            .query
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if first != "SELECT" && first != "WITH" {
            problems.add("query", "must be one SELECT (or WITH … SELECT) query");
        }
        if spec.query.trim_end().trim_end_matches(';').contains(';') {
            problems.add("query", "must be one statement (no `;` inside)");
        }
        let placeholder = match database {
            Database::Mysql => "?",
            Database::Postgres => "$1",
        };
        match (&spec.watermark, spec.query.contains(placeholder)) {
            (Some(_), false) => problems.add(
                "query",
                format!("takes the watermark as {placeholder}, but has no {placeholder}"),
            ),
            (None, true) => problems.add(
                "watermark",
                format!(
                    "missing: the query has a parameter {placeholder} but no watermark is declared"
                ),
            ),
            _ => {}
        }
        if let Some(overlap) = spec.watermark.as_ref().and_then(|w| w.overlap_seconds)
            && !(overlap.is_finite() && (0.0..1e9).contains(&overlap))
        {
            problems.add(
                "watermark",
                format!("overlap_seconds {overlap} must be 0 or a positive number of seconds"),
            );
        }
        let timeout = spec.timeout_seconds.unwrap_or(60.0);
        if !(timeout.is_finite() && timeout > 0.0 && timeout < 1e6) {
            problems.add(
                "timeout_seconds",
                format!("{timeout} must be a positive number of seconds"),
            );
        }
        if problems.count() > before {
            return None;
        }
        Some(SqlConfig {
            database,
            url_env: spec.url_env,
            query: spec.query.trim().trim_end_matches(';').to_string(),
            watermark: spec.watermark,
            timeout: Duration::from_secs_f64(timeout),
            tls_verify: spec.tls_verify.unwrap_or(true),
        })
    }

    /// Pulls from the watermark and stores the pull.
    pub(super) async fn sync(
        &self,
        connector: &Connector,
        context: &SyncContext<'_>,
        report: &mut SyncReport,
    ) -> Result<(), ConnectorError> {
        let before = state::load(context.registry, &connector.name)
            .await?
            .unwrap_or_default();
        let watermark_before = before
            .watermark
            .clone()
            .or_else(|| self.watermark.as_ref().map(|w| w.start.clone()));
        let url = match std::env::var(&self.url_env) {
            Ok(url) if !url.is_empty() => url,
            _ => return Err(ConnectorError::MissingSecret(self.url_env.clone())),
        };
        let tls = tls_plan(&url, &self.url_env, self.tls_verify)?;
        // the query reads again from `overlap` before the watermark; the rows of that window
        // stored by earlier pulls are known by their hashes
        let overlap = self
            .watermark
            .as_ref()
            .map(|w| w.overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS))
            .unwrap_or(0.0);
        let bound = watermark_before
            .as_deref()
            .map(|mark| reach_back(mark, overlap).unwrap_or_else(|| mark.to_string()));
        let seen = match &bound {
            Some(bound) if bound.as_str() != watermark_before.as_deref().unwrap_or("") => {
                state::seen_rows(context.registry, &connector.name, bound).await?
            }
            _ => HashSet::new(),
        };
        // the transfer goes to a staging file: the registry is not locked while the
        // department's database is slow
        let mut staging = Staging::new()?;
        let mut columns = Vec::new();
        let pulled = match self.database {
            Database::Mysql => {
                self.pull_mysql(
                    &url,
                    tls,
                    bound.as_deref(),
                    (&seen, overlap),
                    &mut staging,
                    &mut columns,
                    context,
                )
                .await?
            }
            Database::Postgres => {
                self.pull_postgres(
                    &url,
                    tls,
                    bound.as_deref(),
                    (&seen, overlap),
                    &mut staging,
                    &mut columns,
                    context,
                )
                .await?
            }
        };
        // the greatest value read may lie inside the overlap, below the watermark
        let watermark_after = match (pulled.greatest.clone(), watermark_before.clone()) {
            (Some(read), Some(before)) if !later_mark(&read, &before) => Some(before),
            (read, before) => read.or(before),
        };
        let (_gate, ingestor, writer) = staging.into_pull("sql", connector, context).await?;
        let forget_before = watermark_after
            .as_deref()
            .and_then(|mark| reach_back(mark, overlap));
        let record = PullRecord {
            connector: connector.name.clone(),
            kind: "sql".into(),
            source: self.query.clone(),
            watermark_before: watermark_before.clone(),
            watermark_after: watermark_after.clone(),
            fields: columns.clone(),
            pages: 1,
            seen_rows: pulled.window.into_iter().collect(),
            forget_before,
        };
        if pulled.skipped > 0 {
            report.notes.push(format!(
                "{} rows of the overlap ({overlap} s before the watermark) were stored by an \
                 earlier pull and skipped",
                pulled.skipped
            ));
        }
        let outcome = writer.commit(&ingestor, "sql", &record).await?;
        if matches!(outcome, PullOutcome::Empty) {
            state::touch(context.registry, &connector.name, false).await?;
        }
        for note in field_changes(&before.fields, &columns) {
            tracing::warn!(connector = %connector.name, "{note}");
            report.notes.push(note);
        }
        if watermark_after.is_some() && watermark_after != watermark_before {
            report.notes.push(format!(
                "watermark {} → {}",
                watermark_before.as_deref().unwrap_or("(none)"),
                watermark_after.as_deref().unwrap_or("(none)")
            ));
        }
        report.add_pull(outcome)
    }

    /// `what`, given up after the connector's timeout or at shutdown.
    async fn within<T>(
        &self,
        context: &SyncContext<'_>,
        what: &str,
        work: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, ConnectorError> {
        tokio::select! {
            done = tokio::time::timeout(self.timeout, work) => match done {
                Ok(result) => result.map_err(|e| ConnectorError::Sql(format!("{what}: {e}"))),
                Err(_) => Err(ConnectorError::Sql(format!(
                    "{what}: no answer within {} s (timeout_seconds); nothing of this pull \
                     was stored",
                    self.timeout.as_secs_f64()
                ))),
            },
            _ = context.shutdown.requested() => Err(ConnectorError::Interrupted),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn pull_mysql(
        &self,
        url: &str,
        tls: TlsPlan,
        watermark: Option<&str>,
        overlap: (&HashSet<String>, f64),
        staging: &mut Staging,
        columns: &mut Vec<String>,
        context: &SyncContext<'_>,
    ) -> Result<Pulled, ConnectorError> {
        let mut options = sqlx::mysql::MySqlConnectOptions::from_str(url)
            .map_err(|e| ConnectorError::Sql(format!("the URL in {}: {e}", self.url_env)))?;
        if tls == TlsPlan::Verify {
            options = options.ssl_mode(sqlx::mysql::MySqlSslMode::VerifyIdentity);
        }
        let mut connection = self
            .within(context, "cannot connect", options.connect())
            .await?;
        self.within(
            context,
            "cannot start a read-only session",
            sqlx::raw_sql("START TRANSACTION READ ONLY").execute(&mut connection),
        )
        .await?;
        let result = {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(self.query.as_str()));
            if self.watermark.is_some() {
                query = query.bind(watermark.unwrap_or_default());
            }
            let rows = query.fetch(&mut connection);
            self.stream(rows, mysql_cells, overlap, staging, columns, context)
                .await
        };
        // after a failure the connection may be mid-query: it is dropped, not waited for
        if result.is_ok() {
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::raw_sql("ROLLBACK").execute(&mut connection),
            )
            .await;
            let _ = tokio::time::timeout(Duration::from_secs(5), connection.close()).await;
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn pull_postgres(
        &self,
        url: &str,
        tls: TlsPlan,
        watermark: Option<&str>,
        overlap: (&HashSet<String>, f64),
        staging: &mut Staging,
        columns: &mut Vec<String>,
        context: &SyncContext<'_>,
    ) -> Result<Pulled, ConnectorError> {
        let mut options = sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|e| ConnectorError::Sql(format!("the URL in {}: {e}", self.url_env)))?;
        if tls == TlsPlan::Verify {
            options = options.ssl_mode(sqlx::postgres::PgSslMode::VerifyFull);
        }
        let mut connection = self
            .within(context, "cannot connect", options.connect())
            .await?;
        self.within(
            context,
            "cannot start a read-only session",
            sqlx::raw_sql("BEGIN READ ONLY").execute(&mut connection),
        )
        .await?;
        let result = {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(self.query.as_str()));
            if self.watermark.is_some() {
                query = query.bind(watermark.unwrap_or_default());
            }
            let rows = query.fetch(&mut connection);
            self.stream(rows, postgres_cells, overlap, staging, columns, context)
                .await
        };
        // after a failure the connection may be mid-query: it is dropped, not waited for
        if result.is_ok() {
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::raw_sql("ROLLBACK").execute(&mut connection),
            )
            .await;
            let _ = tokio::time::timeout(Duration::from_secs(5), connection.close()).await;
        }
        result
    }

    /// Stages every row of the stream that no earlier pull stored (`seen`); returns the
    /// greatest watermark value and the rows inside the overlap window of it.
    async fn stream<R: Row>(
        &self,
        mut rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
        cells_of: fn(&R) -> Vec<CellValue>,
        (seen, overlap): (&HashSet<String>, f64),
        staging: &mut Staging,
        columns: &mut Vec<String>,
        context: &SyncContext<'_>,
    ) -> Result<Pulled, ConnectorError> {
        let mut watermark_index: Option<usize> = None;
        let mut zoned = false;
        let mut greatest: Option<CellValue> = None;
        let mut pulled = Pulled::default();
        loop {
            let next = tokio::select! {
                next = tokio::time::timeout(self.timeout, rows.next()) => next,
                _ = context.shutdown.requested() => return Err(ConnectorError::Interrupted),
            };
            let row = match next {
                Err(_) => {
                    return Err(ConnectorError::Sql(format!(
                        "the query sent no row for {} s (timeout_seconds) after {} rows; \
                         nothing of this pull was stored",
                        self.timeout.as_secs_f64(),
                        staging.rows()
                    )));
                }
                Ok(None) => break,
                Ok(Some(row)) => row.map_err(|e| ConnectorError::Sql(e.to_string()))?,
            };
            if columns.is_empty() {
                *columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                if let Some(spec) = &self.watermark {
                    watermark_index = columns.iter().position(|c| *c == spec.column);
                    let Some(index) = watermark_index else {
                        return Err(ConnectorError::Sql(format!(
                            "the query has no column \"{}\" (the watermark column); it has: {}",
                            spec.column,
                            columns.join(", ")
                        )));
                    };
                    // a zoned timestamp comes back in UTC: the next query must be told so
                    zoned = row.columns()[index]
                        .type_info()
                        .name()
                        .eq_ignore_ascii_case("TIMESTAMPTZ");
                }
                staging.sheet("query", columns.clone())?;
            }
            let cells = cells_of(&row);
            let mark = watermark_index
                .and_then(|index| cells.get(index))
                .filter(|value| !value.is_blank())
                .cloned();
            if let Some(value) = &mark
                && greatest.as_ref().is_none_or(|g| greater(value, g))
            {
                greatest = Some(value.clone());
            }
            if overlap > 0.0
                && let Some(value) = &mark
            {
                let hash = row_hash(&cells);
                if seen.contains(&hash) {
                    pulled.skipped += 1;
                    continue;
                }
                let mark = mark_text(value, zoned);
                // only the rows within the overlap of the greatest value are kept in memory
                if let Some(lower) = greatest
                    .as_ref()
                    .and_then(|g| reach_back(&mark_text(g, zoned), overlap))
                {
                    while pulled.window.front().is_some_and(|(_, m)| *m < lower) {
                        pulled.window.pop_front();
                    }
                }
                pulled.window.push_back((hash, mark));
            }
            staging.row(cells)?;
        }
        pulled.greatest = greatest.map(|value| mark_text(&value, zoned));
        Ok(pulled)
    }
}

/// How far back the next pull reads by default: five minutes.
const DEFAULT_OVERLAP_SECONDS: f64 = 300.0;

/// What a query brought.
#[derive(Debug, Default)]
struct Pulled {
    /// The greatest watermark value read, as it is bound to the next query.
    greatest: Option<String>,
    /// Rows skipped as stored by an earlier pull.
    skipped: u64,
    /// `(hash, watermark value)` of the rows within the overlap of the greatest value.
    window: std::collections::VecDeque<(String, String)>,
}

/// A watermark value as bound to the next query and remembered with a row.
fn mark_text(value: &CellValue, zoned: bool) -> String {
    let text = watermark_text(value);
    if zoned && matches!(value, CellValue::DateTime(_)) {
        format!("{text}+00:00")
    } else {
        text
    }
}

/// `mark` moved `seconds` earlier, in the same form; `None` for a mark that is not a date-time
/// (a number, a code), which is read strictly after.
fn reach_back(mark: &str, seconds: f64) -> Option<String> {
    if seconds <= 0.0 {
        return None;
    }
    let (naive, zone) = match mark.strip_suffix("+00:00") {
        Some(naive) => (naive, "+00:00"),
        None => (mark, ""),
    };
    let at = chrono::NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let earlier = at - chrono::Duration::milliseconds((seconds * 1000.0) as i64);
    Some(format!("{}{zone}", earlier.format("%Y-%m-%d %H:%M:%S%.f")))
}

/// Whether watermark `a` is later than `b`: as date-times, as numbers, else as text.
fn later_mark(a: &str, b: &str) -> bool {
    let time = |m: &str| {
        chrono::NaiveDateTime::parse_from_str(m.trim_end_matches("+00:00"), "%Y-%m-%d %H:%M:%S%.f")
            .ok()
    };
    if let (Some(a), Some(b)) = (time(a), time(b)) {
        return a > b;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => a > b,
    }
}

/// A row as remembered: the SHA-256 of its cells with their types, 128 bits in hex.
fn row_hash(cells: &[CellValue]) -> String {
    let mut hasher = sha2::Sha256::new();
    for cell in cells {
        let key = cell_key(cell);
        hasher.update((key.len() as u64).to_le_bytes());
        hasher.update(key.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// How a connection's TLS is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsPlan {
    /// TLS with the server's certificate and name verified.
    Verify,
    /// As the URL says (a server on this machine, a verifying mode in the URL, or
    /// `tls_verify = false`).
    AsWritten,
}

/// Chooses the TLS of a connection: a server on another machine is verified unless the
/// connector opts out; a URL that asks for an unverified mode is refused rather than obeyed.
fn tls_plan(url: &str, variable: &str, verify: bool) -> Result<TlsPlan, ConnectorError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ConnectorError::Sql(format!("the URL in {variable} is not a URL: {e}")))?;
    if crate::config::is_local_database_url(&parsed) || !verify {
        return Ok(TlsPlan::AsWritten);
    }
    let mode = parsed.query_pairs().find_map(|(k, v)| {
        matches!(
            k.to_ascii_lowercase().as_str(),
            "sslmode" | "ssl-mode" | "ssl_mode"
        )
        .then(|| v.to_ascii_lowercase())
    });
    match mode {
        None => Ok(TlsPlan::Verify),
        Some(mode) if mode.starts_with("verify") => Ok(TlsPlan::AsWritten),
        Some(mode) => Err(ConnectorError::Sql(format!(
            "the URL in {variable} asks for sslmode {mode}, which does not check the server's \
             certificate: another machine could read the department's data or pose as its \
             database. Remove it (lifeline then verifies the server), or set \
             tls_verify = false in the connector for a closed network"
        ))),
    }
}

fn greater(a: &CellValue, b: &CellValue) -> bool {
    match (a, b) {
        (CellValue::Int(a), CellValue::Int(b)) => a > b,
        (CellValue::Float(a), CellValue::Float(b)) => a > b,
        (CellValue::DateTime(a), CellValue::DateTime(b)) => a > b,
        _ => watermark_text(a) > watermark_text(b),
    }
}

/// A watermark value as bound to the next query: dates as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn watermark_text(value: &CellValue) -> String {
    match value {
        CellValue::DateTime(at) => at.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        other => other.display(),
    }
}

fn mysql_cells(row: &sqlx::mysql::MySqlRow) -> Vec<CellValue> {
    (0..row.columns().len())
        .map(|i| {
            let Ok(raw) = row.try_get_raw(i) else {
                return CellValue::Error("unreadable".into());
            };
            if raw.is_null() {
                return CellValue::Empty;
            }
            let type_name = raw.type_info().name().to_ascii_uppercase();
            cell_by_type(&type_name, row, i)
        })
        .collect()
}

fn postgres_cells(row: &sqlx::postgres::PgRow) -> Vec<CellValue> {
    (0..row.columns().len())
        .map(|i| {
            let Ok(raw) = row.try_get_raw(i) else {
                return CellValue::Error("unreadable".into());
            };
            if raw.is_null() {
                return CellValue::Empty;
            }
            let type_name = raw.type_info().name().to_ascii_uppercase();
            if type_name == "NUMERIC" {
                return match raw.as_bytes().ok().and_then(decode_pg_numeric) {
                    Some(text) => CellValue::Text(text),
                    None => CellValue::Error("unreadable NUMERIC".into()),
                };
            }
            cell_by_type(&type_name, row, i)
        })
        .collect()
}

/// Decodes one column by its type name; text is the fallback, an error cell the last resort.
fn cell_by_type<'r, R>(type_name: &str, row: &'r R, i: usize) -> CellValue
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i16: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::DateTime<chrono::Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let base = type_name.trim_end_matches(" UNSIGNED");
    let value = match base {
        "BOOL" | "BOOLEAN" => row.try_get_unchecked::<bool, _>(i).map(CellValue::Bool),
        "TINYINT" | "SMALLINT" | "INT2" => row
            .try_get_unchecked::<i16, _>(i)
            .map(|v| CellValue::Int(v.into()))
            .or_else(|_| row.try_get_unchecked::<i64, _>(i).map(CellValue::Int)),
        "INT" | "INT4" | "MEDIUMINT" | "INTEGER" => row
            .try_get_unchecked::<i32, _>(i)
            .map(|v| CellValue::Int(v.into()))
            .or_else(|_| row.try_get_unchecked::<i64, _>(i).map(CellValue::Int)),
        "BIGINT" | "INT8" => row.try_get_unchecked::<i64, _>(i).map(CellValue::Int),
        "FLOAT" | "FLOAT4" => row
            .try_get_unchecked::<f32, _>(i)
            .map(|v| CellValue::Float(v.into())),
        "DOUBLE" | "FLOAT8" | "REAL" => row.try_get_unchecked::<f64, _>(i).map(CellValue::Float),
        "DATE" => row
            .try_get_unchecked::<chrono::NaiveDate, _>(i)
            .map(|d| CellValue::DateTime(d.and_time(chrono::NaiveTime::MIN))),
        "DATETIME" | "TIMESTAMP" => row
            .try_get_unchecked::<chrono::NaiveDateTime, _>(i)
            .map(CellValue::DateTime)
            .or_else(|_| {
                row.try_get_unchecked::<chrono::DateTime<chrono::Utc>, _>(i)
                    .map(|t| CellValue::DateTime(t.naive_utc()))
            }),
        "TIMESTAMPTZ" => row
            .try_get_unchecked::<chrono::DateTime<chrono::Utc>, _>(i)
            .map(|t| CellValue::DateTime(t.naive_utc())),
        _ => row.try_get_unchecked::<String, _>(i).map(CellValue::Text),
    };
    value.unwrap_or_else(|_| {
        CellValue::Error(format!(
            "column type {type_name} is not read: cast it to text in the query"
        ))
    })
}

/// PostgreSQL's binary NUMERIC as decimal text (`1234.50`): amounts are kept exact.
fn decode_pg_numeric(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i16> {
        Some(i16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]))
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i32;
    let sign = word(4)? as u16;
    let scale = word(6)? as usize;
    if sign == 0xC000 {
        return Some("NaN".into());
    }
    let digits: Vec<i16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Option<_>>()?;
    // integer part: base-10000 digits 0..=weight
    let mut integer = String::new();
    for position in 0..=weight.max(-1) {
        let digit = digits.get(position as usize).copied().unwrap_or(0);
        if integer.is_empty() {
            if digit != 0 || position == weight {
                integer = digit.to_string();
            }
        } else {
            integer.push_str(&format!("{digit:04}"));
        }
    }
    if integer.is_empty() {
        integer.push('0');
    }
    let mut fraction = String::new();
    let mut position = weight + 1;
    while fraction.len() < scale {
        let digit = if position < 0 {
            0
        } else {
            digits.get(position as usize).copied().unwrap_or(0)
        };
        fraction.push_str(&format!("{digit:04}"));
        position += 1;
    }
    fraction.truncate(scale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Some(if scale > 0 {
        format!("{sign}{integer}.{fraction}")
    } else {
        format!("{sign}{integer}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, scale: u16, digits: &[i16]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [ndigits, weight, sign as i16, scale as i16] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        for digit in digits {
            bytes.extend_from_slice(&digit.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn postgres_numeric_amounts_decode_exactly() {
        // 12345.67 = 1|2345|6700, weight 1, scale 2
        assert_eq!(
            decode_pg_numeric(&numeric(3, 1, 0, 2, &[1, 2345, 6700])).as_deref(),
            Some("12345.67")
        );
        // -0.05
        assert_eq!(
            decode_pg_numeric(&numeric(1, -1, 0x4000, 2, &[500])).as_deref(),
            Some("-0.05")
        );
        // 80000 = 8|0000 with trailing zero digits dropped
        assert_eq!(
            decode_pg_numeric(&numeric(1, 1, 0, 0, &[8])).as_deref(),
            Some("80000")
        );
        assert_eq!(
            decode_pg_numeric(&numeric(0, 0, 0, 2, &[])).as_deref(),
            Some("0.00")
        );
    }

    #[test]
    fn date_watermarks_keep_their_fraction() {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
            .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 250))
            .map(CellValue::DateTime)
            .unwrap_or_default();
        assert_eq!(watermark_text(&at), "2024-05-01 10:00:00.000250");
    }
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    #[test]
    fn a_remote_database_is_verified_unless_the_connector_opts_out() {
        let plan = |url: &str, verify: bool| tls_plan(url, "DB_URL", verify);
        assert_eq!(
            plan("postgres://u:p@db.dept.gov.cn/x", true).unwrap(),
            TlsPlan::Verify
        );
        assert_eq!(
            plan("postgres://u:p@db.dept.gov.cn/x?sslmode=verify-full", true).unwrap(),
            TlsPlan::AsWritten
        );
        let refused = plan("mysql://u:p@10.1.2.3/x?ssl-mode=PREFERRED", true)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("tls_verify = false"), "{refused}");
        assert!(!refused.contains("u:p"), "{refused}");
        assert_eq!(
            plan("mysql://u:p@10.1.2.3/x?ssl-mode=DISABLED", false).unwrap(),
            TlsPlan::AsWritten
        );
        assert_eq!(
            plan("postgres://postgres@127.0.0.1:5432/test", true).unwrap(),
            TlsPlan::AsWritten
        );
        assert_eq!(
            plan("postgres://u@localhost/x?sslmode=disable", true).unwrap(),
            TlsPlan::AsWritten
        );
    }
}
