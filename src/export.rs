//! Exports of the registry for people and downstream systems: CSV (the default, on stdout),
//! Excel, JSON (an array of objects) and Parquet (through polars, in builds with the `parquet`
//! feature). Rows are streamed from the database; only Parquet, being columnar, holds the table
//! in memory.

use std::io::Write;
use std::path::Path;

use futures_util::TryStreamExt;
use sqlx::Row;

use chrono::NaiveDate;

use crate::registry::{Backend, Registry};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values, UTF-8.
    Csv,
    /// Excel workbook.
    Xlsx,
    /// JSON array of objects.
    Json,
    /// Apache Parquet.
    Parquet,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// Writing failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("cannot write csv: {0}")]
    Csv(#[from] csv::Error),
    /// Writing the workbook failed.
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Writing Parquet failed.
    #[cfg(feature = "parquet")]
    #[error("cannot write parquet: {0}")]
    Parquet(#[from] polars::error::PolarsError),
    /// A format needs a file.
    #[error("{0} output needs --out FILE")]
    NeedsFile(&'static str),
    /// This build has no Parquet writer.
    #[error(
        "this lifeline was built without Parquet support: rebuild it with `cargo build --release --features parquet`, or export csv, json or xlsx"
    )]
    NoParquet,
}

impl From<sqlx::Error> for ExportError {
    fn from(error: sqlx::Error) -> Self {
        ExportError::Registry(error.into())
    }
}

/// A query whose rows are exported, every column read as nullable text or integer.
pub struct TableQuery {
    /// Column names of the export.
    pub columns: Vec<&'static str>,
    /// SQL producing those columns in order.
    pub sql: String,
    /// The file id bound to `$1`, if the SQL has a parameter.
    pub parameter: Option<i64>,
    /// Text values bound after it (or from `$1` without it), in order.
    pub text_parameters: Vec<String>,
}

/// Accepted records with their subject person.
pub fn records_query() -> TableQuery {
    TableQuery {
        columns: vec![
            "file", "sheet", "row", "source", "mapping", "name", "id_number", "id_status", "birth_date",
            "gender", "phone", "address", "region_code", "event_kind", "event_date", "attributes",
            "name_raw", "id_raw", "record_id", "file_sha256",
        ],
        sql: "SELECT f.file_name, r.sheet, r.row_number, r.department, r.mapping, m.name, m.id_number, \
              m.id_status, m.birth_date, m.gender, m.phone, m.address, m.region_code, r.event_kind, \
              r.event_date, r.attributes, m.name_raw, m.id_raw, r.id, f.sha256 \
              FROM records r JOIN files f ON f.id = r.file_id \
              LEFT JOIN mentions m ON m.file_id = r.file_id AND m.sheet = r.sheet \
              AND m.row_number = r.row_number AND m.role = 'subject' ORDER BY r.id"
            .into(),
        parameter: None,
        text_parameters: Vec::new(),
    }
}

/// One line per person mention: where it was read and which person and household it is.
pub fn links_query() -> TableQuery {
    TableQuery {
        columns: vec![
            "file",
            "sheet",
            "row",
            "role",
            "person_id",
            "household_id",
            "mention_id",
            "name",
            "id_number",
            "file_sha256",
        ],
        sql:
            "SELECT f.file_name, m.sheet, m.row_number, m.role, l.person_id, p.household_id, m.id, \
              m.name, m.id_number, f.sha256 \
              FROM mentions m JOIN files f ON f.id = m.file_id \
              LEFT JOIN mention_links l ON l.mention_id = m.id \
              LEFT JOIN persons p ON p.person_id = l.person_id ORDER BY m.id"
                .into(),
        parameter: None,
        text_parameters: Vec::new(),
    }
}

/// Rejected rows and dropped values, all files or one.
pub fn rejects_query(file_id: Option<i64>) -> TableQuery {
    let filter = if file_id.is_some() {
        "WHERE j.file_id = $1 "
    } else {
        ""
    };
    TableQuery {
        columns: vec![
            "file", "sheet", "row", "column", "value", "reason", "severity",
        ],
        sql: format!(
            "SELECT f.file_name, j.sheet, j.row_number, j.column_name, j.value, j.reason, j.severity \
             FROM rejects j JOIN files f ON f.id = j.file_id {filter}ORDER BY j.id"
        ),
        parameter: file_id,
        text_parameters: Vec::new(),
    }
}

