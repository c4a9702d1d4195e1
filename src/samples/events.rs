//! What happens to the households during the two-year event window
//! (2024-11-01 .. 2026-10-31): the records each source system holds about
//! them, and the situations that truly hold (the ground truth).
//!
//! Rates (per household or person, over the two years; rare events are
//! multiplied by the run's `boost`, which is 1 for 2,000 households or more
//! and grows to 5 for tiny runs so that every source and situation occurs):
//!
//! | event | rate |
//! |---|---|
//! | hospital stay | Poisson, 0.06–0.40 stays/person/year by age (+0.08 for women 20–35) |
//! | serious illness (3–8 costly stays) | 0.8% of people aged 35+ (0.2% younger) × (1+2·vulnerability) |
//! | catastrophic single stay (total 150k–500k) | 0.3% of people |
//! | death | 0.04%/yr (children) … 1.2‰ (18–44) … 4‰ (45–60) … 6%/yr (75–85) … 15%/yr (85+), × √boost |
//! | disaster damage | households of 2–3 affected townships per county, 12% of them; collapsed 6%, severe 12%, moderate 55%, none 27% |
//! | dangerous-house assessment | 5% of rural households × (1+2v); grades A 20%, B 50%, C 20%, D 10% (C/D up with v) |
//! | student | 85% of children aged 6–17 on 2026-09-01; dropout 0.2% (6–11), 1.2% (12–16), 3% (17) × (1+2v) |
//! | family-planning special family | 5% of couples aged ≥49 with exactly one child; child died 55% / disabled 45% |
//! | registered unemployment | 1.2% of people aged 18–59 × (1+v), ×1.8 in urban communities |
//! | 低保/特困 roster | 2.5% + 8%·v + 25% for elderly living alone + 10% when a hardship situation holds (× min(boost, 3)) |

use chrono::NaiveDate;
use rand::RngExt;
use rand::rngs::StdRng;

use super::geo::County;
use super::population::{Household, Want};
use super::schema::Source;
use super::util::{
    add_days, age_on, date_between, major_window_start, pick_w, reference_date, window_start,
};

/// Situation: a member's out-of-pocket hospital costs ≥ 50,000 yuan within 12 months.
pub(crate) const MAJOR_MEDICAL: u8 = 1;
/// Situation: a member aged 18–60 died.
pub(crate) const WORKING_AGE_DEATH: u8 = 2;
/// Situation: house collapsed or severely damaged in a disaster.
pub(crate) const HOUSE_COLLAPSED: u8 = 4;
/// Situation: house assessed grade C or D.
pub(crate) const DANGEROUS_HOUSE: u8 = 8;
/// Situation: a school-age child (6–16) dropped out.
pub(crate) const DROPOUT: u8 = 16;
/// Situation: family-planning special family.
pub(crate) const SPECIAL_FAMILY: u8 = 32;
/// Situation: a member registered as unemployed.
pub(crate) const UNEMPLOYMENT: u8 = 64;

/// Situation bits and their names in `households.csv`.
pub(crate) const SITUATIONS: [(u8, &str); 7] = [
    (MAJOR_MEDICAL, "major_medical"),
    (WORKING_AGE_DEATH, "working_age_death"),
    (HOUSE_COLLAPSED, "house_collapsed"),
    (DANGEROUS_HOUSE, "dangerous_house"),
    (DROPOUT, "dropout"),
    (SPECIAL_FAMILY, "special_family"),
    (UNEMPLOYMENT, "unemployment"),
];

/// The threshold of `major_medical`, in cents.
pub(crate) const MAJOR_MEDICAL_CENTS: i64 = 5_000_000;

/// House damage in a disaster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Damage {
    /// 倒塌.
    Collapsed,
    /// 严重损坏.
    Severe,
    /// 一般损坏.
    Moderate,
    /// 无.
    None,
}

/// Enrolment status of a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// 在读.
    Enrolled,
    /// 辍学.
    DroppedOut,
    /// 休学.
    Suspended,
    /// 转学.
    Transferred,
}

/// Source-specific content of a record.
#[derive(Debug, Clone)]
pub(crate) enum Detail {
    /// A hospital stay; money in cents.
    Stay {
        discharge: NaiveDate,
        hospital: String,
        diagnosis: &'static str,
        total: i64,
        reimbursed: i64,
        oop: i64,
    },
    /// A death and cremation.
    Death {
        cremation: NaiveDate,
        cause: &'static str,
        home: String,
    },
    /// Disaster damage to the household's house.
    Disaster {
        kind: &'static str,
        damage: Damage,
        loss: i64,
        size: usize,
    },
    /// A dangerous-house assessment, grade 0..4 = A..D.
    House {
        grade: usize,
        structure: &'static str,
        size: usize,
    },
    /// A student's enrolment.
    Student {
        school: String,
        grade: String,
        status: Status,
    },
    /// A family-planning special family (only child died or disabled).
    Special { died: bool, support: i64 },
    /// A registered unemployment.
    Unemployment {
        monthly: i64,
        months: u32,
        employer: String,
    },
    /// A 低保 (`tekun == false`) or 特困 roster entry.
    Roster {
        tekun: bool,
        amount: i64,
        size: usize,
    },
}

