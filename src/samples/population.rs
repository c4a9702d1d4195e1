//! The sample population: households of 1–6 members (head, spouse, children,
//! elderly parents of the head) with names, valid 18-digit ID numbers,
//! genders and birth dates consistent with the ID, mobile phones (some shared
//! within the household) and canonical addresses.
//!
//! Migrant households (20% in urban communities, 7% in villages) have adults
//! with ID numbers from other provinces (their children born here mostly get
//! the local code), and 7% of the other spouses married in from another
//! province: about 10% of adults, 8–9% of all people, are non-hukou
//! residents.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rand::RngExt;
use rand::rngs::StdRng;

use super::SampleError;
use super::geo::{County, OTHER_PROVINCE_CODES, Place, Village};
use super::names::{self, NameModel};
use super::util::{add_days, age_on, chance, pick, pick_w, reference_date, ymd};
use crate::normalize::id_number::check_digit;

/// Relation of a member to the household head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// 户主.
    Head,
    /// 配偶.
    Spouse,
    /// 子 / 女.
    Child,
    /// 父亲 / 母亲 of the head.
    Parent,
}

impl Relation {
    /// The truth file's word for the relation, by gender.
    pub(crate) fn truth_word(self, male: bool) -> &'static str {
        match (self, male) {
            (Relation::Head, _) => "head",
            (Relation::Spouse, _) => "spouse",
            (Relation::Child, true) => "son",
            (Relation::Child, false) => "daughter",
            (Relation::Parent, true) => "father",
            (Relation::Parent, false) => "mother",
        }
    }
}

/// One person of the sample world.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// Global person number (`P00000001` in the truth).
    pub pid: u64,
    /// Surname (1 or 2 characters).
    pub surname: &'static str,
    /// Given name (1 or 2 characters).
    pub given: String,
    /// `true` for male.
    pub male: bool,
    /// Birth date (as encoded in the ID number).
    pub birth: NaiveDate,
    /// The valid 18-digit ID number.
    pub id18: String,
    /// Relation to the household head.
    pub relation: Relation,
    /// Own mobile phone, if any.
    pub phone: Option<String>,
    /// Date of death, if the person died (possibly before the event window).
    pub death: Option<NaiveDate>,
}

impl Person {
    /// Full name.
    pub(crate) fn name(&self) -> String {
        format!("{}{}", self.surname, self.given)
    }

    /// Age in full years on `d`.
    pub(crate) fn age_on(&self, d: NaiveDate) -> i32 {
        age_on(self.birth, d)
    }

    /// Whether the person is alive on `d`.
    pub(crate) fn alive_on(&self, d: NaiveDate) -> bool {
        self.death.is_none_or(|x| x > d)
    }
}

/// One household of the sample world.
#[derive(Debug, Clone)]
pub(crate) struct Household {
    /// Global household number (`H0000001` in the truth).
    pub hid: u64,
    /// Index into [`super::geo::COUNTIES`].
    pub county: usize,
    /// Where the household lives.
    pub place: Place,
    /// Members; index 0 is the head.
    pub members: Vec<Person>,
    /// Latent vulnerability in 0..1 (raises the rates of hardship events).
    pub vulnerability: f64,
    /// A landline, for a few households.
    pub landline: Option<String>,
}

impl Household {
    /// A phone to reach member `i`: own mobile, else the head's or spouse's.
    pub(crate) fn contact_phone(&self, i: usize) -> Option<String> {
        let own = self.members.get(i).and_then(|p| p.phone.clone());
        own.or_else(|| self.members.iter().find_map(|p| p.phone.clone()))
            .or_else(|| self.landline.clone())
    }

    /// Indices of the children (子/女) of the head.
    pub(crate) fn children(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.members.len()).filter(|&i| self.members[i].relation == Relation::Child)
    }

    /// Index of the head's spouse, if any.
    pub(crate) fn spouse(&self) -> Option<usize> {
        (0..self.members.len()).find(|&i| self.members[i].relation == Relation::Spouse)
    }
}

/// Shape constraints requested by a forced scenario.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want {
    /// A member aged 25–55 on the reference date.
    pub working_adult: bool,
    /// A child whose age on the reference date is in this range.
    pub child_age: Option<(i32, i32)>,
    /// Exactly one child, and a head and spouse both aged 50–68.
    pub only_child_couple: bool,
    /// A member aged 72 or more.
    pub elderly: bool,
    /// A rural village (not an urban community).
    pub rural: bool,
}

