//! Ground truth written next to the exports, streamed as the chunks are
//! generated: `truth/persons.csv`, `truth/households.csv`,
//! `truth/mentions.csv`, `truth/files.csv` and `truth/README.md`.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::Datelike;

use super::SampleError;
use super::events::SITUATIONS;
use super::geo::County;
use super::layout::Export;
use super::population::Household;
use super::writers::Container;

type Out = csv::Writer<BufWriter<File>>;

/// The open truth files.
pub(crate) struct Truth {
    dir: PathBuf,
    persons: Out,
    households: Out,
    mentions: Out,
    files: Out,
}

fn open(dir: &Path, name: &str, header: &[&str]) -> Result<Out, SampleError> {
    let path = dir.join(name);
    let f = File::create(&path).map_err(|e| SampleError::Io {
        path: path.clone(),
        source: e,
    })?;
    let mut w = csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 16, f));
    w.write_record(header)
        .map_err(|e| SampleError::Csv { path, source: e })?;
    Ok(w)
}

impl Truth {
    /// Creates `dir` and the truth files with their header lines.
    pub(crate) fn create(dir: &Path) -> Result<Truth, SampleError> {
        fs::create_dir_all(dir).map_err(|e| SampleError::Dir {
            path: dir.to_path_buf(),
            source: e,
        })?;
        Ok(Truth {
            dir: dir.to_path_buf(),
            persons: open(
                dir,
                "persons.csv",
                &[
                    "person_id",
                    "household_id",
                    "name",
                    "id_number",
                    "gender",
                    "birth_date",
                    "relation_to_head",
                    "county_code",
                ],
            )?,
            households: open(
                dir,
                "households.csv",
                &[
                    "household_id",
                    "county_code",
                    "address",
                    "covered",
                    "situations",
                ],
            )?,
            mentions: open(
                dir,
                "mentions.csv",
                &["file", "sheet", "row", "role", "person_id", "household_id"],
            )?,
            files: open(
                dir,
                "files.csv",
                &[
                    "file",
                    "source",
                    "format",
                    "encoding",
                    "sheets",
                    "hidden_sheets",
                    "data_rows",
                ],
            )?,
        })
    }

    fn err(&self, name: &str, e: csv::Error) -> SampleError {
        SampleError::Csv {
            path: self.dir.join(name),
            source: e,
        }
    }

    /// Records one household and its members.
    pub(crate) fn household(
        &mut self,
        h: &Household,
        c: &County,
        bits: u8,
        covered: bool,
    ) -> Result<(), SampleError> {
        let situations: Vec<&str> = SITUATIONS
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let hid = format!("H{:07}", h.hid);
        let code = c.code.to_string();
        self.households
            .write_record([
                hid.as_str(),
                code.as_str(),
                h.place.full(c).as_str(),
                if covered { "true" } else { "false" },
                situations.join(";").as_str(),
            ])
            .map_err(|e| self.err("households.csv", e))?;
        for p in &h.members {
            let birth = format!(
                "{:04}-{:02}-{:02}",
                p.birth.year(),
                p.birth.month(),
                p.birth.day()
            );
            self.persons
                .write_record([
                    format!("P{:08}", p.pid).as_str(),
                    hid.as_str(),
                    p.name().as_str(),
                    p.id18.as_str(),
                    if p.male { "M" } else { "F" },
                    birth.as_str(),
                    p.relation.truth_word(p.male),
                    code.as_str(),
                ])
                .map_err(|e| self.err("persons.csv", e))?;
        }
        Ok(())
    }

