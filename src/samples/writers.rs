//! Writes planned exports to disk: CSV in UTF-8, UTF-8 with BOM or GBK, and
//! xlsx workbooks (typed cells, real date cells, merged title and header
//! cells, `=SUM()` formulas with cached results, hidden sheets).
//!
//! xlsx workbooks are written in rust_xlsxwriter's standard mode; the layout
//! keeps them small (large runs write CSV), so memory stays bounded.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet,
};

use super::SampleError;

/// Number format of a numeric xlsx cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFmt {
    /// Excel's General (an 18-digit ID shows as `3.41125E+17`).
    General,
    /// `0`.
    Integer,
    /// `#,##0.00`.
    Money,
}

/// One cell of a planned sheet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing.
    Empty,
    /// A string.
    Text(String),
    /// A number with its format.
    Num(f64, NumFmt),
    /// A real date cell (xlsx) with its Excel number format.
    Date(NaiveDate, &'static str),
    /// A formula (without `=`) and its cached result.
    Formula(String, f64),
}

impl Cell {
    /// The text a CSV export shows for the cell.
    pub(crate) fn csv_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Num(v, _) | Cell::Formula(_, v) => num_text(*v),
            Cell::Date(d, _) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        }
    }
}

fn num_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A merged range (0-based, inclusive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Merge {
    /// First row.
    pub row: u32,
    /// First column.
    pub col: u16,
    /// Last row.
    pub last_row: u32,
    /// Last column.
    pub last_col: u16,
}

/// One planned sheet.
#[derive(Debug, Default)]
pub(crate) struct SheetPlan {
    /// Sheet name.
    pub name: String,
    /// Hidden sheet.
    pub hidden: bool,
    /// Rows; row `i` is row `i + 1` as a person sees it.
    pub rows: Vec<Vec<Cell>>,
    /// Merged ranges (xlsx only).
    pub merges: Vec<Merge>,
    /// Title rows (big bold).
    pub title_rows: Vec<u32>,
    /// Header rows (bold, bordered).
    pub header_rows: Vec<u32>,
}

/// Text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-8 without BOM.
    Utf8,
    /// UTF-8 with BOM.
    Utf8Bom,
    /// GBK (as written by Excel/WPS on Chinese Windows).
    Gbk,
}

impl Encoding {
    /// Name used in `truth/files.csv`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Gbk => "gbk",
        }
    }
}

/// The container of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// An xlsx workbook.
    Xlsx,
    /// A CSV file.
    Csv {
        /// Text encoding.
        enc: Encoding,
        /// CRLF line ends.
        crlf: bool,
    },
}

fn push_field(buf: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        buf.push('"');
        buf.push_str(&field.replace('"', "\"\""));
        buf.push('"');
    } else {
        buf.push_str(field);
    }
}

/// Writes a CSV export (only the first sheet of the plan). Fields are quoted
/// only when they must be (RFC 4180); a row without cells is an empty line.
pub(crate) fn write_csv(
    path: &Path,
    sheet: &SheetPlan,
    enc: Encoding,
    crlf: bool,
) -> Result<(), SampleError> {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut text = String::with_capacity(sheet.rows.len() * 160);
    for row in &sheet.rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            push_field(&mut text, &cell.csv_text());
        }
        text.push_str(eol);
    }
    let bytes = match enc {
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Utf8Bom => {
            let mut b = Vec::with_capacity(text.len() + 3);
            b.extend_from_slice(b"\xEF\xBB\xBF");
            b.extend_from_slice(text.as_bytes());
            b
        }
        Encoding::Gbk => {
            let (out, _, had_errors) = encoding_rs::GBK.encode(&text);
            if had_errors {
                return Err(SampleError::Encoding {
                    path: path.to_path_buf(),
                });
            }
            out.into_owned()
        }
    };
    fs::write(path, bytes).map_err(|e| SampleError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

struct Formats {
    title: Format,
    header: Format,
    dates: HashMap<&'static str, Format>,
    money: Format,
    integer: Format,
}

/// Writes an xlsx workbook with all sheets of the plan.
pub(crate) fn write_xlsx(path: &Path, sheets: &[SheetPlan]) -> Result<(), SampleError> {
    let xerr = |e: rust_xlsxwriter::XlsxError| SampleError::Xlsx {
        path: path.to_path_buf(),
        source: e,
    };
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 11, 1).map_err(xerr)?;
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("lifeline samples"),
    );
    let mut f = Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center),
        header: Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap(),
        dates: HashMap::new(),
        money: Format::new().set_num_format("#,##0.00"),
        integer: Format::new().set_num_format("0"),
    };
    for sp in sheets {
        let mut ws = Worksheet::new();
        ws.set_name(&sp.name).map_err(xerr)?;
        fill_sheet(&mut ws, sp, &mut f).map_err(xerr)?;
        if sp.hidden {
            ws.set_hidden(true);
        }
        wb.push_worksheet(ws);
    }
    wb.save(path).map_err(xerr)
}

fn fill_sheet(
    ws: &mut Worksheet,
    sp: &SheetPlan,
    f: &mut Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let in_merge = |r: u32, c: u16| {
        sp.merges
            .iter()
            .find(|m| r >= m.row && r <= m.last_row && c >= m.col && c <= m.last_col)
    };
    let mut widths: Vec<usize> = Vec::new();
    for (r, row) in sp.rows.iter().enumerate() {
        let r = r as u32;
        let is_header = sp.header_rows.contains(&r);
        let is_title = sp.title_rows.contains(&r);
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            if let Some(m) = in_merge(r, c) {
                if m.row == r && m.col == c {
                    let text = cell.csv_text();
                    let fmt = if is_title { &f.title } else { &f.header };
                    ws.merge_range(m.row, m.col, m.last_row, m.last_col, &text, fmt)?;
                }
                continue;
            }
            if !is_title && r < 60 {
                let w = cell.csv_text().chars().count();
                if widths.len() <= c as usize {
                    widths.resize(c as usize + 1, 0);
                }
                widths[c as usize] = widths[c as usize].max(w);
            }
            match cell {
                Cell::Empty => {}
                Cell::Text(s) if is_header => {
                    ws.write_string_with_format(r, c, s, &f.header)?;
                }
                Cell::Text(s) if is_title => {
                    ws.write_string_with_format(r, c, s, &f.title)?;
                }
                Cell::Text(s) => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Num(v, NumFmt::General) => {
                    ws.write_number(r, c, *v)?;
                }
                Cell::Num(v, NumFmt::Integer) => {
                    ws.write_number_with_format(r, c, *v, &f.integer)?;
                }
                Cell::Num(v, NumFmt::Money) => {
                    ws.write_number_with_format(r, c, *v, &f.money)?;
                }
                Cell::Date(d, fmt) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    let format = f
                        .dates
                        .entry(fmt)
                        .or_insert_with(|| Format::new().set_num_format(*fmt));
                    ws.write_datetime_with_format(r, c, &dt, &*format)?;
                }
                Cell::Formula(expr, result) => {
                    ws.write_formula_with_format(
                        r,
                        c,
                        Formula::new(format!("={expr}")).set_result(num_text(*result)),
                        &f.money,
                    )?;
                }
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // CJK characters are about twice as wide as Latin ones.
        ws.set_column_width(c as u16, ((*w).clamp(4, 24) as f64) * 1.6 + 2.0)?;
    }
    Ok(())
}
