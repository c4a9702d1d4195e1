//! The workbook reader in-process on any bytes saved as .xlsx, .xls, .xlsb and .ods: damaged or
//! crafted files must end as errors, within libFuzzer's memory limit (-rss_limit_mb), not as
//! panics that escape `read_workbook` or aborts.
//!
//! `read_workbook` turns a panic of calamine into a damaged-file error, so the target replaces
//! libfuzzer-sys's abort-on-panic hook with a quiet one: a panic caught inside is no crash, and
//! one that escapes still ends the run (libfuzzer-sys aborts on it).
#![no_main]

use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use lifeline::read::workbook::read_workbook;
use lifeline::read::{CellValue, FileFormat, ReadLimits, RowSink, SheetMeta};

struct Count(usize);

impl RowSink for Count {
    fn start_sheet(&mut self, _: &SheetMeta) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn row(&mut self, _: u32, cells: &mut Vec<CellValue>) -> ControlFlow<()> {
        self.0 += cells.len();
        ControlFlow::Continue(())
    }
    fn end_sheet(&mut self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

static QUIET: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let (format, extension) = match selector % 4 {
        0 => (FileFormat::Xlsx, "xlsx"),
        1 => (FileFormat::Xls, "xls"),
        2 => (FileFormat::Xlsb, "xlsb"),
        _ => (FileFormat::Ods, "ods"),
    };
    let path = std::env::temp_dir().join(format!(
        "lifeline-fuzz-workbook-{}.{extension}",
        std::process::id()
    ));
    if std::fs::write(&path, bytes).is_ok() {
        let _ = read_workbook(&path, format, &ReadLimits::default(), &mut Count(0));
    }
});
