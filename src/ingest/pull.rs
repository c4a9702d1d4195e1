//! Ingesting rows that do not come from a file: a connector's pull (an API's pages, a database
//! query) goes through the same sink, mappings and normalizers as a spreadsheet.
//!
//! A pull is stored like one file: each page or result set is a sheet whose header row (row 0)
//! holds the field or column names, and every data row is numbered by its position in the pull.
//! The "file" is named after the pull (`http:CONNECTOR:batch-N`); its content hash, taken over
//! the rows as they stream, makes a pull that brings exactly the rows of an earlier one a
//! duplicate. Everything of a pull — records, rejects, receipt, the connector's new watermark
//! and the [`PullRecord`] — is committed in one transaction, or nothing is.

use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::Ingestor;
use super::receipt::{FileStatus, Receipt, SheetReceipt};
use super::sink::{Batch, IngestSink};
use crate::mapping::resolve::NoFit;
use crate::read::{CellValue, RowSink, SheetMeta};
use crate::registry::{FileCounts, FileMeta, FileSummary, FileWriter, Registry, RegistryError};

/// What a pull leaves in the registry beside its rows, written in the pull's transaction.
#[derive(Debug, Clone, Default)]
pub struct PullRecord {
    /// Connector name.
    pub connector: String,
    /// Connector kind (`http`, `sql`).
    pub kind: String,
    /// What was asked, without secrets: the URL, the query.
    pub source: String,
    /// Watermark the pull started from.
    pub watermark_before: Option<String>,
    /// Watermark after the pull; stored as the connector's watermark on commit.
    pub watermark_after: Option<String>,
    /// Field or column names seen in the pull, stored to report changes next time.
    pub fields: Vec<String>,
    /// Pages (or result sets) read.
    pub pages: i64,
    /// Rows of the pull inside the connector's overlap window, as `(hash, watermark value)`:
    /// remembered so that the next pull, which reads that window again, stores them only once.
    pub seen_rows: Vec<(String, String)>,
    /// Remembered rows with a watermark value below this are forgotten (the next pull no longer
    /// reads them).
    pub forget_before: Option<String>,
}

/// How a pull ended.
#[derive(Debug, Clone)]
pub enum PullOutcome {
    /// The rows were stored.
    Stored(Receipt),
    /// The same rows were stored by an earlier pull; nothing new was stored.
    Duplicate(Receipt),
    /// The pull brought no rows.
    Empty,
    /// The rows could not be stored (no mapping fits the fields, the registry refused them);
    /// nothing was stored.
    Failed(Receipt),
}

impl PullOutcome {
    /// The receipt, when rows were read.
    pub fn receipt(&self) -> Option<&Receipt> {
        match self {
            PullOutcome::Stored(receipt)
            | PullOutcome::Duplicate(receipt)
            | PullOutcome::Failed(receipt) => Some(receipt),
            PullOutcome::Empty => None,
        }
    }
}

enum Item {
    Sheet(String, Vec<String>),
    Row(u32, Vec<CellValue>),
}

struct Fed {
    sheets: Vec<SheetReceipt>,
    no_fit: Option<NoFit>,
}

/// One pull being stored. Rows are sent with [`PullWriter::sheet`] and [`PullWriter::row`];
/// [`PullWriter::commit`] stores them, [`PullWriter::abort`] (or dropping the writer) stores
/// nothing.
pub struct PullWriter {
    registry: Registry,
    items: Option<mpsc::Sender<Item>>,
    feeder: tokio::task::JoinHandle<Fed>,
    writer: tokio::task::JoinHandle<(FileWriter, Option<RegistryError>)>,
    hasher: Sha256,
    bytes: u64,
    rows: u32,
    receipt: Receipt,
    started: Instant,
}

/// The registry writer went away while rows were being sent (it failed); the pull cannot be
/// stored.
#[derive(Debug, thiserror::Error)]
#[error("the registry stopped taking rows of this pull")]
pub struct WriterGone;

