//! Money amounts: parsing of amount cells (`1,234.50`, `￥1234`, `1.2万元`,
//! `(12.50)`, full-width digits, …) into exact integer fen (1 yuan = 100
//! fen), conversion of numeric cells, and formatting back to yuan.

use thiserror::Error;

use super::names::{is_blank, to_half_width};

/// Fen in one yuan.
pub const FEN_PER_YUAN: i64 = 100;

/// Largest magnitude, in yuan, that [`money_from_f64`] accepts.
pub const MAX_F64_YUAN: f64 = 1e13;

/// Why an amount cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// The cell is not a number in any accepted notation.
    #[error("\"{0}\" is not a valid amount")]
    Invalid(String),
    /// The amount does not fit in an `i64` count of fen.
    #[error("\"{0}\" is too large an amount")]
    OutOfRange(String),
}

const CURRENCY_PREFIXES: &[&str] = &["¥", "￥", "rmb", "cny", "人民币"];
const CURRENCY_SUFFIXES: &[&str] = &["元", "圆", "块", "rmb", "cny"];
const MULTIPLIERS: &[(char, i128)] = &[('万', 10_000), ('千', 1_000), ('亿', 100_000_000)];

/// Fraction digits kept before rounding; enough for fen precision even
/// with the `亿` multiplier, and rounding on the kept digits is exact.
const MAX_FRACTION_DIGITS: usize = 14;

/// Parses an amount cell into fen.
///
/// Blanks anywhere and full-width forms are ignored. Accepted: optional
/// currency (`¥`, `￥`, `RMB`, `CNY`, `人民币` before; `元`, `圆`, `块`,
/// `RMB` after, optionally followed by `整`), a sign (`-`, `+`) or
/// accounting parentheses for negatives, thousands separators (`,`/`，` in
/// groups of three), a decimal point, and a `万`, `千` or `亿` multiplier.
/// More than two decimals are rounded half away from zero to the fen.
/// Empty cells and placeholders (`无`, `-`, …) give `Ok(None)`.
pub fn parse_money(raw: &str) -> Result<Option<i64>, MoneyError> {
    let text: String = raw
        .chars()
        .map(to_half_width)
        .filter(|&c| !is_blank(c))
        .collect::<String>()
        .to_lowercase();
    if text.is_empty() || super::is_placeholder(&text) {
        return Ok(None);
    }
    let invalid = || MoneyError::Invalid(raw.to_string());
    let (negative, body) = strip_decorations(&text).ok_or_else(invalid)?;
    let (number, multiplier) = match MULTIPLIERS.iter().find(|(c, _)| body.ends_with(*c)) {
        Some(&(c, m)) => (&body[..body.len() - c.len_utf8()], m),
        None => (body, 1),
    };
    let (int, frac) = split_number(number).ok_or_else(invalid)?;
    to_fen(&int, frac, multiplier, negative)
        .map(Some)
        .ok_or_else(|| MoneyError::OutOfRange(raw.to_string()))
}

/// Converts a numeric cell in yuan to fen, rounding half away from zero.
///
/// The value is read through its shortest decimal form, so `1.005` (as
/// typed) gives 101 fen even though the nearest `f64` is slightly below
/// 1.005. NaN, infinities and magnitudes above 1e13 yuan give `None`.
pub fn money_from_f64(v: f64) -> Option<i64> {
    if !v.is_finite() || v.abs() > MAX_F64_YUAN {
        return None;
    }
    // whole fen, the common case: when fen/100 is exactly the cell's value, the shortest
    // decimal of that value has at most two decimals and the text path below gives the same fen
    let fen = (v.abs() * 100.0).round();
    if fen < 9.0e15 && fen / 100.0 == v.abs() {
        let fen = fen as i64;
        return Some(if v.is_sign_negative() { -fen } else { fen });
    }
    money_from_f64_text(v)
}

/// [`money_from_f64`] through the value's shortest decimal text.
fn money_from_f64_text(v: f64) -> Option<i64> {
    // `Display` for f64 never uses exponent notation.
    let text = v.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    to_fen(int, frac, 1, v.is_sign_negative())
}

