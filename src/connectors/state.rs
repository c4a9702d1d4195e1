//! What the registry remembers about each connector: its watermark (where the next incremental
//! pull starts), the fields it delivered last time, when it was first seen and when it last
//! delivered — and, for every stored pull, what was asked ([`record_pull_file`]).

use sqlx::Row;

use crate::ingest::pull::PullRecord;
use crate::registry::{Registry, RegistryError, TxConnection, now, on_connection};

/// A connector's remembered state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorState {
    /// Where the next incremental pull starts.
    pub watermark: Option<String>,
    /// Field or column names of the last pull that brought rows.
    pub fields: Vec<String>,
    /// When the service first knew the connector.
    pub first_seen_at: String,
    /// When it last pulled (rows or not).
    pub last_pull_at: Option<String>,
    /// When it last delivered new rows or a new file.
    pub last_delivery_at: Option<String>,
}

/// The state of `connector`, if it has any.
pub async fn load(
    registry: &Registry,
    connector: &str,
) -> Result<Option<ConnectorState>, RegistryError> {
    let row = sqlx::query(
        "SELECT watermark, fields, first_seen_at, last_pull_at, last_delivery_at \
         FROM connector_state WHERE connector = $1",
    )
    .bind(connector)
    .fetch_optional(registry.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let fields: String = row.try_get(1)?;
    Ok(Some(ConnectorState {
        watermark: row.try_get(0)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        first_seen_at: row.try_get(2)?,
        last_pull_at: row.try_get(3)?,
        last_delivery_at: row.try_get(4)?,
    }))
}

/// Makes sure `connector` has a state row, so that a connector that never delivers is noticed.
pub async fn ensure(registry: &Registry, connector: &str) -> Result<(), RegistryError> {
    let now = now();
    sqlx::query(
        "INSERT INTO connector_state (connector, watermark, fields, first_seen_at, updated_at) \
         VALUES ($1, NULL, '[]', $2, $3) ON CONFLICT (connector) DO NOTHING",
    )
    .bind(connector)
    .bind(&now)
    .bind(&now)
    .execute(registry.pool())
    .await?;
    Ok(())
}

/// Stores the outcome of a pull: the new watermark and fields, and — when `delivered` — the
/// delivery time. Called inside the pull's transaction, so the watermark moves only with the
/// rows it covers.
pub async fn save_pull(
    connection: impl Into<TxConnection<'_>>,
    record: &PullRecord,
    delivered: bool,
) -> Result<(), RegistryError> {
    let now = now();
    let fields = serde_json::to_string(&record.fields).unwrap_or_else(|_| "[]".into());
    let delivered_at = delivered.then(|| now.clone());
    on_connection!(connection.into(), c => {
        sqlx::query(
            "INSERT INTO connector_state \
             (connector, watermark, fields, first_seen_at, last_pull_at, last_delivery_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (connector) DO UPDATE SET \
             watermark = COALESCE(excluded.watermark, connector_state.watermark), \
             fields = excluded.fields, last_pull_at = excluded.last_pull_at, \
             last_delivery_at = COALESCE(excluded.last_delivery_at, \
             connector_state.last_delivery_at), updated_at = excluded.updated_at",
        )
        .bind(&record.connector)
        .bind(record.watermark_after.as_deref())
        .bind(&fields)
        .bind(&now)
        .bind(&now)
        .bind(delivered_at.as_deref())
        .bind(&now)
        .execute(&mut *c)
        .await?;
        if let Some(before) = &record.forget_before {
            sqlx::query("DELETE FROM pull_rows_seen WHERE connector = $1 AND mark < $2")
                .bind(&record.connector)
                .bind(before)
                .execute(&mut *c)
                .await?;
        }
        for chunk in record.seen_rows.chunks(300) {
            let mut sql = String::from("INSERT INTO pull_rows_seen (connector, row_hash, mark) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3));
            }
            sql.push_str(" ON CONFLICT (connector, row_hash) DO UPDATE SET mark = excluded.mark");
            // the statement is built from constants and placeholders only
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&record.connector);
            for (hash, mark) in chunk {
                query = query.bind(hash).bind(mark);
            }
            query.execute(&mut *c).await?;
        }
    });
    Ok(())
}

/// Hashes of the rows `connector` pulled with a watermark value at or after `from`.
pub async fn seen_rows(
    registry: &Registry,
    connector: &str,
    from: &str,
) -> Result<std::collections::HashSet<String>, RegistryError> {
    let rows =
        sqlx::query("SELECT row_hash FROM pull_rows_seen WHERE connector = $1 AND mark >= $2")
            .bind(connector)
            .bind(from)
            .fetch_all(registry.pool())
            .await?;
    Ok(rows
        .iter()
        .filter_map(|row| sqlx::Row::try_get::<String, _>(row, 0).ok())
        .collect())
}

/// Notes that `connector` pulled and found nothing new (or delivered a file, for an inbox).
pub async fn touch(
    registry: &Registry,
    connector: &str,
    delivered: bool,
) -> Result<(), RegistryError> {
    ensure(registry, connector).await?;
    let now = now();
    sqlx::query(
        "UPDATE connector_state SET last_pull_at = $1, \
         last_delivery_at = COALESCE($2, last_delivery_at), updated_at = $3 WHERE connector = $4",
    )
    .bind(&now)
    .bind(delivered.then(|| now.clone()))
    .bind(&now)
    .bind(connector)
    .execute(registry.pool())
    .await?;
    Ok(())
}

/// Records what was asked for the stored pull `file_id`, so that every record leads back to
/// the connector, the request and the watermark window that brought it.
pub async fn record_pull_file(
    connection: impl Into<TxConnection<'_>>,
    file_id: i64,
    record: &PullRecord,
) -> Result<(), RegistryError> {
    let pulled_at = now();
    on_connection!(connection.into(), c => {
        sqlx::query(
            "INSERT INTO pulls (file_id, connector, kind, source, watermark_before, \
             watermark_after, pages, pulled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(file_id)
        .bind(&record.connector)
        .bind(&record.kind)
        .bind(&record.source)
        .bind(record.watermark_before.as_deref())
        .bind(record.watermark_after.as_deref())
        .bind(record.pages)
        .bind(&pulled_at)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
