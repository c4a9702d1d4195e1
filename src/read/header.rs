//! Finding the header of an export: below title rows and blank rows, over one row or two (a
//! merged group cell above its sub-columns), and telling footer rows (合计, 制表人…) from data.
//!
//! Detection is driven by a vocabulary — a predicate saying whether a header text (with its
//! group label, for two-row headers) is a column name some mapping knows. The row, or pair of
//! rows, naming the most known columns is the header.

use super::CellValue;
use crate::normalize::names::{is_blank, to_half_width};

/// How many leading rows of a sheet are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 40;

/// One column of a detected header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderColumn {
    /// 0-based column index (A = 0).
    pub index: usize,
    /// The column's own header text as the officer wrote it (the lower row of a two-row header).
    pub label: String,
    /// The merged group cell above it in a two-row header (`患者信息`, `监护人`), if any.
    pub group: Option<String>,
}

impl HeaderColumn {
    /// The column name shown to officers in receipts and rejects: `group/label` or `label`.
    pub fn display_name(&self) -> String {
        match &self.group {
            Some(group) if group != &self.label => format!("{group}/{}", self.label),
            _ => self.label.clone(),
        }
    }
}

/// A detected header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Row numbers (as a person sees them) the header occupies: one or two.
    pub rows: Vec<u32>,
    /// Non-empty header columns, left to right.
    pub columns: Vec<HeaderColumn>,
    /// How many columns the vocabulary recognised.
    pub known: usize,
}

/// Turns header text into its comparable form: full-width → half-width, no whitespace or line
/// breaks, no `*` required-field marks or trailing colons, ASCII lower-case.
pub fn normalize_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = fold_bracket(to_half_width(c));
        if is_blank(c) || c == '*' {
            continue;
        }
        out.push(c.to_ascii_lowercase());
    }
    while out.ends_with(':') {
        out.pop();
    }
    out
}

/// Removes one trailing bracketed annotation such as `(元)` or `(必填)` from a normalized header.
pub fn strip_bracket_suffix(normalized: &str) -> Option<&str> {
    let trimmed = normalized.strip_suffix(')')?;
    let open = trimmed.rfind('(')?;
    let base = &normalized[..open];
    if base.is_empty() { None } else { Some(base) }
}

/// Lenticular and tortoise-shell brackets, used like parentheses in headers (`单位【元】`).
fn fold_bracket(c: char) -> char {
    match c {
        '【' | '〔' => '(',
        '】' | '〕' => ')',
        _ => c,
    }
}

fn text_of(cell: Option<&CellValue>) -> String {
    match cell {
        None => String::new(),
        Some(cell) => cell.display().trim().to_string(),
    }
}

/// Tells which known column name a header text (under an optional group) matches, if any.
pub type Known<'a> = &'a dyn Fn(Option<&str>, &str) -> Option<String>;

/// Counts the distinct known column names among columns.
fn count_known(columns: &[HeaderColumn], known: Known<'_>) -> usize {
    let mut names: Vec<String> = columns
        .iter()
        .filter_map(|c| known(c.group.as_deref(), &c.label))
        .collect();
    names.sort();
    names.dedup();
    names.len()
}

/// Detects the header among the first rows of a sheet. `rows` are `(row number, cells)`;
/// `known(group, label)` names the known column a header text matches. The row (or pair of
/// rows) naming the most distinct known columns wins; a group row above must add names its
/// lower row lacks (`监护人信息` over `姓名`), so a title row above the header is never taken
/// for one. Returns `None` when no row names at least two known columns (a notes sheet).
pub fn detect_header(rows: &[(u32, Vec<CellValue>)], known: Known<'_>) -> Option<Header> {
    let mut best: Option<Header> = None;
    let limit = rows.len().min(HEADER_SEARCH_ROWS);
    for i in 0..limit {
        let single = single_row_header(&rows[i], known);
        let candidates = if i + 1 < rows.len() && rows[i + 1].0 == rows[i].0 + 1 {
            let double = two_row_header(&rows[i], &rows[i + 1], known);
            let lower = single_row_header(&rows[i + 1], known);
            // A title row (one cell) above the header is not a group row.
            let top_cells = rows[i].1.iter().filter(|c| !c.is_blank()).count();
            let has_groups = double.columns.iter().any(|c| c.group.is_some());
            if top_cells >= 2
                && has_groups
                && double.known > single.known
                && double.known > lower.known
            {
                vec![double, single]
            } else {
                vec![single]
            }
        } else {
            vec![single]
        };
        for candidate in candidates {
            if candidate.known >= 2 && best.as_ref().is_none_or(|b| candidate.known > b.known) {
                best = Some(candidate);
            }
        }
    }
    best
}

