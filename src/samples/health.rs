//! Hospital stays (住院结算): ordinary stays at age-dependent rates, serious
//! illnesses with repeated costly stays, rare catastrophic single stays,
//! stays shortly before a death, and the forced `major_medical` and
//! near-miss shapes. Money is kept in cents so the truth sums are exact.

use chrono::NaiveDate;
use rand::RngExt;
use rand::rngs::StdRng;

use super::events::{Detail, MAJOR_MEDICAL_CENTS, Record, Scenario};
use super::geo::COUNTIES;
use super::population::Household;
use super::schema::Source;
use super::util::{
    add_days, chance, date_between, lognormal, major_window_start, pick, poisson, reference_date,
    window_start,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ordinary,
    Childbirth,
    Serious(&'static str),
    Catastrophic,
}

const CHILD: &[&str] = &[
    "支气管肺炎",
    "急性支气管炎",
    "手足口病",
    "急性胃肠炎",
    "肺炎",
    "急性扁桃体炎",
    "桡骨远端骨折",
];
const ADULT: &[&str] = &[
    "急性阑尾炎",
    "胆囊结石伴慢性胆囊炎",
    "腰椎间盘突出症",
    "肾结石",
    "高血压病",
    "2型糖尿病",
    "混合痔",
    "急性胰腺炎",
];
const ELDER: &[&str] = &[
    "脑梗死",
    "慢性阻塞性肺疾病急性加重",
    "冠状动脉粥样硬化性心脏病",
    "高血压病3级",
    "2型糖尿病",
    "肺部感染",
    "股骨颈骨折",
    "老年性白内障",
    "慢性心力衰竭",
];
const SERIOUS: &[&str] = &[
    "肺恶性肿瘤",
    "胃恶性肿瘤",
    "肝恶性肿瘤",
    "结肠恶性肿瘤",
    "乳腺恶性肿瘤",
    "急性白血病",
    "慢性肾衰竭尿毒症期",
    "食管恶性肿瘤",
];
const CATASTROPHIC: &[&str] = &[
    "急性心肌梗死",
    "脑出血",
    "严重多发伤",
    "主动脉夹层",
    "重症胰腺炎",
];
const TOP: &[&str] = &[
    "安徽省立医院",
    "安徽医科大学第一附属医院",
    "中国科学技术大学附属第一医院",
    "蚌埠医学院第一附属医院",
    "江苏省人民医院",
    "南京鼓楼医院",
];

fn hospital(rng: &mut StdRng, h: &Household, level: u8) -> String {
    let Some(c) = COUNTIES.get(h.county) else {
        return TOP[0].to_string();
    };
    let t = c
        .townships
        .get(h.place.township)
        .copied()
        .unwrap_or("城关镇");
    match level {
        0 if t.ends_with("街道") => format!("{t}社区卫生服务中心"),
        0 => format!("{t}卫生院"),
        1 => format!(
            "{}{}",
            c.name,
            pick(rng, &["人民医院", "人民医院", "中医院", "第二人民医院"])
        ),
        2 => format!(
            "{}{}",
            c.city,
            pick(rng, &["第一人民医院", "人民医院", "中医院"])
        ),
        _ => (pick(rng, TOP)).to_string(),
    }
}

fn stay(
    rng: &mut StdRng,
    h: &Household,
    hh: usize,
    i: usize,
    date: NaiveDate,
    kind: Kind,
    oop_target: Option<i64>,
) -> Record {
    let age = h.members[i].age_on(date);
    let (level, rate, total, los, diagnosis): (u8, f64, f64, i64, &str) = match kind {
        Kind::Ordinary => {
            let level = pick(rng, &[0u8, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
            let median = match (level, age) {
                (0, _) => 2_500.0,
                (_, ..18) => 4_000.0,
                (_, 18..60) => 8_000.0,
                _ => 11_000.0,
            };
            let rate =
                [0.85, 0.68, 0.58][usize::from(level.min(2))] + rng.random_range(-0.06..0.06);
            let dx = match age {
                ..18 => pick(rng, CHILD),
                18..60 => pick(rng, ADULT),
                _ => pick(rng, ELDER),
            };
            (
                level,
                rate,
                lognormal(rng, median, 0.6).clamp(600.0, 90_000.0),
                rng.random_range(3..15),
                dx,
            )
        }
        Kind::Childbirth => (
            1,
            0.7,
            rng.random_range(3_000.0..9_000.0),
            rng.random_range(3..7),
            pick(rng, &["顺产", "剖宫产", "剖宫产"]),
        ),
        Kind::Serious(dx) => (
            pick(rng, &[2u8, 3, 3]),
            rng.random_range(0.48..0.62),
            lognormal(rng, 42_000.0, 0.3),
            rng.random_range(7..25),
            dx,
        ),
        Kind::Catastrophic => (
            3,
            rng.random_range(0.55..0.70),
            rng.random_range(150_000.0..500_000.0),
            rng.random_range(15..60),
            pick(rng, CATASTROPHIC),
        ),
    };
    let rate: f64 = rate.clamp(0.3, 0.92);
    let mut total_c = (total * 100.0).round() as i64;
    if let Some(t) = oop_target {
        total_c = ((t as f64) / (1.0 - rate)).round() as i64;
    }
    let mut reimbursed = (total_c as f64 * rate).round() as i64;
    if let Some(t) = oop_target {
        reimbursed = total_c - t;
    }
    let discharge = add_days(date, los).min(add_days(reference_date(), -1));
    Record {
        source: Source::Health,
        hh,
        subject: i,
        related: None,
        date,
        detail: Detail::Stay {
            discharge,
            hospital: hospital(rng, h, level),
            diagnosis,
            total: total_c,
            reimbursed,
            oop: total_c - reimbursed,
        },
        critical: false,
        duplicate: false,
    }
}

fn serious_dx(rng: &mut StdRng, male: bool) -> &'static str {
    loop {
        let dx = pick(rng, SERIOUS);
        if !(male && dx.starts_with("乳腺")) {
            return dx;
        }
    }
}

fn oop_of(r: &Record) -> i64 {
    match r.detail {
        Detail::Stay { oop, .. } => oop,
        _ => 0,
    }
}

/// Appends the hospital stays of household `h` to `out`.
pub(crate) fn stays(
    rng: &mut StdRng,
    h: &Household,
    hh: usize,
    scen: Option<Scenario>,
    boost: f64,
    out: &mut Vec<Record>,
) {
    let (w0, r, m0) = (window_start(), reference_date(), major_window_start());
    let start = out.len();
    for (i, p) in h.members.iter().enumerate() {
        let end = p.death.unwrap_or(r).min(add_days(r, -3));
        if end <= w0 {
            continue;
        }
        let frac = (end - w0).num_days() as f64 / (r - w0).num_days() as f64;
        let age = p.age_on(w0);
        let mut rate: f64 = match age {
            ..6 => 0.10,
            6..18 => 0.04,
            18..45 => 0.06,
            45..60 => 0.12,
            60..75 => 0.25,
            _ => 0.40,
        };
        let births = !p.male && (20..=35).contains(&age);
        rate *= 1.0 + h.vulnerability;
        for _ in 0..poisson(rng, rate * 2.0 * frac) {
            let d = date_between(rng, w0, end);
            out.push(stay(rng, h, hh, i, d, Kind::Ordinary, None));
        }
        if births && chance(rng, 0.08 * 2.0 * frac) {
            let d = date_between(rng, w0, end);
            out.push(stay(rng, h, hh, i, d, Kind::Childbirth, None));
        }
        let p_serious =
            if age >= 35 { 0.008 } else { 0.002 } * boost * (1.0 + 2.0 * h.vulnerability);
        if chance(rng, p_serious) {
            let dx = serious_dx(rng, p.male);
            let mut d = date_between(rng, w0, end);
            for _ in 0..rng.random_range(3..=8) {
                if d >= end {
                    break;
                }
                out.push(stay(rng, h, hh, i, d, Kind::Serious(dx), None));
                d = add_days(d, rng.random_range(30..75));
            }
        }
        if chance(rng, 0.003 * boost) {
            let d = date_between(rng, w0, end);
            out.push(stay(rng, h, hh, i, d, Kind::Catastrophic, None));
        }
        if let Some(death) = p.death.filter(|d| *d > add_days(w0, 10))
            && chance(rng, 0.6)
        {
            for _ in 0..rng.random_range(1..=2) {
                let d = date_between(rng, add_days(death, -120).max(w0), add_days(death, -1));
                out.push(stay(rng, h, hh, i, d, Kind::Ordinary, None));
            }
        }
    }
    let adult = h
        .members
        .iter()
        .position(|p| p.death.is_none() && p.age_on(r) >= 30)
        .or_else(|| h.members.iter().position(|p| p.death.is_none()))
        .unwrap_or(0);
    let sum_in_window = |out: &Vec<Record>| -> i64 {
        out[start..]
            .iter()
            .filter(|x| x.subject == adult && x.date >= m0)
            .map(oop_of)
            .sum()
    };
    if h.members.get(adult).is_none_or(|p| p.death.is_some()) {
        return;
    }
    let dx = serious_dx(rng, h.members[adult].male);
    match scen {
        Some(Scenario::MajorMedical) => {
            while sum_in_window(out) < MAJOR_MEDICAL_CENTS + 500_000 {
                let d = date_between(rng, m0, add_days(r, -10));
                let oop =
                    i64::from(rng.random_range(15_000..25_000u32)) * 100 + rng.random_range(0..100);
                out.push(stay(rng, h, hh, adult, d, Kind::Serious(dx), Some(oop)));
            }
        }
        Some(Scenario::NearMissMedical) => {
            let target = i64::from(rng.random_range(40_000..48_000u32)) * 100;
            while sum_in_window(out) + 300_000 < target {
                let left = target - sum_in_window(out);
                let oop = left.min(i64::from(rng.random_range(8_000..14_000u32)) * 100);
                let d = date_between(rng, m0, add_days(r, -10));
                out.push(stay(rng, h, hh, adult, d, Kind::Serious(dx), Some(oop)));
            }
            let d = date_between(rng, w0, add_days(m0, -20));
            let oop = i64::from(rng.random_range(15_000..25_000u32)) * 100;
            out.push(stay(rng, h, hh, adult, d, Kind::Serious(dx), Some(oop)));
            if let Some(x) = out[start..]
                .iter_mut()
                .find(|x| x.subject == adult && x.date >= m0)
            {
                x.duplicate = true;
            }
        }
        _ => {}
    }
}
