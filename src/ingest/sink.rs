//! The reading side of ingest: a [`RowSink`] that finds each sheet's header, picks its mapping
//! and skips footers, then hands data rows to an apply thread that normalizes them into records
//! and passes those to the registry writer. Reading, applying and storing run on their own
//! threads and overlap; every channel between them is bounded, so memory stays bounded.

use std::ops::ControlFlow;

use tokio::sync::mpsc;

use super::receipt::{ColumnReceipt, SheetReceipt};
use crate::mapping::MappingSet;
use crate::mapping::apply::{SheetPlan, apply_row};
use crate::mapping::resolve::{NoFit, Vocabulary, choose};
use crate::read::header::{HEADER_SEARCH_ROWS, Header, detect_header, is_footer};
use crate::read::{CellValue, RowSink, SheetMeta};
use crate::record::{Issue, Record, Severity};

/// Records per batch sent to the writer. A batch's cells and records stay in the cores' caches
/// between the reading, applying and writing threads: with 500 instead of 2,000 a 200,000-row
/// workbook's ingest used 4.6% less CPU (2.86 against 2.99 s on average over thirteen
/// alternating runs; 200 did no better than 2,000). 512 is eight of the SQLite writer's 64-row
/// INSERTs, so that a full batch leaves no rows to insert one at a time.
pub const BATCH: usize = 512;

/// A batch of rows for the writer.
pub struct Batch {
    /// Accepted records.
    pub records: Vec<Record>,
    /// Issues (rejected rows and dropped values).
    pub issues: Vec<Issue>,
    /// Where a stored batch goes to be freed: back to the apply thread that allocated it.
    recycle: Option<std::sync::mpsc::Sender<Spent>>,
}

/// The contents of a stored batch, on their way back to be freed.
type Spent = (Vec<Record>, Vec<Issue>);

impl Drop for Batch {
    /// Sends the records back to the apply thread: their thirty-odd strings each are freed
    /// where they were allocated, which costs the allocator less than a free from another
    /// thread (a fifth of the writer thread's time went to dropping batches).
    fn drop(&mut self) {
        if let Some(recycle) = self.recycle.take() {
            let spent = (
                std::mem::take(&mut self.records),
                std::mem::take(&mut self.issues),
            );
            // the apply thread has ended: the batch is freed here
            let _ = recycle.send(spent);
        }
    }
}

enum State {
    Buffering(Vec<(u32, Vec<CellValue>)>),
    Reading {
        plan: SheetPlan,
        header: Header,
        /// The text cells of the row right above the header when it looks like a group row
        /// (two or more filled cells): a page-break repeat of it is not data.
        above: Vec<(usize, String)>,
    },
    Ignoring,
}

/// Rows of one sheet for the apply thread.
struct Work {
    sheet: usize,
    plan: SheetPlan,
    rows: Vec<(u32, Vec<CellValue>)>,
}

/// What the apply thread counted, per sheet index.
#[derive(Default, Clone, Copy)]
struct Applied {
    accepted: u64,
    rejected: u64,
    values_with_issues: u64,
}

/// Applies mappings to rows and sends the records to the writer, until the work channel closes
/// or the writer goes away.
fn apply_worker(
    work: std::sync::mpsc::Receiver<Work>,
    sender: mpsc::Sender<Batch>,
) -> Vec<Applied> {
    let mut counts: Vec<Applied> = Vec::new();
    let (recycle, spent) = std::sync::mpsc::channel::<Spent>();
    for Work { sheet, plan, rows } in work {
        // free what the writer has stored since the last batch
        while let Ok(done) = spent.try_recv() {
            drop(done);
        }
        if counts.len() <= sheet {
            counts.resize(sheet + 1, Applied::default());
        }
        let mut batch = Batch {
            records: Vec::with_capacity(rows.len()),
            issues: Vec::new(),
            recycle: Some(recycle.clone()),
        };
        for (row, cells) in rows {
            let outcome = apply_row(&plan, row, &cells);
            let count = &mut counts[sheet];
            match outcome.record {
                Some(record) => {
                    count.accepted += 1;
                    count.values_with_issues += outcome.issues.len() as u64;
                    batch.records.push(record);
                }
                None => {
                    count.rejected += 1;
                    count.values_with_issues += outcome
                        .issues
                        .iter()
                        .filter(|i| i.severity == Severity::Value)
                        .count() as u64;
                }
            }
            batch.issues.extend(outcome.issues);
        }
        if sender.blocking_send(batch).is_err() {
            break;
        }
    }
    counts
}

