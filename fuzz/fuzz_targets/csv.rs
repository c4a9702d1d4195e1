//! CSV decoding (encoding detection, delimiter, quotes, line numbers) on any bytes: an error is
//! fine, a panic or an unbounded allocation is not.
#![no_main]

use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use lifeline::read::text::read_text;
use lifeline::read::{CellValue, ReadLimits, RowSink, SheetMeta};

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

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("lifeline-fuzz-csv-{}.csv", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = read_text(&path, &ReadLimits::default(), &mut Count(0));
    }
});
