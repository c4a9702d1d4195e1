//! Cell-level noise: how officers and export systems write names, ID
//! numbers, dates, phones, money, genders and addresses.
//!
//! Per-cell rates (file-level styles are chosen in `layout`):
//!
//! | noise | rate |
//! |---|---|
//! | name: homophone char (张/章, 王/汪, 伟/玮 …) | 1.2% |
//! | name: traditional forms (張偉) | 0.8% |
//! | name: dropped / swapped given-name char | 0.3% / 0.3% |
//! | name: inserted ASCII space (`王 伟`) / trailing space | 1% / 0.5% |
//! | name: two-char names padded with U+3000 (`王　伟`) | per file, 20% of files |
//! | ID: missing (empty, `无`, `/`) | per source and role, 0.5%–35% |
//! | ID: 15-digit legacy number (people born before 1985) | 1.5% |
//! | ID: one wrong digit (check digit fails) | 0.3% |
//! | ID: grouped with spaces / full-width digits / trailing space | 1% / 0.7% / 1% |
//! | ID: lower-case x | all of a file's X in 25% of files, else 5% |
//! | ID: leading apostrophe (CSV) | 1% |
//! | date: another format than the column's | 4% |
//! | phone: dashes, spaces, `+86`, two numbers, remark | 8%, 6%, 8%, 3%, 2% |
//! | phone: impossible (`12345`, 10 digits) | 0.5% |
//! | money: another format (`1,234.50`, `3500元`, `￥`, `1.2万`) | 3% (`万` never on 自付 columns) |
//!
//! Destructive noise (missing or wrong ID digits, unlisted code words, bad
//! dates, `万` amounts) is never applied to a record that supports a true
//! situation, so every situation stays detectable.

use chrono::{Datelike, NaiveDate};
use rand::RngExt;
use rand::rngs::StdRng;

use super::geo::County;
use super::names::{homophones, traditional};
use super::population::{Household, Person};
use super::util::{cents_grouped, cents_plain, chance, pick};
use super::writers::{Cell, NumFmt};

/// How a date column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// `2026-01-02`.
    Iso,
    /// `2026/1/2`.
    Slash,
    /// `2026/01/02`.
    SlashPadded,
    /// `20260102`.
    Compact,
    /// `2026.01.02`.
    Dot,
    /// `2026年1月2日`.
    Chinese,
    /// `2026-01-02 00:00:00`.
    IsoTime,
}

/// All date styles.
pub(crate) const DATE_STYLES: [DateStyle; 7] = [
    DateStyle::Iso,
    DateStyle::Slash,
    DateStyle::SlashPadded,
    DateStyle::Compact,
    DateStyle::Dot,
    DateStyle::Chinese,
    DateStyle::IsoTime,
];

/// How money is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoneyStyle {
    /// `1234.50`.
    Plain,
    /// `1,234.50`.
    Grouped,
    /// `1234.5` (trailing zeros dropped).
    Short,
    /// `1234.50元`.
    Yuan,
}

/// File-level writing habits.
#[derive(Debug, Clone)]
pub(crate) struct Style {
    /// Writing an xlsx (cells may be typed).
    pub xlsx: bool,
    /// Date format of text dates.
    pub date: DateStyle,
    /// xlsx: dates as real date cells, with this Excel number format.
    pub date_cells: Option<&'static str>,
    /// Birth dates as year-month only (header `出生年月`).
    pub year_month: bool,
    /// Money format of text money.
    pub money: MoneyStyle,
    /// xlsx: money as numeric cells.
    pub money_cells: bool,
    /// Gender words (male, female).
    pub gender: (&'static str, &'static str),
    /// xlsx: IDs and phones typed as numbers (15 significant digits kept).
    pub id_numbers: bool,
    /// xlsx with `id_numbers`: show as `0` rather than General (`3.41E+17`).
    pub id_integer_format: bool,
    /// CSV: IDs written as `="…"` so Excel keeps them as text.
    pub id_formula_text: bool,
    /// Two-character names padded with U+3000.
    pub name_pad: bool,
    /// Check character written as lower-case `x`.
    pub lower_x: bool,
    /// Salt for the choice of code words.
    pub code_salt: usize,
    /// Administrative-area columns present (address may then be short).
    pub admin_cols: bool,
}