impl Ingestor<'_> {
    /// Starts storing a pull named `name` (`http:CONNECTOR:batch-N`) in batch `batch_id`.
    pub async fn begin_pull(&self, batch_id: i64, name: &str) -> Result<PullWriter, RegistryError> {
        let meta = FileMeta {
            batch_id,
            file_name: name.to_string(),
            path: name.to_string(),
            // replaced by the hash of the rows on commit
            sha256: format!(
                "pending:{batch_id}:{}",
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
            ),
            size_bytes: 0,
        };
        let mut writer = FileWriter::begin(self.registry, &meta).await?;
        let (batch_sender, mut batches) = mpsc::channel::<Batch>(4);
        let (items, mut incoming) = mpsc::channel::<Item>(1024);
        let mappings = Arc::clone(&self.mappings);
        let vocabulary = Arc::clone(&self.vocabulary);
        let forced = self.options.mapping.clone();
        let feeder = tokio::task::spawn_blocking(move || {
            let mut sink = IngestSink::new(
                &mappings,
                &vocabulary,
                forced.as_deref(),
                batch_sender,
                None,
            );
            let mut open = false;
            while let Some(item) = incoming.blocking_recv() {
                let flow = match item {
                    Item::Sheet(name, header) => {
                        if open && sink.end_sheet().is_break() {
                            break;
                        }
                        open = true;
                        let mut cells: Vec<CellValue> =
                            header.into_iter().map(CellValue::Text).collect();
                        if sink
                            .start_sheet(&SheetMeta {
                                name,
                                hidden: false,
                            })
                            .is_break()
                        {
                            break;
                        }
                        sink.row(0, &mut cells)
                    }
                    Item::Row(row, mut cells) => sink.row(row, &mut cells),
                };
                if flow.is_break() {
                    break;
                }
            }
            if open {
                let _ = sink.end_sheet();
            }
            let _ = sink.finish();
            Fed {
                sheets: std::mem::take(&mut sink.sheets),
                no_fit: sink.no_fit.take(),
            }
        });
        let writer = tokio::spawn(async move {
            let mut error = None;
            while let Some(batch) = batches.recv().await {
                if error.is_none()
                    && let Err(failure) = writer.add(&batch.records, &batch.issues).await
                {
                    error = Some(failure);
                    batches.close();
                }
            }
            (writer, error)
        });
        let mut receipt = Receipt::new(name, name);
        receipt.batch_id = Some(batch_id);
        Ok(PullWriter {
            registry: self.registry.clone(),
            items: Some(items),
            feeder,
            writer,
            hasher: Sha256::new(),
            bytes: 0,
            rows: 0,
            receipt,
            started: Instant::now(),
        })
    }
}

impl PullWriter {
    fn hash(&mut self, tag: u8, cells: &[String]) {
        self.hasher.update([tag]);
        for cell in cells {
            self.hasher.update((cell.len() as u64).to_le_bytes());
            self.hasher.update(cell.as_bytes());
            self.bytes += cell.len() as u64;
        }
    }

    async fn send(&mut self, item: Item) -> Result<(), WriterGone> {
        match &self.items {
            Some(items) => items.send(item).await.map_err(|_| WriterGone),
            None => Err(WriterGone),
        }
    }

    /// Starts a sheet (a page, a result set) whose columns are `header`.
    pub async fn sheet(&mut self, name: &str, header: Vec<String>) -> Result<(), WriterGone> {
        self.hash(b'S', &header);
        self.send(Item::Sheet(name.to_string(), header)).await
    }

    /// Adds the next row of the current sheet; rows are numbered by their position in the
    /// pull (1, 2, …), which is returned.
    pub async fn row(&mut self, cells: Vec<CellValue>) -> Result<u32, WriterGone> {
        self.rows += 1;
        let texts: Vec<String> = cells.iter().map(cell_key).collect();
        self.hash(b'R', &texts);
        let row = self.rows;
        self.send(Item::Row(row, cells)).await?;
        Ok(row)
    }