/// `group_concat` / `string_agg` of `expression` separated by `separator` (a constant).
fn aggregate_text(backend: Backend, expression: &str, separator: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expression}, '{separator}')"),
        Backend::Postgres => format!("string_agg({expression}, '{separator}')"),
    }
}

/// Flags, households no programme covers first, then by level and score: what each flag says,
/// who answers for it by when, and its evidence as `file:sheet:row` (`;`-separated).
pub fn flags_query(backend: Backend, today: NaiveDate) -> TableQuery {
    let evidence = aggregate_text(
        backend,
        "f.file_name || ':' || r.sheet || ':' || r.row_number",
        "; ",
    );
    TableQuery {
        columns: vec![
            "flag_id",
            "household_id",
            "level",
            "score",
            "reasons",
            "covered",
            "region_code",
            "county",
            "township",
            "village",
            "responsible_unit",
            "assignee",
            "status",
            "opened_on",
            "due_date",
            "overdue",
            "closed_on",
            "dismiss_reason",
            "person_ids",
            "rules",
            "rule_set_version",
            "evidence",
        ],
        sql: format!(
            "SELECT fl.flag_id, fl.household_id, fl.level, fl.score, fl.reasons, \
             CASE WHEN fl.covered <> 0 THEN 'true' ELSE 'false' END, fl.region_code, fl.county, \
             fl.township, fl.village, fl.responsible_unit, fl.assignee, fl.status, fl.opened_on, \
             fl.due_date, CASE WHEN fl.status NOT IN ('closed', 'dismissed') AND fl.due_date < $1 \
             THEN 'true' ELSE 'false' END, fl.closed_on, fl.dismiss_reason, fl.person_ids, \
             fl.rules, fl.rule_set_version, \
             (SELECT {evidence} FROM risk_evidence e JOIN records r ON r.id = e.record_id \
              JOIN files f ON f.id = r.file_id WHERE e.flag_id = fl.flag_id) \
             FROM risk_flags fl ORDER BY fl.covered, fl.level_rank, fl.score DESC, fl.flag_id"
        ),
        parameter: None,
        text_parameters: vec![today.to_string()],
    }
}

/// Households with their head, address, members, whether a member is on the roster of a
/// programme in `covered_values` (events of `covered_kind`) and their flag, if any.
pub fn households_query(
    covered_kind: &str,
    covered_field: &str,
    covered_values: &[String],
) -> TableQuery {
    let mut text_parameters = vec![covered_kind.to_string()];
    let mut patterns = Vec::new();
    for value in covered_values {
        // attributes are stored as compact JSON by serde_json
        text_parameters.push(format!(
            "%{}:{}%",
            serde_json::Value::from(covered_field),
            serde_json::Value::from(value.as_str())
        ));
        patterns.push(format!("r.attributes LIKE ${}", text_parameters.len()));
    }
    if patterns.is_empty() {
        patterns.push("1 = 0".into());
    }
    TableQuery {
        columns: vec![
            "household_id",
            "head_person_id",
            "head_name",
            "address",
            "region_code",
            "township",
            "village",
            "members",
            "covered",
            "flag_id",
            "level",
            "score",
            "status",
            "due_date",
            "responsible_unit",
        ],
        sql: format!(
            "SELECT h.household_id, h.head_person_id, hp.name, h.address, h.region_code, \
             h.township, h.village, h.members, \
             CASE WHEN EXISTS (SELECT 1 FROM persons p JOIN mention_links l ON l.person_id = p.person_id \
              JOIN mentions m ON m.id = l.mention_id JOIN records r ON r.file_id = m.file_id \
              AND r.sheet = m.sheet AND r.row_number = m.row_number \
              WHERE p.household_id = h.household_id AND r.event_kind = $1 AND ({})) \
             THEN 'true' ELSE 'false' END, \
             fl.flag_id, fl.level, fl.score, fl.status, fl.due_date, fl.responsible_unit \
             FROM households h LEFT JOIN persons hp ON hp.person_id = h.head_person_id \
             LEFT JOIN risk_flags fl ON fl.household_id = h.household_id ORDER BY h.household_id",
            patterns.join(" OR ")
        ),
        parameter: None,
        text_parameters,
    }
}