/// Formats fen as yuan with exactly two decimals: `123450` → `"1234.50"`,
/// `-5` → `"-0.05"`.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Strips currency markers, `整`, a sign and accounting parentheses, in any
/// reasonable order. Returns whether the amount is negative and what is
/// left, or `None` when two signs or unbalanced parentheses are found.
fn strip_decorations(text: &str) -> Option<(bool, &str)> {
    let mut s = text;
    let mut negative = false;
    let mut signed = false;
    loop {
        let before = s;
        for p in CURRENCY_PREFIXES {
            s = s.strip_prefix(p).unwrap_or(s);
        }
        s = s.strip_suffix('整').unwrap_or(s);
        for p in CURRENCY_SUFFIXES {
            s = s.strip_suffix(p).unwrap_or(s);
        }
        if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            if signed {
                return None;
            }
            (s, negative, signed) = (inner, true, true);
        } else if let Some(rest) = s.strip_prefix(['-', '+', '−']) {
            if signed {
                return None;
            }
            (negative, signed) = (s.starts_with(['-', '−']), true);
            s = rest;
        }
        if s == before {
            return Some((negative, s));
        }
    }
}

/// Splits `1,234.50` into its integer digits (`"1234"`) and fraction digits
/// (`"50"`), checking the thousands grouping.
fn split_number(number: &str) -> Option<(String, &str)> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(frac) {
        return None;
    }
    let groups: Vec<&str> = int.split(',').collect();
    let grouped_ok = groups.len() == 1
        || groups.iter().enumerate().all(|(i, g)| {
            let len_ok = if i == 0 {
                (1..=3).contains(&g.len())
            } else {
                g.len() == 3
            };
            len_ok && digits(g)
        });
    if !grouped_ok || !digits(groups.first().copied().unwrap_or("")) {
        return None;
    }
    Some((groups.concat(), frac))
}

