//! A short overview of what the registry holds, for the demo and for operators.

use sqlx::Row;

use crate::registry::{Registry, RegistryError};

/// Prints records per source and event kind, and ID-number statuses.
pub async fn print_overview(registry: &Registry) -> Result<(), RegistryError> {
    println!("\nrecords by source:");
    let rows = sqlx::query(
        "SELECT department, event_kind, COUNT(*) FROM records GROUP BY department, event_kind ORDER BY department",
    )
    .fetch_all(registry.pool())
    .await?;
    for row in rows {
        let department: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let count: i64 = row.try_get(2)?;
        println!("  {department:<16} {kind:<18} {count:>8}");
    }
    println!("\nperson mentions by role and id number status:");
    let rows = sqlx::query(
        "SELECT role, id_status, COUNT(*) FROM mentions GROUP BY role, id_status ORDER BY role, id_status",
    )
    .fetch_all(registry.pool())
    .await?;
    for row in rows {
        let role: String = row.try_get(0)?;
        let status: String = row.try_get(1)?;
        let count: i64 = row.try_get(2)?;
        println!("  {role:<12} {status:<20} {count:>8}");
    }
    println!("\nmost common reasons for rejects and dropped values:");
    let rows = sqlx::query(
        "SELECT severity, reason, COUNT(*) AS n FROM rejects GROUP BY severity, reason ORDER BY n DESC LIMIT 8",
    )
    .fetch_all(registry.pool())
    .await?;
    for row in rows {
        let severity: String = row.try_get(0)?;
        let reason: String = row.try_get(1)?;
        let count: i64 = row.try_get(2)?;
        println!("  {count:>6}  [{severity}] {reason}");
    }
    Ok(())
}
