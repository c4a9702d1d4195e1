//! The registry: where accepted records, the persons they name, rejects and file receipts are
//! stored, through sqlx on SQLite (the embedded default: one file in WAL mode) or PostgreSQL.
//!
//! The backend is chosen by URL (`sqlite:PATH`, `postgres://…`); the schema comes from
//! migrations under `migrations/<backend>/`. SQL is written once with `$n` placeholders, which
//! both backends accept. A file is stored in one transaction ([`FileWriter`]): its rows,
//! rejects and receipt become visible together or not at all.

pub mod backup;
mod native;
pub(crate) mod write;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor, Row};

pub use write::{FileCounts, FileMeta, FileSummary, FileWriter};

/// How long a SQLite connection waits for another connection's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings of every SQLite connection of the registry (the writer of a file's rows changes
/// two of them): the write-ahead log, commits without fsync (the log is synced at checkpoints),
/// foreign keys, a 64 MiB page cache, temporary tables in memory, and the database file mapped
/// into memory (up to 2 GiB) so that pages outside the page cache are read where the kernel
/// holds them instead of being copied out by a system call each: an incremental match at
/// 1.1M mentions took 5.3 s instead of 7.8 s, a full one read its mentions in 6.8 s instead of
/// 10.6 s, and ingest, whose index inserts read pages too, used 8% less CPU. Mapped pages count
/// in the resident memory the system reports (a full match at 1.1M: 3.3 GB instead of 2.9 GB),
/// but they are the file's cached pages, which the kernel drops when memory is short.
const SQLITE_PRAGMAS: &[(&str, &str)] = &[
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("cache_size", "-65536"),
    ("temp_store", "MEMORY"),
    ("mmap_size", "2147418112"),
];

/// A statement slower than this is logged as a warning.
const SLOW_STATEMENT: Duration = Duration::from_secs(30);

/// The database behind a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Why the registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The URL names no supported database.
    #[error("unsupported registry url \"{0}\": use sqlite:PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// Connecting failed.
    #[error("cannot open the registry at {url}: {source}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// Driver error.
        source: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("cannot bring the registry schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("registry query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The database answered with something lifeline cannot read.
    #[error("the registry returned data lifeline cannot read: {0}")]
    Unreadable(String),
    /// SQLite refused a row of the bulk insert.
    #[error("registry write failed: {0}")]
    Write(String),
    /// Creating the folder of a SQLite file failed.
    #[error("cannot create the folder for {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl RegistryError {
    /// Whether the registry could not take the write for a reason of its own (busy past its
    /// timeout, disk full, connection lost, server shutting down), not because of the data: a
    /// file refused this way is kept and tried again, never sent back to its officer.
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Connect { .. }
            | RegistryError::Migrate(_)
            | RegistryError::Folder { .. } => true,
            RegistryError::Query(error) => is_transient_sqlx(error),
            RegistryError::Write(message) => {
                // the native writer's messages end with "(SQLite error CODE)"
                message
                    .rsplit_once("(SQLite error ")
                    .and_then(|(_, code)| code.trim_end_matches(')').parse::<i32>().ok())
                    .is_some_and(is_transient_sqlite_code)
            }
            RegistryError::UnsupportedUrl(_) | RegistryError::Unreadable(_) => false,
        }
    }
}

/// SQLite result codes (primary code in the low byte) that say nothing about the row: busy,
/// locked, out of memory, I/O error, corrupt page cache, disk full, cannot open, protocol.
fn is_transient_sqlite_code(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15)
}

fn is_transient_sqlx(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if let Ok(number) = code.parse::<i32>() {
                // SQLite reports its result code as a number
                return is_transient_sqlite_code(number);
            }
            // PostgreSQL SQLSTATE classes: connection exception, transaction rollback
            // (serialization, deadlock), insufficient resources, operator intervention
            // (shutdown), system error
            ["08", "40", "53", "57", "58"]
                .iter()
                .any(|class| code.starts_with(class))
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        _ => false,
    }
}

