//! Gender: the [`Gender`] value shared by every normalizer and parsing of the
//! ways spreadsheets spell it (`男`, `女性`, `M`, `female`, `1`/`2` codes, in
//! half- or full-width forms).

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::names::{is_blank, to_half_width};

/// A person's gender as recorded in the source data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Gender {
    /// The stable English code: `"male"` or `"female"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    /// The Chinese form used in the source sheets: `"男"` or `"女"`.
    pub fn as_chinese(&self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a gender cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenderError {
    /// The cell holds something that is not a known spelling of a gender.
    #[error("unrecognised gender \"{0}\"")]
    Unrecognised(String),
}

/// Parses a gender cell.
///
/// Surrounding whitespace (including U+3000 and zero-width characters) is
/// ignored and full-width letters and digits are folded to half-width.
/// Accepted, case-insensitively: `男`, `男性`, `m`, `male`, `1` for
/// [`Gender::Male`]; `女`, `女性`, `f`, `female`, `2` for
/// [`Gender::Female`]. An empty cell gives `Ok(None)`. Anything else,
/// including `0`, is an error carrying the original text.
pub fn parse_gender(raw: &str) -> Result<Option<Gender>, GenderError> {
    let cleaned: String = raw
        .chars()
        .map(to_half_width)
        .filter(|&c| !is_blank(c))
        .collect::<String>()
        .to_lowercase();
    match cleaned.as_str() {
        "" => Ok(None),
        "男" | "男性" | "m" | "male" | "1" => Ok(Some(Gender::Male)),
        "女" | "女性" | "f" | "female" | "2" => Ok(Some(Gender::Female)),
        _ => Err(GenderError::Unrecognised(raw.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_table() {
        use Gender::{Female, Male};
        let cases: &[(&str, Option<Gender>)] = &[
            ("男", Some(Male)),
            ("女", Some(Female)),
            ("男性", Some(Male)),
            ("女性", Some(Female)),
            (" 男 ", Some(Male)),
            ("\u{3000}女\u{3000}", Some(Female)),
            ("\u{200B}男", Some(Male)),
            ("M", Some(Male)),
            ("m", Some(Male)),
            ("F", Some(Female)),
            ("f", Some(Female)),
            ("male", Some(Male)),
            ("Male", Some(Male)),
            ("FEMALE", Some(Female)),
            ("1", Some(Male)),
            ("2", Some(Female)),
            ("１", Some(Male)),
            ("２", Some(Female)),
            ("Ｍ", Some(Male)),
            ("ｆ", Some(Female)),
            ("ｍａｌｅ", Some(Male)),
            ("", None),
            ("   ", None),
            ("\u{3000}", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_gender(raw), Ok(*want), "input {raw:?}");
        }
    }

    #[test]
    fn rejects_table() {
        for raw in ["0", "3", "x", "男女", "未知", "man", "1.0", "-"] {
            assert_eq!(
                parse_gender(raw),
                Err(GenderError::Unrecognised(raw.to_string())),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn error_message() {
        let err = parse_gender("x").unwrap_err();
        assert_eq!(err.to_string(), "unrecognised gender \"x\"");
    }

    #[test]
    fn strings() {
        assert_eq!(Gender::Male.as_str(), "male");
        assert_eq!(Gender::Female.as_str(), "female");
        assert_eq!(Gender::Male.as_chinese(), "男");
        assert_eq!(Gender::Female.as_chinese(), "女");
        assert_eq!(Gender::Female.to_string(), "female");
        for g in [Gender::Male, Gender::Female] {
            assert_eq!(parse_gender(g.as_str()), Ok(Some(g)));
            assert_eq!(parse_gender(g.as_chinese()), Ok(Some(g)));
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = parse_gender(&s);
        }
    }
}
