//! What a `masked` key (a charity partner) may see of a person: ID numbers as their first six
//! and last four characters (`341125********123X`), phones as `138****1234`, names as the
//! surname and one `*` per character of the given name (`张*`, `欧阳**`), a birth year instead
//! of a birth date; never a diagnosis, an amount, an address or other free text.
//!
//! Registry rows (the change feed, snapshots) are masked by an allowlist per entity: a column
//! not named here is dropped, so a column added to the registry later stays hidden from
//! partners until someone decides it may be shown.

use serde_json::{Map, Value};

/// `341125198504031234` → `341125********1234`; anything else that is not a full ID number
/// keeps at most its first six and last four characters too.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// `13812341234` → `138****1234`; a shorter number keeps only its last four digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() >= 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
    } else if chars.len() > 4 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{}{tail}", "*".repeat(chars.len() - 4))
    } else {
        "*".repeat(chars.len())
    }
}

/// `张三` → `张*`, `欧阳修文` → `欧阳**`, `Ayşe` → `A***`.
pub fn mask_name(name: &str) -> String {
    let count = name.chars().count();
    let keep = match crate::linkage::chinese::surname(name) {
        Some(surname) if count > 1 => surname.chars().count().min(count - 1),
        _ => 1.min(count),
    };
    let head: String = name.chars().take(keep).collect();
    format!("{head}{}", "*".repeat(count - keep))
}

/// `1985-04-03` → `1985`.
pub fn mask_birth_date(date: &str) -> String {
    date.chars().take(4).collect()
}

/// How a column of a registry row is shown to a masked key.
#[derive(Clone, Copy)]
enum Shown {
    /// As it is.
    Plain,
    /// Through [`mask_name`].
    Name,
    /// Through [`mask_id_number`].
    IdNumber,
    /// Through [`mask_phone`].
    Phone,
    /// Through [`mask_birth_date`].
    BirthYear,
}

/// The columns of each entity a masked key sees; every other column is dropped.
fn allowlist(entity: &str) -> &'static [(&'static str, Shown)] {
    use Shown::*;
    match entity {
        "person" => &[
            ("person_id", Plain),
            ("household_id", Plain),
            ("household_role", Plain),
            ("name", Name),
            ("id_number", IdNumber),
            ("gender", Plain),
            ("birth_date", BirthYear),
            ("phone", Phone),
            ("region_code", Plain),
            ("mentions", Plain),
            ("created_at", Plain),
            ("updated_at", Plain),
        ],
        "household" => &[
            ("household_id", Plain),
            ("head_person_id", Plain),
            ("region_code", Plain),
            ("township", Plain),
            ("village", Plain),
            ("members", Plain),
            ("created_at", Plain),
            ("updated_at", Plain),
        ],
        // no reasons (they quote amounts and diagnoses), no assignee or dismissal text
        "flag" => &[
            ("flag_id", Plain),
            ("household_id", Plain),
            ("level", Plain),
            ("level_rank", Plain),
            ("score", Plain),
            ("rules", Plain),
            ("covered", Plain),
            ("person_ids", Plain),
            ("region_code", Plain),
            ("county", Plain),
            ("township", Plain),
            ("village", Plain),
            ("responsible_unit", Plain),
            ("status", Plain),
            ("rule_set_version", Plain),
            ("opened_on", Plain),
            ("due_date", Plain),
            ("closed_on", Plain),
            ("created_at", Plain),
            ("updated_at", Plain),
        ],
        "evidence" => &[
            ("flag_id", Plain),
            ("record_id", Plain),
            ("rule", Plain),
            ("person_id", Plain),
            ("added_on", Plain),
        ],
        // no note (free text) and no actor (an officer's name)
        "case_event" => &[
            ("id", Plain),
            ("flag_id", Plain),
            ("at", Plain),
            ("on_date", Plain),
            ("action", Plain),
            ("from_status", Plain),
            ("to_status", Plain),
            ("from_unit", Plain),
            ("to_unit", Plain),
            ("level", Plain),
        ],
        // no reason (it quotes names and ID numbers)
        "identity" => &[
            ("id", Plain),
            ("changed_at", Plain),
            ("kind", Plain),
            ("subject_id", Plain),
            ("other_id", Plain),
        ],
        _ => &[],
    }
}

/// A registry row of `entity` as a masked key sees it.
pub fn mask_row(entity: &str, row: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (column, shown) in allowlist(entity) {
        let Some(value) = row.get(*column) else {
            continue;
        };
        let value = match (shown, value) {
            (Shown::Plain, v) => v.clone(),
            (_, Value::Null) => Value::Null,
            (Shown::Name, Value::String(s)) => Value::String(mask_name(s)),
            (Shown::IdNumber, Value::String(s)) => Value::String(mask_id_number(s)),
            (Shown::Phone, Value::String(s)) => Value::String(mask_phone(s)),
            (Shown::BirthYear, Value::String(s)) => Value::String(mask_birth_date(s)),
            // a value of an unexpected type is not shown rather than shown unmasked
            (_, _) => Value::Null,
        };
        out.insert(column.to_string(), value);
    }
    out
}

/// Whether `text` holds a run of 17 digits followed by a digit or X: a full ID number.
pub fn contains_full_id_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut run = 0;
    for &b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 18 {
                return true;
            }
        } else if (b == b'X' || b == b'x') && run >= 17 {
            return true;
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_keep_six_and_four() {
        assert_eq!(mask_id_number("34112519850403123X"), "341125********123X");
        assert_eq!(mask_id_number("341125850403123"), "341125*****3123");
        assert_eq!(mask_id_number("12345"), "*****");
        assert!(!contains_full_id_number(&mask_id_number(
            "341125198504031234"
        )));
    }

    #[test]
    fn phones_keep_three_and_four() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("05516543210"), "055****3210");
        assert_eq!(mask_phone("6543210"), "***3210");
        assert_eq!(mask_phone("110"), "***");
    }

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("欧阳修文"), "欧阳**");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name("Ayse"), "A***");
    }

    #[test]
    fn rows_show_only_allowed_columns() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"person_id":"P1","name":"王小明","id_number":"34112519850403123X",
                "phone":"13812341234","address":"城关镇幸福路8号","birth_date":"1985-04-03",
                "secret_new_column":"x"}"#,
        )
        .unwrap();
        let masked = mask_row("person", &row);
        assert_eq!(masked["name"], "王**");
        assert_eq!(masked["id_number"], "341125********123X");
        assert_eq!(masked["phone"], "138****1234");
        assert_eq!(masked["birth_date"], "1985");
        assert!(!masked.contains_key("address"), "free text is dropped");
        assert!(
            !masked.contains_key("secret_new_column"),
            "unknown columns are dropped"
        );
        assert!(mask_row("unknown_entity", &row).is_empty());
    }

    #[test]
    fn full_id_numbers_are_found_in_text() {
        assert!(contains_full_id_number(r#"{"id":"341125198504031234"}"#));
        assert!(contains_full_id_number("x34112519850403123Xy"));
        assert!(!contains_full_id_number("34112519850403123"));
        assert!(!contains_full_id_number("341125********1234"));
    }
}
