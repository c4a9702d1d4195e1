//! Telling what a file really is from its first bytes, since officers rename files freely.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::ReadError;

/// The container format of a file, as detected from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Office Open XML workbook (zip).
    Xlsx,
    /// Excel binary workbook (zip).
    Xlsb,
    /// BIFF workbook from Excel 97–2003 (OLE compound file).
    Xls,
    /// OpenDocument spreadsheet (zip).
    Ods,
    /// Delimited text.
    Text,
}

impl FileFormat {
    /// Name used in receipts.
    pub fn as_str(&self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Xlsb => "xlsb",
            FileFormat::Xls => "xls",
            FileFormat::Ods => "ods",
            FileFormat::Text => "csv",
        }
    }
}

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: [u8; 4] = [b'P', b'K', 3, 4];

/// File extensions lifeline reads.
pub const SUPPORTED_EXTENSIONS: &[&str] =
    &["xlsx", "xlsm", "xlsb", "xls", "ods", "csv", "tsv", "txt"];

/// Detects the format of `path` from its content, and checks it against the extension.
pub fn sniff(path: &Path) -> Result<FileFormat, ReadError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !SUPPORTED_EXTENSIONS.contains(&extension.as_str()) {
        return Err(ReadError::Unsupported(extension));
    }
    let mut head = Vec::with_capacity(8192);
    File::open(path)?.take(8192).read_to_end(&mut head)?;
    if head.is_empty() {
        return Err(ReadError::Empty);
    }
    let named_workbook = matches!(extension.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods");
    if head.starts_with(&OLE_MAGIC) {
        if is_encrypted_ooxml(path)? {
            return Err(ReadError::PasswordProtected);
        }
        return Ok(FileFormat::Xls);
    }
    if head.starts_with(&ZIP_MAGIC) {
        if head.windows(8).any(|w| w == b"mimetype")
            && head
                .windows(46)
                .any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet")
        {
            return Ok(FileFormat::Ods);
        }
        return Ok(match extension.as_str() {
            "xlsb" => FileFormat::Xlsb,
            "ods" => FileFormat::Ods,
            "csv" | "tsv" | "txt" => {
                return Err(ReadError::Mislabelled {
                    extension,
                    found: "a zip archive (probably an Excel workbook)",
                    advice: "rename it to .xlsx and resend it",
                });
            }
            _ => FileFormat::Xlsx,
        });
    }
    let looks_binary = head.iter().filter(|&&b| b == 0).count() > head.len() / 10
        && !(head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]));
    if looks_binary {
        if named_workbook {
            return Err(ReadError::Corrupt(
                "the content is neither a zip nor an OLE container".into(),
            ));
        }
        return Err(ReadError::Binary);
    }
    if named_workbook {
        let start = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&head);
        let first = start
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(start.len());
        if start[first..].starts_with(b"<") {
            // "Excel" files written by web systems as HTML or SpreadsheetML tables.
            return Err(ReadError::Mislabelled {
                extension,
                found: "an HTML or XML page, not a workbook",
                advice: "open it in Excel or WPS, save it as .xlsx and resend it",
            });
        }
        return Err(ReadError::Mislabelled {
            extension,
            found: "plain text",
            advice: "if it is a CSV export, rename it to .csv and resend it",
        });
    }
    Ok(FileFormat::Text)
}

/// An encrypted .xlsx is an OLE container holding an `EncryptedPackage` stream; its directory
/// names are UTF-16LE.
fn is_encrypted_ooxml(path: &Path) -> Result<bool, ReadError> {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut buffer = Vec::new();
    // The directory sits near the start or the end; a bounded read of both ends is enough.
    let length = std::fs::metadata(path)?.len();
    let mut file = File::open(path)?;
    let head = if length <= (2 << 20) { length } else { 1 << 20 };
    file.by_ref().take(head).read_to_end(&mut buffer)?;
    if length > (2 << 20) {
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(length - (1 << 20)))?;
        file.take(1 << 20).read_to_end(&mut buffer)?;
    }
    Ok(buffer.windows(needle.len()).any(|w| w == needle.as_slice()))
}
