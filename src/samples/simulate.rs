//! Simulation of one household over the event window: deaths and
//! funerals, family-planning special families, disaster damage,
//! dangerous-house assessments, unemployment and the 低保/特困 roster (hospital
//! stays are in `health`, students in `school`). Rates are listed in
//! `events`.

use chrono::NaiveDate;
use rand::RngExt;
use rand::rngs::StdRng;

use super::events::{Damage, Detail, DisasterEvent, Record, Scenario, situations};
use super::geo::County;
use super::population::{Household, Relation};
use super::schema::Source;
use super::util::{
    add_days, chance, date_between, pick, pick_w, reference_date, window_start, ymd,
};

/// Run-wide knobs for [`simulate`].
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    /// The household's county.
    pub county: &'a County,
    /// The chunk's disasters.
    pub disasters: &'a [DisasterEvent],
    /// Rare-event multiplier.
    pub boost: f64,
}

/// Simulates one household: appends its records to `out` and returns the
/// situation bits and whether it is covered by the roster.
pub(crate) fn simulate(
    rng: &mut StdRng,
    h: &mut Household,
    hh: usize,
    scen: Option<Scenario>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Record>,
) -> (u8, bool) {
    let start = out.len();
    let mut x = Sim {
        rng: &mut *rng,
        hh,
        scen,
        ctx,
        out: &mut *out,
    };
    x.special_family(h);
    x.deaths(h);
    super::health::stays(x.rng, h, hh, scen, ctx.boost, x.out);
    x.funerals(h);
    x.disaster(h);
    x.housing(h);
    super::school::students(x.rng, h, hh, scen, ctx, x.out);
    x.unemployment(h);
    let bits = situations(h, &mut out[start..]);
    let covered = Sim {
        rng: &mut *rng,
        hh,
        scen,
        ctx,
        out: &mut *out,
    }
    .roster(h, bits);
    if covered {
        for r in out[start..]
            .iter_mut()
            .filter(|r| r.source == Source::CivilRoster)
        {
            r.critical = true;
        }
    }
    for r in out[start..].iter_mut() {
        let p = if r.source == Source::Health {
            0.01
        } else {
            0.003
        };
        r.duplicate |= chance(rng, p);
    }
    (bits, covered)
}

struct Sim<'a, 'b> {
    rng: &'a mut StdRng,
    hh: usize,
    scen: Option<Scenario>,
    ctx: &'a Ctx<'b>,
    out: &'a mut Vec<Record>,
}