fn single_row_header(row: &(u32, Vec<CellValue>), known: Known<'_>) -> Header {
    let columns: Vec<HeaderColumn> = row
        .1
        .iter()
        .enumerate()
        .filter(|(_, cell)| !cell.is_blank())
        .map(|(index, cell)| HeaderColumn {
            index,
            label: text_of(Some(cell)),
            group: None,
        })
        .collect();
    let known = count_known(&columns, known);
    Header {
        rows: vec![row.0],
        columns,
        known,
    }
}

fn two_row_header(
    top: &(u32, Vec<CellValue>),
    bottom: &(u32, Vec<CellValue>),
    known: Known<'_>,
) -> Header {
    let width = top.1.len().max(bottom.1.len());
    let mut columns = Vec::new();
    let mut group = String::new();
    for index in 0..width {
        let upper = text_of(top.1.get(index));
        let lower = text_of(bottom.1.get(index));
        if !upper.is_empty() {
            group = upper.clone();
        } else if lower.is_empty() {
            group.clear();
        }
        // A merged group cell spreads right over the empty top cells of its sub-columns.
        match (upper.is_empty(), lower.is_empty()) {
            (_, false) => columns.push(HeaderColumn {
                index,
                label: lower,
                group: if group.is_empty() {
                    None
                } else {
                    Some(group.clone())
                },
            }),
            (false, true) => columns.push(HeaderColumn {
                index,
                label: upper,
                group: None,
            }),
            (true, true) => {}
        }
    }
    let known = count_known(&columns, known);
    Header {
        rows: vec![top.0, bottom.0],
        columns,
        known,
    }
}

impl Header {
    /// A one-row header of plain labels, for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn of_labels(labels: &[&str]) -> Header {
        Header {
            rows: vec![1],
            columns: labels
                .iter()
                .enumerate()
                .map(|(index, label)| HeaderColumn {
                    index,
                    label: label.to_string(),
                    group: None,
                })
                .collect(),
            known: labels.len(),
        }
    }
}

/// Words that open a totals row, whatever else the row holds.
const TOTAL_WORDS: &[&str] = &["合计", "小计", "总计", "累计", "共计"];

/// Words that open a short footer row: signatures, dates of the table, notes.
const FOOTER_WORDS: &[&str] = &[
    "制表人",
    "制表",
    "审核人",
    "审核",
    "填表人",
    "填报人",
    "负责人",
    "统计人",
    "单位负责人",
    "制表日期",
    "填表日期",
    "填报日期",
    "报送日期",
    "联系人:",
    "备注:",
    "说明:",
    "注:",
];

