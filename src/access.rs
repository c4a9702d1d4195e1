//! The access commands of the `lifeline` binary: `keys`, `audit`, `changes`.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use lifeline::api::audit::AuditStore;
use lifeline::api::changes;
use lifeline::api::keys::{self, NewKey, RegionCode};
use lifeline::registry::Registry;

use crate::{ChangesAction, KeysAction};

/// `lifeline keys …`.
pub async fn keys(db: &str, action: KeysAction) -> Result<bool> {
    let registry = Registry::open(db).await?;
    match action {
        KeysAction::Create {
            name,
            scope,
            region,
            expires_days,
            rate,
        } => {
            let region = region
                .map(|r| RegionCode::parse(&r))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let new = NewKey {
                name,
                scope,
                region,
                expires_days,
                rate_per_second: rate,
            };
            let (key, secret) = keys::create_key(&registry, &new).await?;
            eprintln!(
                "key \"{}\": scope {}, region {}, {} requests/s, expires {}",
                key.name,
                key.scope.as_str(),
                key.region.as_ref().map_or("all", |r| r.as_str()),
                key.rate_per_second,
                key.expires_at.as_deref().unwrap_or("never"),
            );
            eprintln!("give it to its holder now: it is not stored and cannot be shown again");
            println!("{secret}");
        }
        KeysAction::List => {
            let now = Utc::now();
            for key in keys::list_keys(&registry).await? {
                println!(
                    "{:<24} {:<7} region {:<12} {:>6}/s  created {}  expires {}  {}",
                    key.name,
                    key.scope.as_str(),
                    key.region.as_ref().map_or("all", |r| r.as_str()),
                    key.rate_per_second,
                    key.created_at,
                    key.expires_at.as_deref().unwrap_or("never"),
                    key.refusal(now).unwrap_or("active"),
                );
            }
        }
        KeysAction::Revoke { name } => {
            keys::revoke_key(&registry, &name).await?;
            println!("key \"{name}\" revoked");
        }
    }
    registry.close().await;
    Ok(true)
}

/// `--since` as stored audit time text (RFC 3339 UTC).
fn since_utc(text: &str) -> Result<String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.to_string());
    }
    let time = DateTime::parse_from_rfc3339(text).map_err(|_| {
        anyhow::anyhow!("--since \"{text}\": give a date (2026-12-01) or an RFC 3339 time")
    })?;
    Ok(time
        .with_timezone(&Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// `lifeline audit`.
pub async fn list(
    audit: &str,
    since: Option<&str>,
    key: Option<&str>,
    limit: i64,
    json: bool,
) -> Result<bool> {
    let since = since.map(since_utc).transpose()?;
    let store = AuditStore::open(audit).await?;
    let entries = store.list(since.as_deref(), key, limit).await?;
    for e in &entries {
        if json {
            println!("{}", serde_json::to_string(e)?);
        } else {
            println!(
                "#{} {} {} {} {} → {} ({} records){}",
                e.seq,
                e.entry.at,
                e.entry.key_name.as_deref().unwrap_or("-"),
                e.entry.endpoint,
                e.entry.query,
                e.entry.status,
                e.entry.record_ids.len(),
                e.entry
                    .purpose
                    .as_deref()
                    .map(|p| format!(" purpose: {p}"))
                    .unwrap_or_default()
            );
        }
    }
    if !json {
        eprintln!("{} entries", entries.len());
    }
    store.close().await;
    Ok(true)
}

/// `lifeline audit verify`.
pub async fn verify(audit: &str) -> Result<bool> {
    let store = AuditStore::open(audit).await?;
    let outcome = store.verify().await?;
    store.close().await;
    match outcome {
        Ok(count) => {
            println!("audit log intact: {count} entries, every hash follows the one before");
            Ok(true)
        }
        Err((seq, why)) => {
            println!("audit log ALTERED at entry {seq}: {why}");
            Ok(false)
        }
    }
}

/// `lifeline changes …`.
pub async fn changes(db: &str, action: ChangesAction) -> Result<bool> {
    let registry = Registry::open(db).await?;
    match action {
        ChangesAction::Status => {
            let head = changes::head(&registry).await?;
            let oldest = changes::oldest(&registry).await?;
            let pruned = changes::pruned_through(&registry).await?;
            println!(
                "change feed: newest cursor {head}, oldest kept change {}, pruned through {pruned}",
                oldest.map_or("none".to_string(), |o| o.to_string())
            );
        }
        ChangesAction::Prune { keep_days } => {
            let before = (Utc::now() - chrono::Duration::days(i64::from(keep_days)))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let removed = changes::prune(&registry, &before).await?;
            println!(
                "removed {removed} changes committed before {before}; pruned through {}",
                changes::pruned_through(&registry).await?
            );
        }
    }
    registry.close().await;
    Ok(true)
}