impl Want {
    fn satisfied_by(&self, h: &Household) -> bool {
        let r = reference_date();
        let ages: Vec<i32> = h.members.iter().map(|p| p.age_on(r)).collect();
        if self.working_adult && !ages.iter().any(|a| (25..=55).contains(a)) {
            return false;
        }
        if let Some((lo, hi)) = self.child_age
            && !h.children().any(|i| (lo..=hi).contains(&ages[i]))
        {
            return false;
        }
        if self.only_child_couple {
            let ok = h.children().count() == 1
                && h.spouse().is_some_and(|s| (50..=68).contains(&ages[s]))
                && (50..=68).contains(&ages[0]);
            if !ok {
                return false;
            }
        }
        if self.rural && h.place.urban {
            return false;
        }
        !self.elderly || ages.iter().any(|a| *a >= 72)
    }
}

/// Issues unique, valid ID numbers and mobile numbers across the whole run.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    ids: HashSet<u64>,
    next_pid: u64,
    next_hid: u64,
}

impl Registry {
    /// A fresh 18-digit ID number for the region, birth date and gender.
    fn id_number(
        &mut self,
        rng: &mut StdRng,
        region: u32,
        birth: NaiveDate,
        male: bool,
    ) -> Result<String, SampleError> {
        let date = birth.year() as u64 * 10_000 + u64::from(birth.month() * 100 + birth.day());
        let start = rng.random_range(0..500u64);
        for k in 0..500u64 {
            let seq = ((start + k) % 500) * 2 + u64::from(male);
            let key = (u64::from(region) * 100_000_000 + date) * 1000 + seq;
            if self.ids.insert(key) {
                let first: String = format!("{key:017}");
                let mut bytes = [0u8; 17];
                bytes.copy_from_slice(first.as_bytes());
                let check = check_digit(&bytes) as char;
                return Ok(format!("{first}{check}"));
            }
        }
        Err(SampleError::Exhausted {
            what: format!("ID numbers for {region} {birth}"),
        })
    }
}

fn mobile(rng: &mut StdRng) -> String {
    const PREFIX: &[&str] = &[
        "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
        "153", "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183",
        "185", "186", "187", "188", "189", "191", "198", "199",
    ];
    format!(
        "{}{:08}",
        pick(rng, PREFIX),
        rng.random_range(0..100_000_000u32)
    )
}

fn birth_for_age(rng: &mut StdRng, age: i32) -> NaiveDate {
    // Born between (ref - age - 1 years, ref - age years].
    let r = reference_date();
    let latest = ymd(r.year() - age, r.month(), r.day());
    add_days(latest, -rng.random_range(1..366))
}

fn head_age(rng: &mut StdRng) -> i32 {
    let band = pick_w(
        rng,
        &[
            ((22, 34), 14),
            ((35, 49), 30),
            ((50, 64), 32),
            ((65, 88), 24),
        ],
    );
    rng.random_range(band.0..=band.1)
}

struct Builder<'a> {
    rng: &'a mut StdRng,
    reg: &'a mut Registry,
    names: NameModel,
    home: u32,
    migrant_code: Option<u32>,
    members: Vec<Person>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        surname: &'static str,
        male: bool,
        age: i32,
        relation: Relation,
        region: u32,
    ) -> Result<(), SampleError> {
        let birth = birth_for_age(self.rng, age.clamp(0, 100));
        let mut given = names::given_name(self.rng, self.names, male, birth.year());
        // Nobody in a household shares another member's full name.
        for _ in 0..20 {
            if !self
                .members
                .iter()
                .any(|m| m.surname == surname && m.given == given)
            {
                break;
            }
            given = names::given_name(self.rng, self.names, male, birth.year());
        }
        let id18 = self.reg.id_number(self.rng, region, birth, male)?;
        let has_phone = match age {
            ..16 => false,
            16..60 => chance(self.rng, 0.88),
            60..75 => chance(self.rng, 0.55),
            _ => chance(self.rng, 0.25),
        };
        let phone = has_phone.then(|| mobile(self.rng));
        self.members.push(Person {
            pid: 0,
            surname,
            given,
            male,
            birth,
            id18,
            relation,
            phone,
            death: None,
        });
        Ok(())
    }

    /// Region code of a member's ID: migrants keep their home code, children
    /// born here mostly get the local one.
    fn region(&mut self, born_here_prob: f64) -> u32 {
        match self.migrant_code {
            Some(code) if !chance(self.rng, born_here_prob) => code,
            _ => self.home,
        }
    }
}

