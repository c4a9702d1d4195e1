//! Who answers for a flag (首问负责): the county, township or village of the household's
//! address, from its region code and the township / village linkage stored (or, when those are
//! missing, parsed from the address), and when it is due (限时办理).

use chrono::{Days, NaiveDate};

use super::rules::{Level, RuleSet, UnitLevel};
use super::view::HouseholdInfo;
use crate::normalize::addresses::{AddressHints, RegionTable, parse_address};

/// The administrative place of a household and the unit that answers for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// County region code.
    pub region_code: Option<String>,
    /// County name (定远县).
    pub county: Option<String>,
    /// Township (永康镇).
    pub township: Option<String>,
    /// Village (民主村).
    pub village: Option<String>,
    /// The responsible unit's name: `定远县永康镇`; `未落实单位` when nothing is known.
    pub responsible_unit: String,
}

/// Name of the unit when a household's address says nothing usable.
pub const UNASSIGNED: &str = "未落实单位";

/// The unit responsible for a household at the configured level, falling back to the level
/// above when the address lacks it.
pub fn responsible_unit(household: &HouseholdInfo, level: UnitLevel) -> Unit {
    let table = RegionTable::embedded();
    let mut region_code = household.region_code.clone().filter(|c| !c.is_empty());
    let mut township = household.township.clone().filter(|t| !t.is_empty());
    let mut village = household.village.clone().filter(|v| !v.is_empty());
    if (region_code.is_none() || township.is_none() || village.is_none())
        && let Some(address) = household.address.as_deref().filter(|a| !a.is_empty())
    {
        let parsed = parse_address(
            address,
            &AddressHints {
                region_code: region_code.as_deref(),
                ..AddressHints::default()
            },
        );
        region_code = region_code.or(parsed.region_code);
        township = township.or(parsed.township);
        village = village.or(parsed.village);
    }
    let county = region_code
        .as_deref()
        .and_then(|c| table.name(c))
        .map(str::to_string);
    let county_part = county.clone().or_else(|| region_code.clone());
    let parts: Vec<&str> = match level {
        UnitLevel::County => vec![county_part.as_deref().unwrap_or("")],
        UnitLevel::Township => match &township {
            Some(t) => vec![county_part.as_deref().unwrap_or(""), t],
            None => vec![county_part.as_deref().unwrap_or("")],
        },
        UnitLevel::Village => match (&township, &village) {
            (Some(t), Some(v)) => vec![county_part.as_deref().unwrap_or(""), t, v],
            (Some(t), None) => vec![county_part.as_deref().unwrap_or(""), t],
            _ => vec![county_part.as_deref().unwrap_or("")],
        },
    };
    let name: String = parts.concat();
    Unit {
        region_code,
        county,
        township,
        village,
        responsible_unit: if name.is_empty() {
            UNASSIGNED.to_string()
        } else {
            name
        },
    }
}

/// The due date of a flag at `level` evaluated on `on`.
pub fn due_date(rules: &RuleSet, level: Level, on: NaiveDate) -> NaiveDate {
    on.checked_add_days(Days::new(u64::from(rules.due_days(level))))
        .unwrap_or(on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn township_unit_from_region_code_and_stored_township() {
        let household = HouseholdInfo {
            household_id: "H1".into(),
            region_code: Some("341125".into()),
            township: Some("永康镇".into()),
            village: Some("民主村".into()),
            ..HouseholdInfo::default()
        };
        let unit = responsible_unit(&household, UnitLevel::Township);
        assert_eq!(unit.responsible_unit, "定远县永康镇");
        assert_eq!(unit.county.as_deref(), Some("定远县"));
        assert_eq!(
            responsible_unit(&household, UnitLevel::Village).responsible_unit,
            "定远县永康镇民主村"
        );
    }

    #[test]
    fn township_parsed_from_the_address_when_linkage_left_it_empty() {
        let household = HouseholdInfo {
            household_id: "H2".into(),
            address: Some("安徽省滁州市定远县西卅店镇冯岗村六组".into()),
            ..HouseholdInfo::default()
        };
        let unit = responsible_unit(&household, UnitLevel::Township);
        assert_eq!(unit.region_code.as_deref(), Some("341125"));
        assert_eq!(unit.responsible_unit, "定远县西卅店镇");
    }

    #[test]
    fn nothing_known_is_unassigned() {
        let unit = responsible_unit(&HouseholdInfo::default(), UnitLevel::Township);
        assert_eq!(unit.responsible_unit, UNASSIGNED);
    }
}
