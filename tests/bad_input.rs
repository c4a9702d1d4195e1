//! Bad input, as data officers send it: empty, truncated, corrupt, mislabelled, encrypted and
//! zip-bomb workbooks, CSV in odd encodings, formula cells, hidden and notes sheets, duplicated
//! and merged headers, header-only files, files no mapping fits, IDs typed as numbers, legacy
//! 15-digit IDs, footer rows and impossible dates.
//!
//! Every test runs the real ingest through the library API into a fresh SQLite registry and
//! checks what matters to the officer: the receipt's status, an error that names the problem,
//! nothing stored for a failed file, the receipt JSON in the receipts folder — and that ingest
//! goes on with the next file (each bad file is ingested together with a good one).
//!
//! Most inputs are built here with rust_xlsxwriter and the zip crate; the few binary fixtures
//! that cannot be (password-protected and zip-bomb workbooks) are in `tests/fixtures/`, made by
//! `tests/fixtures/make_fixtures.py`.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calamine::Reader;
use lifeline::ingest::{FileStatus, IngestOptions, Ingestor, Receipt};
use lifeline::mapping::MappingSet;
use lifeline::normalize::id_number::{check_digit, upgrade_15_to_18};
use lifeline::registry::{Registry, Table};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet};
use serde_json::Value;
use sqlx::Row;
use tempfile::TempDir;
use tokio::sync::Mutex;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fresh registry, input folder and receipts folder.
struct Env {
    dir: TempDir,
    registry: Registry,
    mappings: MappingSet,
}

impl Env {
    async fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("in")).expect("input folder");
        let url = format!("sqlite:{}", dir.path().join("r.db").display());
        let registry = Registry::open(&url).await.expect("open registry");
        let mappings = MappingSet::built_in().expect("built-in mappings");
        Env {
            dir,
            registry,
            mappings,
        }
    }

    /// Where an input file of this name goes.
    fn input(&self, name: &str) -> PathBuf {
        self.dir.path().join("in").join(name)
    }

    /// Writes an input file.
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.input(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    fn receipts_dir(&self) -> PathBuf {
        self.dir.path().join("receipts")
    }

    async fn ingest(&self, paths: &[PathBuf]) -> Vec<Receipt> {
        self.ingest_with(paths, None).await
    }

    async fn ingest_with(&self, paths: &[PathBuf], mapping: Option<&str>) -> Vec<Receipt> {
        let options = IngestOptions {
            mapping: mapping.map(str::to_string),
            receipts_dir: Some(self.receipts_dir()),
            ..IngestOptions::default()
        };
        let receipts = Ingestor::new(&self.registry, &self.mappings, options)
            .ingest_paths(paths)
            .await
            .expect("the registry itself must not fail");
        assert_eq!(receipts.len(), paths.len(), "one receipt per file");
        receipts
    }

    async fn count(&self, table: Table) -> i64 {
        self.registry.count(table).await.expect("count")
    }

    /// Runs a query and returns every column of every row as optional text.
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(self.registry.pool())
            .await
            .expect("query");
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        if let Ok(text) = row.try_get::<Option<String>, _>(i) {
                            text
                        } else if let Ok(number) = row.try_get::<Option<i64>, _>(i) {
                            number.map(|n| n.to_string())
                        } else {
                            row.try_get::<Option<f64>, _>(i)
                                .ok()
                                .flatten()
                                .map(|n| n.to_string())
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Checks a failed file: status, error naming the problem, nothing stored, receipt written.
    async fn assert_failed(&self, receipt: &Receipt, keywords: &[&str]) {
        assert_eq!(
            receipt.status,
            FileStatus::Failed,
            "{} should have failed: {}",
            receipt.file,
            receipt.summary()
        );
        let error = receipt.error.as_deref().unwrap_or_default();
        for keyword in keywords {
            assert!(
                error.contains(keyword),
                "the error of {} should mention {keyword:?}: {error}",
                receipt.file
            );
        }
        assert!(receipt.rejects_workbook.is_none());
        if !receipt.sha256.is_empty() {
            assert!(
                self.registry
                    .find_file(&receipt.sha256)
                    .await
                    .expect("find_file")
                    .is_none(),
                "a failed file must leave no row in `files`"
            );
        }
        let json = self.receipt_json(receipt);
        assert_eq!(json["status"], "failed");
        assert_eq!(json["error"].as_str(), Some(error));
        assert_eq!(json["file"].as_str(), Some(receipt.file.as_str()));
    }

    /// Checks a file that was stored.
    async fn assert_ingested(&self, receipt: &Receipt, accepted: u64) {
        assert_eq!(
            receipt.status,
            FileStatus::Ingested,
            "{} should have been ingested: {}",
            receipt.file,
            receipt.summary()
        );
        assert!(receipt.error.is_none());
        assert_eq!(
            receipt.rows_accepted,
            accepted,
            "rows accepted: {}",
            receipt.summary()
        );
        let stored = self
            .registry
            .find_file(&receipt.sha256)
            .await
            .expect("find_file")
            .expect("an ingested file has its row in `files`");
        assert_eq!(Some(stored.id), receipt.file_id);
        let json = self.receipt_json(receipt);
        assert_eq!(json["status"], "ingested");
        assert_eq!(json["rows_accepted"].as_u64(), Some(accepted));
    }

    /// The receipt JSON written to the receipts folder.
    fn receipt_json(&self, receipt: &Receipt) -> Value {
        let path = PathBuf::from(
            receipt
                .receipt_path
                .as_deref()
                .unwrap_or_else(|| panic!("no receipt written for {}", receipt.file)),
        );
        assert_eq!(
            path.parent(),
            Some(self.receipts_dir().as_path()),
            "receipts go to the receipts folder"
        );
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).expect("receipt is JSON")
    }

    /// Checks the registry holds exactly the good file(s): `files` files and `records` records.
    async fn assert_stored(&self, files: i64, records: i64) {
        assert_eq!(self.count(Table::Files).await, files, "files stored");
        assert_eq!(self.count(Table::Records).await, records, "records stored");
    }
}

/// An 18-character resident ID number with the right check digit.
fn id18(first17: &str) -> String {
    let bytes: [u8; 17] = first17.as_bytes().try_into().expect("17 digits");
    format!("{first17}{}", check_digit(&bytes) as char)
}

/// The health export header (住院费用结算明细).
const HEALTH_HEADER: [&str; 4] = ["姓名", "身份证号", "入院日期", "个人自付"];

/// A good health CSV with two rows.
fn good_csv() -> String {
    format!(
        "姓名,身份证号,入院日期,个人自付\n张三,{},2026-01-02,100.50\n李四,{},2026-02-03,88\n",
        id18("34112519850403123"),
        id18("34112519900715234")
    )
}

/// Rows accepted from [`good_csv`].
const GOOD_ROWS: u64 = 2;

/// Writes string rows from `first_row` (0-based), leaving empty strings blank.
fn write_rows(sheet: &mut Worksheet, first_row: u32, rows: &[Vec<String>]) {
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet
                    .write_string(first_row + r as u32, c as u16, value)
                    .expect("write cell");
            }
        }
    }
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// A small valid health workbook (one sheet, header and two rows) as bytes.
fn good_xlsx_bytes() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("住院明细").expect("name");
    write_rows(
        sheet,
        0,
        &[
            strings(&HEALTH_HEADER),
            vec![
                "张三".into(),
                id18("34112519850403123"),
                "2026-01-02".into(),
                "100.5".into(),
            ],
            vec![
                "李四".into(),
                id18("34112519900715234"),
                "2026-02-03".into(),
                "88".into(),
            ],
        ],
    );
    workbook.save_to_buffer().expect("xlsx")
}