/// Writes a date in the given style.
pub(crate) fn fmt_date(d: NaiveDate, s: DateStyle) -> String {
    let (y, m, dd) = (d.year(), d.month(), d.day());
    match s {
        DateStyle::Iso => format!("{y:04}-{m:02}-{dd:02}"),
        DateStyle::Slash => format!("{y}/{m}/{dd}"),
        DateStyle::SlashPadded => format!("{y}/{m:02}/{dd:02}"),
        DateStyle::Compact => format!("{y:04}{m:02}{dd:02}"),
        DateStyle::Dot => format!("{y}.{m:02}.{dd:02}"),
        DateStyle::Chinese => format!("{y}年{m}月{dd}日"),
        DateStyle::IsoTime => format!("{y:04}-{m:02}-{dd:02} 00:00:00"),
    }
}

/// A date cell: a real date cell (xlsx), or text in the column's style with
/// an occasional other style.
pub(crate) fn date_cell(rng: &mut StdRng, d: NaiveDate, st: &Style) -> Cell {
    if let Some(fmt) = st.date_cells
        && !chance(rng, 0.03)
    {
        return Cell::Date(d, fmt);
    }
    let style = if chance(rng, 0.04) {
        pick(rng, &DATE_STYLES)
    } else {
        st.date
    };
    Cell::Text(fmt_date(d, style))
}

/// A birth date cell; year-month only when the header says `出生年月`.
pub(crate) fn birth_cell(rng: &mut StdRng, d: NaiveDate, st: &Style) -> Cell {
    if !st.year_month {
        return date_cell(rng, d, st);
    }
    let (y, m) = (d.year(), d.month());
    Cell::Text(match st.date {
        DateStyle::Dot | DateStyle::Slash => format!("{y}.{m:02}"),
        DateStyle::Compact => format!("{y}{m:02}"),
        DateStyle::Chinese => format!("{y}年{m:02}月"),
        _ => format!("{y}-{m:02}"),
    })
}

/// An impossible or placeholder date (only on rows supporting no situation).
pub(crate) fn bad_date(rng: &mut StdRng) -> Cell {
    Cell::Text(
        (pick(
            rng,
            &[
                "2026-02-30",
                "2025-13-05",
                "0000-00-00",
                "2025/6/31",
                "待定",
                "1900-01-00",
            ],
        ))
        .to_string(),
    )
}

/// A person's name with noise.
pub(crate) fn name_cell(rng: &mut StdRng, p: &Person, st: &Style) -> String {
    let mut sur: Vec<char> = p.surname.chars().collect();
    let mut giv: Vec<char> = p.given.chars().collect();
    let x: f64 = rng.random();
    if x < 0.012 {
        // One character that has a look-alike, so the rate is the rate of names changed.
        let mut slots: Vec<&mut char> = sur
            .iter_mut()
            .chain(giv.iter_mut())
            .filter(|c| !homophones(**c).is_empty())
            .collect();
        if !slots.is_empty() {
            let slot = slots.swap_remove(rng.random_range(0..slots.len()));
            *slot = pick(rng, homophones(*slot));
        }
    } else if x < 0.020 {
        sur.iter_mut()
            .chain(giv.iter_mut())
            .for_each(|c| *c = traditional(*c));
    } else if x < 0.023 && giv.len() == 2 {
        giv.remove(rng.random_range(0..2));
    } else if x < 0.026 && giv.len() == 2 {
        giv.swap(0, 1);
    }
    let s: String = sur.iter().collect();
    let g: String = giv.iter().collect();
    let y: f64 = rng.random();
    if st.name_pad && sur.len() + giv.len() == 2 {
        format!("{s}\u{3000}{g}")
    } else if y < 0.01 {
        format!("{s} {g}")
    } else if y < 0.015 {
        format!("{s}{g} ")
    } else {
        format!("{s}{g}")
    }
}

