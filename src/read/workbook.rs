//! Workbooks through calamine: every sheet, hidden ones included (marked as hidden), `.xlsx`
//! worksheets streamed cell by cell so a 1,000,000-row sheet is read in bounded memory.
//!
//! Before calamine inflates anything, the zip directory is checked against [`ReadLimits`]: a part
//! that would inflate to gigabytes (a zip bomb) is refused, not read.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible, Xls, Xlsb, Xlsx};

use super::{CellValue, FileFormat, FileInfo, ReadError, ReadLimits, RowSink, SheetMeta};

/// Reads every worksheet of a workbook into `sink`. A panic inside the reader (calamine
/// asserts on some crafted files) ends as a damaged-file error for this file; the rows sent
/// before it are rolled back with the file.
pub fn read_workbook(
    path: &Path,
    format: FileFormat,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<FileInfo, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_unguarded(path, format, limits, sink)
    }))
    .unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(ReadError::Corrupt(format!(
            "the workbook reader failed on its content ({reason})"
        )))
    })
}

fn read_unguarded(
    path: &Path,
    format: FileFormat,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<FileInfo, ReadError> {
    let mut info = FileInfo {
        format: format.as_str().into(),
        ..FileInfo::default()
    };
    // .xls, and .xlsx saved with a password, are compound documents: their chains are checked
    // against the file's size before calamine follows them
    if super::compound::is_compound(path) {
        super::compound::check(path)?;
    }
    match format {
        FileFormat::Xlsx => {
            check_zip_parts(path, limits)?;
            check_shared_strings(path, limits)?;
            let mut workbook: Xlsx<_> = Xlsx::new(BufReader::new(File::open(path)?))
                .map_err(|e| ReadError::Corrupt(e.to_string()))?;
            for (sheet, name) in worksheets(workbook.sheets_metadata()) {
                if stream_xlsx_sheet(&mut workbook, &sheet, &name, limits, sink)?.is_break() {
                    info.stopped = true;
                    break;
                }
            }
        }
        FileFormat::Ods => {
            check_zip_parts(path, limits)?;
            if is_encrypted_ods(path)? {
                return Err(ReadError::PasswordProtected);
            }
            let workbook = calamine::open_workbook::<calamine::Ods<_>, _>(path)
                .map_err(|e| ReadError::Corrupt(e.to_string()))?;
            info.stopped = read_ranges(workbook, limits, sink)?;
        }
        FileFormat::Xlsb => {
            check_zip_parts(path, limits)?;
            let workbook: Xlsb<_> = Xlsb::new(BufReader::new(File::open(path)?))
                .map_err(|e| ReadError::Corrupt(e.to_string()))?;
            info.stopped = read_ranges(workbook, limits, sink)?;
        }
        FileFormat::Xls => {
            let workbook: Xls<_> = match Xls::new(BufReader::new(File::open(path)?)) {
                Ok(workbook) => workbook,
                Err(calamine::XlsError::Password) => return Err(ReadError::PasswordProtected),
                Err(error) => return Err(ReadError::Corrupt(error.to_string())),
            };
            info.stopped = read_ranges(workbook, limits, sink)?;
        }
        FileFormat::Text => return super::text::read_text(path, limits, sink),
    }
    Ok(info)
}

/// Worksheets (not chart or macro sheets) with their metadata, in tab order.
fn worksheets(sheets: &[calamine::Sheet]) -> Vec<(SheetMeta, String)> {
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| {
            (
                SheetMeta {
                    name: s.name.clone(),
                    hidden: s.visible != SheetVisible::Visible,
                },
                s.name.clone(),
            )
        })
        .collect()
}

/// Whether an OpenDocument file is encrypted: its manifest then describes how each part was
/// encrypted (`manifest:encryption-data`), and calamine would only see a damaged content.xml.
fn is_encrypted_ods(path: &Path) -> Result<bool, ReadError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?))
        .map_err(|e| ReadError::Corrupt(format!("not a readable zip archive: {e}")))?;
    let Ok(manifest) = archive.by_name("META-INF/manifest.xml") else {
        return Ok(false);
    };
    let mut text = Vec::new();
    // a manifest lists a few dozen parts; its size was bounded by check_zip_parts already
    manifest
        .take(4 << 20)
        .read_to_end(&mut text)
        .map_err(|e| ReadError::Corrupt(format!("META-INF/manifest.xml: {e}")))?;
    Ok(text.windows(15).any(|w| w == b"encryption-data"))
}