/// Exact conversion of a decimal `int.frac` yuan amount, times
/// `multiplier`, to fen with half-away-from-zero rounding. `None` when the
/// result does not fit in an `i64`.
fn to_fen(int: &str, frac: &str, multiplier: i128, negative: bool) -> Option<i64> {
    let frac = frac.get(..MAX_FRACTION_DIGITS).unwrap_or(frac);
    let int = int.trim_start_matches('0');
    if int.len() > 20 {
        return None;
    }
    let mut scaled: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        scaled = scaled.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let denominator = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    let numerator = scaled.checked_mul(100)?.checked_mul(multiplier)?;
    let mut fen = numerator / denominator;
    if (numerator % denominator) * 2 >= denominator {
        fen += 1;
    }
    i64::try_from(if negative { -fen } else { fen }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1234.50", Some(123_450)),
            ("1,234.50", Some(123_450)),
            ("1，234.50", Some(123_450)),
            ("1,234,567.89", Some(123_456_789)),
            ("1234.5元", Some(123_450)),
            ("1234元整", Some(123_400)),
            ("￥1234", Some(123_400)),
            ("¥1,234", Some(123_400)),
            ("RMB 12", Some(1_200)),
            ("rmb12.00", Some(1_200)),
            ("12 RMB", Some(1_200)),
            ("人民币12元", Some(1_200)),
            ("1.2万", Some(1_200_000)),
            ("1.2万元", Some(1_200_000)),
            ("3千", Some(300_000)),
            ("3千元", Some(300_000)),
            ("1.5亿", Some(15_000_000_000)),
            ("0.00015万", Some(150)),
            ("１２３４．５", Some(123_450)),
            ("  12  ", Some(1_200)),
            ("\u{3000}12\u{3000}", Some(1_200)),
            ("-12.5", Some(-1_250)),
            ("+12.5", Some(1_250)),
            ("−12.5", Some(-1_250)),
            ("(12.50)", Some(-1_250)),
            ("（12.50）", Some(-1_250)),
            ("(¥12.50)", Some(-1_250)),
            ("¥(12.50)", Some(-1_250)),
            ("-¥12.50", Some(-1_250)),
            ("¥-12.50", Some(-1_250)),
            ("12.", Some(1_200)),
            (".5", Some(50)),
            ("0", Some(0)),
            ("-0", Some(0)),
            ("007", Some(700)),
            ("1.005", Some(101)),
            ("1.004", Some(100)),
            ("-1.005", Some(-101)),
            ("0.125", Some(13)),
            ("0.0049999999999999999999", Some(0)),
            ("92233720368547758.07", Some(i64::MAX)),
            ("-92233720368547758.08", Some(i64::MIN)),
            ("", None),
            ("  ", None),
            ("无", None),
            ("-", None),
            ("/", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_money(raw), Ok(*want), "input {raw:?}");
        }
    }

    #[test]
    fn rejects_table() {
        for raw in [
            "12.3.4", "abc", "12,34", "1,2345", ",123", "1.2e5", "--12", "-(12)", "(12", "12)",
            "万", "12万万", "¥", ".", "1 2x", "$12",
        ] {
            assert_eq!(
                parse_money(raw),
                Err(MoneyError::Invalid(raw.to_string())),
                "input {raw:?}"
            );
        }
        for raw in ["92233720368547758.08", "1亿亿", "999999999999999999999999"] {
            assert!(parse_money(raw).is_err(), "input {raw:?}");
        }
        assert_eq!(
            parse_money("92233720368547758.08"),
            Err(MoneyError::OutOfRange("92233720368547758.08".into()))
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            parse_money("12.3.4").unwrap_err().to_string(),
            "\"12.3.4\" is not a valid amount"
        );
        assert_eq!(
            parse_money("abc").unwrap_err().to_string(),
            "\"abc\" is not a valid amount"
        );
    }

    #[test]
    fn from_f64_table() {
        let cases: &[(f64, Option<i64>)] = &[
            (0.0, Some(0)),
            (-0.0, Some(0)),
            (1234.5, Some(123_450)),
            (1.005, Some(101)),
            (-1.005, Some(-101)),
            (0.1 + 0.2, Some(30)),
            (12.344999, Some(1_234)),
            (1e13, Some(1_000_000_000_000_000)),
            (-1e13, Some(-1_000_000_000_000_000)),
            (1.0000001e13, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (f64::NEG_INFINITY, None),
        ];
        for (v, want) in cases {
            assert_eq!(money_from_f64(*v), *want, "value {v}");
        }
    }

    #[test]
    fn formats_table() {
        let cases: &[(i64, &str)] = &[
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (123_450, "1234.50"),
            (-123_456, "-1234.56"),
            (100, "1.00"),
            (i64::MAX, "92233720368547758.07"),
            (i64::MIN, "-92233720368547758.08"),
        ];
        for (fen, want) in cases {
            assert_eq!(format_yuan(*fen), *want);
        }
    }

    proptest! {
        #[test]
        fn format_round_trips(fen in any::<i64>()) {
            prop_assert_eq!(parse_money(&format_yuan(fen)), Ok(Some(fen)));
        }

        #[test]
        fn decorated_forms_agree(fen in -10_000_000_000i64..10_000_000_000) {
            let plain = format_yuan(fen);
            let abs = format_yuan(fen.abs());
            let neg = fen < 0;
            let wrapped = if neg { format!("({abs})") } else { abs.clone() };
            for text in [format!("¥{plain}"), format!("{plain}元"), format!("RMB {plain}"), wrapped] {
                prop_assert_eq!(parse_money(&text), Ok(Some(fen)), "text {}", text);
            }
            let wan = format!("{}{}.{:06}万", if neg { "-" } else { "" }, fen.unsigned_abs() / 1_000_000, fen.unsigned_abs() % 1_000_000);
            prop_assert_eq!(parse_money(&wan), Ok(Some(fen)), "text {}", wan);
        }

        #[test]
        fn f64_fast_path_agrees_with_the_text(
            whole in -1_000_000_000i64..1_000_000_000,
            frac in 0u32..100_000,
            digits in 0u32..6,
        ) {
            let v: f64 = format!("{whole}.{:0width$}", frac % 10u32.pow(digits), width = digits as usize)
                .parse()
                .unwrap();
            prop_assert_eq!(money_from_f64(v), money_from_f64_text(v), "value {}", v);
        }

        #[test]
        fn f64_cents_are_exact(fen in -1_000_000_000_000i64..1_000_000_000_000) {
            let v: f64 = format_yuan(fen).parse().unwrap();
            prop_assert_eq!(money_from_f64(v), Some(fen));
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}", n in "[0-9.,()¥元万千+-]{0,30}", f in proptest::num::f64::ANY) {
            let _ = parse_money(&s);
            let _ = parse_money(&n);
            let _ = money_from_f64(f);
        }
    }
}
