//! The change feed and snapshots a downstream system keeps a mirror with.
//!
//! Every write to persons, households, flags, evidence, case history and identity changes
//! appends to `change_log` in the same transaction (triggers in migration 0005): an `insert`
//! or `update` carries the row as it now is, a `delete` only its ID; an identity change (a merge or split of
//! persons) is an entry of entity `identity`. `seq` grows in commit order and is kept in the
//! registry, so a reader's cursor (the last `seq` it applied) survives restarts of either side.
//! A reader sees a change exactly when it sees the registry's: a match, a flag run or a file
//! commits whole or not at all, feed entries included.
//!
//! A mirror: read the head cursor (`/api/v1/changes/head`), page through the snapshot of each
//! entity (`/api/v1/snapshot/{entity}`), then apply the feed from the head cursor on, in
//! order. Delivery is at least once (a reader that crashes re-reads from its last saved
//! cursor); applying an entry twice gives the same mirror.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Column, Row};

use super::keys::RegionCode;
use crate::registry::{Registry, RegistryError};

/// The entities of the feed, their tables and key columns.
pub const ENTITIES: &[(&str, &str, &[&str])] = &[
    ("person", "persons", &["person_id"]),
    ("household", "households", &["household_id"]),
    ("flag", "risk_flags", &["flag_id"]),
    (
        "evidence",
        "risk_evidence",
        &["flag_id", "record_id", "rule"],
    ),
    ("case_event", "case_history", &["id"]),
    ("identity", "identity_changes", &["id"]),
];

/// The table and key columns of an entity of the feed.
pub fn entity_table(entity: &str) -> Option<(&'static str, &'static [&'static str])> {
    ENTITIES
        .iter()
        .find(|(e, _, _)| *e == entity)
        .map(|(_, table, key)| (*table, *key))
}

/// The ID of a row of `entity` as the feed names it (`3:1207:hospital_stay` for evidence).
pub fn row_id(entity: &str, row: &Map<String, Value>) -> String {
    let Some((_, key)) = entity_table(entity) else {
        return String::new();
    };
    key.iter()
        .map(|k| match row.get(*k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// Its place in the feed: pass the last one applied as `after`.
    pub seq: i64,
    /// When it was committed (RFC 3339, UTC).
    pub at: String,
    /// `person`, `household`, `flag`, `evidence`, `case_event` or `identity`.
    pub entity: String,
    /// The row's ID (`flag_id:record_id:rule` for evidence).
    pub id: String,
    /// `insert` or `update` (the row as it now is, in `data`), or `delete`.
    pub op: String,
    /// The row, for an insert or update (masked for a masked key).
    #[schema(value_type = Object)]
    pub data: Option<Map<String, Value>>,
}

/// A row's columns as JSON: integers as numbers, texts as strings, NULL as null.
pub fn row_to_json(row: &sqlx::any::AnyRow) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        out.insert(column.name().to_string(), value);
    }
    out
}

/// The region filter of a query on a `region_code` column, as SQL and its bound text.
fn region_clause(region: Option<&RegionCode>, column: &str, n: usize) -> (String, Option<String>) {
    match region {
        // codes are digits only (RegionCode), so the pattern has no wildcard of the caller's
        Some(r) => (
            format!(" AND {column} LIKE ${n}"),
            Some(format!("{}%", r.as_str())),
        ),
        None => (String::new(), None),
    }
}

/// The newest seq (0 for an empty feed).
pub async fn head(registry: &Registry) -> Result<i64, RegistryError> {
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM change_log")
        .fetch_one(registry.pool())
        .await?;
    Ok(row.try_get(0)?)
}

/// The oldest seq still kept (older ones were pruned), if any entry is kept.
pub async fn oldest(registry: &Registry) -> Result<Option<i64>, RegistryError> {
    let row = sqlx::query("SELECT MIN(seq) FROM change_log")
        .fetch_one(registry.pool())
        .await?;
    Ok(row.try_get(0)?)
}

/// Changes after `after`, oldest first, at most `limit`, under `region` if given.
pub async fn changes_after(
    registry: &Registry,
    after: i64,
    limit: i64,
    region: Option<&RegionCode>,
) -> Result<Vec<Change>, RegistryError> {
    let (clause, pattern) = region_clause(region, "region_code", 3);
    let sql = format!(
        "SELECT seq, at, entity, entity_id, op, data FROM change_log WHERE seq > $1{clause} \
         ORDER BY seq LIMIT $2"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(limit);
    if let Some(pattern) = pattern {
        query = query.bind(pattern);
    }
    let rows = query.fetch_all(registry.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let data: Option<String> = row.try_get(5)?;
        let data = match data {
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => Some(map),
                _ => {
                    return Err(RegistryError::Unreadable(format!(
                        "change {} holds no JSON object",
                        row.try_get::<i64, _>(0)?
                    )));
                }
            },
            None => None,
        };
        out.push(Change {
            seq: row.try_get(0)?,
            at: row.try_get(1)?,
            entity: row.try_get(2)?,
            id: row.try_get(3)?,
            op: row.try_get(4)?,
            data,
        });
    }
    Ok(out)
}

/// The region of each entity's rows, as SQL over the table aliased `t`.
fn entity_region(entity: &str) -> &'static str {
    match entity {
        "person" | "household" | "flag" => "t.region_code",
        "evidence" | "case_event" => {
            "(SELECT f.region_code FROM risk_flags f WHERE f.flag_id = t.flag_id)"
        }
        _ => {
            "COALESCE((SELECT p.region_code FROM persons p WHERE p.person_id = t.subject_id), \
             (SELECT p.region_code FROM persons p WHERE p.person_id = t.other_id))"
        }
    }
}