/// Refuses archives whose parts would inflate past the limits, using the sizes declared in the
/// zip directory (nothing is inflated here).
pub fn check_zip_parts(path: &Path, limits: &ReadLimits) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?))
        .map_err(|e| ReadError::Corrupt(format!("not a readable zip archive: {e}")))?;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|e| ReadError::Corrupt(format!("zip entry {index}: {e}")))?;
        let name = part
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("entry {index}"));
        let uncompressed = part.size();
        let compressed = part.compressed_size().max(1);
        let ratio = uncompressed / compressed;
        let is_sheet = name.starts_with("xl/worksheets/") || name == "content.xml";
        let size_limit = if is_sheet {
            limits.max_sheet_bytes
        } else {
            limits.max_part_bytes
        };
        let limit = if uncompressed > size_limit {
            format!("more than the {size_limit} bytes allowed")
        } else if uncompressed > (10 << 20) && ratio > limits.max_ratio {
            format!(
                "a compression ratio of {ratio}, over the {} allowed",
                limits.max_ratio
            )
        } else {
            continue;
        };
        return Err(ReadError::ZipBomb {
            part: name,
            uncompressed,
            compressed,
            limit,
        });
    }
    Ok(())
}

/// Refuses a shared-strings part that declares more strings than its size can hold: calamine
/// reserves room for the declared count before reading a string, so `uniqueCount="1000000000"`
/// in an 8 KB file would ask for 24 GB.
fn check_shared_strings(path: &Path, limits: &ReadLimits) -> Result<(), ReadError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?))
        .map_err(|e| ReadError::Corrupt(format!("not a readable zip archive: {e}")))?;
    let Some(index) = (0..archive.len()).find(|&i| {
        archive
            .name_for_index(i)
            .and_then(Result::ok)
            .is_some_and(|name| name.to_ascii_lowercase().ends_with("sharedstrings.xml"))
    }) else {
        return Ok(());
    };
    let part = archive
        .by_index(index)
        .map_err(|e| ReadError::Corrupt(format!("zip entry {index}: {e}")))?;
    let name = part
        .name()
        .map(|n| n.into_owned())
        .unwrap_or_else(|_| "xl/sharedStrings.xml".into());
    let size = part.size();
    let mut head = Vec::new();
    part.take(16 << 10)
        .read_to_end(&mut head)
        .map_err(|e| ReadError::Corrupt(format!("{name}: {e}")))?;
    let Some(declared) = declared_count(&head) else {
        return Ok(());
    };
    let most = (size as f64 * limits.max_strings_per_byte).ceil() as u64 + 1;
    if declared > most {
        return Err(ReadError::Corrupt(format!(
            "{name} declares {declared} strings in {size} bytes (at most {most} fit): the count \
             is false"
        )));
    }
    Ok(())
}

/// The `uniqueCount` of the `<sst …>` start tag at the head of a shared-strings part.
fn declared_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("<sst")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let at = tag.find("uniqueCount")? + "uniqueCount".len();
    let value = tag[at..].trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..value[1..].find(quote)? + 1];
    // a count too long for u64 is as false as a huge one
    Some(value.trim().parse::<u64>().unwrap_or(u64::MAX))
}