/// One row's worth of facts about a household member, before rendering.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Which source system holds it.
    pub source: Source,
    /// Household index within the chunk.
    pub hh: usize,
    /// Subject member index.
    pub subject: usize,
    /// Related member index and the relation word written for it.
    pub related: Option<(usize, &'static str)>,
    /// Event date.
    pub date: NaiveDate,
    /// Source-specific content.
    pub detail: Detail,
    /// The record supports a true situation: destructive noise is not applied.
    pub critical: bool,
    /// The record is exported twice.
    pub duplicate: bool,
}

/// A natural disaster hitting some townships of a county.
#[derive(Debug, Clone)]
pub(crate) struct DisasterEvent {
    /// Date.
    pub date: NaiveDate,
    /// 灾害类型.
    pub kind: &'static str,
    /// Affected township indices.
    pub townships: Vec<usize>,
}

/// The disasters of one chunk (county part).
pub(crate) fn disasters(rng: &mut StdRng, c: &County) -> Vec<DisasterEvent> {
    const KINDS: &[(&str, u32)] = &[
        ("洪涝", 5),
        ("风雹", 3),
        ("暴雨", 3),
        ("龙卷风", 1),
        ("低温雨雪冰冻", 1),
        ("干旱", 1),
    ];
    (0..rng.random_range(2..=4))
        .map(|_| {
            let n = rng.random_range(1..=3usize).min(c.townships.len());
            let mut townships: Vec<usize> = (0..n)
                .map(|_| rng.random_range(0..c.townships.len()))
                .collect();
            townships.dedup();
            DisasterEvent {
                date: date_between(rng, window_start(), add_days(reference_date(), -10)),
                kind: pick_w(rng, KINDS),
                townships,
            }
        })
        .collect()
}

/// A forced shape of household used to guarantee that every source and
/// situation (and the usual traps) occurs even in tiny sample sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// Out-of-pocket costs ≥ 50,000 within 12 months.
    MajorMedical,
    /// Death of a member aged 25–55.
    WorkingAgeDeath,
    /// House collapsed or severely damaged.
    HouseCollapsed,
    /// Dangerous-house grade C or D.
    DangerousHouse,
    /// Child aged 12–15 dropped out.
    Dropout,
    /// Family-planning special family.
    SpecialFamily,
    /// Registered unemployment.
    Unemployment,
    /// On the 低保/特困 roster.
    Covered,
    /// Trap: 40–48k within the window, more before it, one stay exported twice.
    NearMissMedical,
    /// Trap: death of a member aged 72+.
    ElderlyDeath,
    /// Trap: grade B house and moderate disaster damage.
    SafeHouse,
    /// Trap: a 17-year-old dropped out (not school age).
    LateDropout,
}

impl Scenario {
    /// All scenarios, in the order assigned to the first households of a chunk.
    pub(crate) const ALL: [Scenario; 12] = [
        Scenario::MajorMedical,
        Scenario::WorkingAgeDeath,
        Scenario::HouseCollapsed,
        Scenario::DangerousHouse,
        Scenario::Dropout,
        Scenario::SpecialFamily,
        Scenario::Unemployment,
        Scenario::Covered,
        Scenario::NearMissMedical,
        Scenario::ElderlyDeath,
        Scenario::SafeHouse,
        Scenario::LateDropout,
    ];

    /// The household shape the scenario needs.
    pub(crate) fn want(self) -> Want {
        let mut w = Want::default();
        match self {
            Scenario::WorkingAgeDeath
            | Scenario::Unemployment
            | Scenario::MajorMedical
            | Scenario::NearMissMedical => w.working_adult = true,
            Scenario::Dropout => w.child_age = Some((12, 15)),
            Scenario::LateDropout => w.child_age = Some((17, 17)),
            Scenario::SpecialFamily => w.only_child_couple = true,
            Scenario::ElderlyDeath => w.elderly = true,
            Scenario::DangerousHouse | Scenario::SafeHouse => w.rural = true,
            _ => {}
        }
        w
    }
}

/// Computes the situation bits of one household from its records and marks
/// the supporting records critical.
pub(crate) fn situations(h: &Household, recs: &mut [Record]) -> u8 {
    let (m0, r) = (major_window_start(), reference_date());
    let mut bits = 0u8;
    let mut oop = vec![0i64; h.members.len()];
    for rec in recs.iter() {
        if let Detail::Stay { oop: o, .. } = rec.detail
            && rec.date >= m0
            && rec.date < r
        {
            oop[rec.subject] += o;
        }
    }
    for rec in recs.iter_mut() {
        let p = &h.members[rec.subject];
        let bit = match &rec.detail {
            Detail::Stay { .. } => {
                (rec.date >= m0 && rec.date < r && oop[rec.subject] >= MAJOR_MEDICAL_CENTS)
                    .then_some(MAJOR_MEDICAL)
            }
            Detail::Death { .. } => (18..=60)
                .contains(&age_on(p.birth, rec.date))
                .then_some(WORKING_AGE_DEATH),
            Detail::Disaster { damage, .. } => {
                matches!(damage, Damage::Collapsed | Damage::Severe).then_some(HOUSE_COLLAPSED)
            }
            Detail::House { grade, .. } => (*grade >= 2).then_some(DANGEROUS_HOUSE),
            Detail::Student { status, .. } => (*status == Status::DroppedOut
                && (6..=16).contains(&age_on(p.birth, rec.date)))
            .then_some(DROPOUT),
            Detail::Special { .. } => Some(SPECIAL_FAMILY),
            Detail::Unemployment { .. } => Some(UNEMPLOYMENT),
            Detail::Roster { .. } => None,
        };
        if let Some(b) = bit {
            bits |= b;
            rec.critical = true;
        }
    }
    bits
}
