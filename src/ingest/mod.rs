//! Ingest: department files in, records and receipts out.
//!
//! For each file: hash it (a file already stored is a duplicate and a no-op), read it on a
//! blocking thread ([`sink`]) while the registry writer stores batches in one transaction, then
//! commit the rows, rejects and receipt together — or roll everything back if the file turns
//! out to be unreadable halfway. The receipt and a rejects workbook are written to the receipts
//! folder; one bad file never stops the next. Rows pulled by connectors (an API, a database)
//! take the same path through [`pull`].

pub mod pull;
pub mod receipt;
pub mod rejects;
pub mod report;
pub mod sink;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::mapping::MappingSet;
use crate::mapping::resolve::Vocabulary;
use crate::read::{ReadLimits, read_file};
use crate::registry::{FileCounts, FileMeta, FileSummary, FileWriter, Registry, RegistryError};
pub use receipt::{FileStatus, Receipt};
use sink::IngestSink;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Use this mapping for every file instead of detecting it.
    pub mapping: Option<String>,
    /// Where receipts and rejects workbooks are written; `None` writes none.
    pub receipts_dir: Option<PathBuf>,
    /// Who started the batch (`cli`, a connector name).
    pub origin: String,
    /// Reading limits.
    pub limits: ReadLimits,
    /// Show progress bars on a terminal.
    pub progress: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            mapping: None,
            receipts_dir: None,
            origin: "cli".into(),
            limits: ReadLimits::default(),
            progress: false,
        }
    }
}

/// Ingests files into a registry.
pub struct Ingestor<'a> {
    registry: &'a Registry,
    /// Shared with each file's reading thread without copying.
    mappings: Arc<MappingSet>,
    vocabulary: Arc<Vocabulary>,
    options: IngestOptions,
}

/// A folder holding a file of this name is not ingested (ground truth beside generated samples,
/// notes folders in an inbox).
pub const IGNORE_MARKER: &str = ".lifeline-ignore";

/// Expands files and folders (recursively) into the files to ingest, sorted by path. Hidden
/// files, Office lock files (`~$…`), lifeline's own receipts and rejects workbooks, and folders
/// marked with [`IGNORE_MARKER`] are left out.
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                if dir.join(IGNORE_MARKER).exists() {
                    continue;
                }
                for entry in std::fs::read_dir(&dir)? {
                    let entry = entry?.path();
                    if entry.is_dir() {
                        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        if !name.starts_with('.') {
                            stack.push(entry);
                        }
                    } else if is_input_file(&entry) {
                        files.push(entry);
                    }
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn is_input_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !(name.starts_with('.')
        || name.starts_with("~$")
        || name.ends_with(".receipt.json")
        || name.ends_with(".rejects.xlsx")
        || name.ends_with(".md"))
}

/// The error of a file that was still being written while it was read: nothing of it is
/// stored, and the inbox takes it again once it is complete.
pub const CHANGED_WHILE_READ: &str = "the file changed while it was read (still being copied?): nothing stored, taken again once complete";

/// SHA-256 (hex) and size of a file, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