fn stream_xlsx_sheet(
    workbook: &mut Xlsx<BufReader<File>>,
    sheet: &SheetMeta,
    name: &str,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<ControlFlow<()>, ReadError> {
    if sink.start_sheet(sheet).is_break() {
        return Ok(ControlFlow::Break(()));
    }
    let mut reader = workbook
        .worksheet_cells_reader(name)
        .map_err(|e| ReadError::Corrupt(format!("sheet {name}: {e}")))?;
    let mut row: Vec<CellValue> = Vec::new();
    let mut current: Option<u32> = None;
    loop {
        let cell = reader
            .next_cell()
            .map_err(|e| ReadError::Corrupt(format!("sheet {name}: {e}")))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        if current.is_some_and(|done| r < done) {
            return Err(ReadError::Corrupt(format!(
                "sheet {name}: row {} appears after row {}",
                r + 1,
                current.map_or(0, |done| done + 1)
            )));
        }
        if current != Some(r) {
            if let Some(done) = current
                && emit(sink, name, done, &mut row, limits)?.is_break()
            {
                return Ok(ControlFlow::Break(()));
            }
            current = Some(r);
        }
        let c = c as usize;
        if c >= limits.max_columns {
            continue;
        }
        if row.len() <= c {
            row.resize(c + 1, CellValue::Empty);
        }
        row[c] = from_data_ref(take_value(cell));
    }
    if let Some(done) = current
        && emit(sink, name, done, &mut row, limits)?.is_break()
    {
        return Ok(ControlFlow::Break(()));
    }
    Ok(sink.end_sheet())
}

/// Sends a completed row (0-based index `r`) to the sink as the 1-based row a person sees.
fn emit(
    sink: &mut dyn RowSink,
    sheet: &str,
    r: u32,
    row: &mut Vec<CellValue>,
    limits: &ReadLimits,
) -> Result<ControlFlow<()>, ReadError> {
    while row.last().is_some_and(CellValue::is_blank) {
        row.pop();
    }
    for (column, cell) in row.iter().enumerate() {
        if let CellValue::Text(text) | CellValue::Error(text) = cell
            && text.len() as u64 > limits.max_cell_bytes
        {
            return Err(ReadError::Corrupt(format!(
                "sheet {sheet}, row {}, column {}: one cell holds {} bytes of text, more than \
                 the {} allowed (a cell holds at most 32,767 characters)",
                r + 1,
                column_letters(column),
                text.len(),
                limits.max_cell_bytes
            )));
        }
    }
    let width = row.len();
    let flow = if row.is_empty() {
        ControlFlow::Continue(())
    } else {
        sink.row(r + 1, row)
    };
    row.clear();
    // a sink that took the cells left an empty vector: the next row is about as wide
    row.reserve(width);
    Ok(flow)
}

/// A 0-based column index as Excel names it: 0 → A, 25 → Z, 26 → AA.
fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Reads formats that calamine loads whole (xls, xlsb, ods): an .xls sheet holds at most 65,536
/// rows, so memory stays bounded by the file.
fn read_ranges<R>(
    mut workbook: R,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<bool, ReadError>
where
    R: Reader<BufReader<File>>,
    R::Error: std::fmt::Display,
{
    for (sheet, name) in worksheets(workbook.sheets_metadata()) {
        if sink.start_sheet(&sheet).is_break() {
            return Ok(true);
        }
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| ReadError::Corrupt(format!("sheet {name}: {e}")))?;
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        let mut row: Vec<CellValue> = Vec::new();
        for (offset, cells) in range.rows().enumerate() {
            row.clear();
            row.resize(first_column as usize, CellValue::Empty);
            row.extend(cells.iter().map(from_data));
            row.truncate(limits.max_columns);
            if emit(sink, &name, first_row + offset as u32, &mut row, limits)?.is_break() {
                return Ok(true);
            }
        }
        if sink.end_sheet().is_break() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The value of a streamed cell, moved out: calamine's `Cell` lends its value only by
/// reference, and copying every inline string a second time was a tenth of the reading thread.
fn take_value(cell: calamine::Cell<DataRef<'_>>) -> DataRef<'_> {
    let cell = std::mem::ManuallyDrop::new(cell);
    // SAFETY: `cell` is owned here and never used or dropped again (ManuallyDrop); its value is
    // read out exactly once, so ownership of the value's heap data moves to the caller.
    unsafe { std::ptr::read(cell.get_value()) }
}

fn from_data_ref(value: DataRef<'_>) -> CellValue {
    match value {
        DataRef::Empty => CellValue::Empty,
        DataRef::Int(v) => CellValue::Int(v),
        DataRef::Float(v) => CellValue::Float(v),
        DataRef::String(s) => CellValue::Text(s),
        DataRef::SharedString(s) => CellValue::Text(s.to_string()),
        DataRef::Bool(b) => CellValue::Bool(b),
        DataRef::DateTime(d) => date_cell(&d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => CellValue::Text(s),
        DataRef::Error(e) => CellValue::Error(e.to_string()),
    }
}

fn from_data(value: &Data) -> CellValue {
    match value {
        Data::Empty => CellValue::Empty,
        Data::Int(v) => CellValue::Int(*v),
        Data::Float(v) => CellValue::Float(*v),
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(d) => date_cell(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => CellValue::Text(s.clone()),
        Data::Error(e) => CellValue::Error(e.to_string()),
    }
}

fn date_cell(value: &calamine::ExcelDateTime) -> CellValue {
    match value.as_datetime() {
        // a date-formatted 0 (or less) is how systems write "no date", not 1899-12-31
        Some(datetime) if value.is_datetime() && value.as_f64() >= 1.0 => {
            CellValue::DateTime(datetime)
        }
        _ => CellValue::Float(value.as_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn the_declared_count_of_shared_strings_is_found() {
        let head =
            br#"<?xml version="1.0"?><sst xmlns="x" count="12" uniqueCount = '1000000000'><si>"#;
        assert_eq!(declared_count(head), Some(1_000_000_000));
        assert_eq!(declared_count(br#"<sst count="3">"#), None);
        assert_eq!(
            declared_count(br#"<sst uniqueCount="99999999999999999999999">"#),
            Some(u64::MAX)
        );
    }
}
