//! Households from the evidence in the sources: people named together by one source row (a
//! student and the guardian, the deceased and the next of kin, a parent and the only child, a
//! household head and the household's members) live together; so, where the data supports it, do
//! people sharing a phone that few others share, and people with the same surname at the same
//! detailed address. Every person ends in exactly one household.

use std::collections::HashMap;

/// Why two persons are put in one household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// Named together by one source row (guardian, next of kin, only child…).
    SameRow,
    /// Share a phone number used by few persons.
    SharedPhone,
    /// Same surname at the same detailed address.
    AddressAndSurname,
}

impl Evidence {
    /// Plain-language reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Evidence::SameRow => "named together in one source row",
            Evidence::SharedPhone => "share a phone number",
            Evidence::AddressAndSurname => "same surname at the same address",
        }
    }
}

/// What the household builder needs to know of a person.
#[derive(Debug, Clone, Default)]
pub struct PersonFacts {
    /// Surname (simplified characters), if the name is known.
    pub surname: Option<String>,
    /// Most frequent detailed address.
    pub address: Option<String>,
    /// Most frequent phone.
    pub phone: Option<String>,
}

/// Options for household evidence.
#[derive(Debug, Clone, Copy)]
pub struct HouseholdOptions {
    /// A phone shared by at most this many persons links them (0: phones are not used).
    pub shared_phone_max_persons: usize,
    /// Same surname at the same address links persons, when at most this many share both
    /// (0: not used).
    pub address_surname_max_persons: usize,
}

impl Default for HouseholdOptions {
    fn default() -> Self {
        HouseholdOptions {
            shared_phone_max_persons: 4,
            address_surname_max_persons: 0,
        }
    }
}

/// Groups persons `0..n` into households: `same_row` pairs always join; phones and address with
/// surname join as `options` allow. Returns a household number per person (its lowest person
/// index) and the evidence used per joined pair.
pub fn build(
    facts: &[PersonFacts],
    same_row: &[(u32, u32)],
    options: HouseholdOptions,
) -> (Vec<u32>, Vec<(u32, u32, Evidence)>) {
    let n = facts.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut used = Vec::new();
    let mut join = |parent: &mut Vec<u32>, a: u32, b: u32, e: Evidence| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
            used.push((a, b, e));
        }
    };
    for &(a, b) in same_row {
        join(&mut parent, a, b, Evidence::SameRow);
    }
    if options.shared_phone_max_persons > 1 {
        let mut by_phone: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, f) in facts.iter().enumerate() {
            if let Some(p) = &f.phone {
                by_phone.entry(p).or_default().push(i as u32);
            }
        }
        for group in by_phone.values() {
            if group.len() > 1 && group.len() <= options.shared_phone_max_persons {
                for w in group.windows(2) {
                    join(&mut parent, w[0], w[1], Evidence::SharedPhone);
                }
            }
        }
    }
    if options.address_surname_max_persons > 1 {
        let mut by_place: HashMap<(&str, &str), Vec<u32>> = HashMap::new();
        for (i, f) in facts.iter().enumerate() {
            if let (Some(a), Some(s)) = (&f.address, &f.surname) {
                by_place.entry((a, s)).or_default().push(i as u32);
            }
        }
        for group in by_place.values() {
            if group.len() > 1 && group.len() <= options.address_surname_max_persons {
                for w in group.windows(2) {
                    join(&mut parent, w[0], w[1], Evidence::AddressAndSurname);
                }
            }
        }
    }
    let label = (0..n as u32).map(|i| find(&mut parent, i)).collect();
    (label, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(surname: &str, address: &str, phone: &str) -> PersonFacts {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        PersonFacts {
            surname: opt(surname),
            address: opt(address),
            phone: opt(phone),
        }
    }

    #[test]
    fn rows_and_rare_phones_join_households() {
        let facts = vec![
            person("王", "前进村六组", "13800000001"),
            person("李", "前进村六组", "13800000001"),
            person("王", "前进村六组", ""),
            person("张", "红旗村", "13900000000"),
            person("赵", "红旗村", "13900000000"),
            person("钱", "红旗村", "13900000000"),
        ];
        let options = HouseholdOptions {
            shared_phone_max_persons: 2,
            address_surname_max_persons: 0,
        };
        let (label, used) = build(&facts, &[(2, 0)], options);
        assert_eq!(
            label,
            vec![0, 0, 0, 3, 4, 5],
            "a phone shared by three is not evidence at max 2"
        );
        assert_eq!(used.len(), 2);
        assert!(used.contains(&(2, 0, Evidence::SameRow)));
    }

    #[test]
    fn surname_and_address_join_only_when_enabled() {
        let facts = vec![
            person("王", "前进村六组12号", ""),
            person("王", "前进村六组12号", ""),
        ];
        let off = build(&facts, &[], HouseholdOptions::default()).0;
        assert_eq!(off, vec![0, 1]);
        let on = HouseholdOptions {
            shared_phone_max_persons: 0,
            address_surname_max_persons: 6,
        };
        assert_eq!(build(&facts, &[], on).0, vec![0, 0]);
    }
}
