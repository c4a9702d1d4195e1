//! `lifeline backup` and `lifeline restore` of a SQLite registry and its audit log.
//!
//! A backup is a folder: `lifeline.db` (the registry), `lifeline.audit.db` (the read audit,
//! when it is a SQLite file of its own) and `manifest.json` (when, from where, the schema
//! version, each file's SHA-256 and size). The copies are made with `VACUUM INTO`, SQLite's
//! online backup: consistent at one moment while the service goes on writing, and compact.
//! Every file is written readable by its owner only, as it holds ID numbers and diagnoses.
//!
//! A restore checks the backup first (hashes, `PRAGMA integrity_check`, a schema this version
//! knows), sets the current files aside as `FILE.before-restore-TIMESTAMP` (nothing is deleted),
//! puts the copies in place and opens the registry, which brings an older schema up to date.
//! Stop the service before a restore. A PostgreSQL registry is backed up with `pg_dump`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};

use super::{Registry, RegistryError};

/// What a backup folder holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// When the copy was made (UTC, RFC 3339).
    pub created_at: String,
    /// The registry it was made from (`sqlite:…`).
    pub registry: String,
    /// The newest migration the registry had.
    pub schema_version: i64,
    /// The copied files.
    pub files: Vec<ManifestFile>,
}

/// One copied database file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// `registry` or `audit`.
    pub role: String,
    /// File name inside the backup folder.
    pub name: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// A backup or restore that could not be made; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The registry is not a SQLite file.
    #[error(
        "the registry is on PostgreSQL: back it up with `pg_dump --format=custom --file=FILE URL` \
         and restore it with `pg_restore --clean --dbname=URL FILE` (see docs/registry.md)"
    )]
    NotSqlite,
    /// A file or folder could not be used.
    #[error("{path}: {message}")]
    File {
        /// The file or folder.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The backup is not whole or not this registry's kind.
    #[error("the backup in {folder} cannot be restored: {reason}; nothing was changed")]
    Refused {
        /// The backup folder.
        folder: String,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn file_error(path: &Path, error: impl std::fmt::Display) -> BackupError {
    BackupError::File {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// The database file of a `sqlite:` URL, or `None` for another database or an in-memory one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let file = path.split('?').next().unwrap_or(path);
    (!file.is_empty() && file != ":memory:" && !path.contains("mode=memory"))
        .then(|| PathBuf::from(file))
}

async fn connect(file: &Path, read_only: bool) -> Result<sqlx::SqliteConnection, BackupError> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(30));
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| file_error(file, e))
}

fn sha256_of(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer).map_err(|e| file_error(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

async fn integrity(file: &Path) -> Result<Option<String>, BackupError> {
    let mut connection = connect(file, true).await?;
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .map_err(|e| file_error(file, e))?;
    let _ = connection.close().await;
    let problems: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .filter(|line| line != "ok")
        .collect();
    Ok((!problems.is_empty()).then(|| problems.join("; ")))
}

async fn schema_version(file: &Path) -> Result<i64, BackupError> {
    let mut connection = connect(file, true).await?;
    let version = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| file_error(file, format!("not a lifeline registry ({e})")))?
        .try_get::<i64, _>(0)
        .map_err(|e| file_error(file, e))?;
    let _ = connection.close().await;
    Ok(version)
}

/// Copies one live SQLite database to `to` (which must not exist) with `VACUUM INTO`.
async fn copy_live(from: &Path, to: &Path) -> Result<(), BackupError> {
    let mut connection = connect(from, false).await?;
    let target = to.display().to_string().replace('\'', "''");
    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
        .execute(&mut connection)
        .await
        .map_err(|e| file_error(from, format!("the online copy failed: {e}")))?;
    let _ = connection.close().await;
    let file = std::fs::File::open(to).map_err(|e| file_error(to, e))?;
    file.sync_all().map_err(|e| file_error(to, e))?;
    set_private(to)?;
    Ok(())
}

fn set_private(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| file_error(path, e))?;
    }
    Ok(())
}

