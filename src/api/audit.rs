//! The read audit: one entry for every API response that carries personal data (and for every
//! refusal of such a request to a known key), written *before* the response leaves. An entry
//! says which key, when, which endpoint and query, the purpose the caller gave (`X-Purpose`),
//! which record IDs were returned and the status.
//!
//! The log is append-only (triggers refuse updates and deletes) and tamper-evident: each entry
//! holds the SHA-256 of the previous entry's hash and its own fields, so changing, inserting or
//! removing an entry breaks the chain from there on; `lifeline audit verify` walks it. (Cutting
//! entries off the end leaves a shorter valid chain: compare the count with the metrics or a
//! copy kept elsewhere.)
//!
//! For a SQLite registry the log is a SQLite file of its own beside it (`lifeline.audit.db`
//! for `lifeline.db`), so that a nightly match, which holds the registry's write lock for
//! seconds, never holds up a read; for PostgreSQL it is a table of the same database. Entries
//! are written by one task in small batches (group commit), each batch one transaction synced
//! to disk, and a request waits for its batch: if the entry cannot be written the request is
//! refused (503).

use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use crate::registry::{RegistryError, redact};

/// One audit entry before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// The key's name, if the request named a known key.
    pub key_name: Option<String>,
    /// `GET /api/v1/households/{id}`.
    pub endpoint: String,
    /// The path and query as sent.
    pub query: String,
    /// What the caller said the read is for (`X-Purpose`).
    pub purpose: Option<String>,
    /// The IDs of the records returned (households, persons, flags, changes).
    pub record_ids: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
}