/// The same workbook with one part replaced (stored uncompressed); other parts copied as they are.
fn replace_part(xlsx: &[u8], part: &str, content: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).expect("zip");
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut replaced = false;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).expect("entry");
        if entry.name().is_ok_and(|name| name == part) {
            drop(entry);
            writer
                .start_file(
                    part,
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Stored),
                )
                .expect("start part");
            writer.write_all(content).expect("write part");
            replaced = true;
        } else {
            writer.raw_copy_file(entry).expect("copy part");
        }
    }
    assert!(replaced, "{part} is not in the workbook");
    writer.finish().expect("finish zip").into_inner()
}

/// Peak resident memory of this process so far (VmHWM), in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS where the kernel allows it (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Zip-bomb tests measure the process's peak memory: they run one at a time.
static MEMORY: Mutex<()> = Mutex::const_new(());

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// Files that cannot be read at all
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zero_byte_files_fail_and_ingest_goes_on() {
    let env = Env::new().await;
    let empty_xlsx = env.write("a_empty.xlsx", b"");
    let empty_csv = env.write("b_empty.csv", b"");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[empty_xlsx, empty_csv, good]).await;
    for receipt in &receipts[..2] {
        env.assert_failed(receipt, &["empty", "0 bytes"]).await;
        assert_eq!(receipt.size_bytes, 0);
    }
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

#[tokio::test]
async fn truncated_xlsx_fails_as_damaged() {
    let env = Env::new().await;
    let whole = good_xlsx_bytes();
    let bad = env.write("a_truncated.xlsx", &whole[..whole.len() / 2]);
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(&receipts[0], &["damaged or truncated", "save it again"])
        .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

#[tokio::test]
async fn corrupt_xlsx_with_garbage_xml_fails_as_damaged() {
    let env = Env::new().await;
    let garbage = b"\x00\x01 this is not <xml>> at all </sheetData></row";
    let bad_sheet = env.write(
        "a_bad_sheet.xlsx",
        &replace_part(&good_xlsx_bytes(), "xl/worksheets/sheet1.xml", garbage),
    );
    let bad_workbook = env.write(
        "b_bad_workbook.xlsx",
        &replace_part(&good_xlsx_bytes(), "xl/workbook.xml", garbage),
    );
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad_sheet, bad_workbook, good]).await;
    env.assert_failed(&receipts[0], &["damaged"]).await;
    env.assert_failed(&receipts[1], &["damaged"]).await;
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