    /// Rows sent so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    async fn drain(&mut self) -> Result<(Fed, FileWriter, Option<RegistryError>), RegistryError> {
        self.items = None;
        let fed = match (&mut self.feeder).await {
            Ok(fed) => fed,
            Err(panic) => Fed {
                sheets: Vec::new(),
                no_fit: None,
            }
            .with_panic(&mut self.receipt, &panic.to_string()),
        };
        let (writer, error) = match (&mut self.writer).await {
            Ok(done) => done,
            Err(panic) => {
                return Err(RegistryError::Query(sqlx::Error::Protocol(format!(
                    "registry writer stopped: {panic}"
                ))));
            }
        };
        Ok((fed, writer, error))
    }

    /// Nothing of the pull is stored.
    pub async fn abort(mut self) -> Result<(), RegistryError> {
        let (_, writer, _) = self.drain().await?;
        writer.rollback().await
    }

    /// Stores the pull with `record` (the connector's new watermark among it) in one
    /// transaction. The receipt is written to the ingestor's receipts folder.
    pub async fn commit(
        mut self,
        ingestor: &Ingestor<'_>,
        format: &str,
        record: &PullRecord,
    ) -> Result<PullOutcome, RegistryError> {
        let (fed, mut writer, write_error) = self.drain().await?;
        let mut receipt = std::mem::replace(&mut self.receipt, Receipt::new("", ""));
        receipt.sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        receipt.size_bytes = self.bytes;
        receipt.format = format.to_string();
        receipt.sheets = fed.sheets;
        receipt.total_sheets();
        if self.rows == 0 {
            writer.rollback().await?;
            return Ok(PullOutcome::Empty);
        }
        if let Some(error) = write_error {
            writer.rollback().await?;
            receipt.error = Some(format!("the registry refused the rows: {error}"));
            return Ok(PullOutcome::Failed(
                ingestor.finish_receipt(receipt, self.started).await,
            ));
        }
        if receipt.error.is_some() {
            writer.rollback().await?;
            return Ok(PullOutcome::Failed(
                ingestor.finish_receipt(receipt, self.started).await,
            ));
        }
        if receipt.mappings.is_empty() {
            writer.rollback().await?;
            receipt.error = Some(match fed.no_fit {
                Some(no_fit) => no_fit.to_string(),
                None => format!(
                    "the fields ({}) name no known column: add them to the mapping's aliases \
                     or rename them in the connector",
                    record.fields.join(", ")
                ),
            });
            return Ok(PullOutcome::Failed(
                ingestor.finish_receipt(receipt, self.started).await,
            ));
        }
        if let Some(stored) = self.registry.find_file(&receipt.sha256).await? {
            writer.rollback().await?;
            receipt.status = FileStatus::Duplicate;
            receipt.file_id = Some(stored.id);
            receipt.duplicate_of = Some(format!(
                "{} (stored {})",
                stored.file_name, stored.ingested_at
            ));
            // the rows are stored already: the watermark may move past them
            let mut connection = self.registry.pool().acquire().await?;
            crate::connectors::state::save_pull(&mut *connection, record, false).await?;
            return Ok(PullOutcome::Duplicate(
                ingestor.finish_receipt(receipt, self.started).await,
            ));
        }
        receipt.status = FileStatus::Ingested;
        receipt.file_id = Some(writer.file_id());
        receipt.seconds = self.started.elapsed().as_secs_f64();
        let receipt_json = serde_json::to_string(&receipt).unwrap_or_default();
        let mappings = receipt.mappings.join(",");
        let stored = async {
            writer
                .set_content(&receipt.sha256, receipt.size_bytes as i64)
                .await?;
            let file_id = writer.file_id();
            crate::connectors::state::save_pull(writer.connection(), record, true).await?;
            crate::connectors::state::record_pull_file(writer.connection(), file_id, record)
                .await?;
            writer
                .commit(&FileSummary {
                    mappings: &mappings,
                    format: &receipt.format,
                    encoding: "",
                    counts: FileCounts {
                        read: receipt.rows_read as i64,
                        accepted: receipt.rows_accepted as i64,
                        rejected: receipt.rows_rejected as i64,
                        skipped: (receipt.rows_skipped_footer + receipt.rows_skipped_other) as i64,
                    },
                    receipt_json: &receipt_json,
                })
                .await
        }
        .await;
        if let Err(error) = stored {
            receipt.status = FileStatus::Failed;
            receipt.file_id = None;
            receipt.error = Some(format!("the registry refused the rows: {error}"));
            return Ok(PullOutcome::Failed(
                ingestor.finish_receipt(receipt, self.started).await,
            ));
        }
        Ok(PullOutcome::Stored(
            ingestor.finish_receipt(receipt, self.started).await,
        ))
    }
}

impl Fed {
    fn with_panic(self, receipt: &mut Receipt, panic: &str) -> Fed {
        receipt.error = Some(format!("internal error while reading: {panic}"));
        self
    }
}

/// A cell as hashed: its type and its text, so `1` and `"1"` differ.
pub(crate) fn cell_key(cell: &CellValue) -> String {
    let tag = match cell {
        CellValue::Empty => 'e',
        CellValue::Text(_) => 't',
        CellValue::Int(_) => 'i',
        CellValue::Float(_) => 'f',
        CellValue::Bool(_) => 'b',
        CellValue::DateTime(_) => 'd',
        CellValue::Error(_) => 'x',
    };
    format!("{tag}{}", cell.display())
}
