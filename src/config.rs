//! The operator's configuration of the service: where the registry, mappings, connectors,
//! schedules and receipts are (`lifeline.toml`, optional), and the collector that gathers every
//! problem of every configuration file so that they are reported at once as
//! `connectors/housing.toml: url: must start with http:// or https://`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Every problem found in a set of configuration files, one `file: key: message` per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConfigErrors(pub Vec<String>);

/// Collects the problems of one file.
#[derive(Debug)]
pub struct Problems<'a> {
    file: String,
    list: &'a mut Vec<String>,
}

impl<'a> Problems<'a> {
    /// Problems of `file`, added to `list`.
    pub fn new(file: &str, list: &'a mut Vec<String>) -> Problems<'a> {
        Problems {
            file: file.to_string(),
            list,
        }
    }

    /// The file these problems are about.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Adds a problem with `key`.
    pub fn add(&mut self, key: &str, message: impl std::fmt::Display) {
        self.list.push(format!("{}: {key}: {message}", self.file));
    }

    /// Adds a problem with the whole file.
    pub fn add_file(&mut self, message: impl std::fmt::Display) {
        self.list.push(format!("{}: {message}", self.file));
    }

    /// How many problems have been found so far, in all files.
    pub fn count(&self) -> usize {
        self.list.len()
    }
}

/// Whether `url` names this machine: `localhost` or a loopback address. Traffic to it never
/// crosses a network, so it needs no TLS.
pub fn is_loopback_url(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a database URL reaches a server on this machine: a loopback host, no host, or a
/// Unix socket (`host=/run/postgresql`, `socket=/run/mysqld/mysqld.sock`).
pub fn is_local_database_url(url: &reqwest::Url) -> bool {
    url.host_str().unwrap_or("").is_empty()
        || is_loopback_url(url)
        || url
            .query_pairs()
            .any(|(k, v)| (k == "host" || k == "socket") && v.starts_with('/'))
}

/// Whether `name` can be an environment variable name (`HOUSING_API_TOKEN`).
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `*.toml` files of a folder, sorted; `Err` with a problem when the folder cannot be read.
pub fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("{}: cannot read folder: {error}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// `(file name, text)` of each file read.
pub type Sources = Vec<(String, String)>;

/// The `*.toml` files of `dir` as `(file name, text)` pairs, sorted, and a problem for each file
/// that cannot be read; `Err` when the folder cannot be read.
pub fn read_toml_files(dir: &Path) -> Result<(Sources, Vec<String>), String> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in toml_files(dir)? {
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((path.display().to_string(), text)),
            Err(e) => errors.push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    Ok((sources, errors))
}

/// Reads every `*.toml` of `dir` as `(file name, text)` pairs and validates them with
/// `validate`, reporting files that cannot be read together with `validate`'s problems. A
/// missing folder holds nothing (`empty`).
pub fn load_toml_dir<T>(
    dir: &Path,
    empty: T,
    validate: impl FnOnce(&[(String, String)]) -> Result<T, ConfigErrors>,
) -> Result<T, ConfigErrors> {
    if !dir.exists() {
        return Ok(empty);
    }
    let (sources, mut errors) = read_toml_files(dir).map_err(|e| ConfigErrors(vec![e]))?;
    match validate(&sources) {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(ConfigErrors(errors)),
        Err(ConfigErrors(more)) => {
            errors.extend(more);
            Err(ConfigErrors(errors))
        }
    }
}

/// `lifeline.toml`: where everything is. Every key is optional; relative paths are taken from
/// the folder holding the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Registry URL (`sqlite:PATH`, `postgres://USER@HOST/DB`); `--db` and `LIFELINE_DB` win.
    pub db: Option<String>,
    /// Folder of mapping files (default `mappings`).
    pub mappings: Option<PathBuf>,
    /// Folder of connector files (default `connectors`).
    pub connectors: Option<PathBuf>,
    /// Folder of schedule files (default `schedules`).
    pub schedules: Option<PathBuf>,
    /// Folder for the receipts of pulls (default `receipts`); inbox files keep theirs beside
    /// the archived file.
    pub receipts: Option<PathBuf>,
    /// Address the HTTP API listens on (`127.0.0.1:8080`); `serve --listen` wins. Without it,
    /// `serve` runs the scheduler and inbox watchers only. Listen on a loopback or internal
    /// address behind a TLS-terminating proxy: the API speaks plain HTTP.
    pub listen: Option<String>,
    /// Where the read audit is kept (`sqlite:PATH` or `postgres://…`); `--audit` and
    /// `LIFELINE_AUDIT` win. Default: `NAME.audit.db` beside a SQLite registry, the registry's
    /// own database for PostgreSQL.
    pub audit: Option<String>,
}

/// Where the service finds its parts, resolved.
#[derive(Debug, Clone)]
pub struct ServicePaths {
    /// Registry URL from the file, if given.
    pub db: Option<String>,
    /// Folder of mapping files, if given (else the CLI's choice).
    pub mappings: Option<PathBuf>,
    /// Folder of connector files.
    pub connectors: PathBuf,
    /// Folder of schedule files.
    pub schedules: PathBuf,
    /// Folder for pull receipts.
    pub receipts: PathBuf,
    /// Address of the HTTP API, if it is to listen.
    pub listen: Option<String>,
    /// Where the read audit is kept, if set in the file.
    pub audit: Option<String>,
}

impl ServicePaths {
    /// The defaults: `connectors/`, `schedules/`, `receipts/` in the current folder.
    pub fn defaults() -> ServicePaths {
        ServicePaths {
            db: None,
            mappings: None,
            connectors: PathBuf::from("connectors"),
            schedules: PathBuf::from("schedules"),
            receipts: PathBuf::from("receipts"),
            listen: None,
            audit: None,
        }
    }

    /// Reads `lifeline.toml` at `path`.
    pub fn load(path: &Path) -> Result<ServicePaths, ConfigErrors> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigErrors(vec![format!("{shown}: cannot read: {error}")]))?;
        let spec: ServiceSpec = toml::from_str(&text).map_err(|error| {
            ConfigErrors(vec![format!(
                "{shown}: {}",
                error.message().trim_end_matches('.')
            )])
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: Option<PathBuf>, default: &str| {
            let p = p.unwrap_or_else(|| PathBuf::from(default));
            if p.is_absolute() { p } else { base.join(p) }
        };
        Ok(ServicePaths {
            db: spec.db,
            mappings: spec.mappings.map(|p| resolve(Some(p), "mappings")),
            connectors: resolve(spec.connectors, "connectors"),
            schedules: resolve(spec.schedules, "schedules"),
            receipts: resolve(spec.receipts, "receipts"),
            listen: spec.listen,
            audit: spec.audit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variable_names() {
        assert!(is_env_name("HOUSING_API_TOKEN"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("sk-12345"));
        assert!(!is_env_name(""));
    }
}