/// Whether a row after the header is a footer (totals, signatures, notes) and not data.
pub fn is_footer(cells: &[CellValue]) -> bool {
    let opens_with = |text: &str, words: &[&str]| words.iter().any(|w| text.starts_with(w));
    // cheap test first, without allocating: one of the first filled cells is text whose first
    // character opens a footer word
    let opens_like_footer = cells
        .iter()
        .filter(|c| !c.is_blank())
        .take(3)
        .any(|cell| match cell {
            CellValue::Text(text) => text.trim_start().chars().next().is_some_and(|c| {
                TOTAL_WORDS
                    .iter()
                    .chain(FOOTER_WORDS)
                    .any(|w| w.starts_with(c))
            }),
            _ => false,
        });
    if !opens_like_footer {
        return false;
    }
    let filled: Vec<&CellValue> = cells.iter().filter(|c| !c.is_blank()).collect();
    let Some(first) = filled.first() else {
        return false;
    };
    if opens_with(&normalize_header(&first.display()), TOTAL_WORDS) {
        return true;
    }
    filled.len() <= 4
        && filled.iter().take(3).any(|cell| {
            let text = normalize_header(&cell.display());
            opens_with(&text, TOTAL_WORDS) || opens_with(&text, FOOTER_WORDS)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: u32, cells: &[&str]) -> (u32, Vec<CellValue>) {
        let cells = cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    CellValue::Empty
                } else {
                    CellValue::Text(c.to_string())
                }
            })
            .collect();
        (number, cells)
    }

    fn known(group: Option<&str>, label: &str) -> Option<String> {
        let label = normalize_header(label);
        let words = [
            "姓名",
            "身份证号",
            "性别",
            "总费用",
            "个人自付",
            "入院日期",
            "监护人姓名",
        ];
        if let Some(group) = group {
            let combined = format!(
                "{}{}",
                normalize_header(group).trim_end_matches("信息"),
                label
            );
            if words.contains(&combined.as_str()) {
                return Some(combined);
            }
        }
        words.contains(&label.as_str()).then_some(label)
    }

    #[test]
    fn header_found_below_title_and_blank_rows() {
        let rows = vec![
            row(1, &["定远县2026年10月住院费用结算明细表"]),
            row(2, &["填报单位：定远县医保局", "", "单位：元"]),
            row(4, &["序号", "姓名", "身份证号", "入院日期", "个人自付"]),
            row(5, &["1", "张三", "340000", "2026-01-02", "100"]),
        ];
        let header = detect_header(&rows, &known).unwrap();
        assert_eq!(header.rows, vec![4]);
        assert_eq!(header.known, 4);
        assert_eq!(header.columns[1].label, "姓名");
    }

    #[test]
    fn two_row_header_with_merged_group_cells() {
        let rows = vec![
            row(1, &["住院费用结算明细"]),
            row(2, &["患者信息", "", "", "费用情况（元）", ""]),
            row(3, &["姓名", "身份证号", "性别", "总费用", "个人自付"]),
            row(4, &["张三", "340000", "男", "1000", "100"]),
        ];
        let header = detect_header(&rows, &known).unwrap();
        assert_eq!(
            header.rows,
            vec![3],
            "groups adding no column names leave the single row"
        );
        let rows = vec![
            row(1, &["住院费用结算明细"]),
            row(2, &["姓名", "身份证号", "性别", "总费用", "个人自付"]),
        ];
        let header = detect_header(&rows, &known).unwrap();
        assert_eq!(header.rows, vec![2], "a title row is not a group row");
        assert_eq!(header.columns[0].group, None);
        let rows = vec![
            row(1, &["填报单位：定远县医保局", "", "", "单位：元"]),
            row(2, &["姓名", "身份证号", "性别", "总费用", "个人自付"]),
        ];
        assert_eq!(
            detect_header(&rows, &known).unwrap().rows,
            vec![2],
            "nor is a unit line"
        );
        let rows = vec![
            row(1, &["序号", "姓名", "身份证号", "住院信息", "", ""]),
            row(2, &["", "", "", "入院日期", "总费用", "个人自付"]),
            row(3, &["1", "张三", "340000", "2026-01-02", "100", "50"]),
        ];
        let header = detect_header(&rows, &known).unwrap();
        assert_eq!(header.rows, vec![1, 2]);
        assert_eq!(header.known, 5);
        assert_eq!(header.columns[4].display_name(), "住院信息/总费用");
        let rows = vec![
            row(2, &["序号", "学生信息", "", "监护人信息", ""]),
            row(3, &["", "姓名", "身份证号", "姓名", "电话"]),
            row(4, &["1", "张三", "340000", "张大", "138"]),
        ];
        let header = detect_header(&rows, &known).unwrap();
        assert_eq!(header.rows, vec![2, 3]);
        assert_eq!(header.columns[0].label, "序号");
        assert_eq!(header.columns[3].group.as_deref(), Some("监护人信息"));
        assert_eq!(header.columns[3].display_name(), "监护人信息/姓名");
    }

    #[test]
    fn no_header_in_a_notes_sheet() {
        let rows = vec![
            row(1, &["填表说明"]),
            row(2, &["1. 身份证号请以文本格式填写"]),
        ];
        assert!(detect_header(&rows, &known).is_none());
    }

    #[test]
    fn footers_are_recognised_and_data_is_not() {
        let footer = |cells: &[&str]| is_footer(&row(1, cells).1);
        assert!(footer(&["合计", "", "", "12345.00"]));
        assert!(footer(&["", "合  计", "", "3", "12345.00"]));
        assert!(footer(&[
            "制表人：李四",
            "",
            "审核人：王五",
            "制表日期：2026年11月2日"
        ]));
        assert!(!footer(&["1", "张三", "340000", "2026-01-02", "100"]));
        assert!(!footer(&[]));
    }

    #[test]
    fn header_text_normalization() {
        assert_eq!(normalize_header(" 自付金额\n（元）* "), "自付金额(元)");
        assert_eq!(strip_bracket_suffix("自付金额(元)"), Some("自付金额"));
        assert_eq!(normalize_header("ＩＤ："), "id");
    }
}