impl<'a> Ingestor<'a> {
    /// An ingestor storing into `registry` with `mappings`.
    pub fn new(
        registry: &'a Registry,
        mappings: &'a MappingSet,
        options: IngestOptions,
    ) -> Ingestor<'a> {
        Ingestor {
            registry,
            mappings: Arc::new(mappings.clone()),
            vocabulary: Arc::new(Vocabulary::new(mappings)),
            options,
        }
    }

    /// Ingests files and folders as one batch; one receipt per file, in path order.
    pub async fn ingest_paths(&self, paths: &[PathBuf]) -> Result<Vec<Receipt>, RegistryError> {
        let files = match collect_files(paths) {
            Ok(files) => files,
            Err(error) => {
                let mut receipt = Receipt::new(
                    "",
                    &paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                receipt.error = Some(format!("cannot list files: {error}"));
                return Ok(vec![receipt]);
            }
        };
        let batch_id = self.registry.start_batch(&self.options.origin).await?;
        let mut receipts = Vec::with_capacity(files.len());
        for file in files {
            receipts.push(self.ingest_file(batch_id, &file).await?);
        }
        Ok(receipts)
    }

    /// Ingests one file. Problems with the file end up in its receipt; a registry that cannot
    /// take the write (busy past its timeout, disk full, connection lost:
    /// [`RegistryError::is_transient`]) is an error, the file's rows rolled back, so that the
    /// caller keeps the file and tries it again.
    pub async fn ingest_file(&self, batch_id: i64, path: &Path) -> Result<Receipt, RegistryError> {
        self.ingest(batch_id, path, path, &|| true).await
    }

    /// Ingests a private copy of a file (`copy`, which nothing else writes to) in the name of
    /// `original`: the hash and the rows come from the same bytes, and `original_unchanged` is
    /// asked just before the commit; when it answers no (the original was still being written)
    /// the rows are rolled back and the receipt says [`CHANGED_WHILE_READ`].
    pub async fn ingest_copy(
        &self,
        batch_id: i64,
        copy: &Path,
        original: &Path,
        original_unchanged: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<Receipt, RegistryError> {
        self.ingest(batch_id, copy, original, original_unchanged)
            .await
    }

    async fn ingest(
        &self,
        batch_id: i64,
        path: &Path,
        original: &Path,
        original_unchanged: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<Receipt, RegistryError> {
        let started = Instant::now();
        let file_name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| original.display().to_string());
        let mut receipt = Receipt::new(&file_name, &original.display().to_string());
        receipt.batch_id = Some(batch_id);
        match hash_file(path) {
            Ok((sha256, size)) => {
                receipt.sha256 = sha256;
                receipt.size_bytes = size;
            }
            Err(error) => {
                receipt.error = Some(format!("cannot read file: {error}"));
                return Ok(self.finish_receipt(receipt, started).await);
            }
        }
        if let Some(stored) = self.registry.find_file(&receipt.sha256).await? {
            receipt.status = FileStatus::Duplicate;
            receipt.file_id = Some(stored.id);
            receipt.duplicate_of = Some(format!(
                "{} (ingested {})",
                stored.file_name, stored.ingested_at
            ));
            return Ok(self.finish_receipt(receipt, started).await);
        }
        let meta = FileMeta {
            batch_id,
            file_name: file_name.clone(),
            path: original.display().to_string(),
            sha256: receipt.sha256.clone(),
            size_bytes: receipt.size_bytes as i64,
        };
        let mut writer = match FileWriter::begin(self.registry, &meta).await {
            Ok(writer) => writer,
            Err(error) if error.is_transient() => return Err(error),
            Err(error) => {
                receipt.error = Some(format!("the registry refused the file: {error}"));
                return Ok(self.finish_receipt(receipt, started).await);
            }
        };
        let (sender, mut receiver) = mpsc::channel(4);
        let progress = self.progress_bar(&file_name);
        let reader = {
            let path = path.to_path_buf();
            let mappings = Arc::clone(&self.mappings);
            let vocabulary = Arc::clone(&self.vocabulary);
            let forced = self.options.mapping.clone();
            let limits = self.options.limits;
            let progress = progress.clone();
            tokio::task::spawn_blocking(move || {
                let mut sink =
                    IngestSink::new(&mappings, &vocabulary, forced.as_deref(), sender, progress);
                let mut result = read_file(&path, &limits, &mut sink);
                if sink.finish().is_break() && result.is_ok() {
                    // the mapping thread died or the writer stopped listening: the last rows
                    // never reached the registry, and a partial file must not be committed
                    result = Err(crate::read::ReadError::Io(std::io::Error::other(
                        "internal error: the last rows read were not all stored; the file was \
                         not taken, tell the operator",
                    )));
                }
                (result, std::mem::take(&mut sink.sheets), sink.no_fit.take())
            })
        };
        let mut write_error = None;
        while let Some(batch) = receiver.recv().await {
            if write_error.is_none()
                && let Err(error) = writer.add(&batch.records, &batch.issues).await
            {
                write_error = Some(error);
                receiver.close();
            }
        }
        if let Some(progress) = &progress {
            progress.finish_and_clear();
        }
        let (result, sheets, no_fit) = match reader.await {
            Ok(outcome) => outcome,
            Err(panic) => {
                writer.rollback().await?;
                receipt.error = Some(format!("internal error while reading: {panic}"));
                return Ok(self.finish_receipt(receipt, started).await);
            }
        };
        if let Some(error) = write_error {
            writer.rollback().await?;
            if error.is_transient() {
                // busy, disk full, connection lost: nothing is wrong with the file, it is kept
                return Err(error);
            }
            // a row the registry cannot take; the file is refused whole, the batch goes on
            receipt.error = Some(format!("the registry refused the file: {error}"));
            return Ok(self.finish_receipt(receipt, started).await);
        }
        receipt.sheets = sheets;
        receipt.total_sheets();
        match result {
            Err(error) => {
                writer.rollback().await?;
                receipt.error = Some(error.to_string());
                receipt.sheets.clear();
                receipt.total_sheets();
            }
            Ok(info) => {
                receipt.format = info.format;
                receipt.encoding = info.encoding;
                if !original_unchanged() {
                    writer.rollback().await?;
                    receipt.error = Some(CHANGED_WHILE_READ.into());
                } else if receipt.mappings.is_empty() {
                    writer.rollback().await?;
                    receipt.error = Some(match no_fit {
                        Some(no_fit) => no_fit.to_string(),
                        None => "no sheet has a header row with known column names".into(),
                    });
                } else {
                    receipt.status = FileStatus::Ingested;
                    receipt.file_id = Some(writer.file_id());
                    receipt.seconds = started.elapsed().as_secs_f64();
                    let receipt_json = serde_json::to_string(&receipt).unwrap_or_default();
                    let counts = FileCounts {
                        read: receipt.rows_read as i64,
                        accepted: receipt.rows_accepted as i64,
                        rejected: receipt.rows_rejected as i64,
                        skipped: (receipt.rows_skipped_footer + receipt.rows_skipped_other) as i64,
                    };
                    let mappings = receipt.mappings.join(",");
                    let commit_started = std::time::Instant::now();
                    tracing::debug!(
                        file = %file_name,
                        seconds = started.elapsed().as_secs_f64(),
                        "read and stored; committing"
                    );
                    let committed = writer
                        .commit(&FileSummary {
                            mappings: &mappings,
                            format: &receipt.format,
                            encoding: &receipt.encoding,
                            counts,
                            receipt_json: &receipt_json,
                        })
                        .await;
                    tracing::debug!(
                        file = %file_name,
                        seconds = commit_started.elapsed().as_secs_f64(),
                        "commit"
                    );
                    if let Err(error) = committed {
                        if error.is_transient() {
                            return Err(error);
                        }
                        receipt.status = FileStatus::Failed;
                        receipt.file_id = None;
                        receipt.error = Some(format!("the registry refused the file: {error}"));
                    }
                }
            }
        }
        Ok(self.finish_receipt(receipt, started).await)
    }

    fn progress_bar(&self, file_name: &str) -> Option<indicatif::ProgressBar> {
        if !self.options.progress {
            return None;
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg}: {human_pos} rows in {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(file_name.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Some(bar)
    }

    /// Writes the receipt (and the rejects workbook) to the receipts folder.
    async fn finish_receipt(&self, mut receipt: Receipt, started: Instant) -> Receipt {
        receipt.seconds = started.elapsed().as_secs_f64();
        let Some(dir) = &self.options.receipts_dir else {
            return receipt;
        };
        if let Err(error) = std::fs::create_dir_all(dir) {
            tracing::warn!(folder = %dir.display(), %error, "cannot create the receipts folder");
            return receipt;
        }
        let stem = format!(
            "{}.{}",
            receipt.file,
            receipt.sha256.get(..8).unwrap_or("unhashed")
        );
        if receipt.status == FileStatus::Ingested
            && receipt.rows_rejected
                + receipt
                    .sheets
                    .iter()
                    .map(|s| s.values_with_issues)
                    .sum::<u64>()
                > 0
            && let Some(file_id) = receipt.file_id
        {
            let path = dir.join(format!("{stem}.rejects.xlsx"));
            match rejects::write_rejects_workbook(self.registry, Some(file_id), &path).await {
                Ok(0) => {
                    // issues the rejects table does not hold (notes of a sheet): no workbook
                    // of headers only for the officer to open
                    let _ = std::fs::remove_file(&path);
                }
                Ok(_) => receipt.rejects_workbook = Some(path.display().to_string()),
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "cannot write the rejects workbook")
                }
            }
        }
        let suffix = if receipt.status == FileStatus::Duplicate {
            "duplicate.receipt.json"
        } else {
            "receipt.json"
        };
        let path = dir.join(format!("{stem}.{suffix}"));
        receipt.receipt_path = Some(path.display().to_string());
        match serde_json::to_string_pretty(&receipt) {
            Ok(json) => {
                if let Err(error) = std::fs::write(&path, json) {
                    tracing::warn!(file = %path.display(), %error, "cannot write the receipt");
                    receipt.receipt_path = None;
                }
            }
            Err(error) => tracing::warn!(%error, "cannot serialize the receipt"),
        }
        receipt
    }
}
