//! Rows of a pull kept on disk while they come over the network.
//!
//! A department API or database can be slow or hang; the registry must not wait for it. A
//! pull therefore writes its rows to a staging file first (an anonymous temporary file, unlinked
//! from the start: readable by this process only and gone if it dies), and only once the
//! transfer is complete does the connector take the registry's write lock and store them, in
//! one transaction, from the local file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::ops::ControlFlow;

use tokio::sync::MutexGuard;

use super::{Connector, ConnectorError, SyncContext};
use crate::ingest::pull::PullWriter;
use crate::ingest::{IngestOptions, Ingestor};
use crate::read::CellValue;
use crate::read::isolate::{Frame, FrameSink, read_frame};
use crate::read::{RowSink, SheetMeta};

/// Cells and names a staging file gives back: far above what a pull sends, a guard against a
/// damaged temporary file only.
const MAX_STRING: usize = 1 << 30;
const MAX_COLUMNS: usize = 1 << 20;

/// The staged rows of one pull.
pub struct Staging {
    sink: FrameSink<BufWriter<File>>,
    rows: u64,
}

impl Staging {
    /// An empty staging file in the temporary folder (`TMPDIR`).
    pub fn new() -> Result<Staging, ConnectorError> {
        let file = tempfile::tempfile().map_err(|e| failed("create", &e))?;
        Ok(Staging {
            sink: FrameSink::new(BufWriter::with_capacity(1 << 16, file)),
            rows: 0,
        })
    }

    /// Starts a sheet (a page, a result set) whose columns are `header`.
    pub fn sheet(&mut self, name: &str, header: Vec<String>) -> Result<(), ConnectorError> {
        let sheet = SheetMeta {
            name: name.to_string(),
            hidden: false,
        };
        let mut header: Vec<CellValue> = header.into_iter().map(CellValue::Text).collect();
        let flow = match self.sink.start_sheet(&sheet) {
            ControlFlow::Continue(()) => self.sink.row(0, &mut header),
            stop => stop,
        };
        self.check(flow)
    }

    /// Adds the next row of the current sheet.
    pub fn row(&mut self, mut cells: Vec<CellValue>) -> Result<(), ConnectorError> {
        self.rows += 1;
        let flow = self.sink.row(0, &mut cells);
        self.check(flow)
    }

    /// Rows staged so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn check(&self, flow: ControlFlow<()>) -> Result<(), ConnectorError> {
        if flow.is_break() || !self.sink.is_ok() {
            return Err(failed(
                "write",
                &std::io::Error::other("the disk refused a write (full?)"),
            ));
        }
        Ok(())
    }

    /// Takes the registry's write lock and replays the staged rows into a new pull named
    /// `KIND:CONNECTOR:batch-N`, ready to be committed with the guard held.
    pub async fn into_pull<'c>(
        self,
        kind: &str,
        connector: &Connector,
        context: &'c SyncContext<'_>,
    ) -> Result<(MutexGuard<'c, ()>, Ingestor<'c>, PullWriter), ConnectorError> {
        let gate = context.write_gate.lock().await;
        let ingestor = Ingestor::new(
            context.registry,
            context.mappings,
            IngestOptions {
                mapping: connector.mapping.clone(),
                receipts_dir: Some(context.receipts.clone()),
                origin: connector.name.clone(),
                ..IngestOptions::default()
            },
        );
        let batch = context.registry.start_batch(&connector.name).await?;
        let name = format!("{kind}:{}:batch-{batch}", connector.name);
        let mut writer = ingestor.begin_pull(batch, &name).await?;
        if let Err(error) = self.replay(&mut writer).await {
            writer.abort().await?;
            return Err(error);
        }
        Ok((gate, ingestor, writer))
    }

    /// Sends every staged sheet and row, in order, to `writer`.
    pub async fn replay(self, writer: &mut PullWriter) -> Result<(), ConnectorError> {
        let mut out = self.sink.into_inner();
        out.flush().map_err(|e| failed("write", &e))?;
        let mut file = out.into_inner().map_err(|e| failed("write", e.error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| failed("read", &e))?;
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut sheet: Option<String> = None;
        loop {
            let frame =
                read_frame(&mut input, MAX_STRING, MAX_COLUMNS).map_err(|e| failed("read", &e))?;
            match frame {
                None => return Ok(()),
                Some(Frame::StartSheet(meta)) => sheet = Some(meta.name),
                Some(Frame::Row(_, cells)) => match sheet.take() {
                    // the first row after a sheet's start is its header
                    Some(name) => {
                        let header = cells.iter().map(CellValue::display).collect();
                        writer.sheet(&name, header).await?;
                    }
                    None => {
                        writer.row(cells).await?;
                    }
                },
                Some(_) => {
                    return Err(failed(
                        "read",
                        &std::io::Error::other("an unexpected frame"),
                    ));
                }
            }
        }
    }
}

fn failed(what: &str, error: &std::io::Error) -> ConnectorError {
    ConnectorError::NotStored(format!(
        "cannot {what} the staging file of the pull in the temporary folder ({}): {error}",
        std::env::temp_dir().display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_rows_come_back_as_they_were_sent() {
        let mut staging = Staging::new().unwrap();
        staging
            .sheet("page-1", vec!["姓名".into(), "金额".into()])
            .unwrap();
        staging
            .row(vec![CellValue::Text("张三".into()), CellValue::Float(1.5)])
            .unwrap();
        staging
            .row(vec![CellValue::Empty, CellValue::Int(7)])
            .unwrap();
        assert_eq!(staging.rows(), 2);
        let mut out = staging.sink.into_inner();
        out.flush().unwrap();
        let mut file = out.into_inner().unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut input = BufReader::new(file);
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut input, MAX_STRING, MAX_COLUMNS).unwrap() {
            frames.push(match frame {
                Frame::StartSheet(meta) => format!("sheet {}", meta.name),
                Frame::Row(_, cells) => format!("{cells:?}"),
                _ => "other".into(),
            });
        }
        assert_eq!(
            frames,
            [
                "sheet page-1".to_string(),
                format!(
                    "{:?}",
                    [
                        CellValue::Text("姓名".into()),
                        CellValue::Text("金额".into())
                    ]
                ),
                format!(
                    "{:?}",
                    [CellValue::Text("张三".into()), CellValue::Float(1.5)]
                ),
                format!("{:?}", [CellValue::Empty, CellValue::Int(7)]),
            ]
        );
    }
}