/// The 15-digit first-generation ID number derived from an 18-digit one.
pub(crate) fn legacy15(id18: &str) -> String {
    format!("{}{}", &id18[0..6], &id18[8..17])
}

/// The value Excel keeps when an 18-digit ID is typed as a number.
pub(crate) fn id_as_float(id18: &str) -> Option<f64> {
    let digits = &id18[..15];
    let v: f64 = digits.parse().ok()?;
    id18[15..]
        .chars()
        .all(|c| c.is_ascii_digit())
        .then_some(v * 1000.0)
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            'X' => 'Ｘ',
            _ => c,
        })
        .collect()
}

/// An ID cell. `missing` is the probability of a missing ID; `protect`
/// disables destructive noise.
pub(crate) fn id_cell(
    rng: &mut StdRng,
    p: &Person,
    st: &Style,
    missing: f64,
    protect: bool,
) -> Cell {
    if !protect && chance(rng, missing) {
        return match rng.random_range(0..100) {
            0..85 => Cell::Empty,
            85..93 => Cell::Text("无".into()),
            _ => Cell::Text("/".into()),
        };
    }
    let mut id = p.id18.clone();
    if !protect && chance(rng, 0.003) {
        let pos = pick(rng, &[3usize, 4, 5, 14, 15, 16]);
        let mut b = id.into_bytes();
        b[pos] = b'0' + (b[pos] - b'0' + rng.random_range(1..9u8)) % 10;
        id = String::from_utf8(b).unwrap_or_else(|_| p.id18.clone());
    }
    if p.birth.year() < 1985 && chance(rng, 0.015) {
        id = legacy15(&id);
    }
    if st.xlsx && st.id_numbers {
        let v = if id.len() == 15 {
            id.parse::<f64>().ok()
        } else {
            id_as_float(&id)
        };
        if let Some(v) = v {
            let fmt = if st.id_integer_format {
                NumFmt::Integer
            } else {
                NumFmt::General
            };
            return Cell::Num(v, fmt);
        }
    }
    if id.ends_with('X') && (st.lower_x || chance(rng, 0.05)) {
        id = format!("{}x", &id[..17]);
    }
    let y: f64 = rng.random();
    let text = if y < 0.01 && id.len() == 18 {
        format!("{} {} {}", &id[0..6], &id[6..14], &id[14..])
    } else if y < 0.017 {
        full_width(&id)
    } else if y < 0.027 {
        format!("{id} ")
    } else if y < 0.037 && !st.xlsx {
        format!("'{id}")
    } else {
        id
    };
    if st.id_formula_text && !st.xlsx {
        return Cell::Text(format!("=\"{text}\""));
    }
    Cell::Text(text)
}

/// A phone cell.
pub(crate) fn phone_cell(rng: &mut StdRng, phone: Option<&str>, st: &Style) -> Cell {
    let Some(ph) = phone else { return Cell::Empty };
    if ph.starts_with('0') {
        return Cell::Text(if chance(rng, 0.5) {
            ph.to_string()
        } else {
            ph.replace('-', "")
        });
    }
    if st.xlsx
        && st.id_numbers
        && let Ok(v) = ph.parse::<f64>()
    {
        return Cell::Num(v, NumFmt::Integer);
    }
    let (a, b, c) = (&ph[0..3], &ph[3..7], &ph[7..]);
    let x: f64 = rng.random();
    let s = if x < 0.08 {
        format!("{a}-{b}-{c}")
    } else if x < 0.14 {
        format!("{a} {b} {c}")
    } else if x < 0.19 {
        format!("+86 {a}-{b}-{c}")
    } else if x < 0.22 {
        format!("+86{ph}")
    } else if x < 0.25 {
        format!(
            "{ph}/1{}{:09}",
            rng.random_range(3..=9),
            rng.random_range(0..1_000_000_000u32)
        )
    } else if x < 0.27 {
        format!("{ph}（{}）", pick(rng, &["本人", "儿子", "女儿", "家属"]))
    } else if x < 0.275 {
        "12345".to_string()
    } else if x < 0.28 {
        ph[..10].to_string()
    } else {
        ph.to_string()
    };
    Cell::Text(s)
}

