//! Normalizers for the values department exports carry: each turns the text an officer typed
//! (or the number Excel stored) into one canonical form, keeping the raw text, and says why
//! when it cannot.

pub mod addresses;
pub mod dates;
pub mod gender;
pub mod id_number;
pub mod kinship;
pub mod money;
pub mod names;
pub mod phones;

/// What officers type for "nothing here", in any column. Compared with blanks removed,
/// full-width forms folded and ASCII lower-cased.
pub const PLACEHOLDERS: &[&str] = &[
    "/", "\\", "-", "--", "---", "—", "——", "无", "暂无", "没有", "不详", "未知", "空", "null",
    "none", "n/a", "na",
];

/// Characters of the longest of the [`PLACEHOLDERS`].
const LONGEST_PLACEHOLDER: usize = 4;

/// Whether `text` is one of the [`PLACEHOLDERS`]. Runs for every text cell, so it does not
/// allocate; the empty string is not a placeholder (callers treat blanks themselves).
pub fn is_placeholder(text: &str) -> bool {
    // a name or a date is longer than any placeholder: most cells stop here, untrimmed
    let padded = text.starts_with(names::is_blank) || text.ends_with(names::is_blank);
    if !padded && text.len() > 24 {
        return false;
    }
    let text = text.trim_matches(names::is_blank);
    if text.is_empty() || text.len() > 24 {
        return false;
    }
    // folded once; a name, an ID number or a date is longer than any placeholder and stops here
    let mut folded = ['\0'; LONGEST_PLACEHOLDER];
    let mut len = 0;
    for c in text.chars().filter(|&c| !names::is_blank(c)) {
        if len == LONGEST_PLACEHOLDER {
            return false;
        }
        folded[len] = names::to_half_width(c).to_ascii_lowercase();
        len += 1;
    }
    let folded = &folded[..len];
    PLACEHOLDERS
        .iter()
        .any(|p| p.chars().eq(folded.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_placeholder_is_longer_than_the_folding_buffer() {
        let longest = PLACEHOLDERS.iter().map(|p| p.chars().count()).max();
        assert_eq!(longest, Some(LONGEST_PLACEHOLDER));
        assert!(is_placeholder("N / A "));
        assert!(!is_placeholder("nones"));
        assert!(!is_placeholder("34112519850403211X"));
    }

    #[test]
    fn placeholders_match_across_widths_cases_and_blanks() {
        for text in [
            "/",
            "无",
            " 暂无 ",
            "-",
            "——",
            "N/A",
            "ＮＵＬＬ",
            "不 详",
            "\\",
        ] {
            assert!(is_placeholder(text), "{text}");
        }
        for text in ["", "0", "王无忌", "1/2", "无锡市"] {
            assert!(!is_placeholder(text), "{text}");
        }
    }
}