/// A sheet that is fine for 2,500 rows (more than one batch of 2,000 reaches the writer) and then
/// breaks: the file fails and the rows already sent are rolled back.
#[tokio::test]
async fn xlsx_damaged_halfway_stores_nothing() {
    let env = Env::new().await;
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    let cell = |r: u32, c: char, text: &str| {
        format!(r#"<c r="{c}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    };
    xml.push_str(r#"<row r="1">"#);
    for (c, label) in ['A', 'B', 'C', 'D'].into_iter().zip(HEALTH_HEADER) {
        xml.push_str(&cell(1, c, label));
    }
    xml.push_str("</row>");
    for r in 2..=2_501u32 {
        xml.push_str(&format!(
            r#"<row r="{r}">{}{}{}<c r="D{r}"><v>10</v></c></row>"#,
            cell(r, 'A', "张三"),
            cell(r, 'B', &id18("34112519850403123")),
            cell(r, 'C', "2026-01-02"),
        ));
    }
    xml.push_str(r#"<row r="2502"><c r="A2502" t="inlineStr"><is><t>王五</t></is></c><c r="B2502" <<< garbage"#);
    let bad = env.write(
        "a_damaged_halfway.xlsx",
        &replace_part(
            &good_xlsx_bytes(),
            "xl/worksheets/sheet1.xml",
            xml.as_bytes(),
        ),
    );
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(&receipts[0], &["damaged"]).await;
    assert_eq!(receipts[0].rows_read, 0, "{}", receipts[0].summary());
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
    assert_eq!(env.count(Table::Mentions).await, GOOD_ROWS as i64);
    assert_eq!(env.count(Table::Rejects).await, 0);
}

#[tokio::test]
async fn text_file_named_xlsx_fails_as_mislabelled() {
    let env = Env::new().await;
    let bad = env.write(
        "a_note.xlsx",
        "这不是表格，请见附件。\nThis is just a note.\n".as_bytes(),
    );
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(&receipts[0], &[".xlsx", "plain text"])
        .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

const HTML_TABLE: &str = r#"<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body><table border="1">
<tr><td>姓名</td><td>身份证号</td><td>入院日期</td><td>个人自付</td></tr>
<tr><td>张三</td><td>341125198504031234</td><td>2026-01-02</td><td>100.50</td></tr>
</table></body></html>
"#;

/// Web systems "export to Excel" by writing an HTML table into a file named .xls.
#[tokio::test]
async fn html_table_saved_as_xls_fails_with_advice() {
    let env = Env::new().await;
    let bad = env.write("a_web_export.xls", HTML_TABLE.as_bytes());
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(&receipts[0], &[".xls", "HTML", "save it as .xlsx"])
        .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

/// The same HTML export as many web systems write it: a blank line (left by server-side
/// templates) or a byte-order mark before `<html>`.
#[tokio::test]
async fn html_table_saved_as_xls_after_blank_line_or_bom_is_recognised() {
    let env = Env::new().await;
    let blank_line = env.write(
        "a_web_export.xls",
        format!("\r\n\r\n{HTML_TABLE}").as_bytes(),
    );
    let bom = env.write(
        "b_web_export.xls",
        format!("\u{FEFF}{HTML_TABLE}").as_bytes(),
    );
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[blank_line, bom, good]).await;
    env.assert_failed(&receipts[0], &["HTML", "save it as .xlsx"])
        .await;
    env.assert_failed(&receipts[1], &["HTML", "save it as .xlsx"])
        .await;
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
}

#[tokio::test]
async fn password_protected_workbooks_fail_with_advice() {
    let env = Env::new().await;
    let xlsx = env.input("a_password_protected.xlsx");
    std::fs::copy(fixture("password_protected.xlsx"), &xlsx).expect("copy fixture");
    let ods = env.write("b_password_protected.ods", &encrypted_ods());
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[xlsx, ods, good]).await;
    for receipt in &receipts[..2] {
        env.assert_failed(receipt, &["password-protected", "without a password"])
            .await;
    }
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

/// An OpenDocument spreadsheet saved with a password, as LibreOffice writes one: the mimetype
/// and manifest in the clear, the manifest describing each part's encryption, content.xml
/// unreadable. Regression: this said "damaged or truncated" where .xlsx says
/// "password-protected".
fn encrypted_ods() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("mimetype", stored).unwrap();
    writer
        .write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    writer.start_file("META-INF/manifest.xml", stored).unwrap();
    writer
        .write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="2841">
  <manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k" manifest:checksum="k0bq3mS2dsn1d3KuyN9eXwhEMrJ6Xw0YJp5kzZ4Kd+4=">
   <manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" manifest:initialisation-vector="n3ddQp2X0s3r0cwwYq1q8w=="/>
   <manifest:start-key-generation manifest:start-key-generation-name="http://www.w3.org/2000/09/xmldsig#sha256" manifest:key-size="32"/>
   <manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:key-size="32" manifest:iteration-count="100000" manifest:salt="0f1ykGk4vL3eYy3b5yv0Rg=="/>
  </manifest:encryption-data>
 </manifest:file-entry>
</manifest:manifest>"#,
        )
        .unwrap();
    writer.start_file("content.xml", stored).unwrap();
    let noise: Vec<u8> = (0..2848u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    writer.write_all(&noise).unwrap();
    writer.finish().unwrap().into_inner()
}

/// Regression: a CSV with one quote never closed was "ingested, 0 rows" with exit 0 at 1 GB of
/// memory (the rest of the file read as one value), and its hash then made the mended file a
/// duplicate. Now it is a damaged file, found within the first MiB after the quote.
#[tokio::test]
async fn a_quote_never_closed_is_a_damaged_file_found_in_bounded_memory() {
    let _one_at_a_time = MEMORY.lock().await;
    let env = Env::new().await;
    let mut text = String::from("姓名,身份证号,入院日期,个人自付\n");
    text.push_str(&format!(
        "张三,{},2026-01-02,\"100.50\n",
        id18("34112519850403123")
    ));
    let row = format!("李四,{},2026-02-03,88\n", id18("34112519900715234"));
    while text.len() < 64 << 20 {
        text.push_str(&row);
    }
    let bad = env.write("a_open_quote.csv", text.as_bytes());
    // a quote opened near the end, the file cut short after it
    let short = format!(
        "{}王五,{},2026-03-04,\"12\n赵六,{},2026-03-05,9\n",
        good_csv(),
        id18("34112519750101345"),
        id18("34112519800202456")
    );
    let cut = env.write("b_cut_short.csv", short.as_bytes());
    let good = env.write("z_good.csv", good_csv().as_bytes());
    reset_peak_rss();
    let before = peak_rss_kb();
    let receipts = env.ingest(&[bad, cut, good]).await;
    let grown_mb = peak_rss_kb().saturating_sub(before) / 1024;
    env.assert_failed(&receipts[0], &["line 2", "never closed"])
        .await;
    env.assert_failed(&receipts[1], &["line 4", "never closed"])
        .await;
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
    assert!(grown_mb < 200, "reading grew memory by {grown_mb} MB");
    // the mended file is taken, not a duplicate of the damaged one
    let mended = env.write("c_mended.csv", short.replace("\"12", "12").as_bytes());
    let receipts = env.ingest(&[mended]).await;
    assert_eq!(
        receipts[0].status,
        FileStatus::Ingested,
        "{}",
        receipts[0].summary()
    );
    assert_eq!(receipts[0].rows_accepted, 4);
}

/// A sheet part that inflates to 2.2 GB (the zip directory says so) is refused from the
/// directory, before anything is inflated: quickly and in little memory.
#[tokio::test]
async fn zip_bomb_is_refused_quickly_in_bounded_memory() {
    let _one_at_a_time = MEMORY.lock().await;
    let env = Env::new().await;
    let bad = env.input("a_zip_bomb.xlsx");
    std::fs::copy(fixture("zip_bomb.xlsx"), &bad).expect("copy fixture");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    reset_peak_rss();
    let before = peak_rss_kb();
    let started = Instant::now();
    let receipts = env.ingest(&[bad, good]).await;
    let elapsed = started.elapsed();
    let growth_mb = peak_rss_kb().saturating_sub(before) / 1024;
    env.assert_failed(
        &receipts[0],
        &["xl/worksheets/sheet1.xml", "zip bomb", "2200000636"],
    )
    .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
    assert!(
        elapsed < Duration::from_secs(10),
        "refusing a zip bomb took {elapsed:?}"
    );
    assert!(
        growth_mb < 300,
        "peak memory grew by {growth_mb} MB while refusing a zip bomb"
    );
}

/// The same bomb with a lying zip directory (it declares the 256 MiB sheet as 4,096 bytes): the
/// directory check lets it through, so reading must stop at the declared size.
#[tokio::test]
async fn zip_bomb_with_lying_sizes_stops_at_the_declared_size() {
    let _one_at_a_time = MEMORY.lock().await;
    let env = Env::new().await;
    let bad = env.input("a_zip_bomb_lying.xlsx");
    std::fs::copy(fixture("zip_bomb_lying.xlsx"), &bad).expect("copy fixture");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    reset_peak_rss();
    let before = peak_rss_kb();
    let started = Instant::now();
    let receipts = env.ingest(&[bad, good]).await;
    let elapsed = started.elapsed();
    let growth_mb = peak_rss_kb().saturating_sub(before) / 1024;
    env.assert_failed(&receipts[0], &["damaged"]).await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
    assert!(
        elapsed < Duration::from_secs(10),
        "reading a lying zip bomb took {elapsed:?}"
    );
    assert!(
        growth_mb < 300,
        "peak memory grew by {growth_mb} MB while reading a lying zip bomb"
    );
}

// ---------------------------------------------------------------------------------------------
// Text encodings
// ---------------------------------------------------------------------------------------------

/// A CSV saved in Windows-1252 (`José`): valid as neither UTF-8 nor GBK/GB18030.
#[tokio::test]
async fn csv_in_no_cjk_encoding_fails_naming_the_encodings() {
    let env = Env::new().await;
    let mut bytes = b"Name,Admission,Paid\nJos".to_vec();
    bytes.push(0xE9); // é in Windows-1252
    bytes.extend_from_slice(b",2026-01-02,100\n");
    let bad = env.write("a_latin1.csv", &bytes);
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(
        &receipts[0],
        &[
            "not valid UTF-8, GBK or GB18030",
            "offset",
            "save it as UTF-8",
        ],
    )
    .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

/// The offset in the message lets an officer (or IT) find the bad byte in a hex editor.
#[tokio::test]
async fn csv_in_no_cjk_encoding_names_the_offset_of_the_bad_byte() {
    let env = Env::new().await;
    let mut bytes = b"Name,Admission,Paid\nJos".to_vec();
    let bad_offset = bytes.len();
    bytes.push(0xE9);
    bytes.extend_from_slice(b",2026-01-02,100\n");
    let bad = env.write("a_latin1.csv", &bytes);
    let receipts = env.ingest(&[bad]).await;
    env.assert_failed(
        &receipts[0],
        &[&format!("first bad byte at offset {bad_offset})")],
    )
    .await;
}

/// Mentions as (role, name, id_raw, id_status, id_number, phone), in row order.
async fn mentions(env: &Env) -> Vec<Vec<Option<String>>> {
    env.rows(
        "SELECT role, name, id_raw, id_status, id_number, phone FROM mentions \
         ORDER BY file_id, sheet, row_number, id",
    )
    .await
}

#[tokio::test]
async fn csv_in_gbk_utf8_bom_and_utf16le_are_ingested() {
    let env = Env::new().await;
    let text = format!(
        "姓名,身份证号,入院日期,个人自付\n张三,{},2026-01-02,100.50\n",
        id18("34112519850403123")
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let gbk_path = env.write("a_gbk.csv", &gbk);
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.replace("张三", "李四").as_bytes());
    let bom_path = env.write("b_utf8_bom.csv", &bom);
    // Excel's and WPS's "Unicode text": UTF-16LE with a BOM, tab-separated. (Their CRLF line
    // ends are tested in `csv_with_windows_line_endings_reads_every_row_at_its_line`.)
    let tabbed = text.replace("张三", "王五").replace(',', "\t");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tabbed.encode_utf16().flat_map(u16::to_le_bytes));
    let utf16_path = env.write("c_utf16le.txt", &utf16);
    let receipts = env.ingest(&[gbk_path, bom_path, utf16_path]).await;
    let encodings: Vec<&str> = receipts.iter().map(|r| r.encoding.as_str()).collect();
    assert_eq!(encodings, ["gb18030", "utf-8-bom", "utf-16le"]);
    for receipt in &receipts {
        env.assert_ingested(receipt, 1).await;
        assert_eq!(receipt.mappings, ["health"]);
        assert_eq!(receipt.sheets[0].header_rows, [1], "{}", receipt.summary());
        assert!(
            receipt.sheets[0].columns.iter().any(|c| c.column == "姓名"),
            "the first header cell is read without its BOM: {:?}",
            receipt.sheets[0].columns
        );
    }
    let names: Vec<Option<String>> = mentions(&env)
        .await
        .into_iter()
        .map(|m| m[1].clone())
        .collect();
    assert_eq!(
        names,
        [
            Some("张三".to_string()),
            Some("李四".to_string()),
            Some("王五".to_string())
        ]
    );
    let statuses = env.rows("SELECT DISTINCT id_status FROM mentions").await;
    assert_eq!(statuses, [[Some("valid".to_string())]]);
    env.assert_stored(3, 3).await;
}

/// CSV from Excel or WPS on Windows ends its lines with CRLF. Every row must be read, and row
/// numbers in rejects must be the line numbers the officer sees in a text editor.
#[tokio::test]
async fn csv_with_windows_line_endings_reads_every_row_at_its_line() {
    let env = Env::new().await;
    let text = format!(
        "姓名,身份证号,入院日期,个人自付\r\n张三,{},2026-01-02,100.50\r\n\
         李四,{},2026-02-30,88\r\n王五,{},2026-03-04,20\r\n",
        id18("34112519850403123"),
        id18("34112519900715234"),
        id18("34112519751230345"),
    );
    let utf8 = env.write("a_crlf.csv", text.as_bytes());
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        text.replace(',', "\t")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let utf16 = env.write("b_crlf_utf16le.txt", &utf16);
    let receipts = env.ingest(&[utf8, utf16]).await;
    for receipt in &receipts {
        assert_eq!(receipt.rows_read, 3, "{}", receipt.summary());
        env.assert_ingested(receipt, 2).await;
        assert_eq!(receipt.rows_rejected, 1);
    }
    let some = |s: &str| Some(s.to_string());
    let records = env
        .rows("SELECT file_id, row_number FROM records ORDER BY file_id, row_number")
        .await;
    let lines: Vec<Option<String>> = records.into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(lines, [some("2"), some("4"), some("2"), some("4")]);
    let rejected = env
        .rows("SELECT DISTINCT row_number, value FROM rejects WHERE severity = 'row'")
        .await;
    assert_eq!(rejected, [[some("3"), some("2026-02-30")]]);
}

// ---------------------------------------------------------------------------------------------
// Workbook contents
// ---------------------------------------------------------------------------------------------

/// Formula cells are read through their cached values (what Excel shows), and a formula error
/// in a required column rejects its row with a reason.
#[tokio::test]
async fn xlsx_formula_cells_use_cached_values() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("住院明细").expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    write_rows(
        sheet,
        0,
        &[strings(&[
            "姓名",
            "身份证号",
            "入院日期",
            "个人自付",
            "总费用",
        ])],
    );
    // Row 2: every value is a formula with its cached result.
    sheet
        .write_formula(1, 0, Formula::new(r#"="张"&"三""#).set_result("张三"))
        .expect("name formula");
    sheet
        .write_string(1, 1, id18("34112519850403123"))
        .expect("id");
    sheet
        .write_formula_with_format(
            1,
            2,
            Formula::new("=DATE(2026,1,2)").set_result("46024"),
            &date,
        )
        .expect("date formula");
    sheet
        .write_formula(1, 3, Formula::new("=E2*0.25").set_result("250"))
        .expect("money formula");
    sheet.write_number(1, 4, 1000.0).expect("total");
    // Row 3: the out-of-pocket formula divides by zero.
    sheet.write_string(2, 0, "李四").expect("name");
    sheet
        .write_string(2, 1, id18("34112519900715234"))
        .expect("id");
    sheet
        .write_datetime_with_format(
            2,
            2,
            ExcelDateTime::from_ymd(2026, 2, 3).expect("date"),
            &date,
        )
        .expect("date");
    sheet
        .write_formula(2, 3, Formula::new("=E3/0").set_result("#DIV/0!"))
        .expect("error formula");
    sheet.write_number(2, 4, 500.0).expect("total");
    let path = env.input("a_formulas.xlsx");
    workbook.save(&path).expect("save");
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    env.assert_ingested(&receipts[0], 1).await;
    assert_eq!(receipts[0].rows_rejected, 1);
    let records = env
        .rows("SELECT row_number, event_date, attributes FROM records")
        .await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0][0].as_deref(), Some("2"));
    assert_eq!(records[0][1].as_deref(), Some("2026-01-02"));
    let attributes: Value =
        serde_json::from_str(records[0][2].as_deref().unwrap_or("{}")).expect("attributes");
    assert_eq!(attributes["out_of_pocket"].as_f64(), Some(250.0));
    assert_eq!(attributes["total_cost"].as_f64(), Some(1000.0));
    assert_eq!(mentions(&env).await[0][1].as_deref(), Some("张三"));
    let rejects = env
        .rows(
            "SELECT row_number, column_name, value, reason, severity FROM rejects \
             WHERE row_number = 3 ORDER BY id",
        )
        .await;
    assert!(
        rejects.iter().any(|r| r[1].as_deref() == Some("个人自付")
            && r[2].as_deref() == Some("#DIV/0!")
            && r[3].as_deref().is_some_and(|s| s.contains("formula error"))),
        "{rejects:?}"
    );
    assert!(
        rejects.iter().any(|r| r[4].as_deref() == Some("row")),
        "{rejects:?}"
    );
}

/// A hidden sheet with data is read (and the receipt says it was hidden); a notes sheet without
/// a header is skipped with the reason; the file is ingested.
#[tokio::test]
async fn hidden_sheet_is_read_and_notes_sheet_is_skipped() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("填表说明").expect("name");
    write_rows(
        notes,
        0,
        &[
            strings(&["填表说明"]),
            strings(&["1. 姓名请按身份证填写；"]),
            strings(&["2. 入院日期格式为 2026-01-02；"]),
            strings(&["3. 金额单位：元。"]),
        ],
    );
    let visible = workbook.add_worksheet();
    visible.set_name("住院明细").expect("name");
    write_rows(
        visible,
        0,
        &[
            strings(&HEALTH_HEADER),
            vec![
                "张三".into(),
                id18("34112519850403123"),
                "2026-01-02".into(),
                "100".into(),
            ],
        ],
    );
    let hidden = workbook.add_worksheet();
    hidden.set_name("补录").expect("name");
    write_rows(
        hidden,
        0,
        &[
            strings(&HEALTH_HEADER),
            vec![
                "李四".into(),
                id18("34112519900715234"),
                "2026-02-03".into(),
                "50".into(),
            ],
            vec![
                "王五".into(),
                id18("34112519751230345"),
                "2026-03-04".into(),
                "20".into(),
            ],
        ],
    );
    hidden.set_hidden(true);
    let path = env.input("a_sheets.xlsx");
    workbook.save(&path).expect("save");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[path, good]).await;
    let receipt = &receipts[0];
    env.assert_ingested(receipt, 3).await;
    let names: Vec<&str> = receipt.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["填表说明", "住院明细", "补录"]);
    let [notes, visible, hidden] = &receipt.sheets[..] else {
        panic!("three sheets")
    };
    assert_eq!(notes.mapping, None);
    assert!(
        notes
            .not_read
            .as_deref()
            .is_some_and(|why| why.contains("no header row")),
        "{notes:?}"
    );
    assert!(!visible.hidden);
    assert_eq!(visible.rows_accepted, 1);
    assert!(hidden.hidden);
    assert_eq!(hidden.mapping.as_deref(), Some("health"));
    assert_eq!(hidden.rows_accepted, 2);
    assert!(
        hidden.notes.iter().any(|n| n.contains("hidden")),
        "{:?}",
        hidden.notes
    );
    let json = env.receipt_json(receipt);
    assert_eq!(json["sheets"][2]["hidden"], true);
    assert!(json["sheets"][0]["not_read"].is_string());
    let sheets = env
        .rows("SELECT sheet, COUNT(*) FROM records GROUP BY sheet ORDER BY sheet")
        .await;
    assert_eq!(sheets.len(), 3, "two sheets of the workbook and the csv");
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(2, 3 + GOOD_ROWS as i64).await;
}

