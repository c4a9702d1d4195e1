//! Reading workbooks in a child process with a memory budget.
//!
//! calamine sizes its buffers from counts the file declares (shared strings, sheet dimensions,
//! repeated rows and columns), and an allocation that fails aborts the whole process: a crafted
//! workbook of a few kilobytes would take the service down, and with it every other file of the
//! inbox, again at each restart. With isolation on (the `lifeline` binary turns it on at start,
//! [`isolate_workbooks`]), each workbook is read by a child `lifeline` process whose address
//! space is capped; its rows come back over a pipe in a compact binary form (one tag byte per
//! frame, below). A child that runs out of its budget or dies ends as an error for that one
//! file, and the service goes on with the next. CSV is read in the process itself: its reader is
//! lifeline's own and bounded by [`ReadLimits`].

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;

use chrono::DateTime;

use super::{CellValue, FileFormat, FileInfo, ReadError, ReadLimits, RowSink, SheetMeta};

/// The first argument that makes `lifeline` a workbook reader (see [`worker_main`]).
pub const WORKER_ARG: &str = "__read-workbook";

/// How workbooks are read out of process.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// The `lifeline` executable to start as the reader.
    pub exe: PathBuf,
    /// Address space one reader may use, in bytes.
    pub memory_bytes: u64,
}

static ISOLATION: OnceLock<Isolation> = OnceLock::new();

/// Reads every workbook of this process in a child process from now on. The first call wins.
pub fn isolate_workbooks(isolation: Isolation) {
    let _ = ISOLATION.set(isolation);
}

/// The isolation in force, if any.
pub fn isolation() -> Option<&'static Isolation> {
    ISOLATION.get()
}

// Frame tags, child to parent. Integers are little-endian; a string is its byte length (u32)
// then its UTF-8 bytes.
const START_SHEET: u8 = 1; // name, hidden (u8)
const ROW: u8 = 2; // row (u32), cell count (u32), cells
const END_SHEET: u8 = 3;
const DONE: u8 = 4; // stopped (u8)
const FAILED: u8 = 5; // error kind (u8), then its fields

// Cell tags.
const EMPTY: u8 = 0;
const TEXT: u8 = 1; // string
const INT: u8 = 2; // i64
const FLOAT: u8 = 3; // f64
const BOOL: u8 = 4; // u8
const DATE_TIME: u8 = 5; // seconds since 1970 (i64), nanoseconds (u32)
const ERROR: u8 = 6; // string

// Error kinds.
const PASSWORD: u8 = 1;
const ZIP_BOMB: u8 = 2; // part, uncompressed (u64), compressed (u64), limit
const CORRUPT: u8 = 3; // message
const IO: u8 = 4; // message

/// Reads `path` (a workbook of `format`) in a child process into `sink`.
pub(super) fn read_in_child(
    isolation: &Isolation,
    path: &Path,
    format: FileFormat,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> Result<FileInfo, ReadError> {
    let limits_json = serde_json::to_string(limits).unwrap_or_default();
    let mut child = Command::new(&isolation.exe)
        .arg(WORKER_ARG)
        .arg(format.as_str())
        .arg(isolation.memory_bytes.to_string())
        .arg(limits_json)
        .arg(path)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            ReadError::Io(std::io::Error::other(format!(
                "cannot start the workbook reader {}: {error}",
                isolation.exe.display()
            )))
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    // read beside the rows so a chatty child can never fill the pipe and stall
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.take(64 << 10).read_to_string(&mut text);
        text
    });
    let mut info = FileInfo {
        format: format.as_str().into(),
        ..FileInfo::default()
    };
    let decoded = decode(&mut BufReader::with_capacity(1 << 16, stdout), limits, sink);
    let outcome = match decoded {
        Ok(Decoded::Stopped) => {
            // the sink has what it needs (or an error of its own): the rest is not read
            let _ = child.kill();
            info.stopped = true;
            Some(Ok(()))
        }
        Ok(Decoded::Done { stopped }) => {
            info.stopped = stopped;
            Some(Ok(()))
        }
        Ok(Decoded::Failed(error)) => Some(Err(error)),
        Ok(Decoded::Ended) => None,
        Err(error) => {
            let _ = child.kill();
            Some(Err(ReadError::Corrupt(format!(
                "the workbook reader sent rows that cannot be decoded: {error}"
            ))))
        }
    };
    let status = child.wait();
    let stderr = stderr.join().unwrap_or_default();
    match outcome {
        Some(result) => result.map(|()| info),
        None => Err(died(isolation, status, &stderr)),
    }
}