/// Persons as linkage formed them, with their household.
pub fn persons_query() -> TableQuery {
    TableQuery {
        columns: vec![
            "person_id",
            "household_id",
            "household_role",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "phone",
            "address",
            "region_code",
            "mentions",
        ],
        sql:
            "SELECT person_id, household_id, household_role, name, id_number, gender, birth_date, \
              phone, address, region_code, mentions FROM persons ORDER BY household_id, person_id"
                .into(),
        parameter: None,
        text_parameters: Vec::new(),
    }
}

fn cell(row: &sqlx::any::AnyRow, index: usize) -> Option<String> {
    if let Ok(value) = row.try_get::<Option<String>, _>(index) {
        return value;
    }
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        return value.map(|v| v.to_string());
    }
    row.try_get::<Option<f64>, _>(index)
        .ok()
        .flatten()
        .map(|v| v.to_string())
}

/// A CSV cell as a spreadsheet will read it without running it: a value that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return is a formula to Excel and WPS (`=HYPERLINK(...)`
/// typed into a name field of a department's export would run on the caseworker's desk), so it
/// gets a leading `'`, which spreadsheets show as text. Plain numbers (`-12.5`, `+3`) are left
/// as they are. Excel, JSON and Parquet exports hold typed strings and need no guard.
pub fn spreadsheet_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(
        value.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let number = value.len() > 1
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'))
        && value.parse::<f64>().is_ok();
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Something rows can be written to.
trait TableSink {
    fn header(&mut self, columns: &[&str]) -> Result<(), ExportError>;
    fn row(&mut self, values: &[Option<String>]) -> Result<(), ExportError>;
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

struct CsvSink<W: Write>(csv::Writer<W>);

impl<W: Write> TableSink for CsvSink<W> {
    fn header(&mut self, columns: &[&str]) -> Result<(), ExportError> {
        self.0.write_record(columns)?;
        Ok(())
    }
    fn row(&mut self, values: &[Option<String>]) -> Result<(), ExportError> {
        for value in values {
            self.0
                .write_field(spreadsheet_safe(value.as_deref().unwrap_or("")).as_bytes())?;
        }
        self.0.write_record(None::<&[u8]>)?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.0.flush()?;
        Ok(())
    }
}

struct JsonSink<W: Write> {
    out: W,
    columns: Vec<String>,
    first: bool,
}

impl<W: Write> TableSink for JsonSink<W> {
    fn header(&mut self, columns: &[&str]) -> Result<(), ExportError> {
        self.columns = columns.iter().map(|c| c.to_string()).collect();
        self.out.write_all(b"[")?;
        Ok(())
    }
    fn row(&mut self, values: &[Option<String>]) -> Result<(), ExportError> {
        let mut object = serde_json::Map::new();
        for (column, value) in self.columns.iter().zip(values) {
            let value = match value {
                None => serde_json::Value::Null,
                Some(text) if column == "attributes" => serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
                Some(text) if column == "row" => text
                    .parse::<i64>()
                    .map(serde_json::Value::from)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
                Some(text) => serde_json::Value::String(text.clone()),
            };
            object.insert(column.clone(), value);
        }
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, &object).map_err(std::io::Error::other)?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()?;
        Ok(())
    }
}

struct XlsxSink {
    workbook: rust_xlsxwriter::Workbook,
    path: std::path::PathBuf,
    row: u32,
}

impl TableSink for XlsxSink {
    fn header(&mut self, columns: &[&str]) -> Result<(), ExportError> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("data")?;
        for (index, column) in columns.iter().enumerate() {
            sheet.write_string_with_format(0, index as u16, *column, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        self.row = 1;
        Ok(())
    }
    fn row(&mut self, values: &[Option<String>]) -> Result<(), ExportError> {
        let sheet = self.workbook.worksheet_from_index(0)?;
        for (index, value) in values.iter().enumerate() {
            if let Some(value) = value {
                // every value is written as text: ID numbers must never become numbers
                sheet.write_string(self.row, index as u16, value)?;
            }
        }
        self.row += 1;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.workbook.save(&self.path)?;
        Ok(())
    }
}

#[cfg(feature = "parquet")]
struct ParquetSink {
    path: std::path::PathBuf,
    columns: Vec<String>,
    data: Vec<Vec<Option<String>>>,
}

#[cfg(feature = "parquet")]
impl TableSink for ParquetSink {
    fn header(&mut self, columns: &[&str]) -> Result<(), ExportError> {
        self.columns = columns.iter().map(|c| c.to_string()).collect();
        self.data = vec![Vec::new(); columns.len()];
        Ok(())
    }
    fn row(&mut self, values: &[Option<String>]) -> Result<(), ExportError> {
        for (column, value) in self.data.iter_mut().zip(values) {
            column.push(value.clone());
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        use polars::prelude::*;
        let columns: Vec<Column> = self
            .columns
            .iter()
            .zip(self.data)
            .map(|(name, values)| Column::new(name.as_str().into(), values))
            .collect();
        let mut frame = DataFrame::new_infer_height(columns)?;
        let file = std::fs::File::create(&self.path)?;
        ParquetWriter::new(file).finish(&mut frame)?;
        Ok(())
    }
}

/// Writes the rows of `query` in `format` to `out` (or stdout for CSV and JSON).
pub async fn export_table(
    registry: &Registry,
    query: &TableQuery,
    format: Format,
    out: Option<&Path>,
) -> Result<u64, ExportError> {
    // Send: ingest writes rejects workbooks from tasks the service spawns
    let mut sink: Box<dyn TableSink + Send> = match (format, out) {
        (Format::Csv, Some(path)) => Box::new(CsvSink(csv::Writer::from_writer(
            std::io::BufWriter::new(std::fs::File::create(path)?),
        ))),
        (Format::Csv, None) => Box::new(CsvSink(csv::Writer::from_writer(
            std::io::BufWriter::new(std::io::stdout()),
        ))),
        (Format::Json, Some(path)) => Box::new(JsonSink {
            out: std::io::BufWriter::new(std::fs::File::create(path)?),
            columns: Vec::new(),
            first: true,
        }),
        (Format::Json, None) => Box::new(JsonSink {
            out: std::io::BufWriter::new(std::io::stdout()),
            columns: Vec::new(),
            first: true,
        }),
        (Format::Xlsx, Some(path)) => Box::new(XlsxSink {
            workbook: rust_xlsxwriter::Workbook::new(),
            path: path.to_path_buf(),
            row: 0,
        }),
        #[cfg(feature = "parquet")]
        (Format::Parquet, Some(path)) => Box::new(ParquetSink {
            path: path.to_path_buf(),
            columns: Vec::new(),
            data: Vec::new(),
        }),
        #[cfg(not(feature = "parquet"))]
        (Format::Parquet, Some(_)) => return Err(ExportError::NoParquet),
        (Format::Xlsx, None) => return Err(ExportError::NeedsFile("xlsx")),
        (Format::Parquet, None) => return Err(ExportError::NeedsFile("parquet")),
    };
    sink.header(&query.columns)?;
    // the SQL is built from constants in this module, never from input
    let mut sql = sqlx::query(sqlx::AssertSqlSafe(query.sql.as_str()));
    if let Some(parameter) = query.parameter {
        sql = sql.bind(parameter);
    }
    for text in &query.text_parameters {
        sql = sql.bind(text.as_str());
    }
    let mut rows = sql.fetch(registry.pool());
    let mut count = 0u64;
    let mut values = Vec::with_capacity(query.columns.len());
    while let Some(row) = rows.try_next().await? {
        values.clear();
        values.extend((0..query.columns.len()).map(|i| cell(&row, i)));
        sink.row(&values)?;
        count += 1;
    }
    sink.finish()?;
    Ok(count)
}
