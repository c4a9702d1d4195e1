//! Normalizers for the values department exports carry: each turns the text an officer typed
//! (or the number Excel stored) into one canonical form, keeping the raw text, and says why
//! when it cannot.

pub mod addresses;
pub mod dates;
pub mod gender;
pub mod id_number;
pub mod money;
pub mod names;
pub mod phones;

/// What officers type for "nothing here", in any column. Compared with blanks removed,
/// full-width forms folded and ASCII lower-cased.
pub const PLACEHOLDERS: &[&str] = &[
    "/", "\\", "-", "--", "---", "—", "——", "无", "暂无", "没有", "不详", "未知", "空", "null",
    "none", "n/a", "na",
];

/// Whether `text` is one of the [`PLACEHOLDERS`]. Runs for every text cell, so it does not
/// allocate; the empty string is not a placeholder (callers treat blanks themselves).
pub fn is_placeholder(text: &str) -> bool {
    let text = text.trim_matches(names::is_blank);
    if text.is_empty() || text.len() > 24 {
        return false;
    }
    let folded = || {
        text.chars()
            .filter(|&c| !names::is_blank(c))
            .map(|c| names::to_half_width(c).to_ascii_lowercase())
    };
    PLACEHOLDERS.iter().any(|p| folded().eq(p.chars()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
