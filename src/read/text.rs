//! Delimited text exports (CSV, TSV): encoding and delimiter detected from the content, rows
//! streamed through the `csv` crate so memory does not grow with the file.
//!
//! Exports from Chinese office software arrive as UTF-8, UTF-8 with a byte-order mark, GBK /
//! GB18030 (Excel's "CSV" on a Chinese Windows) or UTF-16 ("Unicode text" from WPS and Excel).
//! The whole file is checked before reading, so a file is never half-read in a wrong encoding.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::rc::Rc;

use encoding_rs::{Encoding, GB18030, UTF_8};

use super::{CellValue, FileInfo, ReadError, ReadLimits, RowSink, SheetMeta};

/// A detected text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedEncoding {
    /// The encoding to decode with.
    pub encoding: &'static Encoding,
    /// Whether the file starts with a byte-order mark.
    pub bom: bool,
}

impl DetectedEncoding {
    /// Name for receipts: `utf-8`, `utf-8-bom`, `gb18030`, `utf-16le`, `utf-16be`.
    pub fn name(&self) -> String {
        if self.encoding == UTF_8 && self.bom {
            "utf-8-bom".into()
        } else {
            self.encoding.name().to_ascii_lowercase()
        }
    }
}

/// Detects the encoding of a whole file: a byte-order mark if present, else UTF-8 if every byte
/// sequence is valid UTF-8, else GB18030 (a superset of GBK and GB2312) if every sequence is
/// valid there; anything else is refused with the offset of the first bad byte.
pub fn detect_encoding(path: &Path) -> Result<DetectedEncoding, ReadError> {
    detect_encoding_of(BufReader::with_capacity(1 << 16, File::open(path)?))
}

/// [`detect_encoding`] on text already in memory: UTF-8 without a byte-order mark, the common
/// case, is told by one validation instead of decoding it as GB18030 alongside.
pub fn detect_encoding_in(bytes: &[u8]) -> Result<DetectedEncoding, ReadError> {
    if Encoding::for_bom(bytes).is_none() && std::str::from_utf8(bytes).is_ok() {
        return Ok(DetectedEncoding {
            encoding: UTF_8,
            bom: false,
        });
    }
    detect_encoding_of(bytes)
}

/// [`detect_encoding`] on any byte stream (a file, or text already in memory), read once.
pub fn detect_encoding_of(mut input: impl Read) -> Result<DetectedEncoding, ReadError> {
    let mut chunk = vec![0u8; 1 << 16];
    // the first chunk holds at least the three bytes a byte-order mark needs, unless the text
    // is shorter
    let mut first = 0;
    while first < 3 {
        let n = input.read(&mut chunk[first..])?;
        if n == 0 {
            break;
        }
        first += n;
    }
    let head = &chunk[..first];
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return Ok(DetectedEncoding {
            encoding,
            bom: true,
        });
    }
    // One pass validating UTF-8 and GB18030 side by side.
    let mut utf8 = Utf8Validator::new();
    let mut gb = GB18030.new_decoder_without_bom_handling();
    let mut gb_ok = true;
    let mut gb_bad_offset = 0u64;
    let mut scratch = String::with_capacity(1 << 17);
    let mut offset = 0u64;
    // the first chunk is validated as read above, the rest as it comes
    let mut pending = Some(first).filter(|&n| n > 0);
    loop {
        let n = match pending.take() {
            Some(n) => n,
            None => input.read(&mut chunk)?,
        };
        let last = n == 0;
        let bytes = &chunk[..n];
        utf8.feed(bytes, last);
        if gb_ok {
            let mut rest = bytes;
            loop {
                scratch.clear();
                let (result, consumed) =
                    gb.decode_to_string_without_replacement(rest, &mut scratch, last);
                match result {
                    encoding_rs::DecoderResult::InputEmpty => break,
                    encoding_rs::DecoderResult::OutputFull => {
                        rest = &rest[consumed..];
                        scratch.reserve(1 << 17);
                    }
                    encoding_rs::DecoderResult::Malformed(bad, extra) => {
                        gb_ok = false;
                        // `consumed` ends after the malformed sequence and the bytes read past it
                        let end = bytes.len() - rest.len() + consumed;
                        gb_bad_offset =
                            offset + end.saturating_sub(bad as usize + extra as usize) as u64;
                        break;
                    }
                }
            }
        }
        if last || (!utf8.valid && !gb_ok) {
            break;
        }
        offset += n as u64;
    }
    if utf8.valid {
        Ok(DetectedEncoding {
            encoding: UTF_8,
            bom: false,
        })
    } else if gb_ok {
        Ok(DetectedEncoding {
            encoding: GB18030,
            bom: false,
        })
    } else {
        Err(ReadError::UnknownEncoding {
            offset: gb_bad_offset,
        })
    }
}

