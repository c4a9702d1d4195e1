//! One spreadsheet cell as lifeline sees it, whatever format it came from.

use chrono::NaiveDateTime;

/// A cell value. Numbers keep their type: an ID number typed as a number stays a
/// [`CellValue::Float`] so that its lost precision can be recognised downstream.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CellValue {
    /// No value.
    #[default]
    Empty,
    /// Text.
    Text(String),
    /// A whole number stored as an integer.
    Int(i64),
    /// A number stored as floating point (Excel stores every number this way).
    Float(f64),
    /// TRUE / FALSE.
    Bool(bool),
    /// A date or date-time cell.
    DateTime(NaiveDateTime),
    /// An error cell such as `#N/A` or `#REF!`.
    Error(String),
}

impl CellValue {
    /// Whether the cell holds nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(text) => text.chars().all(char::is_whitespace),
            _ => false,
        }
    }

    /// The cell as a person would read it in the sheet; integers without `.0`, dates as
    /// `YYYY-MM-DD` (with time when it is not midnight).
    pub fn display(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(text) => text.clone(),
            CellValue::Int(value) => value.to_string(),
            CellValue::Float(value) => format_float(*value),
            CellValue::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_string(),
            CellValue::DateTime(value) => {
                if value.time() == chrono::NaiveTime::MIN {
                    value.date().format("%Y-%m-%d").to_string()
                } else {
                    value.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
            CellValue::Error(error) => error.clone(),
        }
    }
}

/// Formats a float as Excel's General format shows it: integral values without a fraction,
/// values of 1e15 and above in scientific notation with 15 significant digits.
pub fn format_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else if value.is_finite() && value.abs() >= 1e15 {
        let formatted = format!("{:.14E}", value);
        // 3.41125198504039E17 -> 3.41125198504039E+17, trailing zeros of the mantissa trimmed
        match formatted.split_once('E') {
            Some((mantissa, exponent)) => {
                let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
                let exponent = exponent.trim_start_matches('+');
                let sign = if exponent.starts_with('-') { "" } else { "+" };
                format!("{mantissa}E{sign}{exponent}")
            }
            None => formatted,
        }
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_display_like_excel_general_format() {
        assert_eq!(format_float(341125198504039000.0), "3.41125198504039E+17");
        assert_eq!(format_float(13812345678.0), "13812345678");
        assert_eq!(format_float(1234.5), "1234.5");
    }

    #[test]
    fn blank_cells_include_whitespace_text() {
        assert!(CellValue::Text(" \u{3000}".into()).is_blank());
        assert!(!CellValue::Int(0).is_blank());
    }
}