impl Sim<'_, '_> {
    fn push(
        &mut self,
        source: Source,
        subject: usize,
        related: Option<(usize, &'static str)>,
        date: NaiveDate,
        detail: Detail,
    ) {
        self.out.push(Record {
            source,
            hh: self.hh,
            subject,
            related,
            date,
            detail,
            critical: false,
            duplicate: false,
        });
    }

    fn is(&self, s: Scenario) -> bool {
        self.scen == Some(s)
    }

    fn special_family(&mut self, h: &mut Household) {
        let r = reference_date();
        let kids: Vec<usize> = h.children().collect();
        let Some(sp) = h.spouse() else { return };
        let eligible =
            kids.len() == 1 && h.members[0].age_on(r) >= 49 && h.members[sp].age_on(r) >= 49;
        if !(eligible
            && (self.is(Scenario::SpecialFamily) || chance(self.rng, 0.05 * self.ctx.boost)))
        {
            return;
        }
        let child = kids[0];
        let died = chance(self.rng, 0.55);
        let cb = h.members[child].birth;
        let recognised = if died {
            let death = if chance(self.rng, 0.75) {
                date_between(
                    self.rng,
                    add_days(cb, 400).max(ymd(2000, 1, 1)),
                    window_start(),
                )
            } else {
                date_between(self.rng, window_start(), add_days(r, -60))
            };
            h.members[child].death = Some(death);
            date_between(self.rng, add_days(death, 30), add_days(death, 400)).min(add_days(r, -1))
        } else {
            date_between(self.rng, ymd(2012, 1, 1), add_days(r, -1))
        };
        let support = if died {
            pick(self.rng, &[100_000, 100_000, 59_000])
        } else {
            pick(self.rng, &[80_000, 80_000, 46_000])
        };
        for parent in [0, sp] {
            self.push(
                Source::FamilyPlanning,
                parent,
                Some((child, "")),
                recognised,
                Detail::Special { died, support },
            );
        }
    }

    fn deaths(&mut self, h: &mut Household) {
        let (w0, r) = (window_start(), reference_date());
        let forced = if self.is(Scenario::WorkingAgeDeath) {
            h.members
                .iter()
                .position(|p| p.death.is_none() && (25..=55).contains(&p.age_on(r)))
        } else if self.is(Scenario::ElderlyDeath) {
            h.members
                .iter()
                .position(|p| p.death.is_none() && p.age_on(r) >= 72)
        } else {
            None
        };
        let boost = self.ctx.boost.sqrt();
        for (i, p) in h.members.iter_mut().enumerate() {
            if p.death.is_some() {
                continue;
            }
            let annual: f64 = match p.age_on(w0) {
                ..1 => 0.006,
                1..18 => 0.0004,
                18..45 => 0.0012,
                45..61 => 0.004,
                61..75 => 0.018,
                75..85 => 0.06,
                _ => 0.15,
            };
            let p2 = 1.0 - (1.0 - annual).powi(2);
            if forced == Some(i) || chance(self.rng, p2 * boost) {
                p.death = Some(date_between(self.rng, w0, add_days(r, -5)));
            }
        }
    }

    fn funerals(&mut self, h: &Household) {
        const CAUSES: &[&str] = &[
            "疾病",
            "心脑血管疾病",
            "恶性肿瘤",
            "呼吸衰竭",
            "自然死亡",
            "多器官功能衰竭",
        ];
        const ACCIDENTS: &[&str] = &["交通事故", "意外事故", "溺水", "工伤事故"];
        let c = self.ctx.county;
        for (i, p) in h.members.iter().enumerate() {
            let Some(d) = p.death.filter(|d| *d >= window_start()) else {
                continue;
            };
            let age = p.age_on(d);
            let cause = if (18..=60).contains(&age) && chance(self.rng, 0.4) {
                pick(self.rng, ACCIDENTS)
            } else {
                pick(self.rng, CAUSES)
            };
            let kin = next_of_kin(h, i, d);
            let home = if chance(self.rng, 0.8) {
                format!("{}殡仪馆", c.name)
            } else {
                format!("{}殡仪馆", c.city)
            };
            let cremation = add_days(d, self.rng.random_range(1..=4));
            self.push(
                Source::Funeral,
                i,
                kin,
                d,
                Detail::Death {
                    cremation,
                    cause,
                    home,
                },
            );
        }
    }

    fn disaster(&mut self, h: &Household) {
        let t = h.place.township;
        let forced = self.is(Scenario::HouseCollapsed) || self.is(Scenario::SafeHouse);
        let hit = self.ctx.disasters.iter().find(|e| e.townships.contains(&t));
        let event = match hit {
            Some(e) if forced || chance(self.rng, 0.12 * self.ctx.boost) => e.clone(),
            _ if forced => DisasterEvent {
                date: date_between(self.rng, window_start(), add_days(reference_date(), -10)),
                kind: "暴雨",
                townships: vec![t],
            },
            _ => return,
        };
        let v = h.vulnerability;
        let damage = if self.is(Scenario::HouseCollapsed) {
            if chance(self.rng, 0.5) {
                Damage::Collapsed
            } else {
                Damage::Severe
            }
        } else if self.is(Scenario::SafeHouse) || event.kind == "干旱" {
            if event.kind == "干旱" {
                Damage::None
            } else {
                Damage::Moderate
            }
        } else {
            let w = [
                (Damage::Collapsed, (6.0 * (1.0 + 3.0 * v)) as u32),
                (Damage::Severe, (12.0 * (1.0 + 3.0 * v)) as u32),
                (Damage::Moderate, 55),
                (Damage::None, 27),
            ];
            pick_w(self.rng, &w)
        };
        let loss = match damage {
            Damage::Collapsed => self.rng.random_range(40_000..150_000),
            Damage::Severe => self.rng.random_range(10_000..60_000),
            Damage::Moderate => self.rng.random_range(1_000..10_000),
            Damage::None => self.rng.random_range(300..5_000),
        } * 100;
        let size = h.members.iter().filter(|p| p.alive_on(event.date)).count();
        let head = alive_head(h, event.date);
        self.push(
            Source::Emergency,
            head,
            None,
            event.date,
            Detail::Disaster {
                kind: event.kind,
                damage,
                loss,
                size,
            },
        );
    }

    fn housing(&mut self, h: &Household) {
        if h.place.urban {
            return;
        }
        let forced = self.is(Scenario::DangerousHouse) || self.is(Scenario::SafeHouse);
        let v = h.vulnerability;
        if !forced && !chance(self.rng, 0.05 * self.ctx.boost * (1.0 + 2.0 * v)) {
            return;
        }
        let grade = if self.is(Scenario::DangerousHouse) {
            self.rng.random_range(2..4)
        } else if self.is(Scenario::SafeHouse) {
            1
        } else {
            pick_w(
                self.rng,
                &[
                    (0usize, 20),
                    (1, 50),
                    (2, (20.0 * (1.0 + v)) as u32),
                    (3, (10.0 * (1.0 + 2.0 * v)) as u32),
                ],
            )
        };
        let structure = if grade >= 2 {
            pick(self.rng, &["土木", "砖木", "石木", "土坯"])
        } else {
            pick(self.rng, &["砖混", "砖木", "框架", "砖混"])
        };
        let date = date_between(self.rng, window_start(), add_days(reference_date(), -5));
        let father = h
            .members
            .iter()
            .position(|p| p.relation == Relation::Parent && p.male && p.alive_on(date));
        let owner = match father {
            Some(f) if chance(self.rng, 0.15) => f,
            _ => alive_head(h, date),
        };
        let size = h.members.iter().filter(|p| p.alive_on(date)).count();
        self.push(
            Source::Housing,
            owner,
            None,
            date,
            Detail::House {
                grade,
                structure,
                size,
            },
        );
    }

    fn unemployment(&mut self, h: &Household) {
        const EMPLOYERS: &[&str] = &[
            "服装有限公司",
            "建材有限公司",
            "电子科技有限公司",
            "食品有限公司",
            "机械制造有限公司",
            "建筑工程有限公司",
            "物流有限公司",
            "纺织有限公司",
        ];
        const STEMS: &[&str] = &[
            "宏达", "鑫源", "华信", "金利", "永盛", "恒通", "天润", "明珠", "长江", "皖东",
        ];
        let r = reference_date();
        let forced = if self.is(Scenario::Unemployment) {
            h.members
                .iter()
                .position(|p| p.death.is_none() && (20..=55).contains(&p.age_on(r)))
        } else {
            None
        };
        let mult = if h.place.urban { 1.8 } else { 1.0 };
        for (i, p) in h.members.iter().enumerate() {
            let age = p.age_on(r);
            if !(18..=59).contains(&age) || p.relation == Relation::Child && age < 20 {
                continue;
            }
            if forced != Some(i)
                && !chance(
                    self.rng,
                    0.012 * mult * self.ctx.boost * (1.0 + h.vulnerability),
                )
            {
                continue;
            }
            let until = p.death.unwrap_or(r).min(add_days(r, -3));
            let date = date_between(self.rng, window_start(), until);
            let c = self.ctx.county;
            let employer = if chance(self.rng, 0.1) {
                "个体".to_string()
            } else {
                format!(
                    "{}{}{}",
                    pick(self.rng, &[c.name, c.city, "安徽"]),
                    pick(self.rng, STEMS),
                    pick(self.rng, EMPLOYERS)
                )
            };
            let monthly = i64::from(self.rng.random_range(162..=189u32)) * 1000;
            let months = self.rng.random_range(3..=24);
            self.push(
                Source::Hrss,
                i,
                None,
                date,
                Detail::Unemployment {
                    monthly,
                    months,
                    employer,
                },
            );
        }
    }

    fn roster(&mut self, h: &Household, bits: u8) -> bool {
        let r = reference_date();
        let alive: Vec<usize> = (0..h.members.len())
            .filter(|&i| h.members[i].alive_on(r))
            .collect();
        let alone_elderly = alive.len() == 1 && h.members[alive[0]].age_on(r) >= 60;
        let p = (0.025
            + 0.08 * h.vulnerability
            + if alone_elderly { 0.25 } else { 0.0 }
            + if bits != 0 { 0.10 } else { 0.0 })
            * self.ctx.boost.min(3.0);
        if alive.is_empty() || !(self.is(Scenario::Covered) || chance(self.rng, p)) {
            return false;
        }
        let tekun = alone_elderly && chance(self.rng, 0.7);
        let size = alive.len();
        let amount = if tekun {
            i64::from(self.rng.random_range(85..=110u32)) * 1000
        } else {
            size as i64 * i64::from(self.rng.random_range(33..=52u32)) * 1000
        };
        let date = date_between(self.rng, ymd(2016, 1, 1), add_days(r, -20));
        let subject = if h.members[0].alive_on(r) {
            0
        } else {
            alive[0]
        };
        self.push(
            Source::CivilRoster,
            subject,
            None,
            date,
            Detail::Roster {
                tekun,
                amount,
                size,
            },
        );
        true
    }
}

fn alive_head(h: &Household, d: NaiveDate) -> usize {
    if h.members[0].alive_on(d) {
        0
    } else {
        (0..h.members.len())
            .find(|&i| h.members[i].alive_on(d) && h.members[i].age_on(d) >= 18)
            .unwrap_or(0)
    }
}

/// The next of kin of member `i` who died on `d`, with the relation word
/// (the kin's relation to the deceased).
fn next_of_kin(h: &Household, i: usize, d: NaiveDate) -> Option<(usize, &'static str)> {
    let dead = &h.members[i];
    let ok = |j: usize| j != i && h.members[j].alive_on(d) && h.members[j].age_on(d) >= 18;
    let spouse_of = |j: usize| {
        matches!(
            (dead.relation, h.members[j].relation),
            (Relation::Head, Relation::Spouse) | (Relation::Spouse, Relation::Head)
        )
    };
    let child_of = |j: usize| {
        matches!(
            (dead.relation, h.members[j].relation),
            (Relation::Head | Relation::Spouse, Relation::Child)
                | (Relation::Parent, Relation::Head)
        )
    };
    let parent_of = |j: usize| {
        dead.relation == Relation::Child
            && matches!(h.members[j].relation, Relation::Head | Relation::Spouse)
    };
    let order = (0..h.members.len())
        .filter(|&j| ok(j) && spouse_of(j))
        .chain((0..h.members.len()).filter(|&j| ok(j) && child_of(j)))
        .chain((0..h.members.len()).filter(|&j| ok(j) && parent_of(j)))
        .chain((0..h.members.len()).filter(|&j| ok(j)));
    let j = order.into_iter().next()?;
    let m = h.members[j].male;
    let word = if spouse_of(j) {
        if m { "丈夫" } else { "妻子" }
    } else if child_of(j) {
        if m { "儿子" } else { "女儿" }
    } else if parent_of(j) {
        if m { "父亲" } else { "母亲" }
    } else if dead.relation == Relation::Parent && h.members[j].relation == Relation::Spouse {
        if m { "女婿" } else { "儿媳" }
    } else {
        "其他亲属"
    };
    Some((j, word))
}
