//! Dates: parsing of date cells in the formats county officers type
//! (`1990-1-2`, `1990/01/02`, `19900102`, `1990.1.2`, `1990年1月2日`, with or
//! without a time part, full-width digits, Excel serial numbers) and of
//! year-month partial dates, plus conversion to and from Excel's 1900 date
//! system.

use chrono::{Duration, NaiveDate};
use thiserror::Error;

use super::names::{is_blank, to_half_width};

/// Largest Excel serial number (9999-12-31 in the 1900 date system).
pub const MAX_EXCEL_SERIAL: u32 = 2_958_465;

/// Why a date cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DateError {
    /// The cell is empty or holds only whitespace.
    #[error("empty date")]
    Empty,
    /// The cell is not in any date format this module knows.
    #[error("unrecognised date \"{0}\"")]
    Unrecognised(String),
    /// The cell is in a known format but names a day (or time) that does not
    /// exist, such as `1990-02-30`.
    #[error("\"{0}\" is not a real date")]
    Impossible(String),
}

/// Converts an Excel serial number (1900 date system) to a date.
///
/// Serial 1 is 1900-01-01. Excel wrongly treats 1900 as a leap year (the
/// Lotus 1-2-3 bug), so serial 60 is the nonexistent 1900-02-29 and gives
/// `None`; serial 61 is 1900-03-01. A fractional part is the time of day and
/// is dropped. Values outside `1..=2958465`, NaN and infinities give `None`.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() {
        return None;
    }
    let whole = serial.floor();
    if whole < 1.0 || whole > f64::from(MAX_EXCEL_SERIAL) {
        return None;
    }
    // In range 1..=2958465, so the conversion is exact.
    let days = whole as i64;
    let epoch = match days {
        1..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        60 => return None,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    epoch.checked_add_signed(Duration::days(days))
}

/// Converts a date to its Excel serial number (1900 date system, with the
/// Lotus leap-year bug), the inverse of [`from_excel_serial`]. Dates before
/// 1900-01-01 or after 9999-12-31 give `None`.
pub fn to_excel_serial(date: NaiveDate) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1)?;
    let leap_bug = NaiveDate::from_ymd_opt(1900, 3, 1)?;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    if date < first {
        return None;
    }
    let mut days = date.signed_duration_since(epoch).num_days();
    if date < leap_bug {
        days -= 1;
    }
    u32::try_from(days).ok().filter(|&d| d <= MAX_EXCEL_SERIAL)
}

/// Parses a full date cell.
///
/// Accepted forms (full-width digits and punctuation are folded first):
/// `1990-01-02`, `1990-1-2`, `1990/1/2`, `1990.01.02`, `19900102`,
/// `1990年1月2日` (also with `号`), each optionally followed by a time part
/// after a space or `T` (`08:30`, `8:30:00`, `08:30:00.000`, with an optional
/// `Z` or `+08:00` offset, which is validated and dropped), and a bare Excel
/// serial with a five-digit whole part (`32875`, `32875.0`, `32875.5`).
/// A leading apostrophe (Excel's text marker) is ignored.
///
/// Years must have four digits and be at least 1000. Impossible days and
/// times give [`DateError::Impossible`], unknown shapes
/// [`DateError::Unrecognised`], blank cells [`DateError::Empty`].
pub fn parse_date(raw: &str) -> Result<NaiveDate, DateError> {
    parse_iso_date(raw).unwrap_or_else(|| parse_date_text(raw))
}

/// [`parse_date`] through cleaning and the general shapes.
fn parse_date_text(raw: &str) -> Result<NaiveDate, DateError> {
    let text = clean(raw);
    if text.is_empty() {
        return Err(DateError::Empty);
    }
    let shown = raw.to_string();
    let (date_part, time_part) = split_time(&text);
    if let Some(time) = time_part {
        check_time(time, &shown)?;
    }
    if let Some(serial) = parse_serial_text(date_part) {
        return from_excel_serial(serial).ok_or(DateError::Impossible(shown));
    }
    let (y, m, d) = split_ymd(date_part).ok_or_else(|| DateError::Unrecognised(shown.clone()))?;
    make_date(y, m, d).ok_or(DateError::Impossible(shown))
}

