//! API keys: who may read the registry, how much and where. A key is a random secret shown
//! once when it is created; the registry keeps only its SHA-256, its scope (what it may see and
//! do), an optional region (a GB/T 2260 code prefix it is limited to), a rate and an expiry.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::registry::{Registry, RegistryError};

/// What a key may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything, unmasked, including lookups by ID number (downstream case systems).
    Full,
    /// Masked personal data only, no lookups by ID number (charity partners).
    Masked,
    /// Unmasked reads of its region and case actions (caseworkers' systems).
    Cases,
}

impl Scope {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::Masked => "masked",
            Scope::Cases => "cases",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Scope> {
        [Scope::Full, Scope::Masked, Scope::Cases]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether responses to this scope are masked.
    pub fn masks(self) -> bool {
        self == Scope::Masked
    }
}

/// A GB/T 2260 region code prefix: province (2 digits), city (4), county (6), township (9) or
/// village (12).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

impl RegionCode {
    /// Validates a code.
    pub fn parse(text: &str) -> Result<RegionCode, String> {
        let text = text.trim();
        if !text.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6, 9, 12].contains(&text.len()) {
            return Err(format!(
                "region \"{text}\" is not a GB/T 2260 code: 2, 4, 6, 9 or 12 digits \
                 (province, city, county, township, village)"
            ));
        }
        Ok(RegionCode(text.to_string()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a stored region code lies under this one. A record without a region code lies
    /// under no region: a limited key never sees it.
    pub fn contains(&self, code: Option<&str>) -> bool {
        code.is_some_and(|c| c.starts_with(&self.0))
    }

    /// Of two limits, the narrower one, or `None` when they do not overlap.
    pub fn narrowest(a: Option<&RegionCode>, b: Option<&RegionCode>) -> Option<Option<RegionCode>> {
        match (a, b) {
            (None, None) => Some(None),
            (Some(x), None) | (None, Some(x)) => Some(Some(x.clone())),
            (Some(x), Some(y)) if y.0.starts_with(&x.0) => Some(Some(y.clone())),
            (Some(x), Some(y)) if x.0.starts_with(&y.0) => Some(Some(x.clone())),
            _ => None,
        }
    }
}

/// A key as stored (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Who holds it (`minzheng-case-system`, `charity-red-cross`).
    pub name: String,
    /// What it may see and do.
    pub scope: Scope,
    /// The region it is limited to, if any.
    pub region: Option<RegionCode>,
    /// Requests per second it may make (bursts of twice that).
    pub rate_per_second: u32,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339), if ever.
    pub expires_at: Option<String>,
    /// When it was revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
}

impl ApiKey {
    /// Why the key may not be used at `now`, if it may not.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            return Some("the key has been revoked");
        }
        let expired = self.expires_at.as_deref().map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t <= now)
                .unwrap_or(true)
        });
        if expired == Some(true) {
            return Some("the key has expired");
        }
        None
    }
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A key of that name exists.
    #[error("a key named \"{0}\" exists already (revoke it first or choose another name)")]
    Exists(String),
    /// No key of that name.
    #[error("no key named \"{0}\"")]
    Unknown(String),
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for KeyError {
    fn from(error: sqlx::Error) -> KeyError {
        KeyError::Registry(RegistryError::Query(error))
    }
}

/// What `keys create` asks for.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Who holds it.
    pub name: String,
    /// Its scope.
    pub scope: Scope,
    /// Its region limit.
    pub region: Option<RegionCode>,
    /// Days until it expires, if it should.
    pub expires_days: Option<u32>,
    /// Requests per second.
    pub rate_per_second: u32,
}

