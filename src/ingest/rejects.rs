//! The rejects workbook handed back to the data officer: one line per problem with the sheet,
//! row, their own column name, the value and the reason, so they can fix the file and resend it.

use std::path::Path;

use crate::export::{ExportError, Format, export_table, rejects_query};
use crate::registry::Registry;

/// Writes the rejects of one file (or all files) to an Excel workbook; returns the line count.
pub async fn write_rejects_workbook(
    registry: &Registry,
    file_id: Option<i64>,
    path: &Path,
) -> Result<u64, ExportError> {
    export_table(registry, &rejects_query(file_id), Format::Xlsx, Some(path)).await
}
