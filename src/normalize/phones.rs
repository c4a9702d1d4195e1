//! Phone numbers: cleaning of phone cells into a mainland mobile number
//! (11 digits) or a landline (`area-local`, or a bare local number), with
//! placeholders, country prefixes, number-cell artefacts and cells holding
//! several numbers handled.

use thiserror::Error;

use super::names::{is_blank, to_half_width};

/// What kind of number a [`Phone`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// A mainland mobile number: 11 digits starting `13`–`19`.
    Mobile,
    /// A fixed-line number, with or without its area code.
    Landline,
}

/// A cleaned phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    /// The 11 mobile digits, `0551-62345678` for a landline with area code,
    /// or the 7–8 local digits for a landline without one.
    pub normalized: String,
    /// Mobile or landline.
    pub kind: PhoneKind,
}

/// Why a phone cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// The cell holds no recognisable mobile or landline number.
    #[error("\"{0}\" is not a mobile or landline number")]
    Invalid(String),
}

/// Characters that separate several numbers in one cell (after folding).
const SEPARATORS: &[char] = &['/', '、', ',', ';', '|', '\\'];

/// Cleans a phone cell.
///
/// Full-width forms are folded; spaces, dashes, dots and parentheses inside
/// a number are dropped, as are a `+86`/`0086` country prefix, an `86`
/// prefix before an 11-digit mobile, a stray `0` before a mobile, a trailing
/// `.0` left by a number cell, a label such as `手机:` and bracketed notes
/// without digits such as `(本人)`. Placeholders (`无`, `暂无`, `-`, `/`,
/// `0`, …) and empty cells give `Ok(None)`.
///
/// A cell holding several numbers (separated by `/`, `、`, `，`, `;`, `|` or
/// only by spaces) yields its first valid mobile, else its first valid
/// landline. A cell with no valid number is an error.
pub fn normalize_phone(raw: &str) -> Result<Option<Phone>, PhoneError> {
    // most cells hold one clean mobile number: it is its own normalized form
    if is_mobile(raw) {
        return Ok(Some(Phone {
            normalized: raw.to_string(),
            kind: PhoneKind::Mobile,
        }));
    }
    let folded: String = raw.chars().map(to_half_width).collect();
    if is_placeholder(&folded) {
        return Ok(None);
    }
    let mut found = Vec::new();
    let mut has_content = false;
    for segment in folded.split(SEPARATORS) {
        let segment = drop_notes(strip_label(segment));
        if is_placeholder(&segment) {
            continue;
        }
        has_content = true;
        match parse_one(&segment) {
            Some(phone) => found.push(phone),
            None => found.extend(split_on_spaces(&segment)),
        }
    }
    if !has_content {
        return Ok(None);
    }
    let best = found
        .iter()
        .position(|p| p.kind == PhoneKind::Mobile)
        .or(if found.is_empty() { None } else { Some(0) });
    match best {
        Some(i) => Ok(Some(found.swap_remove(i))),
        None => Err(PhoneError::Invalid(raw.to_string())),
    }
}

/// Reads a segment such as `13812345678 13912345678` as several numbers,
/// but only when every space-separated token is a valid number on its own.
fn split_on_spaces(segment: &str) -> Vec<Phone> {
    let parsed: Option<Vec<Phone>> = segment
        .split(is_blank)
        .filter(|t| !t.is_empty())
        .map(parse_one)
        .collect();
    parsed.unwrap_or_default()
}

/// "No number": blank, `0` (or `0.0` from a number cell), or one of the shared placeholders.
fn is_placeholder(text: &str) -> bool {
    let compact: String = text.chars().filter(|&c| !is_blank(c)).collect();
    let compact = compact.strip_suffix(".0").unwrap_or(&compact);
    compact.is_empty() || compact == "0" || super::is_placeholder(compact)
}

/// Drops a leading label ending in a colon, as in `手机:138…` or
/// `电话：0551-…`.
fn strip_label(segment: &str) -> &str {
    match segment.rfind(':') {
        Some(i) => &segment[i + 1..],
        None => segment,
    }
}

/// Removes bracketed notes that contain no digit (`(本人)`, `（父亲）`);
/// brackets around digits, as in `(0551)`, are kept for [`parse_one`].
fn drop_notes(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut rest = segment;
    while let Some(open) = rest.find('(') {
        let Some(len) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open + 1..open + len];
        out.push_str(&rest[..open]);
        if inner.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(&rest[open..=open + len]);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Parses one number, or gives `None`.
fn parse_one(text: &str) -> Option<Phone> {
    let trimmed = text.trim_matches(is_blank);
    let trimmed = trimmed.strip_suffix(".0").unwrap_or(trimmed);
    let mut digits = String::with_capacity(trimmed.len());
    let mut plus = false;
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            '-' | '.' | '(' | ')' | '—' | '–' | '_' => {}
            c if is_blank(c) => {}
            _ => return None,
        }
    }
    let mut international = false;
    let mut national = digits.as_str();
    if plus {
        national = national.strip_prefix("86")?;
        international = true;
    } else if let Some(rest) = national.strip_prefix("0086") {
        national = rest;
        international = true;
    } else if national.len() == 13 && national.starts_with("86") && is_mobile(&national[2..]) {
        national = &national[2..];
    }
    if is_mobile(national) {
        return Some(Phone {
            normalized: national.to_string(),
            kind: PhoneKind::Mobile,
        });
    }
    if let Some(mobile) = national.strip_prefix('0').filter(|m| is_mobile(m)) {
        return Some(Phone {
            normalized: mobile.to_string(),
            kind: PhoneKind::Mobile,
        });
    }
    let with_trunk;
    if international && !national.starts_with('0') {
        with_trunk = format!("0{national}");
        national = &with_trunk;
    }
    landline(national)
}

fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// Splits a landline into area code and local number: `010` and `02x`
/// area codes have three digits, the other `0xxx` codes four.
fn landline(digits: &str) -> Option<Phone> {
    let local_ok = |local: &str| (7..=8).contains(&local.len());
    if !digits.starts_with('0') {
        return local_ok(digits).then(|| Phone {
            normalized: digits.to_string(),
            kind: PhoneKind::Landline,
        });
    }
    let area_len = if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    };
    let (area, local) = (digits.get(..area_len)?, digits.get(area_len..)?);
    if area.starts_with("00") || !local_ok(local) || local.starts_with('0') {
        return None;
    }
    Some(Phone {
        normalized: format!("{area}-{local}"),
        kind: PhoneKind::Landline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mobile(n: &str) -> Option<Phone> {
        Some(Phone {
            normalized: n.to_string(),
            kind: PhoneKind::Mobile,
        })
    }

    fn land(n: &str) -> Option<Phone> {
        Some(Phone {
            normalized: n.to_string(),
            kind: PhoneKind::Landline,
        })
    }

    #[test]
    fn normalizes_table() {
        let m = "13812345678";
        let cases: &[(&str, Option<Phone>)] = &[
            ("13812345678", mobile(m)),
            (" 138 1234 5678 ", mobile(m)),
            ("138-1234-5678", mobile(m)),
            ("138.1234.5678", mobile(m)),
            ("１３８１２３４５６７８", mobile(m)),
            ("13812345678.0", mobile(m)),
            ("+8613812345678", mobile(m)),
            ("+86 138 1234 5678", mobile(m)),
            ("(+86)13812345678", mobile(m)),
            ("＋８６－１３８１２３４５６７８", mobile(m)),
            ("008613812345678", mobile(m)),
            ("8613812345678", mobile(m)),
            ("013812345678", mobile(m)),
            ("19912345678", mobile("19912345678")),
            ("手机:13812345678", mobile(m)),
            ("电话：13812345678", mobile(m)),
            ("13812345678(本人)", mobile(m)),
            ("13812345678（父亲）", mobile(m)),
            ("0551-62345678", land("0551-62345678")),
            ("055162345678", land("0551-62345678")),
            ("(0551)62345678", land("0551-62345678")),
            ("（0551）6234567", land("0551-6234567")),
            ("0551 6234 5678", land("0551-62345678")),
            ("0551-1234567", land("0551-1234567")),
            ("010-12345678", land("010-12345678")),
            ("01012345678", land("010-12345678")),
            ("021-62345678", land("021-62345678")),
            ("02162345678", land("021-62345678")),
            ("+86 551 62345678", land("0551-62345678")),
            ("+86-10-62345678", land("010-62345678")),
            ("62345678", land("62345678")),
            ("6234567", land("6234567")),
            ("62345678.0", land("62345678")),
            ("13812345678/0551-1234567", mobile(m)),
            ("0551-1234567/13812345678", mobile(m)),
            ("0551-1234567、13812345678", mobile(m)),
            ("0551-1234567，13812345678", mobile(m)),
            ("0551-1234567;13912345678", mobile("13912345678")),
            ("0551-62345678/0551-62345679", land("0551-62345678")),
            ("abc/13812345678", mobile(m)),
            ("无/13812345678", mobile(m)),
            ("13812345678 13912345678", mobile(m)),
            ("62345678 13912345678", mobile("13912345678")),
            ("", None),
            ("   ", None),
            ("无", None),
            ("暂无", None),
            ("-", None),
            ("/", None),
            ("0", None),
            ("0.0", None),
            ("N/A", None),
            ("无/无", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_phone(raw).as_ref(), Ok(want), "input {raw:?}");
        }
    }

    #[test]
    fn rejects_table() {
        for raw in [
            "12345",
            "12812345678",
            "1381234567",
            "138123456789",
            "abc",
            "1.38123E+10",
            "0000-1234567",
            "0551-123456",
            "0551-123456789",
            "0551-01234567",
            "138123x5678",
            "12345/678",
            "+1 415 5550100",
            "13812345678 abc",
        ] {
            assert_eq!(
                normalize_phone(raw),
                Err(PhoneError::Invalid(raw.to_string())),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn error_message() {
        assert_eq!(
            normalize_phone("12345").unwrap_err().to_string(),
            "\"12345\" is not a mobile or landline number"
        );
    }

    proptest! {
        #[test]
        fn mobiles_survive_formatting(
            m in "1[3-9][0-9]{9}",
            prefix in prop::sample::select(vec!["", "+86", "0086", "86", "+86 "]),
            sep in prop::sample::select(vec!["", " ", "-", "\u{3000}"]),
        ) {
            let text = format!("{prefix}{}{sep}{}{sep}{}", &m[..3], &m[3..7], &m[7..]);
            prop_assert_eq!(normalize_phone(&text), Ok(mobile(&m)), "text {}", text);
        }

        #[test]
        fn landlines_survive_formatting(area in "0[3-9][0-9]{2}", local in "[2-8][0-9]{6,7}") {
            let want = land(&format!("{area}-{local}"));
            prop_assert_eq!(normalize_phone(&format!("{area}-{local}")), Ok(want.clone()));
            prop_assert_eq!(normalize_phone(&format!("({area}){local}")), Ok(want.clone()));
            prop_assert_eq!(normalize_phone(&format!("{area}{local}")), Ok(want));
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}", d in "[0-9+()./ 、，;-]{0,30}") {
            for text in [&s, &d] {
                if let Ok(Some(p)) = normalize_phone(text) {
                    prop_assert!(p.normalized.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
                }
            }
        }
    }
}