#[tokio::test]
async fn duplicated_header_names_use_the_first_column() {
    let env = Env::new().await;
    let text = format!(
        "姓名,身份证号,入院日期,个人自付,个人自付\n张三,{},2026-01-02,100,999\n",
        id18("34112519850403123")
    );
    let path = env.write("a_duplicate_columns.csv", text.as_bytes());
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    let receipt = &receipts[0];
    env.assert_ingested(receipt, 1).await;
    let sheet = &receipt.sheets[0];
    assert_eq!(sheet.duplicate_columns.len(), 1, "{sheet:?}");
    assert_eq!(sheet.duplicate_columns[0].column, "个人自付");
    assert_eq!(sheet.duplicate_columns[0].field, "attributes.out_of_pocket");
    assert!(
        sheet
            .notes
            .iter()
            .any(|n| n.contains("个人自付") && n.contains("first")),
        "{:?}",
        sheet.notes
    );
    let attributes = env.rows("SELECT attributes FROM records").await;
    let attributes: Value =
        serde_json::from_str(attributes[0][0].as_deref().unwrap_or("{}")).expect("json");
    assert_eq!(attributes["out_of_pocket"].as_f64(), Some(100.0));
    let json = env.receipt_json(receipt);
    assert_eq!(
        json["sheets"][0]["duplicate_columns"][0]["column"],
        "个人自付"
    );
}