/// The sink used by ingest.
pub struct IngestSink<'m> {
    mappings: &'m MappingSet,
    vocabulary: &'m Vocabulary,
    forced: Option<&'m str>,
    work: Option<std::sync::mpsc::SyncSender<Work>>,
    worker: Option<std::thread::JoinHandle<Vec<Applied>>>,
    pending: Vec<(u32, Vec<CellValue>)>,
    state: State,
    current: SheetReceipt,
    /// Receipts of the sheets read so far.
    pub sheets: Vec<SheetReceipt>,
    /// The first reason a sheet with a header fitted no mapping.
    pub no_fit: Option<NoFit>,
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
        let (work, queue) = std::sync::mpsc::sync_channel(4);
        let worker = std::thread::Builder::new()
            .name("lifeline-apply".into())
            .spawn(move || apply_worker(queue, sender))
            .ok();
        IngestSink {
            mappings,
            vocabulary,
            forced,
            work: worker.as_ref().map(|_| work),
            worker,
            pending: Vec::with_capacity(BATCH),
            state: State::Ignoring,
            current: SheetReceipt::default(),
            sheets: Vec::new(),
            no_fit: None,
            writer_gone: false,
            progress,
        }
    }

    /// Hands the pending rows of the current sheet to the apply thread.
    fn flush(&mut self) -> ControlFlow<()> {
        if self.pending.is_empty() {
            return ControlFlow::Continue(());
        }
        let State::Reading { plan, .. } = &self.state else {
            self.pending.clear();
            return ControlFlow::Continue(());
        };
        let work = Work {
            sheet: self.sheets.len(),
            plan: plan.clone(),
            rows: std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH)),
        };
        match &self.work {
            Some(sender) if sender.send(work).is_ok() => ControlFlow::Continue(()),
            _ => {
                self.writer_gone = true;
                ControlFlow::Break(())
            }
        }
    }

    /// Waits for the apply thread to finish and adds its counts to the sheet receipts. Call once
    /// after reading, whether it succeeded or not.
    pub fn finish(&mut self) -> ControlFlow<()> {
        self.work = None;
        let counts = match self.worker.take().map(std::thread::JoinHandle::join) {
            Some(Ok(counts)) => counts,
            _ => {
                self.writer_gone = true;
                Vec::new()
            }
        };
        for (sheet, count) in self.sheets.iter_mut().zip(counts) {
            sheet.rows_accepted = count.accepted;
            sheet.rows_rejected = count.rejected;
            sheet.values_with_issues = count.values_with_issues;
        }
        if self.writer_gone {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
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
        let first_header_row = header.rows.first().copied().unwrap_or(0);
        let above: Vec<(usize, String)> = rows
            .iter()
            .find(|(r, _)| *r + 1 == first_header_row)
            .map(|(_, cells)| {
                cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.is_blank())
                    .map(|(i, c)| (i, c.display().trim().to_string()))
                    .collect()
            })
            .filter(|cells: &Vec<(usize, String)>| cells.len() >= 2)
            .unwrap_or_default();
        self.state = State::Reading {
            plan,
            header,
            above,
        };
        for (row, cells) in rows.into_iter().filter(|(r, _)| *r > last_header_row) {
            self.data_row(row, cells)?;
        }
        ControlFlow::Continue(())
    }

    fn data_row(&mut self, row: u32, cells: Vec<CellValue>) -> ControlFlow<()> {
        let State::Reading { header, above, .. } = &self.state else {
            return ControlFlow::Continue(());
        };
        if cells.iter().all(CellValue::is_blank) {
            self.current.rows_skipped_blank += 1;
            return ControlFlow::Continue(());
        }
        if is_footer(&cells) {
            self.current.rows_skipped_footer += 1;
            return ControlFlow::Continue(());
        }
        if is_repeated_header(header, &cells) || repeats_row(above, &cells) {
            self.current.rows_skipped_repeated_header += 1;
            return ControlFlow::Continue(());
        }
        self.current.rows_read += 1;
        self.pending.push((row, cells));
        if let Some(progress) = &self.progress
            && self.current.rows_read.is_multiple_of(10_000)
        {
            progress.set_position(
                self.sheets.iter().map(|s| s.rows_read).sum::<u64>() + self.current.rows_read,
            );
        }
        if self.pending.len() >= BATCH {
            return self.flush();
        }
        ControlFlow::Continue(())
    }
}

/// Whether `cells` hold exactly the texts of a remembered row (and nothing else).
fn repeats_row(remembered: &[(usize, String)], cells: &[CellValue]) -> bool {
    !remembered.is_empty()
        && cells.iter().filter(|c| !c.is_blank()).count() == remembered.len()
        && remembered.iter().all(|(index, text)| {
            cells
                .get(*index)
                .is_some_and(|c| c.display().trim() == text)
        })
}