/// A date as ISO-8601 text, `1990-01-02`: what `to_string` gives for years 1000–9999, without
/// the formatting machinery (a registry stores millions of them).
pub fn iso_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, d) = (date.year(), date.month(), date.day());
    if !(1000..=9999).contains(&y) {
        return date.to_string();
    }
    let y = y as u32;
    let digit = |n: u32| char::from(b'0' + n as u8);
    let mut text = String::with_capacity(10);
    for n in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
        text.push(digit(n));
    }
    text.push('-');
    text.push(digit(m / 10));
    text.push(digit(m % 10));
    text.push('-');
    text.push(digit(d / 10));
    text.push(digit(d % 10));
    text
}

/// The common shape, `YYYY-MM-DD` or `YYYY/MM/DD` in ASCII, without the general path's
/// cleaning; `None` for any other text.
fn parse_iso_date(raw: &str) -> Option<Result<NaiveDate, DateError>> {
    let b = raw.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9];
    if b.len() != 10
        || b[4] != b[7]
        || !(b[4] == b'-' || b[4] == b'/')
        || !digits.iter().all(|&i| b[i].is_ascii_digit())
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    Some(
        make_date(number(0..4), number(5..7), number(8..10))
            .ok_or_else(|| DateError::Impossible(raw.to_string())),
    )
}

/// Parses a year-month partial date (`1990年1月`, `1990-01`, `1990/1`,
/// `1990.01`, `199001`) to the first day of that month.
pub fn parse_year_month(raw: &str) -> Result<NaiveDate, DateError> {
    let text = clean(raw);
    if text.is_empty() {
        return Err(DateError::Empty);
    }
    let shown = raw.to_string();
    let (y, m) = split_ym(&text).ok_or_else(|| DateError::Unrecognised(shown.clone()))?;
    make_date(y, m, 1).ok_or(DateError::Impossible(shown))
}

/// Folds full-width forms, drops zero-width characters and a leading
/// apostrophe, trims, collapses whitespace runs to one space and removes
/// whitespace before `年`, `月`, `日`, `号` and after `年`, `月`.
fn clean(raw: &str) -> String {
    let folded: String = raw
        .chars()
        .map(to_half_width)
        .filter(|&c| c.is_whitespace() || !is_blank(c))
        .collect();
    let trimmed = folded.trim();
    let trimmed = trimmed.strip_prefix('\'').unwrap_or(trimmed).trim();
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let mut out = String::with_capacity(trimmed.len());
    for (i, w) in words.iter().enumerate() {
        let glued = i > 0 && (words[i - 1].ends_with(['年', '月']) || w.starts_with(is_date_unit));
        if i > 0 && !glued {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn is_date_unit(c: char) -> bool {
    matches!(c, '年' | '月' | '日' | '号')
}

/// Splits `text` into the date part and an optional time part, at the first
/// space or at a `T` between two digits.
fn split_time(text: &str) -> (&str, Option<&str>) {
    if let Some((date, time)) = text.split_once(' ') {
        return (date, Some(time));
    }
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'T' && i > 0 && bytes[i - 1].is_ascii_digit() {
            return (&text[..i], Some(&text[i + 1..]));
        }
    }
    (text, None)
}

/// Validates a time of day `H:MM[:SS[.fff]]` with an optional `Z` or
/// `±HH:MM`/`±HHMM` offset.
fn check_time(time: &str, shown: &str) -> Result<(), DateError> {
    let unrecognised = || DateError::Unrecognised(shown.to_string());
    let impossible = || DateError::Impossible(shown.to_string());
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (time[..i].trim_end(), Some(&time[i..])),
        None => (time, None),
    };
    let mut fields = clock.split(':');
    let hour = digits_field(fields.next(), 1, 2).ok_or_else(unrecognised)?;
    let minute = digits_field(fields.next(), 2, 2).ok_or_else(unrecognised)?;
    let second = match fields.next() {
        None => 0,
        Some(s) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unrecognised());
            }
            digits_field(Some(whole), 2, 2).ok_or_else(unrecognised)?
        }
    };
    if fields.next().is_some() {
        return Err(unrecognised());
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(impossible());
    }
    match offset {
        None | Some("Z") => Ok(()),
        Some(off) => {
            let body = &off[1..];
            let compact: String = body.chars().filter(|&c| c != ':').collect();
            let ok = off.starts_with(['+', '-'])
                && compact.len() == 4
                && compact.bytes().all(|b| b.is_ascii_digit())
                && digits_field(Some(&compact[..2]), 2, 2).is_some_and(|h| h <= 14)
                && digits_field(Some(&compact[2..]), 2, 2).is_some_and(|m| m <= 59)
                && (body.len() == 4 || body.as_bytes().get(2) == Some(&b':'));
            if ok { Ok(()) } else { Err(unrecognised()) }
        }
    }
}