/// An entry as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    /// Position, from 1, without gaps.
    pub seq: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The previous entry's hash (64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Why the audit log failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database failed.
    #[error("audit log: {0}")]
    Database(#[from] sqlx::Error),
    /// The audit log cannot be opened.
    #[error("cannot open the audit log at {url}: {source}")]
    Open {
        /// Where, without password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The writer task is gone (the server is stopping).
    #[error("the audit writer has stopped")]
    Stopped,
    /// The registry URL names no database the audit log can live in.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A stored entry cannot be read back.
    #[error("audit entry {0} cannot be read: {1}")]
    Unreadable(i64, String),
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    key_name TEXT,
    endpoint TEXT NOT NULL,
    query TEXT NOT NULL,
    purpose TEXT,
    record_ids TEXT NOT NULL,
    status INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_at ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    key_name TEXT,
    endpoint TEXT NOT NULL,
    query TEXT NOT NULL,
    purpose TEXT,
    record_ids TEXT NOT NULL,
    status BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_at ON audit_log (at);
CREATE OR REPLACE FUNCTION lifeline_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_log_append_only') THEN
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION lifeline_audit_append_only();
    END IF;
END $$;
";

/// Where the audit log of a registry lives: a file beside a SQLite registry, the same
/// PostgreSQL database otherwise.
pub fn default_audit_url(registry_url: &str) -> Result<String, RegistryError> {
    if registry_url.starts_with("sqlite:") {
        let Some(file) = crate::registry::backup::sqlite_file(registry_url) else {
            return Ok("sqlite::memory:".into());
        };
        let file = file.display().to_string();
        let audit = match file.strip_suffix(".db") {
            Some(stem) => format!("{stem}.audit.db"),
            None => format!("{file}.audit.db"),
        };
        Ok(format!("sqlite:{audit}"))
    } else if registry_url.starts_with("postgres://") || registry_url.starts_with("postgresql://") {
        Ok(registry_url.to_string())
    } else {
        Err(RegistryError::UnsupportedUrl(registry_url.to_string()))
    }
}

/// The hash of an entry after `prev_hash`.
pub fn entry_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    // a JSON array of the fields in a fixed order: unambiguous, whatever the texts hold
    let fields = serde_json::json!([
        entry.at,
        entry.key_name,
        entry.endpoint,
        entry.query,
        entry.purpose,
        entry.record_ids,
        entry.status
    ]);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(fields.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// An open audit log.
#[derive(Debug, Clone)]
pub struct AuditStore {
    pool: AnyPool,
}

impl AuditStore {
    /// Opens (creating if needed) the audit log at `url` (`sqlite:PATH` or `postgres://…`).
    pub async fn open(url: &str) -> Result<AuditStore, AuditError> {
        sqlx::any::install_default_drivers();
        let open_error = |source| AuditError::Open {
            url: redact(url),
            source,
        };
        let sqlite = url.starts_with("sqlite:");
        let connect = if sqlite && !url.contains('?') && !url.contains(":memory:") {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        if let Some(path) = connect.strip_prefix("sqlite:")
            && let Some(parent) =
                std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        let options = connect
            .parse::<AnyConnectOptions>()
            .map_err(open_error)?
            .log_statements(log::LevelFilter::Trace);
        let pool_options = AnyPoolOptions::new()
            .max_connections(if sqlite { 1 } else { 2 })
            .acquire_timeout(Duration::from_secs(5));
        let pool_options = if sqlite {
            pool_options.after_connect(|connection, _| {
                Box::pin(async move {
                    // every committed batch is on disk before its requests are answered
                    connection
                        .execute(
                            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                             PRAGMA synchronous = FULL;",
                        )
                        .await?;
                    Ok(())
                })
            })
        } else {
            pool_options
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let schema = if sqlite {
            SQLITE_SCHEMA
        } else {
            POSTGRES_SCHEMA
        };
        pool.execute(schema).await.map_err(open_error)?;
        Ok(AuditStore { pool })
    }

    /// The pool, for tests that try to tamper with the log.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn last(&self) -> Result<(i64, String), AuditError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => (row.try_get(0)?, row.try_get(1)?),
            None => (0, GENESIS.to_string()),
        })
    }

    /// Appends entries in one transaction, chained after the last stored entry. Another
    /// writer appending meanwhile makes the insert collide on `seq`: the chain is read again
    /// and the batch retried.
    pub async fn append(&self, entries: &[AuditEntry]) -> Result<Vec<StoredEntry>, AuditError> {
        let mut attempts = 0;
        loop {
            let (mut seq, mut prev) = self.last().await?;
            let mut stored = Vec::with_capacity(entries.len());
            for entry in entries {
                seq += 1;
                let hash = entry_hash(&prev, entry);
                stored.push(StoredEntry {
                    seq,
                    entry: entry.clone(),
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                });
            }
            match self.insert(&stored).await {
                Ok(()) => return Ok(stored),
                Err(AuditError::Database(sqlx::Error::Database(e)))
                    if e.is_unique_violation() && attempts < 5 =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn insert(&self, stored: &[StoredEntry]) -> Result<(), AuditError> {
        let mut tx = self.pool.begin().await?;
        for chunk in stored.chunks(64) {
            let mut sql = String::from(
                "INSERT INTO audit_log (seq, at, key_name, endpoint, query, purpose, record_ids, \
                 status, prev_hash, hash) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 10;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10
                ));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                query = query
                    .bind(s.seq)
                    .bind(s.entry.at.clone())
                    .bind(s.entry.key_name.clone())
                    .bind(s.entry.endpoint.clone())
                    .bind(s.entry.query.clone())
                    .bind(s.entry.purpose.clone())
                    .bind(serde_json::to_string(&s.entry.record_ids).unwrap_or_default())
                    .bind(i64::from(s.entry.status))
                    .bind(s.prev_hash.clone())
                    .bind(s.hash.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Entries at or after `since` (RFC 3339 text, compared as text), of `key` if given,
    /// oldest first, at most `limit`.
    pub async fn list(
        &self,
        since: Option<&str>,
        key: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        let rows = sqlx::query(
            "SELECT seq, at, key_name, endpoint, query, purpose, record_ids, status, prev_hash, \
             hash FROM audit_log WHERE ($1 IS NULL OR at >= $1) AND ($2 IS NULL OR key_name = $2) \
             ORDER BY seq LIMIT $3",
        )
        .bind(since.map(str::to_string))
        .bind(key.map(str::to_string))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_from).collect()
    }

    /// Walks the whole chain: `Ok(count)` when every entry follows the one before it and its
    /// hash is its own, else the first entry that does not, and why.
    pub async fn verify(&self) -> Result<Result<i64, (i64, String)>, AuditError> {
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_string();
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, key_name, endpoint, query, purpose, record_ids, status, \
                 prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 10000",
            )
            .bind(expected_seq)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(Ok(expected_seq - 1));
            }
            for row in &rows {
                let stored = match stored_from(row) {
                    Ok(stored) => stored,
                    Err(AuditError::Unreadable(seq, why)) => return Ok(Err((seq, why))),
                    Err(e) => return Err(e),
                };
                if stored.seq != expected_seq {
                    return Ok(Err((
                        expected_seq,
                        format!("entry {expected_seq} is missing (next is {})", stored.seq),
                    )));
                }
                if stored.prev_hash != prev {
                    return Ok(Err((
                        stored.seq,
                        "does not follow the entry before it (previous hash differs)".into(),
                    )));
                }
                if entry_hash(&prev, &stored.entry) != stored.hash {
                    return Ok(Err((
                        stored.seq,
                        "its fields do not match its hash (the entry was altered)".into(),
                    )));
                }
                prev = stored.hash;
                expected_seq += 1;
            }
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn stored_from(row: &sqlx::any::AnyRow) -> Result<StoredEntry, AuditError> {
    let seq: i64 = row.try_get(0)?;
    let ids: String = row.try_get(6)?;
    let status: i64 = row.try_get(7)?;
    Ok(StoredEntry {
        seq,
        entry: AuditEntry {
            at: row.try_get(1)?,
            key_name: row.try_get(2)?,
            endpoint: row.try_get(3)?,
            query: row.try_get(4)?,
            purpose: row.try_get(5)?,
            record_ids: serde_json::from_str(&ids)
                .map_err(|e| AuditError::Unreadable(seq, format!("record ids: {e}")))?,
            status: u16::try_from(status)
                .map_err(|_| AuditError::Unreadable(seq, format!("status {status}")))?,
        },
        prev_hash: row.try_get(8)?,
        hash: row.try_get(9)?,
    })
}

type Pending = (AuditEntry, oneshot::Sender<Result<(), String>>);

/// The handle requests write their entries through: one writer task commits them in batches.
#[derive(Debug, Clone)]
pub struct AuditLog {
    sender: mpsc::Sender<Pending>,
}

/// At most this many entries are committed in one transaction.
const BATCH: usize = 256;

impl AuditLog {
    /// Starts the writer task over `store`.
    pub fn start(store: AuditStore) -> AuditLog {
        let (sender, mut receiver) = mpsc::channel::<Pending>(4 * BATCH);
        tokio::spawn(async move {
            let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
            while receiver.recv_many(&mut batch, BATCH).await > 0 {
                let entries: Vec<AuditEntry> = batch.iter().map(|(e, _)| e.clone()).collect();
                let result = store.append(&entries).await;
                if let Err(error) = &result {
                    tracing::error!(%error, entries = entries.len(), "audit entries not written: requests refused");
                }
                let outcome = result.map(|_| ()).map_err(|e| e.to_string());
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        AuditLog { sender }
    }

    /// Writes an entry and waits until it is committed.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        let (reply, done) = oneshot::channel();
        self.sender
            .send((entry, reply))
            .await
            .map_err(|_| AuditError::Stopped)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(AuditError::Database(sqlx::Error::Protocol(message))),
            Err(_) => Err(AuditError::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u16) -> AuditEntry {
        AuditEntry {
            at: format!("2026-12-07T08:00:0{n}.000Z"),
            key_name: Some("case-system".into()),
            endpoint: "GET /api/v1/households/{id}".into(),
            query: format!("/api/v1/households/H00000{n}"),
            purpose: Some("核实".into()),
            record_ids: vec![format!("H00000{n}")],
            status: 200,
        }
    }

    #[test]
    fn a_sqlite_registry_keeps_its_audit_log_beside_it() {
        assert_eq!(
            default_audit_url("sqlite:/srv/lifeline/lifeline.db").unwrap(),
            "sqlite:/srv/lifeline/lifeline.audit.db"
        );
        assert_eq!(
            default_audit_url("sqlite:reg").unwrap(),
            "sqlite:reg.audit.db"
        );
        assert_eq!(
            default_audit_url("postgres://u@h/db").unwrap(),
            "postgres://u@h/db"
        );
        assert!(default_audit_url("mysql://h/db").is_err());
    }

    #[tokio::test]
    async fn the_chain_verifies_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("a.audit.db").display());
        let store = AuditStore::open(&url).await.unwrap();
        store.append(&[entry(1), entry(2)]).await.unwrap();
        store.append(&[entry(3)]).await.unwrap();
        assert_eq!(store.verify().await.unwrap(), Ok(3));
        // the log refuses changes through SQL
        let update = sqlx::query("UPDATE audit_log SET status = 404 WHERE seq = 2")
            .execute(store.pool())
            .await;
        assert!(update.is_err(), "updates are refused");
        assert!(
            sqlx::query("DELETE FROM audit_log WHERE seq = 2")
                .execute(store.pool())
                .await
                .is_err(),
            "deletes are refused"
        );
        // someone who drops the guard and edits an entry is found out
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET record_ids = '[]' WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify().await.unwrap().unwrap_err();
        assert_eq!(broken.0, 2);
        assert!(broken.1.contains("altered"), "{}", broken.1);
        store.close().await;
    }

    #[tokio::test]
    async fn a_removed_entry_breaks_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("b.audit.db").display());
        let store = AuditStore::open(&url).await.unwrap();
        store.append(&[entry(1), entry(2), entry(3)]).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_delete")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify().await.unwrap().unwrap_err();
        assert_eq!(broken.0, 2, "{}", broken.1);
        store.close().await;
    }

    #[tokio::test]
    async fn the_writer_commits_before_answering() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("c.audit.db").display());
        let store = AuditStore::open(&url).await.unwrap();
        let log = AuditLog::start(store.clone());
        let mut tasks = Vec::new();
        for n in 0..40u16 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move { log.record(entry(n % 10)).await }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(store.list(None, None, 1000).await.unwrap().len(), 40);
        assert_eq!(store.verify().await.unwrap(), Ok(40));
    }
}