/// The SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Makes a key and returns it with its secret, which is not stored and cannot be shown again.
pub async fn create_key(registry: &Registry, new: &NewKey) -> Result<(ApiKey, String), KeyError> {
    let name = new.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(KeyError::Invalid(format!(
            "key name \"{name}\": use 1 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    if new.rate_per_second == 0 {
        return Err(KeyError::Invalid("--rate must be at least 1".into()));
    }
    let exists = sqlx::query("SELECT 1 FROM api_keys WHERE name = $1")
        .bind(name)
        .fetch_optional(registry.pool())
        .await?;
    if exists.is_some() {
        return Err(KeyError::Exists(name.to_string()));
    }
    let secret = format!("llk_{}", hex::encode(rand::random::<[u8; 32]>()));
    let now = Utc::now();
    let key = ApiKey {
        name: name.to_string(),
        scope: new.scope,
        region: new.region.clone(),
        rate_per_second: new.rate_per_second,
        created_at: timestamp(now),
        expires_at: new
            .expires_days
            .map(|d| timestamp(now + chrono::Duration::days(i64::from(d)))),
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (name, scope, region_code, key_hash, rate_per_second, created_at, \
         expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(&key.name)
    .bind(key.scope.as_str())
    .bind(key.region.as_ref().map(|r| r.as_str().to_string()))
    .bind(hash_secret(&secret))
    .bind(i64::from(key.rate_per_second))
    .bind(&key.created_at)
    .bind(key.expires_at.clone())
    .execute(registry.pool())
    .await?;
    Ok((key, secret))
}

/// Revokes a key: it is refused from the next refresh of every server's key cache on.
pub async fn revoke_key(registry: &Registry, name: &str) -> Result<(), KeyError> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(timestamp(Utc::now()))
            .bind(name)
            .execute(registry.pool())
            .await?;
    if done.rows_affected() == 0 {
        let known = sqlx::query("SELECT 1 FROM api_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(registry.pool())
            .await?;
        return match known {
            Some(_) => Err(KeyError::Invalid(format!(
                "the key \"{name}\" is already revoked"
            ))),
            None => Err(KeyError::Unknown(name.to_string())),
        };
    }
    Ok(())
}

/// Every key with its hash, by name.
async fn load_keys(registry: &Registry) -> Result<Vec<(String, ApiKey)>, KeyError> {
    let rows = sqlx::query(
        "SELECT name, scope, region_code, key_hash, rate_per_second, created_at, expires_at, \
         revoked_at FROM api_keys ORDER BY name",
    )
    .fetch_all(registry.pool())
    .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get(0)?;
        let scope: String = row.try_get(1)?;
        let region: Option<String> = row.try_get(2)?;
        let unreadable =
            |what: &str| RegistryError::Unreadable(format!("api key \"{name}\": {what}"));
        let key = ApiKey {
            scope: Scope::parse(&scope).ok_or_else(|| unreadable("unknown scope"))?,
            region: region
                .map(|r| RegionCode::parse(&r))
                .transpose()
                .map_err(|e| unreadable(&e))?,
            rate_per_second: u32::try_from(row.try_get::<i64, _>(4)?)
                .map_err(|_| unreadable("rate out of range"))?,
            created_at: row.try_get(5)?,
            expires_at: row.try_get(6)?,
            revoked_at: row.try_get(7)?,
            name,
        };
        keys.push((row.try_get(3)?, key));
    }
    Ok(keys)
}

/// Every key, by name.
pub async fn list_keys(registry: &Registry) -> Result<Vec<ApiKey>, KeyError> {
    Ok(load_keys(registry)
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect())
}

/// How often a server reads the keys again: a revoked key is refused within this time.
pub const KEY_REFRESH: Duration = Duration::from_secs(2);

/// The keys a server knows, by hash, read again every [`KEY_REFRESH`] so that keys made or
/// revoked by `lifeline keys` in another process take effect without a restart.
#[derive(Debug, Clone)]
pub struct KeyCache {
    registry: Registry,
    refresh: Duration,
    state: Arc<RwLock<CacheState>>,
}

#[derive(Debug)]
struct CacheState {
    by_hash: HashMap<String, ApiKey>,
    read_at: Instant,
}

impl KeyCache {
    /// Reads the keys of `registry`, to be read again when older than `refresh`
    /// ([`KEY_REFRESH`] in a server).
    pub async fn load(registry: &Registry, refresh: Duration) -> Result<KeyCache, KeyError> {
        let by_hash = load_keys(registry).await?.into_iter().collect();
        Ok(KeyCache {
            registry: registry.clone(),
            refresh,
            state: Arc::new(RwLock::new(CacheState {
                by_hash,
                read_at: Instant::now(),
            })),
        })
    }

    /// The key whose secret is `secret`, reading the keys again first if they are older than
    /// the refresh time. A registry error fails closed (the caller answers 503).
    pub async fn find(&self, secret: &str) -> Result<Option<ApiKey>, KeyError> {
        let stale = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            state.read_at.elapsed() >= self.refresh
        };
        if stale {
            let by_hash = load_keys(&self.registry).await?.into_iter().collect();
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.by_hash = by_hash;
            state.read_at = Instant::now();
        }
        let hash = hash_secret(secret);
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        Ok(state.by_hash.get(&hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_are_province_city_county_township_or_village_prefixes() {
        for good in ["34", "3411", "341125", "341125100", "341125100201"] {
            assert!(RegionCode::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "3",
            "34112",
            "3411251",
            "34112510020",
            "34%",
            "34' OR 1=1",
            "3411x5",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
        let county = RegionCode::parse("341125").unwrap();
        assert!(county.contains(Some("341125100201")));
        assert!(!county.contains(Some("341126100201")));
        assert!(
            !county.contains(None),
            "no region code lies under no region"
        );
    }

    #[test]
    fn the_narrower_of_two_regions_wins_and_disjoint_ones_give_nothing() {
        let city = RegionCode::parse("3411").unwrap();
        let county = RegionCode::parse("341125").unwrap();
        let other = RegionCode::parse("341226").unwrap();
        assert_eq!(
            RegionCode::narrowest(Some(&city), Some(&county)),
            Some(Some(county.clone()))
        );
        assert_eq!(
            RegionCode::narrowest(Some(&county), Some(&city)),
            Some(Some(county.clone()))
        );
        assert_eq!(RegionCode::narrowest(Some(&county), Some(&other)), None);
        assert_eq!(RegionCode::narrowest(None, None), Some(None));
    }

    #[test]
    fn revoked_and_expired_keys_are_refused() {
        let now = Utc::now();
        let mut key = ApiKey {
            name: "k".into(),
            scope: Scope::Full,
            region: None,
            rate_per_second: 10,
            created_at: timestamp(now),
            expires_at: Some(timestamp(now + chrono::Duration::days(1))),
            revoked_at: None,
        };
        assert_eq!(key.refusal(now), None);
        key.expires_at = Some(timestamp(now - chrono::Duration::seconds(1)));
        assert_eq!(key.refusal(now), Some("the key has expired"));
        key.expires_at = Some("not a time".into());
        assert_eq!(
            key.refusal(now),
            Some("the key has expired"),
            "unreadable fails closed"
        );
        key.expires_at = None;
        key.revoked_at = Some(timestamp(now));
        assert_eq!(key.refusal(now), Some("the key has been revoked"));
    }
}