/// Parses an all-ASCII-digit field whose length is within `min..=max`.
fn digits_field(field: Option<&str>, min: usize, max: usize) -> Option<u32> {
    let f = field?;
    if f.len() < min || f.len() > max || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    f.parse().ok()
}

/// Recognises an Excel serial typed as text: a five-digit whole part with an
/// optional fractional part.
fn parse_serial_text(text: &str) -> Option<f64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let whole_ok = whole.len() == 5 && whole.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if whole_ok && frac_ok {
        text.parse().ok()
    } else {
        None
    }
}

/// Splits a date without time into year, month and day fields.
fn split_ymd(text: &str) -> Option<(u32, u32, u32)> {
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some((
            text[..4].parse().ok()?,
            text[4..6].parse().ok()?,
            text[6..].parse().ok()?,
        ));
    }
    if let Some((y, rest)) = text.split_once('年') {
        let (m, d) = rest.split_once('月')?;
        let d = d.strip_suffix(['日', '号']).unwrap_or(d);
        return Some((
            digits_field(Some(y), 4, 4)?,
            digits_field(Some(m), 1, 2)?,
            digits_field(Some(d), 1, 2)?,
        ));
    }
    let sep = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut fields = text.split(sep);
    let y = digits_field(fields.next(), 4, 4)?;
    let m = digits_field(fields.next(), 1, 2)?;
    let d = digits_field(fields.next(), 1, 2)?;
    if fields.next().is_some() {
        return None;
    }
    Some((y, m, d))
}

/// Splits a year-month text into year and month fields.
fn split_ym(text: &str) -> Option<(u32, u32)> {
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some((text[..4].parse().ok()?, text[4..].parse().ok()?));
    }
    if let Some((y, rest)) = text.split_once('年') {
        let m = rest
            .strip_suffix("月份")
            .or_else(|| rest.strip_suffix('月'))?;
        return Some((digits_field(Some(y), 4, 4)?, digits_field(Some(m), 1, 2)?));
    }
    let sep = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let (y, m) = text.split_once(sep)?;
    Some((digits_field(Some(y), 4, 4)?, digits_field(Some(m), 1, 2)?))
}