/// The connection of a file's transaction: the portable one, or, for a SQLite file, SQLite's
/// own driver ([`FileWriter::connection`]).
pub enum TxConnection<'a> {
    /// Through sqlx's `Any` driver.
    Any(&'a mut sqlx::AnyConnection),
    /// SQLite's own driver.
    Sqlite(&'a mut sqlx::SqliteConnection),
}

impl<'a> From<&'a mut sqlx::AnyConnection> for TxConnection<'a> {
    fn from(connection: &'a mut sqlx::AnyConnection) -> TxConnection<'a> {
        TxConnection::Any(connection)
    }
}

/// Evaluates `$body` with `$c` bound to the connection a [`TxConnection`] holds, whichever
/// driver it is: the query is written once and compiled for both.
macro_rules! on_connection {
    ($connection:expr, $c:ident => $body:expr) => {
        match $connection {
            $crate::registry::TxConnection::Any($c) => $body,
            $crate::registry::TxConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_connection;

/// A stored file, as found by its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Registry id.
    pub id: i64,
    /// File name when it was ingested.
    pub file_name: String,
    /// When.
    pub ingested_at: String,
}

/// An open registry.
#[derive(Debug, Clone)]
pub struct Registry {
    pool: AnyPool,
    backend: Backend,
    /// For a SQLite file: a connection of SQLite's own driver, on which a file's rows are
    /// written through SQLite's statement API ([`FileWriter`]).
    sqlite_writer: Option<sqlx::SqlitePool>,
    /// The background checkpoint after a file's commit.
    checkpoint: std::sync::Arc<Checkpoint>,
}

/// The state of [`Registry::checkpoint_soon`].
#[derive(Debug, Default)]
struct Checkpoint {
    /// A commit happened since the last checkpoint began.
    pending: std::sync::atomic::AtomicBool,
    /// The task running checkpoints while some are pending.
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Strips secrets from a URL for messages and logs: the password of `user:password@`, and the
/// value of any query parameter whose name says it holds one (`password`, `sslpassword`,
/// `api_key`, `token`, `secret`…).
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|part| match part.split_once('=') {
                Some((name, _)) if is_secret_name(name) => format!("{name}=***"),
                _ => part.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// Whether a parameter of this name carries a credential.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "pass",
        "secret",
        "token",
        "key",
        "auth",
        "signature",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// A PostgreSQL URL to another machine that says nothing of TLS gets `sslmode=verify-full`:
/// the registry holds ID numbers and diagnoses, and an unverified connection could be read or
/// answered by a machine in the middle. A mode written in the URL (`sslmode=disable` for a
/// server without TLS on a closed network) is the operator's explicit choice and is kept, as is
/// any URL to this machine or a socket.
pub fn verified_tls(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let local = crate::config::is_local_database_url(&parsed);
    let stated = parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("sslmode"));
    if local || stated {
        return url.to_string();
    }
    let separator = if parsed.query().is_some() { '&' } else { '?' };
    format!("{url}{separator}sslmode=verify-full")
}

impl Registry {
    /// Opens (creating if needed) the registry at `url` and migrates it to the current schema.
    pub async fn open(url: &str) -> Result<Registry, RegistryError> {
        install_default_drivers();
        let mut in_memory = false;
        let (backend, connect_url) = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or(path);
            in_memory = file == ":memory:" || path.contains("mode=memory");
            if !in_memory
                && let Some(parent) = Path::new(file).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|source| RegistryError::Folder {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            let connect = if path.contains('?') {
                format!("sqlite:{path}")
            } else {
                format!("sqlite:{path}?mode=rwc")
            };
            (Backend::Sqlite, connect)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, verified_tls(url))
        } else {
            return Err(RegistryError::UnsupportedUrl(url.to_string()));
        };
        let options = AnyPoolOptions::new().max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|connection, _| {
                Box::pin(async move {
                    let mut init =
                        format!("PRAGMA busy_timeout = {};", SQLITE_BUSY_TIMEOUT.as_millis());
                    for (name, value) in SQLITE_PRAGMAS {
                        init.push_str(&format!(" PRAGMA {name} = {value};"));
                    }
                    connection.execute(sqlx::AssertSqlSafe(init)).await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let connect_error = |source| RegistryError::Connect {
            url: redact(url),
            source,
        };
        // sqlx warns of every statement over a second; rebuilding an index of four million
        // blocking keys, or clearing a million links before a full match, takes that long by
        // design, and a nightly job's log should not cry wolf
        let connect_options = connect_url
            .parse::<AnyConnectOptions>()
            .map_err(connect_error)?
            .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
        // a pool retries until its timeout (30 s) and then says only that it timed out; one
        // direct connection first fails at once with the reason (refused, unknown host, password)
        sqlx::AnyConnection::connect_with(&connect_options)
            .await
            .map_err(connect_error)?
            .close()
            .await
            .map_err(connect_error)?;
        let pool = options
            .connect_with(connect_options)
            .await
            .map_err(connect_error)?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        // an in-memory database is private to its connection: its files go the portable way
        let sqlite_writer = if backend == Backend::Sqlite && !in_memory {
            let options = SQLITE_PRAGMAS
                .iter()
                .fold(
                    connect_url
                        .parse::<sqlx::sqlite::SqliteConnectOptions>()
                        .map_err(connect_error)?,
                    |options, (name, value)| options.pragma(*name, *value),
                )
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // 8 MiB: a file's pages spill to the WAL while it is read, not all at its commit
                // (a 200,000-row workbook ingested 3% faster than with 64 MiB)
                .pragma("cache_size", "-8192")
                // the WAL is copied into the database by a checkpoint run after each file's
                // commit, off the file's path ([`Registry::checkpoint_soon`]), not inside it
                .pragma("wal_autocheckpoint", "0")
                // a file's commit reaches the disk before the file is moved to the archive: with
                // NORMAL a power cut could undo a commit whose file was already archived
                .pragma("synchronous", "FULL")
                .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
            // SQLite has one writer at a time; a second file waits for the first one's commit
            let writer = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(2)
                .connect_lazy_with(options);
            Some(writer)
        } else {
            None
        };
        Ok(Registry {
            pool,
            backend,
            sqlite_writer,
            checkpoint: Default::default(),
        })
    }

    /// Connects to a database server without touching its schema (to create or drop test
    /// databases, to check connectivity).
    pub async fn open_admin(url: &str) -> Result<AnyPool, RegistryError> {
        install_default_drivers();
        AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(|source| RegistryError::Connect {
                url: redact(url),
                source,
            })
    }

    /// The connection pool, for queries of other modules.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The same registry writing files through sqlx's portable driver even on SQLite, as on
    /// PostgreSQL: to check that both ways store the same rows.
    pub fn with_portable_writes(mut self) -> Registry {
        self.sqlite_writer = None;
        self
    }

    /// After a file's commit on SQLite: copies the write-ahead log into the database file (a
    /// PASSIVE checkpoint, then fsync) on a task of its own, so that the next file is read
    /// meanwhile. A file's commit with SQLite's automatic checkpoint did this inside the commit:
    /// a quarter of a second for a 200,000-row workbook, most of it waiting for the disk. One
    /// checkpoint at a time (a commit during one asks for another after it);
    /// [`Registry::close`] waits for the last.
    pub(crate) fn checkpoint_soon(&self) {
        use std::sync::atomic::Ordering;
        let Some(pool) = self.sqlite_writer.clone() else {
            return;
        };
        let checkpoint = &self.checkpoint;
        checkpoint.pending.store(true, Ordering::Release);
        let mut task = checkpoint.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            // the running task sees `pending` before it ends
            return;
        }
        let state = std::sync::Arc::clone(checkpoint);
        *task = Some(tokio::spawn(async move {
            while state.pending.swap(false, Ordering::AcqRel) {
                match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    Ok(_) => {}
                    // another connection is checkpointing: it copies the same log
                    Err(sqlx::Error::Database(error))
                        if matches!(error.code().as_deref(), Some("5" | "6" | "261" | "517")) =>
                    {
                        tracing::debug!(%error, "checkpoint left to another connection");
                    }
                    Err(error) => {
                        tracing::warn!(%error, "checkpoint of the registry's write-ahead log failed");
                    }
                }
            }
        }));
    }

    /// Waits until the checkpoint started after the last file's commit, if any, is done: the
    /// database file then holds every committed file.
    pub async fn wait_for_checkpoint(&self) {
        let task = self
            .checkpoint
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// The pool of SQLite's own driver for a file's rows, if this is a SQLite file.
    pub(crate) fn sqlite_writer(&self) -> Option<&sqlx::SqlitePool> {
        self.sqlite_writer.as_ref()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a batch (one `ingest` call, one connector run) and returns its id.
    pub async fn start_batch(&self, origin: &str) -> Result<i64, RegistryError> {
        let row =
            sqlx::query("INSERT INTO batches (started_at, origin) VALUES ($1, $2) RETURNING id")
                .bind(now())
                .bind(origin)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// The stored file with this SHA-256, if any.
    pub async fn find_file(&self, sha256: &str) -> Result<Option<StoredFile>, RegistryError> {
        let row = sqlx::query("SELECT id, file_name, ingested_at FROM files WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(StoredFile {
                id: row.try_get(0)?,
                file_name: row.try_get(1)?,
                ingested_at: row.try_get(2)?,
            }),
            None => None,
        })
    }

    /// Counts rows of a table (records, mentions, rejects, files).
    pub async fn count(&self, table: Table) -> Result<i64, RegistryError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Closes the pool, flushing SQLite's WAL.
    pub async fn close(&self) {
        self.wait_for_checkpoint().await;
        self.pool.close().await;
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
    }
}

/// Tables that can be counted.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    /// Ingested files.
    Files,
    /// Accepted rows.
    Records,
    /// Person mentions.
    Mentions,
    /// Rejects and value issues.
    Rejects,
}

impl Table {
    fn name(&self) -> &'static str {
        match self {
            Table::Files => "files",
            Table::Records => "records",
            Table::Mentions => "mentions",
            Table::Rejects => "rejects",
        }
    }
}

/// The current time as RFC 3339 text, as stored in the registry.
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tls_tests {
    use super::verified_tls;

    #[test]
    fn a_remote_registry_is_reached_over_verified_tls_unless_the_url_says_otherwise() {
        assert_eq!(
            verified_tls("postgres://lifeline@10.0.0.5/lifeline"),
            "postgres://lifeline@10.0.0.5/lifeline?sslmode=verify-full"
        );
        assert_eq!(
            verified_tls("postgres://lifeline@db.example/lifeline?application_name=x"),
            "postgres://lifeline@db.example/lifeline?application_name=x&sslmode=verify-full"
        );
        for kept in [
            "postgres://lifeline@10.0.0.5/lifeline?sslmode=disable",
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@localhost/test",
        ] {
            assert_eq!(verified_tls(kept), kept);
        }
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    /// Regression: `?password=` in a database URL reached logs and run history as it was.
    #[test]
    fn secrets_in_the_query_are_redacted_too() {
        assert_eq!(
            redact("postgres://lifeline:s3cret@db/lifeline?sslmode=require"),
            "postgres://lifeline:***@db/lifeline?sslmode=require"
        );
        assert_eq!(
            redact("postgres://lifeline@db/lifeline?password=s3cret&sslmode=verify-full"),
            "postgres://lifeline@db/lifeline?password=***&sslmode=verify-full"
        );
        assert_eq!(
            redact("mysql://root@db/hr?sslpassword=a&application_name=lifeline"),
            "mysql://root@db/hr?sslpassword=***&application_name=lifeline"
        );
        assert_eq!(
            redact("https://api.example/v1/houses?api_key=k1&page=2&access_token=t"),
            "https://api.example/v1/houses?api_key=***&page=2&access_token=***"
        );
        // an @ in the query is not the end of credentials
        assert_eq!(
            redact("postgres://db/x?user=a@b&password=p"),
            "postgres://db/x?user=a@b&password=***"
        );
        assert_eq!(redact("sqlite:lifeline.db"), "sqlite:lifeline.db");
    }
}
