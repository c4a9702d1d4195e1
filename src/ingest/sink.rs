//! The reading side of ingest: a [`RowSink`] that finds each sheet's header, picks its mapping,
//! skips footers and applies the mapping to every data row, handing records to the writer in
//! batches through a bounded channel (so reading and storing overlap, in bounded memory).

use std::ops::ControlFlow;

use tokio::sync::mpsc;

use super::receipt::{ColumnReceipt, SheetReceipt};
use crate::mapping::MappingSet;
use crate::mapping::apply::{SheetPlan, apply_row};
use crate::mapping::resolve::{NoFit, Vocabulary, choose};
use crate::read::header::{HEADER_SEARCH_ROWS, Header, detect_header, is_footer, normalize_header};
use crate::read::{CellValue, RowSink, SheetMeta};
use crate::record::{Issue, Record, Severity};

/// Records per batch sent to the writer.
pub const BATCH: usize = 2_000;

/// A batch of rows for the writer.
pub struct Batch {
    /// Accepted records.
    pub records: Vec<Record>,
    /// Issues (rejected rows and dropped values).
    pub issues: Vec<Issue>,
}

enum State<'m> {
    Buffering(Vec<(u32, Vec<CellValue>)>),
    Reading { plan: SheetPlan<'m>, header: Header },
    Ignoring,
}

/// The sink used by ingest.
pub struct IngestSink<'m> {
    mappings: &'m MappingSet,
    vocabulary: &'m Vocabulary,
    forced: Option<&'m str>,
    sender: mpsc::Sender<Batch>,
    state: State<'m>,
    current: SheetReceipt,
    /// Receipts of the sheets read so far.
    pub sheets: Vec<SheetReceipt>,
    /// The first reason a sheet with a header fitted no mapping.
    pub no_fit: Option<NoFit>,
    records: Vec<Record>,
    issues: Vec<Issue>,
    /// Set when the writer went away (it failed): reading stops.
    pub writer_gone: bool,
    progress: Option<indicatif::ProgressBar>,
}