/// A data row that repeats the header (exports printed with the header on every page): its
/// text cells name the columns' labels — or, for the upper row of a two-row header, their
/// group labels.
fn is_repeated_header(header: &Header, cells: &[CellValue]) -> bool {
    let names_column = |index: usize, text: &str| {
        header.columns.iter().any(|c| {
            c.index == index
                && (text == c.label.trim() || c.group.as_deref().is_some_and(|g| text == g.trim()))
        })
    };
    // cheap test first: the first filled cell must be text naming its column
    let Some((index, first)) = cells.iter().enumerate().find(|(_, c)| !c.is_blank()) else {
        return false;
    };
    match first {
        CellValue::Text(text) if names_column(index, text.trim()) => {}
        _ => return false,
    }
    let filled = cells.iter().filter(|c| !c.is_blank()).count();
    let same = cells
        .iter()
        .enumerate()
        .filter(|(index, cell)| match cell {
            CellValue::Text(text) => names_column(*index, text.trim()),
            _ => false,
        })
        .count();
    same >= 2 && same * 2 >= filled
}

impl Drop for IngestSink<'_> {
    fn drop(&mut self) {
        // never leave the apply thread behind, whatever happened while reading
        self.work = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl RowSink for IngestSink<'_> {
    fn start_sheet(&mut self, sheet: &SheetMeta) -> ControlFlow<()> {
        self.current = SheetReceipt {
            name: sheet.name.clone(),
            hidden: sheet.hidden,
            ..SheetReceipt::default()
        };
        self.state = State::Buffering(Vec::with_capacity(HEADER_SEARCH_ROWS));
        ControlFlow::Continue(())
    }

    fn row(&mut self, row: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
        match &mut self.state {
            State::Buffering(rows) => {
                rows.push((row, std::mem::take(cells)));
                if rows.len() >= HEADER_SEARCH_ROWS {
                    let rows = std::mem::take(rows);
                    return self.decide_header(rows);
                }
                ControlFlow::Continue(())
            }
            State::Reading { .. } => self.data_row(row, std::mem::take(cells)),
            State::Ignoring => ControlFlow::Continue(()),
        }
    }

    fn end_sheet(&mut self) -> ControlFlow<()> {
        if let State::Buffering(rows) = &mut self.state {
            let rows = std::mem::take(rows);
            self.decide_header(rows)?;
        }
        self.flush()?;
        if self.current.hidden {
            self.current.notes.push(if self.current.mapping.is_some() {
                "the sheet is hidden in the workbook; its rows were read like any other".into()
            } else {
                "the sheet is hidden in the workbook".into()
            });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::header::HeaderColumn;

    fn text_row(cells: &[&str]) -> Vec<CellValue> {
        cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    CellValue::Empty
                } else {
                    CellValue::Text(c.to_string())
                }
            })
            .collect()
    }

    /// Regression: the group row of a repeated two-row header was read as a person named
    /// "扶助对象信息".
    #[test]
    fn both_rows_of_a_repeated_two_row_header_are_recognised() {
        let column = |index: usize, label: &str, group: &str| HeaderColumn {
            index,
            label: label.into(),
            group: Some(group.into()),
        };
        let header = Header {
            rows: vec![1, 2],
            columns: vec![
                column(0, "姓名", "扶助对象信息"),
                column(1, "性别", "扶助对象信息"),
                column(2, "子女姓名", "独生子女信息"),
                column(3, "特扶类别", "扶助情况"),
            ],
            known: 4,
        };
        assert!(is_repeated_header(
            &header,
            &text_row(&["扶助对象信息", "", "独生子女信息", "扶助情况"])
        ));
        assert!(is_repeated_header(
            &header,
            &text_row(&["姓名", "性别", "子女姓名", "特扶类别"])
        ));
        assert!(!is_repeated_header(
            &header,
            &text_row(&["贾伟华", "男", "贾浩博", "子女死亡"])
        ));
        assert!(!is_repeated_header(
            &header,
            &text_row(&["姓名", "张三", "李四", "子女死亡"])
        ));
    }

    #[test]
    fn a_group_row_repeated_above_a_page_break_header_is_not_data() {
        let above = vec![
            (0, "扶助对象信息".to_string()),
            (4, "独生子女信息".to_string()),
        ];
        assert!(repeats_row(
            &above,
            &text_row(&["扶助对象信息", "", "", "", "独生子女信息"])
        ));
        assert!(!repeats_row(
            &above,
            &text_row(&["扶助对象信息", "", "", "", "独生子女信息", "x"])
        ));
        assert!(!repeats_row(
            &above,
            &text_row(&["贾伟华", "男", "", "", "贾浩博"])
        ));
        assert!(!repeats_row(&[], &text_row(&["贾伟华"])));
    }
}