fn make_date(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    if y < 1000 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn parses_table() {
        let jan2 = ymd(1990, 1, 2);
        let cases: &[(&str, NaiveDate)] = &[
            ("1990-01-02", jan2),
            ("1990-1-2", jan2),
            ("1990/1/2", jan2),
            ("1990/01/02", jan2),
            ("19900102", jan2),
            ("1990.01.02", jan2),
            ("1990.1.2", jan2),
            ("1990年1月2日", jan2),
            ("1990年01月02日", jan2),
            ("1990年1月2号", jan2),
            ("1990年1月2", jan2),
            ("1990 年 1 月 2 日", jan2),
            ("１９９０年１月２日", jan2),
            ("１９９０－０１－０２", jan2),
            ("１９９０／１／２", jan2),
            ("  1990-01-02  ", jan2),
            ("\u{3000}1990-01-02\u{200B}", jan2),
            ("'1990-01-02", jan2),
            ("1990-01-02 08:30:00", jan2),
            ("1990-01-02 00:00:00.000", jan2),
            ("1990/1/2 8:30", jan2),
            ("1990-01-02T08:30:00", jan2),
            ("1990-01-02T08:30:00Z", jan2),
            ("1990-01-02T08:30:00+08:00", jan2),
            ("1990-01-02 08:30:00 +0800", jan2),
            ("1990年1月2日 8:30", jan2),
            ("1990-01-02  08:30", jan2),
            ("32875", jan2),
            ("32875.0", jan2),
            ("32875.75", jan2),
            ("2000-02-29", ymd(2000, 2, 29)),
            ("2024/12/31", ymd(2024, 12, 31)),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_date(raw), Ok(*want), "input {raw:?}");
        }
    }

    #[test]
    fn rejects_table() {
        use DateError::{Empty, Impossible, Unrecognised};
        let cases: &[(&str, DateError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("\u{3000}", Empty),
            ("abc", Unrecognised("abc".into())),
            ("1990", Unrecognised("1990".into())),
            ("90-1-2", Unrecognised("90-1-2".into())),
            ("1990-01", Unrecognised("1990-01".into())),
            ("1990-01/02", Unrecognised("1990-01/02".into())),
            ("1990-01-02-03", Unrecognised("1990-01-02-03".into())),
            ("1990-001-02", Unrecognised("1990-001-02".into())),
            ("199001022", Unrecognised("199001022".into())),
            ("1234", Unrecognised("1234".into())),
            ("1990-01-02 noon", Unrecognised("1990-01-02 noon".into())),
            ("1990-01-02 8", Unrecognised("1990-01-02 8".into())),
            (
                "1990-01-02T08:30+8",
                Unrecognised("1990-01-02T08:30+8".into()),
            ),
            ("32875.", Unrecognised("32875.".into())),
            ("1990-02-30", Impossible("1990-02-30".into())),
            ("1990-13-01", Impossible("1990-13-01".into())),
            ("19900230", Impossible("19900230".into())),
            ("1900-02-29", Impossible("1900-02-29".into())),
            ("1990年2月30日", Impossible("1990年2月30日".into())),
            ("0000-00-00", Impossible("0000-00-00".into())),
            ("0999-01-01", Impossible("0999-01-01".into())),
            ("1990-01-02 25:00", Impossible("1990-01-02 25:00".into())),
            ("1990-01-02 12:61", Impossible("1990-01-02 12:61".into())),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_date(raw).as_ref(), Err(want), "input {raw:?}");
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            parse_date("1990-02-30").unwrap_err().to_string(),
            "\"1990-02-30\" is not a real date"
        );
        assert_eq!(
            parse_date("abc").unwrap_err().to_string(),
            "unrecognised date \"abc\""
        );
        assert_eq!(parse_date("").unwrap_err().to_string(), "empty date");
    }

    #[test]
    fn excel_serials() {
        let cases: &[(f64, Option<NaiveDate>)] = &[
            (1.0, Some(ymd(1900, 1, 1))),
            (31.0, Some(ymd(1900, 1, 31))),
            (59.0, Some(ymd(1900, 2, 28))),
            (60.0, None),
            (61.0, Some(ymd(1900, 3, 1))),
            (32874.0, Some(ymd(1990, 1, 1))),
            (32875.0, Some(ymd(1990, 1, 2))),
            (32875.999, Some(ymd(1990, 1, 2))),
            (36526.0, Some(ymd(2000, 1, 1))),
            (45292.5, Some(ymd(2024, 1, 1))),
            (2_958_465.0, Some(ymd(9999, 12, 31))),
            (2_958_466.0, None),
            (0.0, None),
            (0.5, None),
            (-1.0, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
        ];
        for (serial, want) in cases {
            assert_eq!(from_excel_serial(*serial), *want, "serial {serial}");
            if let Some(d) = want {
                assert_eq!(to_excel_serial(*d), Some(serial.floor() as u32));
            }
        }
        assert_eq!(to_excel_serial(ymd(1899, 12, 31)), None);
    }

    #[test]
    fn year_month_table() {
        let jan = ymd(1990, 1, 1);
        let ok: &[(&str, NaiveDate)] = &[
            ("1990年1月", jan),
            ("1990年01月", jan),
            ("1990年1月份", jan),
            ("1990-01", jan),
            ("1990-1", jan),
            ("1990/01", jan),
            ("1990.1", jan),
            ("199001", jan),
            ("１９９０年１月", jan),
            (" 2024-12 ", ymd(2024, 12, 1)),
        ];
        for (raw, want) in ok {
            assert_eq!(parse_year_month(raw), Ok(*want), "input {raw:?}");
        }
        assert_eq!(parse_year_month(""), Err(DateError::Empty));
        assert_eq!(
            parse_year_month("1990-13"),
            Err(DateError::Impossible("1990-13".into()))
        );
        assert_eq!(
            parse_year_month("199000"),
            Err(DateError::Impossible("199000".into()))
        );
        for bad in ["1990", "1990-01-02", "1990年", "abc", "90-01"] {
            assert_eq!(
                parse_year_month(bad),
                Err(DateError::Unrecognised(bad.into())),
                "input {bad:?}"
            );
        }
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..(200 * 366)).prop_map(|n| ymd(1900, 1, 1) + Duration::days(n))
    }

    proptest! {
        #[test]
        fn round_trips_through_formats(d in any_date(), fmt in 0usize..9) {
            let text = match fmt {
                0 => d.format("%Y-%m-%d").to_string(),
                1 => d.format("%Y-%-m-%-d").to_string(),
                2 => d.format("%Y/%-m/%-d").to_string(),
                3 => d.format("%Y%m%d").to_string(),
                4 => d.format("%Y.%m.%d").to_string(),
                5 => d.format("%Y年%-m月%-d日").to_string(),
                6 => d.format("%Y-%m-%d 08:30:00").to_string(),
                7 => d.format("%Y/%-m/%-d 8:05").to_string(),
                _ => d
                    .format("%Y-%m-%d")
                    .to_string()
                    .chars()
                    .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
                    .collect(),
            };
            prop_assert_eq!(parse_date(&text), Ok(d), "text {}", text);
            let first = d.with_day(1).unwrap();
            prop_assert_eq!(parse_year_month(&d.format("%Y年%-m月").to_string()), Ok(first));
            prop_assert_eq!(parse_year_month(&d.format("%Y%m").to_string()), Ok(first));
        }

        #[test]
        fn iso_date_is_to_string(d in any_date()) {
            prop_assert_eq!(iso_date(d), d.to_string());
        }

        #[test]
        fn iso_fast_path_agrees_with_the_general_path(
            y in 0u32..10_000, m in 0u32..100, d in 0u32..100, slash in any::<bool>()
        ) {
            let sep = if slash { '/' } else { '-' };
            let text = format!("{y:04}{sep}{m:02}{sep}{d:02}");
            prop_assert_eq!(parse_iso_date(&text), Some(parse_date_text(&text)), "text {}", text);
        }

        #[test]
        fn excel_serial_round_trips(d in any_date()) {
            let serial = to_excel_serial(d).unwrap();
            prop_assert_eq!(from_excel_serial(f64::from(serial)), Some(d));
            prop_assert_eq!(from_excel_serial(f64::from(serial) + 0.25), Some(d));
            if (10_000..100_000).contains(&serial) {
                prop_assert_eq!(parse_date(&serial.to_string()), Ok(d));
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}", f in proptest::num::f64::ANY) {
            let _ = parse_date(&s);
            let _ = parse_year_month(&s);
            let _ = from_excel_serial(f);
        }

        #[test]
        fn never_panics_on_date_like(s in "[0-9年月日号./: T+Z-]{0,24}") {
            let _ = parse_date(&s);
            let _ = parse_year_month(&s);
        }
    }
}