/// Rows of `entity` after the key `after` (the row ID of the last row of the previous page;
/// compared column by column in key order), at most `limit`, under `region` if given.
pub async fn snapshot(
    registry: &Registry,
    entity: &str,
    after: Option<&[String]>,
    limit: i64,
    region: Option<&RegionCode>,
) -> Result<Vec<Map<String, Value>>, RegistryError> {
    let Some((table, key)) = entity_table(entity) else {
        return Ok(Vec::new());
    };
    let numeric = |column: &str| matches!(column, "flag_id" | "record_id" | "id");
    let mut binds: Vec<Value> = Vec::new();
    let mut conditions = Vec::new();
    if let Some(after) = after {
        // (k1, k2, k3) > (a1, a2, a3), written out for both backends
        let mut alternatives = Vec::new();
        for i in 0..key.len() {
            let mut parts = Vec::new();
            for (j, column) in key.iter().enumerate().take(i + 1) {
                let value = &after[j];
                let bound = if numeric(column) {
                    Value::from(value.parse::<i64>().unwrap_or(i64::MIN))
                } else {
                    Value::from(value.clone())
                };
                binds.push(bound);
                let op = if j == i { ">" } else { "=" };
                parts.push(format!("t.{column} {op} ${}", binds.len()));
            }
            alternatives.push(format!("({})", parts.join(" AND ")));
        }
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    if let Some(region) = region {
        binds.push(Value::from(format!("{}%", region.as_str())));
        conditions.push(format!("{} LIKE ${}", entity_region(entity), binds.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    binds.push(Value::from(limit));
    let order = key
        .iter()
        .map(|k| format!("t.{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT t.* FROM {table} t{filter} ORDER BY {order} LIMIT ${}",
        binds.len()
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Value::Number(n) => query.bind(n.as_i64().unwrap_or(0)),
            Value::String(s) => query.bind(s),
            _ => query,
        };
    }
    let rows = query.fetch_all(registry.pool()).await?;
    Ok(rows.iter().map(row_to_json).collect())
}

/// The newest seq pruning removed (0 when nothing was): a cursor older than this has missed
/// changes.
pub async fn pruned_through(registry: &Registry) -> Result<i64, RegistryError> {
    let row = sqlx::query("SELECT pruned_through FROM change_log_horizon WHERE id = 1")
        .fetch_optional(registry.pool())
        .await?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

/// Removes changes committed before `before` (RFC 3339 UTC text), keeping the newest entry so
/// that the head cursor stays where it is, and records how far the feed now starts; returns
/// how many were removed.
pub async fn prune(registry: &Registry, before: &str) -> Result<u64, RegistryError> {
    let mut tx = registry.pool().begin().await?;
    let last: Option<i64> = sqlx::query(
        "SELECT MAX(seq) FROM change_log WHERE at < $1 \
         AND seq < (SELECT MAX(seq) FROM change_log)",
    )
    .bind(before)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let Some(last) = last else {
        return Ok(0);
    };
    let done = sqlx::query("DELETE FROM change_log WHERE seq <= $1")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE change_log_horizon SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1",
    )
    .bind(last)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