/// Streaming UTF-8 validation across chunk boundaries.
struct Utf8Validator {
    carry: Vec<u8>,
    valid: bool,
}

impl Utf8Validator {
    fn new() -> Self {
        Utf8Validator {
            carry: Vec::new(),
            valid: true,
        }
    }

    fn feed(&mut self, bytes: &[u8], last: bool) {
        if !self.valid {
            return;
        }
        let mut buffer = std::mem::take(&mut self.carry);
        buffer.extend_from_slice(bytes);
        match std::str::from_utf8(&buffer) {
            Ok(_) => {}
            Err(error) => {
                let good = error.valid_up_to();
                if error.error_len().is_none() && !last {
                    // an incomplete sequence at the end of the chunk: keep it for the next one
                    self.carry = buffer[good..].to_vec();
                } else {
                    self.valid = false;
                }
            }
        }
    }
}

/// Picks the field delimiter from the first lines: the candidate found on most lines.
fn sniff_delimiter(sample: &str) -> char {
    let candidates = [',', '\t', ';', '|'];
    let lines: Vec<&str> = sample
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (',', 0usize);
    for candidate in candidates {
        let count = lines.iter().filter(|line| line.contains(candidate)).count();
        if count > best.1 {
            best = (candidate, count);
        }
    }
    best.0
}

fn decoded_reader(path: &Path, detected: DetectedEncoding) -> Result<impl Read, ReadError> {
    let file = File::open(path)?;
    Ok(encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(detected.encoding))
        .bom_sniffing(true)
        .strip_bom(true)
        .build(BufReader::with_capacity(1 << 16, file)))
}

/// Passes decoded text through, noting the offset of every line feed so that the line a record
/// starts on can be told exactly. Offsets are dropped once records pass them, so memory is
/// bounded by the csv reader's read-ahead.
/// It also refuses to read on once the record being read passes `max_record` bytes, so that a
/// quote never closed cannot make the rest of the file one field held in memory.
struct LineTracker<R> {
    inner: R,
    offset: u64,
    newlines: Rc<RefCell<VecDeque<u64>>>,
    /// Offsets of the double quotes, kept the same way.
    quotes: Rc<RefCell<VecDeque<u64>>>,
    /// Where the record being read starts (set after each record).
    record_start: Rc<std::cell::Cell<u64>>,
    max_record: u64,
}