/// Backs up the registry at `registry_url` and, when it is a SQLite file of its own, the audit
/// log at `audit_url`, into the new folder `folder`.
pub async fn backup(
    registry_url: &str,
    audit_url: &str,
    folder: &Path,
) -> Result<Manifest, BackupError> {
    let registry = sqlite_file(registry_url).ok_or(BackupError::NotSqlite)?;
    if !registry.exists() {
        return Err(file_error(&registry, "no registry here to back up"));
    }
    if folder.exists()
        && std::fs::read_dir(folder)
            .map_err(|e| file_error(folder, e))?
            .next()
            .is_some()
    {
        return Err(file_error(
            folder,
            "already holds files: name a new folder for each backup",
        ));
    }
    std::fs::create_dir_all(folder).map_err(|e| file_error(folder, e))?;
    set_private(folder)?;
    let mut sources = vec![("registry", registry.clone(), "lifeline.db")];
    if let Some(audit) = sqlite_file(audit_url)
        && audit != registry
        && audit.exists()
    {
        sources.push(("audit", audit, "lifeline.audit.db"));
    }
    let mut files = Vec::new();
    for (role, source, name) in &sources {
        let to = folder.join(name);
        copy_live(source, &to).await?;
        if let Some(problems) = integrity(&to).await? {
            return Err(file_error(
                &to,
                format!("the copy fails SQLite's integrity check: {problems}"),
            ));
        }
        let (sha256, size_bytes) = sha256_of(&to)?;
        files.push(ManifestFile {
            role: role.to_string(),
            name: name.to_string(),
            sha256,
            size_bytes,
        });
    }
    let manifest = Manifest {
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        registry: format!("sqlite:{}", registry.display()),
        schema_version: schema_version(&folder.join("lifeline.db")).await?,
        files,
    };
    let path = folder.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| file_error(&path, e))?;
    std::fs::write(&path, text + "\n").map_err(|e| file_error(&path, e))?;
    set_private(&path)?;
    Ok(manifest)
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Where the files that were replaced now are.
    pub set_aside: Vec<PathBuf>,
}

/// Restores the backup in `folder` over the registry at `registry_url` (and its audit log at
/// `audit_url`). The backup is checked whole before anything is touched.
pub async fn restore(
    registry_url: &str,
    audit_url: &str,
    folder: &Path,
) -> Result<Restored, BackupError> {
    let refused = |reason: String| BackupError::Refused {
        folder: folder.display().to_string(),
        reason,
    };
    let registry = sqlite_file(registry_url).ok_or(BackupError::NotSqlite)?;
    let manifest_path = folder.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| refused(format!("{}: {e}", manifest_path.display())))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| refused(format!("manifest.json does not parse: {e}")))?;
    let newest = super::SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if manifest.schema_version > newest {
        return Err(refused(format!(
            "it was made by a newer lifeline (schema {}; this one knows up to {newest})",
            manifest.schema_version
        )));
    }
    let mut targets = Vec::new();
    for file in &manifest.files {
        let path = folder.join(&file.name);
        let (sha256, size) = sha256_of(&path).map_err(|e| refused(e.to_string()))?;
        if sha256 != file.sha256 || size != file.size_bytes {
            return Err(refused(format!(
                "{} is not the file the backup wrote (SHA-256 or size differs): it was changed \
                 or cut short",
                file.name
            )));
        }
        if let Some(problems) = integrity(&path).await? {
            return Err(refused(format!(
                "{} fails SQLite's integrity check: {problems}",
                file.name
            )));
        }
        let target = match file.role.as_str() {
            "registry" => registry.clone(),
            "audit" => sqlite_file(audit_url).ok_or_else(|| {
                refused("it holds a SQLite audit log, but the audit log is not SQLite".into())
            })?,
            other => return Err(refused(format!("unknown file role \"{other}\""))),
        };
        targets.push((path, target));
    }
    if !targets.iter().any(|(_, target)| *target == registry) {
        return Err(refused("it holds no registry".into()));
    }
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let mut set_aside = Vec::new();
    for (source, target) in &targets {
        // the copy goes beside its target first, so that the switch is one rename
        let incoming = with_suffix(target, ".restoring");
        std::fs::copy(source, &incoming).map_err(|e| file_error(&incoming, e))?;
        std::fs::File::open(&incoming)
            .and_then(|f| f.sync_all())
            .map_err(|e| file_error(&incoming, e))?;
        set_private(&incoming)?;
        for suffix in ["", "-wal", "-shm"] {
            let current = with_suffix(target, suffix);
            if current.exists() {
                let aside = with_suffix(target, &format!("{suffix}.before-restore-{stamp}"));
                std::fs::rename(&current, &aside).map_err(|e| file_error(&current, e))?;
                set_aside.push(aside);
            }
        }
        std::fs::rename(&incoming, target).map_err(|e| file_error(target, e))?;
    }
    // opening brings an older schema up to date and proves the registry usable
    Registry::open(&format!("sqlite:{}", registry.display()))
        .await?
        .close()
        .await;
    Ok(Restored {
        manifest,
        set_aside,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