#[tokio::test]
async fn header_without_data_rows_is_ingested_with_a_note() {
    let env = Env::new().await;
    let csv = env.write(
        "a_header_only.csv",
        "姓名,身份证号,入院日期,个人自付\n".as_bytes(),
    );
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    write_rows(
        sheet,
        0,
        &[
            strings(&["定远县2026年10月住院费用结算明细表"]),
            strings(&HEALTH_HEADER),
        ],
    );
    let xlsx = env.input("b_header_only.xlsx");
    workbook.save(&xlsx).expect("save");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[csv, xlsx, good]).await;
    for receipt in &receipts[..2] {
        env.assert_ingested(receipt, 0).await;
        assert_eq!(receipt.rows_read, 0);
        assert_eq!(receipt.mappings, ["health"]);
        assert!(
            receipt.sheets[0]
                .notes
                .iter()
                .any(|n| n.contains("no data rows")),
            "{}",
            receipt.summary()
        );
    }
    assert_eq!(receipts[1].sheets[0].header_rows, [2]);
    env.assert_ingested(&receipts[2], GOOD_ROWS).await;
    env.assert_stored(3, GOOD_ROWS as i64).await;
}

/// A health export without its out-of-pocket column: no mapping fits, and the error says which
/// mapping came closest and which column it lacks, and where to add an alias.
#[tokio::test]
async fn file_no_mapping_fits_names_the_closest_and_the_missing_column() {
    let env = Env::new().await;
    let text = format!(
        "姓名,身份证号,入院日期,住院天数\n张三,{},2026-01-02,5\n",
        id18("34112519850403123")
    );
    let bad = env.write("a_no_fit.csv", text.as_bytes());
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(
        &receipts[0],
        &[
            "closest is \"health\"",
            "out_of_pocket",
            "个人自付",
            "mappings/health.toml",
        ],
    )
    .await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    env.assert_stored(1, GOOD_ROWS as i64).await;
}

/// A header both `education` (name + 学籍状态) and `hrss` (name + 登记日期) can read: detection
/// picks education, `--mapping hrss` forces hrss; an unknown or unfitting forced mapping fails.
#[tokio::test]
async fn forced_mapping_overrides_detection() {
    let text = format!(
        "姓名,身份证号,登记日期,学籍状态\n张三,{},2026-01-02,辍学\n",
        id18("34112520120305123")
    );
    let env = Env::new().await;
    let path = env.write("a_both.csv", text.as_bytes());
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    env.assert_ingested(&receipts[0], 1).await;
    assert_eq!(receipts[0].mappings, ["education"]);

    let env = Env::new().await;
    let path = env.write("a_both.csv", text.as_bytes());
    let receipts = env
        .ingest_with(std::slice::from_ref(&path), Some("hrss"))
        .await;
    env.assert_ingested(&receipts[0], 1).await;
    assert_eq!(receipts[0].mappings, ["hrss"]);
    let records = env
        .rows("SELECT mapping, department, event_kind, event_date FROM records")
        .await;
    assert_eq!(
        records,
        [[
            Some("hrss".to_string()),
            Some("hrss".to_string()),
            Some("unemployment".to_string()),
            Some("2026-01-02".to_string())
        ]]
    );

    // Forcing a mapping whose required columns are missing fails, naming what it lacks.
    let env = Env::new().await;
    let path = env.write("a_both.csv", text.as_bytes());
    let receipts = env
        .ingest_with(std::slice::from_ref(&path), Some("health"))
        .await;
    env.assert_failed(&receipts[0], &["closest is \"health\"", "out_of_pocket"])
        .await;

    let env = Env::new().await;
    let path = env.write("a_both.csv", text.as_bytes());
    let receipts = env
        .ingest_with(std::slice::from_ref(&path), Some("no_such_mapping"))
        .await;
    env.assert_failed(
        &receipts[0],
        &["no mapping named \"no_such_mapping\"", "health"],
    )
    .await;
    env.assert_stored(0, 0).await;
}

