//! The receipt of one ingested file: what was read, how, and what became of every row. It is
//! printed, stored with the file in the registry and written as JSON beside the rejects workbook.

use serde::Serialize;

/// What happened to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Rows were stored (some may have been rejected: that is normal).
    Ingested,
    /// The same content was ingested before; nothing was stored.
    Duplicate,
    /// The file could not be processed; nothing was stored.
    Failed,
}

/// The column → field assignment of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnReceipt {
    /// The officer's column name.
    pub column: String,
    /// The canonical field it fills.
    pub field: String,
}

/// One sheet of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SheetReceipt {
    /// Sheet name; empty for CSV.
    pub name: String,
    /// Whether the sheet is hidden in the workbook.
    pub hidden: bool,
    /// Mapping that read it, if any.
    pub mapping: Option<String>,
    /// Why the sheet was not read, if it was not.
    pub not_read: Option<String>,
    /// Rows of the header.
    pub header_rows: Vec<u32>,
    /// Columns used.
    pub columns: Vec<ColumnReceipt>,
    /// Columns present but not used.
    pub ignored_columns: Vec<String>,
    /// Columns naming a field another column already fills (the first one is used).
    pub duplicate_columns: Vec<ColumnReceipt>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows accepted as records.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Footer rows (合计, 制表人…) skipped.
    pub rows_skipped_footer: u64,
    /// Blank rows skipped.
    pub rows_skipped_blank: u64,
    /// Header rows repeated inside the data (page breaks of printed exports) skipped.
    pub rows_skipped_repeated_header: u64,
    /// Values dropped or kept only as raw text in accepted rows.
    pub values_with_issues: u64,
    /// Notes for the officer.
    pub notes: Vec<String>,
}

/// The receipt of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Receipt {
    /// File name as dropped.
    pub file: String,
    /// Path when ingested.
    pub path: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// What happened.
    pub status: FileStatus,
    /// Why the file failed.
    pub error: Option<String>,
    /// Detected format (`xlsx`, `xls`, `ods`, `csv`).
    pub format: String,
    /// Detected text encoding for CSV.
    pub encoding: String,
    /// Mappings used, one per sheet read.
    pub mappings: Vec<String>,
    /// Sheets.
    pub sheets: Vec<SheetReceipt>,
    /// Data rows read, all sheets.
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Footer rows skipped.
    pub rows_skipped_footer: u64,
    /// Blank and repeated-header rows skipped.
    pub rows_skipped_other: u64,
    /// For a duplicate: the earlier file with the same content.
    pub duplicate_of: Option<String>,
    /// Registry id of the stored file.
    pub file_id: Option<i64>,
    /// Batch of this ingest.
    pub batch_id: Option<i64>,
    /// When.
    pub ingested_at: String,
    /// Where this receipt was written.
    pub receipt_path: Option<String>,
    /// Where the rejects workbook was written (only when there are issues).
    pub rejects_workbook: Option<String>,
    /// Seconds spent on the file.
    pub seconds: f64,
}

impl Receipt {
    /// A receipt for a file that has not been processed yet.
    pub fn new(file: &str, path: &str) -> Receipt {
        Receipt {
            file: file.to_string(),
            path: path.to_string(),
            sha256: String::new(),
            size_bytes: 0,
            status: FileStatus::Failed,
            error: None,
            format: String::new(),
            encoding: String::new(),
            mappings: Vec::new(),
            sheets: Vec::new(),
            rows_read: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            rows_skipped_footer: 0,
            rows_skipped_other: 0,
            duplicate_of: None,
            file_id: None,
            batch_id: None,
            ingested_at: crate::registry::now(),
            receipt_path: None,
            rejects_workbook: None,
            seconds: 0.0,
        }
    }

    /// Adds up the sheets' counts.
    pub fn total_sheets(&mut self) {
        self.rows_read = self.sheets.iter().map(|s| s.rows_read).sum();
        self.rows_accepted = self.sheets.iter().map(|s| s.rows_accepted).sum();
        self.rows_rejected = self.sheets.iter().map(|s| s.rows_rejected).sum();
        self.rows_skipped_footer = self.sheets.iter().map(|s| s.rows_skipped_footer).sum();
        self.rows_skipped_other = self
            .sheets
            .iter()
            .map(|s| s.rows_skipped_blank + s.rows_skipped_repeated_header)
            .sum();
        let mut mappings: Vec<String> = self
            .sheets
            .iter()
            .filter_map(|s| s.mapping.clone())
            .collect();
        mappings.dedup();
        self.mappings = mappings;
    }

    /// A few lines for people: what was read and what to look at.
    pub fn summary(&self) -> String {
        let mut text = match self.status {
            FileStatus::Ingested => format!(
                "{}: ingested with {} ({}{}): {} rows read, {} accepted, {} rejected, {} footer rows skipped",
                self.file,
                if self.mappings.is_empty() {
                    "-".to_string()
                } else {
                    self.mappings.join(", ")
                },
                self.format,
                if self.encoding.is_empty() {
                    String::new()
                } else {
                    format!(", {}", self.encoding)
                },
                self.rows_read,
                self.rows_accepted,
                self.rows_rejected,
                self.rows_skipped_footer,
            ),
            FileStatus::Duplicate => format!(
                "{}: duplicate of {} (same SHA-256): nothing stored",
                self.file,
                self.duplicate_of.as_deref().unwrap_or("an earlier file")
            ),
            FileStatus::Failed => format!(
                "{}: FAILED: {}",
                self.file,
                self.error.as_deref().unwrap_or("unknown error")
            ),
        };
        for sheet in &self.sheets {
            let name = if sheet.name.is_empty() {
                "(csv)".to_string()
            } else {
                format!("sheet {}", sheet.name)
            };
            if let Some(why) = &sheet.not_read {
                text.push_str(&format!("\n  {name}: not read: {why}"));
            } else if !sheet.header_rows.is_empty() && self.sheets.len() > 1 {
                text.push_str(&format!(
                    "\n  {name}{}: header row {}, {} rows accepted, {} rejected",
                    if sheet.hidden { " (hidden)" } else { "" },
                    sheet
                        .header_rows
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("-"),
                    sheet.rows_accepted,
                    sheet.rows_rejected
                ));
            }
            for note in &sheet.notes {
                text.push_str(&format!("\n  {name}: {note}"));
            }
        }
        if let Some(workbook) = &self.rejects_workbook {
            let dropped: u64 = self.sheets.iter().map(|s| s.values_with_issues).sum();
            text.push_str(&format!(
                "\n  rejects: {workbook} (rows rejected: {}, values dropped or doubtful: {dropped})",
                self.rows_rejected
            ));
        }
        text
    }
}
