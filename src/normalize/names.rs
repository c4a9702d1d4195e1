//! Person names: cleaning of name cells (invisible spaces, full-width forms,
//! middle-dot variants in minority names, bracketed annotations) and a
//! plausibility check.
//!
//! It also owns the small character helpers ([`to_half_width`],
//! [`is_blank`], [`is_cjk`]) that the sibling normalizers share.

use serde::{Deserialize, Serialize};

/// The canonical middle dot (U+00B7) used between the parts of a
/// transliterated minority or foreign name, as in `买买提·艾力`.
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Longest name, in characters, that [`is_plausible_name`] accepts.
pub const MAX_NAME_CHARS: usize = 30;

/// A cleaned person name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    /// The cell text exactly as it was read.
    pub raw: String,
    /// The cleaned name, used for comparison and linking.
    pub normalized: String,
}

/// Maps a full-width ASCII form (U+FF01..=U+FF5E) to its half-width
/// counterpart and the ideographic space (U+3000) to a plain space; every
/// other character is returned unchanged.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// True for characters that typists leave by accident and that carry no
/// meaning: Unicode whitespace (including U+3000 and NBSP) and the
/// zero-width / formatting characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM,
/// soft hyphen, Mongolian vowel separator).
pub fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'
                | '\u{200C}'
                | '\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
                | '\u{00AD}'
                | '\u{180E}'
        )
}

/// True for CJK ideographs (the unified blocks, their extensions, the
/// compatibility blocks) and `〇`.
pub fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{3007}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2A6DF}'
            | '\u{2A700}'..='\u{2EBEF}'
            | '\u{2F800}'..='\u{2FA1F}'
            | '\u{30000}'..='\u{323AF}'
    )
}

/// True for Latin letters: ASCII letters and the letters of Latin-1
/// Supplement and Latin Extended-A/B (so `é` and `ü` count).
pub fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(c, '\u{00C0}'..='\u{024F}') && c != '\u{00D7}' && c != '\u{00F7}')
}

/// Dot-like characters that are always a name separator when they appear in
/// a name.
fn is_dot_variant(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}' // · middle dot
            | '\u{0387}' // · greek ano teleia (looks identical)
            | '\u{2022}' // • bullet
            | '\u{2027}' // ‧ hyphenation point
            | '\u{2219}' // ∙ bullet operator
            | '\u{22C5}' // ⋅ dot operator
            | '\u{30FB}' // ・ katakana middle dot
            | '\u{FF65}' // ･ half-width katakana middle dot
            | '\u{318D}' // ㆍ hangul araea
    )
}

/// Cleans a name cell.
///
/// The normalized form has every whitespace and zero-width character removed
/// (a single space is kept only between two Latin letters, so `John Smith`
/// stays readable), full-width ASCII folded to half-width, bracketed
/// annotations such as `（已故）` or `(户主)` removed, and the middle-dot
/// variants (`·`, `・`, `•`, `‧`, `･`, and `.`/`．` between CJK characters)
/// unified to U+00B7, with repeated, leading and trailing dots dropped.
///
/// Returns `None` when nothing is left after cleaning.
pub fn normalize_name(raw: &str) -> Option<PersonName> {
    let folded: Vec<char> = raw.chars().map(to_half_width).collect();
    let unbracketed = strip_brackets(&folded);
    let spaced = squeeze_spaces(&unbracketed);
    let dotted = unify_dots(&spaced);
    if dotted.is_empty() {
        return None;
    }
    Some(PersonName {
        raw: raw.to_string(),
        normalized: dotted.into_iter().collect(),
    })
}