#[tokio::test]
async fn same_file_twice_is_a_duplicate_and_stores_nothing_new() {
    let env = Env::new().await;
    let first = env.write("a_first.csv", good_csv().as_bytes());
    let copy = env.write("b_copy_of_first.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[first.clone(), copy]).await;
    env.assert_ingested(&receipts[0], GOOD_ROWS).await;
    let duplicate = &receipts[1];
    assert_eq!(duplicate.status, FileStatus::Duplicate);
    assert_eq!(duplicate.file_id, receipts[0].file_id);
    assert!(
        duplicate
            .duplicate_of
            .as_deref()
            .is_some_and(|d| d.contains("a_first.csv")),
        "{duplicate:?}"
    );
    assert_eq!(duplicate.rows_accepted, 0);
    let path = duplicate.receipt_path.as_deref().expect("receipt written");
    assert!(path.ends_with(".duplicate.receipt.json"), "{path}");
    assert_eq!(env.receipt_json(duplicate)["status"], "duplicate");
    env.assert_stored(1, GOOD_ROWS as i64).await;
    let mentions_before = env.count(Table::Mentions).await;

    // The same file again in a later batch.
    let receipts = env.ingest(&[first]).await;
    assert_eq!(receipts[0].status, FileStatus::Duplicate);
    env.assert_stored(1, GOOD_ROWS as i64).await;
    assert_eq!(env.count(Table::Mentions).await, mentions_before);
}

/// Title row, then a two-row header whose merged group cells (学生信息 / 监护人信息) sit over
/// their own 姓名 columns: the second 姓名 is the guardian's.
#[tokio::test]
async fn merged_two_row_header_stores_the_guardian() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("控辍保学台账").expect("name");
    let plain = Format::new();
    sheet
        .merge_range(0, 0, 0, 5, "定远县2026年秋季学期控辍保学台账", &plain)
        .expect("title");
    sheet.merge_range(1, 0, 2, 0, "序号", &plain).expect("序号");
    sheet
        .merge_range(1, 1, 1, 2, "学生信息", &plain)
        .expect("group");
    sheet
        .merge_range(1, 3, 2, 3, "学籍状态", &plain)
        .expect("status");
    sheet
        .merge_range(1, 4, 1, 5, "监护人信息", &plain)
        .expect("group");
    write_rows(
        sheet,
        2,
        &[strings(&["", "姓名", "身份证号", "", "姓名", "联系电话"])],
    );
    let student = id18("34112520120305123");
    write_rows(
        sheet,
        3,
        &[
            vec![
                "1".into(),
                "王小明".into(),
                student.clone(),
                "辍学".into(),
                "王大山".into(),
                "13912345678".into(),
            ],
            vec![
                "2".into(),
                "李小红".into(),
                id18("34112520110911246"),
                "在读".into(),
                "".into(),
                "".into(),
            ],
        ],
    );
    let path = env.input("a_education.xlsx");
    workbook.save(&path).expect("save");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[path, good]).await;
    let receipt = &receipts[0];
    env.assert_ingested(receipt, 2).await;
    assert_eq!(receipt.mappings, ["education"]);
    assert_eq!(
        receipt.sheets[0].header_rows,
        [2, 3],
        "{}",
        receipt.summary()
    );
    let fields: Vec<(&str, &str)> = receipt.sheets[0]
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.field.as_str()))
        .collect();
    assert!(
        fields.contains(&("学生信息/姓名", "subject.name")),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("监护人信息/姓名", "guardian.name")),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("监护人信息/联系电话", "guardian.phone")),
        "{fields:?}"
    );
    let people = env
        .rows(
            "SELECT m.row_number, m.role, m.name, m.phone, m.id_number FROM mentions m \
             JOIN records r ON r.file_id = m.file_id AND r.sheet = m.sheet \
             AND r.row_number = m.row_number WHERE r.mapping = 'education' ORDER BY m.id",
        )
        .await;
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        people,
        [
            vec![
                some("4"),
                some("subject"),
                some("王小明"),
                None,
                Some(student)
            ],
            vec![
                some("4"),
                some("guardian"),
                some("王大山"),
                some("13912345678"),
                None
            ],
            vec![
                some("5"),
                some("subject"),
                some("李小红"),
                None,
                Some(id18("34112520110911246"))
            ],
        ],
        "a row without guardian columns names no guardian"
    );
    let status = env
        .rows("SELECT attributes FROM records WHERE row_number = 4 AND mapping = 'education'")
        .await;
    let attributes: Value =
        serde_json::from_str(status[0][0].as_deref().unwrap_or("{}")).expect("json");
    assert_eq!(attributes["enrolment_status"], "dropped_out");
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
}

/// IDs typed into Excel as numbers keep 15 significant digits: `3.41125198504039E+17`. The row is
/// kept, the ID is stored as raw text with status `precision_lost`, and the officer is told.
#[tokio::test]
async fn id_numbers_typed_as_numbers_are_precision_lost() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("住院明细").expect("name");
    write_rows(sheet, 0, &[strings(&HEALTH_HEADER)]);
    sheet.write_string(1, 0, "张三").expect("name");
    sheet
        .write_number(1, 1, 341125198504039000.0)
        .expect("id as number");
    sheet.write_string(1, 2, "2026-01-02").expect("date");
    sheet.write_number(1, 3, 100.0).expect("money");
    let path = env.input("a_numeric_ids.xlsx");
    workbook.save(&path).expect("save");
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    env.assert_ingested(&receipts[0], 1).await;
    let people = mentions(&env).await;
    assert_eq!(people.len(), 1);
    assert_eq!(people[0][2].as_deref(), Some("3.41125198504039E+17"));
    assert_eq!(people[0][3].as_deref(), Some("precision_lost"));
    assert_eq!(people[0][4], None, "no usable id number");
    let issues = env
        .rows("SELECT column_name, value, reason, severity FROM rejects")
        .await;
    assert!(
        issues.iter().any(|i| i[0].as_deref() == Some("身份证号")
            && i[1].as_deref() == Some("3.41125198504039E+17")
            && i[2]
                .as_deref()
                .is_some_and(|r| r.contains("precision lost"))
            && i[3].as_deref() == Some("value")),
        "{issues:?}"
    );
    assert!(
        receipts[0].rejects_workbook.is_some(),
        "value issues go to the rejects workbook"
    );
    // regression: the receipt named a rejects workbook for a file with no rejected row without
    // saying what is in it
    let summary = receipts[0].summary();
    assert!(
        summary.contains("(rows rejected: 0, values dropped or doubtful: 1)"),
        "{summary}"
    );
}

#[tokio::test]
async fn legacy_15_digit_ids_are_upgraded() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    write_rows(sheet, 0, &[strings(&HEALTH_HEADER)]);
    // As text, and as a number (15 digits fit in a double exactly).
    write_rows(
        sheet,
        1,
        &[strings(&["张三", "341125850403123", "2026-01-02", "100"])],
    );
    sheet.write_string(2, 0, "李四").expect("name");
    sheet.write_number(2, 1, 341125900715234.0).expect("id");
    sheet.write_string(2, 2, "2026-02-03").expect("date");
    sheet.write_number(2, 3, 50.0).expect("money");
    let path = env.input("a_legacy_ids.xlsx");
    workbook.save(&path).expect("save");
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    env.assert_ingested(&receipts[0], 2).await;
    let people = env
        .rows("SELECT id_raw, id_status, id_number, birth_date, gender FROM mentions ORDER BY row_number")
        .await;
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        people,
        [
            [
                some("341125850403123"),
                some("upgraded_from_15"),
                upgrade_15_to_18("341125850403123"),
                some("1985-04-03"),
                some("male"),
            ],
            [
                some("341125900715234"),
                some("upgraded_from_15"),
                upgrade_15_to_18("341125900715234"),
                some("1990-07-15"),
                some("female"),
            ],
        ]
    );
    assert_eq!(env.count(Table::Rejects).await, 0);
}

#[tokio::test]
async fn footer_rows_are_skipped_and_counted() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("住院明细").expect("name");
    write_rows(
        sheet,
        0,
        &[
            strings(&["定远县2026年10月住院费用结算明细表"]),
            strings(&["填报单位：定远县医保局", "", "", "单位：元"]),
            strings(&HEALTH_HEADER),
            vec![
                "张三".into(),
                id18("34112519850403123"),
                "2026-01-02".into(),
                "100.50".into(),
            ],
            vec![
                "李四".into(),
                id18("34112519900715234"),
                "2026-02-03".into(),
                "88".into(),
            ],
            vec![],
            strings(&["合计", "", "", "188.50"]),
            strings(&["制表人：李会计", "", "审核人：王科长"]),
            strings(&["制表日期：2026年10月31日"]),
        ],
    );
    let path = env.input("a_footers.xlsx");
    workbook.save(&path).expect("save");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[path, good]).await;
    let receipt = &receipts[0];
    env.assert_ingested(receipt, 2).await;
    assert_eq!(receipt.sheets[0].header_rows, [3]);
    assert_eq!(receipt.rows_read, 2, "{}", receipt.summary());
    assert_eq!(receipt.rows_rejected, 0, "{}", receipt.summary());
    assert_eq!(receipt.rows_skipped_footer, 3, "{}", receipt.summary());
    assert_eq!(env.receipt_json(receipt)["rows_skipped_footer"], 3);
    let skipped = env
        .rows("SELECT rows_skipped FROM files WHERE file_name = 'a_footers.xlsx'")
        .await;
    assert_eq!(skipped, [[Some("3".to_string())]]);
    assert_eq!(env.count(Table::Rejects).await, 0);
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
}

