//! Reading department exports — `.xlsx`, `.xls`, `.ods` workbooks and CSV/TSV text in any CJK
//! encoding — into rows of cells, sheet by sheet, in bounded memory.
//!
//! The format is sniffed from the bytes, not trusted from the file name ([`sniff`]); text
//! encodings are detected without being told ([`text`]); workbooks are read through calamine,
//! streaming `.xlsx` worksheets cell by cell ([`workbook`]). Rows reach a [`RowSink`] one at a
//! time, numbered as a person sees them in Excel or WPS (1-based; for CSV the line number).
//! Finding the header row and footer rows is [`header`]'s job.

pub mod cell;
pub mod compound;
pub mod header;
pub mod isolate;
pub mod sniff;
pub mod text;
pub mod workbook;

use std::ops::ControlFlow;
use std::path::Path;

pub use cell::CellValue;
pub use sniff::FileFormat;

/// Limits that keep reading bounded whatever the file contains.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct ReadLimits {
    /// Largest uncompressed size accepted for one workbook part that is loaded whole
    /// (shared strings, styles, workbook); worksheets are streamed and checked by ratio.
    pub max_part_bytes: u64,
    /// Largest uncompressed size of one streamed worksheet part.
    pub max_sheet_bytes: u64,
    /// Largest compression ratio (uncompressed / compressed) accepted for a part over 10 MiB.
    pub max_ratio: u64,
    /// Most columns read from one row; cells beyond are ignored.
    pub max_columns: usize,
    /// Largest CSV record (one row, quoted line breaks included): a longer one is a quote that
    /// is never closed, and the file is refused as damaged before it fills memory.
    pub max_csv_record_bytes: u64,
    /// Most line breaks inside one quoted CSV field (an address typed on two lines has one).
    pub max_csv_field_lines: usize,
    /// Longest text of one cell, in bytes. Excel and WPS hold at most 32,767 characters in a
    /// cell; a longer one is a damaged or crafted file.
    pub max_cell_bytes: u64,
    /// Most strings a workbook's shared-strings part may declare per byte of that part: each
    /// string takes at least a few bytes of XML, so a count beyond is a lie that would make
    /// the reader reserve gigabytes.
    pub max_strings_per_byte: f64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_part_bytes: 512 << 20,
            max_sheet_bytes: 8 << 30,
            max_ratio: 250,
            max_columns: 512,
            max_csv_record_bytes: 1 << 20,
            max_csv_field_lines: 50,
            max_cell_bytes: 1 << 20,
            max_strings_per_byte: 0.25,
        }
    }
}

/// What a reader knows about a sheet before its rows arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetMeta {
    /// Sheet name as shown on its tab; empty for CSV.
    pub name: String,
    /// Whether the sheet is hidden in the workbook.
    pub hidden: bool,
}

/// Receives the rows of a file. Returning [`ControlFlow::Break`] stops reading; the sink keeps
/// whatever error made it stop.
pub trait RowSink {
    /// A new sheet begins.
    fn start_sheet(&mut self, sheet: &SheetMeta) -> ControlFlow<()>;
    /// One row: `row` is the row number a person sees (1-based), `cells` from column A on.
    /// The sink may take the cells (`std::mem::take`); the reader clears the vector after.
    fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()>;
    /// The current sheet has ended.
    fn end_sheet(&mut self) -> ControlFlow<()>;
}

/// How the file was read, for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileInfo {
    /// Format detected from the content.
    pub format: String,
    /// Text encoding for CSV files (`utf-8`, `utf-8-bom`, `gb18030`, `utf-16le`…); empty for workbooks.
    pub encoding: String,
    /// Field delimiter for CSV files.
    pub delimiter: Option<char>,
    /// Whether the sink stopped reading early.
    pub stopped: bool,
}

/// Why a file could not be read. Messages are for data officers: they say what is wrong with
/// the file and, where possible, what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file has no bytes.
    #[error("file is empty (0 bytes)")]
    Empty,
    /// The file name says workbook, the bytes say something else.
    #[error("file is named .{extension} but its content is {found}; {advice}")]
    Mislabelled {
        /// Extension as dropped.
        extension: String,
        /// What the content looks like.
        found: &'static str,
        /// What the officer can do.
        advice: &'static str,
    },
    /// An encrypted workbook.
    #[error("workbook is password-protected; save it again without a password and resend it")]
    PasswordProtected,
    /// A workbook part would inflate beyond the limits.
    #[error(
        "workbook part {part} would inflate to {uncompressed} bytes from {compressed}, {limit}: \
         refused as a possible zip bomb"
    )]
    ZipBomb {
        /// Part name inside the archive.
        part: String,
        /// Declared uncompressed size.
        uncompressed: u64,
        /// Compressed size.
        compressed: u64,
        /// Which limit was exceeded, in words.
        limit: String,
    },
    /// The workbook container or XML is damaged.
    #[error(
        "workbook is damaged or truncated ({0}); open it in Excel or WPS, save it again and resend it"
    )]
    Corrupt(String),
    /// Text that decodes in none of the supported encodings.
    #[error(
        "text is not valid UTF-8, GBK or GB18030 (first bad byte at offset {offset}); save it as UTF-8 CSV and resend it"
    )]
    UnknownEncoding {
        /// Byte offset of the first undecodable byte.
        offset: u64,
    },
    /// Binary content that is no known workbook.
    #[error("file is not a spreadsheet or CSV (binary content of an unknown kind)")]
    Binary,
    /// An extension lifeline does not read.
    #[error("unsupported file type {}: send .xlsx, .xls, .ods or .csv", shown_extension(.0))]
    Unsupported(String),
    /// A CSV record that cannot be parsed.
    #[error("csv line {line}: {message}")]
    Csv {
        /// Line number.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// The workbook reader ran out of the memory one file may use.
    #[error(
        "reading this workbook needed more than the {budget_mib} MiB one file may use ({detail}): \
         it declares more content than it holds, so it is damaged or crafted; open it in Excel \
         or WPS, save it again and resend it"
    )]
    OverBudget {
        /// The budget (LIFELINE_READER_MEMORY_MB).
        budget_mib: u64,
        /// What the reader said.
        detail: String,
    },
    /// The workbook reader process ended without finishing.
    #[error(
        "the workbook reader {how} while reading this file ({detail}); the file was not stored: \
         open it in Excel or WPS, save it again and resend it, and tell the operator if it \
         happens again"
    )]
    ReaderDied {
        /// How it ended.
        how: String,
        /// Its last message.
        detail: String,
    },
    /// Reading the file failed.
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
}

fn shown_extension(extension: &str) -> String {
    if extension.is_empty() {
        "(the file name has no extension)".into()
    } else {
        format!(".{extension}")
    }
}

/// Reads every sheet of `path` into `sink`, detecting format and encoding from the content.
pub fn read_file(
    path: &Path,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<FileInfo, ReadError> {
    let format = sniff::sniff(path)?;
    match format {
        FileFormat::Text => text::read_text(path, limits, sink),
        FileFormat::Xlsx | FileFormat::Xls | FileFormat::Ods | FileFormat::Xlsb => {
            match isolate::isolation() {
                Some(isolation) => isolate::read_in_child(isolation, path, format, limits, sink),
                None => workbook::read_workbook(path, format, limits, sink),
            }
        }
    }
}