/// Removes `(…)` and `[…]`/`【…】` annotations (nesting allowed). An opening
/// bracket that is never closed removes the rest of the text; a stray
/// closing bracket is dropped.
fn strip_brackets(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    let mut depth = 0usize;
    for &c in chars {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Drops blank characters, keeping one space only between two Latin letters.
fn squeeze_spaces(chars: &[char]) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut pending_space = false;
    for &c in chars {
        if is_blank(c) {
            pending_space = true;
            continue;
        }
        if pending_space && is_latin_letter(c) && out.last().is_some_and(|&p| is_latin_letter(p)) {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Unifies dot variants to [`MIDDLE_DOT`], collapsing runs and trimming the
/// ends. An ASCII `.` counts as a dot only between CJK characters.
fn unify_dots(chars: &[char]) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let is_dot = is_dot_variant(c) || (c == '.' && ascii_dot_between_cjk(chars, i));
        if is_dot {
            if out.last().is_some_and(|&p| p != MIDDLE_DOT) {
                out.push(MIDDLE_DOT);
            }
        } else {
            out.push(c);
        }
    }
    while out.last() == Some(&MIDDLE_DOT) {
        out.pop();
    }
    out
}

/// True when the `.` at `i` sits between CJK characters, looking past any
/// neighbouring dots so that `买买提..艾力` also qualifies.
fn ascii_dot_between_cjk(chars: &[char], i: usize) -> bool {
    let is_any_dot = |c: char| c == '.' || is_dot_variant(c);
    let before = chars[..i].iter().rev().find(|&&c| !is_any_dot(c));
    let after = chars[i + 1..].iter().find(|&&c| !is_any_dot(c));
    matches!((before, after), (Some(&b), Some(&a)) if is_cjk(b) && is_cjk(a))
}

/// True when `n` looks like a person's name: at least one CJK or Latin
/// letter, no digits of any script (`〇` is allowed), and at most [`MAX_NAME_CHARS`]
/// characters.
pub fn is_plausible_name(n: &str) -> bool {
    let mut count = 0usize;
    let mut has_letter = false;
    for c in n.chars() {
        count += 1;
        // 〇 is numeric to Unicode but also a (rare) name character.
        if c.is_numeric() && c != '\u{3007}' {
            return false;
        }
        has_letter |= is_cjk(c) || is_latin_letter(c);
    }
    has_letter && count <= MAX_NAME_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(raw: &str) -> Option<String> {
        normalize_name(raw).map(|n| n.normalized)
    }

    #[test]
    fn normalizes_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("张三", Some("张三")),
            ("  张三  ", Some("张三")),
            ("张 三", Some("张三")),
            ("张\u{3000}三", Some("张三")),
            ("张\u{00A0}三", Some("张三")),
            ("\u{200B}张三\u{FEFF}", Some("张三")),
            ("张\t三\n", Some("张三")),
            ("张三（已故）", Some("张三")),
            ("张三(户主)", Some("张三")),
            ("张三 （户主） ", Some("张三")),
            ("张三【重复】", Some("张三")),
            ("张三(已故", Some("张三")),
            ("张三)", Some("张三")),
            ("（户主）", None),
            ("买买提·艾力", Some("买买提·艾力")),
            ("买买提・艾力", Some("买买提·艾力")),
            ("买买提•艾力", Some("买买提·艾力")),
            ("买买提‧艾力", Some("买买提·艾力")),
            ("买买提.艾力", Some("买买提·艾力")),
            ("买买提．艾力", Some("买买提·艾力")),
            ("买买提･艾力", Some("买买提·艾力")),
            ("买买提 · 艾力", Some("买买提·艾力")),
            ("买买提··艾力", Some("买买提·艾力")),
            ("买买提..艾力", Some("买买提·艾力")),
            ("·买买提·", Some("买买提")),
            ("阿不都·热合曼·买买提", Some("阿不都·热合曼·买买提")),
            ("ＬＩ　Ｌｅｉ", Some("LI Lei")),
            ("John  Smith", Some("John Smith")),
            ("J. Smith", Some("J.Smith")),
            ("", None),
            ("   ", None),
            ("\u{3000}\u{200B}", None),
            ("·", None),
        ];
        for (raw, want) in cases {
            assert_eq!(norm(raw).as_deref(), *want, "input {raw:?}");
        }
    }

    #[test]
    fn raw_is_kept() {
        let n = normalize_name(" 张三（已故） ");
        assert_eq!(
            n,
            Some(PersonName {
                raw: " 张三（已故） ".to_string(),
                normalized: "张三".to_string()
            })
        );
    }

    #[test]
    fn plausibility_table() {
        let cases: &[(&str, bool)] = &[
            ("张三", true),
            ("买买提·艾力", true),
            ("John Smith", true),
            ("José", true),
            ("王〇", true),
            ("𠀀林", true),
            ("张三1", false),
            ("张三１", false),
            ("12345", false),
            ("", false),
            ("·", false),
            ("---", false),
            (&"张".repeat(30), true),
            (&"张".repeat(31), false),
        ];
        for (name, want) in cases {
            assert_eq!(is_plausible_name(name), *want, "input {name:?}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(to_half_width('Ａ'), 'A');
        assert_eq!(to_half_width('０'), '0');
        assert_eq!(to_half_width('～'), '~');
        assert_eq!(to_half_width('\u{3000}'), ' ');
        assert_eq!(to_half_width('张'), '张');
        assert!(is_blank('\u{200D}'));
        assert!(!is_blank('a'));
        assert!(is_cjk('张'));
        assert!(!is_cjk('a'));
        assert!(is_latin_letter('é'));
        assert!(!is_latin_letter('×'));
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,40}") {
            if let Some(n) = normalize_name(&s) {
                prop_assert!(!n.normalized.is_empty());
                prop_assert!(!n.normalized.chars().any(|c| is_blank(c) && c != ' '));
                let again = normalize_name(&n.normalized).map(|m| m.normalized);
                prop_assert_eq!(again, Some(n.normalized.clone()));
            }
            let _ = is_plausible_name(&s);
        }

        #[test]
        fn cjk_names_survive_noise(name in "[\u{4E00}-\u{9FA5}]{1,4}", pad in "[ \u{3000}\u{00A0}\u{200B}]{0,3}") {
            let raw = format!("{pad}{name}{pad}（已故）");
            prop_assert_eq!(norm(&raw), Some(name.clone()));
            prop_assert!(is_plausible_name(&name));
        }
    }
}