/// 2026-02-30 in the admission date: the row is rejected and the officer gets sheet, row, their
/// column name, the value and the reason — in the registry and in the rejects workbook.
#[tokio::test]
async fn impossible_date_is_rejected_with_its_location() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("住院明细").expect("name");
    write_rows(
        sheet,
        0,
        &[
            strings(&HEALTH_HEADER),
            vec![
                "张三".into(),
                id18("34112519850403123"),
                "2026-02-30".into(),
                "100".into(),
            ],
            vec![
                "李四".into(),
                id18("34112519900715234"),
                "2026-03-01".into(),
                "50".into(),
            ],
        ],
    );
    let path = env.input("a_bad_date.xlsx");
    workbook.save(&path).expect("save");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[path, good]).await;
    let receipt = &receipts[0];
    env.assert_ingested(receipt, 1).await;
    assert_eq!(receipt.rows_rejected, 1);
    let rejects = env
        .rows(
            "SELECT j.sheet, j.row_number, j.column_name, j.value, j.reason, j.severity \
             FROM rejects j JOIN files f ON f.id = j.file_id \
             WHERE f.file_name = 'a_bad_date.xlsx' ORDER BY j.id",
        )
        .await;
    let some = |s: &str| Some(s.to_string());
    let located = |line: &Vec<Option<String>>| {
        line[0] == some("住院明细")
            && line[1] == some("2")
            && line[2] == some("入院日期")
            && line[3] == some("2026-02-30")
    };
    assert!(
        rejects
            .iter()
            .any(|l| located(l) && l[5] == some("row") && l[4].is_some()),
        "the row is rejected: {rejects:?}"
    );
    assert!(
        rejects.iter().any(|l| located(l)
            && l[4]
                .as_deref()
                .is_some_and(|r| r.contains("not a real date"))),
        "the reason says the date is impossible: {rejects:?}"
    );
    // The rejects workbook handed back to the officer.
    let workbook_path = receipt
        .rejects_workbook
        .as_deref()
        .expect("a rejects workbook is written");
    assert!(workbook_path.ends_with(".rejects.xlsx"));
    assert_eq!(
        env.receipt_json(receipt)["rejects_workbook"].as_str(),
        Some(workbook_path)
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(workbook_path).expect("open rejects workbook");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable sheet");
    let lines: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "file", "sheet", "row", "column", "value", "reason", "severity"
        ]
    );
    assert!(
        lines.iter().skip(1).any(|l| l[0] == "a_bad_date.xlsx"
            && l[1] == "住院明细"
            && l[2] == "2"
            && l[3] == "入院日期"
            && l[4] == "2026-02-30"
            && l[5].contains("not a real date")),
        "{lines:?}"
    );
    assert!(
        lines.iter().skip(1).all(|l| l[0] == "a_bad_date.xlsx"),
        "only this file's rejects: {lines:?}"
    );
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
}

/// A failed file stores nothing, so its receipt must not name a registry id — with SQLite's
/// rolled-back AUTOINCREMENT the id it got is handed to the next file.
#[tokio::test]
async fn failed_file_receipt_names_no_registry_id() {
    let env = Env::new().await;
    let bad = env.write("a_empty.csv", b"");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bad, good]).await;
    env.assert_failed(&receipts[0], &["empty"]).await;
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
    assert_eq!(
        receipts[0].file_id, None,
        "the failed file names registry id {:?}; the good file stored after it has id {:?}",
        receipts[0].file_id, receipts[1].file_id
    );
    assert!(env.receipt_json(&receipts[0])["file_id"].is_null());
}