/// The error for a reader that ended without a last frame.
fn died(
    isolation: &Isolation,
    status: std::io::Result<std::process::ExitStatus>,
    stderr: &str,
) -> ReadError {
    let telling = |line: &&str| {
        line.contains("memory allocation of")
            || line.contains("capacity overflow")
            || line.contains("panicked")
    };
    let last = stderr
        .lines()
        .find(telling)
        .or_else(|| stderr.lines().rev().find(|line| !line.trim().is_empty()))
        .unwrap_or("")
        .trim();
    let how = match status {
        Ok(status) => describe_status(status),
        Err(error) => format!("could not be waited for: {error}"),
    };
    if stderr.contains("memory allocation of") || stderr.contains("capacity overflow") {
        ReadError::OverBudget {
            budget_mib: isolation.memory_bytes >> 20,
            detail: last.to_string(),
        }
    } else {
        ReadError::ReaderDied {
            how,
            detail: if last.is_empty() {
                "no message".into()
            } else {
                last.to_string()
            },
        }
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return match signal {
                libc::SIGKILL => {
                    "was killed (signal 9: out of memory, or stopped by an operator)".into()
                }
                libc::SIGABRT => "aborted (signal 6)".into(),
                libc::SIGSEGV => "crashed (signal 11)".into(),
                other => format!("ended on signal {other}"),
            };
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

enum Decoded {
    /// The sink asked to stop.
    Stopped,
    /// The child read the whole workbook.
    Done { stopped: bool },
    /// The child reported a reading error.
    Failed(ReadError),
    /// The stream ended without a last frame: the child died.
    Ended,
}

/// One frame of a stream, read back.
pub(crate) enum Frame {
    /// A sheet starts.
    StartSheet(SheetMeta),
    /// A row of the current sheet: its number and cells.
    Row(u32, Vec<CellValue>),
    /// The current sheet ended.
    EndSheet,
    /// The writer finished (`true`: it was asked to stop early).
    Done(bool),
    /// The writer reported a reading error.
    Failed(ReadError),
}

/// Reads the next frame, `None` at the end of the stream. Every count and length is bounded
/// (`max_string` bytes, `max_columns` cells) before anything is allocated for it.
pub(crate) fn read_frame(
    input: &mut impl BufRead,
    max_string: usize,
    max_columns: usize,
) -> std::io::Result<Option<Frame>> {
    let mut tag = [0u8; 1];
    if input.read(&mut tag)? == 0 {
        return Ok(None);
    }
    Ok(Some(match tag[0] {
        START_SHEET => {
            let name = read_string(input, max_string)?;
            let hidden = read_u8(input)? != 0;
            Frame::StartSheet(SheetMeta { name, hidden })
        }
        ROW => {
            let row = read_u32(input)?;
            let count = read_u32(input)? as usize;
            if count > max_columns {
                return Err(invalid(format!("a row of {count} cells")));
            }
            let mut cells = Vec::with_capacity(count);
            for _ in 0..count {
                cells.push(read_cell(input, max_string)?);
            }
            Frame::Row(row, cells)
        }
        END_SHEET => Frame::EndSheet,
        DONE => Frame::Done(read_u8(input)? != 0),
        FAILED => Frame::Failed(read_error(input, max_string)?),
        other => return Err(invalid(format!("frame tag {other}"))),
    }))
}

/// Feeds the child's frames to `sink`.
fn decode(
    input: &mut impl BufRead,
    limits: &ReadLimits,
    sink: &mut dyn RowSink,
) -> std::io::Result<Decoded> {
    let max_string = (limits.max_cell_bytes as usize).max(1 << 10) + 64;
    loop {
        let flow = match read_frame(input, max_string, limits.max_columns)? {
            None => return Ok(Decoded::Ended),
            Some(Frame::StartSheet(sheet)) => sink.start_sheet(&sheet),
            Some(Frame::Row(row, mut cells)) => sink.row(row, &mut cells),
            Some(Frame::EndSheet) => sink.end_sheet(),
            Some(Frame::Done(stopped)) => return Ok(Decoded::Done { stopped }),
            Some(Frame::Failed(error)) => return Ok(Decoded::Failed(error)),
        };
        if flow.is_break() {
            return Ok(Decoded::Stopped);
        }
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

fn read_u8(input: &mut impl Read) -> std::io::Result<u8> {
    let mut byte = [0u8; 1];
    input.read_exact(&mut byte)?;
    Ok(byte[0])
}

fn read_u32(input: &mut impl Read) -> std::io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

fn read_u64(input: &mut impl Read) -> std::io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

fn read_string(input: &mut impl Read, max: usize) -> std::io::Result<String> {
    let len = read_u32(input)? as usize;
    if len > max {
        return Err(invalid(format!("a string of {len} bytes")));
    }
    let mut bytes = vec![0u8; len];
    input.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| invalid("a string that is not UTF-8".into()))
}

fn read_cell(input: &mut impl Read, max_string: usize) -> std::io::Result<CellValue> {
    Ok(match read_u8(input)? {
        EMPTY => CellValue::Empty,
        TEXT => CellValue::Text(read_string(input, max_string)?),
        INT => CellValue::Int(read_u64(input)? as i64),
        FLOAT => CellValue::Float(f64::from_bits(read_u64(input)?)),
        BOOL => CellValue::Bool(read_u8(input)? != 0),
        DATE_TIME => {
            let seconds = read_u64(input)? as i64;
            let nanos = read_u32(input)?;
            let value = DateTime::from_timestamp(seconds, nanos)
                .ok_or_else(|| invalid(format!("a date of {seconds} seconds")))?;
            CellValue::DateTime(value.naive_utc())
        }
        ERROR => CellValue::Error(read_string(input, max_string)?),
        other => return Err(invalid(format!("cell tag {other}"))),
    })
}

fn read_error(input: &mut impl Read, max: usize) -> std::io::Result<ReadError> {
    Ok(match read_u8(input)? {
        PASSWORD => ReadError::PasswordProtected,
        ZIP_BOMB => ReadError::ZipBomb {
            part: read_string(input, max)?,
            uncompressed: read_u64(input)?,
            compressed: read_u64(input)?,
            limit: read_string(input, max)?,
        },
        CORRUPT => ReadError::Corrupt(read_string(input, max)?),
        IO => ReadError::Io(std::io::Error::other(read_string(input, max)?)),
        other => return Err(invalid(format!("error kind {other}"))),
    })
}

/// The writing side: frames to the child's stdout, or to a staging file
/// ([`crate::ingest::pull::Staging`]).
pub(crate) struct FrameSink<W: Write> {
    out: W,
    /// Set when the parent stopped listening (it kills the child soon after).
    closed: bool,
}

impl<W: Write> FrameSink<W> {
    /// Frames written to `out`.
    pub(crate) fn new(out: W) -> Self {
        FrameSink { out, closed: false }
    }

    /// Whether every frame so far was written.
    pub(crate) fn is_ok(&self) -> bool {
        !self.closed
    }

    /// The writer, to flush and rewind.
    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    fn put(&mut self, bytes: &[u8]) {
        if !self.closed && self.out.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    fn put_string(&mut self, text: &str) {
        self.put(&(text.len() as u32).to_le_bytes());
        self.put(text.as_bytes());
    }

    fn flow(&self) -> ControlFlow<()> {
        if self.closed {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn put_error(&mut self, error: &ReadError) {
        self.put(&[FAILED]);
        match error {
            ReadError::PasswordProtected => self.put(&[PASSWORD]),
            ReadError::ZipBomb {
                part,
                uncompressed,
                compressed,
                limit,
            } => {
                self.put(&[ZIP_BOMB]);
                self.put_string(part);
                self.put(&uncompressed.to_le_bytes());
                self.put(&compressed.to_le_bytes());
                self.put_string(limit);
            }
            ReadError::Io(error) => {
                self.put(&[IO]);
                self.put_string(&error.to_string());
            }
            ReadError::Corrupt(message) => {
                self.put(&[CORRUPT]);
                self.put_string(message);
            }
            other => {
                self.put(&[CORRUPT]);
                self.put_string(&other.to_string());
            }
        }
    }
}

impl<W: Write> RowSink for FrameSink<W> {
    fn start_sheet(&mut self, sheet: &SheetMeta) -> ControlFlow<()> {
        self.put(&[START_SHEET]);
        self.put_string(&sheet.name);
        self.put(&[u8::from(sheet.hidden)]);
        self.flow()
    }

    fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
        self.put(&[ROW]);
        self.put(&row.to_le_bytes());
        self.put(&(cells.len() as u32).to_le_bytes());
        for cell in cells.iter() {
            match cell {
                CellValue::Empty => self.put(&[EMPTY]),
                CellValue::Text(text) => {
                    self.put(&[TEXT]);
                    self.put_string(text);
                }
                CellValue::Int(value) => {
                    self.put(&[INT]);
                    self.put(&value.to_le_bytes());
                }
                CellValue::Float(value) => {
                    self.put(&[FLOAT]);
                    self.put(&value.to_bits().to_le_bytes());
                }
                CellValue::Bool(value) => self.put(&[BOOL, u8::from(*value)]),
                CellValue::DateTime(value) => {
                    let value = value.and_utc();
                    self.put(&[DATE_TIME]);
                    self.put(&value.timestamp().to_le_bytes());
                    self.put(&value.timestamp_subsec_nanos().to_le_bytes());
                }
                CellValue::Error(text) => {
                    self.put(&[ERROR]);
                    self.put_string(text);
                }
            }
        }
        self.flow()
    }

    fn end_sheet(&mut self) -> ControlFlow<()> {
        self.put(&[END_SHEET]);
        self.flow()
    }
}

/// `lifeline __read-workbook FORMAT MEMORY_BYTES LIMITS_JSON PATH`: caps its own address space,
/// reads the workbook and writes its frames to stdout. Started by the parent reader only.
pub fn worker_main(args: &[std::ffi::OsString]) -> ExitCode {
    let [format, memory, limits, path] = args else {
        eprintln!("usage: lifeline {WORKER_ARG} FORMAT MEMORY_BYTES LIMITS_JSON PATH");
        return ExitCode::from(2);
    };
    let format = match format.to_str() {
        Some("xlsx") => FileFormat::Xlsx,
        Some("xlsb") => FileFormat::Xlsb,
        Some("xls") => FileFormat::Xls,
        Some("ods") => FileFormat::Ods,
        _ => {
            eprintln!("not a workbook format: {}", format.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let Some(memory) = memory.to_str().and_then(|m| m.parse::<u64>().ok()) else {
        eprintln!("not a number of bytes: {}", memory.to_string_lossy());
        return ExitCode::from(2);
    };
    let limits: ReadLimits = match limits.to_str().map(serde_json::from_str) {
        Some(Ok(limits)) => limits,
        _ => {
            eprintln!("not reading limits: {}", limits.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    limit_address_space(memory);
    let stdout = std::io::stdout();
    let mut sink = FrameSink {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        closed: false,
    };
    match super::workbook::read_workbook(Path::new(path), format, &limits, &mut sink) {
        Ok(info) => {
            sink.put(&[DONE, u8::from(info.stopped)]);
        }
        Err(error) => sink.put_error(&error),
    }
    let _ = sink.out.flush();
    ExitCode::SUCCESS
}

/// Caps this process's address space: an allocation past it fails (and aborts this reader only).
fn limit_address_space(bytes: u64) {
    #[cfg(unix)]
    {
        let limit = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct passed by reference and changes only this
        // process's own limit.
        let refused = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0;
        if refused {
            eprintln!(
                "cannot limit the reader's memory: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(u32, Vec<CellValue>)>, Vec<SheetMeta>);

    impl RowSink for Collect {
        fn start_sheet(&mut self, sheet: &SheetMeta) -> ControlFlow<()> {
            self.1.push(sheet.clone());
            ControlFlow::Continue(())
        }
        fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
            self.0.push((row, std::mem::take(cells)));
            ControlFlow::Continue(())
        }
        fn end_sheet(&mut self) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
    }

    /// Every kind of cell survives the pipe unchanged.
    #[test]
    fn frames_carry_every_cell_kind() {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_nano_opt(13, 5, 7, 250_000_000)
            .unwrap();
        let mut cells = vec![
            CellValue::Empty,
            CellValue::Text("张三 341125".into()),
            CellValue::Int(-42),
            CellValue::Float(3.41221196905121E+17),
            CellValue::Bool(true),
            CellValue::DateTime(date),
            CellValue::Error("#N/A".into()),
        ];
        let expected = cells.clone();
        let mut sink = FrameSink {
            out: Vec::new(),
            closed: false,
        };
        let _ = sink.start_sheet(&SheetMeta {
            name: "花名册".into(),
            hidden: true,
        });
        let _ = sink.row(7, &mut cells);
        let _ = sink.end_sheet();
        sink.put(&[DONE, 0]);
        let mut collect = Collect(Vec::new(), Vec::new());
        let decoded = decode(
            &mut sink.out.as_slice(),
            &ReadLimits::default(),
            &mut collect,
        )
        .unwrap();
        assert!(matches!(decoded, Decoded::Done { stopped: false }));
        assert_eq!(collect.1[0].name, "花名册");
        assert!(collect.1[0].hidden);
        assert_eq!(collect.0, vec![(7, expected)]);
    }

    /// A damaged stream is refused before anything is allocated for its counts.
    #[test]
    fn a_stream_claiming_huge_counts_is_refused() {
        let mut bytes = vec![ROW];
        bytes.extend(1u32.to_le_bytes());
        bytes.extend(u32::MAX.to_le_bytes());
        let mut collect = Collect(Vec::new(), Vec::new());
        let decoded = decode(&mut bytes.as_slice(), &ReadLimits::default(), &mut collect);
        assert!(decoded.is_err());
        let mut bytes = vec![START_SHEET];
        bytes.extend(u32::MAX.to_le_bytes());
        assert!(decode(&mut bytes.as_slice(), &ReadLimits::default(), &mut collect).is_err());
    }
}
