//! Small helpers shared by the generator: seeded RNGs, weighted choice,
//! Poisson draws, dates around the fixed reference date and Chinese numerals.

use chrono::{Datelike, Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The fixed reference date ("today" of the sample world): 2026-11-01.
pub(crate) fn reference_date() -> NaiveDate {
    ymd(2026, 11, 1)
}

/// First day of the event window (two years before the reference date).
pub(crate) fn window_start() -> NaiveDate {
    ymd(2024, 11, 1)
}

/// First day of the 12-month window used by `major_medical`.
pub(crate) fn major_window_start() -> NaiveDate {
    ymd(2025, 11, 1)
}

/// A date from known-valid parts; falls back to the reference date if the
/// parts are invalid (never happens for the constants used here).
pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d)
        .or_else(|| NaiveDate::from_ymd_opt(2026, 11, 1))
        .unwrap_or_default()
}

/// `d + days` (saturating at the calendar's end).
pub(crate) fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        d.checked_add_days(Days::new(days.unsigned_abs()))
            .unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
            .unwrap_or(d)
    }
}

/// A uniformly random date in `[from, to)` (returns `from` if empty).
pub(crate) fn date_between(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return from;
    }
    add_days(from, rng.random_range(0..span))
}

/// Age in full years on `on` of someone born on `birth`.
pub(crate) fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The date `years` full years after `birth` (Feb 29 maps to Feb 28).
pub(crate) fn years_after(birth: NaiveDate, years: i32) -> NaiveDate {
    let y = birth.year() + years;
    NaiveDate::from_ymd_opt(y, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, birth.month(), 28))
        .unwrap_or(birth)
}

/// SplitMix64 finaliser, used to derive independent seeds.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded RNG for one purpose (`tag`) and one set of coordinates.
pub(crate) fn rng_for(seed: u64, tag: u64, a: u64, b: u64) -> StdRng {
    StdRng::seed_from_u64(mix(mix(mix(seed ^ 0x5A4D_4C45) ^ tag) ^ a) ^ mix(b))
}

/// Picks from `(item, weight)` pairs proportionally to the weights.
pub(crate) fn pick_w<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= *w;
    }
    items[items.len() - 1].0
}

/// Picks a uniformly random element of a non-empty slice.
pub(crate) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A Poisson draw (Knuth's method; fine for the small means used here).
pub(crate) fn poisson(rng: &mut StdRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    let limit = (-lambda).exp();
    let mut k = 0u32;
    let mut p: f64 = rng.random();
    while p > limit && k < 50 {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// A log-normal draw with the given median and log-space sigma.
pub(crate) fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// `true` with probability `p` (clamped to 0..=1).
pub(crate) fn chance(rng: &mut StdRng, p: f64) -> bool {
    rng.random_bool(p.clamp(0.0, 1.0))
}

/// Chinese numeral for 1..=99 (一, 十二, 二十三 …), used for 村民组 names.
pub(crate) fn cn_number(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let n = n.min(99);
    match n {
        0..=9 => D[n as usize].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[(n % 10) as usize]),
        _ if n.is_multiple_of(10) => format!("{}十", D[(n / 10) as usize]),
        _ => format!("{}十{}", D[(n / 10) as usize], D[(n % 10) as usize]),
    }
}

/// Money in cents rendered as `1234.50`.
pub(crate) fn cents_plain(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let c = c.abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Money in cents rendered with thousands separators: `1,234.50`.
pub(crate) fn cents_grouped(c: i64) -> String {
    let plain = cents_plain(c.abs());
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{out}.{frac}")
}