/// Generates one household in county `c` (index `county`), its people named
/// by `names`, retrying the shape until `want` holds (up to a bound; the truth
/// is derived from the result either way).
pub(crate) fn household(
    rng: &mut StdRng,
    reg: &mut Registry,
    names: NameModel,
    county: usize,
    c: &County,
    villages: &[Vec<Village>],
    want: Want,
) -> Result<Household, SampleError> {
    let mut last = None;
    for _ in 0..60 {
        let h = household_once(rng, reg, names, county, c, villages)?;
        let ok = want.satisfied_by(&h);
        last = Some(h);
        if ok {
            break;
        }
    }
    let mut h = last.ok_or_else(|| SampleError::Exhausted {
        what: "household shapes".into(),
    })?;
    reg.next_hid += 1;
    h.hid = reg.next_hid;
    for p in &mut h.members {
        reg.next_pid += 1;
        p.pid = reg.next_pid;
    }
    Ok(h)
}

fn household_once(
    rng: &mut StdRng,
    reg: &mut Registry,
    names: NameModel,
    county: usize,
    c: &County,
    villages: &[Vec<Village>],
) -> Result<Household, SampleError> {
    let place = Place::random(rng, c, villages);
    let migrant_code =
        chance(rng, if place.urban { 0.2 } else { 0.07 }).then(|| pick(rng, OTHER_PROVINCE_CODES));
    let head_surname = names::surname(rng);
    let mut b = Builder {
        rng,
        reg,
        names,
        home: c.code,
        migrant_code,
        members: Vec::new(),
    };
    let age = head_age(b.rng);
    let single_elderly = age >= 65 && chance(b.rng, 0.3);
    let head_male = chance(b.rng, if single_elderly { 0.55 } else { 0.88 });
    let region = b.region(0.0);
    b.add(head_surname, head_male, age, Relation::Head, region)?;
    if single_elderly {
        return finish(b, county, c, place);
    }
    // Spouse.
    let mut mother_age = if head_male { None } else { Some(age) };
    if chance(b.rng, if age < 30 { 0.7 } else { 0.86 }) {
        let sage = (age
            + if head_male {
                b.rng.random_range(-6..=2)
            } else {
                b.rng.random_range(-2..=6)
            })
        .max(20);
        let married_in = b.migrant_code.is_none() && chance(b.rng, 0.07);
        let sregion = if married_in {
            pick(b.rng, OTHER_PROVINCE_CODES)
        } else {
            b.region(0.0)
        };
        let s = names::surname(b.rng);
        b.add(s, !head_male, sage, Relation::Spouse, sregion)?;
        if head_male {
            mother_age = Some(sage);
        }
    }
    // Children.
    let mage = mother_age.unwrap_or(age);
    if (21..=62).contains(&mage) {
        let n = pick_w(b.rng, &[(0usize, 8), (1, 38), (2, 42), (3, 12)]);
        for _ in 0..n {
            let child_age = mage - b.rng.random_range(20..=36);
            if !(0..=30).contains(&child_age) || b.members.len() >= 5 {
                continue;
            }
            if child_age >= 24 && chance(b.rng, 0.6) {
                continue; // grown-up children mostly live elsewhere
            }
            let male = chance(b.rng, 0.52);
            let r = b.region(0.7);
            b.add(head_surname, male, child_age, Relation::Child, r)?;
        }
    }
    // Elderly parents of the head.
    if (25..=58).contains(&age) && b.members.len() < 6 && chance(b.rng, 0.3) {
        let page = (age + b.rng.random_range(22..=34)).min(96);
        let both = page < 80 && b.members.len() < 5 && chance(b.rng, 0.35);
        let r = b.region(0.0);
        if both || chance(b.rng, 0.4) {
            b.add(head_surname, true, page, Relation::Parent, r)?;
        }
        if both
            || b.members
                .last()
                .is_some_and(|p| p.relation != Relation::Parent)
        {
            let s = names::surname(b.rng);
            let mage = page - b.rng.random_range(0..4);
            b.add(s, false, mage, Relation::Parent, r)?;
        }
    }
    finish(b, county, c, place)
}

fn finish(
    b: Builder<'_>,
    county: usize,
    c: &County,
    place: Place,
) -> Result<Household, SampleError> {
    let u: f64 = b.rng.random();
    let landline = chance(b.rng, 0.05).then(|| {
        format!(
            "{}-{}",
            c.area_code,
            b.rng.random_range(2_000_000..8_000_000u32)
        )
    });
    Ok(Household {
        hid: 0,
        county,
        place,
        members: b.members,
        vulnerability: u * u * u,
        landline,
    })
}