/// A money cell; `allow_wan` permits the lossy `1.2万` form.
pub(crate) fn money_cell(rng: &mut StdRng, cents: i64, st: &Style, allow_wan: bool) -> Cell {
    if st.xlsx && st.money_cells && !chance(rng, 0.03) {
        return Cell::Num(cents as f64 / 100.0, NumFmt::Money);
    }
    let style = if chance(rng, 0.03) {
        if allow_wan && cents >= 1_000_000 && chance(rng, 0.4) {
            return Cell::Text(format!("{:.1}万", cents as f64 / 1_000_000.0));
        }
        if chance(rng, 0.3) {
            return Cell::Text(format!("￥{}", cents_plain(cents)));
        }
        pick(
            rng,
            &[
                MoneyStyle::Plain,
                MoneyStyle::Grouped,
                MoneyStyle::Short,
                MoneyStyle::Yuan,
            ],
        )
    } else {
        st.money
    };
    Cell::Text(fmt_money(cents, style))
}

/// Money in a style.
pub(crate) fn fmt_money(cents: i64, style: MoneyStyle) -> String {
    match style {
        MoneyStyle::Plain => cents_plain(cents),
        MoneyStyle::Grouped => cents_grouped(cents),
        MoneyStyle::Short => {
            let s = cents_plain(cents);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        MoneyStyle::Yuan => {
            let s = cents_plain(cents);
            format!("{}元", s.trim_end_matches(".00"))
        }
    }
}

/// A gender cell.
pub(crate) fn gender_cell(male: bool, st: &Style) -> Cell {
    Cell::Text((if male { st.gender.0 } else { st.gender.1 }).to_string())
}

/// An integer cell (numeric in xlsx).
pub(crate) fn int_cell(v: i64, st: &Style) -> Cell {
    if st.xlsx {
        Cell::Num(v as f64, NumFmt::General)
    } else {
        Cell::Text(v.to_string())
    }
}

/// A code word: the file's usual word for the value, sometimes another one.
pub(crate) fn code_word(rng: &mut StdRng, words: &[&'static str], st: &Style) -> String {
    let w = if chance(rng, 0.05) {
        pick(rng, words)
    } else {
        words[st.code_salt % words.len()]
    };
    w.to_string()
}

/// An address with the variation seen in the field.
pub(crate) fn address_cell(rng: &mut StdRng, h: &Household, c: &County, st: &Style) -> String {
    let pl = &h.place;
    let township = c.townships.get(pl.township).copied().unwrap_or("");
    let local = pl.local();
    let x: f64 = rng.random();
    if st.admin_cols && x < 0.35 {
        return if chance(rng, 0.5) {
            local
        } else {
            format!("{}{local}", pl.village)
        };
    }
    let local = if !pl.urban && chance(rng, 0.15) {
        match rng.random_range(0..4) {
            0 => format!("{}组", pl.group),
            1 => format!("第{}村民组", super::util::cn_number(pl.group)),
            2 => format!("{local}{}号", pl.number),
            _ => format!("{}队", super::util::cn_number(pl.group)),
        }
    } else {
        local
    };
    let village = if !pl.urban && chance(rng, 0.05) {
        format!("{}委会", pl.village)
    } else {
        pl.village.clone()
    };
    match rng.random_range(0..100) {
        0..45 => format!("安徽省{}{}{township}{village}{local}", c.city, c.name),
        45..65 => format!("{}{}{township}{village}{local}", c.city, c.name),
        65..85 => format!("{}{township}{village}{local}", c.name),
        _ => format!("{township}{village}{local}"),
    }
}