/// The message of the error [`LineTracker`] gives for a record past its limit.
const RECORD_TOO_LONG: &str = "record too long";

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.offset.saturating_sub(self.record_start.get()) > self.max_record {
            return Err(std::io::Error::other(RECORD_TOO_LONG));
        }
        let n = self.inner.read(buffer)?;
        let mut newlines = self.newlines.borrow_mut();
        let mut quotes = self.quotes.borrow_mut();
        for (index, byte) in buffer[..n].iter().enumerate() {
            if *byte == b'\n' {
                newlines.push_back(self.offset + index as u64);
            } else if *byte == b'"' {
                quotes.push_back(self.offset + index as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Reads a delimited text file into `sink` as one sheet with an empty name.
pub fn read_text(
    path: &Path,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<FileInfo, ReadError> {
    let detected = detect_encoding(path)?;
    // The 64 KiB cut may split a character: a lossy sample is enough for sniffing.
    let mut head = Vec::with_capacity(64 * 1024);
    decoded_reader(path, detected)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    let sample = String::from_utf8_lossy(&head);
    let delimiter = sniff_delimiter(&sample);
    let mut info = FileInfo {
        format: "csv".into(),
        encoding: detected.name(),
        delimiter: Some(delimiter),
        stopped: false,
    };
    let newlines = Rc::new(RefCell::new(VecDeque::new()));
    let quotes = Rc::new(RefCell::new(VecDeque::new()));
    let record_start = Rc::new(std::cell::Cell::new(0u64));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter as u8)
        // `\n` ends a record, also in CRLF files (Excel and WPS on Windows); the `\r` left on
        // the last field is trimmed below
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(LineTracker {
            inner: decoded_reader(path, detected)?,
            offset: 0,
            newlines: Rc::clone(&newlines),
            quotes: Rc::clone(&quotes),
            record_start: Rc::clone(&record_start),
            max_record: limits.max_csv_record_bytes,
        });
    // Line numbers are counted here, not taken from the csv crate, whose count drifts after
    // blank lines: a line number is the one an officer sees in a text editor.
    let mut lines_before = 0u64;
    let sheet = SheetMeta {
        name: String::new(),
        hidden: false,
    };
    if sink.start_sheet(&sheet).is_break() {
        info.stopped = true;
        return Ok(info);
    }
    let mut record = csv::StringRecord::new();
    let mut cells: Vec<CellValue> = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                if let csv::ErrorKind::Io(io) = error.kind()
                    && io.to_string() == RECORD_TOO_LONG
                {
                    return Err(ReadError::Csv {
                        line: lines_before + 1,
                        message: format!(
                            "the row starting here runs on for more than {} MiB: a quote (\") \
                             that is never closed makes the rest of the file one value; close it \
                             or remove it and resend the file",
                            limits.max_csv_record_bytes >> 20
                        ),
                    });
                }
                let line = error.position().map(|p| p.line()).unwrap_or(0);
                return Err(ReadError::Csv {
                    line,
                    message: error.to_string(),
                });
            }
        }
        // The record ends where the reader now stands; its last line is the number of line feeds
        // before that point (plus one when the file ends without one), and it starts as many
        // lines earlier as its quoted fields hold line breaks. (The start position the csv crate
        // reports lies before any blank lines it skipped.)
        let end = reader.position().byte();
        record_start.set(end);
        let mut terminated = false;
        {
            let mut newlines = newlines.borrow_mut();
            while let Some(&offset) = newlines.front() {
                if offset >= end {
                    break;
                }
                newlines.pop_front();
                lines_before += 1;
                terminated = offset + 1 == end;
            }
        }
        let last_line = if terminated {
            lines_before
        } else {
            lines_before + 1
        };
        let inner: u64 = record
            .iter()
            .map(|f| f.bytes().filter(|&b| b == b'\n').count() as u64)
            .sum();
        let line = last_line.saturating_sub(inner).max(1);
        // quotes come in pairs (an opening and a closing one, or a doubled one inside): an odd
        // count in a record whose values hold line breaks is a quote still open at the end of
        // the file, which took the rows after it into one value
        let mut quote_count = 0usize;
        {
            let mut quotes = quotes.borrow_mut();
            while quotes.front().is_some_and(|&offset| offset < end) {
                quotes.pop_front();
                quote_count += 1;
            }
        }
        if inner > 0 && quote_count % 2 == 1 {
            // the file's last line feed is inside the open value, not the end of a line
            let ends_open = record.iter().next_back().is_some_and(|f| f.ends_with('\n'));
            let line = if ends_open && terminated {
                line + 1
            } else {
                line
            };
            return Err(ReadError::Csv {
                line,
                message: format!(
                    "a quote (\") opened on this line is never closed: the file ends inside it, \
                     and lines {line}–{last_line} would be read as one value (the file may be cut \
                     short); close the quote or remove it and resend the file"
                ),
            });
        }
        if let Some((column, field)) = record
            .iter()
            .enumerate()
            .find(|(_, f)| f.bytes().filter(|&b| b == b'\n').count() > limits.max_csv_field_lines)
        {
            let lines = field.bytes().filter(|&b| b == b'\n').count();
            return Err(ReadError::Csv {
                line,
                message: format!(
                    "column {} holds {lines} line breaks (lines {line}–{last_line}): a quote (\") \
                     that is never closed joins the rows after it into one value; close it or \
                     remove it and resend the file",
                    column + 1
                ),
            });
        }
        cells.clear();
        cells.extend(record.iter().take(limits.max_columns).map(|field| {
            let field = field.strip_suffix('\r').unwrap_or(field);
            // ="0123" is how systems force Excel to keep a number as text (ID numbers, phones)
            let field = field
                .strip_prefix("=\"")
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or(field);
            if field.is_empty() {
                CellValue::Empty
            } else {
                CellValue::Text(field.to_string())
            }
        }));
        if sink.row(line.min(u32::MAX as u64) as u32, &mut cells) == ControlFlow::Break(()) {
            info.stopped = true;
            return Ok(info);
        }
    }
    if sink.end_sheet().is_break() {
        info.stopped = true;
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn detects_utf8_bom_gbk_and_utf16() {
        let text = "姓名,身份证号\n张三,340000\n";
        assert_eq!(
            detect_encoding(file_with(text.as_bytes()).path())
                .unwrap()
                .name(),
            "utf-8"
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            detect_encoding(file_with(&bom).path()).unwrap().name(),
            "utf-8-bom"
        );
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(
            detect_encoding(file_with(&gbk).path()).unwrap().name(),
            "gb18030"
        );
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(
            detect_encoding(file_with(&utf16).path()).unwrap().name(),
            "utf-16le"
        );
    }

    #[test]
    fn gbk_detected_even_when_the_first_64k_are_ascii() {
        let mut bytes = "a,b\n".repeat(40_000).into_bytes();
        let (gbk, _, _) = encoding_rs::GBK.encode("王伟,男\n");
        bytes.extend_from_slice(&gbk);
        assert_eq!(
            detect_encoding(file_with(&bytes).path()).unwrap().name(),
            "gb18030"
        );
    }

    #[test]
    fn bytes_of_no_cjk_encoding_are_refused() {
        let bytes = [b'a', b',', 0x81, 0x20, 0xFF, 0xFF, b'\n'];
        let error = detect_encoding(file_with(&bytes).path()).unwrap_err();
        assert!(
            matches!(error, ReadError::UnknownEncoding { .. }),
            "{error}"
        );
    }

    struct Lines(Vec<(u32, String)>);

    impl RowSink for Lines {
        fn start_sheet(&mut self, _: &SheetMeta) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
        fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
            self.0.push((
                row,
                cells.first().map(CellValue::display).unwrap_or_default(),
            ));
            ControlFlow::Continue(())
        }
        fn end_sheet(&mut self) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
    }

    #[test]
    fn excel_text_formulas_are_unwrapped() {
        let file = file_with("姓名,身份证号\n张三,=\"341125195806121544\"\n".as_bytes());
        let mut cells = Vec::new();
        struct Second<'a>(&'a mut Vec<CellValue>);
        impl RowSink for Second<'_> {
            fn start_sheet(&mut self, _: &SheetMeta) -> ControlFlow<()> {
                ControlFlow::Continue(())
            }
            fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
                if row == 2 {
                    *self.0 = std::mem::take(cells);
                }
                ControlFlow::Continue(())
            }
            fn end_sheet(&mut self) -> ControlFlow<()> {
                ControlFlow::Continue(())
            }
        }
        read_text(file.path(), &ReadLimits::default(), &mut Second(&mut cells)).unwrap();
        assert_eq!(cells[1], CellValue::Text("341125195806121544".into()));
    }

    /// Regression: after a blank line the csv crate's own line count lagged by one, so rows and
    /// rejects pointed at the line above.
    #[test]
    fn line_numbers_survive_blank_lines_crlf_and_quoted_line_breaks() {
        let text = "姓名,备注\r\n张三,a\r\n\r\n李四,\"two\r\nlines\"\r\n王五,c\r\n\n\n赵六,d";
        let file = file_with(text.as_bytes());
        let mut lines = Lines(Vec::new());
        read_text(file.path(), &ReadLimits::default(), &mut lines).unwrap();
        let expected: Vec<(u32, String)> = [
            (1, "姓名"),
            (2, "张三"),
            (3, ""), // the blank line arrives as an empty row ("\r"); ingest skips blank rows
            (4, "李四"),
            (6, "王五"),
            (9, "赵六"),
        ]
        .iter()
        .map(|(line, name)| (*line, name.to_string()))
        .collect();
        assert_eq!(lines.0, expected);
    }

    /// Regression: a quoted value whose last character is a line break (a remark typed with
    /// Enter at its end) kept the row numbers of the rows after it right and dropped nothing.
    #[test]
    fn a_quoted_value_ending_in_a_line_break_keeps_its_row_and_the_next() {
        for (text, expected) in [
            ("姓名,备注\n张三,\"住院\n\"\n李四,b\n王五,c\n", [1, 2, 4, 5]),
            (
                "姓名,备注\r\n张三,\"住院\r\n\"\r\n李四,b\r\n王五,c\r\n",
                [1, 2, 4, 5],
            ),
            ("姓名,备注\n张三,\"住院\n\n\"\n李四,b\n王五,c", [1, 2, 5, 6]),
            ("姓名,备注\n\"张三\n\",a\n李四,b\n王五,c\n", [1, 2, 4, 5]),
            (
                "姓名,备注\n张三,\"a\n\"\n李四,\"b\n\"\n王五,\"c\n\"",
                [1, 2, 4, 6],
            ),
            (
                "姓名,备注\r\n张三,\"a\r\n\"\r\n李四,\"b\r\n\"\r\n王五,\"c\r\n\"\r\n",
                [1, 2, 4, 6],
            ),
        ] {
            let file = file_with(text.as_bytes());
            let mut lines = Lines(Vec::new());
            read_text(file.path(), &ReadLimits::default(), &mut lines).unwrap();
            let rows: Vec<u32> = lines.0.iter().map(|(line, _)| *line).collect();
            assert_eq!(rows, expected, "{text:?}: {:?}", lines.0);
            let names: Vec<&str> = lines.0.iter().map(|(_, name)| name.trim_end()).collect();
            assert_eq!(names, ["姓名", "张三", "李四", "王五"], "{text:?}");
        }
    }

    #[test]
    fn delimiter_is_sniffed() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), '\t');
        assert_eq!(sniff_delimiter("a,b\n1,2\n"), ',');
        assert_eq!(sniff_delimiter("a;b\n1;2\n"), ';');
    }
}