/// Files are judged by their content, not their name: a workbook named .xls is read, a workbook
/// named .csv is refused with the advice to rename it, a PDF is refused as unsupported.
#[tokio::test]
async fn misnamed_and_unsupported_files() {
    let env = Env::new().await;
    let xlsx_as_xls = env.write("a_really_xlsx.xls", &good_xlsx_bytes());
    let mut other = Workbook::new();
    write_rows(other.add_worksheet(), 0, &[strings(&HEALTH_HEADER)]);
    let xlsx_as_csv = env.write("b_really_xlsx.csv", &other.save_to_buffer().expect("xlsx"));
    let pdf = env.write("c_scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[xlsx_as_xls, xlsx_as_csv, pdf, good]).await;
    env.assert_ingested(&receipts[0], 2).await;
    assert_eq!(receipts[0].format, "xlsx");
    env.assert_failed(&receipts[1], &[".csv", "zip", "rename it to .xlsx"])
        .await;
    env.assert_failed(&receipts[2], &["unsupported", ".pdf"])
        .await;
    env.assert_ingested(&receipts[3], GOOD_ROWS).await;
    env.assert_stored(2, 2 + GOOD_ROWS as i64).await;
}

/// Systems write 0 into a date-formatted cell when there is no date (Excel shows 1900-01-00).
/// Typed in a General cell, 0 is reported as "not a date"; date-formatted it must be too, not
/// stored as 1899-12-31.
#[tokio::test]
async fn zero_in_a_date_formatted_cell_is_not_a_date() {
    let env = Env::new().await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    write_rows(
        sheet,
        0,
        &[strings(&[
            "姓名",
            "身份证号",
            "入院日期",
            "个人自付",
            "出院日期",
        ])],
    );
    write_rows(
        sheet,
        1,
        &[vec![
            "张三".into(),
            id18("34112519850403123"),
            "2026-01-02".into(),
            "100".into(),
        ]],
    );
    sheet
        .write_number_with_format(1, 4, 0.0, &date)
        .expect("zero date");
    let path = env.input("a_zero_date.xlsx");
    workbook.save(&path).expect("save");
    let receipts = env.ingest(std::slice::from_ref(&path)).await;
    env.assert_ingested(&receipts[0], 1).await;
    let attributes = env.rows("SELECT attributes FROM records").await;
    let attributes: Value =
        serde_json::from_str(attributes[0][0].as_deref().unwrap_or("{}")).expect("json");
    assert!(
        attributes.get("discharge_date").is_none(),
        "discharge date stored as {}",
        attributes["discharge_date"]
    );
    let issues = env
        .rows("SELECT column_name, reason FROM rejects WHERE severity = 'value'")
        .await;
    assert!(
        issues.iter().any(|i| i[0].as_deref() == Some("出院日期")),
        "{issues:?}"
    );
}

/// A sheet whose XML repeats a row number (`<row r="2">` twice, as some hand-rolled exporters
/// write): the file may fail or be read, but the batch must go on with the next file.
#[tokio::test]
async fn repeated_row_numbers_do_not_stop_the_batch() {
    let env = Env::new().await;
    let row = |r: u32, name: &str| {
        format!(
            r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{name}</t></is></c><c r="B{r}" t="inlineStr"><is><t>2026-01-02</t></is></c><c r="C{r}"><v>10</v></c></row>"#
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>入院日期</t></is></c><c r="C1" t="inlineStr"><is><t>个人自付</t></is></c></row>{}{}{}</sheetData></worksheet>"#,
        row(2, "张三"),
        row(3, "李四"),
        row(2, "王五"),
    );
    let bad = env.write(
        "a_repeated_rows.xlsx",
        &replace_part(
            &good_xlsx_bytes(),
            "xl/worksheets/sheet1.xml",
            xml.as_bytes(),
        ),
    );
    let good = env.write("z_good.csv", good_csv().as_bytes());
    let options = IngestOptions {
        receipts_dir: Some(env.receipts_dir()),
        ..IngestOptions::default()
    };
    let receipts = Ingestor::new(&env.registry, &env.mappings, options)
        .ingest_paths(&[bad, good])
        .await
        .expect("a malformed file must not abort the batch");
    assert_ne!(receipts[0].status, FileStatus::Duplicate);
    assert!(receipts[0].receipt_path.is_some());
    env.assert_ingested(&receipts[1], GOOD_ROWS).await;
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

/// `lifeline ingest` exits non-zero when a file could not be processed, 0 when every file was
/// processed even if rows were rejected, and 2 for an unknown `--mapping`.
#[test]
fn command_exit_status_tells_whether_every_file_was_processed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("r.db").display());
    let receipts = dir.path().join("receipts");
    let bad = dir.path().join("a_note.xlsx");
    std::fs::write(&bad, "not a workbook\n").expect("write");
    let good = dir.path().join("b_good.csv");
    std::fs::write(&good, good_csv()).expect("write");
    let mut with_rejects = good_csv();
    with_rejects.push_str(&format!(
        "王五,{},2026-02-30,20\n",
        id18("34112519751230345")
    ));
    let with_rejects_path = dir.path().join("c_with_rejects.csv");
    std::fs::write(&with_rejects_path, with_rejects).expect("write");
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lifeline"))
            .current_dir(dir.path())
            .env_remove("LIFELINE_DB")
            .env_remove("LIFELINE_MAPPINGS")
            .arg("--db")
            .arg(&db)
            .arg("ingest")
            .arg("--receipts")
            .arg(&receipts)
            .args(args)
            .output()
            .expect("run lifeline")
    };

    let output = run(&[bad.as_os_str(), good.as_os_str()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("a_note.xlsx: FAILED"), "{stdout}");
    assert!(stdout.contains("b_good.csv: ingested"), "{stdout}");
    let written: Vec<String> = std::fs::read_dir(&receipts)
        .expect("receipts folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        written
            .iter()
            .any(|n| n.starts_with("a_note.xlsx.") && n.ends_with(".receipt.json")),
        "{written:?}"
    );

    let output = run(&[with_rejects_path.as_os_str()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "rejected rows are not a failure: {stdout}"
    );
    assert!(stdout.contains("1 rejected"), "{stdout}");

    // The same good file again: a duplicate is not a failure either.
    let output = run(&[good.as_os_str()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let output = run(&[
        std::ffi::OsStr::new("--mapping"),
        std::ffi::OsStr::new("no_such_mapping"),
        good.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no mapping named"), "{stderr}");

    // Regression: the registry, receipts and rejects workbooks (ID numbers, diagnoses) were
    // written readable by every user of the machine (0644).
    use std::os::unix::fs::PermissionsExt;
    let mut written = vec![dir.path().join("r.db")];
    for entry in std::fs::read_dir(&receipts).expect("receipts folder") {
        written.push(entry.expect("entry").path());
    }
    assert!(
        written
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".rejects.xlsx")),
        "{written:?}"
    );
    for path in written.iter().chain([&receipts]) {
        let mode = std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{} is {:o}", path.display(), mode & 0o777);
    }
}

/// Keeps the fixtures small enough to commit.
#[test]
fn fixtures_stay_small() {
    let mut total = 0;
    for entry in std::fs::read_dir(fixture("")).expect("fixtures folder") {
        let entry = entry.expect("entry");
        total += entry.metadata().expect("metadata").len();
    }
    assert!(total < 6 << 20, "fixtures take {total} bytes");
}

/// An OpenDocument spreadsheet whose one cell holding "x" repeats across 16,384 columns and
/// 6,000 rows: a few hundred bytes that ask the reader for 98 million cells (3 GB), under
/// calamine's own cap of 100 million.
fn ods_asking_for_every_cell() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("mimetype", stored).unwrap();
    writer
        .write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    writer.start_file("META-INF/manifest.xml", stored).unwrap();
    writer
        .write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#,
        )
        .unwrap();
    writer.start_file("content.xml", stored).unwrap();
    writer
        .write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="6000"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
        )
        .unwrap();
    writer.finish().unwrap().into_inner()
}

/// Regression: a crafted workbook made the reader ask for gigabytes, and the failed allocation
/// aborted the whole process (SIGABRT, not a panic): the file stayed in the inbox, `serve` died
/// again at each restart and the files beside it were never taken. The `lifeline` binary now
/// reads each workbook in a child process with a memory budget: the file fails alone, with a
/// reason, and the next file is stored.
#[test]
fn a_workbook_asking_for_gigabytes_fails_alone_and_the_next_file_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("r.db").display());
    let bomb = dir.path().join("a_bomb.ods");
    std::fs::write(&bomb, ods_asking_for_every_cell()).expect("write");
    let good = dir.path().join("b_good.csv");
    std::fs::write(&good, good_csv()).expect("write");
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lifeline"))
        .current_dir(dir.path())
        .env_remove("LIFELINE_DB")
        .env_remove("LIFELINE_MAPPINGS")
        .env("LIFELINE_READER_MEMORY_MB", "512")
        .arg("--db")
        .arg(&db)
        .arg("ingest")
        .arg("--receipts")
        .arg(dir.path().join("receipts"))
        .arg(&bomb)
        .arg(&good)
        .output()
        .expect("run lifeline");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "one file failed, the process did not abort: {stdout}{stderr}"
    );
    assert!(stdout.contains("a_bomb.ods: FAILED"), "{stdout}");
    assert!(
        stdout.contains("more than the 512 MiB one file may use"),
        "{stdout}"
    );
    assert!(stdout.contains("b_good.csv: ingested"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// Regression: `uniqueCount="1000000000"` in the shared strings of an 8 KB workbook made the
/// reader reserve 24 GB and abort the process, even where workbooks are read in the process
/// itself (the library, `LIFELINE_READER_MEMORY_MB=0`). The declared count is checked against
/// the part's size first.
#[tokio::test]
async fn a_workbook_declaring_a_billion_strings_fails_as_damaged() {
    let env = Env::new().await;
    let xlsx = good_xlsx_bytes();
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx.as_slice())).expect("zip");
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name("xl/sharedStrings.xml")
            .expect("shared strings"),
        &mut strings,
    )
    .expect("read shared strings");
    let at = strings.find("uniqueCount=\"").expect("a declared count") + 13;
    let end = at + strings[at..].find('"').expect("closing quote");
    strings.replace_range(at..end, "1000000000");
    let bomb = env.write(
        "a_poison.xlsx",
        &replace_part(&xlsx, "xl/sharedStrings.xml", strings.as_bytes()),
    );
    let good = env.write("b_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bomb, good]).await;
    env.assert_failed(&receipts[0], &["damaged", "1000000000 strings", "false"])
        .await;
    env.assert_ingested(&receipts[1], 2).await;
}

/// Regression: one shared string of hundreds of megabytes in a small workbook was read whole
/// and passed on (2.4 GB of memory for a 3 MB file). A cell longer than any spreadsheet cell
/// can be is refused, naming its sheet, row and column.
#[tokio::test]
async fn a_cell_longer_than_any_spreadsheet_holds_is_refused() {
    let env = Env::new().await;
    let xlsx = good_xlsx_bytes();
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx.as_slice())).expect("zip");
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name("xl/sharedStrings.xml")
            .expect("shared strings"),
        &mut strings,
    )
    .expect("read shared strings");
    // the first data row's name (张三) becomes 700,000 characters: Excel stops at 32,767
    let strings = strings.replacen(
        "<t>张三</t>",
        &format!("<t>{}</t>", "张".repeat(700_000)),
        1,
    );
    let bomb = env.write(
        "a_long.xlsx",
        &replace_part(&xlsx, "xl/sharedStrings.xml", strings.as_bytes()),
    );
    let good = env.write("b_good.csv", good_csv().as_bytes());
    let receipts = env.ingest(&[bomb, good]).await;
    env.assert_failed(
        &receipts[0],
        &["住院明细", "row 2", "column A", "2100000 bytes"],
    )
    .await;
    env.assert_ingested(&receipts[1], 2).await;
}