impl<'m> IngestSink<'m> {
    /// A sink that sends batches to `sender`.
    pub fn new(
        mappings: &'m MappingSet,
        vocabulary: &'m Vocabulary,
        forced: Option<&'m str>,
        sender: mpsc::Sender<Batch>,
        progress: Option<indicatif::ProgressBar>,
    ) -> IngestSink<'m> {
        IngestSink {
            mappings,
            vocabulary,
            forced,
            sender,
            state: State::Ignoring,
            current: SheetReceipt::default(),
            sheets: Vec::new(),
            no_fit: None,
            records: Vec::with_capacity(BATCH),
            issues: Vec::new(),
            writer_gone: false,
            progress,
        }
    }

    fn flush(&mut self) -> ControlFlow<()> {
        if self.records.is_empty() && self.issues.is_empty() {
            return ControlFlow::Continue(());
        }
        let batch = Batch {
            records: std::mem::replace(&mut self.records, Vec::with_capacity(BATCH)),
            issues: std::mem::take(&mut self.issues),
        };
        if self.sender.blocking_send(batch).is_err() {
            self.writer_gone = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// Sends what is left; call after reading.
    pub fn finish(&mut self) -> ControlFlow<()> {
        self.flush()
    }

    fn decide_header(&mut self, rows: Vec<(u32, Vec<CellValue>)>) -> ControlFlow<()> {
        let vocabulary = self.vocabulary;
        let header = detect_header(&rows, &|group, label| vocabulary.knows(group, label));
        let Some(header) = header else {
            self.current.not_read = Some(if rows.is_empty() {
                "the sheet is empty".into()
            } else {
                "no header row with known column names in the first 40 rows".into()
            });
            self.state = State::Ignoring;
            return ControlFlow::Continue(());
        };
        let resolution = match choose(self.mappings, &header, self.forced) {
            Ok(resolution) => resolution,
            Err(no_fit) => {
                self.current.header_rows = header.rows.clone();
                self.current.not_read = Some(no_fit.to_string());
                if self.no_fit.is_none() {
                    self.no_fit = Some(no_fit);
                }
                self.state = State::Ignoring;
                return ControlFlow::Continue(());
            }
        };
        let mapping = &self.mappings.mappings[resolution.mapping];
        self.current.mapping = Some(mapping.name.clone());
        self.current.header_rows = header.rows.clone();
        self.current.columns = resolution
            .columns
            .iter()
            .map(|(_, field, column)| ColumnReceipt {
                column: column.clone(),
                field: mapping.fields[*field].key.clone(),
            })
            .collect();
        self.current.ignored_columns = resolution.ignored.clone();
        self.current.duplicate_columns = resolution
            .duplicates
            .iter()
            .map(|(column, field)| ColumnReceipt {
                column: column.clone(),
                field: field.clone(),
            })
            .collect();
        for duplicate in &self.current.duplicate_columns {
            self.current.notes.push(format!(
                "column \"{}\" names {} again: the first such column is used, this one is ignored",
                duplicate.column, duplicate.field
            ));
        }
        let plan = SheetPlan::new(mapping, &resolution, &self.current.name);
        let last_header_row = header.rows.last().copied().unwrap_or(0);
        self.state = State::Reading { plan, header };
        for (row, cells) in rows.into_iter().filter(|(r, _)| *r > last_header_row) {
            self.data_row(row, &cells)?;
        }
        ControlFlow::Continue(())
    }

    fn data_row(&mut self, row: u32, cells: &[CellValue]) -> ControlFlow<()> {
        let State::Reading { plan, header } = &self.state else {
            return ControlFlow::Continue(());
        };
        if cells.iter().all(CellValue::is_blank) {
            self.current.rows_skipped_blank += 1;
            return ControlFlow::Continue(());
        }
        if is_footer(cells) {
            self.current.rows_skipped_footer += 1;
            return ControlFlow::Continue(());
        }
        if is_repeated_header(header, cells) {
            self.current.rows_skipped_repeated_header += 1;
            return ControlFlow::Continue(());
        }
        self.current.rows_read += 1;
        let outcome = apply_row(plan, row, cells);
        match outcome.record {
            Some(record) => {
                self.current.rows_accepted += 1;
                self.current.values_with_issues += outcome.issues.len() as u64;
                self.records.push(record);
            }
            None => {
                self.current.rows_rejected += 1;
                self.current.values_with_issues += outcome
                    .issues
                    .iter()
                    .filter(|i| i.severity == Severity::Value)
                    .count() as u64;
            }
        }
        self.issues.extend(outcome.issues);
        if let Some(progress) = &self.progress
            && self.current.rows_read.is_multiple_of(10_000)
        {
            progress.set_position(
                self.sheets.iter().map(|s| s.rows_read).sum::<u64>() + self.current.rows_read,
            );
        }
        if self.records.len() >= BATCH || self.issues.len() >= BATCH {
            return self.flush();
        }
        ControlFlow::Continue(())
    }
}

/// A data row that repeats the header's labels (exports printed with a header on every page).
fn is_repeated_header(header: &Header, cells: &[CellValue]) -> bool {
    let mut same = 0;
    for column in &header.columns {
        if let Some(cell) = cells.get(column.index)
            && normalize_header(&cell.display()) == normalize_header(&column.label)
        {
            same += 1;
        }
    }
    same >= 2 && same * 2 >= header.columns.len()
}

impl RowSink for IngestSink<'_> {
    fn start_sheet(&mut self, sheet: &SheetMeta) -> ControlFlow<()> {
        self.current = SheetReceipt {
            name: sheet.name.clone(),
            hidden: sheet.hidden,
            ..SheetReceipt::default()
        };
        if sheet.hidden {
            self.current
                .notes
                .push("the sheet is hidden in the workbook; it was read like the others".into());
        }
        self.state = State::Buffering(Vec::with_capacity(HEADER_SEARCH_ROWS));
        ControlFlow::Continue(())
    }

    fn row(&mut self, row: u32, cells: &[CellValue]) -> ControlFlow<()> {
        match &mut self.state {
            State::Buffering(rows) => {
                rows.push((row, cells.to_vec()));
                if rows.len() >= HEADER_SEARCH_ROWS {
                    let rows = std::mem::take(rows);
                    return self.decide_header(rows);
                }
                ControlFlow::Continue(())
            }
            State::Reading { .. } => self.data_row(row, cells),
            State::Ignoring => ControlFlow::Continue(()),
        }
    }

    fn end_sheet(&mut self) -> ControlFlow<()> {
        if let State::Buffering(rows) = &mut self.state {
            let rows = std::mem::take(rows);
            self.decide_header(rows)?;
        }
        if self.current.mapping.is_some() && self.current.rows_read == 0 {
            self.current
                .notes
                .push("the header was found but no data rows follow it".into());
        }
        self.state = State::Ignoring;
        self.sheets.push(std::mem::take(&mut self.current));
        ControlFlow::Continue(())
    }
}
