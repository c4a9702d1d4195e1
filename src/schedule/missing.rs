//! Deliveries that did not come: a connector with an expected cadence (`expect_every_days`)
//! that has brought nothing new for longer than that is reported as missing.

use chrono::{DateTime, Utc};

use crate::connectors::{ConnectorSet, state};
use crate::registry::{Registry, RegistryError};

/// A connector whose delivery is overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDelivery {
    /// Connector name.
    pub connector: String,
    /// Source department.
    pub department: String,
    /// Expected cadence in days.
    pub expected_every_days: u32,
    /// Last delivery, if any.
    pub last_delivery: Option<String>,
    /// Days since the last delivery (or since the service first knew the connector).
    pub days_without: i64,
}

impl std::fmt::Display for MissingDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.last_delivery {
            Some(last) => write!(
                f,
                "{} ({}): nothing new for {} days (expected every {} days; last delivery {last})",
                self.connector, self.department, self.days_without, self.expected_every_days
            ),
            None => write!(
                f,
                "{} ({}): never delivered in {} days (expected every {} days)",
                self.connector, self.department, self.days_without, self.expected_every_days
            ),
        }
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Connectors overdue at `now`. A connector the service has never run is not judged.
pub async fn missing_deliveries(
    registry: &Registry,
    connectors: &ConnectorSet,
    now: DateTime<Utc>,
) -> Result<Vec<MissingDelivery>, RegistryError> {
    let mut missing = Vec::new();
    for connector in &connectors.connectors {
        let Some(days) = connector.expect_every_days else {
            continue;
        };
        let Some(known) = state::load(registry, &connector.name).await? else {
            continue;
        };
        let since = known
            .last_delivery_at
            .as_deref()
            .and_then(parse_time)
            .or_else(|| parse_time(&known.first_seen_at));
        let Some(since) = since else {
            continue;
        };
        let days_without = (now - since).num_days();
        if days_without > i64::from(days) {
            missing.push(MissingDelivery {
                connector: connector.name.clone(),
                department: connector.department.clone(),
                expected_every_days: days,
                last_delivery: known.last_delivery_at.clone(),
                days_without,
            });
        }
    }
    Ok(missing)
}