    /// Records the mentions and the description of one written export.
    pub(crate) fn export(&mut self, e: &Export, source: &str) -> Result<(), SampleError> {
        for m in &e.mentions {
            let sheet = match e.container {
                Container::Xlsx => e.sheets.get(m.sheet).map_or("", |s| s.name.as_str()),
                Container::Csv { .. } => "",
            };
            self.mentions
                .write_record([
                    e.name.as_str(),
                    sheet,
                    m.row.to_string().as_str(),
                    m.role,
                    format!("P{:08}", m.pid).as_str(),
                    format!("H{:07}", m.hid).as_str(),
                ])
                .map_err(|err| self.err("mentions.csv", err))?;
        }
        let (format, encoding) = match e.container {
            Container::Xlsx => ("xlsx", ""),
            Container::Csv { enc, .. } => ("csv", enc.label()),
        };
        let names: Vec<&str> = e.sheets.iter().map(|s| s.name.as_str()).collect();
        let hidden: Vec<&str> = e
            .sheets
            .iter()
            .filter(|s| s.hidden)
            .map(|s| s.name.as_str())
            .collect();
        let (sheets, hidden) = if format == "xlsx" {
            (names.join("|"), hidden.join("|"))
        } else {
            (String::new(), String::new())
        };
        self.files
            .write_record([
                e.name.as_str(),
                source,
                format,
                encoding,
                sheets.as_str(),
                hidden.as_str(),
                e.data_rows.to_string().as_str(),
            ])
            .map_err(|err| self.err("files.csv", err))
    }

    /// Flushes the files and writes `README.md`.
    pub(crate) fn finish(mut self) -> Result<(), SampleError> {
        for (name, w) in [
            ("persons.csv", &mut self.persons),
            ("households.csv", &mut self.households),
            ("mentions.csv", &mut self.mentions),
            ("files.csv", &mut self.files),
        ] {
            w.flush().map_err(|e| SampleError::Io {
                path: self.dir.join(name),
                source: e,
            })?;
        }
        let path = self.dir.join("README.md");
        fs::write(&path, README).map_err(|e| SampleError::Io { path, source: e })
    }
}

const README: &str = r#"# Ground truth of the generated sample exports

Written by `lifeline samples` next to the exports (one directory up). The
sample world is a set of Anhui households; "today" is 2026-11-01 and events
fall in the two years before it (2024-11-01 .. 2026-10-31).

## persons.csv

`person_id,household_id,name,id_number,gender,birth_date,relation_to_head,county_code`

One line per person. `name` and `id_number` are the true values (the exports
show them with noise). `gender` is `M`/`F`; `birth_date` is ISO; 
`relation_to_head` is `head`, `spouse`, `son`, `daughter`, `father` or
`mother`; `county_code` is the GB/T 2260 code of the county the household
lives in (the ID number's region code differs for about 10% of people:
non-hukou residents from other provinces). Deceased people stay listed.

## households.csv

`household_id,county_code,address,covered,situations`

`address` is the canonical address. `covered` is `true` when the household is
on the 低保/特困 roster (civil_affairs_roster). `situations` is `;`-separated:

- `major_medical` — one member's out-of-pocket (个人自付) costs of hospital
  stays admitted in 2025-11-01 .. 2026-10-31 (event date = admission date)
  add up to ≥ 50,000 yuan. A stay exported twice counts once.
- `working_age_death` — a member died in the window aged 18–60 (full years,
  from the birth date, on the death date). 享年 columns may show the
  nominal age (虚岁), one more.
- `house_collapsed` — disaster damage 倒塌 or 严重损坏 (collapsed / severe).
- `dangerous_house` — dangerous-house grade C or D.
- `dropout` — a child aged 6–16 (full years on the status date) with status
  dropped out. 17-year-old dropouts do not count.
- `special_family` — registered family-planning special family.
- `unemployment` — a member registered as unemployed in the window.

Every situation is backed by at least one data row in the exports, and the
noise that destroys information (missing or mistyped ID, unlisted code
words, impossible dates, lossy `万` amounts) is never applied to those rows.

## mentions.csv

`file,sheet,row,role,person_id,household_id`

One line per person mentioned in a data row. `file` is the export's file
name; `sheet` is the sheet name for workbooks and empty for CSV; `row` is
the row number shown by Excel/WPS (1-based, counting title, header, blank
and footer rows) or, for CSV, the line number (first line = 1). `role` is
`subject` for the row's subject and otherwise the mapping's related role
(`next_of_kin`, `guardian`, `only_child`); a related person is listed only
when the row shows their name or ID. A row exported twice yields two
mentions. Title, header, blank, repeated-header, 合计 and signature rows
mention nobody, and neither do summary or notes sheets.

## files.csv

`file,source,format,encoding,sheets,hidden_sheets,data_rows`

One line per export: its source (mapping name), `xlsx` or `csv`, the CSV
encoding (`utf-8`, `utf-8-bom`, `gbk`), the workbook's sheet names in order
and which are hidden (`|`-separated), and the number of data rows.
"#;
