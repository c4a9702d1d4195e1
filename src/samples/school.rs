//! Students (学籍 / 控辍保学): children aged 6–17 with their school, grade,
//! enrolment status and guardian (a parent, or a grandparent for left-behind
//! children), including dropouts at and beyond school age.

use chrono::NaiveDate;
use rand::RngExt;
use rand::rngs::StdRng;

use super::events::{Detail, Record, Scenario, Status};
use super::geo::County;
use super::population::{Household, Relation};
use super::schema::Source;
use super::simulate::Ctx;
use super::util::{chance, date_between, pick, pick_w, reference_date, years_after, ymd};

/// Appends the student records of household `h` (children aged 6–17 on
/// 2026-09-01) to `out`.
pub(crate) fn students(
    rng: &mut StdRng,
    h: &Household,
    hh: usize,
    scen: Option<Scenario>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Record>,
) {
    let term = ymd(2026, 9, 1);
    let c = ctx.county;
    let township = c
        .townships
        .get(h.place.township)
        .copied()
        .unwrap_or("城关镇");
    for i in h.children().collect::<Vec<_>>() {
        let p = &h.members[i];
        let age = p.age_on(term);
        if !(6..=17).contains(&age) || !p.alive_on(term) {
            continue;
        }
        let forced = ((scen == Some(Scenario::Dropout))
            && (12..=15).contains(&p.age_on(reference_date())))
            || ((scen == Some(Scenario::LateDropout)) && age >= 16);
        if !forced && !chance(rng, 0.85) {
            continue;
        }
        let v = h.vulnerability;
        let p_drop = match age {
            6..=11 => 0.002,
            12..=16 => 0.012,
            _ => 0.03,
        } * ctx.boost
            * (1.0 + 2.0 * v);
        let status = if forced || chance(rng, p_drop) {
            Status::DroppedOut
        } else {
            pick_w(
                rng,
                &[
                    (Status::Enrolled, 987),
                    (Status::Transferred, 10),
                    (Status::Suspended, 3),
                ],
            )
        };
        let date = match status {
            Status::Enrolled => term,
            _ => {
                // A child who is 17 by the reference date is given a status
                // date at 17 or later, so that "school age on the status
                // date" and "school age today" never disagree.
                let from = if p.age_on(reference_date()) >= 17 {
                    years_after(p.birth, 17)
                } else {
                    years_after(p.birth, 6)
                };
                date_between(rng, from.max(ymd(2025, 3, 1)), ymd(2026, 10, 20))
            }
        };
        let (school, grade) = school_and_grade(rng, c, township, &h.place.village, age);
        let guardian = guardian(rng, h, date);
        out.push(Record {
            source: Source::Education,
            hh,
            subject: i,
            related: guardian,
            date,
            detail: Detail::Student {
                school,
                grade,
                status,
            },
            critical: false,
            duplicate: false,
        });
    }
}

/// The guardian of a student on date `d`: a parent, or a grandparent for a
/// left-behind child.
fn guardian(rng: &mut StdRng, h: &Household, d: NaiveDate) -> Option<(usize, &'static str)> {
    let alive = |j: usize| h.members[j].alive_on(d) && h.members[j].age_on(d) >= 18;
    let parents: Vec<usize> = (0..h.members.len())
        .filter(|&j| alive(j) && matches!(h.members[j].relation, Relation::Head | Relation::Spouse))
        .collect();
    let grand: Vec<usize> = (0..h.members.len())
        .filter(|&j| alive(j) && h.members[j].relation == Relation::Parent)
        .collect();
    let j = if !grand.is_empty() && (parents.is_empty() || chance(rng, 0.25)) {
        pick(rng, &grand)
    } else if !parents.is_empty() {
        if parents.len() > 1 && chance(rng, 0.35) {
            parents[1]
        } else {
            parents[0]
        }
    } else {
        return None;
    };
    let m = h.members[j].male;
    let word = match (h.members[j].relation, m) {
        (Relation::Parent, true) => pick(rng, &["祖父", "爷爷", "祖孙"]),
        (Relation::Parent, false) => pick(rng, &["祖母", "奶奶", "祖孙"]),
        (_, true) => pick(rng, &["父亲", "父亲", "父子"]),
        (_, false) => pick(rng, &["母亲", "母亲", "母子"]),
    };
    Some((j, word))
}

fn school_and_grade(
    rng: &mut StdRng,
    c: &County,
    township: &str,
    village: &str,
    age: i32,
) -> (String, String) {
    const PRIMARY: [&str; 6] = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"];
    let stem = township
        .trim_end_matches(['镇', '乡'])
        .trim_end_matches("街道");
    let class = rng.random_range(1..=6);
    match age {
        ..=11 => {
            let school = if chance(rng, 0.6) {
                format!("{township}中心小学")
            } else {
                format!(
                    "{stem}镇{}小学",
                    village
                        .trim_end_matches(['村', '区'])
                        .trim_end_matches("社")
                )
            };
            let g = PRIMARY[(age.max(6) - 6) as usize];
            (
                school,
                if chance(rng, 0.5) {
                    format!("{g}({class})班")
                } else {
                    g.to_string()
                },
            )
        }
        12..=14 => {
            let school = if chance(rng, 0.6) {
                format!("{township}初级中学")
            } else {
                format!("{}第{}中学", c.name, pick(rng, &["二", "三", "四"]))
            };
            let g = ["七年级", "八年级", "九年级"][(age - 12) as usize];
            let alt = ["初一", "初二", "初三"][(age - 12) as usize];
            (
                school,
                if chance(rng, 0.5) {
                    format!("{alt}({class})班")
                } else {
                    g.to_string()
                },
            )
        }
        _ => {
            let school = if chance(rng, 0.7) {
                format!("{}第一中学", c.name)
            } else {
                format!("{}职业教育中心", c.name)
            };
            let g = ["高一", "高二", "高三"][((age - 15).min(2)) as usize];
            (school, format!("{g}({class})班"))
        }
    }
}
